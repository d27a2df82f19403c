/* The DICOM SEG kept with each accepted semi-automatic measurement: ARCHIVE/segmentations/<SOP Instance
 * UID>.dcm, outside ARCHIVE/storage (which `recistry verify` holds to the index: a SEG is the read's, not an
 * ingested instance). Written under a temporary name, flushed and renamed (rcy_files_commit) before the read
 * naming it commits; the caller removes it again when that read does not commit. The segmentation written is
 * the seed's, segmented again on the server (never the browser's mask). */
#include "recistry/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rcy_segment_seg_path(char *out, size_t cap, const char *dir, const char *uid) {
  size_t n = uid ? strlen(uid) : 0;
  if (n == 0 || n > 64 || strspn(uid, "0123456789.") != n || uid[0] == '.' || uid[n - 1] == '.' ||
      strstr(uid, ".."))
    return RCY_EINVAL;
  int w = snprintf(out, cap, "%s/%s.dcm", dir, uid);
  return w < 0 || (size_t)w >= cap ? RCY_EINVAL : RCY_OK;
}

void rcy_segment_seg_remove(const char *dir, const char *uid) {
  char path[4200];
  if (rcy_segment_seg_path(path, sizeof path, dir, uid) == RCY_OK) unlink(path);
}

int rcy_segment_store_seg(char uid_out[65], rcy_store *store, const char *dir, const rcy_segmentation *pre,
                          const json_t *kept, const char *subject, const char *tp,
                          const rcy_segment_seg_info *info, rcy_error *err) {
  uid_out[0] = '\0';
  const json_t *seed = json_object_get(kept, "seed");
  const char *sop = json_string_value(json_object_get(seed, "sop_instance_uid"));
  const json_t *pt = json_object_get(seed, "point");
  if (!sop || !json_is_array(pt) || json_array_size(pt) != 2)
    return rcy_error_set(err, RCY_EINVAL, "the stored segmentation has no seed");
  double point[2] = {json_number_value(json_array_get(pt, 0)), json_number_value(json_array_get(pt, 1))};
  rcy_segmentation *own = NULL;
  const rcy_segmentation *seg = pre;
  int rc;
  /* The segmentation run before the transaction, when it is of this seed; otherwise (a fragment) once more.
   */
  if (!seg || strcmp(seg->seed_sop_instance_uid, sop) != 0 || seg->seed_point[0] != point[0] ||
      seg->seed_point[1] != point[1]) {
    json_t *client = json_pack("{s:O}", "seed", seed);
    rc = rcy_segment_seed_rerun(&own, store, subject, tp, client, "semiautomatic", err);
    json_decref(client);
    if (rc) return rc;
    seg = own;
  }
  if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
    rcy_segmentation_free(own);
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", dir, strerror(errno));
  }
  char tmp[4200], final[4200];
  snprintf(tmp, sizeof tmp, "%s/.seg-XXXXXX", dir);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    rcy_segmentation_free(own);
    return rcy_error_set(err, errno == ENOSPC ? RCY_ENOSPC : RCY_EIO,
                         "cannot create a segmentation in %s: %s", dir, strerror(errno));
  }
  close(fd);
  char uid[65];
  rc = rcy_segmentation_write_seg(seg, tmp, info, uid, err);
  rcy_segmentation_free(own);
  if (!rc && rcy_segment_seg_path(final, sizeof final, dir, uid) != RCY_OK)
    rc = rcy_error_set(err, RCY_EINTERNAL, "the segmentation's UID %s is not a UID", uid);
  if (!rc) {
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      rc = rcy_error_set(err, RCY_EIO, "cannot reopen %s: %s", tmp, strerror(errno));
    else {
      rc = rcy_files_commit(fd, tmp, final, err); /* flush, rename, directory fsync */
      close(fd);
    }
  }
  if (rc) {
    unlink(tmp);
    return rc;
  }
  memcpy(uid_out, uid, sizeof uid);
  return RCY_OK;
}
