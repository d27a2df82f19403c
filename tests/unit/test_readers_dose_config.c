/* The serve configuration's [dose] section (readers/server/config.c): voi_dir and thresholds are read for the
 * dose view, cohort_dir for the cohort page, other [dose] keys are left to `recistry dose` (ignored here, not an error), and both stay NULL
 * when absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"

static char *write_ini(const char *text) {
  char *path = strdup("/tmp/rcy_dose_config_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

static void dose_section_read(void **state) {
  (void)state;
  char *p = write_ini("[archive]\npath = /srv/a\n[dose]\nvoi_dir = /srv/voi\nthresholds = /etc/t.ini\n"
                      "dvh_step_gy = 0.5\ncohort_dir = /srv/cohort\n[http]\nport = 0\n");
  rcy_readers_config cfg;
  rcy_error err = {0};
  assert_int_equal(rcy_readers_config_load(&cfg, p, &err), 0);
  assert_string_equal(cfg.dose_voi_dir, "/srv/voi");
  assert_string_equal(cfg.dose_thresholds, "/etc/t.ini");
  assert_string_equal(cfg.dose_cohort_dir, "/srv/cohort");
  rcy_readers_config_free(&cfg);
  assert_null(cfg.dose_voi_dir);
  assert_null(cfg.dose_cohort_dir);
  unlink(p);
  free(p);
}

static void dose_section_absent(void **state) {
  (void)state;
  char *p = write_ini("[archive]\npath = /srv/a\n");
  rcy_readers_config cfg;
  rcy_error err = {0};
  assert_int_equal(rcy_readers_config_load(&cfg, p, &err), 0);
  assert_null(cfg.dose_voi_dir);
  assert_null(cfg.dose_thresholds);
  assert_null(cfg.dose_cohort_dir);
  rcy_readers_config_free(&cfg);
  unlink(p);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(dose_section_read), cmocka_unit_test(dose_section_absent)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
