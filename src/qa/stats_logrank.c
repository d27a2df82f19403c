/* The log-rank test across k groups (Mantel 1966; Peto & Peto 1972), as R's survival::survdiff with
 * rho = 0. At each distinct event time with d events among n at risk (n_g in group g):
 *   E_g += d·n_g/n,   V_gh += d·(n − d)/(n − 1) · (n_g/n)(δ_gh − n_h/n)      (V's term is 0 when n = 1)
 * Groups with E_g = 0 are dropped (survdiff does so), then the first remaining group; on the rest
 * chisq = (O − E)ᵀ V⁻¹ (O − E), df = (groups with E > 0) − 1, p = P(χ²_df > chisq). The linear system is
 * solved by Gaussian elimination with partial pivoting (R's solve uses LAPACK's LU, the same method).
 * Pure: no I/O. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"

typedef struct gobs {
  double t;
  bool event;
  size_t group;
} gobs;

static int gobs_cmp(const void *a, const void *b) {
  const gobs *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

/* Solves A x = b (m×m, row-major, both overwritten; x in b). Returns false when A is singular. */
static bool solve(double *A, double *b, size_t m) {
  double scale = 0;
  for (size_t i = 0; i < m * m; i++) scale = fmax(scale, fabs(A[i]));
  for (size_t c = 0; c < m; c++) {
    size_t piv = c;
    for (size_t r = c + 1; r < m; r++)
      if (fabs(A[r * m + c]) > fabs(A[piv * m + c])) piv = r;
    if (!(fabs(A[piv * m + c]) > scale * 1e-12)) return false;
    if (piv != c) {
      for (size_t k = 0; k < m; k++) {
        double tmp = A[c * m + k];
        A[c * m + k] = A[piv * m + k];
        A[piv * m + k] = tmp;
      }
      double tmp = b[c];
      b[c] = b[piv];
      b[piv] = tmp;
    }
    for (size_t r = c + 1; r < m; r++) {
      double f = A[r * m + c] / A[c * m + c];
      if (f == 0) continue;
      for (size_t k = c; k < m; k++) A[r * m + k] -= f * A[c * m + k];
      b[r] -= f * b[c];
    }
  }
  for (size_t c = m; c-- > 0;) {
    double s = b[c];
    for (size_t k = c + 1; k < m; k++) s -= A[c * m + k] * b[k];
    b[c] = s / A[c * m + c];
  }
  return true;
}

int rcy_qa_logrank_compute(rcy_qa_logrank *out, const double *time, const bool *event, const size_t *group,
                           size_t n, size_t n_groups, rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->p = NAN;
  if (n_groups == 0) return rcy_error_set(err, RCY_EINVAL, "log-rank: no groups");
  for (size_t i = 0; i < n; i++) {
    if (group[i] >= n_groups) return rcy_error_set(err, RCY_EINVAL, "log-rank: group of #%zu out of range", i + 1);
    if (!isfinite(time[i]) || time[i] < 0)
      return rcy_error_set(err, RCY_EINVAL, "log-rank: time #%zu is negative or not finite", i + 1);
  }
  const size_t k = n_groups;
  gobs *o = malloc((n ? n : 1) * sizeof *o);
  double *V = calloc(k * k, sizeof *V);
  size_t *risk = calloc(k, sizeof *risk), *dg = calloc(k, sizeof *dg), *keep = calloc(k, sizeof *keep);
  out->observed = calloc(k, sizeof *out->observed);
  out->expected = calloc(k, sizeof *out->expected);
  int rc = 0;
  if (!o || !V || !risk || !dg || !keep || !out->observed || !out->expected) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto done;
  }
  out->n_groups = k;
  for (size_t i = 0; i < n; i++) {
    o[i] = (gobs){time[i], event[i], group[i]};
    risk[group[i]]++;
  }
  qsort(o, n, sizeof *o, gobs_cmp);
  size_t at_risk = n;
  for (size_t i = 0; i < n;) {
    size_t j = i, d = 0;
    memset(dg, 0, k * sizeof *dg);
    while (j < n && o[j].t == o[i].t) {
      if (o[j].event) {
        d++;
        dg[o[j].group]++;
      }
      j++;
    }
    if (d) {
      const double nn = (double)at_risk, dd = (double)d;
      const double kk = at_risk > 1 ? dd * (nn - dd) / (nn - 1.0) : 0.0;
      for (size_t g = 0; g < k; g++) {
        const double pg = (double)risk[g] / nn;
        out->observed[g] += (double)dg[g];
        out->expected[g] += dd * pg;
        for (size_t h = 0; h < k; h++) V[g * k + h] += kk * pg * ((g == h) - (double)risk[h] / nn);
      }
    }
    for (size_t m = i; m < j; m++) risk[o[m].group]--;
    at_risk -= j - i;
    i = j;
  }

  size_t m = 0;
  for (size_t g = 0; g < k; g++)
    if (out->expected[g] > 0) keep[m++] = g;
  out->df = m > 0 ? (int)m - 1 : 0;
  out->chisq = 0;
  if (m >= 2) {
    const size_t r = m - 1; /* drop the first kept group */
    double *A = malloc(r * r * sizeof *A), *b = malloc(r * sizeof *b), *b0 = malloc(r * sizeof *b0);
    if (!A || !b || !b0) {
      free(A), free(b), free(b0);
      rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t x = 0; x < r; x++) {
      const size_t gx = keep[x + 1];
      b[x] = b0[x] = out->observed[gx] - out->expected[gx];
      for (size_t y = 0; y < r; y++) A[x * r + y] = V[gx * k + keep[y + 1]];
    }
    if (!solve(A, b, r)) {
      rc = rcy_error_set(err, RCY_EINVAL, "log-rank: the variance matrix is singular");
    } else {
      double chi = 0;
      for (size_t x = 0; x < r; x++) chi += b[x] * b0[x];
      out->chisq = chi;
      out->p = rcy_qa_chisq_upper(chi, (double)out->df);
    }
    free(A), free(b), free(b0);
  }
done:
  free(o);
  free(V);
  free(risk);
  free(dg);
  free(keep);
  if (rc) rcy_qa_logrank_free(out);
  return rc;
}

void rcy_qa_logrank_free(rcy_qa_logrank *lr) {
  if (!lr) return;
  free(lr->observed);
  free(lr->expected);
  lr->observed = lr->expected = NULL;
  lr->n_groups = 0;
}
