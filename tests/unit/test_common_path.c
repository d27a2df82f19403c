/* rcy_path_shared: files shipped with the program are found from the running executable's folder — the
 * installed layout (<exe dir>/../share/recistry) before the build tree's (<exe dir>/share/recistry) — and a
 * missing one is RCY_ENOTFOUND with a message naming both places. This test runs from
 * build/tests/, so the installed rule finds build/share/recistry, the build tree's copy of the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/path.h"

static void exe_dir(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  assert_true(n > 0);
  out[n] = 0;
  *strrchr(out, '/') = 0;
}

static void finds_the_shipped_table(void **state) {
  (void)state;
  const char *build = getenv("RCY_BUILD_DIR");
  if (!build) skip();
  char *path = NULL;
  assert_int_equal(rcy_path_shared(&path, "dose-thresholds.ini", NULL), RCY_OK);
  char dir[PATH_MAX], want[PATH_MAX + 64];
  exe_dir(dir, sizeof dir);
  snprintf(want, sizeof want, "%s/../share/recistry/dose-thresholds.ini", dir);
  assert_string_equal(path, want);
  char *real = realpath(path, NULL), *build_real = realpath(build, NULL);
  assert_non_null(real);
  assert_non_null(build_real);
  snprintf(want, sizeof want, "%s/share/recistry/dose-thresholds.ini", build_real);
  assert_string_equal(real, want);
  free(real);
  free(build_real);
  free(path);
}

static void missing_names_both_places(void **state) {
  (void)state;
  char *path = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_path_shared(&path, "no-such-file", &err), RCY_ENOTFOUND);
  assert_null(path);
  char dir[PATH_MAX], want[2 * PATH_MAX + 160];
  exe_dir(dir, sizeof dir);
  snprintf(want, sizeof want,
           "no-such-file is not installed next to the program (neither %s/../share/recistry/no-such-file nor "
           "%s/share/recistry/no-such-file exists)", dir, dir);
  assert_string_equal(err.message, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(finds_the_shipped_table),
      cmocka_unit_test(missing_names_both_places),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
