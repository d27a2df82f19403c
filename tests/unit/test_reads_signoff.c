/* Sign-off completeness (rcy_reads_sign_check): what a timepoint needs before a reader may sign it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "recistry/reads.h"

static rcy_timepoint tp_items[2] = {{.timepoint = "BL", .date = "2025-01-06"},
                                    {.timepoint = "FU1", .date = "2025-03-03"}};
static const rcy_timepoint_list tps = {tp_items, 2};

static json_t *doc_of(const char *text) {
  json_error_t je;
  json_t *d = json_loads(text, 0, &je);
  if (!d) fail_msg("bad test JSON: %s", je.text);
  return d;
}

static void expect(const char *doc_text, const char *tp, int status, const char *words) {
  json_t *doc = doc_of(doc_text);
  char msg[600];
  int got = rcy_reads_sign_check(doc, &tps, tp, msg, sizeof msg);
  json_decref(doc);
  if (got != status) fail_msg("%s: status %d, want %d (%s)", tp, got, status, msg);
  if (words && !strstr(msg, words)) fail_msg("expected '%s' in '%s'", words, msg);
}

static void baseline(void **state) {
  (void)state;
  expect("{\"lesions\":[],\"signoffs\":{}}", "BL", 422, "no target or non-target lesion");
  expect(
      "{\"lesions\":[{\"lesion_id\":\"T1\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{}},"
      "{\"lesion_id\":\"T2\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{}}],\"signoffs\":{}}",
      "BL", 422, "target T1 is not measured; target T2 is not measured");
  expect("{\"lesions\":[{\"lesion_id\":\"T1\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{"
         "\"BL\":{\"diameter_mm\":30}}},"
         "{\"lesion_id\":\"NT1\",\"kind\":\"non_target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":{"
         "\"state\":\"present\"}}}],"
         "\"signoffs\":{}}",
         "BL", 0, NULL);
  expect("{\"lesions\":[],\"signoffs\":{}}", "FU9", 404, NULL);
}

static void follow_up(void **state) {
  (void)state;
  const char *unsigned_bl = "{\"lesions\":[{\"lesion_id\":\"T1\",\"kind\":\"target\",\"timepoint\":\"BL\","
                            "\"observations\":{\"BL\":{\"diameter_mm\":30},"
                            "\"FU1\":{\"state\":\"too_small\"}}}],\"signoffs\":{}}";
  expect(unsigned_bl, "FU1", 422, "sign BL first");
  const char *incomplete =
      "{\"lesions\":[{\"lesion_id\":\"T1\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":"
      "{\"diameter_mm\":30}}},"
      "{\"lesion_id\":\"T2\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":{\"diameter_"
      "mm\":20},\"FU1\":{\"merged_into\":\"T1\"}}},"
      "{\"lesion_id\":\"NT1\",\"kind\":\"non_target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":{"
      "\"state\":\"present\"}}},"
      "{\"lesion_id\":\"N1\",\"kind\":\"new\",\"timepoint\":\"FU1\",\"observations\":{}}],"
      "\"signoffs\":{\"BL\":{\"signed_by\":\"alice\",\"signed_at\":\"x\",\"meaning\":\"m\"}}}";
  expect(incomplete, "FU1", 422,
         "FU1 cannot be signed yet: target T1 is neither measured nor given a state; non-target NT1 has no "
         "state; "
         "new lesion N1 has no state");
  const char *complete =
      "{\"lesions\":[{\"lesion_id\":\"T1\",\"kind\":\"target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":"
      "{\"diameter_mm\":30},"
      "\"FU1\":{\"fragments_mm\":[3,4]}}},"
      "{\"lesion_id\":\"NT1\",\"kind\":\"non_target\",\"timepoint\":\"BL\",\"observations\":{\"BL\":{"
      "\"state\":\"present\"},"
      "\"FU1\":{\"state\":\"absent\"}}}],"
      "\"signoffs\":{\"BL\":{\"signed_by\":\"alice\",\"signed_at\":\"x\",\"meaning\":\"m\"}}}";
  expect(complete, "FU1", 0, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(baseline), cmocka_unit_test(follow_up)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
