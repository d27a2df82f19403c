/* The read document and what is derived from it.
 *
 * Stored document (one per subject, role, reader):
 *   {"lesions": [{"lesion_id", "kind": target|non_target|new, "organ", "nodal", "timepoint" (where added),
 *                 "baseline": {"sop_instance_uid", "slice_position_mm"} | null,
 *                 "observations": {"<tp>": {"diameter_mm", "state", "fragments_mm", "merged_into",
 *                                           "measurement", "fragments"}}}],
 *      a measurement: {"sop_instance_uid", "p1", "p2", "short_p1", "short_p2", "long_mm", "short_mm", …,
 *                      "method": semiautomatic|semiautomatic_edited (absent: manual),
 *                      "segmentation": {"seed", "volume_ml", …} (semi-automatic only; src/segment/measurement.c)}
 *    "signoffs": {"<tp>": {"signed_by", "signed_at", "meaning"}},   (signoff.c; "meaning" absent in old reads)
 *    "dates": {"<tp>": "YYYY-MM-DD"}        (imported reads of timepoints not in the archive)
 *    "treatment_start": "YYYY-MM-DD"}       (optional, imports)
 * From it: the API view (GET /api/reads/{subject}), the engine input (shared/spec/recist-engine.md), and
 * the baseline rule warnings. The engine's output is shown as is: nothing here recomputes a response. */
#include "recistry/reads.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *rcy_reads_find_lesion(const json_t *doc, const char *lesion_id) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    const char *id = json_string_value(json_object_get(l, "lesion_id"));
    if (id && strcmp(id, lesion_id) == 0) return l;
  }
  return NULL;
}

int rcy_reads_load(json_t **doc_out, rcy_store *store, const char *subject, const char *role, const char *reader,
                  rcy_error *err) {
  char *text = NULL;
  int rc = rcy_store_read_get(&text, store, subject, role, reader, err);
  if (rc == RCY_ENOTFOUND) {
    *doc_out = json_pack("{s:[],s:{}}", "lesions", "signoffs");
    return *doc_out ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  if (rc) return rc;
  json_error_t je;
  *doc_out = json_loads(text, 0, &je);
  free(text);
  if (!json_is_object(*doc_out)) {
    json_decref(*doc_out);
    *doc_out = NULL;
    return rcy_error_set(err, RCY_EINTERNAL, "stored %s read of %s is not valid JSON: %s", role, subject, je.text);
  }
  if (!json_is_array(json_object_get(*doc_out, "lesions"))) json_object_set_new(*doc_out, "lesions", json_array());
  if (!json_is_object(json_object_get(*doc_out, "signoffs")))
    json_object_set_new(*doc_out, "signoffs", json_object());
  return RCY_OK;
}

int rcy_reads_save(rcy_store *store, const char *subject, const char *role, const char *reader, const json_t *doc,
                  const rcy_audit_entry *audit, rcy_error *err) {
  char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  int rc = rcy_store_read_put(store, subject, role, reader, text, audit, err);
  free(text);
  return rc;
}

const char *rcy_reads_tp_status(const json_t *doc, const char *timepoint) {
  if (!doc) return "to_read";
  if (json_object_get(json_object_get(doc, "signoffs"), timepoint)) return "signed";
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    if (json_object_get(json_object_get(l, "observations"), timepoint)) return "in_progress";
    const char *added = json_string_value(json_object_get(l, "timepoint"));
    if (added && strcmp(added, timepoint) == 0) return "in_progress";
  }
  return "to_read";
}

/* ---- timepoints in order: the archive's studies, then dates the document itself carries ---- */

typedef struct {
  const char *timepoint, *date;
} tp_date;

static int by_date(const void *a, const void *b) {
  const tp_date *x = a, *y = b;
  return strcmp(x->date, y->date);
}

/* Ordered (timepoint, date) pairs; caller frees *out. */
static size_t ordered_timepoints(tp_date **out, const json_t *doc, const rcy_timepoint_list *tps) {
  json_t *dates = json_object_get(doc, "dates");
  size_t cap = tps->n + json_object_size(dates), n = 0;
  tp_date *v = calloc(cap ? cap : 1, sizeof *v);
  if (!v) {
    *out = NULL;
    return 0;
  }
  for (size_t i = 0; i < tps->n; i++) v[n++] = (tp_date){tps->items[i].timepoint, tps->items[i].date};
  const char *k;
  json_t *d;
  json_object_foreach(dates, k, d) {
    if (!rcy_reads_timepoint_find(tps, k) && json_is_string(d)) v[n++] = (tp_date){k, json_string_value(d)};
  }
  /* The archive's list is already in date order; a stable merge of imported dates keeps it. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && by_date(&v[j - 1], &v[j]) > 0; j--) {
      tp_date t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  *out = v;
  return n;
}

/* ---- rules ---- */

static int is_kind(const json_t *l, const char *kind) {
  const char *k = json_string_value(json_object_get(l, "kind"));
  return k && strcmp(k, kind) == 0;
}

static void warn(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(json_t *warnings, const char *fmt, ...) {
  if (!warnings) return;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_array_append_new(warnings, json_string(msg));
}

/* RECIST counts all lymph nodes as one organ. */
static const char *organ_key(const json_t *l) {
  if (json_is_true(json_object_get(l, "nodal"))) return "lymph node";
  const char *o = json_string_value(json_object_get(l, "organ"));
  return o ? o : "";
}

int rcy_reads_merge_rule(const json_t *doc, const char *tp, const char *lesion_id, const char *into, char *msg,
                        size_t size) {
  const json_t *from = rcy_reads_find_lesion(doc, lesion_id), *to = into ? rcy_reads_find_lesion(doc, into) : NULL;
  if (!to || !is_kind(to, "target") || strcmp(into, lesion_id) == 0) {
    snprintf(msg, size, "%s can only be merged into another target lesion of this read", lesion_id);
    return 422;
  }
  /* The engine's rule (docs/recist.md, "Merges"): lesions coalesce within one organ, all nodes being one. */
  if (!from || strcmp(organ_key(from), organ_key(to)) != 0) {
    snprintf(msg, size, "%s (%s) cannot be merged into %s (%s): lesions coalesce within one organ", lesion_id,
             from ? organ_key(from) : "?", into, organ_key(to));
    return 422;
  }
  const char *to_merged = json_string_value(
      json_object_get(json_object_get(json_object_get(to, "observations"), tp), "merged_into"));
  if (to_merged) {
    snprintf(msg, size, "%s is itself merged into %s at %s: merge %s into %s instead", into, to_merged, tp,
             lesion_id, to_merged);
    return 422;
  }
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    const char *m = json_string_value(
        json_object_get(json_object_get(json_object_get(l, "observations"), tp), "merged_into"));
    if (m && strcmp(m, lesion_id) == 0) {
      snprintf(msg, size, "%s has %s merged into it at %s: a lesion others merge into cannot be merged itself",
               lesion_id, json_string_value(json_object_get(l, "lesion_id")), tp);
      return 422;
    }
  }
  return 0;
}

void rcy_reads_rule_warnings(const json_t *doc, const char *baseline_tp, json_t *warnings) {
  size_t i, n_targets = 0;
  json_t *l, *per_organ = json_object();
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    if (!is_kind(l, "target")) continue;
    n_targets++;
    const char *organ = organ_key(l);
    json_int_t c = json_integer_value(json_object_get(per_organ, organ)) + 1;
    json_object_set_new(per_organ, organ, json_integer(c));
    if (c == 3) warn(warnings, "more than 2 target lesions in %s (RECIST 1.1: at most 2 per organ)", organ);
    const char *id = json_string_value(json_object_get(l, "lesion_id"));
    json_t *obs = baseline_tp ? json_object_get(json_object_get(l, "observations"), baseline_tp) : NULL;
    json_t *d = json_object_get(obs, "diameter_mm");
    int nodal = json_is_true(json_object_get(l, "nodal"));
    if (!json_is_number(d)) {
      warn(warnings, "%s: not yet measured at baseline", id);
      continue;
    }
    double mm = json_number_value(d), min_mm = nodal ? 15.0 : 10.0;
    double thick = json_number_value(json_object_get(json_object_get(obs, "measurement"), "slice_thickness_mm"));
    if (thick > 5.0 && !nodal && 2 * thick > min_mm) min_mm = 2 * thick;
    if (mm < min_mm)
      warn(warnings, "%s: %.1f mm %s is below the %.0f mm minimum for a %s target (RECIST 1.1)", id, mm,
           nodal ? "short axis" : "longest diameter", min_mm, nodal ? "nodal" : "non-nodal");
    if (thick > 5.0)
      warn(warnings, "%s: measured on a %.1f mm slice (RECIST 1.1 expects <= 5 mm; minimum size doubles)", id,
           thick);
  }
  if (n_targets > 5) warn(warnings, "%zu target lesions (RECIST 1.1: at most 5)", n_targets);
  json_decref(per_organ);
}

/* ---- states and reasons: the rules every change obeys, whichever endpoint makes it ---- */

static const char *const target_states[] = {"too_small", "disappeared", "not_evaluable", NULL};
static const char *const non_target_states[] = {"present", "absent", "unequivocal_progression", "not_evaluable",
                                                NULL};
static const char *const new_states[] = {"equivocal", "unequivocal", NULL};

int rcy_reads_state_rule(const char *kind, const char *state, int at_baseline, char *msg, size_t size) {
  const char *const *list = strcmp(kind, "target") == 0       ? target_states
                            : strcmp(kind, "non_target") == 0 ? non_target_states
                            : strcmp(kind, "new") == 0        ? new_states
                                                              : NULL;
  int known = 0;
  for (const char *const *s = list; s && *s && state; s++)
    if (strcmp(*s, state) == 0) known = 1;
  if (!known) {
    snprintf(msg, size, "state '%s' is not valid for a %s lesion", state ? state : "(not a string)", kind);
    return 400;
  }
  if (!at_baseline) return 0;
  if (strcmp(kind, "target") == 0) {
    snprintf(msg, size, "a target lesion at baseline is measured: %s is a follow-up state", state);
    return 422;
  }
  if (strcmp(kind, "non_target") == 0 && strcmp(state, "present") != 0) {
    snprintf(msg, size, "a non-target lesion at baseline is present (%s is a follow-up state)", state);
    return 422;
  }
  if (strcmp(kind, "new") == 0) {
    snprintf(msg, size, "new lesions are recorded at follow-ups, not at baseline");
    return 422;
  }
  return 0;
}

int rcy_reads_reason(char *out, size_t size, const char *given) {
  out[0] = '\0';
  if (!given) return 0;
  const char *b = given, *e = given + strlen(given);
  while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r' || *b == '\f' || *b == '\v')) b++;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\f' ||
                   e[-1] == '\v'))
    e--;
  if (b == e) return 0;
  if ((size_t)(e - b) > RCY_REASON_MAX || (size_t)(e - b) >= size) return -1;
  for (const unsigned char *p = (const unsigned char *)b; p < (const unsigned char *)e; p++)
    if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) return -1;
  memcpy(out, b, (size_t)(e - b));
  out[e - b] = '\0';
  return 1;
}

/* ---- engine input ---- */

static json_t *target_entry(const json_t *l, const json_t *obs, int baseline) {
  json_t *e = json_pack("{s:O}", "lesion_id", json_object_get(l, "lesion_id"));
  if (baseline) {
    json_object_set(e, "organ", json_object_get(l, "organ"));
    json_object_set(e, "nodal", json_object_get(l, "nodal"));
  }
  static const char *const keys[] = {"diameter_mm", "state", "fragments_mm", "merged_into"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    json_t *v = json_object_get(obs, keys[k]);
    if (v && !json_is_null(v)) json_object_set(e, keys[k], v);
  }
  return e;
}

json_t *rcy_reads_engine_input(const char *subject, const json_t *doc, const rcy_timepoint_list *tps, json_t *warnings) {
  tp_date *order = NULL;
  size_t n = ordered_timepoints(&order, doc, tps);
  if (n == 0 || !order[0].date[0]) {
    free(order);
    return NULL;
  }
  json_t *lesions = json_object_get(doc, "lesions");
  json_t *assessments = json_array();
  int baseline_ok = 1;
  for (size_t t = 0; t < n && baseline_ok; t++) {
    const char *tp = order[t].timepoint;
    int is_bl = t == 0, complete = 1, any = is_bl || json_object_get(json_object_get(doc, "signoffs"), tp);
    json_t *targets = json_array(), *non_targets = json_array(), *news = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(lesions, i, l) {
      json_t *obs = json_object_get(json_object_get(l, "observations"), tp);
      const char *id = json_string_value(json_object_get(l, "lesion_id"));
      if (obs) any = 1;
      if (is_kind(l, "new")) {
        if (obs && json_is_string(json_object_get(obs, "state")))
          json_array_append_new(news, json_pack("{s:s,s:O,s:O,s:O}", "lesion_id", id, "organ",
                                                json_object_get(l, "organ"), "nodal", json_object_get(l, "nodal"),
                                                "state", json_object_get(obs, "state")));
        continue;
      }
      int target = is_kind(l, "target");
      if (!obs || (target && is_bl && !json_is_number(json_object_get(obs, "diameter_mm")))) {
        if (target || !is_bl) {
          complete = 0;
          if (is_bl) warn(warnings, "%s: the response is computed once every baseline target is measured", id);
          continue;
        }
      }
      if (target) json_array_append_new(targets, target_entry(l, obs, is_bl));
      else {
        json_t *e = json_pack("{s:s}", "lesion_id", id);
        if (is_bl) {
          json_object_set(e, "organ", json_object_get(l, "organ"));
          json_object_set(e, "nodal", json_object_get(l, "nodal"));
        }
        json_t *st = json_object_get(obs, "state");
        json_object_set_new(e, "state", json_is_string(st) ? json_copy(st) : json_string("present"));
        json_array_append_new(non_targets, e);
      }
    }
    if (!any) { /* a timepoint not started yet: not an assessment */
      json_decref(targets), json_decref(non_targets), json_decref(news);
      continue;
    }
    if (!complete) {
      if (is_bl) baseline_ok = 0;
      else warn(warnings, "%s: left out of the response until every baseline lesion is assessed there", tp);
      json_decref(targets), json_decref(non_targets), json_decref(news);
      continue;
    }
    json_array_append_new(assessments, json_pack("{s:s,s:s,s:o,s:o,s:o}", "timepoint", tp, "date", order[t].date,
                                                 "target", targets, "non_target", non_targets, "new_lesions",
                                                 news));
  }
  free(order);
  if (!baseline_ok) {
    json_decref(assessments);
    return NULL;
  }
  json_t *in = json_pack("{s:s,s:o}", "subject_id", subject, "assessments", assessments);
  json_t *ts = json_object_get(doc, "treatment_start");
  if (json_is_string(ts)) json_object_set(in, "treatment_start", ts);
  return in;
}

/* ---- the API view ---- */

static int qc_warning(void *ctx, const rcy_store_qc_finding *f) {
  json_t **pair = ctx; /* [0] warnings, [1] timepoint as a json string */
  if (strcmp(f->severity, "info") != 0)
    warn(pair[0], "%s: %s: %s", json_string_value(pair[1]), f->code, f->message);
  return 0;
}

json_t *rcy_reads_view(rcy_store *store, const char *subject, const char *role, const char *reader,
                      const json_t *doc, const rcy_timepoint_list *tps) {
  json_t *warnings = json_array(), *timepoints = json_array();
  json_t *signoffs = json_object_get(doc, "signoffs");
  for (size_t i = 0; i < tps->n; i++) {
    const rcy_timepoint *t = &tps->items[i];
    json_t *s = json_object_get(signoffs, t->timepoint);
    json_array_append_new(timepoints, json_pack("{s:s,s:s,s:s,s:b,s:O?,s:O?,s:O?}", "timepoint", t->timepoint,
                                                "date", t->date, "study_uid", t->study_uid, "signed", s != NULL,
                                                "signed_by", json_object_get(s, "signed_by"), "signed_at",
                                                json_object_get(s, "signed_at"), "signed_meaning",
                                                json_object_get(s, "meaning")));
    json_t *pair[2] = {warnings, json_string(t->timepoint)};
    rcy_store_qc_each(store, t->study_uid, qc_warning, pair, NULL);
    json_decref(pair[1]);
  }
  rcy_reads_rule_warnings(doc, tps->n ? tps->items[0].timepoint : NULL, warnings);
  const char *ts_source = NULL;
  json_t *input = rcy_reads_engine_input_timed(&ts_source, store, subject, doc, tps, warnings);
  json_t *engine = NULL;
  char *engine_error = NULL;
  if (input) rcy_reads_engine_run(&engine, &engine_error, input);
  else engine_error = strdup("baseline incomplete: no response yet");
  json_t *confirmation = engine ? rcy_reads_confirmation(input, engine) : json_null();
  json_t *lesions = json_deep_copy(json_object_get(doc, "lesions"));
  rcy_reads_view_add_allowed_states(lesions, tps);
  json_t *view = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s?,s:o,s:o}", "subject_id", subject, "role", role, "reader",
                           reader, "timepoints", timepoints, "lesions", lesions, "engine",
                           engine ? engine : json_null(), "engine_error", engine_error, "warnings", warnings,
                           "confirmation", confirmation);
  if (!json_object_get(view, "engine_error")) json_object_set_new(view, "engine_error", json_null());
  json_object_set_new(view, "sign_meaning", json_string(RCY_SIGN_MEANING));
  /* The day the engine timed this read from, and where it came from (registry | read | baseline). */
  json_t *ts = json_object_get(input, "treatment_start");
  json_object_set_new(view, "treatment_start",
                      json_pack("{s:O?,s:s}", "date", ts, "source", ts_source ? ts_source : "baseline"));
  free(engine_error);
  rcy_reads_view_add_nadir(view);
  rcy_reads_view_add_volumetric(view);
  json_decref(input);
  return view;
}
