/* The distribution functions the endpoint statistics need: the regularized incomplete gamma (chi-square
 * p-values of the log-rank test) and the regularized incomplete beta with its inverse (Clopper–Pearson).
 *
 * Hand-written because the C library has neither and no Debian C library we already use does; the methods
 * are the standard ones (Numerical Recipes 3rd ed. §6.2, §6.4: series / Lentz continued fraction, each used
 * where it converges fast), iterated to full double precision. The inverse beta is plain bisection on
 * [0, 1] run until the interval cannot shrink: slower than Newton but it cannot diverge, and it is only
 * called a few times per report. tests/unit/test_qa_dist.c and tests/integration/endpoints_r.sh check
 * them against R's pchisq, pbeta and qbeta. */
#include <float.h>
#include <math.h>

#include "recistry/qa.h"

#define TINY 1e-300
#define MAX_ITER 100000

/* log of x^a e^-x / Γ(a), the common factor of P and Q. */
static double gamma_prefix_log(double a, double x) { return a * log(x) - x - lgamma(a); }

/* P(a, x) by its series, for x < a + 1. */
static double gamma_series(double a, double x) {
  double ap = a, del = 1.0 / a, sum = del;
  for (int i = 0; i < MAX_ITER; i++) {
    ap += 1.0;
    del *= x / ap;
    sum += del;
    if (fabs(del) < fabs(sum) * DBL_EPSILON) break;
  }
  return sum * exp(gamma_prefix_log(a, x));
}

/* Q(a, x) by its continued fraction (modified Lentz), for x ≥ a + 1. */
static double gamma_fraction(double a, double x) {
  double b = x + 1.0 - a, c = 1.0 / TINY, d = 1.0 / b, h = d;
  for (int i = 1; i < MAX_ITER; i++) {
    double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < TINY) d = TINY;
    c = b + an / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < DBL_EPSILON) break;
  }
  return exp(gamma_prefix_log(a, x)) * h;
}

double rcy_qa_gamma_p(double a, double x) {
  if (!(a > 0) || !(x >= 0) || isnan(x)) return NAN;
  if (x == 0) return 0.0;
  if (isinf(x)) return 1.0;
  return x < a + 1.0 ? gamma_series(a, x) : 1.0 - gamma_fraction(a, x);
}

double rcy_qa_gamma_q(double a, double x) {
  if (!(a > 0) || !(x >= 0) || isnan(x)) return NAN;
  if (x == 0) return 1.0;
  if (isinf(x)) return 0.0;
  /* Each tail from the expansion that gives it directly, so a small p-value keeps its relative accuracy. */
  return x < a + 1.0 ? 1.0 - gamma_series(a, x) : gamma_fraction(a, x);
}

double rcy_qa_chisq_upper(double x, double df) {
  if (!(df > 0)) return NAN;
  if (isnan(x)) return NAN;
  if (x <= 0) return 1.0;
  return rcy_qa_gamma_q(df / 2.0, x / 2.0);
}

/* The continued fraction of I_x(a, b) (NR betacf, modified Lentz). */
static double beta_fraction(double x, double a, double b) {
  double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (fabs(d) < TINY) d = TINY;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m < MAX_ITER; m++) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < TINY) d = TINY;
    c = 1.0 + aa / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < TINY) d = TINY;
    c = 1.0 + aa / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < DBL_EPSILON) break;
  }
  return h;
}

double rcy_qa_beta_inc(double x, double a, double b) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
  if (x == 0) return 0.0;
  if (x == 1) return 1.0;
  double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  /* The fraction converges fast for x < (a + 1)/(a + b + 2); otherwise use I_x(a, b) = 1 − I_{1−x}(b, a). */
  if (x < (a + 1.0) / (a + b + 2.0)) return exp(lbt) * beta_fraction(x, a, b) / a;
  return 1.0 - exp(lbt) * beta_fraction(1.0 - x, b, a) / b;
}

double rcy_qa_beta_inv(double p, double a, double b) {
  if (!(a > 0) || !(b > 0) || !(p >= 0) || !(p <= 1)) return NAN;
  if (p == 0) return 0.0;
  if (p == 1) return 1.0;
  double lo = 0.0, hi = 1.0;
  /* I_x is increasing in x: halve until lo and hi are adjacent doubles (at most ~1100 steps near 0, ~60
   * elsewhere). */
  for (int i = 0; i < 2000; i++) {
    double mid = lo + (hi - lo) / 2.0;
    if (mid <= lo || mid >= hi) break;
    if (rcy_qa_beta_inc(mid, a, b) < p)
      lo = mid;
    else
      hi = mid;
  }
  return lo + (hi - lo) / 2.0;
}
