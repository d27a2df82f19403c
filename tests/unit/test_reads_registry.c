/* Subject registry data: the contract's rules (../shared/spec/registry-endpoints.md) one by one, and the
 * import — all or nothing, one audited row per new or changed subject, the images' site kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/reads.h"
#include "recistry/store.h"

static rcy_registry_subject valid(void) {
  rcy_registry_subject s;
  memset(&s, 0, sizeof s);
  strcpy(s.subject_id, "CIREL-014-0001");
  strcpy(s.site_id, "S014");
  strcpy(s.treatment_start, "2019-03-04");
  strcpy(s.indication, "salvage");
  s.liver_only = 1;
  strcpy(s.last_contact_date, "2020-06-30");
  return s;
}

static void expect_refused(const rcy_registry_subject *s, const char *words) {
  rcy_error err = {0};
  assert_int_equal(rcy_registry_check(s, "2026-11-29", &err), RCY_EINVAL);
  if (!strstr(err.message, words)) fail_msg("expected '%s' in '%s'", words, err.message);
}

static void rules(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_registry_subject s = valid();
  assert_int_equal(rcy_registry_check(&s, "2026-11-29", &err), 0);
  s = valid(), strcpy(s.indication, "second_line"), expect_refused(&s, "indication: 'second_line' is not one of");
  s = valid(), strcpy(s.treatment_start, "2019-02-29"), expect_refused(&s, "treatment_start: '2019-02-29' is not an ISO date");
  s = valid(), strcpy(s.treatment_start, "04/03/2019"), expect_refused(&s, "not an ISO date");
  s = valid(), strcpy(s.death_date, "2019-03-01"), s.last_contact_date[0] = 0,
  expect_refused(&s, "death_date: 2019-03-01 is before the treatment start 2019-03-04");
  s = valid(), strcpy(s.last_contact_date, "2019-03-03"), expect_refused(&s, "last_contact_date: 2019-03-03 is before");
  s = valid(), s.last_contact_date[0] = 0, expect_refused(&s, "last_contact_date: required when there is no death_date");
  s = valid(), strcpy(s.death_date, "2020-01-01"), expect_refused(&s, "last_contact_date: 2020-06-30 is after the death date");
  s = valid(), strcpy(s.secondary_resection_date, "2019-01-01"), expect_refused(&s, "secondary_resection_date");
  s = valid(), strcpy(s.last_contact_date, "2027-01-01"), expect_refused(&s, "in the future");
  s = valid(), strcpy(s.subject_id, "../etc"), expect_refused(&s, "subject_id: must be");
  s = valid(), s.site_id[0] = 0, expect_refused(&s, "site_id: required");
  /* A death with no last contact is complete. */
  s = valid(), strcpy(s.death_date, "2020-07-01"), s.last_contact_date[0] = 0;
  assert_int_equal(rcy_registry_check(&s, "2026-11-29", &err), 0);
}

typedef struct {
  char dir[64], archive[96];
  rcy_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/rcy-registry-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->archive, sizeof f->archive, "%s/a", f->dir);
  rcy_error err = {0};
  assert_int_equal(rcy_store_init(f->archive, &err), 0);
  assert_int_equal(rcy_store_open(&f->store, f->archive, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rcy_store_close(f->store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static const char *write_file(fixture *f, const char *name, const char *text) {
  static char path[160];
  snprintf(path, sizeof path, "%s/%s", f->dir, name);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
  return path;
}

static int count_audit(fixture *f) {
  long long n = 0, bad = 0;
  rcy_error err = {0};
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), 0);
  return (int)n;
}

static void import_all_or_nothing(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  size_t rows = 0, changed = 0;
  char report[4096] = "";
  FILE *rep = fmemopen(report, sizeof report, "w");
  const char *bad = write_file(f, "bad.csv",
                               "subject_id,site_id,treatment_start,indication,last_contact_date\n"
                               "CIREL-014-0001,S014,2019-03-04,salvage,2020-01-01\n"
                               "CIREL-014-0002,S014,2019-03-04,unknown,2020-01-01\n"
                               "CIREL-014-0001,S014,2019-03-04,salvage,2020-01-01\n");
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store, bad, NULL, rep, &err), RCY_EINVAL);
  fclose(rep);
  assert_non_null(strstr(report, "bad.csv line 3: indication: 'unknown'"));
  assert_non_null(strstr(report, "bad.csv line 4: subject_id: CIREL-014-0001 is also on line 2"));
  assert_non_null(strstr(err.message, "2 error(s); nothing imported"));
  rcy_registry_subject s;
  assert_int_equal(rcy_store_registry_get(&s, f->store, "CIREL-014-0001", &err), RCY_ENOTFOUND);
  assert_int_equal(count_audit(f), 0);

  const char *good = write_file(f, "good.csv",
                                "last_contact_date,subject_id,site_id,treatment_start,indication,liver_only\n"
                                "2020-01-01,CIREL-014-0001,S014,2019-03-04,salvage,yes\n"
                                "2020-02-01,CIREL-014-0002,S014,2019-04-04,first_line,\n");
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store, good, "tester", NULL, &err), 0);
  assert_int_equal(rows, 2);
  assert_int_equal(changed, 2);
  assert_int_equal(rcy_store_registry_get(&s, f->store, "CIREL-014-0002", &err), 0);
  assert_string_equal(s.treatment_start, "2019-04-04");
  assert_int_equal(s.liver_only, -1);
  assert_string_equal(s.updated_by, "tester");
  assert_int_equal(count_audit(f), 2);

  /* Importing again changes nothing and audits nothing; a changed row is one audited replacement. */
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store, good, "tester", NULL, &err), 0);
  assert_int_equal(changed, 0);
  assert_int_equal(count_audit(f), 2);
  const char *again = write_file(f, "again.csv",
                                 "subject_id,site_id,treatment_start,indication,last_contact_date\n"
                                 "CIREL-014-0001,S014,2019-03-05,salvage,2020-01-01\n");
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store, again, "tester", NULL, &err), 0);
  assert_int_equal(changed, 1);
  assert_int_equal(count_audit(f), 3);
  assert_int_equal(rcy_store_registry_get(&s, f->store, "CIREL-014-0001", &err), 0);
  assert_string_equal(s.treatment_start, "2019-03-05");
}

static void bad_files(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  size_t rows, changed;
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store, write_file(f, "e.csv", ""), NULL, NULL, &err),
                   RCY_EINVAL);
  assert_non_null(strstr(err.message, "empty"));
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store,
                                       write_file(f, "h.csv", "subject_id,site_id,treatment_start,indication,last_contact_date\n"),
                                       NULL, NULL, &err),
                   RCY_EINVAL);
  assert_non_null(strstr(err.message, "no subject rows"));
  char report[1024] = "";
  FILE *rep = fmemopen(report, sizeof report, "w");
  assert_int_equal(rcy_registry_import(&rows, &changed, f->store,
                                       write_file(f, "m.csv", "subject_id,site,treatment_start,indication\nA,B,C,D\n"),
                                       NULL, rep, &err),
                   RCY_EINVAL);
  fclose(rep);
  assert_non_null(strstr(report, "line 1: unknown column 'site'"));
  assert_non_null(strstr(report, "line 1: required column 'site_id' is missing"));
}

static void read_without_archive(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  rcy_registry_subject *rows = NULL;
  size_t n = 0;
  const char *good = write_file(f, "r.csv", "subject_id,site_id,treatment_start,indication,death_date\n"
                                            "A-1,S014,2019-03-04,other,2019-05-01\nA-2,S014,2019-03-04,salvage,2020-05-01\n");
  assert_int_equal(rcy_registry_read_file(&rows, &n, good, NULL, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[1].death_date, "2020-05-01");
  free(rows);
  const char *bad = write_file(f, "b.csv", "subject_id,site_id,treatment_start,indication,death_date\nA-1,S014,2019-03-04,other,\n");
  assert_int_equal(rcy_registry_read_file(&rows, &n, bad, NULL, &err), RCY_EINVAL);
  assert_null(rows);
  assert_non_null(strstr(err.message, "1 error(s)"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rules),
      cmocka_unit_test_setup_teardown(import_all_or_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_files, setup, teardown),
      cmocka_unit_test_setup_teardown(read_without_archive, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
