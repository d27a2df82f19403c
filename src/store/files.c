/* Durable files: the archive's rule is that a file is written under a temporary name, fdatasync'ed, renamed,
 * and its directory fsync'ed before anyone is told it is stored; new directories get their parent fsync'ed.
 * Also hashing and walking for `recistry verify`. */
#include "recistry/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int io_error(rcy_error *err, int e, const char *what, const char *path) {
  return rcy_error_set(err, e == ENOSPC || e == EDQUOT ? RCY_ENOSPC : RCY_EIO, "%s %s: %s", what, path, strerror(e));
}

static int sync_path(const char *path, rcy_error *err) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(err, errno, "cannot open directory", path);
  int rc = fsync(fd) == 0 ? RCY_OK : io_error(err, errno, "cannot fsync directory", path);
  close(fd);
  return rc;
}

int rcy_files_sync_dir_of(const char *path, rcy_error *err) {
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return sync_path(path, err);
  char *dir = strdup(path);
  if (!dir) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  char *slash = strrchr(dir, '/');
  int rc;
  if (!slash) rc = sync_path(".", err);
  else {
    if (slash == dir) slash[1] = '\0';
    else *slash = '\0';
    rc = sync_path(dir, err);
  }
  free(dir);
  return rc;
}

int rcy_files_make_parents(const char *base, const char *rel, rcy_error *err) {
  size_t nb = strlen(base), nr = strlen(rel);
  char *p = malloc(nb + nr + 2);
  if (!p) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  memcpy(p, base, nb);
  p[nb] = '/';
  memcpy(p + nb + 1, rel, nr + 1);
  int rc = RCY_OK;
  /* Most instances land in an existing series directory: one stat instead of a mkdir per component. */
  char *last = strrchr(p, '/');
  struct stat sb;
  *last = '\0';
  int exists = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
  *last = '/';
  if (exists) {
    free(p);
    return RCY_OK;
  }
  /* Each directory component after base; the last component of rel is the file and is skipped. */
  for (char *c = p + nb + 1; (c = strchr(c, '/')) != NULL; c++) {
    *c = '\0';
    if (mkdir(p, 0750) == 0) {
      /* the new entry lives in the parent: sync the parent */
      char *slash = strrchr(p, '/');
      *slash = '\0';
      rc = sync_path(p, err);
      *slash = '/';
    } else if (errno != EEXIST) {
      rc = io_error(err, errno, "cannot create directory", p);
    }
    *c = '/';
    if (rc) break;
  }
  free(p);
  return rc;
}

int rcy_files_commit(int fd, const char *tmp_path, const char *final_path, rcy_error *err) {
  if (fdatasync(fd) != 0) return io_error(err, errno, "cannot flush", tmp_path);
  if (rename(tmp_path, final_path) != 0) return io_error(err, errno, "cannot rename to", final_path);
  int rc = rcy_files_sync_dir_of(final_path, err);
  if (rc) unlink(final_path); /* not durable: never leave a file that was not acknowledged under a final name */
  return rc;
}

static int sha256_of(char hex[65], uint64_t *size_bytes, const char *path, int uncache, rcy_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rcy_error_set(err, errno == ENOENT ? RCY_ENOTFOUND : RCY_EIO, "cannot open %s: %s", path,
                                   strerror(errno));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rcy_error_set(err, RCY_ENOMEM, "cannot initialise SHA-256");
  }
  unsigned char buf[1 << 16];
  uint64_t total = 0;
  int rc = RCY_OK;
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      rc = io_error(err, errno, "cannot read", path);
      break;
    }
    if (r == 0) break;
    EVP_DigestUpdate(ctx, buf, (size_t)r);
    total += (uint64_t)r;
  }
  unsigned char md[32];
  unsigned int n = 0;
  if (!rc && EVP_DigestFinal_ex(ctx, md, &n) == 1) {
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (size_bytes) *size_bytes = total;
  }
  EVP_MD_CTX_free(ctx);
  if (uncache) (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  return rc;
}

int rcy_files_sha256(char hex[65], uint64_t *size_bytes, const char *path, rcy_error *err) {
  return sha256_of(hex, size_bytes, path, 0, err);
}

int rcy_files_sha256_uncache(char hex[65], uint64_t *size_bytes, const char *path, rcy_error *err) {
  return sha256_of(hex, size_bytes, path, 1, err);
}

static int walk(const char *root, char *rel, size_t rel_len, size_t cap, int (*fn)(void *, const char *),
                void *ctx, int *stopped, rcy_error *err) {
  size_t nroot = strlen(root);
  char *dir = malloc(nroot + rel_len + 2);
  if (!dir) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  snprintf(dir, nroot + rel_len + 2, "%s%s%s", root, rel_len ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d) {
    int rc = io_error(err, errno, "cannot list", dir);
    free(dir);
    return rc;
  }
  int rc = RCY_OK;
  struct dirent *e;
  while (!rc && !*stopped && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t nn = strlen(e->d_name);
    if (rel_len + nn + 2 > cap) {
      rc = rcy_error_set(err, RCY_EINVAL, "path too long below %s", dir);
      break;
    }
    size_t save = rel_len;
    if (rel_len) rel[rel_len++] = '/';
    memcpy(rel + rel_len, e->d_name, nn + 1);
    rel_len += nn;
    struct stat sb;
    char *full = malloc(nroot + rel_len + 2);
    if (!full) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    else {
      snprintf(full, nroot + rel_len + 2, "%s/%s", root, rel);
      if (lstat(full, &sb) != 0) rc = io_error(err, errno, "cannot stat", full);
      else if (S_ISDIR(sb.st_mode)) rc = walk(root, rel, rel_len, cap, fn, ctx, stopped, err);
      else if (S_ISREG(sb.st_mode) && fn(ctx, rel)) *stopped = 1;
      free(full);
    }
    rel_len = save;
    rel[rel_len] = '\0';
  }
  closedir(d);
  free(dir);
  return rc;
}

int rcy_files_walk(const char *dir, int (*fn)(void *ctx, const char *rel), void *ctx, rcy_error *err) {
  char rel[4096] = "";
  int stopped = 0;
  return walk(dir, rel, 0, sizeof rel, fn, ctx, &stopped, err);
}
