/* Image geometry of the read model: distances in mm from Pixel Spacing (row and column spacing differ), and
 * patient positions from Image Position + Orientation, on an axial and on an oblique image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "recistry/reads.h"

static rcy_reads_image axial(void) {
  rcy_reads_image img = {.rows = 512, .columns = 256, .spacing_row_mm = 0.5, .spacing_col_mm = 0.8,
                         .position_mm = {-100, -120, 35}, .orientation = {1, 0, 0, 0, 1, 0}, .has_orientation = 1};
  return img;
}

static void distances_use_each_axis_spacing(void **state) {
  (void)state;
  rcy_reads_image img = axial();
  const double a[2] = {10, 10}, b[2] = {13, 14}; /* 3 columns (2.4 mm) and 4 rows (2.0 mm) */
  assert_true(fabs(rcy_reads_image_distance_mm(&img, a, b) - sqrt(2.4 * 2.4 + 2.0 * 2.0)) < 1e-12);
}

static void positions_follow_orientation(void **state) {
  (void)state;
  rcy_reads_image img = axial();
  double mm[3];
  const double p[2] = {10, 20};
  assert_int_equal(rcy_reads_image_patient_position(mm, &img, p), 0);
  assert_true(fabs(mm[0] - (-100 + 10 * 0.8)) < 1e-12); /* column index along the row direction (x) */
  assert_true(fabs(mm[1] - (-120 + 20 * 0.5)) < 1e-12); /* row index along the column direction (y) */
  assert_true(fabs(mm[2] - 35) < 1e-12);
  /* An oblique plane: rows along (0,1,0), columns along (0,0,-1) (a sagittal image). */
  rcy_reads_image sag = img;
  const double o[6] = {0, 1, 0, 0, 0, -1};
  for (int k = 0; k < 6; k++) sag.orientation[k] = o[k];
  assert_int_equal(rcy_reads_image_patient_position(mm, &sag, p), 0);
  assert_true(fabs(mm[0] - -100) < 1e-12 && fabs(mm[1] - (-120 + 8)) < 1e-12 && fabs(mm[2] - (35 - 10)) < 1e-12);
  sag.has_orientation = 0;
  assert_int_equal(rcy_reads_image_patient_position(mm, &sag, p), RCY_EINVAL);
}

static void points_on_the_image(void **state) {
  (void)state;
  rcy_reads_image img = axial();
  const double in[2] = {255.5, 511.5}, out_col[2] = {255.6, 0}, neg[2] = {-0.6, 3}, nan_p[2] = {NAN, 1};
  assert_true(rcy_reads_image_contains(&img, in));
  assert_false(rcy_reads_image_contains(&img, out_col));
  assert_false(rcy_reads_image_contains(&img, neg));
  assert_false(rcy_reads_image_contains(&img, nan_p));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(distances_use_each_axis_spacing),
      cmocka_unit_test(positions_follow_orientation),
      cmocka_unit_test(points_on_the_image),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
