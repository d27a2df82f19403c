/* The HTTP server: libmicrohttpd with a small thread pool, request bodies capped at 1 MiB (413 beyond; STOW-RS
 * bodies under /dicomweb/ at 512 MiB),
 * one SQLite connection per handler thread (WAL lets it run beside the ingest daemon), replies built by
 * the handlers through the rcy_reply_* helpers, security headers on every reply. */
#include "server_internal.h"

#include "recistry/ingest.h"
#include "recistry/log.h"
#include "recistry/path.h"
#include "recistry/render.h"

#include <arpa/inet.h>
#include <limits.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

int rcy_route(rcy_req *r); /* router.c */

/* ---- per-thread store connections ---- */

static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static rcy_store *stores[128];
static size_t n_stores;
static _Thread_local rcy_store *thread_store;

rcy_store *rcy_server_store(const rcy_server *srv, rcy_error *err) {
  if (thread_store) return thread_store;
  rcy_store *s;
  rcy_store_location where = rcy_readers_config_location(srv->cfg);
  if (rcy_store_open_at(&s, &where, err)) return NULL;
  pthread_mutex_lock(&stores_lock);
  if (n_stores < sizeof stores / sizeof stores[0]) stores[n_stores++] = s;
  else {
    pthread_mutex_unlock(&stores_lock);
    rcy_store_close(s);
    rcy_error_set(err, RCY_EINTERNAL, "too many handler threads");
    return NULL;
  }
  pthread_mutex_unlock(&stores_lock);
  thread_store = s;
  return s;
}

static void close_stores(void) {
  pthread_mutex_lock(&stores_lock);
  for (size_t i = 0; i < n_stores; i++) rcy_store_close(stores[i]);
  n_stores = 0;
  pthread_mutex_unlock(&stores_lock);
}

/* ---- replies ---- */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one (overlong forms, surrogates and code
 * points above U+10FFFF included, as jansson refuses them). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
  if (p[0] < 0x80) return 1;
  size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
  if (!n || (size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (p[0] == 0xe0 && p[1] < 0xa0) return 0;
  if (p[0] == 0xed && p[1] > 0x9f) return 0;
  if (p[0] == 0xf0 && p[1] < 0x90) return 0;
  if (p[0] == 0xf4 && p[1] > 0x8f) return 0;
  return n;
}

static int utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  while (p < end) {
    size_t n = utf8_seq(p, end);
    if (!n) return 0;
    p += n;
  }
  return 1;
}

/* Messages echo identifiers from the URL: bytes that are not UTF-8 become '?' so the JSON can carry them. */
static void utf8_sanitize(char *s) {
  unsigned char *p = (unsigned char *)s, *end = p + strlen(s);
  while (p < end) {
    size_t n = utf8_seq(p, end);
    if (!n) *p++ = '?';
    else p += n;
  }
}

static void set_reply(rcy_req *r, unsigned status, struct MHD_Response *resp) {
  if (r->response) MHD_destroy_response(r->response);
  r->status = status;
  r->response = resp;
}

int rcy_reply_bytes(rcy_req *r, unsigned status, const char *content_type, void *data, size_t len,
                    int free_data) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, data, free_data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
  if (!resp) {
    if (free_data) free(data);
    set_reply(r, 500, NULL);
    return 0;
  }
  if (content_type) MHD_add_response_header(resp, "Content-Type", content_type);
  set_reply(r, status, resp);
  return 0;
}

int rcy_reply_json(rcy_req *r, unsigned status, json_t *body) {
  char *s = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!s) return rcy_reply_bytes(r, 500, "text/plain", "out of memory", 13, 0);
  rcy_reply_bytes(r, status, "application/json", s, strlen(s), 1);
  MHD_add_response_header(r->response, "Cache-Control", "no-store");
  return 0;
}

int rcy_reply_error(rcy_req *r, unsigned status, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap); /* may cut a UTF-8 sequence: sanitized below */
  va_end(ap);
  utf8_sanitize(msg);
  return rcy_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

int rcy_reply_empty(rcy_req *r, unsigned status) { return rcy_reply_bytes(r, status, NULL, "", 0, 0); }

int rcy_reply_rcy_error(rcy_req *r, const rcy_error *err) {
  unsigned status = 500;
  switch (err->code) {
  case RCY_EINVAL: status = 400; break;
  case RCY_ENOTFOUND: status = 404; break;
  case RCY_EDENIED: status = 403; break;
  case RCY_ECONFLICT:
  case RCY_EEXIST: status = 409; break;
  case RCY_ENOSPC: status = 507; break;
  default: break;
  }
  return rcy_reply_error(r, status, "%s", err->message[0] ? err->message : rcy_error_name(err->code));
}

int rcy_reply_file(rcy_req *r, const char *path, const char *content_type) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    return rcy_reply_error(r, 404, "not found");
  }
  struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
  if (!resp) {
    close(fd);
    return rcy_reply_error(r, 500, "out of memory");
  }
  MHD_add_response_header(resp, "Content-Type", content_type);
  set_reply(r, 200, resp);
  return 0;
}

void rcy_reply_header(rcy_req *r, const char *name, const char *value) {
  if (r->response) MHD_add_response_header(r->response, name, value);
}

const char *rcy_req_query(rcy_req *r, const char *key) {
  /* A value that is not UTF-8 (or holds a control character, %00 included) is not a value any endpoint
   * takes: treated as absent, so the handler's own rule for a missing parameter applies. */
  const char *v = NULL;
  size_t len = 0;
  if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &len) != MHD_YES || !v)
    return NULL;
  if (strlen(v) != len || !utf8_valid(v, len)) return NULL;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) return NULL;
  return v;
}

json_t *rcy_req_json_body(rcy_req *r) {
  if (r->body_len == 0) {
    rcy_reply_error(r, 400, "request body must be a JSON object");
    return NULL;
  }
  json_error_t je;
  json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    rcy_reply_error(r, 400, "invalid JSON body at line %d column %d: %s", je.line, je.column, je.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    rcy_reply_error(r, 400, "request body must be a JSON object");
    return NULL;
  }
  return j;
}

/* ---- connection handling ---- */

typedef struct {
  rcy_request_body body; /* at most RCY_MAX_BODY_BYTES, or RCY_MAX_STOW_BYTES under /dicomweb/ */
  int too_big;
  rcy_error spool_err; /* the body could not be spooled (disk full...): answered once it is all in */
  int bad_path; /* a control character in the path, raw or percent-encoded (uri_seen) */
  int started;  /* the handler has seen this request's headers */
} conn_state;

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* libmicrohttpd hands the handler a percent-decoded, NUL-terminated path: "/index.html%00.png" would arrive
 * as "/index.html". So the raw request target is looked at here, before decoding: any control character in
 * the path (NUL to 0x1f, 0x7f, raw or as %XX) makes the request a 400. The query is left to the handlers. */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c) {
  (void)cls;
  (void)c;
  conn_state *cs = calloc(1, sizeof *cs);
  if (!cs) return NULL;
  rcy_request_body_init(&cs->body, uri && strncmp(uri, "/dicomweb/", 10) == 0 ? (size_t)RCY_MAX_STOW_BYTES
                                                                                : (size_t)RCY_MAX_BODY_BYTES);
  char decoded[2048];
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)uri; p && *p && *p != '?' && *p != '#'; p++) {
    int v = *p;
    if (*p == '%' && hex_value((char)p[1]) >= 0 && hex_value((char)p[2]) >= 0) {
      v = hex_value((char)p[1]) * 16 + hex_value((char)p[2]);
      p += 2;
    }
    if (v < 0x20 || v == 0x7f) {
      cs->bad_path = 1;
      return cs;
    }
    if (n < sizeof decoded) decoded[n++] = (char)v;
  }
  /* Paths are UIDs, trial IDs and file names: text. Bytes that are not UTF-8 could not even be named in
   * a JSON error message. (A path longer than the buffer is refused later as too long.) */
  if (!utf8_valid(decoded, n)) cs->bad_path = 2;
  return cs;
}

static void split_path(rcy_req *r) {
  snprintf(r->segbuf, sizeof r->segbuf, "%s", r->path);
  r->n_seg = 0;
  char *save = NULL;
  for (char *t = strtok_r(r->segbuf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (r->n_seg == RCY_MAX_SEGMENTS) {
      r->n_seg = -1; /* too deep: no route matches */
      return;
    }
    r->seg[r->n_seg++] = t;
  }
}

static void peer_of(struct MHD_Connection *c, char *out, size_t size) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  out[0] = '\0';
  if (!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)size);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)size);
}

static enum MHD_Result queue(struct MHD_Connection *c, rcy_req *r) {
  if (!r->response) rcy_reply_error(r, 500, "internal error: no reply");
  if (!r->response) return MHD_NO;
  MHD_add_response_header(r->response, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r->response, "X-Frame-Options", "DENY");
  MHD_add_response_header(r->response, "Referrer-Policy", "no-referrer");
  enum MHD_Result ret = MHD_queue_response(c, r->status, r->response);
  MHD_destroy_response(r->response);
  r->response = NULL;
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  const rcy_server *srv = cls;
  conn_state *cs = *con_cls;
  if (!cs) return MHD_NO; /* uri_seen could not allocate */
  if (!cs->started) {
    cs->started = 1;
    if (cs->bad_path) {
      rcy_req r = {.srv = srv, .conn = c};
      rcy_reply_error(&r, 400, cs->bad_path == 1 ? "control character in the URL path" : "URL path is not UTF-8");
      return queue(c, &r);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > cs->body.max) {
      rcy_req r = {.srv = srv, .conn = c};
      rcy_reply_error(&r, 413, "request body larger than %zu bytes", cs->body.max);
      return queue(c, &r);
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!cs->too_big && !cs->spool_err.code) {
      if (cs->body.len + *upload_data_size > cs->body.max) {
        cs->too_big = 1;
        rcy_request_body_release(&cs->body); /* the rest is read and dropped, then answered 413 */
      } else if (rcy_request_body_append(&cs->body, upload_data, *upload_data_size, srv->cfg->archive_dir,
                                         &cs->spool_err)) {
        if (cs->spool_err.code == RCY_ENOMEM) return MHD_NO;
        rcy_request_body_release(&cs->body);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  rcy_req r = {.srv = srv, .conn = c, .method = method, .path = url};
  if (cs->too_big) {
    rcy_reply_error(&r, 413, "request body larger than %zu bytes", cs->body.max);
    return queue(c, &r);
  }
  if (cs->spool_err.code || rcy_request_body_finish(&cs->body, &r.body, &r.body_len, &cs->spool_err)) {
    rcy_log(RCY_LOG_ERROR, "serve", "%s %s: %s", method, url, cs->spool_err.message);
    rcy_reply_error(&r, cs->spool_err.code == RCY_ENOSPC ? 507 : 500, "%s", cs->spool_err.message);
    return queue(c, &r);
  }
  peer_of(c, r.peer, sizeof r.peer);
  rcy_error err = {0};
  r.store = rcy_server_store(srv, &err);
  if (!r.store) {
    rcy_log(RCY_LOG_ERROR, "serve", "cannot open the archive: %s", err.message);
    rcy_reply_error(&r, 503, "archive unavailable");
    return queue(c, &r);
  }
  if (strlen(url) >= sizeof r.segbuf) {
    rcy_reply_error(&r, 414, "URL too long");
    return queue(c, &r);
  }
  split_path(&r);
  rcy_route(&r);
  /* Method, path (identifiers only: UIDs and trial subject IDs) and status; never bodies. */
  rcy_log(RCY_LOG_DEBUG, "serve", "%s %s -> %u", method, url, r.status);
  return queue(c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t) {
  (void)cls;
  (void)c;
  (void)t;
  conn_state *cs = *con_cls;
  if (cs) {
    rcy_request_body_release(&cs->body);
    free(cs);
  }
  *con_cls = NULL;
}

/* The web UI's folder, as a realpath (static.c keeps every file inside it). [http] web_root, when given, is the
 * admin's explicit choice: a folder without index.html there is an error at start, not a UI that silently
 * 404s. Otherwise the UI shipped with the program (rcy_path_shared: PREFIX/share/recistry/web installed,
 * build/share/recistry/web -> readers/web/dist in the build tree); when that is missing the server still starts
 * for the API (tests, headless tools) and says so, and GET / answers a 404 naming the cause. */
static int web_root_find(char **real_out, const char *configured, rcy_error *err) {
  *real_out = NULL;
  char *shipped = NULL;
  const char *web = configured;
  if (!web) {
    rcy_error why = {0};
    int rc = rcy_path_shared(&shipped, "web", &why);
    if (rc == RCY_ENOMEM) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    if (rc) {
      rcy_log(RCY_LOG_WARN, "serve", "web UI: %s (in a build tree: scripts/build-ui.sh); serving the API only",
              why.message);
      return RCY_OK;
    }
    web = shipped;
  }
  char *real = realpath(web, NULL);
  char index[PATH_MAX];
  int usable = real && (size_t)snprintf(index, sizeof index, "%s/index.html", real) < sizeof index &&
               access(index, R_OK) == 0;
  if (!usable && configured) {
    int rc = rcy_error_set(err, RCY_ENOTFOUND, "[http] web_root %s: %s", configured,
                           real ? "no readable index.html there (not a built web UI: scripts/build-ui.sh)"
                                : strerror(errno));
    free(real);
    return rc;
  }
  if (!usable) {
    rcy_log(RCY_LOG_WARN, "serve", "web UI at %s is not built (no index.html: scripts/build-ui.sh); serving the "
            "API only", web);
    free(real);
    real = NULL;
  } else {
    rcy_log(RCY_LOG_INFO, "serve", "web UI from %s%s", real, configured ? " ([http] web_root)" : "");
  }
  free(shipped);
  *real_out = real;
  return RCY_OK;
}

/* ARCHIVE/name, created if missing (*out set, the caller's to free, also when creating it failed). */
static int archive_subdir(char **out, const char *archive_dir, const char *name, rcy_error *err) {
  *out = rcy_path_join(archive_dir, name);
  if (!*out) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (mkdir(*out, 0750) != 0 && errno != EEXIST)
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", *out, strerror(errno));
  return RCY_OK;
}

/* Everything rcy_readers_serve set up, whichever step it reached (each field NULL until made). */
static void server_release(rcy_server *srv) {
  rcy_ingest_receiver_close(srv->receiver);
  rcy_ingest_config_free(srv->ingest_cfg);
  rcy_credential_cache_free(srv->credentials);
  free(srv->key_image_dir);
  free(srv->seg_dir);
  free(srv->web_root_real);
  *srv = (rcy_server){.cfg = srv->cfg};
}

int rcy_readers_serve(const rcy_readers_config *cfg, rcy_error *err) {
  rcy_server srv = {.cfg = cfg};
  /* Open once up front: applies migrations and reports a missing archive before listening. */
  rcy_store *probe;
  rcy_store_location where = rcy_readers_config_location(cfg);
  int rc = rcy_store_open_at(&probe, &where, err);
  if (rc) return rc;
  rcy_store_close(probe);
  rc = web_root_find(&srv.web_root_real, cfg->web_root, err);
  if (rc) return rc;
  if ((rc = rcy_credential_cache_new(&srv.credentials, RCY_CREDENTIAL_CACHE_TTL_S, err))) {
    server_release(&srv);
    return rc;
  }
  if ((rc = archive_subdir(&srv.key_image_dir, cfg->archive_dir, "key-images", err)) ||
      (rc = archive_subdir(&srv.seg_dir, cfg->archive_dir, "segmentations", err))) {
    server_release(&srv);
    return rc;
  }
  /* STOW-RS stores through the ingest pipeline, with the ingest daemon's sections of the same config. */
  rcy_error ingest_err = {0};
  if (cfg->config_path && rcy_ingest_config_load(&srv.ingest_cfg, cfg->config_path, &ingest_err) == RCY_OK &&
      rcy_ingest_receiver_open(&srv.receiver, srv.ingest_cfg, &ingest_err) != RCY_OK) {
    rcy_ingest_config_free(srv.ingest_cfg);
    srv.ingest_cfg = NULL;
  }
  if (!srv.receiver)
    rcy_log(RCY_LOG_WARN, "serve", "STOW-RS off (the config's ingest sections do not load: %s)", ingest_err.message);

  struct sockaddr_in6 a6 = {0};
  struct sockaddr_in a4 = {0};
  const struct sockaddr *sa;
  if (inet_pton(AF_INET, cfg->bind, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)cfg->port);
    sa = (const struct sockaddr *)&a4;
  } else if (inet_pton(AF_INET6, cfg->bind, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)cfg->port);
    sa = (const struct sockaddr *)&a6;
  } else {
    server_release(&srv);
    return rcy_error_set(err, RCY_EINVAL, "[http] bind '%s' is not an IPv4 or IPv6 address", cfg->bind);
  }
  /* SIGINT/SIGTERM are blocked in every thread (MHD's inherit the mask) and taken by sigwait below. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (sa->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  struct MHD_Daemon *d = MHD_start_daemon(
      flags, (uint16_t)cfg->port, NULL, NULL, on_request, &srv, MHD_OPTION_SOCK_ADDR, sa,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
      MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
  if (!d) {
    server_release(&srv);
    return rcy_error_set(err, RCY_EIO, "cannot listen on %s port %d (in use, or not allowed)", cfg->bind, cfg->port);
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  int port = di ? di->port : cfg->port;
  printf("listening on http://%s%s%s:%d/\n", sa->sa_family == AF_INET6 ? "[" : "", cfg->bind,
         sa->sa_family == AF_INET6 ? "]" : "", port);
  fflush(stdout);
  rcy_log(RCY_LOG_INFO, "serve", "reader workstation on port %d, archive %s", port, cfg->archive_dir);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  MHD_stop_daemon(d);
  server_release(&srv);
  close_stores();
  rcy_render_shutdown();
  rcy_log(RCY_LOG_INFO, "serve", "stopped");
  return RCY_OK;
}
