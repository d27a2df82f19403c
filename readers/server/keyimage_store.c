/* Key-image files: ARCHIVE/key-images/<32 hex>.png, written durably (temp file, fsync, rename, fsync of the
 * directory, with the store's rcy_files_commit) before the measurement that names them is committed, so a
 * committed measurement never points at a missing or partial picture; removed again when that change does
 * not commit. */
#include "server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where the key image `id` lives: the one naming rule for saving and removing. */
static void final_path(char *out, size_t cap, const char *dir, const char *id) {
  snprintf(out, cap, "%s/%s.png", dir, id);
}

int rcy_key_image_save(char *id_out, const char *dir, const void *png, size_t len, rcy_error *err) {
  unsigned char rnd[16];
  if (sodium_init() < 0) return rcy_error_set(err, RCY_EINTERNAL, "libsodium failed to initialise");
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2hex(id_out, 33, rnd, sizeof rnd);
  char tmp[4200], final[4200];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, id_out);
  final_path(final, sizeof final, dir, id_out);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return rcy_error_set(err, RCY_EIO, "cannot create a key image in %s: %s", dir, strerror(errno));
  const char *p = png;
  size_t left = len;
  int rc = RCY_OK;
  while (left > 0 && !rc) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = rcy_error_set(err, errno == ENOSPC ? RCY_ENOSPC : RCY_EIO, "writing a key image in %s: %s", dir,
                                   strerror(errno));
    else {
      p += w;
      left -= (size_t)w;
    }
  }
  if (!rc) rc = rcy_files_commit(fd, tmp, final, err); /* flush, rename, directory fsync */
  close(fd);
  if (rc) unlink(tmp);
  return rc;
}

void rcy_key_image_remove(const char *dir, const char *id) {
  char path[4200];
  final_path(path, sizeof path, dir, id);
  unlink(path);
}
