/* What a stored measurement keeps of its segmentation, and which method it gets. The browser's word is never
 * taken for the numbers: the seed it names is segmented again here (rcy_segment_at is deterministic, so this is
 * the proposal the reader saw), the volume stored is this one, and whether the reader edited the proposal is
 * decided from the calipers they accepted, not from what the client claims. */
#include "recistry/segment.h"

#include <math.h>
#include <string.h>

typedef struct {
  char subject[65], timepoint[65];
  int found, cut;
} owner_ctx;

static int keep_owner(void *ctx, const rcy_store_instance *in) {
  owner_ctx *o = ctx;
  o->found = 1;
  o->cut = rcy_copy_exact(o->subject, sizeof o->subject, in->subject_id ? in->subject_id : "") ||
           rcy_copy_exact(o->timepoint, sizeof o->timepoint, in->timepoint ? in->timepoint : "");
  return 0;
}

static int near(const double a[2], const double b[2]) {
  return fabs(a[0] - b[0]) <= RCY_SEGMENT_EDIT_TOLERANCE_PX && fabs(a[1] - b[1]) <= RCY_SEGMENT_EDIT_TOLERANCE_PX;
}

/* The caliper a-b is the segment q1-q2 (either way round). */
static int same_caliper(const double a[2], const double b[2], const double q1[2], const double q2[2]) {
  return (near(a, q1) && near(b, q2)) || (near(a, q2) && near(b, q1));
}

int rcy_segment_measurement_info(json_t **out, char *method_out, rcy_store *store, const char *subject,
                                 const char *tp, const json_t *client_segmentation, const char *sop,
                                 const double p1[2], const double p2[2], const double *s1, const double *s2,
                                 const char *claimed_method, rcy_error *err) {
  *out = NULL;
  strcpy(method_out, "manual");
  if (!claimed_method || strcmp(claimed_method, "manual") == 0) return RCY_OK;
  if (strcmp(claimed_method, "semiautomatic") != 0 && strcmp(claimed_method, "semiautomatic_edited") != 0)
    return rcy_error_set(err, RCY_EINVAL, "measurement.method must be manual, semiautomatic or semiautomatic_edited");
  const json_t *seed = json_object_get(client_segmentation, "seed");
  const char *seed_sop = json_string_value(json_object_get(seed, "sop_instance_uid"));
  const json_t *pt = json_object_get(seed, "point");
  if (!json_is_object(client_segmentation))
    return rcy_error_set(err, RCY_EINVAL, "a %s measurement needs measurement.segmentation {\"seed\": "
                                          "{\"sop_instance_uid\", \"point\"}}", claimed_method);
  if (!seed_sop || !*seed_sop || strlen(seed_sop) > 64)
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.sop_instance_uid is required");
  if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
      !json_is_number(json_array_get(pt, 1)))
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.point must be [col, row] (two numbers)");
  double point[2] = {json_number_value(json_array_get(pt, 0)), json_number_value(json_array_get(pt, 1))};
  if (!isfinite(point[0]) || !isfinite(point[1]))
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.point must be finite");

  /* The seed must be this subject's image at this timepoint: another subject's instance (perhaps of another
   * site) and an absent one get the same answer. */
  owner_ctx o = {0};
  int rc = rcy_store_instance_find(store, seed_sop, keep_owner, &o, err);
  if (rc && rc != RCY_ENOTFOUND) return rc;
  if (rc == RCY_ENOTFOUND || !o.found || o.cut || strcmp(o.subject, subject) != 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "the segmentation's seed: no instance %s among subject %s's images",
                         seed_sop, subject);
  if (strcmp(o.timepoint, tp) != 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "the segmentation's seed %s belongs to timepoint %s, not %s", seed_sop,
                         o.timepoint, tp);

  rcy_segmentation *seg = NULL;
  if ((rc = rcy_segment_at(&seg, store, seed_sop, point, err))) return rc;
  const rcy_imaging_lesion *l = seg->lesion;
  const char *proposal_sop = seg->slices[l->long_slice].sop_instance_uid;
  int same = strcmp(sop, proposal_sop) == 0 && same_caliper(p1, p2, l->long_p1, l->long_p2) &&
             (!s1 || !s2 || same_caliper(s1, s2, l->short_p1, l->short_p2));
  strcpy(method_out, same ? "semiautomatic" : "semiautomatic_edited");
  json_t *full = rcy_segmentation_json(seg, 0);
  rcy_segmentation_free(seg);
  if (!full) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  static const char *const keep[] = {"seed", "volume_ml", "long_mm", "short_mm", "algorithm", "slices",
                                     "first_sop_instance_uid", "last_sop_instance_uid", "series_instance_uid"};
  json_t *o2 = json_object();
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
    if (json_object_get(full, keep[i])) json_object_set(o2, keep[i], json_object_get(full, keep[i]));
  json_decref(full);
  *out = o2;
  return RCY_OK;
}
