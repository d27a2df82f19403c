/* The store's database interface (src/store/db.h) on both engines: the same battery of prepare, bind, step,
 * column, changes, error kinds, RETURNING, ON CONFLICT, blobs, NULLs and transactions runs against SQLite (a
 * file in /tmp) and PostgreSQL (the database RCY_TEST_POSTGRES names, a libpq URI; skipped with a message
 * when it is not set: ctest's pg/ tests set it from scripts/pg-cluster.sh). PostgreSQL alone: the error kinds
 * only its SQLSTATEs produce, the write lock between two connections, and URIs with passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/store/db.h"

typedef struct {
  rcy_db_engine engine;
  char target[1024];
  char tmpdir[64];
  rcy_db *db;
} fixture;

static int setup_sqlite(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->engine = RCY_DB_SQLITE;
  snprintf(f->tmpdir, sizeof f->tmpdir, "/tmp/rcy-db-XXXXXX");
  if (!mkdtemp(f->tmpdir)) return -1;
  snprintf(f->target, sizeof f->target, "%s/t.db", f->tmpdir);
  rcy_error err = {0};
  if (rcy_db_open(&f->db, f->engine, f->target, 1, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int setup_pg(void **state) {
  const char *uri = getenv("RCY_TEST_POSTGRES");
  if (!uri || !uri[0]) return -1; /* not reached: main() skips the group */
  fixture *f = calloc(1, sizeof *f);
  f->engine = RCY_DB_POSTGRESQL;
  snprintf(f->target, sizeof f->target, "%s", uri);
  rcy_error err = {0};
  if (rcy_db_open(&f->db, f->engine, f->target, 0, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return -1;
  }
  /* A database shared with other runs of this test: start from no tables of ours. */
  if (rcy_db_exec(f->db, "DROP TABLE IF EXISTS t_items; DROP TABLE IF EXISTS t_fixed; DROP TABLE IF EXISTS t_blobs;"
                           "DROP FUNCTION IF EXISTS t_fixed_owner();"))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rcy_db_close(f->db);
  if (f->tmpdir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmpdir);
    if (system(cmd) != 0) return -1;
  }
  free(f);
  return 0;
}

static void ok(rcy_db *db, int rc) {
  if (rc) fail_msg("rc %d: %s", rc, rcy_db_errmsg(db));
}

static const char *items_ddl =
    "CREATE TABLE t_items ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  n INTEGER,"
    "  x REAL,"
    "  note TEXT DEFAULT 'what? no'," /* a ? inside quotes is not a placeholder */
    "  data BLOB"
    ");";

static int64_t insert_item(rcy_db *db, const char *name, int64_t n, double x) {
  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_items(name, n, x) VALUES(?, ?, ?) RETURNING id"));
  ok(db, rcy_db_bind_text(st, 1, name));
  ok(db, rcy_db_bind_int64(st, 2, n));
  ok(db, rcy_db_bind_double(st, 3, x));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  int64_t id = rcy_db_column_int64(st, 0);
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(db), 1);
  return id;
}

static void test_types_returning_changes(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  ok(db, rcy_db_exec_ddl(db, items_ddl, NULL));
  int64_t big = INT64_C(9007199254740993); /* not exact as a double: the column is 64-bit */
  int64_t id1 = insert_item(db, "one", big, 0.1);
  int64_t id2 = insert_item(db, "two", -7, 1e-300);
  assert_true(id2 > id1); /* INTEGER PRIMARY KEY numbers rows itself on both engines */

  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "SELECT id, name, n, x, note, data, 'a?b' FROM t_items WHERE name = ? ORDER BY id"));
  ok(db, rcy_db_bind_text(st, 1, "one"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_count(st), 7);
  assert_int_equal(rcy_db_column_int64(st, 0), id1);
  assert_string_equal(rcy_db_column_text(st, 1), "one");
  assert_true(rcy_db_column_int64(st, 2) == big);
  assert_true(rcy_db_column_double(st, 3) == 0.1); /* bit-exact round trip */
  assert_string_equal(rcy_db_column_text(st, 4), "what? no");
  assert_true(rcy_db_column_is_null(st, 5));
  assert_null(rcy_db_column_text(st, 5));
  assert_string_equal(rcy_db_column_text(st, 6), "a?b");
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  /* reset unbinds: the same statement again with another value */
  rcy_db_reset(st);
  ok(db, rcy_db_bind_text(st, 1, "two"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 2), -7);
  assert_true(rcy_db_column_double(st, 3) == 1e-300);
  rcy_db_finalize(st);

  /* UPDATE and DELETE report their rows; an UPDATE matching nothing reports 0 */
  ok(db, rcy_db_prepare(&st, db, "UPDATE t_items SET n = n + 1"));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(db), 2);
  ok(db, rcy_db_prepare(&st, db, "UPDATE t_items SET n = 0 WHERE name = ?"));
  ok(db, rcy_db_bind_text(st, 1, "none"));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(db), 0);

  /* aggregate and comparison results read as integers on both engines */
  ok(db, rcy_db_prepare(&st, db, "SELECT COUNT(*), COALESCE(SUM(n), 0), EXISTS(SELECT 1 FROM t_items WHERE n < 0) "
                                 "FROM t_items"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 2);
  assert_int_equal(rcy_db_column_int(st, 2), 1);
  rcy_db_finalize(st);
}

static void test_null_and_untyped_parameters(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  ok(db, rcy_db_exec_ddl(db, items_ddl, NULL));
  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_items(name, n, x, note) VALUES(?, ?, ?, ?)"));
  ok(db, rcy_db_bind_text(st, 1, "nulls"));
  ok(db, rcy_db_bind_null(st, 2));
  ok(db, rcy_db_bind_text(st, 3, NULL)); /* NULL text binds NULL */
  ok(db, rcy_db_bind_null(st, 4));       /* explicit NULL beats the column's DEFAULT */
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  /* `? IS NULL` and a bare `?` give PostgreSQL no type to infer: the driver says what was bound */
  ok(db, rcy_db_prepare(&st, db, "SELECT COUNT(*), ? FROM t_items WHERE (? IS NULL OR name = ?) AND n IS NULL "
                                 "AND note IS NULL"));
  ok(db, rcy_db_bind_int(st, 1, 42));
  ok(db, rcy_db_bind_null(st, 2));
  ok(db, rcy_db_bind_text(st, 3, "zzz"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 1);
  assert_int_equal(rcy_db_column_int(st, 1), 42);
  rcy_db_finalize(st);
  /* ?NNN: one value used twice, then a bare ? numbered after it; inside a write transaction, which a
   * statement PostgreSQL could not type would abort */
  ok(db, rcy_db_begin_write(db));
  ok(db, rcy_db_prepare(&st, db, "SELECT COUNT(*) FROM t_items WHERE (?1 IS NULL OR name = ?1) AND n IS NULL AND ? IS NULL"));
  ok(db, rcy_db_bind_text(st, 1, "nulls"));
  ok(db, rcy_db_bind_null(st, 2));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 1);
  rcy_db_finalize(st);
  ok(db, rcy_db_exec(db, "UPDATE t_items SET n = 1"));
  ok(db, rcy_db_commit(db));
}

static void test_on_conflict_and_constraint_errors(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  ok(db, rcy_db_exec_ddl(db, items_ddl, NULL));
  insert_item(db, "dup", 1, 1.0);
  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_items(name, n) VALUES(?, ?) ON CONFLICT(name) DO NOTHING"));
  ok(db, rcy_db_bind_text(st, 1, "dup"));
  ok(db, rcy_db_bind_int(st, 2, 5));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(db), 0);
  /* a script's changes are its last statement's */
  ok(db, rcy_db_exec(db, "INSERT INTO t_items(name) VALUES('s1') ON CONFLICT DO NOTHING;"
                         "INSERT INTO t_items(name) VALUES('s1') ON CONFLICT DO NOTHING"));
  assert_int_equal(rcy_db_changes(db), 0);
  ok(db, rcy_db_exec(db, "INSERT INTO t_items(name) VALUES('s2') ON CONFLICT DO NOTHING"));
  assert_int_equal(rcy_db_changes(db), 1);
  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_items(name, n) VALUES(?, ?) "
                                 "ON CONFLICT(name) DO UPDATE SET n = excluded.n RETURNING n"));
  ok(db, rcy_db_bind_text(st, 1, "dup"));
  ok(db, rcy_db_bind_int(st, 2, 6));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_int_equal(rcy_db_column_int(st, 0), 6);
  rcy_db_finalize(st);
  assert_int_equal(rcy_db_changes(db), 1);

  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_items(name) VALUES(?)"));
  ok(db, rcy_db_bind_text(st, 1, "dup"));
  assert_int_equal(rcy_db_step(st), RCY_ECONFLICT); /* unique */
  assert_int_equal(rcy_db_errcode(db), RCY_ECONFLICT);
  rcy_db_reset(st);
  assert_int_equal(rcy_db_step(st), RCY_ECONFLICT); /* NOT NULL */
  rcy_db_finalize(st);

  /* a trigger's refusal is a conflict too; PostgreSQL's text comes with the step (schema.h) */
  ok(db, rcy_db_exec_ddl(db, "CREATE TABLE t_fixed (k TEXT PRIMARY KEY, owner TEXT NOT NULL);", NULL));
  ok(db, rcy_db_exec_ddl(db,
                         "CREATE TRIGGER t_fixed_owner BEFORE UPDATE OF owner ON t_fixed"
                         "  WHEN NEW.owner IS NOT OLD.owner BEGIN SELECT RAISE(ABORT, 'owner is fixed'); END;",
                         "CREATE FUNCTION t_fixed_owner() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                         "  RAISE EXCEPTION 'owner is fixed' USING ERRCODE = 'integrity_constraint_violation';"
                         " END $$;"
                         "CREATE TRIGGER t_fixed_owner BEFORE UPDATE OF owner ON t_fixed FOR EACH ROW"
                         "  WHEN (NEW.owner IS DISTINCT FROM OLD.owner) EXECUTE FUNCTION t_fixed_owner();"));
  ok(db, rcy_db_exec(db, "INSERT INTO t_fixed VALUES ('a', 'x')"));
  assert_int_equal(rcy_db_exec(db, "UPDATE t_fixed SET owner = 'y'"), RCY_ECONFLICT);
  assert_non_null(strstr(rcy_db_errmsg(db), "owner is fixed"));
  ok(db, rcy_db_exec(db, "UPDATE t_fixed SET owner = 'x'")); /* unchanged: allowed */

  /* not SQL: a plain store error, with the engine's words */
  assert_int_equal(rcy_db_exec(db, "SELEKT 1"), RCY_ESTORE);
  assert_true(strlen(rcy_db_errmsg(db)) > 0);
  int rc = rcy_db_prepare(&st, db, "SELECT nosuchcolumn FROM t_items");
  if (rc == RCY_OK) { /* PostgreSQL: at the first step */
    rc = rcy_db_step(st);
    rcy_db_finalize(st);
  }
  assert_int_equal(rc, RCY_ESTORE);
}

static void test_blobs(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  ok(db, rcy_db_exec_ddl(db, "CREATE TABLE t_blobs (k INTEGER PRIMARY KEY, b BLOB);", NULL));
  unsigned char bytes[300];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 7); /* zeros, 0xff, quotes, \ */
  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "INSERT INTO t_blobs(k, b) VALUES(?, ?)"));
  ok(db, rcy_db_bind_int(st, 1, 1));
  ok(db, rcy_db_bind_blob(st, 2, bytes, sizeof bytes));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_reset(st);
  ok(db, rcy_db_bind_int(st, 1, 2));
  ok(db, rcy_db_bind_blob(st, 2, "", 0));
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  ok(db, rcy_db_prepare(&st, db, "SELECT b FROM t_blobs WHERE b = ? ORDER BY k"));
  ok(db, rcy_db_bind_blob(st, 1, bytes, sizeof bytes));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  size_t n = 0;
  const void *got = rcy_db_column_blob(st, 0, &n);
  assert_int_equal(n, sizeof bytes);
  assert_memory_equal(got, bytes, sizeof bytes);
  got = rcy_db_column_blob(st, 0, &n); /* asked twice in one row: the same */
  assert_int_equal(n, sizeof bytes);
  assert_memory_equal(got, bytes, sizeof bytes);
  assert_int_equal(rcy_db_step(st), RCY_DB_DONE);
  rcy_db_finalize(st);
  ok(db, rcy_db_prepare(&st, db, "SELECT b FROM t_blobs WHERE k = 2"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  assert_false(rcy_db_column_is_null(st, 0));
  rcy_db_column_blob(st, 0, &n);
  assert_int_equal(n, 0);
  rcy_db_finalize(st);
}

static int count_items(rcy_db *db) {
  rcy_db_stmt *st;
  ok(db, rcy_db_prepare(&st, db, "SELECT COUNT(*) FROM t_items"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  int n = rcy_db_column_int(st, 0);
  rcy_db_finalize(st);
  return n;
}

static void test_transactions_and_persistent(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  ok(db, rcy_db_exec_ddl(db, items_ddl, NULL));
  assert_false(rcy_db_in_transaction(db));
  ok(db, rcy_db_begin_write(db));
  assert_true(rcy_db_in_transaction(db));
  insert_item(db, "gone", 1, 1);
  rcy_db_rollback(db);
  assert_false(rcy_db_in_transaction(db));
  assert_int_equal(count_items(db), 0);

  /* a persistent statement, reused across transactions, while another statement's rows are walked */
  rcy_db_stmt *ins;
  ok(db, rcy_db_prepare_persistent(&ins, db, "INSERT INTO t_items(name, n) VALUES(?, ?)"));
  ok(db, rcy_db_begin_write(db));
  for (int i = 0; i < 50; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%02d", i);
    rcy_db_reset(ins);
    ok(db, rcy_db_bind_text(ins, 1, name));
    ok(db, rcy_db_bind_int(ins, 2, i));
    assert_int_equal(rcy_db_step(ins), RCY_DB_DONE);
  }
  ok(db, rcy_db_commit(db));
  assert_int_equal(count_items(db), 50);
  rcy_db_stmt *sel;
  ok(db, rcy_db_prepare(&sel, db, "SELECT name, n FROM t_items WHERE n < ? ORDER BY n"));
  ok(db, rcy_db_bind_int(sel, 1, 3));
  ok(db, rcy_db_begin_write(db));
  int rows = 0;
  while (rcy_db_step(sel) == RCY_DB_ROW) {
    char name[32];
    snprintf(name, sizeof name, "copy-%s", rcy_db_column_text(sel, 0));
    rcy_db_reset(ins);
    ok(db, rcy_db_bind_text(ins, 1, name));
    ok(db, rcy_db_bind_int(ins, 2, 100 + rcy_db_column_int(sel, 1)));
    assert_int_equal(rcy_db_step(ins), RCY_DB_DONE);
    rows++;
  }
  rcy_db_finalize(sel);
  ok(db, rcy_db_commit(db));
  assert_int_equal(rows, 3);
  assert_int_equal(count_items(db), 53);
  /* a failure inside a transaction, then rollback: the failure's message survives the rollback */
  ok(db, rcy_db_begin_write(db));
  rcy_db_reset(ins);
  ok(db, rcy_db_bind_text(ins, 1, "p01"));
  assert_int_equal(rcy_db_step(ins), RCY_ECONFLICT);
  char msg[512];
  snprintf(msg, sizeof msg, "%s", rcy_db_errmsg(db));
  rcy_db_rollback(db);
  assert_string_equal(rcy_db_errmsg(db), msg);
  assert_int_equal(rcy_db_errcode(db), RCY_ECONFLICT);
  /* the persistent statement still works after its transaction failed */
  rcy_db_reset(ins);
  ok(db, rcy_db_bind_text(ins, 1, "after"));
  assert_int_equal(rcy_db_step(ins), RCY_DB_DONE);
  rcy_db_finalize(ins);
  assert_int_equal(count_items(db), 54);
}

/* ---- PostgreSQL only ---- */

static void test_pg_error_kinds(void **state) {
  fixture *f = *state;
  rcy_db *db = f->db;
  assert_int_equal(rcy_db_engine_of(db), RCY_DB_POSTGRESQL);
  assert_int_equal(rcy_db_exec(db, "DO $$ BEGIN RAISE EXCEPTION 'full' USING ERRCODE = 'disk_full'; END $$"),
                   RCY_ENOSPC);
  assert_int_equal(rcy_db_exec(db, "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$"),
                   RCY_EBUSY);
  assert_int_equal(rcy_db_exec(db, "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'deadlock_detected'; END $$"),
                   RCY_EBUSY);
  assert_int_equal(rcy_db_exec(db, "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'foreign_key_violation'; END $$"),
                   RCY_ECONFLICT);
}

/* Two connections: the second's write transaction waits for the first's (the advisory lock of
 * rcy_db_begin_write); with a lock timeout it gives up as RCY_EBUSY (55P03). */
static void test_pg_writers_serialise(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  rcy_db *other;
  assert_int_equal(rcy_db_open(&other, RCY_DB_POSTGRESQL, f->target, 0, &err), RCY_OK);
  ok(other, rcy_db_exec(other, "SET lock_timeout = '200ms'"));
  ok(f->db, rcy_db_begin_write(f->db));
  assert_int_equal(rcy_db_begin_write(other), RCY_EBUSY);
  assert_false(rcy_db_in_transaction(other));
  ok(f->db, rcy_db_commit(f->db));
  ok(other, rcy_db_begin_write(other));
  /* the lock is the transaction's: other's COMMIT frees it for f */
  ok(other, rcy_db_commit(other));
  ok(f->db, rcy_db_begin_write(f->db));
  rcy_db_rollback(f->db);
  /* a reader takes no lock: it reads while a writer holds it */
  ok(f->db, rcy_db_begin_write(f->db));
  rcy_db_stmt *st;
  ok(other, rcy_db_prepare(&st, other, "SELECT 1"));
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  rcy_db_finalize(st);
  rcy_db_rollback(f->db);
  rcy_db_close(other);
}

static void test_pg_password_never_shown(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_db *db = NULL;
  /* nothing listens on this socket directory */
  int rc = rcy_db_open(&db, RCY_DB_POSTGRESQL, "postgresql://alice:s3cr3tpw@/x?host=/nonexistent-rcy", 0, &err);
  assert_int_not_equal(rc, RCY_OK);
  assert_null(db);
  assert_null(strstr(err.message, "s3cr3tpw"));
  assert_non_null(strstr(err.message, "alice:***@"));
  memset(&err, 0, sizeof err);
  rc = rcy_db_open(&db, RCY_DB_POSTGRESQL, "postgresql:///x?host=/nonexistent-rcy&password=s3cr3tpw&user=bob", 0,
                   &err);
  assert_int_not_equal(rc, RCY_OK);
  assert_null(strstr(err.message, "s3cr3tpw"));
  assert_non_null(strstr(err.message, "password=***"));
  memset(&err, 0, sizeof err);
  rc = rcy_db_open(&db, RCY_DB_POSTGRESQL, "postgresql://alice:s3cr3tpw@/x?nosuchoption=1", 0, &err);
  assert_int_equal(rc, RCY_EINVAL);
  assert_null(strstr(err.message, "s3cr3tpw"));
}

#define BOTH(t) cmocka_unit_test_setup_teardown(t, SETUP, teardown)

int main(void) {
  int failed = 0;
#define SETUP setup_sqlite
  const struct CMUnitTest sqlite_tests[] = {
      BOTH(test_types_returning_changes), BOTH(test_null_and_untyped_parameters),
      BOTH(test_on_conflict_and_constraint_errors), BOTH(test_blobs), BOTH(test_transactions_and_persistent),
  };
  failed += cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
#undef SETUP
  const char *uri = getenv("RCY_TEST_POSTGRES");
  if (!uri || !uri[0]) {
    printf("PostgreSQL half skipped: set RCY_TEST_POSTGRES to a libpq URI of a scratch database "
           "(scripts/pg-cluster.sh start DIR prints one; ctest runs it as pg/unit/test_store_db)\n");
    return failed;
  }
#define SETUP setup_pg
  const struct CMUnitTest pg_tests[] = {
      BOTH(test_types_returning_changes), BOTH(test_null_and_untyped_parameters),
      BOTH(test_on_conflict_and_constraint_errors), BOTH(test_blobs), BOTH(test_transactions_and_persistent),
      BOTH(test_pg_error_kinds), BOTH(test_pg_writers_serialise), BOTH(test_pg_password_never_shown),
  };
  failed += cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
  return failed;
}
