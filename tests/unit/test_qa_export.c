/* The SDTM export's value mappings (src/qa/sdtm.c): engine responses and lesion states to CDISC submission
 * values, organs to LOC terms, modalities to METHOD — each term one the define_codelists.csv declares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "recistry/qa.h"

static void responses(void **state) {
  (void)state;
  assert_string_equal(rcy_qa_sdtm_response("CR"), "CR");
  assert_string_equal(rcy_qa_sdtm_response("PR"), "PR");
  assert_string_equal(rcy_qa_sdtm_response("SD"), "SD");
  assert_string_equal(rcy_qa_sdtm_response("PD"), "PD");
  assert_string_equal(rcy_qa_sdtm_response("NE"), "NE");
  assert_string_equal(rcy_qa_sdtm_response("NON_CR_NON_PD"), "NON-CR/NON-PD");
  assert_null(rcy_qa_sdtm_response("NONE")); /* no lesion of that kind: no record */
  assert_null(rcy_qa_sdtm_response(NULL));
  assert_null(rcy_qa_sdtm_response("pr"));
}

static void states(void **state) {
  (void)state;
  assert_string_equal(rcy_qa_sdtm_tumour_state("present"), "PRESENT");
  assert_string_equal(rcy_qa_sdtm_tumour_state("absent"), "ABSENT");
  assert_string_equal(rcy_qa_sdtm_tumour_state("unequivocal_progression"), "UNEQUIVOCAL");
  assert_string_equal(rcy_qa_sdtm_tumour_state("equivocal"), "EQUIVOCAL");
  assert_string_equal(rcy_qa_sdtm_tumour_state("unequivocal"), "UNEQUIVOCAL");
  assert_null(rcy_qa_sdtm_tumour_state("not_evaluable")); /* TRSTAT NOT DONE */
}

static void locations_and_methods(void **state) {
  (void)state;
  assert_string_equal(rcy_qa_sdtm_location("liver", false), "LIVER");
  assert_string_equal(rcy_qa_sdtm_location("Lung", false), "LUNG");
  assert_string_equal(rcy_qa_sdtm_location("lymph node", true), "LYMPH NODE");
  assert_string_equal(rcy_qa_sdtm_location("mediastinum", true), "LYMPH NODE"); /* nodal: a lymph node */
  assert_string_equal(rcy_qa_sdtm_location("adrenal gland", false), "ADRENAL GLAND");
  assert_null(rcy_qa_sdtm_location("elsewhere", false));
  assert_null(rcy_qa_sdtm_location(NULL, false));
  assert_string_equal(rcy_qa_sdtm_method("CT"), "CT SCAN");
  assert_string_equal(rcy_qa_sdtm_method("MR"), "MRI");
  assert_null(rcy_qa_sdtm_method("US"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(responses), cmocka_unit_test(states),
                                     cmocka_unit_test(locations_and_methods)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
