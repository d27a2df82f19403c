/* Volumes of interest from files: label maps as 3D Slicer and ITK write them (NRRD, NIfTI; read by
 * imaging/), or DICOM SEG (read by dicom/) placed on the CT by the SOP Instance UIDs its frames reference. */
#include "dose_internal.h"

#include "recistry/imaging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dose_voi_free(dose_voi_owned *v) {
  if (!v) return;
  free(v->mask);
  v->mask = NULL;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcasecmp(s + a - b, suffix);
}

int dose_voi_from_seg(dose_voi_owned *out, const char *name, const char *path, const rcy_dicom_volume *ct,
                      rcy_error *err) {
  if (!ct)
    return rcy_error_set(err, RCY_EINVAL, "%s: a DICOM SEG VOI needs the CT it was drawn on (--ct)", path);
  rcy_dicom_seg *seg;
  int rc = rcy_dicom_seg_read(&seg, path, err);
  if (rc) return rc;
  int rows, cols;
  rcy_dicom_seg_geometry(seg, &rows, &cols);
  if (rows != ct->size[1] || cols != ct->size[0]) {
    rc = rcy_error_set(err, RCY_EINVAL, "%s: SEG frames are %dx%d, the CT's slices %dx%d", path, cols, rows,
                       ct->size[0], ct->size[1]);
    rcy_dicom_seg_free(seg);
    return rc;
  }
  size_t plane = (size_t)rows * cols, n = plane * ct->size[2];
  memset(out, 0, sizeof *out);
  out->mask = calloc(n, 1);
  if (!out->mask) {
    rcy_dicom_seg_free(seg);
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory", path);
  }
  size_t placed = 0, frames = rcy_dicom_seg_n_frames(seg);
  for (size_t f = 0; f < frames; f++) {
    const char *src = rcy_dicom_seg_frame_source(seg, f);
    int k = -1;
    for (int s = 0; s < ct->size[2] && src && *src; s++)
      if (!strcmp(ct->slice_sop_uids[s], src)) k = s;
    if (k < 0) continue;
    const uint8_t *m = rcy_dicom_seg_frame_mask(seg, f);
    for (size_t i = 0; i < plane; i++) out->mask[(size_t)k * plane + i] |= m[i] != 0;
    placed++;
  }
  snprintf(out->name, sizeof out->name, "%s", name && *name ? name : rcy_dicom_seg_segment_label(seg));
  rcy_dicom_seg_free(seg);
  if (!placed) {
    dose_voi_free(out);
    return rcy_error_set(err, RCY_EINVAL, "%s: none of the SEG's frames references a slice of CT series %s", path,
                         ct->series_uid);
  }
  memcpy(out->size, ct->size, sizeof out->size);
  memcpy(out->origin_mm, ct->origin_mm, sizeof out->origin_mm);
  memcpy(out->spacing_mm, ct->spacing_mm, sizeof out->spacing_mm);
  memcpy(out->direction, ct->direction, sizeof out->direction);
  return RCY_OK;
}

int dose_voi_load(dose_voi_owned *out, const char *spec, const rcy_dicom_volume *ct, rcy_error *err) {
  memset(out, 0, sizeof *out);
  const char *eq = strchr(spec, '=');
  if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= sizeof out->name)
    return rcy_error_set(err, RCY_EINVAL, "--voi %s: expected NAME=FILE (e.g. liver=liver.nrrd)", spec);
  char name[64], path[4096];
  snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
  snprintf(path, sizeof path, "%s", eq + 1);
  long label = -1;
  char *hash = strrchr(path, '#');
  if (hash) {
    char *end;
    label = strtol(hash + 1, &end, 10);
    if (end == hash + 1 || *end || label < 1 || label > 255)
      return rcy_error_set(err, RCY_EINVAL, "--voi %s: the label after '#' must be 1..255", spec);
    *hash = 0;
  }
  if (ends_with(path, ".dcm")) return dose_voi_from_seg(out, name, path, ct, err);
  int rc = rcy_imaging_mask_read(&out->mask, out->size, out->origin_mm, out->spacing_mm, out->direction, path, err);
  if (rc) return rc;
  size_t n = (size_t)out->size[0] * out->size[1] * out->size[2], inside = 0;
  for (size_t i = 0; i < n; i++) {
    out->mask[i] = label < 0 ? out->mask[i] != 0 : out->mask[i] == label;
    inside += out->mask[i];
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  if (!inside) {
    dose_voi_free(out);
    return rcy_error_set(err, RCY_EINVAL, "--voi %s: the label map is empty%s", spec, label > 0 ? " for that label" : "");
  }
  return RCY_OK;
}
