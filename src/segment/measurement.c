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

/* The client's seed, checked: {"seed": {"sop_instance_uid", "point": [col, row]}}. */
static int parse_seed(const json_t *client_segmentation, const char **sop, double point[2], const char *claimed,
                      rcy_error *err) {
  const json_t *seed = json_object_get(client_segmentation, "seed");
  const json_t *pt = json_object_get(seed, "point");
  *sop = json_string_value(json_object_get(seed, "sop_instance_uid"));
  if (!json_is_object(client_segmentation))
    return rcy_error_set(err, RCY_EINVAL, "a %s measurement needs measurement.segmentation {\"seed\": "
                                          "{\"sop_instance_uid\", \"point\"}}", claimed);
  if (!*sop || !**sop || strlen(*sop) > 64)
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.sop_instance_uid is required");
  if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
      !json_is_number(json_array_get(pt, 1)))
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.point must be [col, row] (two numbers)");
  point[0] = json_number_value(json_array_get(pt, 0));
  point[1] = json_number_value(json_array_get(pt, 1));
  if (!isfinite(point[0]) || !isfinite(point[1]))
    return rcy_error_set(err, RCY_EINVAL, "measurement.segmentation.seed.point must be finite");
  return RCY_OK;
}

static int is_semiautomatic(const char *method) {
  return method && (strcmp(method, "semiautomatic") == 0 || strcmp(method, "semiautomatic_edited") == 0);
}

int rcy_segment_seed_rerun(rcy_segmentation **out, rcy_store *store, const char *subject, const char *tp,
                           const json_t *client_segmentation, const char *claimed_method, rcy_error *err) {
  *out = NULL;
  if (!claimed_method || strcmp(claimed_method, "manual") == 0) return RCY_OK;
  if (!is_semiautomatic(claimed_method))
    return rcy_error_set(err, RCY_EINVAL, "measurement.method must be manual, semiautomatic or semiautomatic_edited");
  const char *seed_sop;
  double point[2];
  int rc = parse_seed(client_segmentation, &seed_sop, point, claimed_method, err);
  if (rc) return rc;
  /* The seed must be this subject's image at this timepoint: another subject's instance (perhaps of another
   * site) and an absent one get the same answer. */
  owner_ctx o = {0};
  rc = rcy_store_instance_find(store, seed_sop, keep_owner, &o, err);
  if (rc && rc != RCY_ENOTFOUND) return rc;
  if (rc == RCY_ENOTFOUND || !o.found || o.cut || strcmp(o.subject, subject) != 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "the segmentation's seed: no instance %s among subject %s's images",
                         seed_sop, subject);
  if (strcmp(o.timepoint, tp) != 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "the segmentation's seed %s belongs to timepoint %s, not %s", seed_sop,
                         o.timepoint, tp);
  rc = rcy_segment_at(out, store, seed_sop, point, err);
  /* A seed off its image or on a series that cannot be stacked is no seed of a proposal either. */
  if (rc == RCY_EINVAL) err->code = rc = RCY_ENOTFOUND;
  return rc;
}

int rcy_segment_measurement_info(json_t **out, char *method_out, rcy_store *store, const char *subject,
                                 const char *tp, const json_t *client_segmentation, const rcy_segmentation *pre,
                                 const char *sop, const double p1[2], const double p2[2], const double *s1,
                                 const double *s2, const char *claimed_method, rcy_error *err) {
  *out = NULL;
  strcpy(method_out, "manual");
  if (!claimed_method || strcmp(claimed_method, "manual") == 0) return RCY_OK;
  if (!is_semiautomatic(claimed_method))
    return rcy_error_set(err, RCY_EINVAL, "measurement.method must be manual, semiautomatic or semiautomatic_edited");
  const char *seed_sop;
  double point[2];
  int rc = parse_seed(client_segmentation, &seed_sop, point, claimed_method, err);
  if (rc) return rc;
  rcy_segmentation *own = NULL;
  const rcy_segmentation *seg = pre;
  /* A segmentation run beforehand is used only when it is of this very seed. */
  if (!seg || strcmp(seg->seed_sop_instance_uid, seed_sop) != 0 || seg->seed_point[0] != point[0] ||
      seg->seed_point[1] != point[1]) {
    if ((rc = rcy_segment_seed_rerun(&own, store, subject, tp, client_segmentation, claimed_method, err))) return rc;
    seg = own;
  }
  const rcy_imaging_lesion *l = seg->lesion;
  const char *proposal_sop = seg->slices[l->long_slice].sop_instance_uid;
  int same = strcmp(sop, proposal_sop) == 0 && same_caliper(p1, p2, l->long_p1, l->long_p2) &&
             (!s1 || !s2 || same_caliper(s1, s2, l->short_p1, l->short_p2));
  strcpy(method_out, same ? "semiautomatic" : "semiautomatic_edited");
  json_t *full = rcy_segmentation_json(seg, 0);
  rcy_segmentation_free(own);
  if (!full) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  static const char *const keep[] = {"seed", "volume_ml", "long_mm", "short_mm", "algorithm", "slices",
                                     "first_sop_instance_uid", "last_sop_instance_uid", "series_instance_uid"};
  json_t *kept = json_object();
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
    if (json_object_get(full, keep[i])) json_object_set(kept, keep[i], json_object_get(full, keep[i]));
  json_decref(full);
  *out = kept;
  return RCY_OK;
}
