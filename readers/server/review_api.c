/* Independent central review in the workstation: the archive's review settings, the adjudication queue, the
 * side-by-side of a subject's two central reads, and the adjudicator's signed decision. The rules (who may
 * see which read, what triggers, what a decision stores) are in src/reads/review.c and visibility.c; these
 * handlers parse, check the session's role, call and reply. Blinding: an adjudicator reaches a subject's
 * central reads only once it waits for adjudication or has been adjudicated, and learns nothing about them
 * before; central and site readers never reach this API. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

static int is_role(const rcy_req *r, const char *role) { return strcmp(r->user.role, role) == 0; }
static int overseer(const rcy_req *r) { return is_role(r, "qa") || is_role(r, "admin"); }

static int load_settings(rcy_req *r, rcy_review_settings *s) {
  rcy_error err = {0};
  if (rcy_review_settings_load(s, r->store, &err)) return rcy_reply_rcy_error(r, &err), -1;
  return 0;
}

/* ---- settings ---- */

int rcy_handle_review_settings_get(rcy_req *r) {
  if (is_role(r, "site")) return rcy_reply_error(r, 403, "site users do not take part in central review");
  rcy_review_settings s;
  if (load_settings(r, &s)) return 0;
  return rcy_reply_json(r, 200, rcy_review_settings_to_json(&s));
}

int rcy_handle_review_settings_put(rcy_req *r) {
  if (!is_role(r, "admin")) return rcy_reply_error(r, 403, "only an admin changes the central review settings");
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  json_t *reason = json_object_get(body, "reason");
  if (reason && !json_is_string(reason)) {
    json_decref(body);
    return rcy_reply_error(r, 400, "\"reason\" must be text");
  }
  json_t *changes = json_deep_copy(body);
  json_object_del(changes, "reason");
  rcy_review_settings s;
  rcy_error err = {0};
  int rc = rcy_review_settings_update(&s, r->store, changes, r->user.name, json_string_value(reason), &err);
  if (rc == RCY_EINVAL) rcy_reply_error(r, 400, "%s", err.message);
  else if (rc) rcy_reply_rcy_error(r, &err);
  else rcy_reply_json(r, 200, rcy_review_settings_to_json(&s));
  json_decref(changes);
  json_decref(body);
  return 0;
}

/* ---- the queue ---- */

static int may_adjudicate_or_oversee(rcy_req *r) {
  if (is_role(r, "adjudicator") || overseer(r)) return 1;
  rcy_reply_error(r, 403, "only adjudicators, QA and admins see the adjudication queue");
  return 0;
}

int rcy_handle_adjudication_queue(rcy_req *r) {
  if (!may_adjudicate_or_oversee(r)) return 0;
  rcy_review_settings s;
  if (load_settings(r, &s)) return 0;
  json_t *queue = NULL;
  rcy_error err = {0};
  if (rcy_review_queue(&queue, r->store, &s, &err)) return rcy_reply_rcy_error(r, &err);
  return rcy_reply_json(r, 200, json_pack("{s:s,s:o}", "paradigm", s.paradigm, "queue", queue));
}

/* ---- the side-by-side ---- */

static int open_status(const char *status) {
  return status && (strcmp(status, "triggered") == 0 || strcmp(status, "stale") == 0 ||
                    strcmp(status, "adjudicated") == 0);
}

/* The API view of one read, or null when the reader has none; *doc_out (may be NULL) keeps the document. */
static json_t *view_of(rcy_req *r, const char *subject, const char *role, const char *reader,
                       const rcy_timepoint_list *tps, json_t **doc_out, rcy_error *err) {
  if (doc_out) *doc_out = NULL;
  if (!reader) return json_null();
  char *text = NULL;
  if (rcy_store_read_get(&text, r->store, subject, role, reader, NULL)) return json_null();
  free(text);
  json_t *doc = NULL;
  if (rcy_reads_load(&doc, r->store, subject, role, reader, err)) return NULL;
  json_t *v = rcy_reads_view(r->store, subject, role, reader, doc, tps);
  if (doc_out) *doc_out = doc;
  else json_decref(doc);
  return v;
}

int rcy_handle_adjudication_get(rcy_req *r, const char *subject) {
  if (!may_adjudicate_or_oversee(r)) return 0;
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  rcy_review_settings s;
  if (load_settings(r, &s)) return 0;
  json_t *state = NULL, *r1doc = NULL, *r2doc = NULL, *v1 = NULL, *v2 = NULL, *own = NULL, *matches = NULL;
  rcy_timepoint_list tps = {0};
  rcy_error err = {0};
  if (rcy_review_subject(&state, r->store, &s, subject, &err)) return rcy_reply_rcy_error(r, &err);
  /* Before anything of the reads is put in the reply: an adjudicator gets nothing, not even the status, of a
   * subject that does not wait for them. */
  if (is_role(r, "adjudicator") && !open_status(json_string_value(json_object_get(state, "status")))) {
    json_decref(state);
    return rcy_reply_error(r, 404, "subject %s is not waiting for adjudication", subject);
  }
  json_t *readers = json_object_get(state, "readers");
  const char *n1 = json_string_value(json_object_get(readers, "r1"));
  const char *n2 = json_string_value(json_object_get(readers, "r2"));
  int rc = rcy_reads_timepoints_load(&tps, r->store, subject, &err);
  if (!rc && !(v1 = view_of(r, subject, "central", n1, &tps, &r1doc, &err))) rc = -1;
  if (!rc && !(v2 = view_of(r, subject, "central", n2, &tps, &r2doc, &err))) rc = -1;
  if (!rc && r1doc && r2doc) rc = rcy_review_match_lesions(&matches, r->store, subject, r1doc, r2doc, &err);
  /* The adjudicator's own read; for QA and admin, the adjudicator's read that was chosen, if any. */
  const char *own_reader = NULL;
  json_t *adj = json_object_get(state, "adjudication");
  if (is_role(r, "adjudicator")) own_reader = r->user.name;
  else if (json_is_object(adj) && strcmp(json_string_value(json_object_get(adj, "outcome")), "own") == 0)
    own_reader = json_string_value(json_object_get(adj, "read_reader"));
  if (!rc && !(own = view_of(r, subject, "adjudicator", own_reader, &tps, NULL, &err))) rc = -1;
  if (rc) {
    rcy_reply_rcy_error(r, &err);
    json_decref(state);
    json_decref(v1);
    json_decref(v2);
  } else {
    json_t *out = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:s}", "review", state, "settings",
                            rcy_review_settings_to_json(&s), "r1", v1, "r2", v2, "own", own, "matches",
                            matches ? matches : json_array(), "meaning", RCY_ADJUDICATION_MEANING);
    matches = NULL;
    rcy_reply_json(r, 200, out);
  }
  json_decref(matches);
  json_decref(r1doc);
  json_decref(r2doc);
  rcy_reads_timepoints_free(&tps);
  return 0;
}

/* ---- the decision ---- */

int rcy_handle_adjudication_post(rcy_req *r, const char *subject) {
  if (!is_role(r, "adjudicator"))
    return rcy_reply_error(r, 403, "only an adjudicator decides which central read stands");
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  json_t *outcome = json_object_get(body, "outcome"), *reason = json_object_get(body, "reason"),
         *pw = json_object_get(body, "password");
  char why[RCY_REASON_MAX + 1];
  int has_reason = json_is_string(reason) ? rcy_reads_reason(why, sizeof why, json_string_value(reason)) : 0;
  if (!json_is_string(outcome)) {
    rcy_reply_error(r, 400, "\"outcome\" must be \"r1\", \"r2\" or \"own\" (your own read)");
  } else if ((reason && !json_is_string(reason)) || has_reason < 0) {
    rcy_reply_error(r, 400, "\"reason\" must be at most %d bytes of text without control characters", RCY_REASON_MAX);
  } else if (!has_reason) {
    rcy_reply_error(r, 422, "a reason is required: say why this read stands");
  } else if (!json_is_string(pw) || !*json_string_value(pw)) {
    rcy_reply_error(r, 400, "the decision is an electronic signature: give your \"password\"");
  } else if (!rcy_auth_check_password(r, json_string_value(pw), "adjudicate", "the decision was not recorded")) {
    json_t *state = NULL;
    rcy_error err = {0};
    int rc = rcy_review_adjudicate(&state, r->store, &r->user, subject, json_string_value(outcome), why, &err);
    if (rc == RCY_EINVAL) rcy_reply_error(r, 422, "%s", err.message);
    else if (rc == RCY_ECONFLICT) rcy_reply_error(r, 409, "%s", err.message);
    else if (rc == RCY_EDENIED) rcy_reply_error(r, 403, "%s", err.message);
    else if (rc) rcy_reply_rcy_error(r, &err);
    else rcy_reply_json(r, 200, json_pack("{s:o}", "review", state));
  }
  json_decref(body);
  return 0;
}
