/* Study completeness and QC: once a study has been silent for stable_age seconds its slices are checked
 * (series count; per image series: gaps, inconsistent spacing, duplicate positions, slice thickness above
 * 5 mm, mixed orientation) and it is marked complete or qc-warning with its findings. The geometry comes from
 * the index, so no file is reopened. */
#include "ingest_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/log.h"

#define RECIST_MAX_THICKNESS_MM 5.0

static int add(rcy_ingest_qc_result *r, const char *series_uid, const char *code, const char *severity,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add(rcy_ingest_qc_result *r, const char *series_uid, const char *code, const char *severity,
               const char *fmt, ...) {
  rcy_archive_finding *f = realloc(r->findings, (r->n_findings + 1) * sizeof *f);
  if (!f) return RCY_ENOMEM;
  r->findings = f;
  f = &r->findings[r->n_findings];
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  f->series_uid = series_uid ? strdup(series_uid) : NULL;
  f->code = code;
  f->severity = severity;
  f->message = strdup(msg);
  if (!f->message || (series_uid && !f->series_uid)) {
    free((char *)f->series_uid);
    free((char *)f->message);
    return RCY_ENOMEM;
  }
  r->n_findings++;
  if (strcmp(severity, "info") != 0) r->warning = 1;
  return RCY_OK;
}

void rcy_ingest_qc_result_clear(rcy_ingest_qc_result *r) {
  for (size_t i = 0; i < r->n_findings; i++) {
    free((char *)r->findings[i].series_uid);
    free((char *)r->findings[i].message);
  }
  free(r->findings);
  memset(r, 0, sizeof *r);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Checks one series: slices s[0..n) all of the same series. */
static int check_series(rcy_ingest_qc_result *r, const rcy_archive_slice *s, size_t n) {
  const char *uid = s[0].series_uid;
  int rc = RCY_OK;
  double thickest = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i].has_slice_thickness && s[i].slice_thickness_mm > thickest) thickest = s[i].slice_thickness_mm;
  if (thickest > RECIST_MAX_THICKNESS_MM + 1e-6 &&
      (rc = add(r, uid, "thick_slices", "warning",
                "slice thickness %.2f mm exceeds %.0f mm: too thick to measure 10 mm lesions by RECIST 1.1", thickest,
                RECIST_MAX_THICKNESS_MM)))
    return rc;
  /* Geometry needs position and orientation on every slice of a multi-slice series. */
  size_t n_geo = 0;
  const rcy_archive_slice *first = NULL;
  for (size_t i = 0; i < n; i++)
    if (s[i].has_position && s[i].has_orientation) {
      n_geo++;
      if (!first) first = &s[i];
    }
  if (n_geo < 2) return RCY_OK;
  int mixed = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(s[i].has_position && s[i].has_orientation)) continue;
    for (int k = 0; k < 6; k++)
      if (fabs(s[i].orientation[k] - first->orientation[k]) > 1e-3) mixed = 1;
  }
  if (mixed)
    return add(r, uid, "orientation_mixed", "warning",
               "slices with different orientations in one series: not a single volume");
  const double *o = first->orientation;
  double nx = o[1] * o[5] - o[2] * o[4], ny = o[2] * o[3] - o[0] * o[5], nz = o[0] * o[4] - o[1] * o[3];
  double *d = malloc(n_geo * sizeof *d);
  if (!d) return RCY_ENOMEM;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i].has_position && s[i].has_orientation)
      d[m++] = s[i].position_mm[0] * nx + s[i].position_mm[1] * ny + s[i].position_mm[2] * nz;
  qsort(d, m, sizeof *d, cmp_double);
  double *gap = malloc((m - 1) * sizeof *gap);
  if (!gap) {
    free(d);
    return RCY_ENOMEM;
  }
  for (size_t i = 0; i + 1 < m; i++) gap[i] = d[i + 1] - d[i];
  double *sorted = malloc((m - 1) * sizeof *sorted);
  if (!sorted) {
    free(d);
    free(gap);
    return RCY_ENOMEM;
  }
  memcpy(sorted, gap, (m - 1) * sizeof *sorted);
  qsort(sorted, m - 1, sizeof *sorted, cmp_double);
  /* lower median of the m - 1 gaps: with one gap missing out of few, the regular spacing still wins */
  double median = sorted[(m - 2) / 2], lo = sorted[0], hi = sorted[m - 2];
  if (lo < 1e-3) rc = add(r, uid, "duplicate_position", "warning", "two or more slices at the same position");
  size_t worst = 0;
  for (size_t i = 0; i + 1 < m; i++)
    if (gap[i] > gap[worst]) worst = i;
  if (!rc && median > 1e-3 && gap[worst] > 1.5 * median)
    rc = add(r, uid, "slice_gap", "warning", "gap of %.2f mm between slices at %.2f and %.2f mm (spacing %.2f mm)",
             gap[worst], d[worst], d[worst + 1], median);
  else if (!rc && median > 1e-3 && hi - lo > 0.1 * median + 0.01)
    rc = add(r, uid, "spacing_inconsistent", "warning", "slice spacing varies from %.2f to %.2f mm", lo, hi);
  free(d);
  free(gap);
  free(sorted);
  return rc;
}

int rcy_ingest_qc_slices(rcy_ingest_qc_result *out, const rcy_archive_slice *slices, size_t n, rcy_error *err) {
  memset(out, 0, sizeof *out);
  /* Slices come grouped by series (the index query orders them so); count and check each group. */
  int n_series = 0, rc = RCY_OK;
  for (size_t i = 0; i < n && !rc;) {
    size_t j = i;
    while (j < n && strcmp(slices[j].series_uid, slices[i].series_uid) == 0) j++;
    n_series++;
    rc = check_series(out, slices + i, j - i);
    i = j;
  }
  if (!rc) rc = add(out, NULL, "series_count", n_series ? "info" : "warning", "%d series, %zu instances", n_series, n);
  if (rc) {
    rcy_ingest_qc_result_clear(out);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory during QC");
  }
  return RCY_OK;
}

int rcy_ingest_check_stable(int *n_checked, rcy_store *store, int stable_age_s, rcy_error *err) {
  *n_checked = 0;
  char before[21], now[21];
  rcy_archive_timestamp(before, (long long)time(NULL) - stable_age_s);
  char **uids;
  size_t n;
  int rc = rcy_archive_stable_studies(&uids, &n, store, before, err);
  if (rc) return rc;
  for (size_t i = 0; i < n && !rc; i++) {
    char last[32];
    rcy_archive_slice *slices = NULL;
    size_t ns = 0;
    if ((rc = rcy_archive_study_last_received(last, store, uids[i], err))) break;
    if ((rc = rcy_archive_study_slices(&slices, &ns, store, uids[i], err))) break;
    rcy_ingest_qc_result q;
    rc = rcy_ingest_qc_slices(&q, slices, ns, err);
    rcy_archive_slices_free(slices);
    if (rc) break;
    int applied = 0;
    rcy_archive_timestamp(now, -1);
    const char *status = q.warning ? "qc-warning" : "complete";
    rc = rcy_archive_set_study_qc(&applied, store, uids[i], last, status, q.findings, q.n_findings, now, err);
    if (!rc && applied) {
      (*n_checked)++;
      rcy_log(q.warning ? RCY_LOG_WARN : RCY_LOG_INFO, "ingest", "study %s: %s (%zu finding(s))", uids[i], status,
              q.n_findings);
    }
    rcy_ingest_qc_result_clear(&q);
  }
  rcy_archive_strings_free(uids, n);
  return rc;
}
