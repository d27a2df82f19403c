/* The statistics of the TARE cohort analyses: Mann–Whitney U, logistic regression by Newton–Raphson, the ROC
 * curve with its Youden threshold, Spearman's rho, Bland–Altman and Lin's concordance correlation, and the
 * cluster bootstrap. Pure arithmetic on arrays, no I/O.
 *
 * Hand-written because no C library in the build does these (GSL is not a dependency and has neither the
 * exact Mann–Whitney distribution nor Lin's CCC); each follows the definition of the tool the tests compare
 * it with (scipy.stats.mannwhitneyu and spearmanr, R's glm, sklearn.metrics.roc_curve, the formula of Lin
 * 1989), so that "agrees to 1e-6" is a meaningful check. docs/dosimetry.md "Cohort analyses". */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/dose.h"
#include "recistry/qa.h"

static int check_finite(const double *v, size_t n, const char *what, rcy_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return rcy_error_set(err, RCY_EINVAL, "%s: value %zu is not a finite number", what, i + 1);
  return RCY_OK;
}

static double normal_sf(double z) {
  return 0.5 * erfc(z / M_SQRT2);
}

/* Average ranks (1-based) of v; tie_term receives sum(t^3 - t) over the groups of ties. */
typedef struct {
  double v;
  size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b) {
  double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
  return x < y ? -1 : x > y ? 1 : 0;
}

static int average_ranks(double *rank, const double *v, size_t n, double *tie_term, rcy_error *err) {
  ranked *r = malloc((n ? n : 1) * sizeof *r);
  if (!r) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    r[i] = (ranked){v[i], i};
  qsort(r, n, sizeof *r, cmp_ranked);
  double tt = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && r[j].v == r[i].v)
      j++;
    double avg = (double)(i + j + 1) / 2.0; /* ranks i+1 .. j */
    for (size_t k = i; k < j; k++)
      rank[r[k].i] = avg;
    double t = (double)(j - i);
    tt += t * t * t - t;
    i = j;
  }
  free(r);
  if (tie_term) *tie_term = tt;
  return RCY_OK;
}

/* ---- Mann–Whitney ---------------------------------------------------------------------------------- */

/* P(U >= u) under the null for sizes m, n without ties: the number of orderings with each U, counted by the
 * recurrence f(u; i, j) = f(u - j; i - 1, j) + f(u; i, j - 1) (the largest value is from the first sample,
 * above all j of the second, or from the second), over C(m + n, m). Counts in doubles: C(m+n, m) stays far
 * below DBL_MAX for the sizes the exact method is used at (one sample of at most 8). */
static int mwu_exact_sf(double *p, size_t m, size_t n, double u, rcy_error *err) {
  size_t umax = m * n;
  double *cnt = calloc((m + 1) * (umax + 1), sizeof *cnt);
  if (!cnt) return rcy_error_set(err, RCY_ENOMEM, "out of memory (exact Mann-Whitney)");
#define C(i, k) cnt[(i) * (umax + 1) + (k)]
  for (size_t i = 0; i <= m; i++)
    C(i, 0) = 1; /* j = 0: one ordering, U = 0 */
  for (size_t j = 1; j <= n; j++)
    for (size_t i = 1; i <= m; i++)
      for (size_t k = umax + 1; k-- > j;)
        C(i, k) += C(i - 1, k - j);
  double total = 0, tail = 0;
  for (size_t k = 0; k <= umax; k++) {
    total += C(m, k);
    if ((double)k >= u - 1e-9) tail += C(m, k);
  }
#undef C
  free(cnt);
  *p = tail / total;
  return RCY_OK;
}

int rcy_dose_mannwhitney(rcy_dose_mwu *out, const double *x, size_t nx, const double *y, size_t ny,
                         rcy_error *err) {
  memset(out, 0, sizeof *out);
  if (nx == 0 || ny == 0)
    return rcy_error_set(err, RCY_EINVAL, "Mann-Whitney: one group is empty (%zu and %zu values)", nx, ny);
  if (nx + ny < 3) return rcy_error_set(err, RCY_EINVAL, "Mann-Whitney: fewer than 3 values (%zu)", nx + ny);
  int rc = check_finite(x, nx, "Mann-Whitney, first group", err);
  if (!rc) rc = check_finite(y, ny, "Mann-Whitney, second group", err);
  if (rc) return rc;
  size_t n = nx + ny;
  double *all = malloc(n * sizeof *all), *rank = malloc(n * sizeof *rank);
  if (!all || !rank) {
    free(all), free(rank);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  memcpy(all, x, nx * sizeof *x);
  memcpy(all + nx, y, ny * sizeof *y);
  double tie_term = 0;
  rc = average_ranks(rank, all, n, &tie_term, err);
  double r1 = 0;
  for (size_t i = 0; i < nx; i++)
    r1 += rank[i];
  free(all), free(rank);
  if (rc) return rc;
  out->n1 = nx, out->n2 = ny;
  out->u1 = r1 - (double)nx * (double)(nx + 1) / 2.0;
  double u2 = (double)nx * (double)ny - out->u1, u = fmax(out->u1, u2);
  out->exact = !(nx > 8 && ny > 8) && tie_term == 0;
  double p = NAN;
  if (out->exact) {
    rc = mwu_exact_sf(&p, nx, ny, u, err);
    if (rc) return rc;
  } else {
    double mu = (double)nx * (double)ny / 2.0, N = (double)n;
    double s = sqrt((double)nx * (double)ny / 12.0 * ((N + 1) - tie_term / (N * (N - 1))));
    if (!(s > 0)) return rcy_error_set(err, RCY_EINVAL, "Mann-Whitney: all values are equal");
    p = normal_sf((u - mu - 0.5) / s);
  }
  out->p = fmin(1.0, fmax(0.0, 2 * p));
  return RCY_OK;
}

/* ---- logistic regression ---------------------------------------------------------------------------- */

int rcy_dose_logistic_fit(rcy_dose_logistic *out, const double *x, const int *y, size_t n, rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->b0 = out->b1 = out->x50 = NAN;
  if (n < 3) return rcy_error_set(err, RCY_EINVAL, "logistic model: fewer than 3 observations (%zu)", n);
  int rc = check_finite(x, n, "logistic model", err);
  if (rc) return rc;
  size_t events = 0;
  double min1 = INFINITY, max1 = -INFINITY, min0 = INFINITY, max0 = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (y[i])
      events++, min1 = fmin(min1, x[i]), max1 = fmax(max1, x[i]);
    else
      min0 = fmin(min0, x[i]), max0 = fmax(max0, x[i]);
  }
  out->n = n, out->n_events = events;
  if (events == 0 || events == n)
    return rcy_error_set(err, RCY_EINVAL, "logistic model: all %zu observations have the same outcome (%s)",
                         n, events ? "all responders/events" : "no responder/event");
  if (max0 <= min1 || max1 <= min0)
    return rcy_error_set(
        err, RCY_EINVAL,
        "logistic model: the outcome is perfectly separated by the dose (every %s at or above "
        "%.4g Gy, every other at or below it): the maximum likelihood estimate does not exist",
        max0 <= min1 ? "responder/event" : "non-responder/non-event", max0 <= min1 ? min1 : min0);
  /* Centre and scale x so that Newton's steps are well conditioned; transform back at the end. */
  double mx = 0, sx = 0;
  for (size_t i = 0; i < n; i++)
    mx += x[i];
  mx /= (double)n;
  for (size_t i = 0; i < n; i++)
    sx += (x[i] - mx) * (x[i] - mx);
  sx = sqrt(sx / (double)n);
  if (!(sx > 0))
    return rcy_error_set(err, RCY_EINVAL, "logistic model: the dose is the same for every observation");
  double a = 0, b = 0, ll = -INFINITY, i00 = 0, i01 = 0, i11 = 0;
  int it;
  for (it = 1; it <= 100; it++) {
    double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0, newll = 0;
    for (size_t i = 0; i < n; i++) {
      double z = (x[i] - mx) / sx, eta = a + b * z;
      double p = 1.0 / (1.0 + exp(-eta)), w = p * (1 - p);
      g0 += y[i] - p, g1 += (y[i] - p) * z;
      h00 += w, h01 += w * z, h11 += w * z * z;
      newll += y[i] ? -log1p(exp(-eta)) : -log1p(exp(eta));
    }
    double det = h00 * h11 - h01 * h01;
    if (!(det > 0) || !isfinite(det))
      return rcy_error_set(err, RCY_EINVAL, "logistic model: singular information matrix (iteration %d)", it);
    double da = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
    a += da, b += db;
    i00 = h00, i01 = h01, i11 = h11;
    if (fabs(newll - ll) < 1e-12 * (fabs(newll) + 1e-12) && fabs(da) < 1e-10 && fabs(db) < 1e-10) break;
    ll = newll;
    if (fabs(b) > 50)
      return rcy_error_set(err, RCY_EINVAL,
                           "logistic model: the slope diverges (near separation of the outcome by "
                           "the dose): no finite estimate");
  }
  if (it > 100)
    return rcy_error_set(err, RCY_EINVAL,
                         "logistic model: Newton-Raphson did not converge in 100 iterations");
  /* Information at the final estimate (the loop's last one is one step behind; recompute). */
  double llf = 0;
  i00 = i01 = i11 = 0;
  for (size_t i = 0; i < n; i++) {
    double z = (x[i] - mx) / sx, eta = a + b * z, p = 1.0 / (1.0 + exp(-eta)), w = p * (1 - p);
    i00 += w, i01 += w * z, i11 += w * z * z;
    llf += y[i] ? -log1p(exp(-eta)) : -log1p(exp(eta));
  }
  double det = i00 * i11 - i01 * i01;
  double va = i11 / det, vb = i00 / det, cab = -i01 / det;
  /* x = mx + sx z: b1 = b / sx, b0 = a - b mx / sx; covariance by the same linear map. */
  out->b1 = b / sx;
  out->b0 = a - b * mx / sx;
  double vb1 = vb / (sx * sx);
  double vb0 = va - 2 * (mx / sx) * cab + (mx / sx) * (mx / sx) * vb;
  out->se_b1 = sqrt(vb1);
  out->se_b0 = sqrt(vb0);
  out->z_b1 = out->b1 / out->se_b1;
  out->p_b1 = 2 * normal_sf(fabs(out->z_b1));
  out->x50 = -out->b0 / out->b1;
  out->loglik = llf;
  out->iterations = it;
  return RCY_OK;
}

/* ---- ROC --------------------------------------------------------------------------------------------- */

static int cmp_desc(const void *a, const void *b) {
  double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
  return x > y ? -1 : x < y ? 1 : 0;
}

int rcy_dose_roc_compute(rcy_dose_roc *out, const double *score, const int *y, size_t n, rcy_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 3) return rcy_error_set(err, RCY_EINVAL, "ROC: fewer than 3 observations (%zu)", n);
  int rc = check_finite(score, n, "ROC", err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    if (y[i])
      out->n_pos++;
    else
      out->n_neg++;
  }
  if (!out->n_pos || !out->n_neg)
    return rcy_error_set(err, RCY_EINVAL, "ROC: no %s among the %zu observations",
                         out->n_pos ? "non-responder/non-event" : "responder/event", n);
  ranked *r = malloc(n * sizeof *r);
  out->points = malloc((n + 1) * sizeof *out->points);
  if (!r || !out->points) {
    free(r);
    rcy_dose_roc_free(out);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    r[i] = (ranked){score[i], i};
  qsort(r, n, sizeof *r, cmp_desc);
  out->points[0] = (rcy_dose_roc_point){INFINITY, 0, 0};
  out->n_points = 1;
  size_t tp = 0, fp = 0;
  double auc = 0, best = -INFINITY;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    for (; j < n && r[j].v == r[i].v; j++) {
      if (y[r[j].i])
        tp++;
      else
        fp++;
    }
    rcy_dose_roc_point pt = {r[i].v, (double)fp / (double)out->n_neg, (double)tp / (double)out->n_pos};
    const rcy_dose_roc_point *prev = &out->points[out->n_points - 1];
    auc += (pt.fpr - prev->fpr) * (pt.tpr + prev->tpr) / 2;
    out->points[out->n_points++] = pt;
    double J = pt.tpr - pt.fpr;
    if (J > best + 1e-12) {
      best = J;
      out->youden_j = J, out->youden_threshold = pt.threshold, out->youden_tpr = pt.tpr,
      out->youden_fpr = pt.fpr;
    }
    i = j;
  }
  free(r);
  out->auc = auc;
  return RCY_OK;
}

void rcy_dose_roc_free(rcy_dose_roc *roc) {
  if (!roc) return;
  free(roc->points);
  roc->points = NULL;
  roc->n_points = 0;
}

/* ---- Spearman ------------------------------------------------------------------------------------------ */

int rcy_dose_spearman_compute(rcy_dose_spearman *out, const double *x, const double *y, size_t n,
                              rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->rho = out->p = NAN;
  if (n < 3) return rcy_error_set(err, RCY_EINVAL, "Spearman: fewer than 3 pairs (%zu)", n);
  int rc = check_finite(x, n, "Spearman, x", err);
  if (!rc) rc = check_finite(y, n, "Spearman, y", err);
  if (rc) return rc;
  double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
  if (!rx || !ry) {
    free(rx), free(ry);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  rc = average_ranks(rx, x, n, NULL, err);
  if (!rc) rc = average_ranks(ry, y, n, NULL, err);
  double m = (double)(n + 1) / 2, sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; !rc && i < n; i++) {
    sxy += (rx[i] - m) * (ry[i] - m);
    sxx += (rx[i] - m) * (rx[i] - m);
    syy += (ry[i] - m) * (ry[i] - m);
  }
  free(rx), free(ry);
  if (rc) return rc;
  if (!(sxx > 0) || !(syy > 0))
    return rcy_error_set(err, RCY_EINVAL, "Spearman: %s is the same for every pair", sxx > 0 ? "y" : "x");
  out->n = n;
  out->rho = sxy / sqrt(sxx * syy);
  double df = (double)n - 2, r = out->rho;
  if (n < 3 || fabs(r) >= 1.0 - 1e-15) {
    out->p = n < 3 ? NAN : 0.0;
  } else {
    double t2 = r * r * df / ((1 - r) * (1 + r));
    /* two-sided Student t tail: I_{df/(df+t^2)}(df/2, 1/2) */
    out->p = rcy_qa_beta_inc(df / (df + t2), df / 2, 0.5);
  }
  return RCY_OK;
}

/* ---- agreement ------------------------------------------------------------------------------------------
 */

static void mean_sd(const double *v, size_t n, double *mean, double *sd) {
  double m = 0, s = 0;
  for (size_t i = 0; i < n; i++)
    m += v[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++)
    s += (v[i] - m) * (v[i] - m);
  *mean = m;
  *sd = n > 1 ? sqrt(s / (double)(n - 1)) : NAN;
}

int rcy_dose_agreement_compute(rcy_dose_agreement *out, const double *pre, const double *post, size_t n,
                               rcy_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 3) return rcy_error_set(err, RCY_EINVAL, "agreement: fewer than 3 pairs (%zu)", n);
  int rc = check_finite(pre, n, "agreement, MAA dose", err);
  if (!rc) rc = check_finite(post, n, "agreement, 90Y dose", err);
  if (rc) return rc;
  double *d = malloc(n * sizeof *d), *dp = malloc(n * sizeof *dp);
  if (!d || !dp) {
    free(d), free(dp);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  size_t np = 0;
  for (size_t i = 0; i < n; i++) {
    d[i] = post[i] - pre[i];
    double m = (post[i] + pre[i]) / 2;
    if (m != 0) dp[np++] = 100 * d[i] / m;
  }
  out->n = n;
  mean_sd(d, n, &out->bias_gy, &out->sd_gy);
  out->loa_low_gy = out->bias_gy - 1.96 * out->sd_gy;
  out->loa_high_gy = out->bias_gy + 1.96 * out->sd_gy;
  out->n_pct = np;
  out->bias_pct = out->sd_pct = out->loa_low_pct = out->loa_high_pct = NAN;
  if (np >= 2) {
    mean_sd(dp, np, &out->bias_pct, &out->sd_pct);
    out->loa_low_pct = out->bias_pct - 1.96 * out->sd_pct;
    out->loa_high_pct = out->bias_pct + 1.96 * out->sd_pct;
  }
  free(d), free(dp);
  /* Lin 1989: moments with 1/n. */
  double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0, N = (double)n;
  for (size_t i = 0; i < n; i++)
    mx += pre[i], my += post[i];
  mx /= N, my /= N;
  for (size_t i = 0; i < n; i++) {
    sxx += (pre[i] - mx) * (pre[i] - mx);
    syy += (post[i] - my) * (post[i] - my);
    sxy += (pre[i] - mx) * (post[i] - my);
  }
  sxx /= N, syy /= N, sxy /= N;
  out->mean_pre_gy = mx, out->mean_post_gy = my;
  if (!(sxx > 0) || !(syy > 0))
    return rcy_error_set(err, RCY_EINVAL,
                         "agreement: the %s dose is the same for every pair (no correlation)",
                         sxx > 0 ? "90Y" : "MAA");
  double r = sxy / sqrt(sxx * syy), pc = 2 * sxy / (sxx + syy + (mx - my) * (mx - my));
  out->pearson_r = r;
  out->ccc = pc;
  out->ccc_low = out->ccc_high = NAN;
  if (fabs(pc) < 1 && n > 2 && r != 0) {
    double u = (mx - my) / sqrt(sqrt(sxx * syy)), u2 = u * u, pc2 = pc * pc, r2 = r * r, q = 1 - pc2;
    double var = ((1 - r2) * pc2 / (q * r2) + 2 * pc2 * pc * (1 - pc) * u2 / (r * q * q) -
                  pc2 * pc2 * u2 * u2 / (2 * r2 * q * q)) /
                 (N - 2);
    if (var > 0) {
      double z = atanh(pc), se = sqrt(var);
      out->ccc_low = tanh(z - 1.959963984540054 * se);
      out->ccc_high = tanh(z + 1.959963984540054 * se);
    }
  }
  return RCY_OK;
}

/* ---- bootstrap ------------------------------------------------------------------------------------------
 */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in 0..k-1 without modulo bias (Lemire's rejection would do too; k is small). */
static size_t draw(uint64_t *s, size_t k) {
  uint64_t lim = UINT64_MAX - UINT64_MAX % k, v;
  do
    v = splitmix64(s);
  while (v >= lim);
  return (size_t)(v % k);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

int rcy_dose_bootstrap_binary(rcy_dose_bootstrap *out, const double *x, const int *y, const size_t *cluster,
                              size_t n, size_t n_clusters, size_t replicates, uint64_t seed, rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->auc_low = out->auc_high = out->threshold_low = out->threshold_high = out->diff_low = out->diff_high =
      NAN;
  out->replicates = replicates;
  if (n < 3) return rcy_error_set(err, RCY_EINVAL, "bootstrap: fewer than 3 observations (%zu)", n);
  if (!cluster) n_clusters = n;
  if (n_clusters == 0) return rcy_error_set(err, RCY_EINVAL, "bootstrap: no cluster");
  for (size_t i = 0; cluster && i < n; i++)
    if (cluster[i] >= n_clusters)
      return rcy_error_set(err, RCY_EINVAL, "bootstrap: cluster index out of range");
  if (replicates == 0) return RCY_OK;
  /* Members of each cluster, contiguous: start[c] .. start[c+1] in member[]. */
  size_t *start = calloc(n_clusters + 1, sizeof *start), *member = malloc(n * sizeof *member);
  size_t *fill = calloc(n_clusters, sizeof *fill);
  double *bx = NULL; /* one replicate's observations */
  int *by = NULL;
  double *auc = malloc(replicates * sizeof *auc), *thr = malloc(replicates * sizeof *thr),
         *dif = malloc(replicates * sizeof *dif);
  /* A replicate can hold more observations than n (a big cluster drawn many times): size for the worst. */
  size_t maxc = 0;
  int rc = RCY_OK;
  if (!start || !member || !fill || !auc || !thr || !dif)
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (!rc) {
    for (size_t i = 0; i < n; i++)
      start[(cluster ? cluster[i] : i) + 1]++;
    for (size_t c = 0; c < n_clusters; c++) {
      if (start[c + 1] > maxc) maxc = start[c + 1];
      start[c + 1] += start[c];
    }
    for (size_t i = 0; i < n; i++) {
      size_t c = cluster ? cluster[i] : i;
      member[start[c] + fill[c]++] = i;
    }
    bx = malloc(maxc * n_clusters * sizeof *bx);
    by = malloc(maxc * n_clusters * sizeof *by);
    if (!bx || !by) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  uint64_t state = seed ^ 0x6a09e667f3bcc908ULL;
  rcy_error ignore = {0};
  for (size_t b = 0; !rc && b < replicates; b++) {
    size_t m = 0;
    for (size_t k = 0; k < n_clusters; k++) {
      size_t c = draw(&state, n_clusters);
      for (size_t j = start[c]; j < start[c + 1]; j++)
        bx[m] = x[member[j]], by[m] = y[member[j]], m++;
    }
    double s1 = 0, s0 = 0;
    size_t n1 = 0, n0 = 0;
    for (size_t i = 0; i < m; i++) {
      if (by[i])
        s1 += bx[i], n1++;
      else
        s0 += bx[i], n0++;
    }
    if (!n1 || !n0 || m < 3) continue;
    rcy_dose_roc roc;
    if (rcy_dose_roc_compute(&roc, bx, by, m, &ignore)) continue;
    auc[out->valid] = roc.auc;
    thr[out->valid] = roc.youden_threshold;
    dif[out->valid] = s1 / (double)n1 - s0 / (double)n0;
    out->valid++;
    rcy_dose_roc_free(&roc);
  }
  if (!rc && out->valid >= 2) {
    qsort(auc, out->valid, sizeof *auc, cmp_double);
    qsort(thr, out->valid, sizeof *thr, cmp_double);
    qsort(dif, out->valid, sizeof *dif, cmp_double);
    out->auc_low = rcy_qa_quantile7(auc, out->valid, 0.025),
    out->auc_high = rcy_qa_quantile7(auc, out->valid, 0.975);
    out->threshold_low = rcy_qa_quantile7(thr, out->valid, 0.025);
    out->threshold_high = rcy_qa_quantile7(thr, out->valid, 0.975);
    out->diff_low = rcy_qa_quantile7(dif, out->valid, 0.025),
    out->diff_high = rcy_qa_quantile7(dif, out->valid, 0.975);
  }
  free(start), free(member), free(fill), free(bx), free(by), free(auc), free(thr), free(dif);
  return rc;
}
