/* Every validation the engine makes, each with its exact message (subject, timepoint, lesion), and the
 * --lenient downgrade of the baseline rules to warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "recist_builder.h"

#define PRESENT RCY_RECIST_NON_TARGET_PRESENT

/* Strict: fails with exactly `message`. Lenient (when `lenient_ok`): succeeds with that message as the
 * first warning. */
static void expect(builder *b, const char *message, bool lenient_ok) {
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  memset(&E, 0, sizeof E);
  assert_int_equal(rcy_recist_evaluate(&R, &b->s, &o, &E), RCY_EINVAL);
  assert_int_equal(E.code, RCY_EINVAL);
  assert_string_equal(E.message, message);
  o.lenient = true;
  memset(&E, 0, sizeof E);
  int rc = rcy_recist_evaluate(&R, &b->s, &o, &E);
  if (lenient_ok) {
    if (rc) fail_msg("lenient evaluation failed: %s", E.message);
    assert_true(R.n_warnings >= 1);
    assert_string_equal(R.warnings[0], message);
  } else {
    assert_int_equal(rc, RCY_EINVAL);
    assert_string_equal(E.message, message);
  }
}

static void base(builder *b) {
  b_init(b, "S9");
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, 30);
}

static void test_too_many_targets(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S9");
  b_at(&b, "BL", 0);
  b_bl(&b, "T1", "liver", false, 30);
  b_bl(&b, "T2", "liver", false, 30);
  b_bl(&b, "T3", "lung", false, 30);
  b_bl(&b, "T4", "lung", false, 30);
  b_bl(&b, "T5", "bone", false, 30);
  b_bl(&b, "T6", "adrenal", false, 30);
  expect(&b, "subject S9, timepoint BL, lesion T6: more than 5 target lesions at baseline", true);
  assert_int_equal(R.n_timepoints, 1);
}

static void test_too_many_per_organ(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_bl(&b, "T2", "Liver", false, 30);
  b_bl(&b, "T3", "liver", false, 30);
  expect(&b,
         "subject S9, timepoint BL, lesion T3: more than 2 target lesions in organ 'liver' (all lymph "
         "nodes count as one organ)",
         true);
}

static void test_lymph_nodes_are_one_organ(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_bl(&b, "N1", "mediastinum", true, 20);
  b_bl(&b, "N2", "retroperitoneum", true, 20);
  b_bl(&b, "N3", "axilla", true, 20);
  expect(&b,
         "subject S9, timepoint BL, lesion N3: more than 2 target lesions in organ 'lymph node' (all lymph "
         "nodes count as one organ)",
         true);
}

static void test_non_nodal_minimum(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_bl(&b, "T2", "lung", false, 9.9);
  expect(&b, "subject S9, timepoint BL, lesion T2: non-nodal target 9.9 mm at baseline (must be >= 10 mm)",
         true);
  base(&b);
  b_bl(&b, "T2", "lung", false, 10.0);
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, NULL, &E), 0);
}

static void test_nodal_minimum(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_bl(&b, "N1", "lymph node", true, 14.9);
  expect(
      &b,
      "subject S9, timepoint BL, lesion N1: nodal target short axis 14.9 mm at baseline (must be >= 15 mm)",
      true);
  base(&b);
  b_bl(&b, "N1", "lymph node", true, 15.0);
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, NULL, &E), 0);
}

static void test_duplicate_baseline_ids(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_nt(&b, "T1", "peritoneum", PRESENT);
  expect(&b, "subject S9, timepoint BL, lesion T1: duplicate lesion id at baseline", true);
}

static void test_duplicate_follow_up_ids(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_mm(&b, "T1", 25);
  expect(&b, "subject S9, timepoint FU1, lesion T1: duplicate lesion id", true);
  assert_true(R.timepoints[1].sum_mm == 20.0); /* lenient: the first entry counts */
}

static void test_unknown_follow_up_target(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_mm(&b, "T7", 25);
  expect(&b, "subject S9, timepoint FU1, lesion T7: target lesion not present at baseline", true);
  assert_true(R.timepoints[1].sum_mm == 20.0);
}

static void test_unknown_follow_up_non_target(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_nt(&b, "NT4", NULL, PRESENT);
  expect(&b, "subject S9, timepoint FU1, lesion NT4: non-target lesion not present at baseline", true);
}

static void test_target_listed_as_non_target(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_nt(&b, "T1", NULL, PRESENT);
  expect(&b,
         "subject S9, timepoint FU1, lesion T1: listed as a non-target but it is a baseline target lesion",
         true);
}

static void test_new_lesion_reusing_baseline_id(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_new(&b, "T1", "liver", RCY_RECIST_NEW_UNEQUIVOCAL);
  expect(&b, "subject S9, timepoint FU1, lesion T1: new lesion reuses the id of a baseline lesion", true);
}

static void test_dates_strictly_increasing(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "FU1", 0);
  b_mm(&b, "T1", 20);
  expect(&b,
         "subject S9, timepoint FU1: date 2024-10-04 is not after the previous assessment BL (2024-10-04): "
         "dates must strictly increase",
         false);
}

static void test_duplicate_timepoint_label(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_at(&b, "BL", 42);
  expect(&b, "subject S9, timepoint BL: timepoint label used twice", false);
}

static void test_structural_errors(void **state) {
  (void)state;
  builder b;
  b_init(&b, "S9");
  expect(&b, "subject S9: no assessments (the first one is the baseline)", false);
  b_init(&b, "");
  b_at(&b, "BL", 0);
  expect(&b, "subject ?: missing subject_id", false);
  base(&b);
  b.t[0][0].state = RCY_RECIST_TARGET_TOO_SMALL;
  expect(&b, "subject S9, timepoint BL, lesion T1: a baseline target lesion must be measured (diameter_mm)",
         false);
  base(&b);
  b.t[0][0].organ = NULL;
  expect(&b, "subject S9, timepoint BL, lesion T1: a baseline target lesion needs its organ", false);
  base(&b);
  b.t[0][0].diameter_mm = -1;
  expect(&b, "subject S9, timepoint BL, lesion T1: diameter_mm must be a number from 0 to 10000", false);
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 10000.5);
  expect(&b, "subject S9, timepoint FU1, lesion T1: diameter_mm must be a number from 0 to 10000", false);
  base(&b);
  b_nt(&b, "NT1", NULL, PRESENT);
  expect(&b, "subject S9, timepoint BL, lesion NT1: a baseline non-target lesion needs its organ", false);
  base(&b);
  b_at(&b, "FU1", 42);
  b_merged(&b, "T1", "T1");
  expect(&b, "subject S9, timepoint FU1, lesion T1: merged_into names the lesion itself", false);
  base(&b);
  b_bl(&b, "T2", "lung", false, 20);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b_merged(&b, "T2", "T9");
  expect(&b, "subject S9, timepoint FU1, lesion T2: merged_into 'T9' is not a baseline target lesion", false);
  base(&b);
  b_at(&b, "FU1", 42);
  b_mm(&b, "T1", 20);
  b.t[1][0].state = RCY_RECIST_TARGET_FRAGMENTS;
  expect(&b, "subject S9, timepoint FU1, lesion T1: fragments_mm must list at least one fragment", false);
}

/* Two lesions that coalesce are measured once, on a target that is itself measured at that timepoint:
 * a cycle (T1 -> T2 -> T1) or a chain (T1 -> T2 -> T3) would drop both from the sum, and a merge into a
 * lesion of another organ (or a node) would move a measurement between the liver and the rest. Always
 * errors, --lenient or not. */
static void merge_base(builder *b) {
  b_init(b, "S9");
  b_at(b, "BL", 0);
  b_bl(b, "T1", "liver", false, 30);
  b_bl(b, "T2", "liver", false, 20);
  b_bl(b, "T3", "lung", false, 25);
  b_bl(b, "T4", "lymph node", true, 18);
  b_nt(b, "NT1", "liver", PRESENT);
  b_at(b, "FU1", 42);
}

static void test_merge_validation(void **state) {
  (void)state;
  builder b;
  merge_base(&b); /* the cycle: both drop out, the sum fell to 25 mm (PR) */
  b_merged(&b, "T1", "T2");
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU1, lesion T1: merged_into 'T2', but T2 is itself merged_into 'T1' at this "
         "timepoint (no cycles or chains: the coalesced lesion is measured on one target)",
         false);
  merge_base(&b); /* the cycle at a later follow-up */
  b_mm(&b, "T1", 40);
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  b_at(&b, "FU2", 84);
  b_merged(&b, "T1", "T2");
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU2, lesion T1: merged_into 'T2', but T2 is itself merged_into 'T1' at this "
         "timepoint (no cycles or chains: the coalesced lesion is measured on one target)",
         false);
  merge_base(&b); /* a chain T1 -> T2 -> T3 (T1's merge is checked first) */
  b_merged(&b, "T1", "T2");
  b_merged(&b, "T2", "T3");
  b_mm(&b, "T3", 50);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU1, lesion T1: merged_into 'T2', but T2 is itself merged_into 'T3' at this "
         "timepoint (no cycles or chains: the coalesced lesion is measured on one target)",
         false);
  merge_base(&b); /* into a lesion not assessed at that timepoint */
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU1, lesion T2: merged_into 'T1', but T1 is not assessed at this timepoint "
         "(the coalesced lesion is measured on it)",
         false);
  merge_base(&b); /* into a lesion that disappeared */
  b_state(&b, "T1", RCY_RECIST_TARGET_DISAPPEARED);
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU1, lesion T2: merged_into 'T1', but T1 is recorded as disappeared at this "
         "timepoint (the coalesced lesion is measured on it)",
         false);
  merge_base(&b); /* into a target of another organ */
  b_mm(&b, "T1", 30);
  b_merged(&b, "T2", "T3");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  expect(&b,
         "subject S9, timepoint FU1, lesion T2: merged_into 'T3' (organ 'lung'), but T2 is in organ 'liver' "
         "(lesions coalesce within one organ; all lymph nodes count as one organ)",
         false);
  merge_base(&b); /* a node into a non-nodal target */
  b_mm(&b, "T1", 30);
  b_mm(&b, "T2", 20);
  b_mm(&b, "T3", 25);
  b_merged(&b, "T4", "T3");
  expect(&b,
         "subject S9, timepoint FU1, lesion T4: merged_into 'T3' (organ 'lung'), but T4 is in organ 'lymph "
         "node' (lesions coalesce within one organ; all lymph nodes count as one organ)",
         false);
  merge_base(&b); /* into a non-target, into itself: refused before */
  b_merged(&b, "T2", "NT1");
  expect(&b, "subject S9, timepoint FU1, lesion T2: merged_into 'NT1' is not a baseline target lesion", false);
  merge_base(&b); /* valid: into a measured, a too-small or a not-evaluable target of the same organ */
  b_mm(&b, "T1", 44);
  b_merged(&b, "T2", "T1");
  b_mm(&b, "T3", 25);
  b_mm(&b, "T4", 18);
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, NULL, &E), 0);
  assert_true(R.timepoints[1].sum_mm == 87.0);
  b.t[1][0].state = RCY_RECIST_TARGET_TOO_SMALL;
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, NULL, &E), 0);
  b.t[1][0].state = RCY_RECIST_TARGET_NOT_EVALUABLE;
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, NULL, &E), 0);
  assert_int_equal(R.timepoints[1].target_response, RCY_RECIST_NE);
}

static void test_baseline_non_target_state_and_no_disease(void **state) {
  (void)state;
  builder b;
  base(&b);
  b_nt(&b, "NT1", "lung", RCY_RECIST_NON_TARGET_ABSENT);
  expect(&b, "subject S9, timepoint BL, lesion NT1: a baseline non-target lesion must be 'present'", true);
  b_init(&b, "S9");
  b_at(&b, "BL", 0);
  b_at(&b, "FU1", 42);
  b_new(&b, "N1", "liver", RCY_RECIST_NEW_UNEQUIVOCAL);
  expect(&b,
         "subject S9, timepoint BL: no target or non-target lesion at baseline: response is not evaluable",
         true);
  assert_int_equal(R.timepoints[1].overall_response, RCY_RECIST_PD); /* a new lesion is still progression */
}

static void test_options_validated(void **state) {
  (void)state;
  builder b;
  base(&b);
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  o.ets_window_min_days = 60;
  assert_int_equal(rcy_recist_evaluate(&R, &b.s, &o, &E), RCY_EINVAL);
  assert_string_equal(E.message, "subject S9: invalid options (day counts must be >= 0 and ets_window_days "
                                 "[min, max] with min <= max)");
}

static void test_result_reuse_is_clean(void **state) {
  (void)state;
  builder big, small;
  base(&big);
  for (int i = 1; i <= 8; i++) {
    static const char *labels[] = {"", "FU1", "FU2", "FU3", "FU4", "FU5", "FU6", "FU7", "FU8"};
    b_at(&big, labels[i], 42 * i);
    b_mm(&big, "T1", 30 - i);
  }
  b_at(&big, "FU9", 420);
  b_mm(&big, "T1", 60);
  b_new(&big, "N1", "liver", RCY_RECIST_NEW_EQUIVOCAL);
  assert_int_equal(rcy_recist_evaluate(&R, &big.s, NULL, &E), 0);
  assert_true(R.progression.present);
  const rcy_recist_timepoint *timepoints = R.timepoints;
  const struct rcy_recist_workspace *workspace = R.workspace_;
  base(&small);
  b_at(&small, "FU1", 42);
  b_mm(&small, "T1", 30);
  assert_int_equal(rcy_recist_evaluate(&R, &small.s, NULL, &E), 0);
  /* A warm result is reused as it is: no buffer moved (the benchmark's no-allocation hot path). */
  assert_ptr_equal(R.timepoints, timepoints);
  assert_ptr_equal(R.workspace_, workspace);
  assert_int_equal(R.n_timepoints, 2);
  assert_false(R.progression.present);
  assert_false(R.timepoints[1].equivocal_new_lesions);
  assert_int_equal(R.n_warnings, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_too_many_targets, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_too_many_per_organ, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_lymph_nodes_are_one_organ, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_non_nodal_minimum, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_nodal_minimum, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_baseline_ids, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_follow_up_ids, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_unknown_follow_up_target, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_unknown_follow_up_non_target, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_target_listed_as_non_target, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_new_lesion_reusing_baseline_id, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_dates_strictly_increasing, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_timepoint_label, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_structural_errors, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_merge_validation, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_baseline_non_target_state_and_no_disease, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_options_validated, b_setup, b_teardown),
      cmocka_unit_test_setup_teardown(test_result_reuse_is_clean, b_setup, b_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
