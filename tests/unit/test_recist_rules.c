/* RECIST 1.1 rules, one scenario per test: both overall-response tables row by row, every target-response
 * boundary, lesion states (too small, disappeared, split, merged), nodal CR, equivocal new lesions,
 * BOR with and without confirmation, SD duration, ETS, DpR and hepatic progression. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "../../src/recist/rules.h"
#include "recist_builder.h"

#define CR RCY_RECIST_CR
#define PR RCY_RECIST_PR
#define SD RCY_RECIST_SD
#define PD RCY_RECIST_PD
#define NE RCY_RECIST_NE
#define NCNP RCY_RECIST_NON_CR_NON_PD
#define NONE RCY_RECIST_NONE
#define MEAS RCY_RECIST_TARGET_MEASURED
#define PRESENT RCY_RECIST_NON_TARGET_PRESENT
#define ABSENT RCY_RECIST_NON_TARGET_ABSENT
#define UNEQ_PROG RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION
#define NT_NE RCY_RECIST_NON_TARGET_NOT_EVALUABLE

static int eval_opts(builder *b, const rcy_recist_options *o) {
  return rcy_recist_evaluate(&R, &b->s, o, &E);
}

static void eval_ok(builder *b) {
  int rc = eval_opts(b, NULL);
  if (rc) fail_msg("unexpected error: %s", E.message);
}

/* ---- Table 1 and Table 2, row by row ------------------------------------------------------------- */

static void test_table1_rows(void **state) {
  (void)state;
  const rcy_recist_response all_nt[] = {CR, NCNP, NE, NONE, PD};
  /* CR | CR or NONE | no → CR */
  assert_int_equal(rcy_recist_overall_response(true, CR, CR, false), CR);
  assert_int_equal(rcy_recist_overall_response(true, CR, NONE, false), CR);
  /* CR | NON_CR_NON_PD | no → PR ; CR | NE | no → PR */
  assert_int_equal(rcy_recist_overall_response(true, CR, NCNP, false), PR);
  assert_int_equal(rcy_recist_overall_response(true, CR, NE, false), PR);
  /* PR | NON_CR_NON_PD, NE or NONE | no → PR */
  assert_int_equal(rcy_recist_overall_response(true, PR, NCNP, false), PR);
  assert_int_equal(rcy_recist_overall_response(true, PR, NE, false), PR);
  assert_int_equal(rcy_recist_overall_response(true, PR, NONE, false), PR);
  /* SD | NON_CR_NON_PD, NE or NONE | no → SD */
  assert_int_equal(rcy_recist_overall_response(true, SD, NCNP, false), SD);
  assert_int_equal(rcy_recist_overall_response(true, SD, NE, false), SD);
  assert_int_equal(rcy_recist_overall_response(true, SD, NONE, false), SD);
  /* NE | not PD | no → NE */
  assert_int_equal(rcy_recist_overall_response(true, NE, CR, false), NE);
  assert_int_equal(rcy_recist_overall_response(true, NE, NCNP, false), NE);
  assert_int_equal(rcy_recist_overall_response(true, NE, NE, false), NE);
  assert_int_equal(rcy_recist_overall_response(true, NE, NONE, false), NE);
  for (size_t i = 0; i < sizeof all_nt / sizeof *all_nt; i++) {
    /* PD | any | any → PD */
    assert_int_equal(rcy_recist_overall_response(true, PD, all_nt[i], false), PD);
    assert_int_equal(rcy_recist_overall_response(true, PD, all_nt[i], true), PD);
  }
  const rcy_recist_response all_t[] = {CR, PR, SD, NE, PD};
  for (size_t i = 0; i < sizeof all_t / sizeof *all_t; i++) {
    /* any | PD | any → PD ; any | any | yes → PD */
    assert_int_equal(rcy_recist_overall_response(true, all_t[i], PD, false), PD);
    assert_int_equal(rcy_recist_overall_response(true, all_t[i], PD, true), PD);
    for (size_t j = 0; j < sizeof all_nt / sizeof *all_nt; j++)
      assert_int_equal(rcy_recist_overall_response(true, all_t[i], all_nt[j], true), PD);
  }
}

static void test_table2_rows(void **state) {
  (void)state;
  assert_int_equal(rcy_recist_overall_response(false, NONE, CR, false), CR);
  assert_int_equal(rcy_recist_overall_response(false, NONE, NCNP, false), NCNP);
  assert_int_equal(rcy_recist_overall_response(false, NONE, NE, false), NE);
  assert_int_equal(rcy_recist_overall_response(false, NONE, PD, false), PD);
  assert_int_equal(rcy_recist_overall_response(false, NONE, CR, true), PD);
  assert_int_equal(rcy_recist_overall_response(false, NONE, NCNP, true), PD);
  assert_int_equal(rcy_recist_overall_response(false, NONE, NE, true), PD);
}

/* Table 1 end to end: CR target + NON_CR_NON_PD non-target is PR overall. */
static void test_table1_through_engine(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S1");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_nt(&b, "NT1", "peritoneum", PRESENT);
  b_at(&b, "FU1", 42);
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  b_nt(&b, "NT1", NULL, PRESENT);
  b_at(&b, "FU2", 84);
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  b_nt(&b, "NT1", NULL, ABSENT);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, CR);
  assert_int_equal(R.timepoints[1].non_target_response, NCNP);
  assert_int_equal(R.timepoints[1].overall_response, PR);
  assert_int_equal(R.timepoints[2].non_target_response, CR);
  assert_int_equal(R.timepoints[2].overall_response, CR);
  assert_int_equal(R.timepoints[0].overall_response, RCY_RECIST_NULL);
}

/* Table 2 end to end: non-target disease only. */
static void test_table2_through_engine(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S2");
  b_at(&b, "BL", 0);
  b_nt(&b, "NT1", "peritoneum", PRESENT);
  b_nt(&b, "NT2", "lung", PRESENT);
  b_at(&b, "FU1", 42);
  b_nt(&b, "NT1", NULL, PRESENT);
  b_nt(&b, "NT2", NULL, ABSENT);
  b_at(&b, "FU2", 84);
  b_nt(&b, "NT1", NULL, ABSENT);
  b_nt(&b, "NT2", NULL, NT_NE);
  b_at(&b, "FU3", 126);
  b_nt(&b, "NT1", NULL, ABSENT);
  b_nt(&b, "NT2", NULL, ABSENT);
  b_at(&b, "FU4", 168);
  b_nt(&b, "NT1", NULL, UNEQ_PROG);
  b_nt(&b, "NT2", NULL, ABSENT);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, NONE);
  assert_false(R.timepoints[1].has_sum);
  assert_int_equal(R.timepoints[1].overall_response, NCNP);
  assert_int_equal(R.timepoints[2].overall_response, NE);
  assert_int_equal(R.timepoints[3].overall_response, CR);
  assert_int_equal(R.timepoints[4].overall_response, PD);
  assert_int_equal(R.progression.reasons, RCY_RECIST_REASON_NON_TARGET);
  /* CR at FU3 is not confirmed (PD next); the NON_CR_NON_PD at day 42 is long enough. */
  assert_int_equal(R.best_overall_response, NCNP);
  assert_false(R.early_tumour_shrinkage.present);
  assert_false(R.depth_of_response.present);
}

/* ---- target response boundaries ---------------------------------------------------------------- */

/* One target lesion: baseline then the given follow-up sizes (days 42, 84, ...). */
static void one_target(builder *b, const double *mm, size_t n) {
  static const char *labels[] = {"FU1", "FU2", "FU3", "FU4", "FU5", "FU6"};
  b_init(b, "S");
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, mm[0]);
  for (size_t i = 1; i < n; i++) {
    b_at(b, labels[i - 1], (int)(42 * i));
    b_mm(b, "T1", mm[i]);
  }
}

static void test_pr_exactly_30_pct(void **state) {
  (void)state;
  builder b;
  const double mm[] = {50, 35, 35.1};
  one_target(&b, mm, 3);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, PR);
  assert_true(fabs(R.timepoints[1].change_from_baseline_pct + 30.0) < 1e-9);
  assert_int_equal(R.timepoints[2].target_response, SD); /* -29.8 % */
}

static void test_pd_exactly_20_pct_and_5_mm(void **state) {
  (void)state;
  builder b;
  const double mm[] = {25, 30};
  one_target(&b, mm, 2);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, PD);
  assert_true(fabs(R.timepoints[1].change_from_nadir_pct - 20.0) < 1e-9);
  assert_true(R.timepoints[1].nadir_mm == 25.0);
}

static void test_20_pct_below_5_mm_is_not_pd(void **state) {
  (void)state;
  builder b;
  const double mm[] = {20, 24, 24.99};
  one_target(&b, mm, 3);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, SD); /* +20 % but only +4 mm */
  assert_int_equal(R.timepoints[2].target_response, SD); /* +24.95 % but +4.99 mm */
}

static void test_5_mm_below_20_pct_is_not_pd(void **state) {
  (void)state;
  builder b;
  const double mm[] = {50, 59.9};
  one_target(&b, mm, 2);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, SD); /* +9.9 mm, +19.8 % */
}

static void test_nadir_at_baseline_and_after(void **state) {
  (void)state;
  builder b;
  const double mm[] = {50, 30, 35.5, 36};
  one_target(&b, mm, 4);
  eval_ok(&b);
  assert_true(R.timepoints[1].nadir_mm == 50.0); /* nadir before FU1 = baseline */
  assert_int_equal(R.timepoints[1].target_response, PR);
  assert_true(R.timepoints[2].nadir_mm == 30.0);
  assert_int_equal(R.timepoints[2].target_response, SD); /* +18 % over the nadir, -29 % from baseline */
  assert_int_equal(R.timepoints[3].target_response, PD); /* +20 %, +6 mm over the nadir of 30 */
  assert_true(fabs(R.timepoints[3].change_from_nadir_pct - 20.0) < 1e-9);
}

static void two_targets_ne(builder *b, double t1_fu, bool t2_ne) {
  b_init(b, "S");
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, 20);
  b_bl(b, "T2", "lung", false, 30);
  b_at(b, "FU1", 42);
  b_mm(b, "T1", t1_fu);
  if (t2_ne)
    b_state(b, "T2", RCY_RECIST_TARGET_NOT_EVALUABLE);
  else
    b_mm(b, "T2", 30);
}

static void test_ne_without_pd(void **state) {
  (void)state;
  builder b;
  two_targets_ne(&b, 10, true);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, NE);
  assert_false(R.timepoints[1].has_sum);
  assert_true(R.timepoints[1].evaluable_sum_mm == 10.0);
  assert_int_equal(R.timepoints[1].overall_response, NE);
}

static void test_ne_with_pd(void **state) {
  (void)state;
  builder b;
  two_targets_ne(&b, 60, true); /* evaluable 60 ≥ 1.2 × 50 and +10 mm */
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, PD);
  assert_int_equal(R.progression.reasons, RCY_RECIST_REASON_TARGET);
  two_targets_ne(&b, 59.9, true);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, NE);
}

static void test_ne_never_becomes_nadir(void **state) {
  (void)state;
  builder b;
  two_targets_ne(&b, 5, true); /* partial sum 5 */
  b_at(&b, "FU2", 84);
  b_mm(&b, "T1", 12);
  b_mm(&b, "T2", 30); /* 42: would be PD against a nadir of 5 */
  eval_ok(&b);
  assert_true(R.timepoints[2].nadir_mm == 50.0);
  assert_int_equal(R.timepoints[2].target_response, SD);
}

/* ---- lesion states ------------------------------------------------------------------------------ */

static void test_too_small_counts_5_mm_and_small_measured_kept(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_bl(&b, "T2", "lung", false, 15);
  b_at(&b, "FU1", 42);
  b_state(&b, "T1", RCY_RECIST_TARGET_TOO_SMALL);
  b_mm(&b, "T2", 3.0);
  eval_ok(&b);
  assert_true(R.timepoints[1].sum_mm == 8.0);
  assert_int_equal(R.timepoints[1].target_response, PR); /* not CR: lesions still there */
}

static void test_disappeared_counts_zero_cr(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_at(&b, "FU1", 42);
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  eval_ok(&b);
  assert_true(R.timepoints[1].sum_mm == 0.0);
  assert_int_equal(R.timepoints[1].target_response, CR);
  assert_int_equal(R.timepoints[1].overall_response, CR);
  assert_true(R.timepoints[1].has_change_from_nadir); /* against the nadir of 20 before FU1 */
  assert_true(R.timepoints[1].change_from_nadir_pct == -100.0);
}

static void test_split_lesion_sums_fragments(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 40);
  b_at(&b, "FU1", 42);
  b_frag(&b, "T1", 12.5, 9.5);
  eval_ok(&b);
  assert_true(R.timepoints[1].sum_mm == 22.0);
  assert_int_equal(R.timepoints[1].target_response, PR);
}

static void test_merged_lesion_counts_zero(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 30);
  b_bl(&b, "T2", "liver", false, 20);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 45);
  b_merged(&b, "T2", "T1");
  eval_ok(&b);
  assert_true(R.timepoints[1].sum_mm == 45.0);
  assert_int_equal(R.timepoints[1].target_response, SD);
  assert_int_equal(R.n_warnings, 0);
}

static void test_nodal_cr_below_10_mm(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_bl(&b, "T2", "lymph node", true, 18);
  b_at(&b, "FU1", 42);
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  b_mm(&b, "T2", 9.9);
  b_at(&b, "FU2", 84);
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  b_mm(&b, "T2", 10.0);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, CR);
  assert_true(R.timepoints[1].sum_mm == 9.9);            /* nodes keep their real value in the sum */
  assert_int_equal(R.timepoints[2].target_response, PR); /* a 10 mm node is not normal */
}

/* ---- new lesions -------------------------------------------------------------------------------- */

static void test_equivocal_then_unequivocal_backdates(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 26, 25, 24};
  one_target(&b, mm, 4);
  b.a[1].new_lesions = b.w[1];
  b.w[1][0] = (rcy_recist_new_lesion){"N1", "liver", RCY_RECIST_NEW_EQUIVOCAL};
  b.a[1].n_new_lesions = 1;
  b.w[3][0] = (rcy_recist_new_lesion){"N1", NULL, RCY_RECIST_NEW_UNEQUIVOCAL};
  b.a[3].n_new_lesions = 1;
  eval_ok(&b);
  assert_false(R.timepoints[1].new_lesions);
  assert_true(R.timepoints[1].equivocal_new_lesions);
  assert_int_equal(R.timepoints[1].overall_response, PR); /* equivocal: not progression */
  assert_int_equal(R.timepoints[3].overall_response, PD);
  assert_true(R.progression.present);
  assert_int_equal(R.progression.index, 1);
  assert_int_equal(R.progression.confirmed_index, 3);
  assert_int_equal(R.progression.reasons, RCY_RECIST_REASON_NEW_LESION);
  /* The PRs at FU1–FU2 fall on or after the date progression is backdated to: BOR window ends at FU1. */
  assert_int_equal(R.best_overall_response, PD);
  /* The organ given at first sight makes it a liver lesion. */
  assert_true(R.hepatic_progression.present);
  assert_int_equal(R.hepatic_progression.index, 1);
}

static void test_equivocal_never_confirmed_is_not_pd(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 26, 25};
  one_target(&b, mm, 3);
  b.w[1][0] = (rcy_recist_new_lesion){"N1", "lung", RCY_RECIST_NEW_EQUIVOCAL};
  b.a[1].n_new_lesions = 1;
  eval_ok(&b);
  assert_false(R.progression.present);
  assert_int_equal(R.best_overall_response, PR);
}

/* ---- best overall response ---------------------------------------------------------------------- */

/* Overall responses at follow-ups on the given days, straight into the BOR rule. */
static rcy_recist_response bor(const rcy_recist_response *r, const int *days, size_t n, bool confirmation,
                               bool pd_seen) {
  rcy_recist_response overall[16] = {RCY_RECIST_NULL};
  int32_t dates[16] = {0};
  for (size_t i = 0; i < n; i++) {
    overall[i + 1] = r[i];
    dates[i + 1] = days[i];
  }
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  o.confirmation = confirmation;
  return rcy_recist_best_response(overall, dates, n + 1, pd_seen, true, 0, &o);
}

static void test_bor_confirmation(void **state) {
  (void)state;
  {
    const rcy_recist_response r[] = {PR, PR};
    const int d[] = {42, 70};
    assert_int_equal(bor(r, d, 2, true, false), PR); /* exactly 28 days */
  }
  {
    const rcy_recist_response r[] = {PR, PR};
    const int d[] = {42, 69};
    assert_int_equal(bor(r, d, 2, true, false), SD); /* 27 days: unconfirmed → SD */
    assert_int_equal(bor(r, d, 2, false, false), PR);
  }
  {
    const rcy_recist_response r[] = {CR, NE, CR};
    const int d[] = {42, 56, 84};
    assert_int_equal(bor(r, d, 3, true, false), CR); /* one NE between */
  }
  {
    const rcy_recist_response r[] = {CR, NE, NE, CR};
    const int d[] = {42, 56, 70, 84};
    assert_int_equal(bor(r, d, 4, true, false), SD); /* two NE between: neither CR nor PR confirmed */
  }
  {
    const rcy_recist_response r[] = {CR, PR};
    const int d[] = {42, 84};
    assert_int_equal(bor(r, d, 2, true, false), PR); /* CR followed by PR confirms a PR */
  }
  {
    const rcy_recist_response r[] = {PR, SD, PR};
    const int d[] = {42, 84, 126};
    assert_int_equal(bor(r, d, 3, true, false), SD); /* SD between breaks the confirmation */
  }
  {
    const rcy_recist_response r[] = {PR, NE, CR};
    const int d[] = {42, 56, 63};
    assert_int_equal(bor(r, d, 3, true, false), SD); /* CR 21 days after the PR: too soon to confirm */
  }
  {
    const rcy_recist_response r[] = {CR, CR, PD};
    const int d[] = {42, 84, 126};
    assert_int_equal(bor(r, d, 2, true, true), CR);
  }
  {
    const rcy_recist_response r[] = {SD, PD};
    const int d[] = {30, 60};
    assert_int_equal(bor(r, d, 1, true, true), PD); /* SD too early → PD */
    assert_int_equal(bor(r, d, 1, false, true), PD);
  }
  {
    const rcy_recist_response r[] = {NE, NE};
    const int d[] = {42, 84};
    assert_int_equal(bor(r, d, 2, true, false), NE);
    assert_int_equal(bor(r, d, 2, false, false), NE);
  }
}

static void test_bor_one_ne_rule_min_days(void **state) {
  (void)state;
  const rcy_recist_response r[] = {PR, NE, PR};
  const int ok[] = {42, 56, 70};
  const int short_[] = {42, 56, 69};
  assert_int_equal(bor(r, ok, 3, true, false), PR);
  assert_int_equal(bor(r, short_, 3, true, false), SD);
}

static void test_bor_sd_min_duration_from_treatment_start(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 38};
  one_target(&b, mm, 2); /* SD at day 42 after baseline */
  eval_ok(&b);
  assert_int_equal(R.best_overall_response, SD);
  b_start(&b, 1); /* treatment one day after baseline: SD seen at day 41 */
  eval_ok(&b);
  assert_int_equal(R.best_overall_response, NE);
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  o.sd_min_days = 41;
  assert_int_equal(eval_opts(&b, &o), 0);
  assert_int_equal(R.best_overall_response, SD);
}

static void test_bor_ignores_after_first_pd(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 50, 20, 20};
  one_target(&b, mm, 4); /* PD at FU1, then "PR" — after progression nothing counts */
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].overall_response, PD);
  assert_int_equal(R.best_overall_response, PD);
}

static void test_bor_without_confirmation_end_to_end(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 26, 30};
  one_target(&b, mm, 3);
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  eval_ok(&b);
  assert_int_equal(R.best_overall_response, SD); /* PR at FU1 not confirmed (SD at FU2) */
  o.confirmation = false;
  assert_int_equal(eval_opts(&b, &o), 0);
  assert_int_equal(R.best_overall_response, PR);
}

/* ---- ETS, DpR ----------------------------------------------------------------------------------- */

static void ets_case(builder *b, int fu_day, double fu_mm) {
  b_init(b, "S");
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, 50);
  b_at(b, "FU1", fu_day);
  b_mm(b, "T1", fu_mm);
}

static void test_ets_window_and_thresholds(void **state) {
  (void)state;
  builder b;
  ets_case(&b, 28, 40); /* -20 % exactly at day 28 */
  eval_ok(&b);
  assert_true(R.early_tumour_shrinkage.present);
  assert_true(R.early_tumour_shrinkage.in_window);
  assert_int_equal(R.early_tumour_shrinkage.days, 28);
  assert_true(R.early_tumour_shrinkage.ets20);
  assert_false(R.early_tumour_shrinkage.ets30);
  ets_case(&b, 27, 35);
  eval_ok(&b);
  assert_false(R.early_tumour_shrinkage.in_window);
  assert_true(R.early_tumour_shrinkage.ets30);
  ets_case(&b, 56, 40.1);
  eval_ok(&b);
  assert_true(R.early_tumour_shrinkage.in_window);
  assert_false(R.early_tumour_shrinkage.ets20);
  ets_case(&b, 57, 40);
  eval_ok(&b);
  assert_false(R.early_tumour_shrinkage.in_window);
  b_start(&b, 1); /* the window counts from treatment start */
  eval_ok(&b);
  assert_true(R.early_tumour_shrinkage.in_window);
  assert_int_equal(R.early_tumour_shrinkage.days, 56);
}

static void test_ets_null_when_ne_or_no_targets(void **state) {
  (void)state;
  builder b;
  two_targets_ne(&b, 10, true);
  eval_ok(&b);
  assert_false(R.early_tumour_shrinkage.present);
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_nt(&b, "NT1", "liver", PRESENT);
  b_at(&b, "FU1", 42);
  b_nt(&b, "NT1", NULL, PRESENT);
  eval_ok(&b);
  assert_false(R.early_tumour_shrinkage.present);
}

static void test_dpr_sign_and_nadir(void **state) {
  (void)state;
  builder b;
  const double shrink[] = {50, 30, 20, 25, 32};
  one_target(&b, shrink, 5); /* PD at FU4 (32 vs nadir 20) */
  eval_ok(&b);
  assert_true(R.depth_of_response.present);
  assert_true(fabs(R.depth_of_response.pct - 60.0) < 1e-9);
  assert_int_equal(R.depth_of_response.index, 2);
  assert_int_equal(R.depth_of_response.time_to_nadir_days, 84);
  const double grow[] = {50, 55, 58};
  one_target(&b, grow, 3);
  eval_ok(&b);
  assert_true(fabs(R.depth_of_response.pct - -10.0) < 1e-9); /* negative: every follow-up is larger */
  assert_int_equal(R.depth_of_response.index, 1);
  const double after_pd[] = {50, 61, 10};
  one_target(&b, after_pd, 3); /* the 10 mm after PD does not count */
  eval_ok(&b);
  assert_int_equal(R.depth_of_response.index, 1);
  assert_true(fabs(R.depth_of_response.pct - -22.0) < 1e-9);
}

/* ---- hepatic progression ------------------------------------------------------------------------ */

static void test_hepatic_progression_liver_only(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_bl(&b, "T2", "lung", false, 60);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 26); /* liver: +30 %, +6 mm → hepatic PD */
  b_mm(&b, "T2", 50); /* whole body 76 vs 80: SD */
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, SD);
  assert_false(R.progression.present);
  assert_true(R.hepatic_progression.present);
  assert_int_equal(R.hepatic_progression.index, 1);
  assert_int_equal(R.hepatic_progression.reasons, RCY_RECIST_REASON_TARGET);
}

static void test_hepatic_progression_new_lesions(void **state) {
  (void)state;
  builder b;
  const double mm[] = {40, 30};
  one_target(&b, mm, 2);
  b.w[1][0] = (rcy_recist_new_lesion){"N1", "lung", RCY_RECIST_NEW_UNEQUIVOCAL};
  b.a[1].n_new_lesions = 1;
  eval_ok(&b);
  assert_true(R.progression.present);
  assert_false(R.hepatic_progression.present); /* a lung lesion is not liver progression */
  b.w[1][0].organ = "Liver";
  eval_ok(&b);
  assert_true(R.hepatic_progression.present);
  assert_int_equal(R.hepatic_progression.reasons, RCY_RECIST_REASON_NEW_LESION);
}

/* ---- non-target response ------------------------------------------------------------------------ */

static void test_non_target_response_rules(void **state) {
  (void)state;
  rcy_recist_non_target_facts f = {0, false, false, true};
  assert_int_equal(rcy_recist_non_target_response(&f), NONE);
  f.n = 2;
  assert_int_equal(rcy_recist_non_target_response(&f), CR);
  f.all_absent = false;
  assert_int_equal(rcy_recist_non_target_response(&f), NCNP);
  f.any_not_evaluable = true;
  assert_int_equal(rcy_recist_non_target_response(&f), NE);
  f.any_progression = true;
  assert_int_equal(rcy_recist_non_target_response(&f), PD);
}

static void test_missing_lesions_are_not_evaluable_with_warning(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 20);
  b_nt(&b, "NT1", "liver", PRESENT);
  b_at(&b, "FU1", 42);
  eval_ok(&b);
  assert_int_equal(R.timepoints[1].target_response, NE);
  assert_int_equal(R.timepoints[1].non_target_response, NE);
  assert_int_equal(R.n_warnings, 2);
  assert_string_equal(R.warnings[0],
                      "subject S, timepoint FU1, lesion T1: target lesion not assessed: counted as "
                      "not evaluable");
}

/* ---- output details ----------------------------------------------------------------------------- */

static void test_contract_example_values(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S014-0007");
  b_start(&b, 3);
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 42);
  b_bl(&b, "T2", "lymph node", true, 17);
  b_nt(&b, "NT1", "peritoneum", PRESENT);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 30);
  b_state(&b, "T2", RCY_RECIST_TARGET_TOO_SMALL);
  b_nt(&b, "NT1", NULL, PRESENT);
  b_new(&b, "N1", "lung", RCY_RECIST_NEW_UNEQUIVOCAL);
  eval_ok(&b);
  assert_true(R.timepoints[1].sum_mm == 35.0);
  assert_true(fabs(R.timepoints[1].change_from_baseline_pct - (35.0 - 59.0) / 59.0 * 100) < 1e-12);
  assert_int_equal(R.timepoints[1].target_response, PR);
  assert_int_equal(R.timepoints[1].overall_response, PD);
  assert_int_equal(R.best_overall_response, PD);
  assert_int_equal(R.early_tumour_shrinkage.days, 39);
  assert_true(R.early_tumour_shrinkage.in_window);
  assert_int_equal(R.depth_of_response.time_to_nadir_days, 39);
  assert_int_equal(R.progression.reasons, RCY_RECIST_REASON_NEW_LESION);
  assert_false(R.hepatic_progression.present);
}

static void test_dates_and_names(void **state) {
  (void)state;
  int32_t d;
  char buf[11];
  assert_int_equal(rcy_recist_date_parse(&d, "1970-01-01", NULL), 0);
  assert_int_equal(d, 0);
  assert_int_equal(rcy_recist_date_parse(&d, "2024-02-29", NULL), 0);
  rcy_recist_date_format(buf, d);
  assert_string_equal(buf, "2024-02-29");
  assert_int_equal(rcy_recist_date_parse(&d, "2023-02-29", &E), RCY_EINVAL);
  assert_string_equal(E.message, "invalid date '2023-02-29' (expected a real day as YYYY-MM-DD)");
  assert_int_equal(rcy_recist_date_parse(&d, "2019-3-01", NULL), RCY_EINVAL);
  assert_int_equal(rcy_recist_date_parse(&d, "2019-03-01x", NULL), RCY_EINVAL);
  assert_int_equal(rcy_recist_date_parse(&d, "2019-04-12", NULL), 0);
  int32_t d0;
  rcy_recist_date_parse(&d0, "2019-03-04", NULL);
  assert_int_equal(d - d0, 39);
  rcy_recist_response r;
  for (int i = 1; i < RCY_RECIST_RESPONSE_COUNT; i++) {
    assert_int_equal(rcy_recist_response_parse(&r, rcy_recist_response_name((rcy_recist_response)i)), 0);
    assert_int_equal(r, i);
  }
  assert_null(rcy_recist_response_name(RCY_RECIST_NULL));
  assert_int_equal(rcy_recist_response_parse(&r, "MAYBE"), RCY_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_table1_rows, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_table2_rows, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_table1_through_engine, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_table2_through_engine, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_pr_exactly_30_pct, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_pd_exactly_20_pct_and_5_mm, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_20_pct_below_5_mm_is_not_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_5_mm_below_20_pct_is_not_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_nadir_at_baseline_and_after, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_ne_without_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_ne_with_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_ne_never_becomes_nadir, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_too_small_counts_5_mm_and_small_measured_kept, b_setup,
                                      b_teardown),
      cmocka_unit_test_setup_teardown(test_disappeared_counts_zero_cr, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_split_lesion_sums_fragments, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_merged_lesion_counts_zero, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_nodal_cr_below_10_mm, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_equivocal_then_unequivocal_backdates, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_equivocal_never_confirmed_is_not_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_bor_confirmation, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_bor_one_ne_rule_min_days, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_bor_sd_min_duration_from_treatment_start, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_bor_ignores_after_first_pd, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_bor_without_confirmation_end_to_end, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_ets_window_and_thresholds, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_ets_null_when_ne_or_no_targets, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_dpr_sign_and_nadir, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_hepatic_progression_liver_only, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_hepatic_progression_new_lesions, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_non_target_response_rules, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_missing_lesions_are_not_evaluable_with_warning, b_setup,
                                      b_teardown),
      cmocka_unit_test_setup_teardown(test_contract_example_values, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_dates_and_names, b_setup, b_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
