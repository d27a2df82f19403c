/* Matching the lesions of two reads of one subject by where they are, so that an adjudicator and QA compare
 * the same lesion even when the readers numbered, classified (target or non-target) or named the organ
 * differently. Each lesion is placed where the reader first recorded it: the midpoint of its caliper, or its
 * point, in patient coordinates (mm) from the image's geometry. Pairs are taken greedily, closest first, when
 * closer than max(15 mm, 0.75 × the larger of the two diameters) — a caliper's midpoint can sit half a
 * diameter from another reader's on the same lesion, and two metastases 15 mm apart are rarely confused.
 * Lesions without a location (reads imported without images) are matched by identical lesion ID and organ. */
#include "recistry/reads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_MIN_MM 15.0
#define MATCH_DIAMETER_FRACTION 0.75

typedef struct placed {
  json_t *lesion;
  const char *id, *organ, *kind, *timepoint;
  int has_pos;
  double pos[3], diameter_mm;
  int matched;
} placed;

static int place_of(double mm[3], rcy_store *store, const char *subject, const char *tp, const json_t *obs) {
  json_t *pt = json_object_get(obs, "point");
  json_t *p = json_object_get(pt, "position_mm");
  if (json_array_size(p) == 3) {
    for (int i = 0; i < 3; i++) mm[i] = json_number_value(json_array_get(p, i));
    return 1;
  }
  json_t *m = json_object_get(obs, "measurement");
  if (!m) m = json_array_get(json_object_get(obs, "fragments"), 0);
  const char *sop = json_string_value(json_object_get(m, "sop_instance_uid"));
  json_t *p1 = json_object_get(m, "p1"), *p2 = json_object_get(m, "p2");
  if (!sop || json_array_size(p1) != 2 || json_array_size(p2) != 2) return 0;
  rcy_reads_image img;
  rcy_error err = {0};
  if (rcy_reads_image_load(&img, store, sop, subject, tp, &err) || !img.has_orientation) return 0;
  double mid[2] = {(json_number_value(json_array_get(p1, 0)) + json_number_value(json_array_get(p2, 0))) / 2,
                   (json_number_value(json_array_get(p1, 1)) + json_number_value(json_array_get(p2, 1))) / 2};
  return rcy_reads_image_patient_position(mm, &img, mid) == RCY_OK;
}

/* The lesions of doc with where each was first recorded (timepoints in tps order). */
static placed *place_all(size_t *n, rcy_store *store, const char *subject, const json_t *doc,
                         const rcy_timepoint_list *tps) {
  json_t *lesions = json_object_get(doc, "lesions");
  *n = json_array_size(lesions);
  placed *out = calloc(*n ? *n : 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < *n; i++) {
    placed *p = &out[i];
    p->lesion = json_array_get(lesions, i);
    p->id = json_string_value(json_object_get(p->lesion, "lesion_id"));
    p->organ = json_string_value(json_object_get(p->lesion, "organ"));
    p->kind = json_string_value(json_object_get(p->lesion, "kind"));
    json_t *observations = json_object_get(p->lesion, "observations");
    for (size_t t = 0; t < tps->n && !p->has_pos; t++) {
      json_t *obs = json_object_get(observations, tps->items[t].timepoint);
      if (!obs) continue;
      if (!p->timepoint) p->timepoint = tps->items[t].timepoint;
      if (json_is_number(json_object_get(obs, "diameter_mm")) && p->diameter_mm == 0)
        p->diameter_mm = json_number_value(json_object_get(obs, "diameter_mm"));
      p->has_pos = place_of(p->pos, store, subject, tps->items[t].timepoint, obs);
      if (p->has_pos) p->timepoint = tps->items[t].timepoint;
    }
  }
  return out;
}

static double dist(const placed *a, const placed *b) {
  double s = 0;
  for (int i = 0; i < 3; i++) s += (a->pos[i] - b->pos[i]) * (a->pos[i] - b->pos[i]);
  return sqrt(s);
}

typedef struct candidate {
  size_t i, k;
  double d;
} candidate;

static int by_distance(const void *x, const void *y) {
  const candidate *a = x, *b = y;
  if (a->d != b->d) return a->d < b->d ? -1 : 1;
  if (a->i != b->i) return a->i < b->i ? -1 : 1; /* deterministic ties */
  return a->k < b->k ? -1 : a->k > b->k;
}

static json_t *side(const placed *p) {
  if (!p) return json_null();
  json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s?}", "lesion_id", p->id, "kind", p->kind, "organ", p->organ,
                        "timepoint", p->timepoint);
  if (p->has_pos) json_object_set_new(o, "position_mm", json_pack("[f,f,f]", p->pos[0], p->pos[1], p->pos[2]));
  return o;
}

static int same(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

int rcy_review_match_lesions(json_t **out, rcy_store *store, const char *subject, const json_t *first,
                             const json_t *second, rcy_error *err) {
  *out = NULL;
  rcy_timepoint_list tps = {0};
  int rc = rcy_reads_timepoints_load(&tps, store, subject, err);
  if (rc) return rc;
  size_t na = 0, nb = 0;
  placed *a = place_all(&na, store, subject, first, &tps), *b = place_all(&nb, store, subject, second, &tps);
  candidate *c = calloc(na && nb ? na * nb : 1, sizeof *c);
  if (!a || !b || !c) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto done;
  }
  size_t nc = 0;
  for (size_t i = 0; i < na; i++)
    for (size_t k = 0; k < nb; k++) {
      if (!a[i].has_pos || !b[k].has_pos) continue;
      double d = dist(&a[i], &b[k]);
      double limit = fmax(MATCH_MIN_MM, MATCH_DIAMETER_FRACTION * fmax(a[i].diameter_mm, b[k].diameter_mm));
      if (d <= limit) c[nc++] = (candidate){i, k, d};
    }
  qsort(c, nc, sizeof *c, by_distance);
  json_t *pairs = json_array();
  for (size_t j = 0; j < nc; j++) {
    placed *x = &a[c[j].i], *y = &b[c[j].k];
    if (x->matched || y->matched) continue;
    x->matched = y->matched = 1;
    json_array_append_new(pairs, json_pack("{s:o,s:o,s:f,s:s}", "r1", side(x), "r2", side(y), "distance_mm", c[j].d,
                                           "by", "location"));
  }
  for (size_t i = 0; i < na; i++) /* reads without locations: the same lesion ID and organ */
    for (size_t k = 0; k < nb && !a[i].matched; k++)
      if (!b[k].matched && (!a[i].has_pos || !b[k].has_pos) && same(a[i].id, b[k].id) && same(a[i].organ, b[k].organ)) {
        a[i].matched = b[k].matched = 1;
        json_array_append_new(pairs, json_pack("{s:o,s:o,s:n,s:s}", "r1", side(&a[i]), "r2", side(&b[k]),
                                               "distance_mm", "by", "label"));
      }
  for (size_t i = 0; i < na; i++)
    if (!a[i].matched) json_array_append_new(pairs, json_pack("{s:o,s:n,s:n,s:n}", "r1", side(&a[i]), "r2", "distance_mm", "by"));
  for (size_t k = 0; k < nb; k++)
    if (!b[k].matched) json_array_append_new(pairs, json_pack("{s:n,s:o,s:n,s:n}", "r1", "r2", side(&b[k]), "distance_mm", "by"));
  *out = pairs;
done:
  free(a);
  free(b);
  free(c);
  rcy_reads_timepoints_free(&tps);
  return rc;
}
