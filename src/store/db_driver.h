/* What an engine's driver (db_sqlite.c, db_postgresql.c) provides behind src/store/db.h: a table of its
 * functions, and the head its connection and statement structs start with, so that db.c can dispatch every
 * rcy_db_* call without knowing the engine. Not public; only db.c and the drivers include it. */
#ifndef RECISTRY_STORE_DB_DRIVER_H
#define RECISTRY_STORE_DB_DRIVER_H

#include "db.h"

#define RCY_DB_ERRMSG_MAX 400

typedef struct {
  void (*close)(rcy_db *db);
  int (*exec)(rcy_db *db, const char *sql);
  int (*exec_ddl)(rcy_db *db, const char *sqlite_sql, const char *postgresql_sql_or_null);
  int (*begin_write)(rcy_db *db);
  int (*relax_durability)(rcy_db *db);
  int (*defer_checkpoints)(rcy_db *db);
  int (*checkpoint)(rcy_db *db);
  int (*in_transaction)(rcy_db *db);
  int (*prepare)(rcy_db_stmt **out, rcy_db *db, const char *sql, int persistent);
  int (*bind_null)(rcy_db_stmt *st, int i);
  int (*bind_text)(rcy_db_stmt *st, int i, const char *v);
  int (*bind_int64)(rcy_db_stmt *st, int i, int64_t v);
  int (*bind_double)(rcy_db_stmt *st, int i, double v);
  int (*bind_blob)(rcy_db_stmt *st, int i, const void *v, size_t n);
  int (*step)(rcy_db_stmt *st);
  int (*column_count)(rcy_db_stmt *st);
  int (*column_is_null)(rcy_db_stmt *st, int i);
  const char *(*column_text)(rcy_db_stmt *st, int i);
  int64_t (*column_int64)(rcy_db_stmt *st, int i);
  double (*column_double)(rcy_db_stmt *st, int i);
  const void *(*column_blob)(rcy_db_stmt *st, int i, size_t *n);
  void (*reset)(rcy_db_stmt *st);
  void (*finalize)(rcy_db_stmt *st);
  int64_t (*changes)(rcy_db *db);
} rcy_db_driver;

/* The first member of each driver's connection struct. The last failure is copied here when it happens, so
 * that a later finalize or rollback cannot overwrite the message the caller is about to report. */
struct rcy_db {
  const rcy_db_driver *driver;
  rcy_db_engine engine;
  int errcode; /* RCY_E*, 0 before any failure */
  char errmsg[RCY_DB_ERRMSG_MAX];
};

/* The first member of each driver's statement struct. */
struct rcy_db_stmt {
  rcy_db *db;
};

/* Records a failure on db (code: RCY_E*) and returns code. */
int rcy_db_fail(rcy_db *db, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Each driver's open. */
int rcy_db_sqlite_open(rcy_db **out, const char *path, int create, rcy_error *err);
/* db_pg.c: `uri` is a libpq connection URI; messages show it with any password masked. */
int rcy_db_postgresql_open(rcy_db **out, const char *uri, rcy_error *err);

#endif
