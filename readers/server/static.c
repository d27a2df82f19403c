/* The built web UI (readers/web/dist) as static files. Only plain segments are accepted (no "..", ".",
 * backslash, control characters; the URL is already percent-decoded by libmicrohttpd, so %2e%2e arrives
 * as ".."), and the resolved real path must stay inside the root: nothing outside dist is ever served. */
#include "server_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *content_type(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {{".html", "text/html; charset=utf-8"}, {".js", "text/javascript"}, {".mjs", "text/javascript"},
               {".css", "text/css"}, {".json", "application/json"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
               {".wasm", "application/wasm"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
               {".map", "application/json"}, {".txt", "text/plain"}};
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0) return types[i].type;
  return "application/octet-stream";
}

static int safe_segment(const char *s) {
  if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == '\\' || *p == 0x7f) return 0;
  return 1;
}

int rcy_handle_static(rcy_req *r) {
  const rcy_server *srv = r->srv;
  if (!srv->web_root_real) return rcy_reply_error(r, 404, "the web UI is not installed or not built (the server's start-up log says where it looked)");
  /* Raw path checks: the split drops empty segments, so look at the whole path too. */
  if (r->path[0] != '/' || strstr(r->path, "//") || r->n_seg < 0) return rcy_reply_error(r, 404, "not found");
  char rel[PATH_MAX] = "";
  size_t used = 0;
  for (int i = 0; i < r->n_seg; i++) {
    if (!safe_segment(r->seg[i])) return rcy_reply_error(r, 404, "not found");
    int n = snprintf(rel + used, sizeof rel - used, "/%s", r->seg[i]);
    if (n < 0 || (size_t)n >= sizeof rel - used) return rcy_reply_error(r, 404, "not found");
    used += (size_t)n;
  }
  if (r->n_seg == 0) snprintf(rel, sizeof rel, "/index.html");
  char full[PATH_MAX];
  if ((size_t)snprintf(full, sizeof full, "%s%s", srv->web_root_real, rel) >= sizeof full)
    return rcy_reply_error(r, 404, "not found");
  char *real = realpath(full, NULL);
  size_t root_len = strlen(srv->web_root_real);
  if (!real || strncmp(real, srv->web_root_real, root_len) != 0 || real[root_len] != '/') {
    free(real);
    return rcy_reply_error(r, 404, "not found");
  }
  rcy_reply_file(r, real, content_type(real));
  /* Vite names the bundle's files by content hash under assets/: they never change, so cache them for good.
   * index.html names the current bundle and must be revalidated. Nothing here is patient data. */
  int asset = r->n_seg > 1 && strcmp(r->seg[0], "assets") == 0;
  if (r->status == 200)
    rcy_reply_header(r, "Cache-Control", asset ? "public, max-age=31536000, immutable" : "no-cache");
  free(real);
  return 0;
}
