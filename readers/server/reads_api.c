/* The read endpoints: get a read, add/delete lesions, record an observation (measurement, state, fragments,
 * merge) at a timepoint, sign and unsign. Each change is a read-modify-write inside one transaction that
 * also appends the audit row (who, before, after, reason); a signed timepoint changes only with a reason.
 * Millimetres come from the instance's Pixel Spacing in the index, never from the browser. */
#include "server_internal.h"

#include "recistry/log.h"
#include "recistry/render.h"
#include "recistry/segment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* At most one measurement per request, or up to 10 fragments. */
#define MAX_KEY_IMAGES 10
/* The shortest caliper accepted: a length of 0 (both ends on one point) or below a tenth of a millimetre
 * (far below any pixel spacing) is a misclick, not a measurement. */
#define RCY_MIN_CALIPER_MM 0.1

typedef struct {
  rcy_req *r;
  const char *subject, *role, *reader;
  rcy_timepoint_list tps;
  json_t *doc;
  int in_tx;
  /* Key images written for this request: durable before the change that names them commits, removed again
   * when it does not (a later fragment refused, the commit failed), so no picture outlives its request. */
  char key_images[MAX_KEY_IMAGES][33];
  int n_key_images;
  /* DICOM SEGs written for this request (semi-automatic measurements): kept and removed like key images. */
  char segs[MAX_KEY_IMAGES][65];
  int n_segs;
  int commit_attempted; /* a failed COMMIT may still be replayed from the WAL: then keep the pictures */
  char reason[RCY_REASON_MAX + 1]; /* the change's reason, trimmed (reason_for) */
  /* A semi-automatic measurement's seed segmented again before the transaction (observation_put), or NULL. */
  const rcy_segmentation *pre_seg;
} read_ctx;

static void ctx_free(read_ctx *c) {
  if (c->in_tx) {
    rcy_store_rollback(c->r->store);
    for (int i = 0; i < c->n_key_images && !c->commit_attempted; i++)
      rcy_key_image_remove(c->r->srv->key_image_dir, c->key_images[i]);
    for (int i = 0; i < c->n_segs && !c->commit_attempted; i++) rcy_segment_seg_remove(c->r->srv->seg_dir, c->segs[i]);
  }
  rcy_reads_timepoints_free(&c->tps);
  json_decref(c->doc);
}

static int valid_role_param(const char *role) {
  return strcmp(role, "site") == 0 || strcmp(role, "central") == 0 || strcmp(role, "adjudicator") == 0;
}

/* A QA/admin request for a central or adjudicator read without a reader: say whose reads exist (400). */
static int reply_which_reader(rcy_req *r, const char *subject, const char *role) {
  json_t *reads = NULL;
  rcy_error err = {0};
  char names[600] = "";
  size_t n = 0, i;
  json_t *e;
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  if (rcy_reads_of_subjects(&reads, r->store, subject, &err) == 0) {
    json_array_foreach(reads, i, e) {
      if (strcmp(json_string_value(json_object_get(e, "role")), role) != 0) continue;
      size_t len = strlen(names);
      snprintf(names + len, sizeof names - len, "%s%s", n++ ? ", " : "", json_string_value(json_object_get(e, "reader")));
    }
  }
  json_decref(reads);
  if (!n) return rcy_reply_error(r, 400, "subject %s has no %s read yet: choose another read", subject, role);
  return rcy_reply_error(r, 400, "choose whose %s read of %s to show: %s", role, subject, names);
}

/* Resolves which read the caller addresses and loads it; on failure replies and returns -1. For writes,
 * opens the transaction the change will commit in. */
static int open_read(read_ctx *c, rcy_req *r, const char *subject, int write) {
  memset(c, 0, sizeof *c);
  c->r = r;
  c->subject = subject;
  if (!rcy_reads_own_read(&r->user, &c->role, &c->reader)) {
    if (write) return rcy_reply_error(r, 403, "role %s may look at reads but not change them", r->user.role), -1;
    /* QA (and admin): any read, named by ?role= and ?reader=. */
    const char *role = rcy_req_query(r, "role"), *reader = rcy_req_query(r, "reader");
    if (!role || !valid_role_param(role))
      return rcy_reply_error(r, 400, "choose which read to show: the site read, or a central or adjudicator "
                                     "read and its reader (?role=site|central|adjudicator&reader=NAME)"),
             -1;
    if (strcmp(role, "site") == 0) reader = "site";
    if (!reader || !*reader) return reply_which_reader(r, subject, role), -1;
    c->role = role;
    c->reader = reader;
  } else if (!write && strcmp(r->user.role, "adjudicator") == 0) {
    /* An adjudicator opens a central read in the viewer, read-only, once the subject waits for adjudication
     * or has been adjudicated (visibility.c); before that, and for any other read, their own. */
    const char *role = rcy_req_query(r, "role"), *reader = rcy_req_query(r, "reader");
    if (role && reader && strcmp(role, "central") == 0 && rcy_read_visible(r, subject, role, reader)) {
      c->role = role;
      c->reader = reader;
    }
  }
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject), -1;
  rcy_error err = {0};
  if (rcy_reads_timepoints_load(&c->tps, r->store, subject, &err)) return rcy_reply_rcy_error(r, &err), -1;
  if (write) {
    if (rcy_store_begin(r->store, &err)) return rcy_reply_rcy_error(r, &err), -1;
    c->in_tx = 1;
  }
  if (rcy_reads_load(&c->doc, r->store, subject, c->role, c->reader, &err)) return rcy_reply_rcy_error(r, &err), -1;
  return 0;
}

static int reply_view(read_ctx *c, unsigned status, json_t *extra) {
  json_t *view = rcy_reads_view(c->r->store, c->subject, c->role, c->reader, c->doc, &c->tps);
  if (extra) {
    json_object_set_new(extra, "read", view);
    view = extra;
  }
  return rcy_reply_json(c->r, status, view);
}

/* Saves the document with its audit row and commits; replies with the whole read (status) on success. */
static int commit(read_ctx *c, const char *action, const char *tp, const char *lesion, json_t *before,
                  json_t *after, const char *reason, unsigned status, json_t *extra) {
  char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
  char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
  rcy_audit_entry e = {c->r->user.name, action, c->subject, c->role, c->reader, tp, lesion, b, a, reason};
  rcy_error err = {0};
  int rc = rcy_reads_save(c->r->store, c->subject, c->role, c->reader, c->doc, &e, &err);
  if (!rc) {
    c->commit_attempted = 1;
    rc = rcy_store_commit(c->r->store, &err);
  }
  free(b);
  free(a);
  if (rc) {
    json_decref(extra);
    return rcy_reply_rcy_error(c->r, &err);
  }
  c->in_tx = 0;
  return reply_view(c, status, extra);
}

static int is_signed(const read_ctx *c, const char *tp) {
  return json_object_get(json_object_get(c->doc, "signoffs"), tp) != NULL;
}

/* The reason for a change at a signed timepoint, trimmed: NULL and a 409 when missing or blank there (400
 * when malformed); "" when none was given and none is needed. */
static const char *reason_for(read_ctx *c, const char *tp, const char *given) {
  int ok = rcy_reads_reason(c->reason, sizeof c->reason, given);
  if (ok < 0) {
    rcy_reply_error(c->r, 400, "\"reason\" must be at most %d bytes of text without control characters",
                    RCY_REASON_MAX);
    return NULL;
  }
  if (ok) return c->reason;
  if (tp && is_signed(c, tp)) {
    rcy_reply_error(c->r, 409, "timepoint %s is signed: a change needs a \"reason\"", tp);
    return NULL;
  }
  return "";
}

static const char *baseline_tp(const read_ctx *c) { return c->tps.n ? c->tps.items[0].timepoint : NULL; }

int rcy_handle_read_get(rcy_req *r, const char *subject) {
  read_ctx c;
  if (open_read(&c, r, subject, 0)) {
    ctx_free(&c);
    return 0;
  }
  reply_view(&c, 200, NULL);
  ctx_free(&c);
  return 0;
}

/* ---- lesions ---- */

static void next_id(char *out, size_t size, const json_t *doc, const char *prefix) {
  int max = 0;
  size_t i, plen = strlen(prefix);
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    const char *id = json_string_value(json_object_get(l, "lesion_id"));
    if (id && strncmp(id, prefix, plen) == 0 && id[plen] >= '0' && id[plen] <= '9') {
      int v = atoi(id + plen);
      if (v > max) max = v;
    }
  }
  snprintf(out, size, "%s%d", prefix, max + 1);
}

static int add_lesion(read_ctx *c, json_t *body) {
  rcy_req *r = c->r;
  const char *kind = json_string_value(json_object_get(body, "kind"));
  const char *organ = json_string_value(json_object_get(body, "organ"));
  const char *tp = json_string_value(json_object_get(body, "timepoint"));
  const char *id = json_string_value(json_object_get(body, "lesion_id"));
  const char *state = json_string_value(json_object_get(body, "state"));
  json_t *nodal = json_object_get(body, "nodal");
  if (!kind || (strcmp(kind, "target") && strcmp(kind, "non_target") && strcmp(kind, "new")))
    return rcy_reply_error(r, 400, "\"kind\" must be target, non_target or new");
  if (!organ || !*organ || strlen(organ) > 64) return rcy_reply_error(r, 400, "\"organ\" must be 1-64 characters");
  if (nodal && !json_is_boolean(nodal)) return rcy_reply_error(r, 400, "\"nodal\" must be true or false");
  if (!tp) return rcy_reply_error(r, 400, "\"timepoint\" is required");
  if (json_object_get(body, "lesion_id") && !rcy_reads_valid_lesion_id(id))
    return rcy_reply_error(r, 400, "\"lesion_id\" must be 1-16 characters of A-Z a-z 0-9 _ -");
  if (json_object_get(body, "state") && !state)
    return rcy_reply_error(r, 400, "\"state\" is not valid for a %s lesion", kind);
  if (!rcy_reads_timepoint_find(&c->tps, tp)) return rcy_reply_error(r, 404, "subject %s has no timepoint %s", c->subject, tp);
  int at_baseline = strcmp(tp, baseline_tp(c)) == 0;
  if (strcmp(kind, "new") != 0 && !at_baseline)
    return rcy_reply_error(r, 422, "%s lesions are chosen at baseline (%s), not at %s", kind, baseline_tp(c), tp);
  if (strcmp(kind, "new") == 0 && at_baseline)
    return rcy_reply_error(r, 422, "new lesions are recorded at follow-ups, not at baseline (%s)", tp);
  char why[200];
  int status = state ? rcy_reads_state_rule(kind, state, at_baseline, why, sizeof why) : 0;
  if (status) return rcy_reply_error(r, (unsigned)status, "%s", why);
  char auto_id[24];
  if (!id) {
    next_id(auto_id, sizeof auto_id, c->doc, strcmp(kind, "target") == 0 ? "T" : strcmp(kind, "new") == 0 ? "N" : "NT");
    id = auto_id;
  } else if (rcy_reads_find_lesion(c->doc, id))
    return rcy_reply_error(r, 409, "lesion %s already exists in this read", id);
  int is_nodal = json_is_true(nodal);
  if (strcmp(kind, "target") == 0) {
    size_t i, n = 0, same = 0;
    json_t *l;
    json_array_foreach(json_object_get(c->doc, "lesions"), i, l) {
      const char *k = json_string_value(json_object_get(l, "kind"));
      if (!k || strcmp(k, "target")) continue;
      n++;
      int ln = json_is_true(json_object_get(l, "nodal"));
      const char *lo = json_string_value(json_object_get(l, "organ"));
      if ((is_nodal && ln) || (!is_nodal && !ln && lo && strcmp(lo, organ) == 0)) same++;
    }
    if (n >= 5) return rcy_reply_error(r, 422, "RECIST 1.1 allows at most 5 target lesions (already %zu)", n);
    if (same >= 2)
      return rcy_reply_error(r, 422, "RECIST 1.1 allows at most 2 target lesions per organ (%s has %zu)",
                             is_nodal ? "lymph node" : organ, same);
  }
  const char *reason = reason_for(c, tp, json_string_value(json_object_get(body, "reason")));
  if (!reason) return 0;
  json_t *obs = json_object();
  if (!state && strcmp(kind, "non_target") == 0) state = "present";
  if (!state && strcmp(kind, "new") == 0) state = "unequivocal";
  if (state) json_object_set_new(obs, tp, json_pack("{s:s}", "state", state));
  json_t *lesion = json_pack("{s:s,s:s,s:s,s:b,s:s,s:n,s:o}", "lesion_id", id, "kind", kind, "organ", organ,
                             "nodal", is_nodal, "timepoint", tp, "baseline", "observations", obs);
  json_array_append(json_object_get(c->doc, "lesions"), lesion);
  json_t *extra = json_deep_copy(lesion);
  commit(c, "lesion.add", tp, id, NULL, lesion, *reason ? reason : NULL, 201, extra);
  json_decref(lesion);
  return 0;
}

int rcy_handle_lesion_add(rcy_req *r, const char *subject) {
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  read_ctx c;
  if (!open_read(&c, r, subject, 1)) add_lesion(&c, body);
  json_decref(body);
  ctx_free(&c);
  return 0;
}

int rcy_handle_lesion_delete(rcy_req *r, const char *subject, const char *lesion_id) {
  read_ctx c;
  if (open_read(&c, r, subject, 1)) {
    ctx_free(&c);
    return 0;
  }
  json_t *lesions = json_object_get(c.doc, "lesions");
  json_t *l = rcy_reads_find_lesion(c.doc, lesion_id);
  const char *given = rcy_req_query(r, "reason");
  if (!l) {
    rcy_reply_error(r, 404, "no lesion %s in this read", lesion_id);
    goto out;
  }
  size_t i;
  json_t *o;
  json_array_foreach(lesions, i, o) {
    json_t *obs;
    const char *tp;
    json_object_foreach(json_object_get(o, "observations"), tp, obs) {
      const char *m = json_string_value(json_object_get(obs, "merged_into"));
      if (m && strcmp(m, lesion_id) == 0) {
        rcy_reply_error(r, 409, "%s is merged into %s at %s: change that first",
                        json_string_value(json_object_get(o, "lesion_id")), lesion_id, tp);
        goto out;
      }
    }
  }
  /* A lesion touching a signed timepoint needs a reason to go. */
  const char *reason = reason_for(&c, json_string_value(json_object_get(l, "timepoint")), given);
  const char *tp;
  json_t *obs;
  json_object_foreach(json_object_get(l, "observations"), tp, obs) {
    if (reason && !*reason) reason = reason_for(&c, tp, given);
  }
  if (!reason) goto out;
  json_t *before = json_incref(l);
  json_array_foreach(lesions, i, o) if (o == l) {
    json_array_remove(lesions, i);
    break;
  }
  commit(&c, "lesion.delete", NULL, lesion_id, before, NULL, *reason ? reason : NULL, 200, NULL);
  json_decref(before);
out:
  ctx_free(&c);
  return 0;
}

/* ---- measurements ---- */

/* Loads sop as the subject's image at tp (src/reads/image_geometry.c), or replies: 422 for what the reader
 * can act on (not this subject's, another timepoint, no Pixel Spacing), the store's error otherwise. */
static int load_image(rcy_reads_image *img, read_ctx *c, const char *sop, const char *tp) {
  rcy_error err = {0};
  int rc = rcy_reads_image_load(img, c->r->store, sop, c->subject, tp, &err);
  if (rc == RCY_ENOTFOUND || rc == RCY_EINVAL) return rcy_reply_error(c->r, 422, "%s", err.message), -1;
  if (rc) return rcy_reply_rcy_error(c->r, &err), -1;
  return 0;
}

/* A point [col, row] inside the image, or NULL after replying 400. */
static int get_point(rcy_req *r, const json_t *m, const char *key, const rcy_reads_image *in, double p[2],
                     int required) {
  json_t *v = json_object_get(m, key);
  if (!v || json_is_null(v)) {
    if (required) return rcy_reply_error(r, 400, "measurement.%s is required ([col, row] in image pixels)", key), -1;
    return 1;
  }
  if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
      !json_is_number(json_array_get(v, 1)))
    return rcy_reply_error(r, 400, "measurement.%s must be [col, row] (two numbers)", key), -1;
  p[0] = json_number_value(json_array_get(v, 0));
  p[1] = json_number_value(json_array_get(v, 1));
  if (!rcy_reads_image_contains(in, p))
    return rcy_reply_error(r, 400, "measurement.%s [%g, %g] lies outside the %dx%d image", key, p[0], p[1],
                           in->columns, in->rows),
           -1;
  return 0;
}

/* Keeps a rendered key image of this change (png is freed): saved under its random id, remembered so that it
 * is removed if the change does not commit, and recorded in this change's transaction as belonging to the read,
 * so it is served only to those who may see that read, and only once the read naming it commits. url receives
 * its address. 0, or -1 after replying. */
static int keep_key_image(read_ctx *c, unsigned char *png, size_t len, char url[64]) {
  rcy_error err = {0};
  char id[33];
  int rc = rcy_key_image_save(id, c->r->srv->key_image_dir, png, len, &err);
  rcy_render_free(png);
  if (rc) return rcy_reply_rcy_error(c->r, &err), -1;
  memcpy(c->key_images[c->n_key_images++], id, sizeof id);
  if ((rc = rcy_store_key_image_add(c->r->store, id, c->subject, c->role, c->reader, &err)))
    return rcy_reply_rcy_error(c->r, &err), -1;
  snprintf(url, 64, "/api/key-images/%s.png", id);
  return 0;
}

/* Keeps the DICOM SEG of an accepted semi-automatic measurement (src/segment/seg_store.c: the seed's
 * segmentation, as the server re-ran it), remembered so that it is removed if the change does not commit, and
 * recorded in this change's transaction as the read's; its SOP Instance UID goes into the stored segmentation
 * as "seg_sop_instance_uid". 0, or -1 after replying. */
static int keep_seg(read_ctx *c, json_t *segmentation, const json_t *lesion, const char *tp, const char *method) {
  rcy_error err = {0};
  const char *lid = json_string_value(json_object_get(lesion, "lesion_id"));
  const char *organ = json_string_value(json_object_get(lesion, "organ"));
  char label[128], uid[65];
  snprintf(label, sizeof label, "%s %s", lid ? lid : "?", organ ? organ : "");
  rcy_segment_seg_info info = {label, organ, c->r->user.name, strcmp(method, "semiautomatic_edited") == 0};
  int rc = rcy_segment_store_seg(uid, c->r->store, c->r->srv->seg_dir, c->pre_seg, segmentation, c->subject, tp,
                                 &info, &err);
  if (rc == RCY_ENOTFOUND) return rcy_reply_error(c->r, 422, "%s", err.message), -1;
  if (rc) return rcy_reply_rcy_error(c->r, &err), -1;
  memcpy(c->segs[c->n_segs++], uid, sizeof uid);
  if ((rc = rcy_store_segmentation_add(c->r->store, uid, c->subject, c->role, c->reader, &err)))
    return rcy_reply_rcy_error(c->r, &err), -1;
  json_object_set_new(segmentation, "seg_sop_instance_uid", json_string(uid));
  return 0;
}

/* Validates a client measurement, computes millimetres from the index's Pixel Spacing, renders and stores
 * the key image. Returns the stored measurement object, or NULL after replying. */
static json_t *measure(read_ctx *c, const json_t *m, const char *tp, const json_t *lesion, int fragment,
                       int nodal_target, double *diameter_out) {
  rcy_req *r = c->r;
  if (!json_is_object(m)) return rcy_reply_error(r, 400, "measurement must be an object"), NULL;
  const char *sop = json_string_value(json_object_get(m, "sop_instance_uid"));
  if (!sop || !*sop || strlen(sop) > 64) return rcy_reply_error(r, 400, "measurement.sop_instance_uid is required"), NULL;
  rcy_reads_image in;
  if (load_image(&in, c, sop, tp)) return NULL;
  rcy_error err = {0};
  const char *path = in.path;
  double p1[2], p2[2], s1[2], s2[2];
  if (get_point(r, m, "p1", &in, p1, 1) || get_point(r, m, "p2", &in, p2, 1)) return NULL;
  int n1 = get_point(r, m, "short_p1", &in, s1, 0), n2 = get_point(r, m, "short_p2", &in, s2, 0);
  if (n1 < 0 || n2 < 0) return NULL;
  int has_short = n1 == 0 && n2 == 0;
  if (n1 != n2) return rcy_reply_error(r, 400, "give both short_p1 and short_p2, or neither"), NULL;
  if (nodal_target && !has_short)
    return rcy_reply_error(r, 422, "this target is a lymph node: RECIST 1.1 records its short axis, so measure it "
                                   "with the Bidirectional tool (long and short axis), not Length"),
           NULL;
  double long_mm = rcy_reads_image_distance_mm(&in, p1, p2), short_mm = has_short ? rcy_reads_image_distance_mm(&in, s1, s2) : 0;
  if (long_mm < RCY_MIN_CALIPER_MM || (has_short && short_mm < RCY_MIN_CALIPER_MM))
    return rcy_reply_error(r, 422, "a caliper of %.2f mm measures nothing: the two ends must be at least %.1f mm apart",
                           long_mm < RCY_MIN_CALIPER_MM ? long_mm : short_mm, RCY_MIN_CALIPER_MM),
           NULL;
  /* The method and what the measurement keeps of its segmentation: the seed is segmented again and the method
   * decided from the calipers accepted (src/segment/measurement.c); the client's volume is never used. */
  json_t *mv = json_object_get(m, "method");
  if (mv && !json_is_string(mv))
    return rcy_reply_error(r, 400, "measurement.method must be manual, semiautomatic or semiautomatic_edited"), NULL;
  if (c->n_key_images == MAX_KEY_IMAGES)
    return rcy_reply_error(r, 400, "at most %d measurements per request", MAX_KEY_IMAGES), NULL;
  json_t *segmentation = NULL;
  char method[24];
  int rc = rcy_segment_measurement_info(&segmentation, method, r->store, c->subject, tp,
                                        json_object_get(m, "segmentation"), c->pre_seg, sop, p1, p2,
                                        has_short ? s1 : NULL, has_short ? s2 : NULL, json_string_value(mv), &err);
  if (rc == RCY_EINVAL) return rcy_reply_error(r, 400, "%s", err.message), NULL;
  if (rc == RCY_ENOTFOUND) return rcy_reply_error(r, 422, "%s", err.message), NULL;
  if (rc) return rcy_reply_rcy_error(r, &err), NULL;
  *diameter_out = nodal_target ? short_mm : long_mm;
  char l1[32], l2[32];
  snprintf(l1, sizeof l1, "%.1f mm", long_mm);
  snprintf(l2, sizeof l2, "%.1f mm", short_mm);
  rcy_render_caliper cal[2] = {{{p1[0], p1[1]}, {p2[0], p2[1]}, l1}, {{s1[0], s1[1]}, {s2[0], s2[1]}, l2}};
  unsigned char *png = NULL;
  size_t len = 0;
  /* The banner: trial identifiers, the value, whose read and when (never anything identifying a patient). */
  char what[160], value[120], whose[120], when[32], frag[16] = "";
  const char *lid = json_string_value(json_object_get(lesion, "lesion_id"));
  const char *organ = json_string_value(json_object_get(lesion, "organ"));
  if (fragment >= 0) snprintf(frag, sizeof frag, " fragment %c", 'a' + fragment % 26);
  snprintf(what, sizeof what, "%s%s %s%s", lid ? lid : "?", frag, organ ? organ : "",
           json_is_true(json_object_get(lesion, "nodal")) ? " (node)" : "");
  if (has_short)
    snprintf(value, sizeof value, "long %.1f mm, short %.1f mm%s", long_mm, short_mm,
             nodal_target ? " (short axis recorded)" : "");
  else snprintf(value, sizeof value, "%.1f mm longest diameter", long_mm);
  snprintf(whose, sizeof whose, "%s read: %s", c->role,
           strcmp(c->role, "site") == 0 ? r->user.name : c->reader);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  rcy_render_key_banner banner = {c->subject, tp, what, value, whose, when};
  if (rcy_render_key_image_banner_png(&png, &len, path, 0, 0, cal, has_short ? 2 : 1, &banner, &err)) {
    json_decref(segmentation);
    return rcy_reply_rcy_error(r, &err), NULL;
  }
  char url[64];
  if (keep_key_image(c, png, len, url) || (segmentation && keep_seg(c, segmentation, lesion, tp, method))) {
    json_decref(segmentation);
    return NULL;
  }
  json_t *out = json_pack("{s:s,s:[f,f],s:[f,f],s:f,s:f,s:f,s:[f,f,f],s:s}", "sop_instance_uid", sop, "p1", p1[0],
                          p1[1], "p2", p2[0], p2[1], "long_mm", long_mm, "pixel_spacing_row_mm", in.spacing_row_mm,
                          "pixel_spacing_col_mm", in.spacing_col_mm, "slice_position_mm", in.position_mm[0],
                          in.position_mm[1], in.position_mm[2],
                          "key_image_url", url);
  if (has_short) {
    json_object_set_new(out, "short_p1", json_pack("[f,f]", s1[0], s1[1]));
    json_object_set_new(out, "short_p2", json_pack("[f,f]", s2[0], s2[1]));
    json_object_set_new(out, "short_mm", json_real(short_mm));
  } else {
    json_object_set_new(out, "short_p1", json_null());
    json_object_set_new(out, "short_p2", json_null());
  }
  json_object_set_new(out, "slice_thickness_mm", in.slice_thickness_mm > 0 ? json_real(in.slice_thickness_mm) : json_null());
  /* A manual measurement carries no method (as every measurement stored before there were others). */
  if (segmentation) {
    json_object_set_new(out, "method", json_string(method));
    json_object_set_new(out, "segmentation", segmentation);
  }
  return out;
}

/* ---- lesion location: a point on an instance (non-targets and new lesions; targets have calipers) ---- */

/* Half the arm of the cross drawn on a point's key image, in image pixels. */
#define POINT_MARK_PX 8.0

/* Validates {"sop_instance_uid", "p": [col, row]}, computes the patient position in mm from the index's
 * geometry (Image Position + Orientation + Pixel Spacing: position = IPP + col·sc·row_dir + row·sr·col_dir),
 * renders the key image (a labelled cross) and returns the stored point, or NULL after replying. */
static json_t *locate(read_ctx *c, const json_t *pt, const char *tp, const char *lesion_id) {
  rcy_req *r = c->r;
  if (!json_is_object(pt)) return rcy_reply_error(r, 400, "point must be an object"), NULL;
  const char *sop = json_string_value(json_object_get(pt, "sop_instance_uid"));
  if (!sop || !*sop || strlen(sop) > 64) return rcy_reply_error(r, 400, "point.sop_instance_uid is required"), NULL;
  rcy_reads_image in;
  if (load_image(&in, c, sop, tp)) return NULL;
  if (!in.has_orientation)
    return rcy_reply_error(r, 422, "instance %s has no Pixel Spacing or Image Orientation: a point on it has no "
                                   "patient position", sop),
           NULL;
  rcy_error err = {0};
  int rc;
  const char *path = in.path;
  double p[2];
  json_t *wrap = json_pack("{s:O?}", "point", json_object_get(pt, "p"));
  rc = get_point(r, wrap, "point", &in, p, 1);
  json_decref(wrap);
  if (rc) return NULL;
  double mm[3];
  rcy_reads_image_patient_position(mm, &in, p);
  if (c->n_key_images == MAX_KEY_IMAGES)
    return rcy_reply_error(r, 400, "at most %d key images per request", MAX_KEY_IMAGES), NULL;
  rcy_render_caliper cross[2] = {{{p[0] - POINT_MARK_PX, p[1] - POINT_MARK_PX}, {p[0] + POINT_MARK_PX, p[1] + POINT_MARK_PX}, lesion_id},
                                 {{p[0] - POINT_MARK_PX, p[1] + POINT_MARK_PX}, {p[0] + POINT_MARK_PX, p[1] - POINT_MARK_PX}, NULL}};
  unsigned char *png = NULL;
  size_t len = 0;
  if (rcy_render_key_image_png(&png, &len, path, 0, 0, cross, 2, &err)) return rcy_reply_rcy_error(r, &err), NULL;
  char url[64];
  if (keep_key_image(c, png, len, url)) return NULL;
  return json_pack("{s:s,s:[f,f],s:[f,f,f],s:[f,f,f],s:s}", "sop_instance_uid", sop, "p", p[0], p[1], "position_mm",
                   mm[0], mm[1], mm[2], "slice_position_mm", in.position_mm[0], in.position_mm[1], in.position_mm[2],
                   "key_image_url", url);
}

static json_t *empty_obs(void) {
  return json_pack("{s:n,s:n,s:n,s:n,s:n}", "diameter_mm", "state", "fragments_mm", "merged_into", "measurement");
}

static int set_observation(read_ctx *c, json_t *body, const char *tp, const char *lesion_id) {
  rcy_req *r = c->r;
  json_t *l = rcy_reads_find_lesion(c->doc, lesion_id);
  if (!l) return rcy_reply_error(r, 404, "no lesion %s in this read", lesion_id);
  if (!rcy_reads_timepoint_find(&c->tps, tp)) return rcy_reply_error(r, 404, "subject %s has no timepoint %s", c->subject, tp);
  const char *kind = json_string_value(json_object_get(l, "kind"));
  int target = strcmp(kind, "target") == 0, at_bl = strcmp(tp, baseline_tp(c)) == 0;
  int nodal = json_is_true(json_object_get(l, "nodal"));
  json_t *m = json_object_get(body, "measurement"), *st = json_object_get(body, "state");
  json_t *fr = json_object_get(body, "fragments"), *mi = json_object_get(body, "merged_into");
  json_t *pt = json_object_get(body, "point");
  json_t *prev = json_object_get(json_object_get(l, "observations"), tp);
  if (pt) { /* a location: alone (the observation keeps its state) or with a state */
    if (m || fr || mi)
      return rcy_reply_error(r, 400, "\"point\" goes alone or with \"state\" (a target is placed by its calipers)");
    if (target) return rcy_reply_error(r, 422, "target %s is placed by its calipers, not by a point", lesion_id);
    if (!st && !json_is_string(json_object_get(prev, "state")))
      return rcy_reply_error(r, 422, "%s has no state at %s yet: give \"state\" with the point", lesion_id, tp);
  } else if ((m != NULL) + (st != NULL) + (fr != NULL) + (mi != NULL) != 1)
    return rcy_reply_error(r, 400, "give exactly one of \"measurement\", \"state\", \"fragments\", \"merged_into\"");
  if (strcmp(kind, "new") == 0) {
    const char *added = json_string_value(json_object_get(l, "timepoint"));
    const rcy_timepoint *a = added ? rcy_reads_timepoint_find(&c->tps, added) : NULL, *t = rcy_reads_timepoint_find(&c->tps, tp);
    if (a && t < a) return rcy_reply_error(r, 422, "new lesion %s was first seen at %s, after %s", lesion_id, added, tp);
  }
  if (at_bl && target && !m)
    return rcy_reply_error(r, 422, "baseline target %s must be measured (a state, fragments or merge is for follow-ups)",
                           lesion_id);
  if ((fr || mi) && (!target || at_bl))
    return rcy_reply_error(r, 422, "fragments and merged_into apply to target lesions at follow-ups");
  const char *reason = reason_for(c, tp, json_string_value(json_object_get(body, "reason")));
  if (!reason) return 0;
  json_t *obs = empty_obs();
  /* A point, or a measurement of a non-target or new lesion (sizes recorded for reference), locates or sizes
   * the lesion: its state stays as it was. Only a target's measurement is its assessment. */
  if ((pt || (m && !target)) && !st) json_object_set(obs, "state", json_object_get(prev, "state"));
  if (st) {
    const char *s = json_string_value(st);
    char why[200];
    int status = rcy_reads_state_rule(kind, s, at_bl, why, sizeof why);
    if (status) {
      json_decref(obs);
      return rcy_reply_error(r, (unsigned)status, "%s", why);
    }
    json_object_set_new(obs, "state", json_string(s));
  } else if (mi) {
    const char *into = json_string_value(mi);
    char why[300];
    int status = rcy_reads_merge_rule(c->doc, tp, lesion_id, into, why, sizeof why);
    if (status) {
      json_decref(obs);
      return rcy_reply_error(r, (unsigned)status, "%s", why);
    }
    json_object_set_new(obs, "merged_into", json_string(into));
  } else if (fr) {
    if (!json_is_array(fr) || json_array_size(fr) < 2 || json_array_size(fr) > 10) {
      json_decref(obs);
      return rcy_reply_error(r, 400, "fragments must be an array of 2 to 10 measurements");
    }
    json_t *mm = json_array(), *ms = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(fr, i, f) {
      double d;
      json_t *one = measure(c, f, tp, l, (int)i, nodal, &d);
      if (!one) {
        json_decref(mm), json_decref(ms), json_decref(obs);
        return 0;
      }
      json_array_append_new(mm, json_real(d));
      json_array_append_new(ms, one);
    }
    json_object_set_new(obs, "fragments_mm", mm);
    json_object_set_new(obs, "fragments", ms);
  } else if (m) {
    double d;
    json_t *one = measure(c, m, tp, l, -1, target && nodal, &d);
    if (!one) {
      json_decref(obs);
      return 0;
    }
    json_object_set_new(obs, "diameter_mm", json_real(d));
    json_object_set_new(obs, "measurement", one);
    if (at_bl)
      json_object_set_new(l, "baseline", json_pack("{s:O,s:O}", "sop_instance_uid",
                                                   json_object_get(one, "sop_instance_uid"), "slice_position_mm",
                                                   json_object_get(one, "slice_position_mm")));
  }
  /* The lesion's location at this timepoint: the new point, else the one it had (a state change keeps it). */
  if (pt) {
    json_t *where = locate(c, pt, tp, lesion_id);
    if (!where) {
      json_decref(obs);
      return 0;
    }
    json_object_set_new(obs, "point", where);
    if (at_bl)
      json_object_set_new(l, "baseline", json_pack("{s:O,s:O}", "sop_instance_uid",
                                                   json_object_get(where, "sop_instance_uid"), "slice_position_mm",
                                                   json_object_get(where, "slice_position_mm")));
  } else if (json_object_get(prev, "point"))
    json_object_set(obs, "point", json_object_get(prev, "point"));
  json_t *observations = json_object_get(l, "observations");
  json_t *before = json_incref(json_object_get(observations, tp));
  json_object_set(observations, tp, obs);
  commit(c, "observation.set", tp, lesion_id, before, obs, *reason ? reason : NULL, 200, NULL);
  json_decref(before);
  json_decref(obs);
  return 0;
}

/* A semi-automatic measurement's seed is segmented again (a second or so of decoding and ITK) before the
 * transaction, which would otherwise hold the store's write lock meanwhile; only for a caller who may change
 * this subject's read (anyone else gets open_read's answer, not a segmentation). 0, or -1 after replying. */
static int segment_before(rcy_req *r, json_t *body, const char *subject, const char *tp, rcy_segmentation **pre) {
  json_t *m = json_object_get(body, "measurement");
  const char *method = json_string_value(json_object_get(m, "method")), *role, *reader;
  if (!json_is_object(m) || !method || !rcy_reads_own_read(&r->user, &role, &reader) || !rcy_subject_visible(r, subject))
    return 0;
  rcy_error err = {0};
  int rc = rcy_segment_seed_rerun(pre, r->store, subject, tp, json_object_get(m, "segmentation"), method, &err);
  if (rc == RCY_EINVAL) return rcy_reply_error(r, 400, "%s", err.message), -1;
  if (rc == RCY_ENOTFOUND) return rcy_reply_error(r, 422, "%s", err.message), -1;
  if (rc) return rcy_reply_rcy_error(r, &err), -1;
  return 0;
}

int rcy_handle_observation_put(rcy_req *r, const char *subject, const char *tp, const char *lesion) {
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  rcy_segmentation *pre = NULL;
  if (segment_before(r, body, subject, tp, &pre)) {
    json_decref(body);
    return 0;
  }
  read_ctx c;
  if (!open_read(&c, r, subject, 1)) {
    c.pre_seg = pre;
    set_observation(&c, body, tp, lesion);
  }
  rcy_segmentation_free(pre);
  json_decref(body);
  ctx_free(&c);
  return 0;
}

/* ---- sign-off: an electronic signature ----
 * Signing and unsigning re-enter the password (checked against the store's login throttling: a wrong one
 * counts as a failed login of that account, and a locked account cannot sign either). The completeness rules
 * are the read model's (rcy_reads_sign_check). The checks run once before the password (so a reader learns
 * what is missing without typing it) and again inside the transaction that commits the signature. */

/* 0 when the change may go ahead; otherwise replies and returns the status. */
static int sign_rules(read_ctx *c, const char *tp, int sign, const char *reason) {
  rcy_req *r = c->r;
  if (!rcy_reads_timepoint_find(&c->tps, tp))
    return rcy_reply_error(r, 404, "subject %s has no timepoint %s", c->subject, tp), 404;
  json_t *s = json_object_get(json_object_get(c->doc, "signoffs"), tp);
  if (sign) {
    if (s) {
      const char *by = json_string_value(json_object_get(s, "signed_by"));
      const char *at = json_string_value(json_object_get(s, "signed_at"));
      int mine = by && strcmp(by, r->user.name) == 0;
      return rcy_reply_error(r, 409, "timepoint %s is already signed by %s at %s", tp, mine ? "you" : by ? by : "?",
                             at ? at : "?"),
             409;
    }
    char why[1200];
    int status = rcy_reads_sign_check(c->doc, &c->tps, tp, why, sizeof why);
    if (status) return rcy_reply_error(r, (unsigned)status, "%s", why), status;
    return 0;
  }
  if (!s) return rcy_reply_error(r, 409, "timepoint %s is not signed", tp), 409;
  if (!reason) return rcy_reply_error(r, 400, "reopening a signed timepoint needs a \"reason\" (text, not blank)"), 400;
  return 0;
}

int rcy_handle_sign(rcy_req *r, const char *subject, const char *tp, int sign) {
  json_t *body = r->body_len ? rcy_req_json_body(r) : json_object();
  if (!body) return 0;
  read_ctx c;
  memset(&c, 0, sizeof c);
  json_t *given = json_object_get(body, "reason"), *pw = json_object_get(body, "password");
  char reason_buf[RCY_REASON_MAX + 1];
  int has_reason = rcy_reads_reason(reason_buf, sizeof reason_buf, json_string_value(given));
  const char *reason = has_reason > 0 ? reason_buf : NULL;
  if (has_reason < 0 || (given && !json_is_string(given))) {
    rcy_reply_error(r, 400, "\"reason\" must be at most %d bytes of text without control characters",
                    RCY_REASON_MAX);
    goto out;
  }
  if (!rcy_reads_own_read(&r->user, &c.role, &c.reader)) {
    rcy_reply_error(r, 403, "role %s may look at reads but not change them", r->user.role);
    goto out;
  }
  if (!json_is_string(pw) || !*json_string_value(pw)) {
    rcy_reply_error(r, 400, "%s is an electronic signature: give your \"password\"",
                    sign ? "signing" : "reopening a signed timepoint");
    goto out;
  }
  /* First pass, without a transaction: what is missing is said before the password is checked. */
  if (open_read(&c, r, subject, 0) || sign_rules(&c, tp, sign, reason)) goto out;
  ctx_free(&c);
  memset(&c, 0, sizeof c);
  if (rcy_auth_check_password(r, json_string_value(pw), sign ? "sign" : "unsign",
                              sign ? "the timepoint was not signed" : "the timepoint was not reopened"))
    goto out;
  /* Second pass, in the transaction that commits: a parallel request (a double click) may have signed. */
  if (open_read(&c, r, subject, 1) || sign_rules(&c, tp, sign, reason)) goto out;
  json_t *signoffs = json_object_get(c.doc, "signoffs");
  if (sign) {
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *after = rcy_reads_signoff_new(r->user.name, now, RCY_SIGN_MEANING);
    json_object_set(signoffs, tp, after);
    commit(&c, "timepoint.sign", tp, NULL, NULL, after, reason, 200, NULL);
    json_decref(after);
  } else {
    json_t *before = json_incref(json_object_get(signoffs, tp));
    json_object_del(signoffs, tp);
    commit(&c, "timepoint.unsign", tp, NULL, before, NULL, reason, 200, NULL);
    json_decref(before);
  }
out:
  json_decref(body);
  ctx_free(&c);
  return 0;
}

/* ---- the reads of a subject (QA's read picker) ---- */

int rcy_handle_read_list(rcy_req *r, const char *subject) {
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  const char *own_role = NULL, *own_reader = NULL;
  int own = rcy_reads_own_read(&r->user, &own_role, &own_reader);
  json_t *reads = NULL;
  rcy_error err = {0};
  rcy_timepoint_list tps = {0};
  if (rcy_reads_of_subjects(&reads, r->store, subject, &err) || rcy_reads_timepoints_load(&tps, r->store, subject, &err)) {
    json_decref(reads);
    rcy_reads_timepoints_free(&tps);
    return rcy_reply_rcy_error(r, &err);
  }
  json_t *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(reads, i, e) {
    const char *role = json_string_value(json_object_get(e, "role")), *reader = json_string_value(json_object_get(e, "reader"));
    /* Blinding: a reader with a read of their own learns of no other read. */
    if (own && (strcmp(role, own_role) != 0 || strcmp(reader, own_reader) != 0)) continue;
    json_t *status = json_object();
    for (size_t t = 0; t < tps.n; t++)
      json_object_set_new(status, tps.items[t].timepoint,
                          json_string(rcy_reads_tp_status(json_object_get(e, "doc"), tps.items[t].timepoint)));
    json_array_append_new(out, json_pack("{s:s,s:s,s:o}", "role", role, "reader", reader, "timepoints", status));
  }
  json_decref(reads);
  rcy_reads_timepoints_free(&tps);
  return rcy_reply_json(r, 200, json_pack("{s:s,s:o}", "subject_id", subject, "reads", out));
}
