/* Pending SHA-256s (the ingest daemon hashes after the Success): a pending hash is replaced once by a real
 * one and never a known hash by another; the listing of pending rows names exactly the pending ones; a hash
 * that is not 64 characters is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/store.h"

static const char kHashA[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char kHashB[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static void add_in(rcy_store *db, const char *study, const char *series, const char *sop, const char *sha) {
  char path[128];
  snprintf(path, sizeof path, "S014/CIREL-014-0001/%s/%s/%s.dcm", study, series, sop);
  rcy_archive_instance r;
  memset(&r, 0, sizeof r);
  r.site_id = "S014";
  r.subject_id = "CIREL-014-0001";
  r.study_uid = study;
  r.series_uid = series;
  r.sop_instance_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.path = path;
  r.size_bytes = 10;
  r.sha256 = sha;
  r.received_at = "2024-01-15T10:00:00Z";
  rcy_error err = {0};
  assert_int_equal(rcy_store_begin(db, &err), 0);
  assert_int_equal(rcy_archive_add_instance(db, &r, &err), 0);
  assert_int_equal(rcy_store_commit(db, &err), 0);
}

static void add(rcy_store *db, const char *sop, const char *sha) { add_in(db, "1.2.3", "1.2.3.4", sop, sha); }

static int collect(void *ctx, const char *sop, const char *path) {
  char *out = ctx;
  assert_non_null(strstr(path, sop));
  strcat(out, sop);
  strcat(out, ";");
  return 0;
}

static void sha_of(char out[65], rcy_store *db, const char *sop) {
  int found = 0;
  rcy_error err = {0};
  assert_int_equal(rcy_archive_find_instance(&found, NULL, 0, NULL, out, db, sop, &err), 0);
  assert_int_equal(found, 1);
}

static void test_pending(void **state) {
  (void)state;
  char dir[64] = "/tmp/rcy-hash-XXXXXX", archive[128], listed[256] = "", sha[65];
  assert_non_null(mkdtemp(dir));
  snprintf(archive, sizeof archive, "%s/a", dir);
  rcy_error err = {0};
  rcy_store *db;
  assert_int_equal(rcy_store_init(archive, &err), 0);
  assert_int_equal(rcy_store_open(&db, archive, &err), 0);
  add(db, "1.2.3.4.1", RCY_ARCHIVE_SHA256_PENDING);
  add(db, "1.2.3.4.2", kHashA);
  add(db, "1.2.3.4.3", RCY_ARCHIVE_SHA256_PENDING);
  assert_int_equal(rcy_archive_each_pending_sha256(db, collect, listed, &err), 0);
  assert_true(strstr(listed, "1.2.3.4.1;") && strstr(listed, "1.2.3.4.3;") && !strstr(listed, "1.2.3.4.2;"));

  assert_int_equal(rcy_archive_set_sha256(db, "1.2.3.4.1", kHashB, &err), 0);
  sha_of(sha, db, "1.2.3.4.1");
  assert_string_equal(sha, kHashB);
  /* a known hash is the reference verify compares with: never replaced */
  assert_int_equal(rcy_archive_set_sha256(db, "1.2.3.4.2", kHashB, &err), 0);
  sha_of(sha, db, "1.2.3.4.2");
  assert_string_equal(sha, kHashA);
  assert_int_equal(rcy_archive_set_sha256(db, "1.2.3.4.3", "abc", &err), RCY_EINVAL);
  sha_of(sha, db, "1.2.3.4.3");
  assert_string_equal(sha, RCY_ARCHIVE_SHA256_PENDING);

  listed[0] = '\0';
  assert_int_equal(rcy_archive_each_pending_sha256(db, collect, listed, &err), 0);
  assert_string_equal(listed, "1.2.3.4.3;");
  rcy_store_close(db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

/* The rows of files that did not become durable (a directory fsync that failed after the commit, a file a
 * crash took): only a pending row is removed, with its series and study when it leaves them empty. */
static void test_remove_pending(void **state) {
  (void)state;
  char dir[64] = "/tmp/rcy-hash-XXXXXX", archive[128], parent[64], site[65], subject[65];
  assert_non_null(mkdtemp(dir));
  snprintf(archive, sizeof archive, "%s/a", dir);
  rcy_error err = {0};
  rcy_store *db;
  assert_int_equal(rcy_store_init(archive, &err), 0);
  assert_int_equal(rcy_store_open(&db, archive, &err), 0);
  add(db, "1.2.3.4.1", RCY_ARCHIVE_SHA256_PENDING);
  add(db, "1.2.3.4.2", kHashA);
  add_in(db, "1.2.9", "1.2.9.4", "1.2.9.4.1", RCY_ARCHIVE_SHA256_PENDING);
  int removed = -1, found = -1;
  assert_int_equal(rcy_store_begin(db, &err), 0);
  assert_int_equal(rcy_archive_remove_pending(&removed, db, "1.2.3.4.1", &err), 0);
  assert_int_equal(removed, 1);
  /* a known hash: someone made its file durable and may have answered for it */
  assert_int_equal(rcy_archive_remove_pending(&removed, db, "1.2.3.4.2", &err), 0);
  assert_int_equal(removed, 0);
  assert_int_equal(rcy_archive_remove_pending(&removed, db, "1.2.3.4.77", &err), 0);
  assert_int_equal(removed, 0);
  assert_int_equal(rcy_archive_remove_pending(&removed, db, "1.2.9.4.1", &err), 0);
  assert_int_equal(removed, 1);
  assert_int_equal(rcy_store_commit(db, &err), 0);
  char sha[65];
  assert_int_equal(rcy_archive_find_instance(&found, NULL, 0, NULL, sha, db, "1.2.3.4.1", &err), 0);
  assert_int_equal(found, 0);
  sha_of(sha, db, "1.2.3.4.2");
  assert_string_equal(sha, kHashA);
  /* the series and study still holding 1.2.3.4.2 stay; those of the only instance removed go */
  assert_int_equal(rcy_archive_find_series(&found, parent, sizeof parent, db, "1.2.3.4", &err), 0);
  assert_int_equal(found, 1);
  assert_int_equal(rcy_archive_find_series(&found, parent, sizeof parent, db, "1.2.9.4", &err), 0);
  assert_int_equal(found, 0);
  assert_int_equal(rcy_archive_find_study(&found, site, subject, db, "1.2.9", &err), 0);
  assert_int_equal(found, 0);
  assert_int_equal(rcy_archive_find_study(&found, site, subject, db, "1.2.3", &err), 0);
  assert_int_equal(found, 1);
  rcy_store_close(db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_pending), cmocka_unit_test(test_remove_pending)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
