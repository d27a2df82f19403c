/* The exploratory volumetric response of the read view (src/reads/volumetric.c): the sum of the targets'
 * segmentation volumes only when every target has one (a disappeared target counts 0), its change from
 * baseline, null otherwise; non-targets never count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "recistry/reads.h"

static json_t *vol(json_t *view, size_t i, const char *key) {
  return json_object_get(json_object_get(json_array_get(json_object_get(view, "timepoints"), i), "volumetric"), key);
}

#define SEG(v) "{\"measurement\":{\"segmentation\":{\"volume_ml\":" #v "}}}"

static void sums_and_change_when_every_target_has_a_volume(void **state) {
  (void)state;
  json_t *view = json_loads(
      "{\"timepoints\":[{\"timepoint\":\"BL\"},{\"timepoint\":\"FU1\"},{\"timepoint\":\"FU2\"},{\"timepoint\":\"FU3\"}],"
      "\"lesions\":["
      "{\"lesion_id\":\"T1\",\"kind\":\"target\",\"observations\":{\"BL\":" SEG(20) ",\"FU1\":" SEG(10)
      ",\"FU2\":{\"measurement\":{\"long_mm\":12}},\"FU3\":{\"state\":\"disappeared\"}}},"
      "{\"lesion_id\":\"T2\",\"kind\":\"target\",\"observations\":{\"BL\":" SEG(5) ",\"FU1\":" SEG(2.5)
      ",\"FU2\":" SEG(2) ",\"FU3\":" SEG(1.25) "}},"
      "{\"lesion_id\":\"NT1\",\"kind\":\"non_target\",\"observations\":{\"BL\":" SEG(100) "}}]}",
      0, NULL);
  assert_non_null(view);
  rcy_reads_view_add_volumetric(view);
  assert_true(json_is_true(vol(view, 0, "exploratory")));
  assert_float_equal(json_number_value(vol(view, 0, "sum_ml")), 25.0, 1e-9); /* the non-target never counts */
  assert_true(json_is_null(vol(view, 0, "change_from_baseline_pct")));
  assert_float_equal(json_number_value(vol(view, 1, "sum_ml")), 12.5, 1e-9);
  assert_float_equal(json_number_value(vol(view, 1, "change_from_baseline_pct")), -50.0, 1e-9);
  assert_true(json_is_null(vol(view, 2, "sum_ml"))); /* T1 measured by hand at FU2: no sum */
  assert_true(json_is_null(vol(view, 2, "change_from_baseline_pct")));
  assert_float_equal(json_number_value(vol(view, 3, "sum_ml")), 1.25, 1e-9); /* T1 disappeared: 0 mL */
  assert_float_equal(json_number_value(vol(view, 3, "change_from_baseline_pct")), -95.0, 1e-9);
  assert_int_equal(json_integer_value(vol(view, 3, "targets")), 2);
  json_decref(view);
}

static void no_targets_no_sum(void **state) {
  (void)state;
  json_t *view = json_loads("{\"timepoints\":[{\"timepoint\":\"BL\"}],\"lesions\":[]}", 0, NULL);
  rcy_reads_view_add_volumetric(view);
  assert_true(json_is_null(vol(view, 0, "sum_ml")));
  json_decref(view);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sums_and_change_when_every_target_has_a_volume),
      cmocka_unit_test(no_targets_no_sum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
