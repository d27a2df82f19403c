/* The nadir timepoint of the read view (src/reads/nadir.c): the earlier timepoint with the smallest complete
 * sum in the engine's output, ties to the earliest, null at baseline, timepoints without a sum skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "recistry/reads.h"

static const char *nadir_of(json_t *view, size_t i) {
  return json_string_value(
      json_object_get(json_array_get(json_object_get(view, "timepoints"), i), "nadir_timepoint"));
}

static void nadir_is_the_smallest_earlier_sum(void **state) {
  (void)state;
  json_t *view = json_loads("{\"timepoints\":[{\"timepoint\":\"BL\"},{\"timepoint\":\"FU1\"},{\"timepoint\":"
                            "\"FU2\"},{\"timepoint\":\"FU3\"},"
                            "{\"timepoint\":\"FU4\"},{\"timepoint\":\"FU5\"}],"
                            "\"engine\":{\"timepoints\":[{\"timepoint\":\"BL\",\"sum_mm\":60},{\"timepoint\":"
                            "\"FU1\",\"sum_mm\":40},"
                            "{\"timepoint\":\"FU2\",\"sum_mm\":null},{\"timepoint\":\"FU3\",\"sum_mm\":40},"
                            "{\"timepoint\":\"FU4\",\"sum_mm\":55}]}}",
                            0, NULL);
  assert_non_null(view);
  rcy_reads_view_add_nadir(view);
  assert_null(nadir_of(view, 0));                /* baseline: none before it */
  assert_string_equal(nadir_of(view, 1), "BL");  /* only BL before FU1 */
  assert_string_equal(nadir_of(view, 2), "FU1"); /* 40 < 60 */
  assert_string_equal(nadir_of(view, 3), "FU1"); /* FU2 has no complete sum */
  assert_string_equal(nadir_of(view, 4), "FU1"); /* FU3 ties FU1: the earliest */
  assert_string_equal(nadir_of(view, 5), "FU1"); /* FU5 not evaluated yet: nadir over all before it */
  json_decref(view);
}

static void no_engine_no_nadir(void **state) {
  (void)state;
  json_t *view = json_loads(
      "{\"timepoints\":[{\"timepoint\":\"BL\"},{\"timepoint\":\"FU1\"}],\"engine\":null}", 0, NULL);
  rcy_reads_view_add_nadir(view);
  assert_null(nadir_of(view, 1));
  assert_true(json_is_null(
      json_object_get(json_array_get(json_object_get(view, "timepoints"), 1), "nadir_timepoint")));
  json_decref(view);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(nadir_is_the_smallest_earlier_sum),
      cmocka_unit_test(no_engine_no_nadir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
