/* JSON input → rcy_recist_subject, rcy_recist_result / rcy_concordance → JSON output, with jansson.
 *
 * Every type and value is checked here, before the engine runs, so a wrong type or an unknown state is
 * reported with the subject, timepoint and lesion it belongs to. Strings are borrowed from the parsed
 * jansson tree, which lives until the output is printed. Per subject the lesion structs come from four
 * allocations sized by a first counting pass. */
#include "recistry/reads.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/recist.h"

typedef struct subject_buf {
  rcy_recist_subject subject;
  rcy_recist_options options;
  rcy_recist_assessment *assessments;
  rcy_recist_target *targets;
  rcy_recist_non_target *non_targets;
  rcy_recist_new_lesion *new_lesions;
  double *fragments;
} subject_buf;

static void subject_buf_free(subject_buf *b) {
  free(b->assessments);
  free(b->targets);
  free(b->non_targets);
  free(b->new_lesions);
  free(b->fragments);
  memset(b, 0, sizeof *b);
}

/* Where a message points: "subject S[, timepoint T[, lesion L]]: ". */
typedef struct where {
  const char *subject_id;
  size_t subject_index;
  const char *timepoint;
  size_t assessment_index;
  const char *lesion_id;
  const char *kind; /* "target", "non_target", "new_lesions" when no lesion_id is known */
  size_t lesion_index;
} where;

__attribute__((format(printf, 3, 4))) static int bad(rcy_error *err, const where *w, const char *fmt, ...) {
  if (!err) return RCY_EINVAL;
  char prefix[256];
  int n;
  if (w->subject_id)
    n = snprintf(prefix, sizeof prefix, "subject %.64s", w->subject_id);
  else
    n = snprintf(prefix, sizeof prefix, "subject #%zu", w->subject_index + 1);
  if (w->kind || w->timepoint || w->assessment_index) {
    if (w->timepoint)
      n += snprintf(prefix + n, sizeof prefix - (size_t)n, ", timepoint %.32s", w->timepoint);
    else
      n += snprintf(prefix + n, sizeof prefix - (size_t)n, ", assessment #%zu", w->assessment_index + 1);
  }
  if (w->lesion_id)
    n += snprintf(prefix + n, sizeof prefix - (size_t)n, ", lesion %.32s", w->lesion_id);
  else if (w->kind)
    n += snprintf(prefix + n, sizeof prefix - (size_t)n, ", %s[%zu]", w->kind, w->lesion_index);
  char msg[RCY_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rcy_error_set(err, RCY_EINVAL, "%s: %s", prefix, msg);
}

static json_t *array_member(json_t *obj, const char *key, bool *ok) {
  json_t *v = json_object_get(obj, key);
  *ok = v == NULL || json_is_array(v) || json_is_null(v);
  return json_is_array(v) ? v : NULL;
}

static int get_string(const char **out, json_t *obj, const char *key, bool required, rcy_error *err,
                      const where *w) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) {
    *out = NULL;
    return required ? bad(err, w, "missing \"%s\"", key) : 0;
  }
  if (!json_is_string(v)) return bad(err, w, "\"%s\" must be a string", key);
  const char *s = json_string_value(v);
  if (strlen(s) != json_string_length(v)) return bad(err, w, "\"%s\" contains a NUL character", key);
  if (!*s && required) return bad(err, w, "\"%s\" must not be empty", key);
  *out = s;
  return 0;
}

static int get_days(int32_t *out, json_t *obj, const char *key, rcy_error *err, const where *w) {
  const char *s;
  int rc = get_string(&s, obj, key, true, err, w);
  if (rc) return rc;
  rcy_error e;
  if (rcy_recist_date_parse(out, s, &e)) return bad(err, w, "%s: %s", key, e.message);
  return 0;
}

static int get_int_option(int *out, json_t *v, const char *key, rcy_error *err, const where *w) {
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 36500)
    return bad(err, w, "options.%s must be a whole number of days between 0 and 36500", key);
  *out = (int)json_integer_value(v);
  return 0;
}

static int parse_options(rcy_recist_options *o, json_t *subject, const rcy_recist_json_flags *flags,
                         rcy_error *err, const where *w) {
  rcy_recist_options_default(o);
  json_t *opts = json_object_get(subject, "options");
  if (opts && !json_is_null(opts)) {
    if (!json_is_object(opts)) return bad(err, w, "\"options\" must be an object");
    const char *key;
    json_t *v;
    int rc;
    json_object_foreach(opts, key, v) {
      if (strcmp(key, "confirmation") == 0) {
        if (!json_is_boolean(v)) return bad(err, w, "options.confirmation must be true or false");
        o->confirmation = json_is_true(v);
      } else if (strcmp(key, "confirmation_min_days") == 0) {
        if ((rc = get_int_option(&o->confirmation_min_days, v, key, err, w))) return rc;
      } else if (strcmp(key, "sd_min_days") == 0) {
        if ((rc = get_int_option(&o->sd_min_days, v, key, err, w))) return rc;
      } else if (strcmp(key, "ets_window_days") == 0) {
        if (!json_is_array(v) || json_array_size(v) != 2)
          return bad(err, w, "options.ets_window_days must be [min, max]");
        if ((rc = get_int_option(&o->ets_window_min_days, json_array_get(v, 0), key, err, w)) ||
            (rc = get_int_option(&o->ets_window_max_days, json_array_get(v, 1), key, err, w)))
          return rc;
        if (o->ets_window_min_days > o->ets_window_max_days)
          return bad(err, w, "options.ets_window_days: min is after max");
      } else {
        return bad(err, w, "unknown option \"%.40s\"", key);
      }
    }
  }
  if (flags && flags->no_confirmation) o->confirmation = false;
  if (flags) o->lenient = flags->lenient;
  return 0;
}

static int parse_target(rcy_recist_target *t, double **frag, json_t *v, rcy_error *err, where *w) {
  memset(t, 0, sizeof *t);
  if (!json_is_object(v)) return bad(err, w, "a target lesion must be an object");
  int rc;
  if ((rc = get_string(&t->lesion_id, v, "lesion_id", true, err, w))) return rc;
  w->lesion_id = t->lesion_id;
  if ((rc = get_string(&t->organ, v, "organ", false, err, w))) return rc;
  json_t *nodal = json_object_get(v, "nodal");
  if (nodal && !json_is_null(nodal)) {
    if (!json_is_boolean(nodal)) return bad(err, w, "\"nodal\" must be true or false");
    t->nodal = json_is_true(nodal);
  }
  json_t *d = json_object_get(v, "diameter_mm"), *st = json_object_get(v, "state");
  json_t *fr = json_object_get(v, "fragments_mm"), *mg = json_object_get(v, "merged_into");
  if ((d != NULL) + (st != NULL) + (fr != NULL) + (mg != NULL) != 1)
    return bad(err, w, "give exactly one of diameter_mm, state, fragments_mm, merged_into");
  if (d) {
    if (!json_is_number(d)) return bad(err, w, "diameter_mm must be a number");
    t->state = RCY_RECIST_TARGET_MEASURED;
    t->diameter_mm = json_number_value(d);
    if (!(t->diameter_mm >= 0) || !isfinite(t->diameter_mm)) return bad(err, w, "diameter_mm must be >= 0");
  } else if (st) {
    const char *s = json_is_string(st) ? json_string_value(st) : NULL;
    if (s && strcmp(s, "too_small") == 0)
      t->state = RCY_RECIST_TARGET_TOO_SMALL;
    else if (s && strcmp(s, "disappeared") == 0)
      t->state = RCY_RECIST_TARGET_DISAPPEARED;
    else if (s && strcmp(s, "not_evaluable") == 0)
      t->state = RCY_RECIST_TARGET_NOT_EVALUABLE;
    else
      return bad(err, w, "unknown target state %s%.40s%s (expected too_small, disappeared or not_evaluable)",
                 s ? "'" : "", s ? s : "(not a string)", s ? "'" : "");
  } else if (fr) {
    if (!json_is_array(fr) || json_array_size(fr) == 0)
      return bad(err, w, "fragments_mm must be a non-empty array of numbers");
    t->state = RCY_RECIST_TARGET_FRAGMENTS;
    t->fragments_mm = *frag;
    t->n_fragments = json_array_size(fr);
    for (size_t i = 0; i < t->n_fragments; i++) {
      json_t *x = json_array_get(fr, i);
      if (!json_is_number(x) || !(json_number_value(x) >= 0))
        return bad(err, w, "fragments_mm[%zu] must be a number >= 0", i);
      *(*frag)++ = json_number_value(x);
    }
  } else {
    t->state = RCY_RECIST_TARGET_MERGED;
    if ((rc = get_string(&t->merged_into, v, "merged_into", true, err, w))) return rc;
  }
  return 0;
}

/* The fields non-target and new lesions share: lesion_id, optional organ, required state. */
static int lesion_head(const char **id, const char **organ, const char **state, json_t *v, const char *what,
                       rcy_error *err, where *w) {
  if (!json_is_object(v)) return bad(err, w, "a %s must be an object", what);
  int rc;
  if ((rc = get_string(id, v, "lesion_id", true, err, w))) return rc;
  w->lesion_id = *id;
  if ((rc = get_string(organ, v, "organ", false, err, w))) return rc;
  return get_string(state, v, "state", true, err, w);
}

static int parse_non_target(rcy_recist_non_target *n, json_t *v, rcy_error *err, where *w) {
  memset(n, 0, sizeof *n);
  const char *s;
  int rc = lesion_head(&n->lesion_id, &n->organ, &s, v, "non-target lesion", err, w);
  if (rc) return rc;
  if (strcmp(s, "present") == 0)
    n->state = RCY_RECIST_NON_TARGET_PRESENT;
  else if (strcmp(s, "absent") == 0)
    n->state = RCY_RECIST_NON_TARGET_ABSENT;
  else if (strcmp(s, "unequivocal_progression") == 0)
    n->state = RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION;
  else if (strcmp(s, "not_evaluable") == 0)
    n->state = RCY_RECIST_NON_TARGET_NOT_EVALUABLE;
  else
    return bad(err, w,
               "unknown non-target state '%.40s' (expected present, absent, unequivocal_progression "
               "or not_evaluable)",
               s);
  return 0;
}

static int parse_new_lesion(rcy_recist_new_lesion *n, json_t *v, rcy_error *err, where *w) {
  memset(n, 0, sizeof *n);
  const char *s;
  int rc = lesion_head(&n->lesion_id, &n->organ, &s, v, "new lesion", err, w);
  if (rc) return rc;
  if (strcmp(s, "equivocal") == 0)
    n->state = RCY_RECIST_NEW_EQUIVOCAL;
  else if (strcmp(s, "unequivocal") == 0)
    n->state = RCY_RECIST_NEW_UNEQUIVOCAL;
  else
    return bad(err, w, "unknown new-lesion state '%.40s' (expected equivocal or unequivocal)", s);
  return 0;
}

static void *alloc_n(size_t n, size_t size) {
  return malloc((n ? n : 1) * size);
}

static int subject_from_json(subject_buf *b, json_t *obj, size_t index, const rcy_recist_json_flags *flags,
                             rcy_error *err) {
  memset(b, 0, sizeof *b);
  where w = {0};
  w.subject_index = index;
  if (!json_is_object(obj)) return bad(err, &w, "a subject must be a JSON object");
  int rc;
  if ((rc = get_string(&b->subject.subject_id, obj, "subject_id", true, err, &w))) return rc;
  w.subject_id = b->subject.subject_id;
  json_t *ts = json_object_get(obj, "treatment_start");
  if (ts && !json_is_null(ts)) {
    if ((rc = get_days(&b->subject.treatment_start_days, obj, "treatment_start", err, &w))) return rc;
    b->subject.has_treatment_start = true;
  }
  if ((rc = parse_options(&b->options, obj, flags, err, &w))) return rc;
  json_t *as = json_object_get(obj, "assessments");
  if (!json_is_array(as) || json_array_size(as) == 0)
    return bad(err, &w, "\"assessments\" must be a non-empty array (the first is the baseline)");

  /* Pass 1: count, so each kind of struct comes from one allocation. */
  size_t nA = json_array_size(as), nT = 0, nN = 0, nW = 0, nF = 0;
  bool ok;
  for (size_t a = 0; a < nA; a++) {
    json_t *A = json_array_get(as, a);
    w.assessment_index = a;
    if (!json_is_object(A)) return bad(err, &w, "an assessment must be an object");
    w.timepoint = json_string_value(json_object_get(A, "timepoint"));
    json_t *t = array_member(A, "target", &ok);
    if (!ok) return bad(err, &w, "\"target\" must be an array");
    json_t *n = array_member(A, "non_target", &ok);
    if (!ok) return bad(err, &w, "\"non_target\" must be an array");
    json_t *nw = array_member(A, "new_lesions", &ok);
    if (!ok) return bad(err, &w, "\"new_lesions\" must be an array");
    nT += json_array_size(t);
    nN += json_array_size(n);
    nW += json_array_size(nw);
    for (size_t i = 0; i < json_array_size(t); i++)
      nF += json_array_size(json_object_get(json_array_get(t, i), "fragments_mm"));
  }
  b->assessments = alloc_n(nA, sizeof *b->assessments);
  b->targets = alloc_n(nT, sizeof *b->targets);
  b->non_targets = alloc_n(nN, sizeof *b->non_targets);
  b->new_lesions = alloc_n(nW, sizeof *b->new_lesions);
  b->fragments = alloc_n(nF, sizeof *b->fragments);
  if (!b->assessments || !b->targets || !b->non_targets || !b->new_lesions || !b->fragments)
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");

  /* Pass 2: fill. */
  rcy_recist_target *t = b->targets;
  rcy_recist_non_target *nt = b->non_targets;
  rcy_recist_new_lesion *nl = b->new_lesions;
  double *frag = b->fragments;
  for (size_t a = 0; a < nA; a++) {
    json_t *A = json_array_get(as, a);
    rcy_recist_assessment *out = &b->assessments[a];
    memset(out, 0, sizeof *out);
    w.assessment_index = a;
    w.timepoint = NULL;
    w.lesion_id = NULL;
    w.kind = NULL;
    if ((rc = get_string(&out->timepoint, A, "timepoint", true, err, &w))) return rc;
    w.timepoint = out->timepoint;
    if ((rc = get_days(&out->date_days, A, "date", err, &w))) return rc;
    json_t *arr = array_member(A, "target", &ok);
    out->targets = t;
    w.kind = "target";
    for (size_t i = 0; i < json_array_size(arr); i++, t++) {
      w.lesion_index = i;
      w.lesion_id = NULL;
      if ((rc = parse_target(t, &frag, json_array_get(arr, i), err, &w))) return rc;
    }
    out->n_targets = (size_t)(t - out->targets);
    arr = array_member(A, "non_target", &ok);
    out->non_targets = nt;
    w.kind = "non_target";
    for (size_t i = 0; i < json_array_size(arr); i++, nt++) {
      w.lesion_index = i;
      w.lesion_id = NULL;
      if ((rc = parse_non_target(nt, json_array_get(arr, i), err, &w))) return rc;
    }
    out->n_non_targets = (size_t)(nt - out->non_targets);
    arr = array_member(A, "new_lesions", &ok);
    out->new_lesions = nl;
    w.kind = "new_lesions";
    for (size_t i = 0; i < json_array_size(arr); i++, nl++) {
      w.lesion_index = i;
      w.lesion_id = NULL;
      if ((rc = parse_new_lesion(nl, json_array_get(arr, i), err, &w))) return rc;
    }
    out->n_new_lesions = (size_t)(nl - out->new_lesions);
  }
  b->subject.assessments = b->assessments;
  b->subject.n_assessments = nA;
  return 0;
}

/* ---- output ---------------------------------------------------------------------------------------- */

/* Rounded to 1/scale, half away from zero, never "-0.0"; null if not finite (JSON has no inf/NaN). */
static json_t *rounded(double x, double scale) {
  double r = round(x * scale) / scale;
  if (!isfinite(r)) return json_null();
  if (r == 0.0) r = 0.0;
  return json_real(r);
}

/* Percentages: one decimal. */
static json_t *pct_json(double x) {
  return rounded(x, 10.0);
}

static json_t *response_json(rcy_recist_response r) {
  const char *name = rcy_recist_response_name(r);
  return name ? json_string(name) : json_null();
}

static json_t *date_json(int32_t days) {
  char buf[11];
  rcy_recist_date_format(buf, days);
  return json_string(buf);
}

static json_t *progression_json(const rcy_recist_result *r, const rcy_recist_progression *p) {
  if (!p->present) return json_null();
  json_t *reasons = json_array();
  if (p->reasons & RCY_RECIST_REASON_TARGET) json_array_append_new(reasons, json_string("target"));
  if (p->reasons & RCY_RECIST_REASON_NON_TARGET) json_array_append_new(reasons, json_string("non_target"));
  if (p->reasons & RCY_RECIST_REASON_NEW_LESION) json_array_append_new(reasons, json_string("new_lesion"));
  const rcy_recist_timepoint *t = &r->timepoints[p->index];
  return json_pack("{s:s, s:o, s:o, s:s}", "timepoint", t->timepoint, "date", date_json(t->date_days),
                   "reasons", reasons, "confirmed_timepoint", r->timepoints[p->confirmed_index].timepoint);
}

static json_t *opt_real(bool has, double v) {
  return has && isfinite(v) ? json_real(v) : json_null();
}
static json_t *opt_pct(bool has, double v) {
  return has ? pct_json(v) : json_null();
}

static json_t *result_to_json(const rcy_recist_result *r) {
  json_t *tps = json_array();
  for (size_t a = 0; a < r->n_timepoints; a++) {
    const rcy_recist_timepoint *t = &r->timepoints[a];
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "timepoint", t->timepoint, "date",
        date_json(t->date_days), "sum_mm", opt_real(t->has_sum, t->sum_mm), "nadir_mm",
        opt_real(t->has_nadir, t->nadir_mm), "change_from_baseline_pct",
        opt_pct(t->has_change_from_baseline, t->change_from_baseline_pct), "change_from_nadir_pct",
        opt_pct(t->has_change_from_nadir, t->change_from_nadir_pct), "target_response",
        response_json(t->target_response), "non_target_response", response_json(t->non_target_response),
        "new_lesions", t->new_lesions, "overall_response", response_json(t->overall_response));
    if (!o) {
      json_decref(tps);
      return NULL;
    }
    json_object_set_new(o, "evaluable_sum_mm", opt_real(t->has_nadir, t->evaluable_sum_mm));
    json_object_set_new(o, "equivocal_new_lesions", json_boolean(t->equivocal_new_lesions));
    json_array_append_new(tps, o);
  }
  const rcy_recist_ets *e = &r->early_tumour_shrinkage;
  json_t *ets =
      e->present ? json_pack("{s:s, s:i, s:b, s:o, s:b, s:b}", "timepoint", r->timepoints[e->index].timepoint,
                             "days", (json_int_t)e->days, "in_window", e->in_window, "change_pct",
                             pct_json(e->change_pct), "ets20", e->ets20, "ets30", e->ets30)
                 : json_null();
  const rcy_recist_dpr *d = &r->depth_of_response;
  json_t *dpr = d->present ? json_pack("{s:o, s:s, s:i}", "pct", pct_json(d->pct), "timepoint",
                                       r->timepoints[d->index].timepoint, "time_to_nadir_days",
                                       (json_int_t)d->time_to_nadir_days)
                           : json_null();
  json_t *warnings = json_array();
  for (size_t i = 0; i < r->n_warnings; i++)
    json_array_append_new(warnings, json_string(r->warnings[i]));
  return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "subject_id", r->subject_id, "timepoints", tps,
                   "best_overall_response", response_json(r->best_overall_response), "early_tumour_shrinkage",
                   ets, "depth_of_response", dpr, "progression", progression_json(r, &r->progression),
                   "hepatic_progression", progression_json(r, &r->hepatic_progression), "warnings", warnings);
}

/* ---- documents ------------------------------------------------------------------------------------- */

static int load(json_t **out, const char *text, size_t len, const char *what, rcy_error *err) {
  json_error_t je;
  *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return rcy_error_set(err, RCY_EINVAL, "%s: malformed JSON at line %d, column %d: %s", what, je.line,
                         je.column, je.text);
  if (!json_is_object(*out) && !json_is_array(*out)) {
    json_decref(*out);
    *out = NULL;
    return rcy_error_set(err, RCY_EINVAL, "%s: expected a subject object or an array of subjects", what);
  }
  return 0;
}

/* Parses and evaluates every subject of a document into results[]. */
typedef struct read_set {
  json_t *doc;
  size_t n;
  subject_buf *subjects;
  rcy_recist_result *results;
} read_set;

static void read_set_free(read_set *r) {
  for (size_t i = 0; i < r->n; i++) {
    subject_buf_free(&r->subjects[i]);
    rcy_recist_result_free(&r->results[i]);
  }
  free(r->subjects);
  free(r->results);
  json_decref(r->doc);
  memset(r, 0, sizeof *r);
}

static int read_set_evaluate(read_set *rs, const char *text, size_t len, const char *what,
                             const rcy_recist_json_flags *flags, rcy_error *err) {
  memset(rs, 0, sizeof *rs);
  int rc = load(&rs->doc, text, len, what ? what : "input", err);
  if (rc) return rc;
  const bool array = json_is_array(rs->doc);
  const size_t n = array ? json_array_size(rs->doc) : 1;
  rs->subjects = calloc(n ? n : 1, sizeof *rs->subjects);
  rs->results = calloc(n ? n : 1, sizeof *rs->results);
  if (!rs->subjects || !rs->results) {
    read_set_free(rs);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  rs->n = n;
  for (size_t i = 0; i < n; i++) {
    json_t *obj = array ? json_array_get(rs->doc, i) : rs->doc;
    if ((rc = subject_from_json(&rs->subjects[i], obj, i, flags, err)) ||
        (rc = rcy_recist_evaluate(&rs->results[i], &rs->subjects[i].subject, &rs->subjects[i].options, err)))
      break;
  }
  if (rc) {
    if (err && what) {
      char msg[RCY_ERROR_MESSAGE_MAX];
      snprintf(msg, sizeof msg, "%s", err->message);
      rcy_error_set(err, rc, "%s: %s", what, msg);
    }
    read_set_free(rs);
  }
  return rc;
}

static int dump(char **out_text, json_t *j, bool pretty, rcy_error *err) {
  /* jansson returns NULL for a value it cannot build: memory, or a bug of ours (the fuzz target aborts on
   * RCY_EINTERNAL, so such a bug cannot hide). */
  if (!j) return rcy_error_set(err, RCY_EINTERNAL, "internal error: cannot build the output JSON");
  *out_text = json_dumps(j, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(15));
  json_decref(j);
  return *out_text ? 0 : rcy_error_set(err, RCY_ENOMEM, "out of memory printing the output");
}

int rcy_recist_json_evaluate(char **out_text, const char *text, size_t len,
                             const rcy_recist_json_flags *flags, bool pretty, rcy_error *err) {
  *out_text = NULL;
  read_set rs;
  int rc = read_set_evaluate(&rs, text, len, NULL, flags, err);
  if (rc) return rc;
  json_t *out;
  if (json_is_array(rs.doc)) {
    out = json_array();
    for (size_t i = 0; out && i < rs.n; i++) {
      /* json_array_append_new fails (and frees nothing it did not get) on a NULL value: stop there. */
      json_t *one = result_to_json(&rs.results[i]);
      if (!one || json_array_append_new(out, one)) {
        json_decref(out);
        out = NULL;
      }
    }
  } else {
    out = result_to_json(&rs.results[0]);
  }
  rc = dump(out_text, out, pretty, err);
  read_set_free(&rs);
  return rc;
}

static size_t skip_space(const char *text, size_t len, size_t pos) {
  while (pos < len && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r')) pos++;
  return pos;
}

/* Line (1-based) and column of byte pos, for messages about one element of a large array. */
static void line_column(int *line, int *column, const char *text, size_t pos) {
  *line = 1;
  size_t start = 0;
  for (size_t i = 0; i < pos; i++)
    if (text[i] == '\n') (*line)++, start = i + 1;
  *column = (int)(pos - start) + 1;
}

/* The next subject of an array, parsed by jansson on its own (JSON_DISABLE_EOF_CHECK stops after the object
 * and reports how many bytes it read): a cohort of 10 000 subjects is never one tree in memory, which made
 * memory allocation and page faults two thirds of `recistry endpoints`' time. Only the array's own brackets,
 * commas and white space are looked at here. *obj NULL at the end of the array. */
static int next_element(json_t **obj, const char *text, size_t len, size_t *pos, size_t index, rcy_error *err) {
  *obj = NULL;
  size_t p = skip_space(text, len, *pos);
  if (index > 0) {
    if (p < len && text[p] == ']') {
      *pos = skip_space(text, len, p + 1);
      return *pos == len ? 0 : rcy_error_set(err, RCY_EINVAL, "input: malformed JSON: text after the array");
    }
    if (p >= len || text[p] != ',') goto malformed;
    p = skip_space(text, len, p + 1);
  } else if (p < len && text[p] == ']') {
    *pos = skip_space(text, len, p + 1);
    return *pos == len ? 0 : rcy_error_set(err, RCY_EINVAL, "input: malformed JSON: text after the array");
  }
  json_error_t je;
  *obj = json_loadb(text + p, len - p, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &je);
  if (!*obj) {
    int line, column;
    line_column(&line, &column, text, p + (je.position > 0 ? (size_t)je.position : 0));
    return rcy_error_set(err, RCY_EINVAL, "input: malformed JSON at line %d, column %d: %s", line, column, je.text);
  }
  *pos = p + (size_t)je.position;
  return 0;
malformed : {
  int line, column;
  line_column(&line, &column, text, p);
  return rcy_error_set(err, RCY_EINVAL, "input: malformed JSON at line %d, column %d: expected ',' or ']'", line,
                       column);
}
}

int rcy_recist_json_each(const char *text, size_t len, const rcy_recist_json_flags *flags,
                         int (*prepare)(void *ctx, rcy_recist_subject *subject, rcy_error *err),
                         int (*visit)(void *ctx, const rcy_recist_subject *subject,
                                      const rcy_recist_result *result, rcy_error *err),
                         void *ctx, rcy_error *err) {
  size_t pos = skip_space(text, len, 0);
  const bool array = pos < len && text[pos] == '[';
  json_t *doc = NULL;
  int rc = array ? 0 : load(&doc, text, len, "input", err);
  if (rc) return rc;
  pos++;
  rcy_recist_result result;
  rcy_recist_result_init(&result);
  subject_buf b;
  for (size_t i = 0; !rc; i++) {
    json_t *obj = doc;
    if (array && (rc = next_element(&obj, text, len, &pos, i, err))) break;
    if (!obj) break;
    if ((rc = subject_from_json(&b, obj, i, flags, err)) == 0 &&
        (!prepare || (rc = prepare(ctx, &b.subject, err)) == 0) &&
        (rc = rcy_recist_evaluate(&result, &b.subject, &b.options, err)) == 0 && visit)
      rc = visit(ctx, &b.subject, &result, err);
    subject_buf_free(&b);
    json_decref(obj);
    if (!array) break;
  }
  rcy_recist_result_free(&result);
  return rc;
}

/* Concordance statistics: rounded to 1/scale for reading, or as computed with --unrounded (the checks
 * against independent implementations need every digit). */
static json_t *stat_json(double x, double scale, bool unrounded) {
  if (!unrounded) return rounded(x, scale);
  if (!isfinite(x)) return json_null();
  return json_real(x == 0.0 ? 0.0 : x);
}

static json_t *interval_json(double lo, double hi, double scale, bool unrounded) {
  return json_pack("[o, o]", stat_json(lo, scale, unrounded), stat_json(hi, scale, unrounded));
}

static json_t *table_json(const rcy_concordance_table *t, bool unrounded) {
  json_t *cats = json_array(), *matrix = json_array();
  for (int i = 0; i < RCY_CONCORDANCE_K; i++) {
    json_array_append_new(cats, json_string(rcy_recist_response_name(rcy_concordance_categories[i])));
    json_t *row = json_array();
    for (int j = 0; j < RCY_CONCORDANCE_K; j++)
      json_array_append_new(row, json_integer((json_int_t)t->counts[i][j]));
    json_array_append_new(matrix, row);
  }
  const bool k = t->has_kappa;
  return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)t->n, "categories", cats, "matrix",
                   matrix, "agreement_pct", t->n ? stat_json(t->agreement_pct, 10.0, unrounded) : json_null(),
                   "kappa", k ? stat_json(t->kappa, 1000.0, unrounded) : json_null(), "kappa_se",
                   k ? stat_json(t->kappa_se, 1000.0, unrounded) : json_null(), "kappa_ci95",
                   k ? interval_json(t->kappa_ci95_lower, t->kappa_ci95_upper, 1000.0, unrounded)
                     : json_null());
}

/* One Bland–Altman analysis; unit is the key suffix ("mm", "pct"). Points' first and second are printed as
 * the engine prints that value for a subject (mm as computed, % to one decimal), the statistics to 2
 * decimals. */
static json_t *bland_altman_json(const rcy_concordance_bland_altman *ba, const char *unit, bool unrounded) {
  const bool sd = ba->has_sd;
  const double own = strcmp(unit, "pct") == 0 ? 10.0 : 0.0; /* 0: as computed */
  char key[32];
  json_t *o = json_object(), *points = json_array();
  json_object_set_new(o, "n", json_integer((json_int_t)ba->n));
#define BA_SET(name, value)                                                                                  \
  do {                                                                                                       \
    snprintf(key, sizeof key, "%s_%s", name, unit);                                                          \
    json_object_set_new(o, key, value);                                                                      \
  } while (0)
  BA_SET("mean_diff", ba->n ? stat_json(ba->mean_diff, 100.0, unrounded) : json_null());
  BA_SET("sd", sd ? stat_json(ba->sd, 100.0, unrounded) : json_null());
  BA_SET("loa_lower", sd ? stat_json(ba->loa_lower, 100.0, unrounded) : json_null());
  BA_SET("loa_upper", sd ? stat_json(ba->loa_upper, 100.0, unrounded) : json_null());
  BA_SET("mean_diff_ci95",
         sd ? interval_json(ba->mean_diff_ci95[0], ba->mean_diff_ci95[1], 100.0, unrounded) : json_null());
  BA_SET("loa_lower_ci95",
         sd ? interval_json(ba->loa_lower_ci95[0], ba->loa_lower_ci95[1], 100.0, unrounded) : json_null());
  BA_SET("loa_upper_ci95",
         sd ? interval_json(ba->loa_upper_ci95[0], ba->loa_upper_ci95[1], 100.0, unrounded) : json_null());
#undef BA_SET
  for (size_t i = 0; i < ba->n; i++) {
    const rcy_concordance_ba_point *p = &ba->points[i];
    json_array_append_new(points,
                          json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "subject_id", p->subject_id,
                                    "timepoint", p->timepoint, "first",
                                    own ? stat_json(p->first, own, unrounded) : json_real(p->first), "second",
                                    own ? stat_json(p->second, own, unrounded) : json_real(p->second), "mean",
                                    stat_json((p->first + p->second) / 2, 100.0, unrounded), "diff",
                                    stat_json(p->first - p->second, 100.0, unrounded)));
  }
  json_object_set_new(o, "points", points);
  return o;
}

static json_t *string_list(const char **s, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(a, json_string(s[i]));
  return a;
}

static json_t *opt_string(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *concordance_json(const rcy_concordance *c, bool unrounded) {
  json_t *per = json_array();
  for (size_t i = 0; i < c->n_timepoint_labels; i++) {
    json_t *t = table_json(&c->timepoints[i].table, unrounded);
    json_object_set_new(t, "timepoint", json_string(c->timepoints[i].timepoint));
    json_array_append_new(per, t);
  }
  json_t *disc = json_array();
  for (size_t i = 0; i < c->n_discordant; i++) {
    const rcy_concordance_discordant *d = &c->discordant[i];
    json_t *reasons = json_array();
    if (d->reasons & RCY_CONCORDANCE_BOR_DIFFERS) json_array_append_new(reasons, json_string("bor_differs"));
    if (d->reasons & RCY_CONCORDANCE_PD_TIMEPOINT_DIFFERS)
      json_array_append_new(reasons, json_string("pd_timepoint_differs"));
    json_array_append_new(disc, json_pack("{s:s, s:o, s:{s:o, s:o}, s:{s:o, s:o}}", "subject_id",
                                          d->subject_id, "reasons", reasons, "first", "best_overall_response",
                                          response_json(d->first_bor), "progression_timepoint",
                                          opt_string(d->first_pd_timepoint), "second",
                                          "best_overall_response", response_json(d->second_bor),
                                          "progression_timepoint", opt_string(d->second_pd_timepoint)));
  }
  json_t *ba = bland_altman_json(&c->bland_altman_sum_mm, "mm", unrounded);
  json_t *ba_pct = bland_altman_json(&c->bland_altman_change_pct, "pct", unrounded);
  json_t *dr = json_pack(
      "{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "edr",
      c->discrepancy.has_edr ? stat_json(c->discrepancy.edr, 1000.0, unrounded) : json_null(), "ldr",
      c->discrepancy.has_ldr ? stat_json(c->discrepancy.ldr, 1000.0, unrounded) : json_null(),
      "investigator_pd", (json_int_t)c->discrepancy.investigator_pd, "investigator_earlier",
      (json_int_t)c->discrepancy.early, "investigator_later", (json_int_t)c->discrepancy.late,
      "investigator_pd_only", (json_int_t)c->discrepancy.investigator_only, "central_pd_only",
      (json_int_t)c->discrepancy.central_only, "pd_discrepancies", (json_int_t)c->discrepancy.discrepancies);
  json_t *prog =
      json_pack("{s:I, s:I, s:I, s:I, s:I}", "both_pd", (json_int_t)c->progression.both, "first_only_pd",
                (json_int_t)c->progression.first_only, "second_only_pd",
                (json_int_t)c->progression.second_only, "neither_pd", (json_int_t)c->progression.neither,
                "same_timepoint", (json_int_t)c->progression.same_timepoint);
  return json_pack("{s:I, s:I, s:{s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "subjects",
                   (json_int_t)c->n_subjects, "timepoints", (json_int_t)c->n_timepoints, "unpaired",
                   "first_only", string_list(c->first_only, c->n_first_only), "second_only",
                   string_list(c->second_only, c->n_second_only), "timepoint_agreement", per,
                   "overall_response_agreement", table_json(&c->all_timepoints, unrounded),
                   "best_overall_response_agreement", table_json(&c->bor, unrounded), "progression", prog,
                   "discrepancy_rates", dr, "bland_altman_sum_mm", ba, "bland_altman_change_pct", ba_pct,
                   "discordant", disc);
}

int rcy_recist_json_concordance(char **out_text, const char *first, size_t first_len, const char *second,
                                size_t second_len, const rcy_recist_json_flags *flags, bool pretty,
                                rcy_error *err) {
  *out_text = NULL;
  read_set a, b;
  int rc = read_set_evaluate(&a, first, first_len, "first read", flags, err);
  if (rc) return rc;
  if ((rc = read_set_evaluate(&b, second, second_len, "second read", flags, err))) {
    read_set_free(&a);
    return rc;
  }
  rcy_concordance *c = NULL;
  if (!(rc = rcy_concordance_compute(&c, a.results, a.n, b.results, b.n, err)))
    rc = dump(out_text, concordance_json(c, flags && flags->unrounded), pretty, err);
  rcy_concordance_free(c);
  read_set_free(&a);
  read_set_free(&b);
  return rc;
}

/* ---- command-line plumbing shared by `recist` and `concordance` ------------------------------------ */

int rcy_recist_json_read_file(char **out, size_t *out_len, const char *path, rcy_error *err) {
  *out = NULL;
  *out_len = 0;
  const bool stdin_ = strcmp(path, "-") == 0;
  FILE *f = stdin_ ? stdin : fopen(path, "rb");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot open %s", path);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  bool nomem = !buf;
  while (!nomem) {
    if (len + 1 == cap) {
      char *q = realloc(buf, cap * 2);
      if (!q) {
        nomem = true;
        break;
      }
      buf = q;
      cap *= 2;
    }
    const size_t got = fread(buf + len, 1, cap - 1 - len, f);
    len += got;
    if (got == 0) break;
  }
  int rc = 0;
  if (nomem)
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", path);
  else if (ferror(f))
    rc = rcy_error_set(err, RCY_EIO, "cannot read %s", path);
  if (!stdin_) fclose(f);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  return 0;
}
