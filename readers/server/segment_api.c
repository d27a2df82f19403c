/* POST /api/segment: one click -> the proposal of a semi-automatic measurement (src/segment/, docs/api.md).
 * Thin: the body is checked, the caller must be one who may measure on that subject and timepoint (their own
 * read, the subject visible to them, the instance one of that subject's at that timepoint), and the answer is
 * rcy_segmentation_json with the contours. Nothing is stored: the measurement, when the reader accepts it, is
 * stored by PUT .../lesions/{id} with "method" and "segmentation" (reads_api.c). */
#include "server_internal.h"

#include "recistry/segment.h"

#include <string.h>

#include "recistry/reads.h"

int rcy_handle_segment(rcy_req *r) {
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  const char *subject = json_string_value(json_object_get(body, "subject"));
  const char *tp = json_string_value(json_object_get(body, "timepoint"));
  const char *sop = json_string_value(json_object_get(body, "sop_instance_uid"));
  json_t *pt = json_object_get(body, "point");
  const char *role = NULL, *reader = NULL;
  rcy_error err = {0};
  rcy_reads_image img;
  rcy_segmentation *seg = NULL;
  if (!subject || !*subject || strlen(subject) > 64) {
    rcy_reply_error(r, 400, "\"subject\" is required");
    goto out;
  }
  if (!tp || !*tp || strlen(tp) > 64) {
    rcy_reply_error(r, 400, "\"timepoint\" is required");
    goto out;
  }
  if (!sop || !*sop || strlen(sop) > 64) {
    rcy_reply_error(r, 400, "\"sop_instance_uid\" is required");
    goto out;
  }
  if (!json_is_array(pt) || json_array_size(pt) != 2 || !json_is_number(json_array_get(pt, 0)) ||
      !json_is_number(json_array_get(pt, 1))) {
    rcy_reply_error(r, 400, "\"point\" must be [col, row] (two numbers, image pixels)");
    goto out;
  }
  /* Who may measure may ask for a proposal: the same rule as PUT .../lesions/{id} (reads_api.c). */
  if (!rcy_reads_own_read(&r->user, &role, &reader)) {
    rcy_reply_error(r, 403, "role %s may look at reads but not measure", r->user.role);
    goto out;
  }
  if (!rcy_subject_visible(r, subject)) {
    rcy_reply_error(r, 404, "no subject %s visible to you", subject);
    goto out;
  }
  int rc = rcy_reads_image_load(&img, r->store, sop, subject, tp, &err);
  if (rc == RCY_EINVAL) {
    rcy_reply_error(r, 422, "%s", err.message);
    goto out;
  }
  if (rc) { /* RCY_ENOTFOUND: absent, or another subject's (one answer for both) */
    rcy_reply_rcy_error(r, &err);
    goto out;
  }
  double p[2] = {json_number_value(json_array_get(pt, 0)), json_number_value(json_array_get(pt, 1))};
  if (!rcy_reads_image_contains(&img, p)) {
    rcy_reply_error(r, 422, "the point [%g, %g] lies outside the %dx%d image", p[0], p[1], img.columns, img.rows);
    goto out;
  }
  rc = rcy_segment_at(&seg, r->store, sop, p, &err);
  if (rc == RCY_ENOTFOUND || rc == RCY_EINVAL) {
    rcy_reply_error(r, 422, "%s", err.message);
    goto out;
  }
  if (rc) {
    rcy_reply_rcy_error(r, &err);
    goto out;
  }
  json_t *res = rcy_segmentation_json(seg, 1);
  if (!res) rcy_reply_error(r, 500, "out of memory");
  else rcy_reply_json(r, 200, res);
out:
  rcy_segmentation_free(seg);
  json_decref(body);
  return 0;
}

/* POST /api/segment/propagate {"subject", "timepoint", "lesion_id"}: a baseline target's proposal on a
 * follow-up (rcy_segment_propagate_lesion), for the caller's own read: the same access as POST /api/segment.
 * The answer is POST /api/segment's plus "propagated_from". Nothing is stored. */
int rcy_handle_segment_propagate(rcy_req *r) {
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  const char *subject = json_string_value(json_object_get(body, "subject"));
  const char *tp = json_string_value(json_object_get(body, "timepoint"));
  const char *lesion_id = json_string_value(json_object_get(body, "lesion_id"));
  const char *role = NULL, *reader = NULL;
  rcy_error err = {0};
  rcy_timepoint_list tps = {0};
  json_t *doc = NULL, *from = NULL;
  rcy_segmentation *seg = NULL;
  if (!subject || !*subject || strlen(subject) > 64) {
    rcy_reply_error(r, 400, "\"subject\" is required");
    goto out;
  }
  if (!tp || !*tp || strlen(tp) > 64) {
    rcy_reply_error(r, 400, "\"timepoint\" is required");
    goto out;
  }
  if (!lesion_id || !rcy_reads_valid_lesion_id(lesion_id)) {
    rcy_reply_error(r, 400, "\"lesion_id\" is required (1-16 characters of A-Z a-z 0-9 _ -)");
    goto out;
  }
  if (!rcy_reads_own_read(&r->user, &role, &reader)) {
    rcy_reply_error(r, 403, "role %s may look at reads but not measure", r->user.role);
    goto out;
  }
  if (!rcy_subject_visible(r, subject)) {
    rcy_reply_error(r, 404, "no subject %s visible to you", subject);
    goto out;
  }
  if (rcy_reads_timepoints_load(&tps, r->store, subject, &err) || rcy_reads_load(&doc, r->store, subject, role, reader, &err)) {
    rcy_reply_rcy_error(r, &err);
    goto out;
  }
  const rcy_timepoint *to = rcy_reads_timepoint_find(&tps, tp);
  if (!to) {
    rcy_reply_error(r, 404, "subject %s has no timepoint %s", subject, tp);
    goto out;
  }
  const char *bl = tps.items[0].timepoint;
  if (to == &tps.items[0]) {
    rcy_reply_error(r, 422, "%s is the baseline: propagation proposes a baseline target at a follow-up", tp);
    goto out;
  }
  json_t *lesion = rcy_reads_find_lesion(doc, lesion_id);
  if (!lesion) {
    rcy_reply_error(r, 404, "no lesion %s in this read", lesion_id);
    goto out;
  }
  int rc = rcy_segment_propagate_lesion(&seg, &from, r->store, lesion, bl, to->study_uid, &err);
  if (rc == RCY_EINVAL || rc == RCY_ENOTFOUND) {
    rcy_reply_error(r, 422, "%s", err.message);
    goto out;
  }
  if (rc) {
    rcy_reply_rcy_error(r, &err);
    goto out;
  }
  json_t *res = rcy_segmentation_json(seg, 1);
  if (!res) {
    rcy_reply_error(r, 500, "out of memory");
    goto out;
  }
  json_object_set(res, "propagated_from", from);
  rcy_reply_json(r, 200, res);
out:
  json_decref(from);
  json_decref(doc);
  rcy_reads_timepoints_free(&tps);
  rcy_segmentation_free(seg);
  json_decref(body);
  return 0;
}

/* GET /api/segmentations/{uid}: a stored SEG's contours (rcy_segment_seg_contours), served only to those who
 * may see the read that holds it; anyone else, like an unknown UID, gets 404 (as key images). */
int rcy_handle_segmentation_get(rcy_req *r, const char *uid) {
  char path[4200];
  if (rcy_segment_seg_path(path, sizeof path, r->srv->seg_dir, uid) != RCY_OK)
    return rcy_reply_error(r, 404, "no such segmentation");
  rcy_store_read_key owner;
  rcy_error err = {0};
  int rc = rcy_store_segmentation_owner(&owner, r->store, uid, &err);
  if (rc == RCY_ENOTFOUND || (rc == RCY_OK && !rcy_read_visible(r, owner.subject_id, owner.role, owner.reader)))
    return rcy_reply_error(r, 404, "no such segmentation");
  if (rc) return rcy_reply_rcy_error(r, &err);
  json_t *out = NULL;
  if ((rc = rcy_segment_seg_contours(&out, r->store, path, &err))) {
    if (rc == RCY_ENOTFOUND) return rcy_reply_error(r, 404, "no such segmentation");
    return rcy_reply_rcy_error(r, &err);
  }
  json_object_set_new(out, "sop_instance_uid", json_string(uid));
  return rcy_reply_json(r, 200, out);
}
