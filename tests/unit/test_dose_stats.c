/* The statistics of the TARE cohort analyses (src/dose/analysis_stats.c): edge cases and properties that
 * follow from the definitions, checked by brute force here (the U statistic by counting pairs, the exact
 * p-value by enumerating the orderings, the logistic score equations at the optimum, AUC = U / (n1 n2)).
 * The numbers themselves are compared with scipy, sklearn and R in tests/integration/dose_response.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "recistry/dose.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static double brute_u(const double *x, size_t nx, const double *y, size_t ny) {
  double u = 0;
  for (size_t i = 0; i < nx; i++)
    for (size_t j = 0; j < ny; j++)
      u += x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0;
  return u;
}

static void test_mwu_exact_small(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_mwu m;
  /* 2 vs 2, no ties, x above y: U = 4, the most extreme of the C(4,2) = 6 orderings, each side: p = 2/6. */
  double x[] = {10, 11}, y[] = {1, 2};
  assert_int_equal(rcy_dose_mannwhitney(&m, x, 2, y, 2, &err), 0);
  assert_true(m.exact);
  NEAR(m.u1, 4, 0);
  NEAR(m.p, 1.0 / 3.0, 1e-15);
  /* 3 vs 3 interleaved: x = {1, 3, 5}, y = {2, 4, 6}: U1 = 3, U = max(3, 6) = 6; orderings with U >= 6 among
   * the 20: counted by brute force over every 3-subset of ranks 1..6. */
  double a[] = {1, 3, 5}, b[] = {2, 4, 6};
  assert_int_equal(rcy_dose_mannwhitney(&m, a, 3, b, 3, &err), 0);
  NEAR(m.u1, brute_u(a, 3, b, 3), 0);
  int tail = 0, total = 0;
  for (int s = 0; s < 64; s++) {
    if (__builtin_popcount(s) != 3) continue;
    total++;
    double r = 0; /* rank sum of the first sample */
    for (int k = 0; k < 6; k++)
      if (s & (1 << k)) r += k + 1;
    if (r - 6 >= 6) tail++;
  }
  assert_int_equal(total, 20);
  NEAR(m.p, fmin(1, 2.0 * tail / total), 1e-15);
}

/* 3 against 20 (the exact method: one sample of at most 8, no ties): the p-value against the enumeration of
 * the C(23, 3) = 1771 equally likely rank sets of the first sample. */
static void test_mwu_exact_unbalanced(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_mwu m;
  double x[3] = {14.5, 20.5, 22.5}, y[20];
  for (int i = 0; i < 20; i++) y[i] = i + 1; /* x's ranks: 15, 21, 23 */
  assert_int_equal(rcy_dose_mannwhitney(&m, x, 3, y, 20, &err), 0);
  assert_true(m.exact);
  NEAR(m.u1, brute_u(x, 3, y, 20), 0);
  double u = fmax(m.u1, 60 - m.u1);
  int tail = 0, total = 0;
  for (int a = 1; a <= 23; a++)
    for (int b = a + 1; b <= 23; b++)
      for (int c = b + 1; c <= 23; c++) {
        total++;
        if (a + b + c - 6 >= u) tail++;
      }
  assert_int_equal(total, 1771);
  NEAR(m.p, fmin(1, 2.0 * tail / total), 1e-14);
}

static void test_mwu_ties_use_normal(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_mwu m;
  double x[] = {100, 150, 150, 220, 300}, y[] = {80, 100, 120, 150};
  assert_int_equal(rcy_dose_mannwhitney(&m, x, 5, y, 4, &err), 0);
  assert_false(m.exact); /* ties: the normal approximation, as scipy's method='auto' */
  NEAR(m.u1, brute_u(x, 5, y, 4), 1e-12);
  assert_true(m.p > 0 && m.p <= 1);
  /* all values equal: no test */
  double e1[] = {5, 5}, e2[] = {5, 5};
  assert_int_not_equal(rcy_dose_mannwhitney(&m, e1, 2, e2, 2, &err), 0);
  /* an empty group and fewer than 3 values are refused with a message */
  assert_int_equal(rcy_dose_mannwhitney(&m, x, 5, y, 0, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "empty"));
  assert_int_equal(rcy_dose_mannwhitney(&m, x, 1, y, 1, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "fewer than 3"));
}

static void test_logistic_score_equations(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_logistic l;
  double x[] = {50, 80, 120, 150, 180, 200, 210, 250, 300, 400, 90, 260};
  int y[] = {0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0};
  size_t n = 12;
  assert_int_equal(rcy_dose_logistic_fit(&l, x, y, n, &err), 0);
  /* at the maximum likelihood the score is zero: sum(y - p) = 0 and sum((y - p) x) = 0 */
  double g0 = 0, g1 = 0;
  for (size_t i = 0; i < n; i++) {
    double p = 1 / (1 + exp(-(l.b0 + l.b1 * x[i])));
    g0 += y[i] - p, g1 += (y[i] - p) * x[i];
  }
  NEAR(g0, 0, 1e-8);
  NEAR(g1, 0, 1e-6);
  assert_true(l.b1 > 0 && l.se_b1 > 0 && l.se_b0 > 0);
  NEAR(l.x50, -l.b0 / l.b1, 1e-9);
}

static void test_logistic_separation_and_degenerate(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_logistic l;
  double x[] = {50, 80, 120, 150, 180, 200};
  int sep[] = {0, 0, 0, 1, 1, 1};
  assert_int_equal(rcy_dose_logistic_fit(&l, x, sep, 6, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "separated"));
  assert_true(isnan(l.b1)); /* no diverged number left behind */
  /* quasi-complete: the groups touch at one dose */
  double xq[] = {50, 80, 120, 120, 180, 200};
  int q[] = {0, 0, 0, 1, 1, 1};
  assert_int_equal(rcy_dose_logistic_fit(&l, xq, q, 6, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "separated"));
  int all[] = {1, 1, 1, 1, 1, 1};
  assert_int_equal(rcy_dose_logistic_fit(&l, x, all, 6, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "same outcome"));
  assert_int_equal(rcy_dose_logistic_fit(&l, x, sep, 2, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "fewer than 3"));
}

static void test_roc_ties_and_auc(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_roc r;
  double s[] = {100, 150, 150, 220, 300, 80, 100, 120, 150};
  int y[] = {1, 1, 1, 1, 1, 0, 0, 0, 0};
  assert_int_equal(rcy_dose_roc_compute(&r, s, y, 9, &err), 0);
  NEAR(r.auc, brute_u(s, 5, s + 5, 4) / 20.0, 1e-12);
  assert_true(isinf(r.points[0].threshold));
  assert_int_equal(r.n_points, 1 + 6); /* distinct scores: 300 220 150 120 100 80 */
  NEAR(r.points[r.n_points - 1].tpr, 1, 0);
  NEAR(r.points[r.n_points - 1].fpr, 1, 0);
  for (size_t i = 1; i < r.n_points; i++)
    assert_true(r.points[i].threshold < r.points[i - 1].threshold);
  /* Youden: at threshold 150, TPR 4/5 and FPR 1/4 -> J 0.55; brute force over the points */
  double best = -1, thr = 0;
  for (size_t i = 0; i < r.n_points; i++)
    if (r.points[i].tpr - r.points[i].fpr > best + 1e-12)
      best = r.points[i].tpr - r.points[i].fpr, thr = r.points[i].threshold;
  NEAR(r.youden_j, best, 1e-15);
  NEAR(r.youden_threshold, thr, 0);
  NEAR(r.youden_threshold, 150, 0);
  rcy_dose_roc_free(&r);
  int all[] = {1, 1, 1};
  assert_int_equal(rcy_dose_roc_compute(&r, s, all, 3, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "no non-responder"));
  assert_int_equal(rcy_dose_roc_compute(&r, s, y, 2, &err), RCY_EINVAL);
}

static void test_spearman(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_spearman sp;
  double x[] = {10, 20, 30, 40, 50}, y[] = {0, 0, 1, 1, 3};
  assert_int_equal(rcy_dose_spearman_compute(&sp, x, y, 5, &err), 0);
  /* ranks of y with ties: 1.5 1.5 3.5 3.5 5; Pearson of (1..5) with those */
  double ry[] = {1.5, 1.5, 3.5, 3.5, 5}, sxy = 0, syy = 0, sxx = 0;
  for (int i = 0; i < 5; i++)
    sxy += (i + 1 - 3) * (ry[i] - 3), sxx += (i + 1 - 3) * (i + 1 - 3), syy += (ry[i] - 3) * (ry[i] - 3);
  NEAR(sp.rho, sxy / sqrt(sxx * syy), 1e-14);
  assert_true(sp.p > 0 && sp.p < 1);
  double c[] = {2, 2, 2, 2, 2};
  assert_int_equal(rcy_dose_spearman_compute(&sp, x, c, 5, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "same"));
}

static void test_agreement(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_agreement g;
  double pre[] = {100, 150, 200, 250, 300};
  assert_int_equal(rcy_dose_agreement_compute(&g, pre, pre, 5, &err), 0);
  NEAR(g.bias_gy, 0, 0);
  NEAR(g.ccc, 1, 1e-15);
  double post[] = {110, 165, 220, 275, 330}; /* +10 %: bias 10 % of pre in Gy, CCC < 1 */
  assert_int_equal(rcy_dose_agreement_compute(&g, pre, post, 5, &err), 0);
  NEAR(g.bias_gy, 20, 1e-12);
  NEAR(g.bias_pct, 100 * 0.1 / 1.05, 1e-12);
  NEAR(g.pearson_r, 1, 1e-12);
  assert_true(g.ccc < 1 && g.ccc > 0.8);
  double noisy[] = {120, 140, 230, 240, 335};
  assert_int_equal(rcy_dose_agreement_compute(&g, pre, noisy, 5, &err), 0);
  assert_true(g.ccc_low < g.ccc && g.ccc < g.ccc_high);
  assert_int_equal(rcy_dose_agreement_compute(&g, pre, post, 2, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "fewer than 3"));
}

static void test_bootstrap(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_bootstrap a, b, c;
  double x[] = {50, 80, 120, 150, 180, 200, 210, 250, 300, 400, 90, 260};
  int y[] = {0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0};
  size_t cl[] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
  assert_int_equal(rcy_dose_bootstrap_binary(&a, x, y, cl, 12, 6, 500, 7, &err), 0);
  assert_int_equal(rcy_dose_bootstrap_binary(&b, x, y, cl, 12, 6, 500, 7, &err), 0);
  assert_int_equal(rcy_dose_bootstrap_binary(&c, x, y, cl, 12, 6, 500, 8, &err), 0);
  assert_memory_equal(&a, &b, sizeof a); /* deterministic from the seed */
  assert_true(a.auc_low != c.auc_low || a.diff_low != c.diff_low || a.diff_high != c.diff_high);
  assert_true(a.valid > 400 && a.valid <= 500);
  assert_true(a.auc_low <= a.auc_high && a.diff_low <= a.diff_high);
  cl[3] = 6;
  assert_int_equal(rcy_dose_bootstrap_binary(&a, x, y, cl, 12, 6, 10, 7, &err), RCY_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mwu_exact_small),
      cmocka_unit_test(test_mwu_exact_unbalanced),
      cmocka_unit_test(test_mwu_ties_use_normal),
      cmocka_unit_test(test_logistic_score_equations),
      cmocka_unit_test(test_logistic_separation_and_degenerate),
      cmocka_unit_test(test_roc_ties_and_auc),
      cmocka_unit_test(test_spearman),
      cmocka_unit_test(test_agreement),
      cmocka_unit_test(test_bootstrap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
