/* Puts a DICOM file that is already on disk into the archive: copied durably under storage/ (the same
 * layout rule as ingest: temp name, fsync, rename) and indexed with the row ingest would have written.
 * Used for demo and test archives assembled from files (e.g. sample-dicom/) rather than received. */
#include "server_internal.h"

#include "recistry/dicom.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdirs(const char *path) {
  char tmp[4500];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* A path component from an identifier: only [A-Za-z0-9._-], so nothing escapes the storage dir. */
static void safe(char *out, size_t size, const char *s) {
  size_t j = 0;
  for (; *s && j + 1 < size; s++)
    out[j++] = (strchr("._-", *s) || (*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
                   ? *s
                   : '_';
  out[j] = '\0';
  if (j == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) snprintf(out, size, "x");
}

int rcy_readers_index_file(rcy_store *store, const char *src, rcy_error *err) {
  rcy_dicom_index_info info;
  int rc = rcy_dicom_index_info_read(&info, src, err);
  if (rc) return rc;
  if (!info.site_id[0] || !info.subject_id[0])
    return rcy_error_set(err, RCY_EINVAL, "%s: no Clinical Trial Site ID / Subject ID: not a trial instance", src);
  FILE *in = fopen(src, "rb");
  if (!in) return rcy_error_set(err, RCY_EIO, "cannot open %s", src);
  char site[65], subj[65], study[65], series[65], sop[65];
  safe(site, sizeof site, info.site_id);
  safe(subj, sizeof subj, info.subject_id);
  safe(study, sizeof study, info.study_uid);
  safe(series, sizeof series, info.series_uid);
  safe(sop, sizeof sop, info.sop_instance_uid);
  char rel[400], dir[4400], tmp[4500], dst[4500];
  snprintf(rel, sizeof rel, "%s/%s/%s/%s/%s.dcm", site, subj, study, series, sop);
  snprintf(dir, sizeof dir, "%s/%s/%s/%s/%s", rcy_store_storage_dir(store), site, subj, study, series);
  snprintf(dst, sizeof dst, "%s/%s.dcm", dir, sop);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, sop);
  if (mkdirs(dir) != 0) {
    fclose(in);
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", dir, strerror(errno));
  }
  if (access(dst, F_OK) == 0) {
    fclose(in);
    return rcy_error_set(err, RCY_EEXIST, "instance %s is already in the archive", info.sop_instance_uid);
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    fclose(in);
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", tmp, strerror(errno));
  }
  crypto_hash_sha256_state h;
  crypto_hash_sha256_init(&h);
  unsigned char buf[65536];
  size_t n, total = 0;
  int ok = 1;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) {
    crypto_hash_sha256_update(&h, buf, n);
    total += n;
    for (size_t off = 0; ok && off < n;) {
      ssize_t w = write(fd, buf + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) ok = 0;
      else off += (size_t)w;
    }
  }
  ok = ok && !ferror(in) && fsync(fd) == 0;
  ok = (close(fd) == 0) && ok;
  fclose(in);
  if (!ok || rename(tmp, dst) != 0) {
    int e = errno;
    unlink(tmp);
    return rcy_error_set(err, e == ENOSPC ? RCY_ENOSPC : RCY_EIO, "copying %s into the archive failed: %s", src,
                         strerror(e));
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&h, digest);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  rcy_store_index_row row = {
      info.study_uid, info.series_uid, info.sop_instance_uid, info.sop_class_uid, info.transfer_syntax_uid,
      info.site_id, info.subject_id, info.timepoint[0] ? info.timepoint : NULL, info.modality, info.study_date,
      info.series_description, info.frame_of_reference_uid, info.orientation, rel, hex, (long long)total,
      info.series_number, info.instance_number, info.rows, info.columns, info.pixel_spacing_row_mm,
      info.pixel_spacing_col_mm, info.slice_thickness_mm,
      {info.position_mm[0], info.position_mm[1], info.position_mm[2]}, info.window_center, info.window_width};
  rc = rcy_store_index_instance(store, &row, err);
  if (rc) unlink(dst); /* the index never points at it, and a retry starts clean */
  return rc;
}
