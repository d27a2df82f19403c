/* The geometry of an archived image as the read model uses it: which subject and timepoint it belongs to, and
 * how image coordinates [col, row] become millimetres — distances from Pixel Spacing, patient positions from
 * Image Position + Orientation (PS3.3 C.7.6.2.1.1). Millimetres always come from the archive's index, never
 * from the browser. */
#include "recistry/reads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "recistry/dicom.h"

typedef struct {
  rcy_reads_image *out;
  char subject[RCY_NAME_MAX + 1], timepoint[RCY_NAME_MAX + 1], rel_path[4096];
  int cut; /* an index value did not fit: never compare a shortened identifier */
} keep_ctx;

static int keep(void *ctx, const rcy_store_instance *in) {
  keep_ctx *k = ctx;
  rcy_reads_image *o = k->out;
  k->cut = rcy_copy_exact(k->subject, sizeof k->subject, in->subject_id) ||
           rcy_copy_exact(k->timepoint, sizeof k->timepoint, in->timepoint) ||
           rcy_copy_exact(k->rel_path, sizeof k->rel_path, in->path);
  o->rows = in->rows;
  o->columns = in->columns;
  o->spacing_row_mm = in->pixel_spacing_row_mm;
  o->spacing_col_mm = in->pixel_spacing_col_mm;
  o->slice_thickness_mm = in->slice_thickness_mm;
  memcpy(o->position_mm, in->position_mm, sizeof o->position_mm);
  memcpy(o->orientation, in->orientation, sizeof o->orientation);
  o->has_orientation = in->has_orientation;
  return 0;
}

int rcy_reads_image_load(rcy_reads_image *out, rcy_store *store, const char *sop, const char *subject,
                         const char *tp, rcy_error *err) {
  memset(out, 0, sizeof *out);
  keep_ctx k = {.out = out};
  int rc = rcy_store_instance_find(store, sop, keep, &k, err);
  if (rc && rc != RCY_ENOTFOUND) return rc;
  /* Absent and another subject's (perhaps another site's) instance get one answer: which UIDs exist
   * elsewhere is not this reader's business. */
  if (rc == RCY_ENOTFOUND || k.cut || strcmp(k.subject, subject) != 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s among subject %s's images", sop, subject);
  if (strcmp(k.timepoint, tp) != 0)
    return rcy_error_set(err, RCY_EINVAL, "instance %s belongs to timepoint %s, not %s", sop, k.timepoint, tp);
  if (out->spacing_row_mm <= 0 || out->spacing_col_mm <= 0)
    return rcy_error_set(err, RCY_EINVAL, "instance %s has no Pixel Spacing: it cannot be measured in mm", sop);
  if (strstr(k.rel_path, "..") || k.rel_path[0] == '/')
    return rcy_error_set(err, RCY_EINTERNAL, "bad path in the index for instance %s", sop);
  if (snprintf(out->path, sizeof out->path, "%s/%s", rcy_store_storage_dir(store), k.rel_path) >=
      (int)sizeof out->path)
    return rcy_error_set(err, RCY_EINTERNAL, "path of instance %s too long", sop);
  if (out->rows <= 0 || out->columns <= 0) { /* an index row without Rows/Columns: take them from the frame */
    rcy_dicom_frame *f;
    if ((rc = rcy_dicom_frame_load(&f, out->path, err))) return rc;
    out->rows = f->rows;
    out->columns = f->columns;
    rcy_dicom_frame_free(f);
  }
  return RCY_OK;
}

int rcy_reads_image_contains(const rcy_reads_image *img, const double p[2]) {
  return isfinite(p[0]) && isfinite(p[1]) && p[0] >= -0.5 && p[1] >= -0.5 && p[0] <= img->columns - 0.5 &&
         p[1] <= img->rows - 0.5;
}

double rcy_reads_image_distance_mm(const rcy_reads_image *img, const double a[2], const double b[2]) {
  double dc = (b[0] - a[0]) * img->spacing_col_mm, dr = (b[1] - a[1]) * img->spacing_row_mm;
  return sqrt(dc * dc + dr * dr);
}

int rcy_reads_image_patient_position(double mm[3], const rcy_reads_image *img, const double p[2]) {
  if (!img->has_orientation) return RCY_EINVAL;
  /* Column index moves along the row direction (orientation[0..2]) by the column spacing, the row index along
   * the column direction (orientation[3..5]) by the row spacing. */
  for (int k = 0; k < 3; k++)
    mm[k] = img->position_mm[k] + p[0] * img->spacing_col_mm * img->orientation[k] +
            p[1] * img->spacing_row_mm * img->orientation[3 + k];
  return RCY_OK;
}
