/* rcy_qa statistics against textbook values (printed by R 4.2, survival 3.5-3): Clopper–Pearson
 * (binom.test), chi-square and beta distribution functions, type-7 quantiles, Kaplan–Meier and log-rank on
 * the Freireich et al. (Blood 1963) 6-MP leukaemia remission data (Kalbfleisch & Prentice; Klein &
 * Moeschberger 1.2), and print.survfit's midpoint median rule. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "recistry/qa.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_clopper_pearson(void **state) {
  (void)state;
  double lo, up;
  rcy_error err = {0};
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 7, 20, 0.95, &err), 0);
  NEAR(lo, 0.15390920478454115);
  NEAR(up, 0.59218853453282816);
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 0, 10, 0.95, &err), 0);
  NEAR(lo, 0.0);
  NEAR(up, 0.30849710781876083);
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 10, 10, 0.95, &err), 0);
  NEAR(lo, 0.69150289218123917);
  NEAR(up, 1.0);
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 300, 1000, 0.95, &err), 0);
  NEAR(lo, 0.27172111212914440);
  NEAR(up, 0.32946167869736598);
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 0, 0, 0.95, &err), RCY_EINVAL);
  assert_int_equal(rcy_qa_clopper_pearson(&lo, &up, 3, 2, 0.95, &err), RCY_EINVAL);
}

static void test_distributions(void **state) {
  (void)state;
  NEAR(rcy_qa_chisq_upper(3.84, 1), 0.050043521248705224);
  NEAR(rcy_qa_chisq_upper(20, 5), 0.0012497305630313755);
  NEAR(rcy_qa_chisq_upper(0.5, 4), 0.97350097883925613);
  assert_true(fabs(rcy_qa_chisq_upper(16.79294098921654, 1) / 4.1688091093345308e-05 - 1) < 1e-9);
  NEAR(rcy_qa_gamma_p(2.5, 1.0) + rcy_qa_gamma_q(2.5, 1.0), 1.0);
  NEAR(rcy_qa_beta_inc(0.3, 2, 5), 0.57982500000000015);
  NEAR(rcy_qa_beta_inv(0.025, 3, 8), 0.066739511177734467);
  NEAR(rcy_qa_beta_inc(rcy_qa_beta_inv(0.9, 0.5, 40), 0.5, 40), 0.9);
  assert_true(isnan(rcy_qa_beta_inc(1.5, 1, 1)));
}

static void test_quantile7(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4, 10};
  NEAR(rcy_qa_quantile7(x, 5, 0.25), 2.0);
  NEAR(rcy_qa_quantile7(x, 5, 0.5), 3.0);
  NEAR(rcy_qa_quantile7(x, 4, 0.5), 2.5);
  NEAR(rcy_qa_quantile7(x, 5, 0.9), 7.6);
  NEAR(rcy_qa_quantile7(x, 1, 0.75), 1.0);
  assert_true(isnan(rcy_qa_quantile7(x, 0, 0.5)));
}

/* Freireich 6-MP (group 0) and placebo (group 1) remission times in weeks; event 0 = censored. */
static const double leuk_t[] = {6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35,
                                1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23};
static const bool leuk_e[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static void test_km_freireich(void **state) {
  (void)state;
  rcy_qa_km km;
  rcy_error err = {0};
  assert_int_equal(rcy_qa_km_compute(&km, leuk_t, leuk_e, 21, &err), 0);
  assert_int_equal(km.n, 21);
  assert_int_equal(km.events, 9);
  assert_int_equal(km.n_points, 16); /* distinct times with an event or censoring */
  NEAR(km.points[0].t, 6);
  assert_int_equal(km.points[0].n_event, 3);
  assert_int_equal(km.points[0].n_censor, 1);
  NEAR(km.points[0].surv, 18.0 / 21.0); /* 0.857 */
  NEAR(km.points[0].std_err, 0.089087080637474794);
  NEAR(km.points[0].lower, 0.71981708391627042);
  NEAR(km.points[0].upper, 1.0);
  NEAR(km.median, 23);
  NEAR(km.median_lower, 16);
  assert_true(isnan(km.median_upper));
  rcy_qa_km_point p;
  assert_true(rcy_qa_km_at(&p, &km, 12.5));
  NEAR(p.surv, km.points[4].surv); /* the step at 11 (times 6, 7, 9, 10, 11, 13, ...) */
  NEAR(p.surv, 0.75294117647058811);
  assert_int_equal(p.n_risk, 12);
  assert_false(rcy_qa_km_at(&p, &km, 36));
  rcy_qa_km_free(&km);
}

static void test_km_midpoint_and_zero(void **state) {
  (void)state;
  const double t[] = {10, 20, 25, 40};
  const bool e[] = {1, 1, 0, 1};
  rcy_qa_km km;
  assert_int_equal(rcy_qa_km_compute(&km, t, e, 4, NULL), 0);
  NEAR(km.points[1].surv, 0.5);
  NEAR(km.median, 30); /* S = 0.5 from 20 to 40: print.survfit's midpoint */
  assert_true(km.points[3].surv == 0);
  assert_true(isnan(km.points[3].lower) && isnan(km.points[3].upper) && isinf(km.points[3].std_err));
  rcy_qa_km_free(&km);
  const double never[] = {5, 6};
  const bool none[] = {0, 0};
  assert_int_equal(rcy_qa_km_compute(&km, never, none, 2, NULL), 0);
  assert_true(isnan(km.median) && km.events == 0);
  rcy_qa_km_free(&km);
  const double neg[] = {-1};
  assert_int_equal(rcy_qa_km_compute(&km, neg, none, 1, NULL), RCY_EINVAL);
}

static void test_logrank_freireich(void **state) {
  (void)state;
  size_t g[42];
  for (size_t i = 0; i < 42; i++) g[i] = i < 21 ? 0 : 1;
  rcy_qa_logrank lr;
  rcy_error err = {0};
  assert_int_equal(rcy_qa_logrank_compute(&lr, leuk_t, leuk_e, g, 42, 2, &err), 0);
  NEAR(lr.chisq, 16.79294098921654);
  assert_int_equal(lr.df, 1);
  assert_true(fabs(lr.p / 4.1688091093345308e-05 - 1) < 1e-9);
  NEAR(lr.observed[0], 9);
  NEAR(lr.expected[0], 19.250500948031128);
  rcy_qa_logrank_free(&lr);
  /* A group with no subject: expected 0, dropped (df stays 1). */
  assert_int_equal(rcy_qa_logrank_compute(&lr, leuk_t, leuk_e, g, 42, 3, &err), 0);
  assert_int_equal(lr.df, 1);
  NEAR(lr.chisq, 16.79294098921654);
  rcy_qa_logrank_free(&lr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clopper_pearson),     cmocka_unit_test(test_distributions),
      cmocka_unit_test(test_quantile7),           cmocka_unit_test(test_km_freireich),
      cmocka_unit_test(test_km_midpoint_and_zero), cmocka_unit_test(test_logrank_freireich),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
