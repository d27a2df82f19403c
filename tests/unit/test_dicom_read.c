/* Reading an instance's attributes: a file written with the datasets API reads back with its identifiers,
 * trial attributes and geometry; identity-bearing attributes are reported present/absent without their
 * values; a file cut inside its Pixel Data and a non-DICOM file are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/dicom.h"

#define T RCY_DICOM_TAG

static void set(rcy_dicom_dataset *ds, uint32_t tag, const char *v) {
  rcy_error err = {0};
  if (rcy_dicom_dataset_set_string(ds, tag, v, &err)) fail_msg("%s", err.message);
}

static void write_ct(const char *path, int with_birth_date) {
  rcy_dicom_dataset *ds;
  rcy_error err = {0};
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  set(ds, T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.2");
  set(ds, T(0x0008, 0x0018), "1.2.3.4.5.1");
  set(ds, T(0x0008, 0x0020), "20240115");
  set(ds, T(0x0008, 0x0060), "CT");
  set(ds, T(0x0008, 0x0090), "");
  set(ds, T(0x0010, 0x0010), "CIREL-014-0001");
  set(ds, T(0x0010, 0x0020), "CIREL-014-0001");
  set(ds, T(0x0010, 0x0030), with_birth_date ? "19580412" : "");
  set(ds, T(0x0012, 0x0030), "S014");
  set(ds, T(0x0012, 0x0040), "CIREL-014-0001");
  set(ds, T(0x0012, 0x0050), "FU1");
  set(ds, T(0x0012, 0x0062), "YES");
  set(ds, T(0x0018, 0x0050), "2.5");
  set(ds, T(0x0020, 0x000d), "1.2.3");
  set(ds, T(0x0020, 0x000e), "1.2.3.4");
  set(ds, T(0x0020, 0x0013), "7");
  set(ds, T(0x0020, 0x0032), "-200\\-180.5\\12.5");
  set(ds, T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0");
  set(ds, T(0x0028, 0x0030), "0.75\\0.8");
  static int16_t px[64 * 64];
  assert_int_equal(rcy_dicom_dataset_set_pixels_int16(ds, px, 64, 64, &err), 0);
  assert_int_equal(rcy_dicom_dataset_write_file(ds, path, &err), 0);
  rcy_dicom_dataset_free(ds);
}

static const rcy_dicom_tag check[] = {0x00100030u, 0x00080090u, 0x00080080u};

static void test_read(void **state) {
  (void)state;
  char path[] = "/tmp/rcy-read-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  write_ct(path, 1);
  rcy_dicom_attrs a;
  int present[3];
  rcy_error err = {0};
  assert_int_equal(rcy_dicom_read_attrs(&a, present, path, check, 3, &err), 0);
  assert_string_equal(a.sop_instance_uid, "1.2.3.4.5.1");
  assert_string_equal(a.transfer_syntax_uid, "1.2.840.10008.1.2.1");
  assert_string_equal(a.study_date, "2024-01-15");
  assert_string_equal(a.site_id, "S014");
  assert_string_equal(a.subject_id, "CIREL-014-0001");
  assert_string_equal(a.timepoint, "FU1");
  assert_string_equal(a.patient_identity_removed, "YES");
  assert_true(a.has_instance_number && a.instance_number == 7);
  assert_true(a.has_rows && a.rows == 64 && a.columns == 64);
  assert_true(a.has_pixel_spacing && a.pixel_spacing_row_mm == 0.75 && a.pixel_spacing_col_mm == 0.8);
  assert_true(a.has_position && a.position_mm[1] == -180.5 && a.position_mm[2] == 12.5);
  assert_true(a.has_orientation && a.orientation[4] == 1.0);
  assert_true(a.has_slice_thickness && a.slice_thickness_mm == 2.5);
  assert_int_equal(present[0], 1); /* birth date set */
  assert_int_equal(present[1], 0); /* referring physician empty */
  assert_int_equal(present[2], 0); /* institution absent */

  write_ct(path, 0);
  assert_int_equal(rcy_dicom_read_attrs(&a, present, path, check, 3, &err), 0);
  assert_int_equal(present[0], 0);

  /* cut inside the pixel data */
  assert_int_equal(truncate(path, 2000), 0);
  assert_int_equal(rcy_dicom_read_attrs(&a, present, path, check, 3, &err), RCY_EDICOM);
  FILE *f = fopen(path, "w");
  fputs("this is a report, not DICOM\n", f);
  fclose(f);
  assert_int_equal(rcy_dicom_read_attrs(&a, present, path, check, 3, &err), RCY_EDICOM);
  assert_int_equal(rcy_dicom_read_attrs(&a, present, "/nonexistent.dcm", check, 3, &err), RCY_EDICOM);
  unlink(path);

  char name[64];
  rcy_dicom_tag_name(name, sizeof name, 0x00100030u);
  assert_string_equal(name, "PatientBirthDate");
  rcy_dicom_tag_name(name, sizeof name, 0x00091001u);
  assert_string_equal(name, "(0009,1001)");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_read)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
