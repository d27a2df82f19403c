/* Independent central review (BICR): which central reads a subject has (R1, R2), whether they disagree on
 * what matters (the adjudication triggers), the adjudicator's signed decision, and the final central read that
 * endpoints and exports use. Every rule of the workflow is here; the HTTP handlers and `recistry
 * adjudication|concordance` only call it.
 *
 *   single: the subject's one central read (R1) is final.
 *   double: R1 and R2 read blinded to each other. Once both have signed every timepoint of the subject, the
 *           engine's results are compared: best overall response, the date of progression (a different
 *           timepoint, or more than pd_tolerance_days apart), and optionally the overall response at any
 *           timepoint. No difference: the trial's rule (final_rule, R1 by default) picks the final read. A
 *           difference: the subject waits for an adjudicator, who chooses R1, R2 or a read of their own. A
 *           decision stands while both reads stay as they were decided on (their SHA-256); a read changed
 *           afterwards sends the subject back to the queue (reason reads_changed).
 */
#include "recistry/reads.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/recist.h"

/* ---- settings ---- */

#define KEY_PARADIGM "review.paradigm"
#define KEY_TOLERANCE "review.pd_tolerance_days"
#define KEY_TRIGGER_OR "review.trigger_overall_response"
#define KEY_FINAL_RULE "review.final_rule"

static void settings_default(rcy_review_settings *s) {
  memset(s, 0, sizeof *s);
  strcpy(s->paradigm, "single");
  s->pd_tolerance_days = -1;
  strcpy(s->final_rule, "r1");
}

static int setting(char **v, rcy_store *store, const char *key, rcy_error *err) {
  int rc = rcy_store_setting_get(v, store, key, err);
  return rc == RCY_ENOTFOUND ? RCY_OK : rc;
}

int rcy_review_settings_load(rcy_review_settings *out, rcy_store *store, rcy_error *err) {
  settings_default(out);
  char *p = NULL, *t = NULL, *o = NULL, *f = NULL;
  int rc = setting(&p, store, KEY_PARADIGM, err);
  if (!rc) rc = setting(&t, store, KEY_TOLERANCE, err);
  if (!rc) rc = setting(&o, store, KEY_TRIGGER_OR, err);
  if (!rc) rc = setting(&f, store, KEY_FINAL_RULE, err);
  if (!rc) {
    if (p && (strcmp(p, "single") == 0 || strcmp(p, "double") == 0)) snprintf(out->paradigm, sizeof out->paradigm, "%s", p);
    if (t) out->pd_tolerance_days = atoi(t);
    if (o) out->trigger_overall_response = strcmp(o, "true") == 0;
    if (f && (strcmp(f, "r1") == 0 || strcmp(f, "r2") == 0)) snprintf(out->final_rule, sizeof out->final_rule, "%s", f);
  }
  free(p);
  free(t);
  free(o);
  free(f);
  return rc;
}

json_t *rcy_review_settings_to_json(const rcy_review_settings *s) {
  return json_pack("{s:s,s:i,s:b,s:s}", "paradigm", s->paradigm, "pd_tolerance_days", s->pd_tolerance_days,
                   "trigger_overall_response", s->trigger_overall_response, "final_rule", s->final_rule);
}

int rcy_review_settings_update(rcy_review_settings *out, rcy_store *store, const json_t *changes, const char *actor,
                               const char *reason, rcy_error *err) {
  rcy_review_settings before, s;
  int rc = rcy_review_settings_load(&before, store, err);
  if (rc) return rc;
  s = before;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)changes, key, v) {
    if (strcmp(key, "paradigm") == 0) {
      const char *p = json_string_value(v);
      if (!p || (strcmp(p, "single") && strcmp(p, "double")))
        return rcy_error_set(err, RCY_EINVAL, "paradigm must be \"single\" or \"double\"");
      snprintf(s.paradigm, sizeof s.paradigm, "%s", p);
    } else if (strcmp(key, "pd_tolerance_days") == 0) {
      if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > 365)
        return rcy_error_set(err, RCY_EINVAL,
                             "pd_tolerance_days must be a whole number of days from 0 to 365, or -1 (a different "
                             "timepoint triggers)");
      s.pd_tolerance_days = (int)json_integer_value(v);
    } else if (strcmp(key, "trigger_overall_response") == 0) {
      if (!json_is_boolean(v)) return rcy_error_set(err, RCY_EINVAL, "trigger_overall_response must be true or false");
      s.trigger_overall_response = json_is_true(v);
    } else if (strcmp(key, "final_rule") == 0) {
      const char *f = json_string_value(v);
      if (!f || (strcmp(f, "r1") && strcmp(f, "r2")))
        return rcy_error_set(err, RCY_EINVAL, "final_rule must be \"r1\" or \"r2\"");
      snprintf(s.final_rule, sizeof s.final_rule, "%s", f);
    } else {
      return rcy_error_set(err, RCY_EINVAL,
                           "unknown setting '%s' (paradigm, pd_tolerance_days, trigger_overall_response, final_rule)",
                           key);
    }
  }
  char why[RCY_REASON_MAX + 1];
  if (rcy_reads_reason(why, sizeof why, reason) != 1)
    return rcy_error_set(err, RCY_EINVAL, "a reason is required for changing the review settings (plain text, at most %d bytes)",
                         RCY_REASON_MAX);
  json_t *jb = rcy_review_settings_to_json(&before), *ja = rcy_review_settings_to_json(&s);
  char *tb = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS), *ta = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
  char tol[16];
  snprintf(tol, sizeof tol, "%d", s.pd_tolerance_days);
  rcy_audit_entry a = {.actor = actor, .action = "review.settings", .before_json = tb, .after_json = ta, .reason = why};
  rc = rcy_store_begin(store, err);
  if (!rc) rc = rcy_store_setting_set(store, KEY_PARADIGM, s.paradigm, err);
  if (!rc) rc = rcy_store_setting_set(store, KEY_TOLERANCE, tol, err);
  if (!rc) rc = rcy_store_setting_set(store, KEY_TRIGGER_OR, s.trigger_overall_response ? "true" : "false", err);
  if (!rc) rc = rcy_store_setting_set(store, KEY_FINAL_RULE, s.final_rule, err);
  if (!rc) rc = rcy_store_audit_append(store, &a, err);
  if (!rc) rc = rcy_store_commit(store, err);
  else rcy_store_rollback(store);
  free(tb);
  free(ta);
  json_decref(jb);
  json_decref(ja);
  if (!rc && out) *out = s;
  return rc;
}

/* ---- who read a subject ---- */

static int add_assigned(void *ctx, const rcy_store_assignment *a) {
  json_array_append_new(ctx, json_string(a->reader));
  return 0;
}

static int add_read(void *ctx, const char *subject, const char *role, const char *reader, const char *doc) {
  (void)subject, (void)role, (void)doc;
  json_t *names = ctx;
  size_t i;
  json_t *n;
  json_array_foreach(names, i, n) if (strcmp(json_string_value(n), reader) == 0) return 0;
  json_array_append_new(names, json_string(reader));
  return 0;
}

/* Names of central accounts among names (assignments also name adjudicators: they are not R1/R2). */
static int keep_central(json_t *names, rcy_store *store, rcy_error *err) {
  for (size_t i = 0; i < json_array_size(names);) {
    char *role = NULL;
    int rc = rcy_store_user_role(&role, store, json_string_value(json_array_get(names, i)));
    if (rc != RCY_OK && rc != RCY_ENOTFOUND) {
      free(role);
      return rcy_error_set(err, rc, "reading an account's role failed");
    }
    int central = rc == RCY_OK && role && strcmp(role, "central") == 0;
    free(role);
    if (!central) json_array_remove(names, i);
    else i++;
  }
  return RCY_OK;
}

int rcy_review_readers(json_t **out, rcy_store *store, const char *subject, rcy_error *err) {
  json_t *names = json_array();
  int rc = rcy_store_subject_assignments_each(store, subject, add_assigned, names, err);
  if (!rc) rc = keep_central(names, store, err);
  /* Then readers with a read who were never assigned (imports, archives that do not assign), oldest first. */
  if (!rc) rc = rcy_store_subject_reads_each(store, subject, "central", add_read, names, err);
  if (rc) {
    json_decref(names);
    return rc;
  }
  *out = names;
  return RCY_OK;
}

/* ---- one subject's review ---- */

typedef struct one_read {
  const char *reader; /* NULL: none */
  char *text;         /* stored document */
  json_t *doc, *result;
  char sha256[65];
  int complete; /* every timepoint of the subject signed */
  char *engine_error;
} one_read;

static void one_read_free(one_read *r) {
  free(r->text);
  json_decref(r->doc);
  json_decref(r->result);
  free(r->engine_error);
}

static int all_signed(const json_t *doc, const rcy_timepoint_list *tps) {
  json_t *signoffs = json_object_get(doc, "signoffs");
  if (!tps->n) return 0;
  for (size_t i = 0; i < tps->n; i++)
    if (!json_object_get(signoffs, tps->items[i].timepoint)) return 0;
  return 1;
}

static int load_read(one_read *r, rcy_store *store, const char *subject, const char *role, const char *reader,
                     const rcy_timepoint_list *tps, rcy_error *err) {
  memset(r, 0, sizeof *r);
  r->reader = reader;
  if (!reader) return RCY_OK;
  int rc = rcy_store_read_get(&r->text, store, subject, role, reader, err);
  if (rc == RCY_ENOTFOUND) return RCY_OK;
  if (rc) return rc;
  rcy_store_sha256_text(r->sha256, r->text);
  r->doc = json_loads(r->text, 0, NULL);
  if (!r->doc) return rcy_error_set(err, RCY_EINTERNAL, "the stored %s read of %s by %s is not JSON", role, subject, reader);
  r->complete = all_signed(r->doc, tps);
  json_t *in = rcy_reads_engine_input_timed(NULL, store, subject, r->doc, tps, NULL);
  if (in) rcy_reads_engine_run(&r->result, &r->engine_error, in);
  json_decref(in);
  return RCY_OK;
}

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static int32_t days_of(const char *iso) {
  int32_t d = 0;
  rcy_error e = {0};
  return iso && rcy_recist_date_parse(&d, iso, &e) == 0 ? d : 0;
}

static int same_str(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The triggers between two engine results (settings s): reasons (array of strings) and what differs. */
static void compare(json_t *reasons, json_t *diff, const json_t *a, const json_t *b, const rcy_review_settings *s) {
  const char *bor_a = str(a, "best_overall_response"), *bor_b = str(b, "best_overall_response");
  if (!same_str(bor_a, bor_b)) {
    json_array_append_new(reasons, json_string("bor_differs"));
    json_object_set_new(diff, "bor", json_pack("[s?,s?]", bor_a, bor_b));
  }
  json_t *pa = json_object_get(a, "progression"), *pb = json_object_get(b, "progression");
  const char *ta = json_is_object(pa) ? str(pa, "timepoint") : NULL, *tb = json_is_object(pb) ? str(pb, "timepoint") : NULL;
  const char *da = json_is_object(pa) ? str(pa, "date") : NULL, *db = json_is_object(pb) ? str(pb, "date") : NULL;
  int differs;
  if (!ta || !tb) differs = !same_str(ta, tb);
  else if (s->pd_tolerance_days < 0) differs = strcmp(ta, tb) != 0;
  else differs = abs(days_of(da) - days_of(db)) > s->pd_tolerance_days;
  if (differs) {
    json_array_append_new(reasons, json_string("pd_timepoint_differs"));
    json_object_set_new(diff, "progression", json_pack("[{s:s?,s:s?},{s:s?,s:s?}]", "timepoint", ta, "date", da,
                                                       "timepoint", tb, "date", db));
  }
  json_t *tps = json_array();
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(a, "timepoints"), i, t) {
    const char *label = str(t, "timepoint"), *ra = str(t, "overall_response");
    size_t k;
    json_t *u;
    json_array_foreach(json_object_get(b, "timepoints"), k, u) {
      if (!label || !same_str(label, str(u, "timepoint"))) continue;
      const char *rb = str(u, "overall_response");
      if (!same_str(ra, rb)) json_array_append_new(tps, json_pack("{s:s,s:s?,s:s?}", "timepoint", label, "r1", ra, "r2", rb));
    }
  }
  if (json_array_size(tps)) {
    if (s->trigger_overall_response) json_array_append_new(reasons, json_string("overall_response_differs"));
    json_object_set(diff, "overall_response", tps);
  }
  json_decref(tps);
}

typedef struct latest_ctx {
  json_t *row;
} latest_ctx;

static int keep_latest(void *ctx, const rcy_store_adjudication *a) {
  latest_ctx *c = ctx;
  json_decref(c->row);
  c->row = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)a->seq, "outcome", a->outcome,
                     "read_role", a->read_role, "read_reader", a->read_reader, "reason", a->reason, "adjudicator",
                     a->adjudicator, "signed_at", a->signed_at, "meaning", a->meaning, "r1_reader", a->r1_reader,
                     "r1_sha256", a->r1_sha256, "r2_reader", a->r2_reader, "r2_sha256", a->r2_sha256);
  json_t *triggers = json_loads(a->triggers, 0, NULL);
  json_object_set_new(c->row, "triggers", triggers ? triggers : json_array());
  return 0;
}

static json_t *final_read(const char *role, const char *reader, const char *basis) {
  return json_pack("{s:s,s:s,s:s}", "role", role, "reader", reader, "basis", basis);
}

/* Whether the adjudicator's own read of subject is complete (a decision "own" needs it). */
static int own_read_complete(rcy_store *store, const char *subject, const char *adjudicator,
                             const rcy_timepoint_list *tps) {
  char *text = NULL;
  if (rcy_store_read_get(&text, store, subject, "adjudicator", adjudicator, NULL)) return 0;
  json_t *doc = json_loads(text, 0, NULL);
  free(text);
  int ok = doc && all_signed(doc, tps);
  json_decref(doc);
  return ok;
}

int rcy_review_subject(json_t **out, rcy_store *store, const rcy_review_settings *s, const char *subject,
                       rcy_error *err) {
  *out = NULL;
  rcy_timepoint_list tps = {0};
  json_t *readers = NULL;
  one_read r1 = {0}, r2 = {0};
  latest_ctx latest = {NULL};
  int dbl = strcmp(s->paradigm, "double") == 0;
  int rc = rcy_reads_timepoints_load(&tps, store, subject, err);
  if (!rc) rc = rcy_review_readers(&readers, store, subject, err);
  if (!rc) rc = load_read(&r1, store, subject, "central", json_string_value(json_array_get(readers, 0)), &tps, err);
  if (!rc && dbl) rc = load_read(&r2, store, subject, "central", json_string_value(json_array_get(readers, 1)), &tps, err);
  if (!rc && dbl) rc = rcy_store_adjudications_latest(store, subject, keep_latest, &latest, err);
  if (rc) goto done;

  json_t *state = json_pack("{s:s,s:s,s:{s:s?,s:s?},s:O}", "subject_id", subject, "paradigm", s->paradigm, "readers",
                            "r1", r1.reader, "r2", r2.reader, "central_readers", readers);
  json_t *reasons = json_array(), *diff = json_object();
  json_object_set_new(state, "complete", json_pack("{s:b,s:b}", "r1", r1.doc && r1.complete, "r2", r2.doc && r2.complete));
  const char *status;
  json_t *final = json_null();
  if (!dbl) {
    status = "single";
    if (r1.doc) final = final_read("central", r1.reader, "single");
  } else if (!r1.doc || !r2.doc || !r1.complete || !r2.complete || !r1.result || !r2.result) {
    status = "awaiting_reads";
  } else {
    compare(reasons, diff, r1.result, r2.result, s);
    json_t *d = latest.row;
    int decided_on_these = d && same_str(str(d, "r1_reader"), r1.reader) && same_str(str(d, "r2_reader"), r2.reader) &&
                           same_str(str(d, "r1_sha256"), r1.sha256) && same_str(str(d, "r2_sha256"), r2.sha256);
    const char *outcome = d ? str(d, "outcome") : NULL;
    int own_ok = !outcome || strcmp(outcome, "own") != 0 ||
                 own_read_complete(store, subject, str(d, "read_reader"), &tps);
    if (!json_array_size(reasons)) {
      status = "agreed";
      int second = strcmp(s->final_rule, "r2") == 0;
      final = final_read("central", second ? r2.reader : r1.reader, second ? "rule_r2" : "rule_r1");
    } else if (d && decided_on_these && own_ok) {
      status = "adjudicated";
      final = final_read(str(d, "read_role"), str(d, "read_reader"), "adjudicated");
    } else if (d) {
      status = "stale";
      json_array_append_new(reasons, json_string("reads_changed"));
    } else {
      status = "triggered";
    }
  }
  json_object_set_new(state, "status", json_string(status));
  json_object_set_new(state, "reasons", reasons);
  json_object_set_new(state, "differences", diff);
  json_object_set_new(state, "final", final);
  json_object_set(state, "adjudication", latest.row ? latest.row : json_null());
  json_t *res = json_object();
  if (r1.result) json_object_set(res, "r1", r1.result);
  if (r2.result) json_object_set(res, "r2", r2.result);
  json_object_set_new(state, "results", res);
  *out = state;
done:
  json_decref(latest.row);
  json_decref(readers);
  one_read_free(&r1);
  one_read_free(&r2);
  rcy_reads_timepoints_free(&tps);
  return rc;
}

/* Subjects with studies in the archive, in order. */
typedef struct subject_list {
  json_t *ids;
} subject_list;

static int add_subject(void *ctx, const rcy_store_study *study) {
  json_t *ids = ctx;
  size_t n = json_array_size(ids);
  if (!study->subject_id) return 0;
  if (n && strcmp(json_string_value(json_array_get(ids, n - 1)), study->subject_id) == 0) return 0;
  json_array_append_new(ids, json_string(study->subject_id));
  return 0;
}

int rcy_review_each(rcy_store *store, const rcy_review_settings *s,
                    int (*fn)(void *ctx, const json_t *state, rcy_error *err), void *ctx, rcy_error *err) {
  json_t *ids = json_array();
  int rc = rcy_store_studies_each(store, NULL, add_subject, ids, err);
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    if (rc) break;
    json_t *state = NULL;
    rc = rcy_review_subject(&state, store, s, json_string_value(id), err);
    if (!rc) rc = fn(ctx, state, err);
    json_decref(state);
  }
  json_decref(ids);
  return rc;
}

static int add_to_queue(void *ctx, const json_t *state, rcy_error *err) {
  (void)err;
  const char *status = str(state, "status");
  if (strcmp(status, "triggered") == 0 || strcmp(status, "stale") == 0)
    json_array_append_new(ctx, json_pack("{s:O,s:O,s:O,s:O}", "subject_id", json_object_get(state, "subject_id"),
                                         "reasons", json_object_get(state, "reasons"), "readers",
                                         json_object_get(state, "readers"), "status", json_object_get(state, "status")));
  return 0;
}

int rcy_review_queue(json_t **out, rcy_store *store, const rcy_review_settings *s, rcy_error *err) {
  json_t *q = json_array();
  int rc = strcmp(s->paradigm, "double") == 0 ? rcy_review_each(store, s, add_to_queue, q, err) : RCY_OK;
  if (rc) {
    json_decref(q);
    return rc;
  }
  *out = q;
  return RCY_OK;
}

int rcy_review_final_read(char role[16], char reader[RCY_NAME_MAX + 1], rcy_store *store, const rcy_review_settings *s,
                          const char *subject, rcy_error *err) {
  json_t *state = NULL;
  int rc = rcy_review_subject(&state, store, s, subject, err);
  if (rc) return rc;
  json_t *f = json_object_get(state, "final");
  if (json_is_object(f)) {
    snprintf(role, 16, "%s", str(f, "role"));
    snprintf(reader, RCY_NAME_MAX + 1, "%s", str(f, "reader"));
  } else {
    rc = RCY_ENOTFOUND;
  }
  json_decref(state);
  return rc;
}

/* ---- the decision ---- */

static void now_iso(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int rcy_review_adjudicate(json_t **state_out, rcy_store *store, const rcy_user *user, const char *subject,
                          const char *outcome, const char *reason, rcy_error *err) {
  if (strcmp(user->role, "adjudicator") != 0)
    return rcy_error_set(err, RCY_EDENIED, "only an adjudicator decides which central read stands");
  if (!outcome || (strcmp(outcome, "r1") && strcmp(outcome, "r2") && strcmp(outcome, "own")))
    return rcy_error_set(err, RCY_EINVAL, "outcome must be \"r1\", \"r2\" or \"own\" (your own read)");
  char why[RCY_REASON_MAX + 1];
  int rr = rcy_reads_reason(why, sizeof why, reason);
  if (rr != 1)
    return rcy_error_set(err, RCY_EINVAL, rr < 0 ? "the reason is too long or holds control characters"
                                                 : "a reason is required: say why this read stands");
  rcy_review_settings s;
  int rc = rcy_review_settings_load(&s, store, err);
  if (rc) return rc;
  if (strcmp(s.paradigm, "double") != 0)
    return rcy_error_set(err, RCY_ECONFLICT, "the archive reads single: there is nothing to adjudicate");
  rc = rcy_store_begin(store, err); /* the decision is made on the reads as they are in this transaction */
  if (rc) return rc;
  json_t *state = NULL;
  rc = rcy_review_subject(&state, store, &s, subject, err);
  const char *status = rc ? NULL : str(state, "status");
  if (!rc && strcmp(status, "triggered") && strcmp(status, "stale") && strcmp(status, "adjudicated"))
    rc = rcy_error_set(err, RCY_ECONFLICT, "subject %s is not waiting for adjudication (%s)", subject, status);
  rcy_timepoint_list tps = {0};
  if (!rc && strcmp(outcome, "own") == 0) {
    rc = rcy_reads_timepoints_load(&tps, store, subject, err);
    if (!rc && !own_read_complete(store, subject, user->name, &tps))
      rc = rcy_error_set(err, RCY_ECONFLICT,
                         "your own read of %s must have every timepoint signed before it can stand", subject);
  }
  char *r1_text = NULL, *r2_text = NULL;
  const char *r1 = rc ? NULL : str(json_object_get(state, "readers"), "r1");
  const char *r2 = rc ? NULL : str(json_object_get(state, "readers"), "r2");
  if (!rc) rc = rcy_store_read_get(&r1_text, store, subject, "central", r1, err);
  if (!rc) rc = rcy_store_read_get(&r2_text, store, subject, "central", r2, err);
  if (!rc) {
    char h1[65], h2[65], at[32];
    rcy_store_sha256_text(h1, r1_text);
    rcy_store_sha256_text(h2, r2_text);
    now_iso(at, sizeof at);
    json_t *reasons = json_object_get(state, "reasons");
    json_t *triggers = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(reasons, i, t) if (strcmp(json_string_value(t), "reads_changed")) json_array_append(triggers, t);
    char *trig = json_dumps(triggers, JSON_COMPACT);
    json_decref(triggers);
    const char *read_role = strcmp(outcome, "own") == 0 ? "adjudicator" : "central";
    const char *read_reader = strcmp(outcome, "r1") == 0 ? r1 : strcmp(outcome, "r2") == 0 ? r2 : user->name;
    rcy_store_adjudication a = {0, subject, outcome, read_role, read_reader, trig, why, user->name, at,
                                RCY_ADJUDICATION_MEANING, r1, h1, r2, h2};
    json_t *before = json_object_get(state, "adjudication");
    char *tb = json_is_object(before) ? json_dumps(before, JSON_COMPACT) : NULL;
    json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "outcome", outcome, "read_role", read_role, "read_reader",
                              read_reader, "triggers", trig, "signed_at", at, "meaning", RCY_ADJUDICATION_MEANING);
    char *ta = json_dumps(after, JSON_COMPACT);
    rcy_audit_entry audit = {.actor = user->name, .action = "adjudication.decide", .subject_id = subject,
                             .read_role = read_role, .reader = read_reader, .before_json = tb, .after_json = ta,
                             .reason = why};
    rc = rcy_store_adjudication_add(store, &a, &audit, err);
    json_decref(after);
    free(ta);
    free(tb);
    free(trig);
  }
  free(r1_text);
  free(r2_text);
  rcy_reads_timepoints_free(&tps);
  json_decref(state);
  state = NULL;
  if (!rc) rc = rcy_store_commit(store, err);
  else rcy_store_rollback(store);
  if (!rc && state_out) rc = rcy_review_subject(state_out, store, &s, subject, err);
  return rc;
}
