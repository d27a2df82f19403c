/* Study QC on slice geometry and the per-instance checks, on values built here (no files): regular series
 * pass; a missing slice, uneven spacing, thick slices and a mixed orientation are each found; the
 * anonymisation and site checks give the statuses of docs/conformance.md and name attributes, not values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/ingest/ingest_internal.h"

static void series(rcy_archive_slice *s, int n, double spacing, double thickness) {
  for (int i = 0; i < n; i++) {
    memset(&s[i], 0, sizeof s[i]);
    snprintf(s[i].series_uid, sizeof s[i].series_uid, "1.2.3");
    s[i].has_position = s[i].has_orientation = s[i].has_slice_thickness = 1;
    s[i].position_mm[0] = -200;
    s[i].position_mm[1] = -200;
    s[i].position_mm[2] = 100 - i * spacing; /* descending, as scanners often send */
    double o[6] = {1, 0, 0, 0, 1, 0};
    memcpy(s[i].orientation, o, sizeof o);
    s[i].slice_thickness_mm = thickness;
  }
}

static int has(const rcy_ingest_qc_result *r, const char *code) {
  for (size_t i = 0; i < r->n_findings; i++)
    if (strcmp(r->findings[i].code, code) == 0) return 1;
  return 0;
}

static void run(rcy_ingest_qc_result *r, const rcy_archive_slice *s, size_t n) {
  rcy_error err = {0};
  assert_int_equal(rcy_ingest_qc_slices(r, s, n, &err), 0);
}

static void test_regular(void **state) {
  (void)state;
  rcy_archive_slice s[40];
  series(s, 40, 2.5, 2.5);
  rcy_ingest_qc_result r;
  run(&r, s, 40);
  assert_int_equal(r.warning, 0);
  assert_true(has(&r, "series_count"));
  assert_non_null(strstr(r.findings[r.n_findings - 1].message, "1 series, 40 instances"));
  rcy_ingest_qc_result_clear(&r);
}

static void test_gap(void **state) {
  (void)state;
  rcy_archive_slice s[40];
  series(s, 40, 2.5, 2.5);
  memmove(&s[10], &s[11], 29 * sizeof s[0]); /* drop one slice */
  rcy_ingest_qc_result r;
  run(&r, s, 39);
  assert_int_equal(r.warning, 1);
  assert_true(has(&r, "slice_gap"));
  rcy_ingest_qc_result_clear(&r);
  /* three slices, one missing between the last two: the regular spacing still wins */
  series(s, 4, 5, 5);
  s[2] = s[3];
  run(&r, s, 3);
  assert_true(has(&r, "slice_gap"));
  rcy_ingest_qc_result_clear(&r);
}

static void test_spacing_thick_orientation(void **state) {
  (void)state;
  rcy_archive_slice s[20];
  rcy_ingest_qc_result r;
  series(s, 20, 2.5, 2.5);
  s[7].position_mm[2] += 0.6; /* uneven but no gap */
  run(&r, s, 20);
  assert_true(has(&r, "spacing_inconsistent"));
  assert_false(has(&r, "slice_gap"));
  rcy_ingest_qc_result_clear(&r);

  series(s, 20, 7.5, 7.5);
  run(&r, s, 20);
  assert_true(has(&r, "thick_slices"));
  rcy_ingest_qc_result_clear(&r);

  series(s, 20, 5, 5); /* exactly 5 mm is allowed */
  run(&r, s, 20);
  assert_int_equal(r.warning, 0);
  rcy_ingest_qc_result_clear(&r);

  series(s, 20, 2.5, 2.5);
  double sag[6] = {0, 1, 0, 0, 0, -1};
  memcpy(s[3].orientation, sag, sizeof sag);
  run(&r, s, 20);
  assert_true(has(&r, "orientation_mixed"));
  rcy_ingest_qc_result_clear(&r);
}

static rcy_ingest_site site14 = {.id = "S014", .ae_title = "SITE014", .subject_pattern = "^CIREL-014-[0-9]{4}$"};

static void clean_attrs(rcy_dicom_attrs *a) {
  memset(a, 0, sizeof *a);
  strcpy(a->sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
  strcpy(a->sop_instance_uid, "1.2.3.4.1");
  strcpy(a->study_uid, "1.2.3");
  strcpy(a->series_uid, "1.2.3.4");
  strcpy(a->site_id, "S014");
  strcpy(a->subject_id, "CIREL-014-0001");
  strcpy(a->patient_id, "CIREL-014-0001");
  strcpy(a->patient_name, "CIREL-014-0001");
  strcpy(a->patient_identity_removed, "YES");
}

static void test_checks(void **state) {
  (void)state;
  regex_t re;
  assert_int_equal(regcomp(&re, site14.subject_pattern, REG_EXTENDED | REG_NOSUB), 0);
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  int present[RCY_INGEST_PROFILE_MAX] = {0};
  assert_true(n < RCY_INGEST_PROFILE_MAX);
  rcy_dicom_attrs a;
  rcy_verdict v;
  const char *cls = "1.2.840.10008.5.1.4.1.1.2", *inst = "1.2.3.4.1";

  clean_attrs(&a);
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  assert_string_equal(v.subject_id, "CIREL-014-0001");

  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, "1.2.3.4.9");
  assert_int_equal(v.status, RCY_DICOM_STATUS_DATASET_MISMATCH);

  strcpy(a.site_id, "S027");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_REFUSE);
  assert_int_equal(v.status, RCY_DICOM_STATUS_NOT_AUTHORIZED);

  clean_attrs(&a);
  strcpy(a.subject_id, "MRN12345");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_NOT_ANONYMISED);
  assert_null(strstr(v.comment, "MRN12345"));
  assert_null(strstr(v.reason, "MRN12345"));

  clean_attrs(&a);
  strcpy(a.patient_name, "DUPONT^JEANNE");
  a.has_burned_in_annotation = 1;
  strcpy(a.burned_in_annotation, "YES");
  for (size_t i = 0; i < n; i++) present[i] = tags[i] == 0x00100030u; /* PatientBirthDate */
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.status, RCY_DICOM_STATUS_NOT_ANONYMISED);
  assert_non_null(strstr(v.reason, "PatientName"));
  assert_non_null(strstr(v.reason, "BurnedInAnnotation=YES"));
  assert_non_null(strstr(v.reason, "PatientBirthDate"));
  assert_null(strstr(v.reason, "DUPONT"));
  assert_true(strlen(v.comment) <= 64);

  clean_attrs(&a);
  memset(present, 0, sizeof present);
  strcpy(a.patient_identity_removed, "NO");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_non_null(strstr(v.comment, "PatientIdentityRemoved"));
  regfree(&re);

  assert_true(rcy_ingest_valid_uid("2.25.145739055795654407612743581576287966443"));
  assert_true(rcy_ingest_valid_uid("1.2.0.3"));
  assert_true(rcy_ingest_valid_uid("0"));
  assert_false(rcy_ingest_valid_uid("1.2..3"));
  assert_false(rcy_ingest_valid_uid("1.2.3/../x"));
  assert_false(rcy_ingest_valid_uid(""));
  assert_false(rcy_ingest_valid_uid("1.02.3"));
  assert_false(rcy_ingest_valid_uid("01.2"));
  assert_false(rcy_ingest_valid_uid(".1.2"));
  assert_false(rcy_ingest_valid_uid("1.2."));
  assert_true(rcy_ingest_valid_uid("1.2.826.0.1.3680043.10.7.1234567890.1234567890.1234567890.123456"));
  assert_false(rcy_ingest_valid_uid("1.2.826.0.1.3680043.10.7.1234567890.1234567890.1234567890.1234567"));
}

static void test_checks_hardening(void **state) {
  (void)state;
  regex_t re;
  assert_int_equal(regcomp(&re, site14.subject_pattern, REG_EXTENDED | REG_NOSUB), 0);
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  int present[RCY_INGEST_PROFILE_MAX] = {0};
  rcy_dicom_attrs a;
  rcy_verdict v;
  const char *cls = "1.2.840.10008.5.1.4.1.1.2", *inst = "1.2.3.4.1";

  /* a value too long for its field is refused, naming the attribute */
  clean_attrs(&a);
  strcpy(a.overlong, "StudyInstanceUID");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.status, RCY_DICOM_STATUS_DATASET_MISMATCH);
  assert_non_null(strstr(v.comment, "StudyInstanceUID"));

  clean_attrs(&a);
  strcpy(a.series_uid, "1.2.03");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.status, RCY_DICOM_STATUS_DATASET_MISMATCH);
  assert_non_null(strstr(v.comment, "SeriesInstanceUID"));

  /* Burned In Annotation: absent and NO pass; everything else is refused */
  const char *bad[] = {"YES", "yes", "NO\\YES", "YES\\NO", "MAYBE", "", "no"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clean_attrs(&a);
    a.has_burned_in_annotation = 1;
    strcpy(a.burned_in_annotation, bad[i]);
    rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
    assert_int_equal(v.status, RCY_DICOM_STATUS_NOT_ANONYMISED);
    assert_non_null(strstr(v.reason, "BurnedInAnnotation"));
  }
  clean_attrs(&a);
  a.has_burned_in_annotation = 1;
  strcpy(a.burned_in_annotation, "NO");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);

  /* a nested Patient Name other than the subject ID is refused; the top-level one is compared apart */
  clean_attrs(&a);
  for (size_t i = 0; i < n; i++) present[i] = tags[i] == 0x00100010u ? RCY_DICOM_FOUND_TOP : 0;
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  for (size_t i = 0; i < n; i++) present[i] = tags[i] == 0x00100010u ? RCY_DICOM_FOUND_NESTED : 0;
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.status, RCY_DICOM_STATUS_NOT_ANONYMISED);
  assert_non_null(strstr(v.reason, "PatientName"));
  memset(present, 0, sizeof present);

  /* Study ID: a trial code passes, anything else is refused */
  clean_attrs(&a);
  strcpy(a.timepoint, "BL");
  strcpy(a.study_id, "BL");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  strcpy(a.study_id, "RIS778899");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_non_null(strstr(v.reason, "StudyID"));
  assert_null(strstr(v.reason, "RIS778899"));

  /* private blocks: refused by default, allowed by group or group + creator, forced to quarantine */
  clean_attrs(&a);
  a.n_private_blocks = 1;
  a.private_blocks[0].group = 0x0019;
  strcpy(a.private_blocks[0].creator, "RCY_SAFE");
  rcy_ingest_check(&v, &a, present, &site14, &re, NULL, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_NOT_ANONYMISED);
  assert_int_equal(v.keep, RCY_KEEP_REFUSE);
  assert_non_null(strstr(v.reason, "private(0019)"));
  assert_null(strstr(v.reason, "RCY_SAFE"));
  rcy_ingest_config cfg;
  memset(&cfg, 0, sizeof cfg);
  rcy_private_block allow[] = {{0x0019, "RCY_SAFE"}};
  cfg.private_allow = allow;
  cfg.n_private_allow = 1;
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  strcpy(a.private_blocks[0].creator, "OTHER");
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_NOT_ANONYMISED);
  allow[0].creator = NULL; /* the whole group */
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  cfg.n_private_allow = 0;
  cfg.private_tags = RCY_PRIVATE_QUARANTINE;
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.keep, RCY_KEEP_QUARANTINE);
  cfg.private_tags = RCY_PRIVATE_ALLOW;
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_ACCEPT);
  a.private_more = 1;
  cfg.private_tags = RCY_PRIVATE_REFUSE;
  rcy_ingest_check(&v, &a, present, &site14, &re, &cfg, cls, inst);
  assert_int_equal(v.kind, RCY_VERDICT_NOT_ANONYMISED);
  regfree(&re);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_regular),
      cmocka_unit_test(test_gap),
      cmocka_unit_test(test_spacing_thick_orientation),
      cmocka_unit_test(test_checks),
      cmocka_unit_test(test_checks_hardening),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
