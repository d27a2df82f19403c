/* Follow-up propagation (rcy_segment_propagate): a baseline lesion's position in patient coordinates, found
 * again on a follow-up study by the same coordinates, and segmented there. Image Position and Orientation
 * (PS3.3 C.7.6.2.1.1) give patient coordinates; no registration is done, so it relies on the patient lying
 * alike in both studies, as in a trial's standardised protocol — a proposal the reader accepts or rejects. */
#include "recistry/segment.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  rcy_store_instance in;
  char sop[65];
  int found;
} one_instance;

static int keep_one(void *ctx, const rcy_store_instance *in) {
  one_instance *o = ctx;
  o->in = *in;
  snprintf(o->sop, sizeof o->sop, "%s", in->sop_instance_uid);
  o->found = 1;
  return 0;
}

typedef struct {
  char uid[65];
  int n;
} best_series;

static int keep_largest(void *ctx, const rcy_store_series *s) {
  best_series *b = ctx;
  if (s->n_instances > b->n) {
    b->n = s->n_instances;
    snprintf(b->uid, sizeof b->uid, "%s", s->series_uid);
  }
  return 0;
}

typedef struct {
  double target[3], normal[3];
  double best;
  rcy_store_instance in;
  char sop[65];
  int found;
} nearest_ctx;

static void normal_of(const double o[6], double n[3]) {
  n[0] = o[1] * o[5] - o[2] * o[4];
  n[1] = o[2] * o[3] - o[0] * o[5];
  n[2] = o[0] * o[4] - o[1] * o[3];
}

static int keep_nearest(void *ctx, const rcy_store_instance *in) {
  nearest_ctx *c = ctx;
  if (!in->has_orientation || !(in->pixel_spacing_col_mm > 0) || !(in->pixel_spacing_row_mm > 0)) return 0;
  double n[3];
  normal_of(in->orientation, n);
  double d = 0;
  for (int k = 0; k < 3; k++) d += n[k] * (c->target[k] - in->position_mm[k]);
  if (!c->found || fabs(d) < c->best) {
    c->best = fabs(d);
    c->in = *in;
    snprintf(c->sop, sizeof c->sop, "%s", in->sop_instance_uid);
    c->found = 1;
  }
  return 0;
}

int rcy_segment_propagate(rcy_segmentation **out, double *shift_mm, rcy_store *store, const char *from_sop,
                          const double from_point[2], const char *to_study_uid, rcy_error *err) {
  *out = NULL;
  one_instance from = {0};
  int rc = rcy_store_instance_find(store, from_sop, keep_one, &from, err);
  if (rc == RCY_ENOTFOUND || (!rc && !from.found))
    return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s in the archive", from_sop);
  if (rc) return rc;
  const rcy_store_instance *f = &from.in;
  if (!f->has_orientation || !(f->pixel_spacing_col_mm > 0) || !(f->pixel_spacing_row_mm > 0))
    return rcy_error_set(err, RCY_EINVAL, "instance %s has no Image Orientation or Pixel Spacing: its points have no "
                                          "patient position", from_sop);
  nearest_ctx near = {.best = INFINITY};
  for (int k = 0; k < 3; k++)
    near.target[k] = f->position_mm[k] + from_point[0] * f->pixel_spacing_col_mm * f->orientation[k] +
                     from_point[1] * f->pixel_spacing_row_mm * f->orientation[3 + k];
  best_series series = {0};
  if ((rc = rcy_store_series_each(store, to_study_uid, keep_largest, &series, err))) return rc;
  if (!series.n) return rcy_error_set(err, RCY_ENOTFOUND, "no images in study %s", to_study_uid);
  if ((rc = rcy_store_instances_each(store, series.uid, keep_nearest, &near, err))) return rc;
  if (!near.found)
    return rcy_error_set(err, RCY_EINVAL, "study %s has no image with a position and a pixel spacing", to_study_uid);
  const rcy_store_instance *t = &near.in;
  double rel[3], p[2] = {0, 0};
  for (int k = 0; k < 3; k++) rel[k] = near.target[k] - t->position_mm[k];
  for (int k = 0; k < 3; k++) {
    p[0] += rel[k] * t->orientation[k];
    p[1] += rel[k] * t->orientation[3 + k];
  }
  p[0] /= t->pixel_spacing_col_mm;
  p[1] /= t->pixel_spacing_row_mm;
  if (near.best > 2.0 * (t->slice_thickness_mm > 0 ? t->slice_thickness_mm : 5.0))
    return rcy_error_set(err, RCY_ENOTFOUND, "study %s does not reach the lesion's position (nearest slice %.0f mm away)",
                         to_study_uid, near.best);
  /* The mapped point, then rings of 2 and 4 mm around it (8 directions), until a lesion is found. */
  rcy_error first = {0};
  for (int ring = 0; ring <= 2; ring++)
    for (int dir = 0; dir < (ring ? 8 : 1); dir++) {
      double r_mm = 2.0 * ring, a = dir * M_PI / 4;
      double q[2] = {p[0] + r_mm * cos(a) / t->pixel_spacing_col_mm, p[1] + r_mm * sin(a) / t->pixel_spacing_row_mm};
      rcy_error e = {0};
      rc = rcy_segment_at(out, store, near.sop, q, &e);
      if (!rc) {
        *shift_mm = r_mm;
        return RCY_OK;
      }
      if (rc != RCY_ENOTFOUND && rc != RCY_EINVAL) {
        if (err) *err = e;
        return rc;
      }
      if (!ring) first = e;
    }
  return rcy_error_set(err, RCY_ENOTFOUND, "no lesion found at the baseline position on %s: %s", near.sop,
                       first.message);
}

int rcy_segment_propagate_lesion(rcy_segmentation **out, json_t **from_out, rcy_store *store, const json_t *lesion,
                                 const char *baseline_tp, const char *to_study_uid, rcy_error *err) {
  *out = NULL;
  *from_out = NULL;
  const char *id = json_string_value(json_object_get(lesion, "lesion_id"));
  const char *kind = json_string_value(json_object_get(lesion, "kind"));
  if (!kind || strcmp(kind, "target") != 0)
    return rcy_error_set(err, RCY_EINVAL, "%s is not a target lesion: only targets are proposed from baseline",
                         id ? id : "the lesion");
  const json_t *m = json_object_get(json_object_get(json_object_get(lesion, "observations"), baseline_tp), "measurement");
  const char *sop = json_string_value(json_object_get(m, "sop_instance_uid"));
  const json_t *p1 = json_object_get(m, "p1"), *p2 = json_object_get(m, "p2");
  if (!sop || !json_is_array(p1) || !json_is_array(p2) || json_array_size(p1) != 2 || json_array_size(p2) != 2)
    return rcy_error_set(err, RCY_EINVAL, "%s has no measurement at baseline (%s): measure it there first", id,
                         baseline_tp);
  /* The long axis' midpoint: inside the lesion whatever its shape along that axis. */
  double mid[2] = {(json_number_value(json_array_get(p1, 0)) + json_number_value(json_array_get(p2, 0))) / 2,
                   (json_number_value(json_array_get(p1, 1)) + json_number_value(json_array_get(p2, 1))) / 2};
  double shift = 0;
  int rc = rcy_segment_propagate(out, &shift, store, sop, mid, to_study_uid, err);
  if (rc == RCY_EINVAL) err->code = rc = RCY_ENOTFOUND; /* nothing to stack there is nothing found either */
  if (rc) return rc;
  *from_out = json_pack("{s:s,s:s,s:[f,f],s:f}", "timepoint", baseline_tp, "sop_instance_uid", sop, "point", mid[0],
                        mid[1], "seed_shift_mm", shift);
  return RCY_OK;
}
