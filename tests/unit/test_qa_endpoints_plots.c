/* The endpoint plots' per-subject data (src/qa/endpoint_subjects.c): the waterfall's best % change (the
 * minimum over follow-ups up to and including the first PD, skipping follow-ups without a complete sum) and
 * one subject's plot JSON (days from the registry's treatment start, events, survival times as the curves
 * count them). Results are built by hand: the rules, not the engine, are under test here. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recistry/qa.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static rcy_recist_timepoint tp(const char *name, int32_t day, bool has, double pct,
                               rcy_recist_response overall) {
  rcy_recist_timepoint t;
  memset(&t, 0, sizeof t);
  t.timepoint = name;
  t.date_days = day;
  t.has_sum = has;
  t.sum_mm = has ? 50.0 * (1 + pct / 100) : 0;
  t.has_change_from_baseline = has && strcmp(name, "BL") != 0;
  t.change_from_baseline_pct = pct;
  t.overall_response = overall;
  return t;
}

static void test_best_change(void **state) {
  (void)state;
  rcy_recist_timepoint t[5] = {tp("BL", 0, true, 0, RCY_RECIST_NULL), tp("FU1", 56, true, -12, RCY_RECIST_SD),
                               tp("FU2", 112, false, -80, RCY_RECIST_NE),
                               tp("FU3", 168, true, 35, RCY_RECIST_PD),
                               tp("FU4", 224, true, -60, RCY_RECIST_PR)};
  rcy_recist_result r;
  memset(&r, 0, sizeof r);
  r.timepoints = t;
  r.n_timepoints = 5;
  double pct = NAN;
  size_t i = 0;
  /* FU2 has no complete sum, FU4 comes after the first PD: the best is FU1's −12 %. */
  assert_true(rcy_qa_best_change(&pct, &i, &r));
  NEAR(pct, -12);
  assert_int_equal(i, 1);
  /* progression at the first follow-up: that growth is the value */
  rcy_recist_timepoint p[3] = {tp("BL", 0, true, 0, RCY_RECIST_NULL), tp("FU1", 42, true, 28, RCY_RECIST_PD),
                               tp("FU2", 98, true, -40, RCY_RECIST_PR)};
  r.timepoints = p;
  r.n_timepoints = 3;
  assert_true(rcy_qa_best_change(&pct, &i, &r));
  NEAR(pct, 28);
  /* baseline only: no value */
  r.n_timepoints = 1;
  assert_false(rcy_qa_best_change(&pct, &i, &r));
}

static void test_subject_json(void **state) {
  (void)state;
  rcy_error err = {0};
  int32_t start = 0, bl = 0;
  assert_int_equal(rcy_recist_date_parse(&start, "2021-03-01", &err), 0);
  bl = start - 10;
  rcy_recist_timepoint t[3] = {tp("BL", bl, true, 0, RCY_RECIST_NULL),
                               tp("FU1", start + 50, true, -35, RCY_RECIST_PR),
                               tp("FU2", start + 110, true, 10, RCY_RECIST_PD)};
  rcy_recist_result r;
  memset(&r, 0, sizeof r);
  r.subject_id = "CIREL-014-0042";
  r.timepoints = t;
  r.n_timepoints = 3;
  r.best_overall_response = RCY_RECIST_PR;
  r.progression.present = true;
  r.progression.index = 2;
  r.progression.confirmed_index = 2;
  rcy_registry_subject row;
  memset(&row, 0, sizeof row);
  strcpy(row.subject_id, "CIREL-014-0042");
  strcpy(row.site_id, "S014");
  strcpy(row.treatment_start, "2021-03-01");
  strcpy(row.indication, "salvage");
  strcpy(row.death_date, "2021-09-27");               /* day 210 */
  strcpy(row.secondary_resection_date, "2021-05-10"); /* day 70 */
  json_t *o = NULL;
  assert_int_equal(rcy_qa_endpoint_subject_json(&o, &r, &row, start, &err), 0);
  assert_string_equal(json_string_value(json_object_get(o, "best_overall_response")), "PR");
  NEAR(json_real_value(json_object_get(o, "best_change_pct")), -35);
  assert_string_equal(json_string_value(json_object_get(o, "best_change_timepoint")), "FU1");
  assert_int_equal(json_integer_value(json_object_get(o, "progression_day")), 110);
  assert_true(json_is_null(json_object_get(o, "hepatic_progression_day")));
  assert_int_equal(json_integer_value(json_object_get(o, "death_day")), 210);
  assert_true(json_is_null(json_object_get(o, "last_contact_day")));
  assert_int_equal(json_integer_value(json_object_get(o, "secondary_resection_day")), 70);
  const json_t *tps = json_object_get(o, "timepoints");
  assert_int_equal(json_array_size(tps), 3);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(tps, 0), "day")), -10);
  assert_true(json_is_null(json_object_get(json_array_get(tps, 0), "overall_response")));
  assert_true(json_is_null(json_object_get(json_array_get(tps, 0), "change_from_baseline_pct")));
  const json_t *s = json_object_get(o, "survival");
  NEAR(json_real_value(json_object_get(json_object_get(s, "os"), "time_days")), 210);
  assert_true(json_is_true(json_object_get(json_object_get(s, "os"), "event")));
  NEAR(json_real_value(json_object_get(json_object_get(s, "pfs"), "time_days")), 110);
  assert_true(json_is_true(json_object_get(json_object_get(s, "pfs"), "event")));
  /* no hepatic progression: the death is the HPFS event */
  NEAR(json_real_value(json_object_get(json_object_get(s, "hpfs"), "time_days")), 210);
  assert_true(json_is_true(json_object_get(json_object_get(s, "hpfs"), "event")));
  json_decref(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_best_change), cmocka_unit_test(test_subject_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
