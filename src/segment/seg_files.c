/* Segmentations as DICOM SEG: written from a one-click result over the slices the lesion spans, and read back
 * into contours for the workstation (the same marching squares as the proposal, src/imaging/). */
#include "recistry/segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/dicom.h"

int rcy_segmentation_write_seg(const rcy_segmentation *s, const char *path, const rcy_segment_seg_info *info,
                               char uid_out[65], rcy_error *err) {
  const rcy_imaging_lesion *l = s->lesion;
  size_t n = (size_t)(l->last_slice - l->first_slice + 1), plane = (size_t)s->rows * s->columns;
  const char **paths = calloc(n, sizeof *paths);
  if (!paths) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++) paths[k] = s->slices[l->first_slice + k].path;
  rcy_dicom_seg_input in = {
      .source_paths = paths,
      .n_frames = n,
      .rows = s->rows,
      .columns = s->columns,
      .mask = l->mask + plane * (size_t)l->first_slice,
      .segment_label = info->label,
      .segment_description = info->edited ? "one-click segmentation, edited by the reader"
                                          : "one-click segmentation accepted by the reader",
      .organ = info->organ,
      .semiautomatic_edited = info->edited,
      .algorithm_name = RCY_SEGMENT_ALGORITHM,
      .algorithm_version = RCY_SEGMENT_ALGORITHM_VERSION,
      .content_creator = info->creator,
      .series_number = 900,
      .instance_number = 1,
  };
  int rc = rcy_dicom_seg_write(path, &in, uid_out, err);
  free(paths);
  return rc;
}

typedef struct {
  rcy_store_instance in;
  char series[65];
  int found;
} where;

static int keep_where(void *ctx, const rcy_store_instance *in) {
  where *w = ctx;
  w->in = *in;
  snprintf(w->series, sizeof w->series, "%s", in->series_uid);
  w->found = 1;
  return 0;
}

typedef struct {
  char (*sops)[65];
  size_t n, cap;
} sop_list;

static int add_sop(void *ctx, const rcy_store_instance *in) {
  sop_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    char(*p)[65] = realloc(l->sops, cap * sizeof *p);
    if (!p) return RCY_ENOMEM;
    l->sops = p;
    l->cap = cap;
  }
  snprintf(l->sops[l->n++], 65, "%s", in->sop_instance_uid);
  return 0;
}

int rcy_segment_seg_contours(json_t **out, rcy_store *store, const char *path, rcy_error *err) {
  *out = NULL;
  rcy_dicom_seg *seg;
  int rc = rcy_dicom_seg_read(&seg, path, err);
  if (rc) return rc;
  size_t nf = rcy_dicom_seg_n_frames(seg);
  int rows = 0, columns = 0;
  rcy_dicom_seg_geometry(seg, &rows, &columns);
  where w = {0};
  sop_list l = {0};
  if (nf == 0) rc = rcy_error_set(err, RCY_EINVAL, "%s: the segmentation has no frame", path);
  if (!rc) rc = rcy_store_instance_find(store, rcy_dicom_seg_frame_source(seg, 0), keep_where, &w, err);
  if (!rc && !w.found) rc = rcy_error_set(err, RCY_ENOTFOUND, "%s: its images are not in the archive", path);
  if (!rc) rc = rcy_store_instances_each(store, w.series, add_sop, &l, err);
  /* The frames' slices in the series' order: the span between the first and the last referenced one. */
  size_t lo = (size_t)-1, hi = 0;
  size_t *at = rc ? NULL : calloc(nf, sizeof *at);
  if (!rc && !at) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t f = 0; !rc && f < nf; f++) {
    size_t k = l.n;
    for (size_t q = 0; q < l.n; q++)
      if (strcmp(l.sops[q], rcy_dicom_seg_frame_source(seg, f)) == 0) k = q;
    if (k == l.n)
      rc = rcy_error_set(err, RCY_EINVAL, "%s: frame %zu lies on an image outside series %s", path, f + 1, w.series);
    at[f] = k;
    if (k < lo) lo = k;
    if (k > hi) hi = k;
  }
  uint8_t *mask = NULL;
  size_t plane = (size_t)rows * columns;
  if (!rc && (rows != w.in.rows || columns != w.in.columns))
    rc = rcy_error_set(err, RCY_EINVAL, "%s: %dx%d frames on %dx%d images", path, columns, rows, w.in.columns, w.in.rows);
  if (!rc && !(mask = calloc(plane * (hi - lo + 1), 1))) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t f = 0; !rc && f < nf; f++) {
    const uint8_t *m = rcy_dicom_seg_frame_mask(seg, f);
    uint8_t *dst = mask + plane * (at[f] - lo);
    for (size_t q = 0; q < plane; q++) dst[q] |= m[q] != 0;
  }
  rcy_imaging_lesion *lesion = NULL;
  if (!rc) {
    rcy_imaging_slab slab = {columns, rows, (int)(hi - lo + 1), {w.in.pixel_spacing_col_mm, w.in.pixel_spacing_row_mm,
                                                                  w.in.slice_thickness_mm > 0 ? w.in.slice_thickness_mm : 1},
                             NULL, 0};
    rc = rcy_imaging_measure_mask(&lesion, &slab, mask, NULL, err);
  }
  if (!rc) {
    json_t *cs = json_array();
    for (size_t c = 0; c < lesion->n_contours; c++) {
      const rcy_imaging_contour *ct = &lesion->contours[c];
      json_t *pts = json_array();
      for (size_t q = 0; q < ct->n; q++)
        json_array_append_new(pts, json_pack("[f,f]", ct->points[2 * q], ct->points[2 * q + 1]));
      json_array_append_new(cs, json_pack("{s:s,s:o}", "sop_instance_uid", l.sops[lo + (size_t)ct->slice], "points", pts));
    }
    *out = json_pack("{s:s,s:o,s:I}", "segment_label", rcy_dicom_seg_segment_label(seg), "contours", cs, "voxels",
                     (json_int_t)lesion->voxels);
  }
  rcy_imaging_lesion_free(lesion);
  free(mask);
  free(at);
  free(l.sops);
  rcy_dicom_seg_free(seg);
  return rc;
}
