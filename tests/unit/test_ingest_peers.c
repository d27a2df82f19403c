/* The [peer:NAME] sections of the daemon's INI (query/retrieve rights): a complete peer loads with its AE,
 * addresses, move port, rights and sites; every mistake is refused naming the file, the section and the key;
 * sites = * stands alone; a peer's sites must be [site:ID] sections of the same file. */
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

static const char *base =
    "[archive]\npath = /srv/recistry\n"
    "[dicom]\nae_title = FFCD_CORE\nport = 11112\n"
    "[site:S014]\nae_title = SITE014\nsubject_pattern = ^CIREL-014-[0-9]{4}$\n"
    "[site:S015]\nae_title = SITE015\nsubject_pattern = ^CIREL-015-[0-9]{4}$\n";

static int load(rcy_ingest_config **c, rcy_error *err, const char *peers) {
  char path[] = "/tmp/rcy-peers-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "%s%s", base, peers);
  fclose(f);
  int rc = rcy_ingest_config_load(c, path, err);
  if (rc && !strstr(err->message, path)) fail_msg("message '%s' does not name the file", err->message);
  unlink(path);
  return rc;
}

static void test_good(void **state) {
  (void)state;
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  int rc = load(&c, &err,
                "[peer:workstation]\nae = RESEARCH\nhost = 10.0.0.21, 10.0.0.22\nport = 11113\n"
                "rights = find, move, get\nsites = S014, S015\n"
                "[peer:pacs]\nae = PACS\nrights = find\nsites = *\n"
                "[peer:archive2]\nae = ARCH2\nhost = 10.0.0.9\nport = 104\nrights = none\n");
  if (rc) fail_msg("%s", err.message);
  assert_int_equal(c->n_peers, 3);
  const rcy_ingest_peer *p = &c->peers[0];
  assert_string_equal(p->name, "workstation");
  assert_string_equal(p->ae_title, "RESEARCH");
  assert_int_equal(p->n_hosts, 2);
  assert_string_equal(p->hosts[1], "10.0.0.22");
  assert_int_equal(p->port, 11113);
  assert_int_equal(p->rights, RCY_PEER_FIND | RCY_PEER_MOVE | RCY_PEER_GET);
  assert_int_equal(p->all_sites, 0);
  assert_int_equal(p->n_sites, 2);
  assert_string_equal(p->sites[1], "S015");
  assert_int_equal(c->peers[1].all_sites, 1);
  assert_int_equal(c->peers[1].rights, RCY_PEER_FIND);
  assert_int_equal(c->peers[1].port, 0);
  /* a destination only: no rights, no sites needed */
  assert_int_equal(c->peers[2].rights, 0);
  assert_int_equal(c->peers[2].port, 104);
  rcy_ingest_config_free(c);
}

static void expect_error(const char *peers, const char *want) {
  rcy_ingest_config *c = NULL;
  rcy_error err = {0};
  assert_int_not_equal(load(&c, &err, peers), 0);
  assert_null(c);
  if (!strstr(err.message, want)) fail_msg("message '%s' lacks '%s'", err.message, want);
}

static void test_errors(void **state) {
  (void)state;
  expect_error("[peer:x]\nrights = find\nsites = *\n", "[peer:x] ae: missing");
  expect_error("[peer:x]\nae = A_TITLE_FAR_TOO_LONG\n", "[peer:x] ae: 'A_TITLE_FAR_TOO_LONG' is not a valid AE");
  expect_error("[peer:x]\nae = X\nrights = find, delete\nsites = *\n", "[peer:x] rights: 'delete' is not a right");
  expect_error("[peer:x]\nae = X\nrights = find\n", "[peer:x] sites: missing");
  expect_error("[peer:x]\nae = X\nrights = find\nsites = S014, S099\n", "[peer:x] sites: S099 is not a [site:ID]");
  expect_error("[peer:x]\nae = X\nrights = find\nsites = S014, *\n", "[peer:x] sites: '*' means every site");
  expect_error("[peer:x]\nae = X\nport = 104\n", "[peer:x] host: required with port");
  expect_error("[peer:x]\nae = X\nhost = h\nport = 0\n", "[peer:x] port: '0' is not an integer");
  expect_error("[peer:x]\nae = X\ncolour = blue\n", "[peer:x] colour: unknown key");
  expect_error("[peer:x]\nae = X\n[peer:y]\nae = X\n", "[peer:y] ae: X is already the AE title of peer x");
  expect_error("[peer:x]\nae = FFCD_CORE\n", "[peer:x] ae: FFCD_CORE is our own AE title");
  expect_error("[peer:]\nae = X\n", "[peer:] ae: bad peer name");
  expect_error("[peer:x]\nae = X\ntls = maybe\n", "[peer:x] tls: 'maybe' must be required or off");
  expect_error("[peer:x]\nae = X\ntls = required\n", "[peer:x] tls_certificate: required with tls = required");
  expect_error("[peer:x]\nae = X\ntls_certificate = /x.pem\n", "[peer:x] tls_certificate: set, but tls is not required");
  /* the test's [dicom] has no certificate of ours to present */
  expect_error("[peer:x]\nae = X\ntls = required\ntls_certificate = /x.pem\n",
               "[peer:x] tls: [dicom] tls_certificate and tls_private_key are required");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
