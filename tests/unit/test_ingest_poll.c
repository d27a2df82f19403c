/* Polling's privacy rule at configuration time: the C-FIND Patient ID key derived from a site's
 * subject_pattern (its literal prefix + "*", never more than the pattern allows), the refusal of patterns
 * without a usable prefix and of an explicit poll_patient_id that is a bare wildcard; the poll keys of a
 * site (defaults, poll_hours, bounds) with messages naming section and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/ingest.h"

static void expect_key(const char *pattern, const char *key) {
  char out[80], why[200];
  int rc = rcy_ingest_poll_key_from_pattern(out, sizeof out, pattern, why, sizeof why);
  if (rc) fail_msg("%s: %s", pattern, why);
  assert_string_equal(out, key);
}

static void expect_no_key(const char *pattern, const char *why_part) {
  char out[80], why[200];
  assert_int_equal(rcy_ingest_poll_key_from_pattern(out, sizeof out, pattern, why, sizeof why), RCY_EINVAL);
  if (!strstr(why, why_part)) fail_msg("%s: '%s' lacks '%s'", pattern, why, why_part);
}

static void test_key_from_pattern(void **state) {
  (void)state;
  expect_key("^CIREL-014-[0-9]{3}$", "CIREL-014-*");
  expect_key("^CIREL-014-[0-9]{4}$", "CIREL-014-*");
  expect_key("^CIREL-014-.*", "CIREL-014-*");
  expect_key("^CIREL\\-014\\.[0-9]+$", "CIREL-014.*");
  expect_key("^ABC-001$", "ABC-001"); /* one literal: exactly that subject */
  expect_key("^ABC-0012?$", "ABC-001*"); /* an optional last character leaves the prefix */
  expect_key("^ABC-0*1$", "ABC-*");
  expect_key("^ABC-0{2}1$", "ABC-*");
  expect_key("^AB+C", "AB*");
  expect_no_key(".*", "not anchored");
  expect_no_key("CIREL-014-[0-9]{4}", "not anchored");
  expect_no_key("^[A-Z]+-014", "no literal prefix");
  expect_no_key("^.*", "no literal prefix");
  expect_no_key("^A?B", "no literal prefix");
  expect_no_key("^\\d+", "no literal prefix");
  expect_no_key("^CIREL-014|^OTHER", "alternation");
  expect_no_key("^a*b|c", "alternation");
  /* Conservative: an alternation anywhere is refused, even inside a group where the prefix would bound it. */
  expect_no_key("^S(0|1)", "alternation");
  expect_key("^S[|]1", "S*"); /* inside a bracket expression | is a character */
}

static void test_key_check(void **state) {
  (void)state;
  char why[200];
  assert_int_equal(rcy_ingest_poll_key_check("CIREL-014-*", why, sizeof why), 0);
  assert_int_equal(rcy_ingest_poll_key_check("*", why, sizeof why), RCY_EINVAL);
  assert_int_equal(rcy_ingest_poll_key_check("?IREL*", why, sizeof why), RCY_EINVAL);
  assert_int_equal(rcy_ingest_poll_key_check("", why, sizeof why), RCY_EINVAL);
  assert_int_equal(rcy_ingest_poll_key_check("A\\B", why, sizeof why), RCY_EINVAL);
}

static const char *head =
    "[archive]\npath = /srv/recistry\n[dicom]\nae_title = FFCD_CORE\nport = 11112\n"
    "[site:S014]\nae_title = SITE014\n";

static char *write_ini(const char *site_lines) {
  char *path = strdup("/tmp/rcy-poll-ini-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "%s%s", head, site_lines);
  fclose(f);
  return path;
}

static int load(rcy_ingest_config **cfg, const char *site_lines, rcy_error *err) {
  char *path = write_ini(site_lines);
  int rc = rcy_ingest_config_load(cfg, path, err);
  unlink(path);
  free(path);
  return rc;
}

static void expect_error(const char *site_lines, const char *part) {
  rcy_ingest_config *cfg = NULL;
  rcy_error err = {0};
  assert_int_not_equal(load(&cfg, site_lines, &err), 0);
  assert_null(cfg);
  if (!strstr(err.message, part)) fail_msg("'%s' lacks '%s'", err.message, part);
}

static void test_config(void **state) {
  (void)state;
  rcy_ingest_config *cfg = NULL;
  rcy_error err = {0};
  assert_int_equal(load(&cfg, "subject_pattern = ^CIREL-014-[0-9]{4}$\npacs = h:104:PACS\npoll_interval = 600\n"
                              "retrieve = get\npoll_hours = 20:00-06:30\n", &err), 0);
  const rcy_ingest_site *s = rcy_ingest_config_site(cfg, "S014");
  assert_int_equal(s->poll_interval_s, 600);
  assert_int_equal(s->poll_since_days, 365);
  assert_int_equal(s->poll_margin_days, 1);
  assert_int_equal(s->poll_timeout_s, 10);
  assert_int_equal(s->pull_move, 0);
  assert_int_equal(s->poll_hours_from_min, 20 * 60);
  assert_int_equal(s->poll_hours_to_min, 6 * 60 + 30);
  assert_string_equal(s->poll_patient_id, "CIREL-014-*");
  rcy_ingest_config_free(cfg);
  /* No usable prefix: fine without polling, refused with it unless poll_patient_id says what to ask. */
  assert_int_equal(load(&cfg, "subject_pattern = .*\n", &err), 0);
  assert_null(rcy_ingest_config_site(cfg, "S014")->poll_patient_id);
  rcy_ingest_config_free(cfg);
  expect_error("subject_pattern = .*\npacs = h:104:PACS\npoll_interval = 60\n",
               "[site:S014] subject_pattern: '.*' is not anchored with ^");
  assert_int_equal(load(&cfg, "subject_pattern = .*\npacs = h:104:PACS\npoll_interval = 60\n"
                              "poll_patient_id = CIREL-*\n", &err), 0);
  assert_string_equal(rcy_ingest_config_site(cfg, "S014")->poll_patient_id, "CIREL-*");
  rcy_ingest_config_free(cfg);
  expect_error("subject_pattern = .*\npoll_patient_id = *\n", "[site:S014] poll_patient_id: '*' must start");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_interval = 60\n", "[site:S014] poll_interval: needs pacs");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_interval = -1\n", "[site:S014] poll_interval: '-1' is not");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_hours = 8-18\n", "[site:S014] poll_hours: '8-18' is not HH:MM");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_hours = 08:00-08:00\n", "[site:S014] poll_hours: '08:00-08:00' is an empty");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_hours = 08:60-18:00\n", "[site:S014] poll_hours");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_since_days = 0\n", "[site:S014] poll_since_days");
  expect_error("subject_pattern = ^A-[0-9]+$\npoll_margin_days = x\n", "[site:S014] poll_margin_days");
  expect_error("subject_pattern = ^A-[0-9]+$\nretrieve = fetch\n", "[site:S014] retrieve: 'fetch' must be get or move");
  /* The node's AE tells the daemon whose C-MOVE delivery it is: one node AE per site. */
  expect_error("subject_pattern = ^A-[0-9]+$\npacs = h:104:PACS\n[site:S027]\nae_title = SITE027\n"
               "subject_pattern = ^B-[0-9]+$\npacs = h2:104:PACS\n",
               "[site:S027] pacs: AE title PACS is already site S014's node");
  expect_error("subject_pattern = ^A-[0-9]+$\npacs = h:104:SITE027\n[site:S027]\nae_title = SITE027\n"
               "subject_pattern = ^B-[0-9]+$\n",
               "[site:S014] pacs: AE title SITE027 is site S027's calling AE title");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_key_from_pattern), cmocka_unit_test(test_key_check),
                                     cmocka_unit_test(test_config)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
