/* Reading the TARE cohort tables (patients.csv, tumours.csv, toxicity.csv, concordance.csv) for the cohort
 * analyses. The CSV syntax is libcsv's (include/recistry/csv.h); here every field is checked against its
 * column's meaning, so that a wrong value stops the analysis with its file, line and column instead of
 * turning into a silent NaN. Columns are found by their header name (order free, extra columns ignored: a
 * site's export may carry more). docs/dosimetry.md "Cohort analyses" lists them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recistry/csv.h"
#include "recistry/dose.h"

enum { REQ = 1, OPT = 0 };

typedef struct {
  const char *name;
  int required; /* the column must exist and every value be present */
} column;

typedef struct reader reader;
typedef int (*row_fn)(reader *r, long line, char *const *v);

struct reader {
  const char *path;
  const column *cols;
  size_t n_cols;
  int index[16]; /* field index of each column, -1 when absent */
  size_t n_header;
  row_fn row;
  rcy_dose_cohort *c;
  rcy_error *err;
  long line;
  int col; /* which column is being parsed, for messages */
};

static int fail(reader *r, long line, int col, const char *fmt, const char *value) {
  int field = r->index[col] + 1;
  return rcy_error_set(r->err, RCY_EINVAL, "%s:%ld:%d: column '%s': %s%s%s%s", r->path, line, field,
                       r->cols[col].name, fmt, value ? ": '" : "", value ? value : "", value ? "'" : "");
}

/* A number in [lo, hi]; empty: NAN when the column is optional. */
static int num(reader *r, double *out, char *const *v, int col, double lo, double hi) {
  if (r->index[col] < 0) {
    *out = NAN;
    return RCY_OK;
  }
  const char *s = v[col];
  while (*s == ' ')
    s++;
  if (!*s) {
    if (r->cols[col].required) return fail(r, r->line, col, "a value is required", NULL);
    *out = NAN;
    return RCY_OK;
  }
  char *end;
  errno = 0;
  double d = strtod(s, &end);
  while (*end == ' ')
    end++;
  if (end == s || *end || errno == ERANGE || !isfinite(d))
    return fail(r, r->line, col, "not a number", v[col]);
  if (d < lo || d > hi) {
    char msg[96];
    snprintf(msg, sizeof msg, "out of range (%g to %g)", lo, hi);
    return fail(r, r->line, col, msg, v[col]);
  }
  *out = d;
  return RCY_OK;
}

static int text(reader *r, char *out, size_t size, char *const *v, int col) {
  const char *s = r->index[col] < 0 ? "" : v[col];
  if (!*s && r->cols[col].required) return fail(r, r->line, col, "a value is required", NULL);
  if (strlen(s) >= size) return fail(r, r->line, col, "too long", v[col]);
  snprintf(out, size, "%s", s);
  return RCY_OK;
}

static int find_patient(reader *r, size_t *out, char *const *v, int col) {
  for (size_t i = 0; i < r->c->n_patients; i++)
    if (strcmp(r->c->patients[i].subject, v[col]) == 0) {
      *out = i;
      return RCY_OK;
    }
  return fail(r, r->line, col, "subject not in patients.csv", v[col]);
}

static int on_row(void *ctx, long line, size_t n, char *const *fields) {
  reader *r = ctx;
  r->line = line;
  if (!r->n_header) { /* the header */
    r->n_header = n;
    for (size_t c = 0; c < r->n_cols; c++) {
      r->index[c] = -1;
      for (size_t f = 0; f < n; f++)
        if (strcmp(fields[f], r->cols[c].name) == 0) r->index[c] = (int)f;
      if (r->index[c] < 0 && r->cols[c].required)
        return rcy_error_set(r->err, RCY_EINVAL, "%s:%ld: the header has no column '%s'", r->path, line,
                             r->cols[c].name);
    }
    return RCY_OK;
  }
  if (n != r->n_header)
    return rcy_error_set(r->err, RCY_EINVAL, "%s:%ld: %zu fields where the header has %zu", r->path, line, n,
                         r->n_header);
  /* The row as the columns' values, in the columns' order ("" for an absent optional column). */
  char *v[16];
  static char empty[1] = "";
  for (size_t c = 0; c < r->n_cols; c++)
    v[c] = r->index[c] < 0 ? empty : fields[r->index[c]];
  return r->row(r, line, v);
}

static int grow(void **p, size_t n, size_t size, rcy_error *err) {
  if (n && (n < 8 || (n & (n - 1)))) return RCY_OK; /* capacity 8, then doubling at each power of two */
  size_t cap = n ? n * 2 : 8;
  void *q = realloc(*p, cap * size);
  if (!q) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  *p = q;
  return RCY_OK;
}

/* ---- patients.csv ---- */
static const column patient_cols[] = {{"subject", REQ},
                                      {"normal_liver_mean_gy", REQ},
                                      {"perfused_normal_liver_mean_gy", OPT},
                                      {"tumour_mean_gy", REQ},
                                      {"response_3m", REQ},
                                      {"ttp_days", OPT},
                                      {"progression", OPT},
                                      {"lsf", OPT}};

static int patient_row(reader *r, long line, char *const *v) {
  rcy_dose_cohort *c = r->c;
  int rc = grow((void **)&c->patients, c->n_patients, sizeof *c->patients, r->err);
  if (rc) return rc;
  rcy_dose_cohort_patient p = {0};
  double prog = NAN;
  if ((rc = text(r, p.subject, sizeof p.subject, v, 0))) return rc;
  for (size_t i = 0; i < c->n_patients; i++)
    if (strcmp(c->patients[i].subject, p.subject) == 0) return fail(r, line, 0, "subject listed twice", v[0]);
  if ((rc = num(r, &p.normal_liver_mean_gy, v, 1, 0, 1e4)) ||
      (rc = num(r, &p.perfused_normal_liver_mean_gy, v, 2, 0, 1e4)) ||
      (rc = num(r, &p.tumour_mean_gy, v, 3, 0, 1e5)))
    return rc;
  static const char *const responses[] = {"CR", "PR", "SD", "PD", "NE"};
  int ok = 0;
  for (int i = 0; i < 5; i++)
    ok |= strcmp(v[4], responses[i]) == 0;
  if (!ok) return fail(r, line, 4, "not one of CR, PR, SD, PD, NE", v[4]);
  snprintf(p.response_3m, sizeof p.response_3m, "%s", v[4]);
  snprintf(p.response_source, sizeof p.response_source, "csv");
  if ((rc = num(r, &p.ttp_days, v, 5, 0, 1e5)) || (rc = num(r, &prog, v, 6, 0, 1)) ||
      (rc = num(r, &p.lsf, v, 7, 0, 1)))
    return rc;
  if (!isnan(prog) && prog != 0 && prog != 1) return fail(r, line, 6, "must be 0 or 1", v[6]);
  p.progression = isnan(prog) ? -1 : (int)prog;
  if (isnan(p.ttp_days) != (p.progression < 0))
    return fail(r, line, isnan(p.ttp_days) ? 5 : 6, "ttp_days and progression go together (both or neither)",
                NULL);
  c->patients[c->n_patients++] = p;
  return RCY_OK;
}

/* ---- tumours.csv ---- */
static const column tumour_cols[] = {{"subject", REQ}, {"lesion_id", REQ}, {"mean_gy", REQ},
                                     {"d70_gy", OPT},  {"volume_ml", OPT}, {"pct_change_3m", OPT}};

static int tumour_row(reader *r, long line, char *const *v) {
  rcy_dose_cohort *c = r->c;
  int rc = grow((void **)&c->tumours, c->n_tumours, sizeof *c->tumours, r->err);
  if (rc) return rc;
  rcy_dose_cohort_tumour t = {0};
  if ((rc = text(r, t.lesion_id, sizeof t.lesion_id, v, 1)) || (rc = find_patient(r, &t.patient, v, 0)))
    return rc;
  for (size_t i = 0; i < c->n_tumours; i++)
    if (c->tumours[i].patient == t.patient && strcmp(c->tumours[i].lesion_id, t.lesion_id) == 0)
      return fail(r, line, 1, "lesion listed twice for this subject", v[1]);
  if ((rc = num(r, &t.mean_gy, v, 2, 0, 1e5)) || (rc = num(r, &t.d70_gy, v, 3, 0, 1e5)) ||
      (rc = num(r, &t.volume_ml, v, 4, 0, 1e5)) || (rc = num(r, &t.pct_change_3m, v, 5, -100, 1e4)))
    return rc;
  if (!isnan(t.volume_ml) && !(t.volume_ml > 0)) return fail(r, line, 4, "must be > 0", v[4]);
  snprintf(t.pct_change_source, sizeof t.pct_change_source, "csv");
  c->tumours[c->n_tumours++] = t;
  return RCY_OK;
}

/* ---- toxicity.csv ---- */
static const column tox_cols[] = {{"subject", REQ}, {"ctcae_term", REQ}, {"grade", REQ}, {"days", OPT}};

static int tox_row(reader *r, long line, char *const *v) {
  rcy_dose_cohort *c = r->c;
  int rc = grow((void **)&c->toxicity, c->n_toxicity, sizeof *c->toxicity, r->err);
  if (rc) return rc;
  rcy_dose_cohort_toxicity t = {0};
  double g;
  if ((rc = find_patient(r, &t.patient, v, 0)) || (rc = text(r, t.term, sizeof t.term, v, 1)) ||
      (rc = num(r, &g, v, 2, 0, 5)) || (rc = num(r, &t.days, v, 3, 0, 1e5)))
    return rc;
  if (g != floor(g)) return fail(r, line, 2, "a CTCAE grade is a whole number 0..5", v[2]);
  t.grade = (int)g;
  if (t.grade > c->patients[t.patient].max_grade) c->patients[t.patient].max_grade = t.grade;
  c->toxicity[c->n_toxicity++] = t;
  return RCY_OK;
}

/* ---- concordance.csv ---- */
static const column pair_cols[] = {{"subject", REQ}, {"compartment", REQ}, {"maa_gy", REQ}, {"y90_gy", REQ}};

static int pair_row(reader *r, long line, char *const *v) {
  rcy_dose_cohort *c = r->c;
  int rc = grow((void **)&c->pairs, c->n_pairs, sizeof *c->pairs, r->err);
  if (rc) return rc;
  rcy_dose_cohort_pair p = {0};
  if ((rc = find_patient(r, &p.patient, v, 0)) || (rc = text(r, p.compartment, sizeof p.compartment, v, 1)) ||
      (rc = num(r, &p.maa_gy, v, 2, 0, 1e5)) || (rc = num(r, &p.y90_gy, v, 3, 0, 1e5)))
    return rc;
  for (size_t i = 0; i < c->n_pairs; i++)
    if (c->pairs[i].patient == p.patient && strcmp(c->pairs[i].compartment, p.compartment) == 0)
      return fail(r, line, 1, "compartment listed twice for this subject", v[1]);
  c->pairs[c->n_pairs++] = p;
  return RCY_OK;
}

static int read_table(rcy_dose_cohort *c, const char *dir, const char *file, const column *cols,
                      size_t n_cols, row_fn row, int required, rcy_error *err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
    return rcy_error_set(err, RCY_EINVAL, "path too long: %s", dir);
  struct stat st;
  if (stat(path, &st) != 0) {
    if (!required) return RCY_OK;
    return rcy_error_set(err, RCY_ENOTFOUND, "%s: no such file (the cohort folder needs %s)", path, file);
  }
  reader r = {.path = path, .cols = cols, .n_cols = n_cols, .row = row, .c = c, .err = err};
  int rc = rcy_csv_read_file(path, on_row, &r, err);
  if (!rc && !r.n_header) rc = rcy_error_set(err, RCY_EINVAL, "%s: empty file (no header)", path);
  return rc;
}

int rcy_dose_cohort_read(rcy_dose_cohort **out, const char *dir, rcy_error *err) {
  *out = NULL;
  rcy_dose_cohort *c = calloc(1, sizeof *c);
  if (!c) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
#define N(a) (sizeof a / sizeof a[0])
  int rc = read_table(c, dir, "patients.csv", patient_cols, N(patient_cols), patient_row, 1, err);
  if (!rc) rc = read_table(c, dir, "tumours.csv", tumour_cols, N(tumour_cols), tumour_row, 1, err);
  if (!rc) rc = read_table(c, dir, "toxicity.csv", tox_cols, N(tox_cols), tox_row, 0, err);
  if (!rc) rc = read_table(c, dir, "concordance.csv", pair_cols, N(pair_cols), pair_row, 0, err);
#undef N
  if (!rc && c->n_patients == 0) rc = rcy_error_set(err, RCY_EINVAL, "%s/patients.csv: no subject", dir);
  if (rc) {
    rcy_dose_cohort_free(c);
    return rc;
  }
  *out = c;
  return RCY_OK;
}

void rcy_dose_cohort_free(rcy_dose_cohort *c) {
  if (!c) return;
  free(c->patients);
  free(c->tumours);
  free(c->toxicity);
  free(c->pairs);
  for (size_t i = 0; i < c->n_warnings; i++)
    free(c->warnings[i]);
  free(c->warnings);
  free(c);
}
