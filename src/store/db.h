/* The store's database connection, whichever engine is behind it: SQLite (the embedded default, one file
 * DIR/recistry.db) or PostgreSQL (libpq; several ingest nodes and reader servers on one index).
 *
 * The store's files speak only this interface, never SQLite's or libpq's own API. It is shaped like SQLite's
 * statement API (prepare, bind, step, column) so that every query reads the same on both engines:
 *   - SQL is written once, with `?` placeholders; the PostgreSQL driver numbers them ($1, $2, ...). `?NNN`
 *     (SQLite's numbered form, for a value used twice: `?1 IS NULL OR reader = ?1`) stays $NNN.
 *   - Portable SQL only: ON CONFLICT ... DO UPDATE/NOTHING (never INSERT OR IGNORE/REPLACE), RETURNING id
 *     (never last_insert_rowid), COALESCE (never IFNULL), CASE (never the scalar MAX(a, b)), IS DISTINCT
 *     FROM (never IS NOT between values), integer literals for booleans (never a bare column as a
 *     condition), no LIMIT -1, no GLOB, no PRAGMA outside db_sqlite.c. ORDER BY a nullable column says
 *     NULLS FIRST (SQLite's order; PostgreSQL's default is NULLS LAST). Text compares bytewise (SQLite's
 *     BINARY; on PostgreSQL this needs the database (or the columns) in the C collation).
 *   - Schema steps are written in SQLite's dialect; the PostgreSQL driver translates the column types
 *     (INTEGER -> BIGINT, INTEGER PRIMARY KEY -> identity, REAL -> DOUBLE PRECISION, BLOB -> BYTEA), and a step
 *     that cannot be translated (a trigger) carries its own PostgreSQL text (schema.h).
 * Not public: include/recistry/store.h is the store's interface. */
#ifndef RECISTRY_STORE_DB_H
#define RECISTRY_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

typedef struct rcy_db rcy_db;
typedef struct rcy_db_stmt rcy_db_stmt;

typedef enum { RCY_DB_SQLITE, RCY_DB_POSTGRESQL } rcy_db_engine;

/* rcy_db_step's results (errors are negative RCY_E* codes, with the message in rcy_db_errmsg). */
enum { RCY_DB_DONE = 0, RCY_DB_ROW = 1 };

/* Opens a connection. `target` is the SQLite file's path (SQLITE) or a libpq connection URI (POSTGRESQL).
 * create: SQLite may create the file (PostgreSQL's database must exist already). On failure err names the
 * target (for PostgreSQL, without any password it carries). */
int rcy_db_open(rcy_db **out, rcy_db_engine engine, const char *target, int create, rcy_error *err);
void rcy_db_close(rcy_db *db);
rcy_db_engine rcy_db_engine_of(const rcy_db *db);

/* The last failure's message on this connection, and its kind: RCY_ENOSPC (disk or database full),
 * RCY_ECONFLICT (a constraint: unique, check, foreign key, trigger), RCY_EBUSY (lock timeout or
 * serialization failure: the caller may retry the transaction), else RCY_ESTORE. */
const char *rcy_db_errmsg(const rcy_db *db);
int rcy_db_errcode(const rcy_db *db);

/* Runs a script of one or more statements without parameters or results (schema steps, BEGIN/COMMIT).
 * A schema step goes through rcy_db_exec_ddl, which applies the engine's type translation. */
int rcy_db_exec(rcy_db *db, const char *sql);
int rcy_db_exec_ddl(rcy_db *db, const char *sqlite_sql, const char *postgresql_sql_or_null);

/* Transactions. Added for the store's call sites, because each engine has its own way:
 * begin_write starts a transaction that will write, serialised against every other writer from its start
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN plus a transaction-level advisory lock), so that no writer
 * fails half-way for a lock another one holds. rollback keeps the failure that made the caller roll back
 * as the connection's errmsg/errcode. in_transaction: 1 inside BEGIN ... COMMIT (a function that may be
 * called inside its caller's transaction opens its own only when not). */
int rcy_db_begin_write(rcy_db *db);
int rcy_db_commit(rcy_db *db);
void rcy_db_rollback(rcy_db *db);
int rcy_db_in_transaction(rcy_db *db);
/* For the ingest writer's own connection (rcy_archive_writer_sync in store.h): commits survive a crash of
 * the process but are flushed later, not at each commit. SQLite: synchronous=NORMAL under WAL;
 * PostgreSQL: synchronous_commit = off. */
int rcy_db_relax_durability(rcy_db *db);
/* For the same connection: its commits no longer checkpoint the log themselves (a backstop aside), another
 * connection does it with rcy_db_checkpoint. 1 when the engine has such checkpoints (SQLite), 0 when not
 * (PostgreSQL: the server checkpoints), negative on failure. */
int rcy_db_defer_checkpoints(rcy_db *db);
/* Copies the log's committed pages into the database and flushes both, without blocking writers (SQLite: a
 * passive WAL checkpoint; PostgreSQL: nothing). */
int rcy_db_checkpoint(rcy_db *db);

/* Statements. Parameters are numbered from 1, columns from 0 (as in SQLite). A bound text or blob is
 * copied by the driver (the caller's buffer may go away before step). column_* results stay valid until
 * the next step, reset or finalize of that statement. */
int rcy_db_prepare(rcy_db_stmt **out, rcy_db *db, const char *sql);
/* As prepare, kept for the life of the connection (hot paths: the ingest's per-instance statements); the
 * caller still finalizes it, before closing the connection. */
int rcy_db_prepare_persistent(rcy_db_stmt **out, rcy_db *db, const char *sql);
int rcy_db_bind_null(rcy_db_stmt *st, int i);
int rcy_db_bind_text(rcy_db_stmt *st, int i, const char *v); /* NULL binds NULL */
int rcy_db_bind_int(rcy_db_stmt *st, int i, int v);
int rcy_db_bind_int64(rcy_db_stmt *st, int i, int64_t v);
int rcy_db_bind_double(rcy_db_stmt *st, int i, double v);
int rcy_db_bind_blob(rcy_db_stmt *st, int i, const void *v, size_t n);
/* RCY_DB_ROW, RCY_DB_DONE or a negative RCY_E* code. */
int rcy_db_step(rcy_db_stmt *st);
int rcy_db_column_count(rcy_db_stmt *st);
int rcy_db_column_is_null(rcy_db_stmt *st, int i);
const char *rcy_db_column_text(rcy_db_stmt *st, int i); /* NULL for SQL NULL */
int rcy_db_column_int(rcy_db_stmt *st, int i);
int64_t rcy_db_column_int64(rcy_db_stmt *st, int i);
double rcy_db_column_double(rcy_db_stmt *st, int i);
const void *rcy_db_column_blob(rcy_db_stmt *st, int i, size_t *n);
/* Back to before the first step, with every parameter unbound (NULL). */
void rcy_db_reset(rcy_db_stmt *st);
void rcy_db_finalize(rcy_db_stmt *st);
/* Rows changed by the last INSERT/UPDATE/DELETE run on this connection. */
int64_t rcy_db_changes(rcy_db *db);

#endif
