/* The SQLite driver of src/store/db.h: the embedded default, one file DIR/recistry.db. The only file of the
 * project that speaks sqlite3_*. Its open sets what every connection needs (WAL, full durability, foreign
 * keys, a busy timeout) so the store's files never issue a PRAGMA. */
#include "db_driver.h"

#include <sqlite3.h>
#include <stdlib.h>

/* How long a writer waits for another connection's write transaction (the daemon's, a CLI's) before
 * failing with RCY_EBUSY. */
#define BUSY_TIMEOUT_MS 30000

typedef struct {
  rcy_db base;
  sqlite3 *h;
} sqlite_db;

typedef struct {
  rcy_db_stmt base;
  sqlite3_stmt *st;
} sqlite_stmt;

static sqlite3 *handle(rcy_db *db) { return ((sqlite_db *)db)->h; }
static sqlite3_stmt *stmt(rcy_db_stmt *st) { return ((sqlite_stmt *)st)->st; }

static int kind(int sqlite_rc) {
  switch (sqlite_rc & 0xff) {
  case SQLITE_FULL: return RCY_ENOSPC;
  case SQLITE_CONSTRAINT: return RCY_ECONFLICT;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return RCY_EBUSY;
  case SQLITE_NOMEM: return RCY_ENOMEM;
  default: return RCY_ESTORE;
  }
}

/* Records the connection's current failure (the message as SQLite words it) and returns its RCY_E* kind. */
static int fail(rcy_db *db, int sqlite_rc) {
  return rcy_db_fail(db, kind(sqlite_rc), "%s", sqlite3_errmsg(handle(db)));
}

static int check_bind(rcy_db_stmt *st, int rc) { return rc == SQLITE_OK ? RCY_OK : fail(st->db, rc); }

static void db_close(rcy_db *db) {
  sqlite3_close_v2(handle(db));
  free(db);
}

static int db_exec(rcy_db *db, const char *sql) {
  int rc = sqlite3_exec(handle(db), sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? RCY_OK : fail(db, rc);
}

static int db_exec_ddl(rcy_db *db, const char *sqlite_sql, const char *postgresql_sql_or_null) {
  (void)postgresql_sql_or_null;
  return db_exec(db, sqlite_sql);
}

/* IMMEDIATE: the write lock is taken at BEGIN, so two writers serialise there (waiting out the busy timeout)
 * instead of both reading and then one failing at its first write with SQLITE_BUSY, which no retry fixes. */
static int db_begin_write(rcy_db *db) { return db_exec(db, "BEGIN IMMEDIATE"); }

/* WAL with synchronous=NORMAL: a commit survives a crash of the process but waits for the next checkpoint to
 * be flushed (see rcy_archive_writer_sync in store.h for why the ingest writer may do this). */
static int db_relax_durability(rcy_db *db) { return db_exec(db, "PRAGMA synchronous=NORMAL"); }

/* A commit that finds the WAL past wal_autocheckpoint pages checkpoints it there and then: the WAL flushed,
 * its pages copied into the database, the database flushed (measured 20-60 ms here, every ~130 instances),
 * inside the COMMIT of whichever instance crossed the line, on its critical path. The ingest writer leaves
 * that to a checkpointer thread on another connection (db_checkpoint); the backstop (16 MB of WAL) only
 * matters if that thread falls far behind. */
#define WRITER_BACKSTOP_PAGES "4000"
static int db_defer_checkpoints(rcy_db *db) {
  int rc = db_exec(db, "PRAGMA wal_autocheckpoint=" WRITER_BACKSTOP_PAGES);
  return rc ? rc : 1;
}

/* PASSIVE: copies what no reader still needs, never waits for the writer nor blocks it. */
static int db_checkpoint(rcy_db *db) {
  int rc = sqlite3_wal_checkpoint_v2(handle(db), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return rc == SQLITE_OK || rc == SQLITE_BUSY ? RCY_OK : fail(db, rc);
}

static int db_in_transaction(rcy_db *db) { return !sqlite3_get_autocommit(handle(db)); }

static int db_prepare(rcy_db_stmt **out, rcy_db *db, const char *sql, int persistent) {
  sqlite_stmt *s = calloc(1, sizeof *s);
  if (!s) return rcy_db_fail(db, RCY_ENOMEM, "out of memory");
  s->base.db = db;
  int rc = sqlite3_prepare_v3(handle(db), sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s->st, NULL);
  if (rc != SQLITE_OK) {
    free(s);
    return fail(db, rc);
  }
  *out = &s->base;
  return RCY_OK;
}

static int bind_null(rcy_db_stmt *st, int i) { return check_bind(st, sqlite3_bind_null(stmt(st), i)); }
static int bind_text(rcy_db_stmt *st, int i, const char *v) {
  return check_bind(st, sqlite3_bind_text(stmt(st), i, v, -1, SQLITE_TRANSIENT));
}
static int bind_int64(rcy_db_stmt *st, int i, int64_t v) {
  return check_bind(st, sqlite3_bind_int64(stmt(st), i, (sqlite3_int64)v));
}
static int bind_double(rcy_db_stmt *st, int i, double v) { return check_bind(st, sqlite3_bind_double(stmt(st), i, v)); }
static int bind_blob(rcy_db_stmt *st, int i, const void *v, size_t n) {
  return check_bind(st, sqlite3_bind_blob64(stmt(st), i, v, (sqlite3_uint64)n, SQLITE_TRANSIENT));
}

static int step(rcy_db_stmt *st) {
  int rc = sqlite3_step(stmt(st));
  if (rc == SQLITE_ROW) return RCY_DB_ROW;
  if (rc == SQLITE_DONE) return RCY_DB_DONE;
  return fail(st->db, rc);
}

static int column_count(rcy_db_stmt *st) { return sqlite3_column_count(stmt(st)); }
static int column_is_null(rcy_db_stmt *st, int i) { return sqlite3_column_type(stmt(st), i) == SQLITE_NULL; }
static const char *column_text(rcy_db_stmt *st, int i) { return (const char *)sqlite3_column_text(stmt(st), i); }
static int64_t column_int64(rcy_db_stmt *st, int i) { return (int64_t)sqlite3_column_int64(stmt(st), i); }
static double column_double(rcy_db_stmt *st, int i) { return sqlite3_column_double(stmt(st), i); }
static const void *column_blob(rcy_db_stmt *st, int i, size_t *n) {
  const void *v = sqlite3_column_blob(stmt(st), i);
  *n = (size_t)sqlite3_column_bytes(stmt(st), i);
  return v;
}

static void reset(rcy_db_stmt *st) {
  sqlite3_reset(stmt(st));
  sqlite3_clear_bindings(stmt(st));
}

static void finalize(rcy_db_stmt *st) {
  sqlite3_finalize(stmt(st));
  free(st);
}

static int64_t changes(rcy_db *db) { return (int64_t)sqlite3_changes64(handle(db)); }

static const rcy_db_driver driver = {
    .close = db_close,
    .exec = db_exec,
    .exec_ddl = db_exec_ddl,
    .begin_write = db_begin_write,
    .relax_durability = db_relax_durability,
    .defer_checkpoints = db_defer_checkpoints,
    .checkpoint = db_checkpoint,
    .in_transaction = db_in_transaction,
    .prepare = db_prepare,
    .bind_null = bind_null,
    .bind_text = bind_text,
    .bind_int64 = bind_int64,
    .bind_double = bind_double,
    .bind_blob = bind_blob,
    .step = step,
    .column_count = column_count,
    .column_is_null = column_is_null,
    .column_text = column_text,
    .column_int64 = column_int64,
    .column_double = column_double,
    .column_blob = column_blob,
    .reset = reset,
    .finalize = finalize,
    .changes = changes,
};

int rcy_db_sqlite_open(rcy_db **out, const char *path, int create, rcy_error *err) {
  *out = NULL;
  sqlite_db *d = calloc(1, sizeof *d);
  if (!d) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  d->base.driver = &driver;
  d->base.engine = RCY_DB_SQLITE;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &d->h, flags, NULL);
  if (rc != SQLITE_OK) {
    rc = rcy_error_set(err, create ? RCY_EIO : RCY_ENOTFOUND, "cannot open %s: %s", path,
                       d->h ? sqlite3_errmsg(d->h) : "out of memory");
    db_close(&d->base);
    return rc;
  }
  sqlite3_busy_timeout(d->h, BUSY_TIMEOUT_MS);
  /* WAL: readers (the workstation) never block the daemon's writers. synchronous=FULL: a committed
   * index row survives power loss, which is what lets the daemon answer Success. */
  if ((rc = db_exec(&d->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"))) {
    rc = rcy_error_set(err, rc, "cannot open %s: setting its pragmas: %s", path, d->base.errmsg);
    db_close(&d->base);
    return rc;
  }
  *out = &d->base;
  return RCY_OK;
}
