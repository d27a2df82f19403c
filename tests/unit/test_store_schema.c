/* Archive lifecycle: init, reopen, refusal to overwrite, migrations recorded per component,
 * refusal to open an archive whose schema is newer than this build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recistry/store.h"
#include "store_engine.h"
/* The archive file is inspected through the store's own SQLite driver (no test speaks SQLite's C API itself). */
#include "../../src/store/db.h"

static char *make_tmpdir(void) {
  char tmpl[] = "/tmp/rcy-store-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  return strdup(d);
}

static void remove_tree(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static int query_int(const char *db_path, const char *sql) {
  rcy_db *db = test_index_open(db_path);
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, db, sql), RCY_OK);
  int v = rcy_db_step(st) == RCY_DB_ROW ? rcy_db_column_int(st, 0) : -1;
  rcy_db_finalize(st);
  rcy_db_close(db);
  return v;
}

static void exec_sql(const char *db_path, const char *sql) {
  rcy_db *db = test_index_open(db_path);
  assert_int_equal(rcy_db_exec(db, sql), RCY_OK);
  rcy_db_close(db);
}

static void init_creates_database_and_storage(void **state) {
  (void)state;
  char *root = make_tmpdir();
  char archive[512], path[600];
  snprintf(archive, sizeof archive, "%s/archive", root);
  rcy_error err = {0};
  assert_int_equal(test_store_init(archive, &err), RCY_OK);
  struct stat st;
  snprintf(path, sizeof path, "%s/storage", archive);
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  snprintf(path, sizeof path, "%s/recistry.db", archive);
  assert_int_equal(query_int(path, test_pg_uri() ? "SELECT count(*) FROM information_schema.tables WHERE table_name = "
                                                   "'instances' AND table_schema = current_schema()"
                                                 : "SELECT count(*) FROM sqlite_master WHERE name = 'instances'"),
                   1);
  assert_true(query_int(path, "SELECT version FROM schema_version WHERE component = 'archive'") >= 2);

  rcy_store *s = NULL;
  assert_int_equal(rcy_store_open(&s, archive, &err), RCY_OK);
  assert_string_equal(rcy_store_archive_dir(s), archive);
  assert_string_equal(rcy_store_backend(s), test_pg_uri() ? "postgresql" : "sqlite");
  snprintf(path, sizeof path, "%s/storage", archive);
  assert_string_equal(rcy_store_storage_dir(s), path);
  rcy_store_close(s);
  remove_tree(root);
  free(root);
}

static void init_refuses_existing_archive(void **state) {
  (void)state;
  char *root = make_tmpdir();
  rcy_error err = {0};
  assert_int_equal(test_store_init(root, &err), RCY_OK);
  assert_int_equal(test_store_init(root, &err), RCY_EEXIST);
  assert_non_null(strstr(err.message, "already exists"));
  remove_tree(root);
  free(root);
}

static void open_missing_archive_names_the_fix(void **state) {
  (void)state;
  rcy_store *s = (rcy_store *)0x1;
  rcy_error err = {0};
  assert_int_equal(rcy_store_open(&s, "/nonexistent/recistry-archive", &err), RCY_ENOTFOUND);
  assert_null(s);
  assert_non_null(strstr(err.message, "/nonexistent/recistry-archive"));
  assert_non_null(strstr(err.message, "recistry init"));
}

static void newer_schema_is_refused_and_left_alone(void **state) {
  (void)state;
  char *root = make_tmpdir();
  char db_path[600];
  rcy_error err = {0};
  assert_int_equal(test_store_init(root, &err), RCY_OK);
  snprintf(db_path, sizeof db_path, "%s/recistry.db", root);
  exec_sql(db_path, "UPDATE schema_version SET version = 999 WHERE component = 'archive'");
  rcy_store *s = NULL;
  assert_int_equal(rcy_store_open(&s, root, &err), RCY_ESTORE);
  assert_non_null(strstr(err.message, "upgrade recistry"));
  assert_int_equal(query_int(db_path, "SELECT version FROM schema_version WHERE component = 'archive'"), 999);
  remove_tree(root);
  free(root);
}

/* An archive at reads step 2 (before issue 9): step 3 adds login_failures and key_images, backfills the key
 * images its reads name, and older audit rows (no document hash) still verify. */
static void reads_step3_upgrades_an_older_archive(void **state) {
  (void)state;
  if (test_pg_uri()) skip(); /* no PostgreSQL index predates step 3: its text has no backfill */
  char *root = make_tmpdir();
  char db_path[600];
  rcy_error err = {0};
  assert_int_equal(test_store_init(root, &err), RCY_OK);
  snprintf(db_path, sizeof db_path, "%s/recistry.db", root);
  rcy_store *s = NULL;
  assert_int_equal(rcy_store_open(&s, root, &err), RCY_OK);
  exec_sql(db_path, "INSERT INTO reads(subject_id, role, reader, doc, updated_at) VALUES('S1', 'central',"
                                    " 'alice', '{\"lesions\":[{\"observations\":{\"BL\":{\"measurement\":"
                                    "{\"key_image_url\":\"/api/key-images/0123456789abcdef0123456789abcdef.png\"}}}}]}',"
                    " 'x')");
  rcy_audit_entry e = {"alice", "lesion.add", "S1", "central", "alice", "BL", "T1", NULL, "{}", NULL};
  assert_int_equal(rcy_store_audit_append(s, &e, &err), RCY_OK); /* no document hash, as step 2 wrote them */
  rcy_store_close(s);
  exec_sql(db_path, "DROP TABLE segmentations; DROP TABLE adjudications; DROP TABLE assignments; DROP TABLE key_images;"
                                    " DROP TABLE login_failures;"
                                    " DROP INDEX audit_log_read; DROP INDEX audit_log_actor; DROP INDEX audit_log_reader;"
                                    " DROP INDEX audit_log_action; DROP INDEX audit_log_at;"
                                    " ALTER TABLE audit_log DROP COLUMN doc_sha256;"
                    " UPDATE schema_version SET version = 2 WHERE component = 'reads'");
  assert_int_equal(rcy_store_open(&s, root, &err), RCY_OK);
  rcy_store_read_key k;
  assert_int_equal(rcy_store_key_image_owner(&k, s, "0123456789abcdef0123456789abcdef", &err), RCY_OK);
  assert_string_equal(k.reader, "alice");
  long long n = 0, bad = 0;
  assert_int_equal(rcy_store_audit_verify(&n, &bad, s, &err), RCY_OK);
  assert_int_equal(n, 1);
  rcy_store_close(s);
  /* steps 3, 4 (assignments, issue 10), 5 (central review, issue 11), 6 (audit viewer indexes) and 7 (stored
   * segmentations, issue 13) all ran */
  assert_int_equal(query_int(db_path, "SELECT version FROM schema_version WHERE component = 'reads'"), 7);
  assert_int_equal(query_int(db_path, "SELECT COUNT(*) FROM login_failures"), 0);
  assert_int_equal(query_int(db_path, "SELECT COUNT(*) FROM assignments"), 0);
  assert_int_equal(query_int(db_path, "SELECT COUNT(*) FROM segmentations"), 0);
  remove_tree(root);
  free(root);
}

static void archive_uses_wal(void **state) {
  (void)state;
  if (test_pg_uri()) skip(); /* SQLite's file format */
  char *root = make_tmpdir();
  char db_path[600];
  rcy_error err = {0};
  assert_int_equal(test_store_init(root, &err), RCY_OK);
  rcy_store *s = NULL;
  assert_int_equal(rcy_store_open(&s, root, &err), RCY_OK);
  assert_int_equal(rcy_store_begin(s, &err), RCY_OK);
  assert_int_equal(rcy_store_commit(s, &err), RCY_OK);
  rcy_store_close(s);
  /* WAL lets the workstation read while the daemon writes. Read from the file's header (bytes 18 and 19, the
   * read and write format versions, are 2 in WAL mode) rather than by opening it: the driver's open would set
   * WAL itself and the test could not fail. */
  snprintf(db_path, sizeof db_path, "%s/recistry.db", root);
  FILE *f = fopen(db_path, "rb");
  assert_non_null(f);
  unsigned char header[20];
  assert_int_equal(fread(header, 1, sizeof header, f), sizeof header);
  fclose(f);
  assert_memory_equal(header, "SQLite format 3", 16);
  assert_int_equal(header[18], 2);
  assert_int_equal(header[19], 2);
  remove_tree(root);
  free(root);
}

/* PostgreSQL: init refuses a database that already holds an archive (and leaves the new folder uncreated);
 * database.url never records a password, and a configured URI that carries one still matches it. */
static void pg_init_and_open_rules(void **state) {
  (void)state;
  if (!test_pg_uri()) skip();
  char *root = make_tmpdir();
  char a1[600], a2[600], url[700], uri_pw[1200], line[1200];
  snprintf(a1, sizeof a1, "%s/one", root);
  snprintf(a2, sizeof a2, "%s/two", root);
  snprintf(uri_pw, sizeof uri_pw, "%s%spassword=s3cr3t-pw", test_pg_uri(), strchr(test_pg_uri(), '?') ? "&" : "?");
  test_pg_reset();
  rcy_error err = {0};
  rcy_store_location w1 = {a1, uri_pw};
  assert_int_equal(rcy_store_init_at(&w1, &err), RCY_OK);
  snprintf(url, sizeof url, "%s/database.url", a1);
  FILE *f = fopen(url, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  line[strcspn(line, "\n")] = 0;
  assert_null(strstr(line, "s3cr3t"));
  assert_string_equal(line, test_pg_uri());
  snprintf(url, sizeof url, "%s/recistry.db", a1);
  assert_int_not_equal(access(url, F_OK), 0); /* no SQLite file beside it */

  rcy_store_location w2 = {a2, test_pg_uri()};
  assert_int_equal(rcy_store_init_at(&w2, &err), RCY_EEXIST);
  assert_non_null(strstr(err.message, "already holds an archive"));
  assert_null(strstr(err.message, "s3cr3t"));
  assert_int_not_equal(access(a2, F_OK), 0);

  rcy_store *s = NULL;
  assert_int_equal(rcy_store_open(&s, a1, &err), RCY_OK); /* the folder alone finds the database */
  assert_string_equal(rcy_store_backend(s), "postgresql");
  rcy_store_close(s);
  assert_int_equal(rcy_store_open_at(&s, &w1, &err), RCY_OK); /* the same database, with its password */
  rcy_store_close(s);
  rcy_store_location other = {a1, "postgresql:///another?host=/nonexistent"};
  assert_int_equal(rcy_store_open_at(&s, &other, &err), RCY_EINVAL);
  assert_null(s);
  remove_tree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(init_creates_database_and_storage),
      cmocka_unit_test(init_refuses_existing_archive),
      cmocka_unit_test(open_missing_archive_names_the_fix),
      cmocka_unit_test(newer_schema_is_refused_and_left_alone),
      cmocka_unit_test(archive_uses_wal),
      cmocka_unit_test(reads_step3_upgrades_an_older_archive),
      cmocka_unit_test(pg_init_and_open_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
