/* The store's database interface (src/store/db.h) on its SQLite driver: what the store's files rely on of
 * it (bound values copied, NULLs both ways, blobs, numbered parameters used twice, RETURNING id, changes,
 * the kinds of failure with SQLite's own words, a failure's message kept through the rollback, transaction
 * state, reset clearing the bindings, deferred checkpoints). test_store_db.c runs a battery of the same on both engines. */
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

#include "../../src/store/db.h"

typedef struct {
  char dir[64];
  rcy_db *db;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/rcy-db-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  char path[96];
  snprintf(path, sizeof path, "%s/t.db", f->dir);
  rcy_error err = {0};
  assert_int_equal(rcy_db_open(&f->db, RCY_DB_SQLITE, path, 1, &err), RCY_OK);
  assert_int_equal(rcy_db_engine_of(f->db), RCY_DB_SQLITE);
  assert_int_equal(rcy_db_exec_ddl(f->db,
                                   "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER,"
                                   " x REAL, b BLOB, CHECK (n IS NULL OR n >= 0));",
                                   NULL),
                   RCY_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rcy_db_close(f->db);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

/* Inserts one row, returning its id through RETURNING. */
static int64_t insert(rcy_db *db, const char *name, int has_n, int64_t n) {
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, db, "INSERT INTO t(name, n) VALUES(?, ?) RETURNING id"), RCY_OK);
  char copy[32];
  snprintf(copy, sizeof copy, "%s", name);
  assert_int_equal(rcy_db_bind_text(st, 1, copy), RCY_OK);
  memset(copy, 'X', sizeof copy - 1); /* the driver copied it at bind */
  if (has_n) assert_int_equal(rcy_db_bind_int64(st, 2, n), RCY_OK);
  int64_t id = -1;
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    id = rcy_db_column_int64(st, 0);
    assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  } else {
    id = step; /* a negative RCY_E* code */
  }
  rcy_db_finalize(st);
  return id;
}

static void values_round_trip(void **state) {
  fixture *f = *state;
  int64_t a = insert(f->db, "alpha", 1, INT64_C(5000000000)), b = insert(f->db, "beta", 0, 0);
  assert_true(a > 0);
  assert_true(b > a);
  assert_int_equal(rcy_db_changes(f->db), 1);

  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, f->db, "UPDATE t SET x = ?, b = ? WHERE id = ?"), RCY_OK);
  const unsigned char blob[4] = {0, 1, 0xff, 0};
  assert_int_equal(rcy_db_bind_double(st, 1, 2.5), RCY_OK);
  assert_int_equal(rcy_db_bind_blob(st, 2, blob, sizeof blob), RCY_OK);
  assert_int_equal(rcy_db_bind_int64(st, 3, a), RCY_OK);
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(f->db), 1);

  assert_int_equal(rcy_db_prepare(&st, f->db, "SELECT name, n, x, b FROM t ORDER BY id"), RCY_OK);
  assert_int_equal(rcy_db_column_count(st), 4);
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_string_equal(rcy_db_column_text(st, 0), "alpha");
  assert_true(rcy_db_column_int64(st, 1) == INT64_C(5000000000));
  assert_true(rcy_db_column_double(st, 2) == 2.5);
  size_t n = 0;
  const void *v = rcy_db_column_blob(st, 3, &n);
  assert_int_equal(n, sizeof blob);
  assert_memory_equal(v, blob, sizeof blob);
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_string_equal(rcy_db_column_text(st, 0), "beta");
  assert_true(rcy_db_column_is_null(st, 1));
  assert_false(rcy_db_column_is_null(st, 0));
  assert_null(rcy_db_column_text(st, 1));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
}

static void numbered_parameters_and_reset(void **state) {
  fixture *f = *state;
  insert(f->db, "alpha", 1, 1);
  insert(f->db, "beta", 1, 2);
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare_persistent(&st, f->db, "SELECT COUNT(*) FROM t WHERE ?1 IS NULL OR name = ?1"),
                   RCY_OK);
  assert_int_equal(rcy_db_bind_text(st, 1, "beta"), RCY_OK);
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 1);
  rcy_db_reset(st); /* unbinds: ?1 is NULL again */
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 2);
  rcy_db_finalize(st);
}

static void failures_have_kinds_and_messages(void **state) {
  fixture *f = *state;
  insert(f->db, "alpha", 1, 1);
  assert_int_equal(insert(f->db, "alpha", 1, 2), RCY_ECONFLICT); /* unique */
  assert_int_equal(rcy_db_errcode(f->db), RCY_ECONFLICT);
  assert_non_null(strstr(rcy_db_errmsg(f->db), "t.name"));
  assert_int_equal(insert(f->db, "gamma", 1, -1), RCY_ECONFLICT); /* check */

  rcy_db_stmt *st = NULL;
  assert_int_equal(rcy_db_prepare(&st, f->db, "SELECT nope FROM t"), RCY_ESTORE);
  assert_null(st);
  assert_non_null(strstr(rcy_db_errmsg(f->db), "nope"));
  assert_int_equal(rcy_db_exec(f->db, "INSERT INTO t(name) VALUES('x') ON CONFLICT DO NOTHING;"
                                      "INSERT INTO t(name) VALUES('x') ON CONFLICT DO NOTHING"),
                   RCY_OK);
  assert_int_equal(rcy_db_changes(f->db), 0); /* the second one did nothing */
}

static void transactions(void **state) {
  fixture *f = *state;
  assert_false(rcy_db_in_transaction(f->db));
  assert_int_equal(rcy_db_begin_write(f->db), RCY_OK);
  assert_true(rcy_db_in_transaction(f->db));
  insert(f->db, "alpha", 1, 1);
  assert_int_equal(rcy_db_commit(f->db), RCY_OK);
  assert_false(rcy_db_in_transaction(f->db));

  assert_int_equal(rcy_db_begin_write(f->db), RCY_OK);
  insert(f->db, "beta", 1, 1);
  assert_int_equal(insert(f->db, "alpha", 1, 1), RCY_ECONFLICT);
  rcy_db_rollback(f->db);
  assert_false(rcy_db_in_transaction(f->db));
  /* what made the caller roll back is still what the connection reports */
  assert_int_equal(rcy_db_errcode(f->db), RCY_ECONFLICT);
  assert_non_null(strstr(rcy_db_errmsg(f->db), "UNIQUE"));
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, f->db, "SELECT COUNT(*) FROM t"), RCY_OK);
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 1); /* beta went with the rollback */
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_relax_durability(f->db), RCY_OK);
}

static long file_size(const char *dir, const char *name) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  struct stat sb;
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* The ingest writer's checkpoints are deferred (src/ingest/pipeline.c): its commits leave more than SQLite's
 * default 1,000 pages in the WAL without copying them into the database, and a checkpoint from another
 * connection copies them while the writer stays usable. */
static void deferred_checkpoints(void **state) {
  fixture *f = *state;
  assert_int_equal(rcy_db_relax_durability(f->db), RCY_OK);
  assert_int_equal(rcy_db_defer_checkpoints(f->db), 1);
  long db_before = file_size(f->dir, "t.db");
  static unsigned char blob[3000];
  for (int i = 0; i < 500; i++) { /* 500 commits of 2-3 pages each: past 1,000, below the 4,000 backstop */
    assert_int_equal(rcy_db_begin_write(f->db), RCY_OK);
    rcy_db_stmt *st;
    assert_int_equal(rcy_db_prepare(&st, f->db, "INSERT INTO t(name, b) VALUES(?, ?)"), RCY_OK);
    char name[32];
    snprintf(name, sizeof name, "row%d", i);
    assert_int_equal(rcy_db_bind_text(st, 1, name), RCY_OK);
    assert_int_equal(rcy_db_bind_blob(st, 2, blob, sizeof blob), RCY_OK);
    assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
    rcy_db_finalize(st);
    assert_int_equal(rcy_db_commit(f->db), RCY_OK);
  }
  /* nothing copied yet: the database file is as it was, the WAL holds > 1,000 pages */
  assert_int_equal(file_size(f->dir, "t.db"), db_before);
  assert_true(file_size(f->dir, "t.db-wal") > 1000L * 4096);

  rcy_db *other = NULL;
  rcy_error err = {0};
  char path[96];
  snprintf(path, sizeof path, "%s/t.db", f->dir);
  assert_int_equal(rcy_db_open(&other, RCY_DB_SQLITE, path, 0, &err), RCY_OK);
  assert_int_equal(rcy_db_checkpoint(other), RCY_OK);
  assert_true(file_size(f->dir, "t.db") > 500L * 3000);
  rcy_db_close(other);
  assert_int_equal(insert(f->db, "after", 0, 0) > 0, 1);
}

static void open_missing_file_without_create(void **state) {
  fixture *f = *state;
  char path[128];
  snprintf(path, sizeof path, "%s/missing.db", f->dir);
  rcy_db *db = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_db_open(&db, RCY_DB_SQLITE, path, 0, &err), RCY_ENOTFOUND);
  assert_null(db);
  assert_non_null(strstr(err.message, path));
  assert_int_equal(access(path, F_OK), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(values_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(numbered_parameters_and_reset, setup, teardown),
      cmocka_unit_test_setup_teardown(failures_have_kinds_and_messages, setup, teardown),
      cmocka_unit_test_setup_teardown(transactions, setup, teardown),
      cmocka_unit_test_setup_teardown(open_missing_file_without_create, setup, teardown),
      cmocka_unit_test_setup_teardown(deferred_checkpoints, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
