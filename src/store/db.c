/* The engine-independent half of src/store/db.h: picks the driver at open and hands every later call to the
 * connection's driver table (db_driver.h). The failure record (errcode, errmsg) lives here so both engines
 * report the same way. */
#include "db_driver.h"

#include <stdarg.h>
#include <stdio.h>

int rcy_db_fail(rcy_db *db, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
  va_end(ap);
  db->errcode = code;
  return code;
}

int rcy_db_open(rcy_db **out, rcy_db_engine engine, const char *target, int create, rcy_error *err) {
  *out = NULL;
  switch (engine) {
  case RCY_DB_SQLITE: return rcy_db_sqlite_open(out, target, create, err);
  case RCY_DB_POSTGRESQL: return rcy_db_postgresql_open(out, target, err);
  }
  return rcy_error_set(err, RCY_EINTERNAL, "rcy_db_open: unknown engine %d", (int)engine);
}

void rcy_db_close(rcy_db *db) {
  if (db) db->driver->close(db);
}
rcy_db_engine rcy_db_engine_of(const rcy_db *db) { return db->engine; }
const char *rcy_db_errmsg(const rcy_db *db) { return db->errcode ? db->errmsg : "no error"; }
int rcy_db_errcode(const rcy_db *db) { return db->errcode ? db->errcode : RCY_ESTORE; }

int rcy_db_exec(rcy_db *db, const char *sql) { return db->driver->exec(db, sql); }
int rcy_db_exec_ddl(rcy_db *db, const char *sqlite_sql, const char *postgresql_sql_or_null) {
  return db->driver->exec_ddl(db, sqlite_sql, postgresql_sql_or_null);
}
int rcy_db_begin_write(rcy_db *db) { return db->driver->begin_write(db); }
int rcy_db_commit(rcy_db *db) { return db->driver->exec(db, "COMMIT"); }
void rcy_db_rollback(rcy_db *db) {
  /* Keeps the failure that made the caller roll back: ROLLBACK's own outcome is not worth reporting over it. */
  int code = db->errcode;
  char msg[RCY_DB_ERRMSG_MAX];
  snprintf(msg, sizeof msg, "%s", db->errmsg);
  db->driver->exec(db, "ROLLBACK");
  db->errcode = code;
  snprintf(db->errmsg, sizeof db->errmsg, "%s", msg);
}
int rcy_db_relax_durability(rcy_db *db) { return db->driver->relax_durability(db); }
int rcy_db_defer_checkpoints(rcy_db *db) { return db->driver->defer_checkpoints(db); }
int rcy_db_checkpoint(rcy_db *db) { return db->driver->checkpoint(db); }
int rcy_db_in_transaction(rcy_db *db) { return db->driver->in_transaction(db); }

int rcy_db_prepare(rcy_db_stmt **out, rcy_db *db, const char *sql) {
  *out = NULL;
  return db->driver->prepare(out, db, sql, 0);
}
int rcy_db_prepare_persistent(rcy_db_stmt **out, rcy_db *db, const char *sql) {
  *out = NULL;
  return db->driver->prepare(out, db, sql, 1);
}
int rcy_db_bind_null(rcy_db_stmt *st, int i) { return st->db->driver->bind_null(st, i); }
int rcy_db_bind_text(rcy_db_stmt *st, int i, const char *v) {
  return v ? st->db->driver->bind_text(st, i, v) : st->db->driver->bind_null(st, i);
}
int rcy_db_bind_int(rcy_db_stmt *st, int i, int v) { return st->db->driver->bind_int64(st, i, v); }
int rcy_db_bind_int64(rcy_db_stmt *st, int i, int64_t v) { return st->db->driver->bind_int64(st, i, v); }
int rcy_db_bind_double(rcy_db_stmt *st, int i, double v) { return st->db->driver->bind_double(st, i, v); }
int rcy_db_bind_blob(rcy_db_stmt *st, int i, const void *v, size_t n) {
  return st->db->driver->bind_blob(st, i, v, n);
}
int rcy_db_step(rcy_db_stmt *st) { return st->db->driver->step(st); }
int rcy_db_column_count(rcy_db_stmt *st) { return st->db->driver->column_count(st); }
int rcy_db_column_is_null(rcy_db_stmt *st, int i) { return st->db->driver->column_is_null(st, i); }
const char *rcy_db_column_text(rcy_db_stmt *st, int i) { return st->db->driver->column_text(st, i); }
int rcy_db_column_int(rcy_db_stmt *st, int i) { return (int)st->db->driver->column_int64(st, i); }
int64_t rcy_db_column_int64(rcy_db_stmt *st, int i) { return st->db->driver->column_int64(st, i); }
double rcy_db_column_double(rcy_db_stmt *st, int i) { return st->db->driver->column_double(st, i); }
const void *rcy_db_column_blob(rcy_db_stmt *st, int i, size_t *n) {
  return st->db->driver->column_blob(st, i, n);
}
void rcy_db_reset(rcy_db_stmt *st) {
  if (st) st->db->driver->reset(st);
}
void rcy_db_finalize(rcy_db_stmt *st) {
  if (st) st->db->driver->finalize(st);
}
int64_t rcy_db_changes(rcy_db *db) { return db->driver->changes(db); }
