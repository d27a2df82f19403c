/* The cohort's responses at 3 months from the archive (`recistry dose-response --archive`; issue 14): instead
 * of the tables' response_3m and pct_change_3m, each patient's final central read as the registry endpoints
 * take it (rcy_review_reads "central": the read rcy_review_final_read names, its signed timepoints, the
 * engine input of rcy_reads_engine_input_timed, timed from the registry's treatment start) goes through the
 * engine (rcy_reads_engine_run). The follow-up nearest 90 days after the start inside the window gives the
 * overall response and, per target lesion, the % change of its diameter from baseline. The diameters are
 * those of the engine's input (the read's longest diameter, the short axis for a node), so the lesion's
 * change is measured as the engine's sum is. A job-level module: it uses reads/ and the store. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/dose.h"
#include "recistry/reads.h"
#include "recistry/recist.h"
#include "recistry/store.h"

#define SOURCE_ARCHIVE "archive:central_final"
#define TARGET_DAYS 90

static int warn(rcy_dose_cohort *c, rcy_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int warn(rcy_dose_cohort *c, rcy_error *err, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char **w = realloc(c->warnings, (c->n_warnings + 1) * sizeof *w);
  if (!w) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  c->warnings = w;
  if (!(w[c->n_warnings] = strdup(msg))) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  c->n_warnings++;
  return RCY_OK;
}

/* The patient's response and tumours: NE / NAN from the archive (a value from the CSV never stands once
 * --archive is given: mixing sources would hide which subjects the archive could not evaluate). */
static void set_unevaluated(rcy_dose_cohort *c, size_t p) {
  snprintf(c->patients[p].response_3m, sizeof c->patients[p].response_3m, "NE");
  snprintf(c->patients[p].response_source, sizeof c->patients[p].response_source, SOURCE_ARCHIVE);
  for (size_t t = 0; t < c->n_tumours; t++) {
    if (c->tumours[t].patient != p) continue;
    c->tumours[t].pct_change_3m = NAN;
    snprintf(c->tumours[t].pct_change_source, sizeof c->tumours[t].pct_change_source, SOURCE_ARCHIVE);
  }
}

static const json_t *find_target(const json_t *assessment, const char *lesion_id) {
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(assessment, "target"), i, e) {
    const char *id = json_string_value(json_object_get(e, "lesion_id"));
    if (id && strcmp(id, lesion_id) == 0) return e;
  }
  return NULL;
}

static const json_t *find_assessment(const json_t *input, const char *timepoint) {
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(input, "assessments"), i, a) {
    const char *tp = json_string_value(json_object_get(a, "timepoint"));
    if (tp && strcmp(tp, timepoint) == 0) return a;
  }
  return NULL;
}

/* A target's diameter at a follow-up as the engine counts it: the measured one, 0 when it disappeared. */
static int diameter_at(double *mm, const json_t *e) {
  const json_t *d = json_object_get(e, "diameter_mm");
  if (json_is_number(d)) {
    *mm = json_number_value(d);
    return 1;
  }
  const char *st = json_string_value(json_object_get(e, "state"));
  if (st && strcmp(st, "disappeared") == 0) {
    *mm = 0;
    return 1;
  }
  return 0;
}

/* The engine input of subject among the final central reads (NULL: none). */
static const json_t *find_read(const json_t *reads, const char *subject) {
  size_t i;
  const json_t *r;
  json_array_foreach(reads, i, r) {
    const char *id = json_string_value(json_object_get(r, "subject_id"));
    if (id && strcmp(id, subject) == 0) return r;
  }
  return NULL;
}

/* One patient: its read through the engine, the assessment nearest day 90 in the window, then its response
 * and lesions. */
static int fill_patient(rcy_dose_cohort *c, size_t p, const json_t *reads, int lo, int hi, rcy_error *err) {
  const char *subject = c->patients[p].subject;
  set_unevaluated(c, p);
  rcy_error e = {0};
  const json_t *in = find_read(reads, subject);
  if (!in)
    return warn(c, err, "%s: no final central read with a signed baseline in the archive: response NE",
                subject);
  json_t *out = NULL;
  char *emsg = NULL;
  int rc = RCY_OK;
  if (rcy_reads_engine_run(&out, &emsg, in)) {
    rc = warn(c, err, "%s: the engine refused the final central read: %s: response NE", subject,
              emsg ? emsg : "no message");
    goto done;
  }
  /* day 0: the treatment start the engine was given, else (none known) the baseline, as the engine times */
  const json_t *tpo = json_object_get(out, "timepoints");
  const char *start_iso = json_string_value(json_object_get(in, "treatment_start"));
  if (!start_iso) start_iso = json_string_value(json_object_get(json_array_get(tpo, 0), "date"));
  int32_t start = 0;
  if (!start_iso || rcy_recist_date_parse(&start, start_iso, &e)) {
    rc = warn(c, err, "%s: no treatment start or baseline date: response NE", subject);
    goto done;
  }
  const json_t *best = NULL;
  int32_t best_dist = 0, best_day = 0;
  for (size_t i = 1; i < json_array_size(tpo); i++) {
    const json_t *t = json_array_get(tpo, i);
    int32_t d;
    const char *iso = json_string_value(json_object_get(t, "date"));
    if (!iso || rcy_recist_date_parse(&d, iso, &e)) continue;
    int32_t day = d - start, dist = abs(day - TARGET_DAYS);
    if (day < lo || day > hi) continue;
    if (!best || dist < best_dist) best = t, best_dist = dist, best_day = day; /* ties: the earlier */
  }
  if (!best) {
    rc = warn(c, err,
              "%s: no assessment %d-%d days after the treatment start (%s) in the final central read: "
              "response NE",
              subject, lo, hi, start_iso);
    goto done;
  }
  const char *tp = json_string_value(json_object_get(best, "timepoint"));
  const char *resp = json_string_value(json_object_get(best, "overall_response"));
  snprintf(c->patients[p].response_3m, sizeof c->patients[p].response_3m, "%s", resp ? resp : "NE");
  const json_t *bl = json_array_get(json_object_get(in, "assessments"), 0),
               *at = tp ? find_assessment(in, tp) : NULL;
  for (size_t t = 0; !rc && t < c->n_tumours; t++) {
    rcy_dose_cohort_tumour *tu = &c->tumours[t];
    if (tu->patient != p) continue;
    const json_t *b = find_target(bl, tu->lesion_id), *f = at ? find_target(at, tu->lesion_id) : NULL;
    double b_mm = json_number_value(json_object_get(b, "diameter_mm")), f_mm;
    if (!b) {
      rc = warn(c, err, "%s %s: not a target lesion of the final central read: %% change left empty", subject,
                tu->lesion_id);
    } else if (!(b_mm > 0) || !f || !diameter_at(&f_mm, f)) {
      rc = warn(c, err, "%s %s: no measured diameter at %s (day %d): %% change left empty", subject,
                tu->lesion_id, tp ? tp : "?", (int)best_day);
    } else {
      tu->pct_change_3m = 100.0 * (f_mm - b_mm) / b_mm;
    }
  }
done:
  free(emsg);
  json_decref(out);
  return rc;
}

int rcy_dose_cohort_fill_archive(rcy_dose_cohort *c, const rcy_store_location *archive, int window_min_days,
                                 int window_max_days, rcy_error *err) {
  if (!c || !archive) return rcy_error_set(err, RCY_EINVAL, "no cohort or archive");
  if (window_min_days < 0 || window_max_days < window_min_days)
    return rcy_error_set(err, RCY_EINVAL, "window %d-%d days: must be 0 <= min <= max", window_min_days,
                         window_max_days);
  rcy_store *store;
  int rc = rcy_store_open_at(&store, archive, err);
  if (rc) return rc;
  /* the endpoints' reads: each subject's final central read, its signed timepoints only, timed from the
   * registry's treatment start (rcy_reads_engine_input_timed) */
  rcy_review_settings s;
  json_t *reads = NULL;
  rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&reads, store, &s, "central", err);
  for (size_t p = 0; !rc && p < c->n_patients; p++)
    rc = fill_patient(c, p, reads, window_min_days, window_max_days, err);
  json_decref(reads);
  rcy_store_close(store);
  return rc;
}
