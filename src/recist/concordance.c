/* Agreement between two reads of the same subjects (site investigator vs central reader): confusion
 * matrices with percent agreement and Cohen's kappa with its 95 % CI (per timepoint label, pooled, and for
 * the BOR), progression agreement, the early/late discrepancy rates of Amit et al. (Eur J Cancer
 * 2011;47:1772), Bland–Altman of the sums of diameters and of their % change from baseline, and the
 * discordant subjects that go to adjudication. Subjects are paired by subject_id after sorting both reads
 * (n log n), timepoints by label. Every formula, with its reference: docs/qa.md, "Agreement statistics". */
#include "recistry/recist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const rcy_recist_response rcy_concordance_categories[RCY_CONCORDANCE_K] = {
    RCY_RECIST_CR, RCY_RECIST_PR, RCY_RECIST_SD, RCY_RECIST_NON_CR_NON_PD, RCY_RECIST_PD, RCY_RECIST_NE};

/* The 0.975 quantile of the standard normal (statsmodels' norm.isf(0.025)), for the kappa CI. The limits of
 * agreement keep Bland & Altman's 1.96. */
#define Z975 1.959963984540054
#define LOA_Z 1.96

static int category(rcy_recist_response r) {
  for (int i = 0; i < RCY_CONCORDANCE_K; i++)
    if (rcy_concordance_categories[i] == r) return i;
  return -1;
}

static bool table_add(rcy_concordance_table *t, rcy_recist_response a, rcy_recist_response b) {
  const int i = category(a), j = category(b);
  if (i < 0 || j < 0) return false;
  t->counts[i][j]++;
  t->n++;
  return true;
}

int rcy_concordance_kappa_with_ci(rcy_concordance_kappa_stats *out, const size_t *counts, size_t k,
                                  rcy_error *err) {
  if (k == 0) return rcy_error_set(err, RCY_EINVAL, "kappa of an empty table");
  double *row = calloc(2 * k, sizeof *row); /* row[i] = n_i. (first read), col[j] = n_.j (second read) */
  if (!row) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  double *col = row + k, n = 0, diag = 0, chance = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++) {
      const double x = (double)counts[i * k + j];
      row[i] += x;
      col[j] += x;
      n += x;
      if (i == j) diag += x;
    }
  for (size_t i = 0; i < k; i++)
    chance += row[i] * col[i];
  /* Counts are exact in doubles, so these two tests are exact: no 0/0 can pass for a kappa. */
  if (n <= 0 || chance >= n * n) {
    free(row);
    return rcy_error_set(err, RCY_EINVAL,
                         n <= 0 ? "kappa of an empty table" : "kappa undefined: chance agreement is 1");
  }
  const double po = diag / n, pe = chance / (n * n), kappa = (po - pe) / (1.0 - pe);

  /* Fleiss, Cohen & Everitt 1969 (unweighted kappa), with p_ij = n_ij / n, p_i. and p_.j the margins:
   * var = [Σ_i p_ii (1 − (p_i. + p_.i)(1 − κ))² + (1 − κ)² Σ_{i≠j} p_ij (p_.i + p_j.)² − (κ − pe (1 − κ))²]
   *       / (n (1 − pe)²) */
  double a = 0, b = 0;
  for (size_t i = 0; i < k; i++) {
    const double u = 1.0 - (row[i] + col[i]) / n * (1.0 - kappa);
    a += (double)counts[i * k + i] / n * u * u;
    for (size_t j = 0; j < k; j++)
      if (j != i) {
        const double w = (col[i] + row[j]) / n;
        b += (double)counts[i * k + j] / n * w * w;
      }
  }
  free(row);
  b *= (1.0 - kappa) * (1.0 - kappa);
  const double c = (kappa - pe * (1.0 - kappa)) * (kappa - pe * (1.0 - kappa));
  double var = (a + b - c) / ((1.0 - pe) * (1.0 - pe) * n);
  if (var < 0) var = 0; /* rounding: the variance is exactly 0 at perfect agreement */
  out->kappa = kappa;
  out->se = sqrt(var);
  out->ci95_lower = kappa - Z975 * out->se;
  out->ci95_upper = kappa + Z975 * out->se;
  return 0;
}

int rcy_concordance_kappa(double *out, const size_t *counts, size_t k, rcy_error *err) {
  rcy_concordance_kappa_stats st;
  const int rc = rcy_concordance_kappa_with_ci(&st, counts, k, err);
  if (rc == 0) *out = st.kappa;
  return rc;
}

static void table_finish(rcy_concordance_table *t) {
  size_t diag = 0;
  for (int i = 0; i < RCY_CONCORDANCE_K; i++)
    diag += t->counts[i][i];
  t->agreement_pct = t->n ? 100.0 * (double)diag / (double)t->n : 0.0;
  rcy_concordance_kappa_stats st = {0};
  t->has_kappa = rcy_concordance_kappa_with_ci(&st, &t->counts[0][0], RCY_CONCORDANCE_K, NULL) == 0;
  t->kappa = st.kappa;
  t->kappa_se = st.se;
  t->kappa_ci95_lower = st.ci95_lower;
  t->kappa_ci95_upper = st.ci95_upper;
}

/* P(|T| <= t) for Student's t with integer df: the finite sums of Abramowitz & Stegun 26.7.3 (odd df) and
 * 26.7.4 (even df), exact up to rounding. */
static double t_abs_cdf(double t, size_t df) {
  const double theta = atan(t / sqrt((double)df)), c = cos(theta), s = sin(theta);
  if (df == 1) return 2.0 * theta / M_PI;
  double term = df % 2 ? c : 1.0, sum = term;
  for (size_t k = df % 2 ? 3 : 2; k + 2 <= df; k += 2) {
    term *= c * c * (double)(k - 1) / (double)k;
    sum += term;
  }
  return df % 2 ? 2.0 / M_PI * (theta + s * sum) : s * sum;
}

double rcy_concordance_t975(size_t df) {
  if (df == 0) return NAN;
  if (df == 1) return tan(0.95 * M_PI / 2); /* Cauchy */
  const double v = (double)df, z = Z975, z2 = z * z;
  /* Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5): Newton's start, and the answer above 1000 df,
   * where its first omitted term is < 1e-14 while the exact sum, O(df) terms, accumulates rounding. */
  const double z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  double t = z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
             (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
             (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
  if (df > 1000) return t;
  /* Newton on P(|T| <= t) = 0.95 within a bracket that only shrinks; bisection when a step leaves it. */
  const double log_c = lgamma((v + 1) / 2) - lgamma(v / 2) - 0.5 * log(v * M_PI);
  double lo = z, hi = 100.0;
  for (int it = 0; it < 200; it++) {
    const double f = t_abs_cdf(t, df) - 0.95;
    if (f < 0)
      lo = t;
    else
      hi = t;
    const double density = 2.0 * exp(log_c - (v + 1) / 2 * log1p(t * t / v)); /* of |T| */
    double next = t - f / density;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (fabs(next - t) <= 4e-16 * t) return next;
    t = next;
  }
  return t;
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

static int add_label_table(rcy_concordance *c, size_t *cap, const char *label,
                           rcy_concordance_timepoint **out) {
  for (size_t i = 0; i < c->n_timepoint_labels; i++)
    if (strcmp(c->timepoints[i].timepoint, label) == 0) {
      *out = &c->timepoints[i];
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
  *out = t;
  return 0;
}

/* Appends one plot point; the statistics are computed from the points once every subject is paired. */
static int ba_add(rcy_concordance_bland_altman *ba, size_t *cap, const char *subject_id,
                  const char *timepoint, double first, double second) {
  if (ba->n == *cap) {
    const size_t ncap = *cap ? *cap * 2 : 64;
    void *q = realloc(ba->points, ncap * sizeof *ba->points);
    if (!q) return RCY_ENOMEM;
    ba->points = q;
    *cap = ncap;
  }
  ba->points[ba->n++] = (rcy_concordance_ba_point){subject_id, timepoint, first, second};
  return 0;
}

/* Two passes over the differences (mean, then squares around it): as stable as Welford, and the textbook
 * computation the tests compare with. */
static void ba_finish(rcy_concordance_bland_altman *ba) {
  const size_t n = ba->n;
  if (n == 0) return;
  double sum = 0, ss = 0;
  for (size_t i = 0; i < n; i++)
    sum += ba->points[i].first - ba->points[i].second;
  ba->mean_diff = sum / (double)n;
  if (n < 2) return;
  for (size_t i = 0; i < n; i++) {
    const double e = ba->points[i].first - ba->points[i].second - ba->mean_diff;
    ss += e * e;
  }
  ba->has_sd = true;
  ba->sd = sqrt(ss / (double)(n - 1));
  ba->loa_lower = ba->mean_diff - LOA_Z * ba->sd;
  ba->loa_upper = ba->mean_diff + LOA_Z * ba->sd;
  const double t = rcy_concordance_t975(n - 1);
  const double se_bias = ba->sd / sqrt((double)n);
  const double se_loa = ba->sd * sqrt(1.0 / (double)n + LOA_Z * LOA_Z / (2.0 * (double)(n - 1)));
  ba->mean_diff_ci95[0] = ba->mean_diff - t * se_bias;
  ba->mean_diff_ci95[1] = ba->mean_diff + t * se_bias;
  ba->loa_lower_ci95[0] = ba->loa_lower - t * se_loa;
  ba->loa_lower_ci95[1] = ba->loa_lower + t * se_loa;
  ba->loa_upper_ci95[0] = ba->loa_upper - t * se_loa;
  ba->loa_upper_ci95[1] = ba->loa_upper + t * se_loa;
}

/* Labels were met over subjects in id order, so a subject that missed FU1 would put FU2 first. Schedule
 * order instead: by mean days from baseline, ties kept in order met (insertion sort: stable; labels are
 * few). */
static void order_labels(rcy_concordance *c) {
  rcy_concordance_timepoint *tp = c->timepoints;
  for (size_t i = 0; i < c->n_timepoint_labels; i++)
    if (tp[i].table.n) tp[i].mean_days /= (double)tp[i].table.n;
  for (size_t i = 1; i < c->n_timepoint_labels; i++) {
    const rcy_concordance_timepoint x = tp[i];
    size_t j = i;
    for (; j > 0 && tp[j - 1].mean_days > x.mean_days; j--)
      tp[j] = tp[j - 1];
    tp[j] = x;
  }
}

typedef struct capacities {
  size_t labels, sum_points, change_points;
} capacities;

static int pair_subject(rcy_concordance *c, capacities *cap, const rcy_recist_result *f,
                        const rcy_recist_result *s) {
  table_add(&c->bor, f->best_overall_response, s->best_overall_response);
  for (size_t a = 0; a < f->n_timepoints; a++) {
    const rcy_recist_timepoint *tf = &f->timepoints[a];
    const rcy_recist_timepoint *ts = NULL;
    size_t b = 0;
    for (; b < s->n_timepoints; b++)
      if (strcmp(s->timepoints[b].timepoint, tf->timepoint) == 0) {
        ts = &s->timepoints[b];
        break;
      }
    if (!ts) continue;
    if (tf->has_sum && ts->has_sum &&
        ba_add(&c->bland_altman_sum_mm, &cap->sum_points, f->subject_id, tf->timepoint, tf->sum_mm,
               ts->sum_mm))
      return RCY_ENOMEM;
    /* Follow-ups only: at baseline the change is 0 by definition in both reads. */
    if (a > 0 && b > 0 && tf->has_change_from_baseline && ts->has_change_from_baseline &&
        ba_add(&c->bland_altman_change_pct, &cap->change_points, f->subject_id, tf->timepoint,
               tf->change_from_baseline_pct, ts->change_from_baseline_pct))
      return RCY_ENOMEM;
    if (tf->overall_response == RCY_RECIST_NULL || ts->overall_response == RCY_RECIST_NULL) continue;
    c->n_timepoints++;
    table_add(&c->all_timepoints, tf->overall_response, ts->overall_response);
    rcy_concordance_timepoint *t;
    if (add_label_table(c, &cap->labels, tf->timepoint, &t)) return RCY_ENOMEM;
    if (table_add(&t->table, tf->overall_response, ts->overall_response))
      t->mean_days += (double)(tf->date_days - f->timepoints[0].date_days); /* divided in order_labels */
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

  size_t i = 0, j = 0;
  capacities cap = {0};
  while (i < n_first || j < n_second) {
    const int cmp = i == n_first ? 1 : j == n_second ? -1 : strcmp(f[i]->subject_id, s[j]->subject_id);
    if (cmp < 0) {
      c->first_only[c->n_first_only++] = f[i++]->subject_id;
    } else if (cmp > 0) {
      c->second_only[c->n_second_only++] = s[j++]->subject_id;
    } else {
      c->n_subjects++;
      if (pair_subject(c, &cap, f[i++], s[j++])) goto nomem;
    }
  }
  order_labels(c);
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

  ba_finish(&c->bland_altman_sum_mm);
  ba_finish(&c->bland_altman_change_pct);
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
  free(c->bland_altman_sum_mm.points);
  free(c->bland_altman_change_pct.points);
  free(c);
}
