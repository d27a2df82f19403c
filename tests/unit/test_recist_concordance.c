/* Concordance statistics: Cohen's kappa against a published worked example, and a small site-vs-central
 * cohort whose confusion matrices, progression agreement, EDR/LDR, Bland–Altman figures and discordant
 * list are worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "recist_builder.h"

/* Kundel HL, Polansky M. Measurement of observer agreement. Radiology 2003;228:303–308, Table A1:
 * 110 mammograms rated by two readers (absent / minimal / moderate / severe). Unweighted Cohen's kappa
 * 0.3713 (as reproduced by R's vcd::Kappa on vcdExtra::Mammograms; po = 60/110, pe = 3352/12100). */
static void test_kappa_kundel_polansky_2003(void **state) {
  (void)state;
  const size_t table[16] = {34, 10, 2, 0, 6, 8, 8, 2, 2, 5, 4, 12, 0, 1, 2, 14};
  double kappa;
  assert_int_equal(rcy_concordance_kappa(&kappa, table, 4, NULL), 0);
  assert_true(fabs(kappa - 0.3713) < 5e-5);
  assert_true(fabs(kappa - (60.0 / 110 - 3352.0 / 12100) / (1 - 3352.0 / 12100)) < 1e-12);
}

/* Kappa with its large-sample SE (Fleiss, Cohen & Everitt, Psychol Bull 1969;72:323) and 95 % CI: the SAS
 * PROC FREQ printout statsmodels checks its cohens_kappa against (statsmodels/stats/tests/
 * test_inter_rater.py, TestUnweightedCohens: table10, "Simple Kappa Coefficient": kappa 0.4842, ASE 0.1380,
 * 95 % limits 0.2137 and 0.7547). Full-precision values from statsmodels 0.13.5 (Debian) pin the digits. */
static void test_kappa_se_sas_example(void **state) {
  (void)state;
  const size_t table[9] = {0, 4, 1, 0, 8, 0, 0, 1, 5};
  rcy_concordance_kappa_stats st;
  assert_int_equal(rcy_concordance_kappa_with_ci(&st, table, 3, NULL), 0);
  assert_true(fabs(st.kappa - 0.4842) < 5e-5);
  assert_true(fabs(st.se - 0.1380) < 5e-5);
  assert_true(fabs(st.ci95_lower - 0.2137) < 5e-5);
  assert_true(fabs(st.ci95_upper - 0.7547) < 5e-5);
  assert_true(fabs(st.kappa - 0.48416289592760187) < 1e-12);
  assert_true(fabs(st.se - 0.1380135783058146) < 1e-12);
  assert_true(fabs(st.ci95_lower - 0.21366125307070666) < 1e-12);
  assert_true(fabs(st.ci95_upper - 0.754664538784497) < 1e-12);

  /* Kundel & Polansky's table (above): statsmodels gives SE 0.060333228166901676. */
  const size_t kp[16] = {34, 10, 2, 0, 6, 8, 8, 2, 2, 5, 4, 12, 0, 1, 2, 14};
  assert_int_equal(rcy_concordance_kappa_with_ci(&st, kp, 4, NULL), 0);
  assert_true(fabs(st.se - 0.060333228166901676) < 1e-12);
  assert_true(fabs(st.ci95_upper - 0.4895358193901905) < 1e-12);

  /* Perfect agreement: the variance is exactly 0, never NaN from a rounding below 0. */
  const size_t perfect[9] = {5, 0, 0, 0, 7, 0, 0, 0, 3};
  assert_int_equal(rcy_concordance_kappa_with_ci(&st, perfect, 3, NULL), 0);
  assert_true(st.kappa == 1.0 && st.se >= 0 && st.se < 1e-12 && !isnan(st.ci95_lower));
}

/* Student's t 0.975 quantiles, solved to 40 digits with mpmath (betainc + findroot) and rounded here to
 * 20; scipy.stats.t.ppf is only ~1e-10 accurate for small df (df 1: 2.6e-10 off the exact cot(pi/40)). */
static void test_t975(void **state) {
  (void)state;
  static const struct {
    size_t df;
    double t;
  } ref[] = {
      {1, 12.706204736174704646},      {2, 4.3026527297494638523},       {3, 3.1824463052837095927},
      {4, 2.7764451051977943578},      {5, 2.5705818356363155147},       {10, 2.2281388519862747484},
      {14, 2.1447866879178038287},     {30, 2.04227245630123831},        {100, 1.9839715185235522866},
      {1000, 1.962339080826408485},    {1001, 1.9623367052808799185},    {99999, 1.9599877077718447791},
      {100001, 1.9599877072973792428}, {10000000, 1.9599642217672054904}};
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
    if (fabs(rcy_concordance_t975(ref[i].df) - ref[i].t) > 1e-12)
      fail_msg("df %zu: %.17g, expected %.17g", ref[i].df, rcy_concordance_t975(ref[i].df), ref[i].t);
  assert_true(isnan(rcy_concordance_t975(0)));
}

static void test_kappa_edge_cases(void **state) {
  (void)state;
  double kappa;
  rcy_error e;
  const size_t perfect[4] = {7, 0, 0, 3};
  assert_int_equal(rcy_concordance_kappa(&kappa, perfect, 2, NULL), 0);
  assert_true(fabs(kappa - 1.0) < 1e-12);
  const size_t one_category[4] = {9, 0, 0, 0}; /* chance agreement 1: undefined */
  assert_int_equal(rcy_concordance_kappa(&kappa, one_category, 2, &e), RCY_EINVAL);
  assert_string_equal(e.message, "kappa undefined: chance agreement is 1");
  const size_t empty[4] = {0, 0, 0, 0};
  assert_int_equal(rcy_concordance_kappa(&kappa, empty, 2, &e), RCY_EINVAL);
}

/* One liver target: BL, FU1 (day 42), FU2 (day 84) sizes. */
typedef struct read {
  const char *id;
  double mm[3];
} read;

static void build(builder *b, const read *r) {
  b_init(b, r->id);
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, r->mm[0]);
  b_at(b, "FU1", 42);
  b_mm(b, "T1", r->mm[1]);
  b_at(b, "FU2", 84);
  b_mm(b, "T1", r->mm[2]);
}

/*            site (first read)          central (second read)
 *  A  50 30 28  PR PR → BOR PR          same                       agree
 *  B  50 45 61  SD PD → SD, PD @FU2     50 45 50  SD SD → SD       investigator PD only
 *  C  50 61 61  PD    → PD @FU1         50 45 61  SD PD → SD, PD@FU2  investigator earlier
 *  D  50 45 40  SD SD → SD              50 61 70  PD → PD @FU1      central PD only
 *  E  50 45 61  SD PD → SD, PD @FU2     50 61 70  PD → PD @FU1      investigator later
 *  F  site only; G central only.
 * EDR = (early 1 + investigator-only 1) / investigator PDs 3 = 0.667
 * LDR = (late 1 + central-only 1) / discrepancies 4 = 0.5
 * BOR pairs: (PR,PR) (SD,SD) (PD,SD) (SD,PD) (SD,PD): agreement 40 %, rows PR 1 SD 3 PD 1, columns
 * PR 1 SD 2 PD 2, pe = (1·1 + 3·2 + 1·2)/25 = 0.36, kappa = (0.40 − 0.36)/0.64 = 0.0625.
 * Discordant: B (PD timepoint only), C, D, E (BOR and PD timepoint). */
static const read site[] = {{"A", {50, 30, 28}}, {"B", {50, 45, 61}}, {"C", {50, 61, 61}},
                            {"D", {50, 45, 40}}, {"E", {50, 45, 61}}, {"F", {40, 30, 20}}};
static const read central[] = {{"G", {40, 30, 20}}, {"E", {50, 61, 70}}, {"D", {50, 61, 70}},
                               {"C", {50, 45, 61}}, {"B", {50, 45, 50}}, {"A", {50, 30, 28}}};

static void evaluate_all(rcy_recist_result *out, builder *bs, const read *reads, size_t n) {
  for (size_t i = 0; i < n; i++) {
    build(&bs[i], &reads[i]);
    rcy_recist_result_init(&out[i]);
    rcy_error e;
    if (rcy_recist_evaluate(&out[i], &bs[i].s, NULL, &e)) fail_msg("%s", e.message);
  }
}

static size_t cat(rcy_recist_response r) {
  for (size_t i = 0; i < RCY_CONCORDANCE_K; i++)
    if (rcy_concordance_categories[i] == r) return i;
  fail_msg("no category");
  return 0;
}

static void test_cohort(void **state) {
  (void)state;
  static builder bs[6], bc[6];
  rcy_recist_result rs[6], rc[6];
  evaluate_all(rs, bs, site, 6);
  evaluate_all(rc, bc, central, 6);
  rcy_concordance *c = NULL;
  rcy_error e;
  assert_int_equal(rcy_concordance_compute(&c, rs, 6, rc, 6, &e), 0);

  assert_int_equal(c->n_subjects, 5);
  assert_int_equal(c->n_timepoints, 10);
  assert_int_equal(c->n_first_only, 1);
  assert_string_equal(c->first_only[0], "F");
  assert_int_equal(c->n_second_only, 1);
  assert_string_equal(c->second_only[0], "G");

  const rcy_concordance_table *t = &c->bor;
  assert_int_equal(t->n, 5);
  assert_int_equal(t->counts[cat(RCY_RECIST_PR)][cat(RCY_RECIST_PR)], 1);
  assert_int_equal(t->counts[cat(RCY_RECIST_SD)][cat(RCY_RECIST_SD)], 1);
  assert_int_equal(t->counts[cat(RCY_RECIST_PD)][cat(RCY_RECIST_SD)], 1);
  assert_int_equal(t->counts[cat(RCY_RECIST_SD)][cat(RCY_RECIST_PD)], 2);
  assert_true(fabs(t->agreement_pct - 40.0) < 1e-9);
  assert_true(t->has_kappa);
  assert_true(fabs(t->kappa - 0.0625) < 1e-12);

  /* FU1: site PR SD PD SD SD / central PR SD SD PD PD → agree A, B: 40 %. */
  assert_int_equal(c->n_timepoint_labels, 2);
  assert_string_equal(c->timepoints[0].timepoint, "FU1");
  assert_int_equal(c->timepoints[0].table.n, 5);
  assert_true(fabs(c->timepoints[0].table.agreement_pct - 40.0) < 1e-9);
  assert_int_equal(c->all_timepoints.n, 10);

  assert_int_equal(c->progression.both, 2);
  assert_int_equal(c->progression.first_only, 1);
  assert_int_equal(c->progression.second_only, 1);
  assert_int_equal(c->progression.neither, 1);
  assert_int_equal(c->progression.same_timepoint, 0);

  assert_int_equal(c->discrepancy.investigator_pd, 3);
  assert_int_equal(c->discrepancy.early, 1);
  assert_int_equal(c->discrepancy.late, 1);
  assert_int_equal(c->discrepancy.investigator_only, 1);
  assert_int_equal(c->discrepancy.central_only, 1);
  assert_int_equal(c->discrepancy.discrepancies, 4);
  assert_true(fabs(c->discrepancy.edr - 2.0 / 3.0) < 1e-12);
  assert_true(fabs(c->discrepancy.ldr - 0.5) < 1e-12);

  /* Bland–Altman over the 15 paired sums (site − central), recomputed here the textbook way. */
  double d[15], mean = 0, ss = 0;
  size_t n = 0;
  for (size_t i = 0; i < 5; i++)
    for (size_t a = 0; a < 3; a++) {
      const read *s = &site[i], *r = NULL;
      for (size_t j = 0; j < 6; j++)
        if (strcmp(central[j].id, s->id) == 0) r = &central[j];
      d[n] = s->mm[a] - r->mm[a];
      mean += d[n++];
    }
  mean /= (double)n;
  for (size_t i = 0; i < n; i++)
    ss += (d[i] - mean) * (d[i] - mean);
  const double sd = sqrt(ss / (double)(n - 1));
  const rcy_concordance_bland_altman *ba = &c->bland_altman_sum_mm;
  assert_int_equal(ba->n, 15);
  assert_true(fabs(ba->mean_diff - mean) < 1e-9);
  assert_true(fabs(ba->sd - sd) < 1e-9);
  assert_true(fabs(ba->loa_lower - (mean - 1.96 * sd)) < 1e-9);
  assert_true(fabs(ba->loa_upper - (mean + 1.96 * sd)) < 1e-9);
  /* Bland & Altman 1999: t(0.975, 14) = 2.1447866879178038 (test_t975). */
  const double t14 = 2.1447866879178038, se_loa = sd * sqrt(1.0 / 15 + 1.96 * 1.96 / 28);
  assert_true(fabs(ba->mean_diff_ci95[0] - (mean - t14 * sd / sqrt(15))) < 1e-9);
  assert_true(fabs(ba->mean_diff_ci95[1] - (mean + t14 * sd / sqrt(15))) < 1e-9);
  assert_true(fabs(ba->loa_lower_ci95[0] - (mean - 1.96 * sd - t14 * se_loa)) < 1e-9);
  assert_true(fabs(ba->loa_upper_ci95[1] - (mean + 1.96 * sd + t14 * se_loa)) < 1e-9);
  /* Points: subjects A..E, BL FU1 FU2 each; B at FU2 is 61 (site) vs 50 (central). */
  assert_string_equal(ba->points[5].subject_id, "B");
  assert_string_equal(ba->points[5].timepoint, "FU2");
  assert_true(ba->points[5].first == 61 && ba->points[5].second == 50);

  /* % change from baseline at the 10 paired follow-ups (baselines are all 50 mm, so change = 2·(mm − 50)):
   * differences site − central in percentage points: A 0 0, B 0 22, C 32 0, D −32 −60, E −32 −18. */
  const rcy_concordance_bland_altman *bp = &c->bland_altman_change_pct;
  static const double want[10] = {0, 0, 0, 22, 32, 0, -32, -60, -32, -18};
  double pm = 0, pss = 0;
  assert_int_equal(bp->n, 10);
  for (size_t i = 0; i < 10; i++) {
    assert_true(fabs(bp->points[i].first - bp->points[i].second - want[i]) < 1e-9);
    pm += want[i] / 10;
  }
  for (size_t i = 0; i < 10; i++)
    pss += (want[i] - pm) * (want[i] - pm);
  assert_true(fabs(pm - (-8.8)) < 1e-12);
  assert_true(fabs(bp->mean_diff - pm) < 1e-9);
  assert_true(fabs(bp->sd - sqrt(pss / 9)) < 1e-9);
  assert_string_equal(bp->points[3].subject_id, "B");
  assert_string_equal(bp->points[3].timepoint, "FU2");
  assert_true(fabs(bp->points[3].first - 22.0) < 1e-9 && fabs(bp->points[3].second - 0.0) < 1e-9);

  assert_int_equal(c->n_discordant, 4);
  static const char *ids[] = {"B", "C", "D", "E"};
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(c->discordant[i].subject_id, ids[i]);
    assert_int_equal(c->discordant[i].reasons, (i == 0 ? 0u : (unsigned)RCY_CONCORDANCE_BOR_DIFFERS) |
                                                   RCY_CONCORDANCE_PD_TIMEPOINT_DIFFERS);
  }
  assert_string_equal(c->discordant[1].first_pd_timepoint, "FU1");
  assert_string_equal(c->discordant[1].second_pd_timepoint, "FU2");
  assert_null(c->discordant[2].first_pd_timepoint);

  rcy_concordance_free(c);
  for (size_t i = 0; i < 6; i++) {
    rcy_recist_result_free(&rs[i]);
    rcy_recist_result_free(&rc[i]);
  }
}

/* Per-timepoint tables come in schedule order whatever the subject ids: subject "A" missed its FU1 scan
 * (BL, FU2 on day 84, FU3 on day 126), "B" has every scan. Tables used to come in the order labels were
 * first met over the subjects sorted by id: FU2, FU3, FU1. */
static void test_timepoint_tables_in_schedule_order(void **state) {
  (void)state;
  static builder b[2];
  rcy_recist_result r[2];
  b_init(&b[0], "A");
  b_at(&b[0], "BL", 0);
  b_bl(&b[0], "T1", "liver", false, 50);
  b_at(&b[0], "FU2", 84);
  b_mm(&b[0], "T1", 40);
  b_at(&b[0], "FU3", 126);
  b_mm(&b[0], "T1", 38);
  b_init(&b[1], "B");
  b_at(&b[1], "BL", 0);
  b_bl(&b[1], "T1", "liver", false, 50);
  static const char *labels[] = {"FU1", "FU2", "FU3"};
  for (int i = 0; i < 3; i++) {
    b_at(&b[1], labels[i], 42 * (i + 1));
    b_mm(&b[1], "T1", 45 - 2 * i);
  }
  for (int i = 0; i < 2; i++) {
    rcy_recist_result_init(&r[i]);
    rcy_error e;
    if (rcy_recist_evaluate(&r[i], &b[i].s, NULL, &e)) fail_msg("%s", e.message);
  }
  rcy_concordance *c = NULL;
  assert_int_equal(rcy_concordance_compute(&c, r, 2, r, 2, NULL), 0);
  assert_int_equal(c->n_timepoint_labels, 3);
  for (int i = 0; i < 3; i++)
    assert_string_equal(c->timepoints[i].timepoint, labels[i]);
  assert_int_equal(c->timepoints[1].table.n, 2);
  rcy_concordance_free(c);
  rcy_recist_result_free(&r[0]);
  rcy_recist_result_free(&r[1]);
}

static void test_duplicate_subject_rejected(void **state) {
  (void)state;
  static builder b[2];
  rcy_recist_result r[2];
  const read twice[] = {{"A", {50, 30, 28}}, {"A", {50, 30, 28}}};
  evaluate_all(r, b, twice, 2);
  rcy_concordance *c = NULL;
  rcy_error e;
  assert_int_equal(rcy_concordance_compute(&c, r, 2, r, 1, &e), RCY_EINVAL);
  assert_null(c);
  assert_string_equal(e.message, "first read: subject A appears twice");
  assert_int_equal(rcy_concordance_compute(&c, r, 0, r, 0, &e), 0);
  assert_int_equal(c->n_subjects, 0);
  assert_false(c->bor.has_kappa);
  assert_false(c->discrepancy.has_edr);
  assert_false(c->bland_altman_sum_mm.has_sd);
  assert_int_equal(c->bland_altman_change_pct.n, 0);
  rcy_concordance_free(c);
  rcy_recist_result_free(&r[0]);
  rcy_recist_result_free(&r[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kappa_kundel_polansky_2003),
      cmocka_unit_test(test_kappa_se_sas_example),
      cmocka_unit_test(test_t975),
      cmocka_unit_test(test_kappa_edge_cases),
      cmocka_unit_test(test_cohort),
      cmocka_unit_test(test_timepoint_tables_in_schedule_order),
      cmocka_unit_test(test_duplicate_subject_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
