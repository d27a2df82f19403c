/* Puts a DICOM file that is already on disk into the archive: copied durably under storage/ (temp file,
 * flush, rename, directory fsync — the store's rcy_files_* as ingest uses them) and indexed with the
 * store's rcy_archive_add_instance, i.e. the same rows a C-STORE through the daemon writes. For demo and
 * test archives assembled from files (e.g. sample-dicom/) rather than received. Attributes come from the
 * dicom module's reader (as ingest reads them); files with identity attributes left in are refused. Ingest's
 * other checks (AE, site patterns, QC) are not run: the archive's QC findings stay empty for these studies. */
#include "server_internal.h"

#include "recistry/dicom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static int copy_durably(const char *src, const char *tmp, const char *dst, rcy_error *err) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return rcy_error_set(err, RCY_EIO, "cannot open %s: %s", src, strerror(errno));
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) {
    int e = errno;
    close(in);
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", tmp, strerror(e));
  }
  char buf[65536];
  ssize_t n;
  int rc = RCY_OK;
  while (!rc && (n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = rcy_error_set(err, RCY_EIO, "reading %s: %s", src, strerror(errno));
      break;
    }
    for (ssize_t off = 0; !rc && off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) rc = rcy_error_set(err, errno == ENOSPC ? RCY_ENOSPC : RCY_EIO, "writing %s: %s", tmp, strerror(errno));
      else off += w;
    }
  }
  close(in);
  if (!rc) rc = rcy_files_commit(out, tmp, dst, err);
  close(out);
  if (rc) unlink(tmp);
  return rc;
}

/* Identity-bearing attributes that must be empty in an archived instance (the sample set and any trial
 * export are anonymised; a file carrying one of these, or a Patient Name/ID other than the trial subject ID,
 * is refused rather than indexed — a subset of ingest's check, which stays the authority). */
static const rcy_dicom_tag identity_tags[] = {RCY_DICOM_TAG(0x0010, 0x0030), RCY_DICOM_TAG(0x0010, 0x1040),
                                              RCY_DICOM_TAG(0x0008, 0x0090)};
#define N_IDENTITY (sizeof identity_tags / sizeof identity_tags[0])

int rcy_readers_index_file(rcy_store *store, const char *src, rcy_error *err) {
  rcy_dicom_attrs info;
  int present[N_IDENTITY];
  int rc = rcy_dicom_read_attrs(&info, present, src, identity_tags, N_IDENTITY, err);
  if (rc) return rc;
  if (info.overlong[0]) /* never cut to fit: refused like the ingest does */
    return rcy_error_set(err, RCY_EINVAL, "%s: %s is longer than its VR allows: not indexed", src, info.overlong);
  for (size_t i = 0; i < N_IDENTITY; i++)
    if (present[i]) {
      char name[64];
      rcy_dicom_tag_name(name, sizeof name, identity_tags[i]);
      return rcy_error_set(err, RCY_EDENIED, "%s: %s is not empty: not anonymised, not indexed", src, name);
    }
  if (!info.site_id[0] || !info.subject_id[0])
    return rcy_error_set(err, RCY_EINVAL, "%s: no Clinical Trial Site ID / Subject ID: not a trial instance", src);
  if ((info.patient_name[0] && strcmp(info.patient_name, info.subject_id) != 0) ||
      (info.patient_id[0] && strcmp(info.patient_id, info.subject_id) != 0))
    return rcy_error_set(err, RCY_EDENIED, "%s: Patient Name or ID is not the trial subject ID: not anonymised, not indexed",
                         src);
  int found = 0;
  char existing[512];
  uint64_t size = 0;
  char sha[65];
  if ((rc = rcy_archive_find_instance(&found, existing, sizeof existing, &size, sha, store, info.sop_instance_uid, err)))
    return rc;
  if (found) return rcy_error_set(err, RCY_EEXIST, "instance %s is already in the archive", info.sop_instance_uid);
  char site[65], subj[65], study[65], series[65], sop[65];
  safe(site, sizeof site, info.site_id);
  safe(subj, sizeof subj, info.subject_id);
  safe(study, sizeof study, info.study_uid);
  safe(series, sizeof series, info.series_uid);
  safe(sop, sizeof sop, info.sop_instance_uid);
  char rel[400], tmp[4700], dst[4600];
  snprintf(rel, sizeof rel, "%s/%s/%s/%s/%s.dcm", site, subj, study, series, sop);
  snprintf(dst, sizeof dst, "%s/%s", rcy_store_storage_dir(store), rel);
  snprintf(tmp, sizeof tmp, "%s.tmp", dst);
  if ((rc = rcy_files_make_parents(rcy_store_storage_dir(store), rel, err))) return rc;
  if ((rc = copy_durably(src, tmp, dst, err))) return rc;
  if ((rc = rcy_files_sha256(sha, &size, dst, err))) goto fail;
  char now[21];
  rcy_archive_timestamp(now, -1);
  char orientation[160] = "";
  if (info.has_orientation)
    snprintf(orientation, sizeof orientation, "%.10g\\%.10g\\%.10g\\%.10g\\%.10g\\%.10g", info.orientation[0],
             info.orientation[1], info.orientation[2], info.orientation[3], info.orientation[4], info.orientation[5]);
  rcy_archive_instance row = {
      .site_id = info.site_id, .subject_id = info.subject_id, .timepoint = info.timepoint[0] ? info.timepoint : NULL,
      .study_date = info.study_date[0] ? info.study_date : NULL, .study_uid = info.study_uid,
      .series_uid = info.series_uid, .sop_instance_uid = info.sop_instance_uid, .sop_class_uid = info.sop_class_uid,
      .transfer_syntax_uid = info.transfer_syntax_uid, .modality = info.modality,
      .series_description = info.series_description, .frame_of_reference_uid = info.frame_of_reference_uid,
      .has_series_number = info.has_series_number, .series_number = info.series_number,
      .has_instance_number = info.has_instance_number, .instance_number = info.instance_number,
      .has_rows = info.has_rows, .rows = info.rows, .columns = info.columns,
      .has_pixel_spacing = info.has_pixel_spacing, .pixel_spacing_row_mm = info.pixel_spacing_row_mm,
      .pixel_spacing_col_mm = info.pixel_spacing_col_mm, .has_slice_thickness = info.has_slice_thickness,
      .slice_thickness_mm = info.slice_thickness_mm, .has_position = info.has_position,
      .position_mm = {info.position_mm[0], info.position_mm[1], info.position_mm[2]},
      .orientation = orientation[0] ? orientation : NULL, .has_window = info.has_window,
      .window_center = info.window_center, .window_width = info.window_width, .path = rel, .size_bytes = size,
      .sha256 = sha, .received_at = now};
  if ((rc = rcy_store_begin(store, err))) goto fail;
  if ((rc = rcy_archive_add_instance(store, &row, err))) {
    rcy_store_rollback(store);
    goto fail;
  }
  if ((rc = rcy_store_commit(store, err))) goto fail;
  return RCY_OK;
fail:
  unlink(dst); /* the index never points at it, and a retry starts clean */
  return rc;
}
