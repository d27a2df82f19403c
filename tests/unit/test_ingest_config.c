/* The daemon's INI configuration: a complete file loads with its values and defaults; every kind of mistake
 * is refused with a message naming the file, the section and the key. The server's [http] and [dose] sections
 * (one file configures both) are left to it. [archive] database joins path in the store's location. */
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

static const char *good =
    "[archive]\npath = /srv/recistry\nsync = journal   ; removed: accepted with a warning\n"
    "[dicom]\nae_title = FFCD_CORE\nport = 11112\nbind = 127.0.0.1\nmax_associations = 4\n"
    "stable_age = 60                 ; seconds\n"
    "max_connections_per_host = 3\nassociation_timeout = 5\n"
    "[policy]\nphi = quarantine   ; reject | quarantine\n"
    "[site:S014]\nname = Centre Example\nae_title = SITE014\nhosts = 127.0.0.1, 10.0.0.2\n"
    "subject_pattern = ^CIREL-014-[0-9]{4}$\npacs = 127.0.0.1:4242:SITEPACS\nretrieve = move\n"
    "[site:S027]\nae_title = SITE027\nsubject_pattern = ^CIREL-027-[0-9]{4}$\n"
    "[http]\nport = 8080\n"
    "[dose]   ; the server's (dose view, cohort page): ignored by the daemon\ncohort_dir = /srv/cohort\n";

static char *write_ini(const char *text) {
  char *path = strdup("/tmp/rcy-ini-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void test_good(void **state) {
  (void)state;
  char *path = write_ini(good);
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_ingest_config_load(&c, path, &err), 0);
  assert_string_equal(c->archive, "/srv/recistry");
  assert_string_equal(c->ae_title, "FFCD_CORE");
  assert_int_equal(c->port, 11112);
  assert_int_equal(c->max_associations, 4);
  assert_int_equal(c->stable_age_s, 60);
  assert_int_equal(c->max_connections_per_host, 3);
  assert_int_equal(c->association_timeout_s, 5);
  assert_int_equal(c->max_connections, 64); /* default */
  assert_int_equal(c->idle_timeout_s, 60);  /* default */
  assert_int_equal(c->phi, RCY_PHI_QUARANTINE);
  assert_int_equal(c->n_sites, 2);
  const rcy_ingest_site *s = rcy_ingest_config_site(c, "S014");
  assert_non_null(s);
  assert_string_equal(s->ae_title, "SITE014");
  assert_int_equal(s->n_hosts, 2);
  assert_string_equal(s->hosts[1], "10.0.0.2");
  assert_string_equal(s->pacs_host, "127.0.0.1");
  assert_int_equal(s->pacs_port, 4242);
  assert_string_equal(s->pacs_ae_title, "SITEPACS");
  assert_int_equal(s->pull_move, 1);
  assert_null(rcy_ingest_config_site(c, "S999"));
  assert_null(c->database); /* absent: the index is DIR/recistry.db */
  rcy_ingest_config_free(c);
  unlink(path);
  free(path);
}

/* Replaces the first occurrence of `from` in the good file by `to` and expects a failure mentioning `want`. */
static void expect_error(const char *from, const char *to, const char *want) {
  const char *at = strstr(good, from);
  assert_non_null(at);
  char text[2048];
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
  char *path = write_ini(text);
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  assert_int_not_equal(rcy_ingest_config_load(&c, path, &err), 0);
  assert_null(c);
  if (!strstr(err.message, want) || !strstr(err.message, path)) fail_msg("message '%s' lacks '%s'", err.message, want);
  unlink(path);
  free(path);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("port = 11112", "port = eleven", "[dicom] port: 'eleven' is not an integer");
  expect_error("port = 11112", "port = 70000", "[dicom] port");
  expect_error("ae_title = FFCD_CORE\n", "", "[dicom] ae_title: missing");
  expect_error("ae_title = FFCD_CORE", "ae_title = A_TITLE_FAR_TOO_LONG", "[dicom] ae_title");
  expect_error("phi = quarantine", "phi = ignore", "[policy] phi: 'ignore' must be reject or quarantine");
  expect_error("name = Centre Example", "colour = blue", "[site:S014] colour: unknown key");
  expect_error("[policy]", "[polcy]", "[polcy] phi: unknown section");
  expect_error("subject_pattern = ^CIREL-014-[0-9]{4}$", "subject_pattern = ^CIREL-(014", "[site:S014] subject_pattern");
  expect_error("subject_pattern = ^CIREL-027-[0-9]{4}$\n", "", "[site:S027] subject_pattern: missing");
  expect_error("ae_title = SITE027", "ae_title = SITE014", "[site:S027] ae_title: SITE014 is already");
  expect_error("pacs = 127.0.0.1:4242:SITEPACS", "pacs = 127.0.0.1:SITEPACS", "[site:S014] pacs");
  expect_error("retrieve = move", "tls = required", "[site:S014] tls: required, but [dicom] tls_port is not set");
  expect_error("[archive]\npath = /srv/recistry\n", "[archive]\n", "[archive] path: missing");
  expect_error("association_timeout = 5", "association_timeout = 0", "[dicom] association_timeout");
  expect_error("max_connections_per_host = 3", "max_connections_per_host = many", "[dicom] max_connections_per_host");
  expect_error("max_connections_per_host = 3", "max_connections = -1", "[dicom] max_connections");
  expect_error("sync = journal", "sync = never", "[archive] sync: 'never' must be portable (the default)");
  expect_error("sync = journal", "databse = postgresql://db/registry", "[archive] databse: unknown key");
}

/* [archive] database: the index's location, handed to the store with the path. */
static void test_database(void **state) {
  (void)state;
  const char *from = "sync = journal";
  const char *at = strstr(good, from);
  char text[2048];
  snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, "database = postgresql://db.example/registry",
           at + strlen(from));
  char *path = write_ini(text);
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_ingest_config_load(&c, path, &err), 0);
  assert_string_equal(c->database, "postgresql://db.example/registry");
  rcy_store_location where = rcy_ingest_config_location(c);
  assert_string_equal(where.archive_dir, "/srv/recistry");
  assert_string_equal(where.database, "postgresql://db.example/registry");
  rcy_ingest_config_free(c);
  unlink(path);
  free(path);
}

static void test_missing_file(void **state) {
  (void)state;
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_ingest_config_load(&c, "/nonexistent/recistry.ini", &err), RCY_ENOTFOUND);
  assert_non_null(strstr(err.message, "/nonexistent/recistry.ini"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_database),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
