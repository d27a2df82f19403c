/* The store's unit tests on either engine (not a test itself): SQLite by default, PostgreSQL when
 * RCY_TEST_POSTGRES names a scratch database (ctest's pg/unit/test_store_* give each test program one).
 * test_store_init empties that database first, so every archive a test makes starts from nothing, as a new
 * SQLite file does; test_index_open opens the archive's index for a test's direct checks. */
#ifndef RCY_TEST_STORE_ENGINE_H
#define RCY_TEST_STORE_ENGINE_H

#include <stdio.h>
#include <stdlib.h>

#include "../../src/store/db.h"
#include "recistry/store.h"

__attribute__((unused)) static const char *test_pg_uri(void) {
  const char *u = getenv("RCY_TEST_POSTGRES");
  return u && u[0] ? u : NULL;
}

__attribute__((unused)) static void test_pg_reset(void) {
  rcy_db *db = NULL;
  rcy_error err = {0};
  if (rcy_db_open(&db, RCY_DB_POSTGRESQL, test_pg_uri(), 0, &err)) fail_msg("%s", err.message);
  if (rcy_db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")) fail_msg("%s", rcy_db_errmsg(db));
  rcy_db_close(db);
}

__attribute__((unused)) static int test_store_init(const char *archive_dir, rcy_error *err) {
  if (!test_pg_uri()) return rcy_store_init(archive_dir, err);
  test_pg_reset();
  rcy_store_location where = {archive_dir, test_pg_uri()};
  return rcy_store_init_at(&where, err);
}

/* The index of the archive whose SQLite file would be db_path (the test database on PostgreSQL). */
__attribute__((unused)) static rcy_db *test_index_open(const char *db_path) {
  rcy_db *db = NULL;
  rcy_error err = {0};
  int rc = test_pg_uri() ? rcy_db_open(&db, RCY_DB_POSTGRESQL, test_pg_uri(), 0, &err)
                         : rcy_db_open(&db, RCY_DB_SQLITE, db_path, 0, &err);
  if (rc) fail_msg("%s", err.message);
  return db;
}

/* A scratch archive for a store test: a new temporary folder /tmp/rcy-TAG-XXXXXX holding the archive DIR/a,
 * made and opened on the engine under test. test_archive_free closes it and removes the folder. */
typedef struct {
  char dir[64];      /* the temporary folder */
  char archive[96];  /* DIR/a */
  char db_path[128]; /* DIR/a/recistry.db: the SQLite index (test_index_open opens the test database instead on PostgreSQL) */
  rcy_store *store;
} test_archive;

__attribute__((unused)) static test_archive *test_archive_new(const char *tag) {
  test_archive *a = calloc(1, sizeof *a);
  if (!a) fail_msg("out of memory");
  snprintf(a->dir, sizeof a->dir, "/tmp/rcy-%s-XXXXXX", tag);
  if (!mkdtemp(a->dir)) fail_msg("mkdtemp %s", a->dir);
  snprintf(a->archive, sizeof a->archive, "%s/a", a->dir);
  snprintf(a->db_path, sizeof a->db_path, "%s/recistry.db", a->archive);
  rcy_error err = {0};
  if (test_store_init(a->archive, &err)) fail_msg("init %s: %s", a->archive, err.message);
  if (rcy_store_open(&a->store, a->archive, &err)) fail_msg("open %s: %s", a->archive, err.message);
  return a;
}

__attribute__((unused)) static void test_archive_free(test_archive *a) {
  if (!a) return;
  rcy_store_close(a->store);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", a->dir);
  if (system(cmd) != 0) fail_msg("%s failed", cmd);
  free(a);
}

#endif
