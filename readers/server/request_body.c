/* A request's body as it arrives. Up to RCY_BODY_IN_MEMORY_BYTES it stays in memory; past that (only STOW-RS
 * may send more: up to RCY_MAX_STOW_BYTES) it goes to an unlinked file in the archive's folder and is mapped
 * read-only when complete. So a 500 MB STOW costs page cache, which the kernel can drop, not 500 MB of the
 * server's heap per request in flight; and the file has no name, so a crash leaves nothing behind. */
#include "server_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void rcy_request_body_init(rcy_request_body *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->fd = -1;
  b->max = max;
}

static int write_all(int fd, const char *data, size_t n) {
  while (n) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    data += w;
    n -= (size_t)w;
  }
  return 0;
}

/* From memory to the spool file, once the body outgrows memory. */
static int spill(rcy_request_body *b, const char *spool_dir, rcy_error *err) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/.request-body-XXXXXX", spool_dir) >= sizeof path)
    return rcy_error_set(err, RCY_EIO, "the archive's path is too long for a request's spool file");
  int fd = mkstemp(path);
  if (fd < 0) return rcy_error_set(err, RCY_EIO, "cannot spool the request body in the archive: %s", strerror(errno));
  unlink(path); /* nameless from now on: closing it (or a crash) frees it */
  int e = write_all(fd, b->mem, b->len);
  if (e) {
    close(fd);
    return rcy_error_set(err, e == ENOSPC ? RCY_ENOSPC : RCY_EIO, "cannot spool the request body in the archive: %s", strerror(e));
  }
  free(b->mem);
  b->mem = NULL;
  b->cap = 0;
  b->fd = fd;
  return RCY_OK;
}

int rcy_request_body_append(rcy_request_body *b, const char *data, size_t n, const char *spool_dir,
                            rcy_error *err) {
  if (b->len + n > b->max)
    return rcy_error_set(err, RCY_EINVAL, "request body larger than %zu bytes", b->max);
  if (b->fd < 0 && b->len + n > RCY_BODY_IN_MEMORY_BYTES && spool_dir) {
    int rc = spill(b, spool_dir, err);
    if (rc) return rc;
  }
  if (b->fd >= 0) {
    int e = write_all(b->fd, data, n);
    if (e)
      return rcy_error_set(err, e == ENOSPC ? RCY_ENOSPC : RCY_EIO, "cannot spool the request body in the archive: %s",
                           strerror(e));
    b->len += n;
    return RCY_OK;
  }
  if (b->len + n + 1 > b->cap) { /* geometric: large bodies arrive in many chunks */
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *m = realloc(b->mem, cap);
    if (!m) return rcy_error_set(err, RCY_ENOMEM, "out of memory for the request body");
    b->mem = m;
    b->cap = cap;
  }
  memcpy(b->mem + b->len, data, n);
  b->len += n;
  b->mem[b->len] = '\0';
  return RCY_OK;
}

int rcy_request_body_finish(rcy_request_body *b, const char **data, size_t *len, rcy_error *err) {
  *len = b->len;
  if (b->fd < 0) {
    *data = b->mem;
    return RCY_OK;
  }
  /* A NUL after the last byte, as in memory, then one read-only mapping of it all. */
  int e = write_all(b->fd, "", 1);
  if (e) return rcy_error_set(err, RCY_EIO, "cannot spool the request body in the archive: %s", strerror(e));
  void *m = mmap(NULL, b->len + 1, PROT_READ, MAP_SHARED, b->fd, 0);
  if (m == MAP_FAILED) return rcy_error_set(err, RCY_EIO, "cannot map the spooled request body: %s", strerror(errno));
  b->map = m;
  b->map_len = b->len + 1;
  *data = m;
  return RCY_OK;
}

void rcy_request_body_release(rcy_request_body *b) {
  if (b->map) munmap(b->map, b->map_len);
  if (b->fd >= 0) close(b->fd);
  free(b->mem);
  rcy_request_body_init(b, b->max);
}
