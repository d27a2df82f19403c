/* Agreement between two reads of the same subjects (site investigator vs central reader): confusion
 * matrices with percent agreement and Cohen's kappa (per timepoint label, pooled, and for the BOR),
 * progression agreement, the early/late discrepancy rates of Amit et al. (Eur J Cancer 2011;47:1772),
 * Bland–Altman of the sums of diameters, and the discordant subjects that go to adjudication.
 * Subjects are paired by subject_id after sorting both reads (n log n), timepoints by label. */
#include "recistry/recist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const rcy_recist_response rcy_concordance_categories[RCY_CONCORDANCE_K] = {
    RCY_RECIST_CR, RCY_RECIST_PR, RCY_RECIST_SD, RCY_RECIST_NON_CR_NON_PD, RCY_RECIST_PD, RCY_RECIST_NE};

static int category(rcy_recist_response r) {
  for (int i = 0; i < RCY_CONCORDANCE_K; i++)
    if (rcy_concordance_categories[i] == r) return i;
  return -1;
}

static void table_add(rcy_concordance_table *t, rcy_recist_response a, rcy_recist_response b) {
  const int i = category(a), j = category(b);
  if (i < 0 || j < 0) return;
  t->counts[i][j]++;
  t->n++;
}

int rcy_concordance_kappa(double *out, const size_t *counts, size_t k, rcy_error *err) {
  double n = 0, diag = 0, chance = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++) {
      n += (double)counts[i * k + j];
      if (i == j) diag += (double)counts[i * k + j];
    }
  if (n <= 0) return rcy_error_set(err, RCY_EINVAL, "kappa of an empty table");
  for (size_t i = 0; i < k; i++) {
    double row = 0, col = 0;
    for (size_t j = 0; j < k; j++) {
      row += (double)counts[i * k + j];
      col += (double)counts[j * k + i];
    }
    chance += row * col;
  }
  const double po = diag / n, pe = chance / (n * n);
  if (pe >= 1.0) return rcy_error_set(err, RCY_EINVAL, "kappa undefined: chance agreement is 1");
  *out = (po - pe) / (1.0 - pe);
  return 0;
}

static void table_finish(rcy_concordance_table *t) {
  size_t diag = 0;
  for (int i = 0; i < RCY_CONCORDANCE_K; i++)
    diag += t->counts[i][i];
  t->agreement_pct = t->n ? 100.0 * (double)diag / (double)t->n : 0.0;
  t->has_kappa = rcy_concordance_kappa(&t->kappa, &t->counts[0][0], RCY_CONCORDANCE_K, NULL) == 0;
  if (!t->has_kappa) t->kappa = 0.0;
}

/* qsort has no context argument in C11: sorting pointers to the results needs none (and no global). */
static int by_subject(const void *a, const void *b) {
  const rcy_recist_result *const *x = a, *const *y = b;
  return strcmp((*x)->subject_id, (*y)->subject_id);
}

static int sorted(const rcy_recist_result ***out, const rcy_recist_result *r, size_t n, const char *which,
                  rcy_error *err) {
  const rcy_recist_result **p = malloc((n ? n : 1) * sizeof *p);
  if (!p) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (!r[i].subject_id) {
      free(p);
      return rcy_error_set(err, RCY_EINVAL, "%s read: subject %zu was not evaluated", which, i + 1);
    }
    p[i] = &r[i];
  }
  qsort(p, n, sizeof *p, by_subject);
  for (size_t i = 1; i < n; i++)
    if (strcmp(p[i]->subject_id, p[i - 1]->subject_id) == 0) {
      int rc = rcy_error_set(err, RCY_EINVAL, "%s read: subject %s appears twice", which, p[i]->subject_id);
      free(p);
      return rc;
    }
  *out = p;
  return 0;
}

static const char *pd_label(const rcy_recist_result *r) {
  return r->progression.present ? r->timepoints[r->progression.index].timepoint : NULL;
}

static int add_label_table(rcy_concordance *c, size_t *cap, const char *label, rcy_concordance_table **out) {
  for (size_t i = 0; i < c->n_timepoint_labels; i++)
    if (strcmp(c->timepoints[i].timepoint, label) == 0) {
      *out = &c->timepoints[i].table;
      return 0;
    }
  if (c->n_timepoint_labels == *cap) {
    size_t ncap = *cap ? *cap * 2 : 8;
    void *q = realloc(c->timepoints, ncap * sizeof *c->timepoints);
    if (!q) return RCY_ENOMEM;
    c->timepoints = q;
    *cap = ncap;
  }
  rcy_concordance_timepoint *t = &c->timepoints[c->n_timepoint_labels++];
  memset(t, 0, sizeof *t);
  t->timepoint = label;
  *out = &t->table;
  return 0;
}

static int pair_subject(rcy_concordance *c, size_t *label_cap, const rcy_recist_result *f,
                        const rcy_recist_result *s, double *ba_mean, double *ba_m2) {
  table_add(&c->bor, f->best_overall_response, s->best_overall_response);
  for (size_t a = 0; a < f->n_timepoints; a++) {
    const rcy_recist_timepoint *tf = &f->timepoints[a];
    const rcy_recist_timepoint *ts = NULL;
    for (size_t b = 0; b < s->n_timepoints && !ts; b++)
      if (strcmp(s->timepoints[b].timepoint, tf->timepoint) == 0) ts = &s->timepoints[b];
    if (!ts) continue;
    if (tf->has_sum && ts->has_sum) { /* Welford: stable mean and variance in one pass */
      const double d = tf->sum_mm - ts->sum_mm;
      if (c->bland_altman.n == c->bland_altman.points_cap) {
        size_t ncap = c->bland_altman.points_cap ? 2 * c->bland_altman.points_cap : 16;
        void *q = realloc(c->bland_altman.points, ncap * sizeof *c->bland_altman.points);
        if (!q) return RCY_ENOMEM;
        c->bland_altman.points = q;
        c->bland_altman.points_cap = ncap;
      }
      c->bland_altman.points[c->bland_altman.n] =
          (struct rcy_concordance_ba_point){f->subject_id, tf->timepoint, tf->sum_mm, ts->sum_mm};
      c->bland_altman.n++;
      const double delta = d - *ba_mean;
      *ba_mean += delta / (double)c->bland_altman.n;
      *ba_m2 += delta * (d - *ba_mean);
    }
    if (tf->overall_response == RCY_RECIST_NULL || ts->overall_response == RCY_RECIST_NULL) continue;
    c->n_timepoints++;
    table_add(&c->all_timepoints, tf->overall_response, ts->overall_response);
    rcy_concordance_table *t;
    if (add_label_table(c, label_cap, tf->timepoint, &t)) return RCY_ENOMEM;
    table_add(t, tf->overall_response, ts->overall_response);
  }

  const bool pf = f->progression.present, ps = s->progression.present;
  const char *lf = pd_label(f), *ls = pd_label(s);
  if (pf && ps) {
    c->progression.both++;
    if (strcmp(lf, ls) == 0) c->progression.same_timepoint++;
    const int32_t df = f->timepoints[f->progression.index].date_days;
    const int32_t ds = s->timepoints[s->progression.index].date_days;
    if (df < ds) c->discrepancy.early++;
    if (df > ds) c->discrepancy.late++;
  } else if (pf) {
    c->progression.first_only++;
    c->discrepancy.investigator_only++;
  } else if (ps) {
    c->progression.second_only++;
    c->discrepancy.central_only++;
  } else {
    c->progression.neither++;
  }
  if (pf) c->discrepancy.investigator_pd++;

  unsigned reasons = 0;
  if (f->best_overall_response != s->best_overall_response) reasons |= RCY_CONCORDANCE_BOR_DIFFERS;
  if (pf != ps || (pf && strcmp(lf, ls) != 0)) reasons |= RCY_CONCORDANCE_PD_TIMEPOINT_DIFFERS;
  if (reasons) {
    rcy_concordance_discordant *d = &c->discordant[c->n_discordant++];
    d->subject_id = f->subject_id;
    d->reasons = reasons;
    d->first_bor = f->best_overall_response;
    d->second_bor = s->best_overall_response;
    d->first_pd_timepoint = lf;
    d->second_pd_timepoint = ls;
  }
  return 0;
}

int rcy_concordance_compute(rcy_concordance **out, const rcy_recist_result *first, size_t n_first,
                            const rcy_recist_result *second, size_t n_second, rcy_error *err) {
  *out = NULL;
  if ((n_first && !first) || (n_second && !second))
    return rcy_error_set(err, RCY_EINVAL, "rcy_concordance_compute: NULL read");
  const rcy_recist_result **f = NULL, **s = NULL;
  int rc;
  if ((rc = sorted(&f, first, n_first, "first", err))) return rc;
  if ((rc = sorted(&s, second, n_second, "second", err))) {
    free(f);
    return rc;
  }
  rcy_concordance *c = calloc(1, sizeof *c);
  const size_t most = n_first < n_second ? n_first : n_second;
  if (c) {
    c->first_only = malloc((n_first ? n_first : 1) * sizeof *c->first_only);
    c->second_only = malloc((n_second ? n_second : 1) * sizeof *c->second_only);
    c->discordant = malloc((most ? most : 1) * sizeof *c->discordant);
  }
  if (!c || !c->first_only || !c->second_only || !c->discordant) goto nomem;

  size_t i = 0, j = 0, label_cap = 0;
  double ba_mean = 0, ba_m2 = 0;
  while (i < n_first || j < n_second) {
    const int cmp = i == n_first ? 1 : j == n_second ? -1 : strcmp(f[i]->subject_id, s[j]->subject_id);
    if (cmp < 0) {
      c->first_only[c->n_first_only++] = f[i++]->subject_id;
    } else if (cmp > 0) {
      c->second_only[c->n_second_only++] = s[j++]->subject_id;
    } else {
      c->n_subjects++;
      if (pair_subject(c, &label_cap, f[i++], s[j++], &ba_mean, &ba_m2)) goto nomem;
    }
  }
  for (size_t t = 0; t < c->n_timepoint_labels; t++)
    table_finish(&c->timepoints[t].table);
  table_finish(&c->all_timepoints);
  table_finish(&c->bor);

  c->discrepancy.discrepancies = c->discrepancy.early + c->discrepancy.late +
                                 c->discrepancy.investigator_only + c->discrepancy.central_only;
  c->discrepancy.has_edr = c->discrepancy.investigator_pd > 0;
  if (c->discrepancy.has_edr)
    c->discrepancy.edr = (double)(c->discrepancy.early + c->discrepancy.investigator_only) /
                         (double)c->discrepancy.investigator_pd;
  c->discrepancy.has_ldr = c->discrepancy.discrepancies > 0;
  if (c->discrepancy.has_ldr)
    c->discrepancy.ldr =
        (double)(c->discrepancy.late + c->discrepancy.central_only) / (double)c->discrepancy.discrepancies;

  c->bland_altman.mean_diff_mm = ba_mean;
  c->bland_altman.has_sd = c->bland_altman.n >= 2;
  if (c->bland_altman.has_sd) {
    c->bland_altman.sd_mm = sqrt(ba_m2 / (double)(c->bland_altman.n - 1));
    c->bland_altman.loa_lower_mm = ba_mean - 1.96 * c->bland_altman.sd_mm;
    c->bland_altman.loa_upper_mm = ba_mean + 1.96 * c->bland_altman.sd_mm;
  }
  free(f);
  free(s);
  *out = c;
  return 0;
nomem:
  free(f);
  free(s);
  rcy_concordance_free(c);
  return rcy_error_set(err, RCY_ENOMEM, "out of memory");
}

void rcy_concordance_free(rcy_concordance *c) {
  if (!c) return;
  free(c->first_only);
  free(c->second_only);
  free(c->timepoints);
  free(c->discordant);
  free(c->bland_altman.points);
  free(c);
}
