/* What the store's own files share: the connection behind an rcy_store and SQL helpers. Not public. */
#ifndef RECISTRY_STORE_INTERNAL_H
#define RECISTRY_STORE_INTERNAL_H

#include "db.h"
#include "recistry/store.h"

/* Statements of the hot paths (the ingest daemon's per-instance lookups and inserts), prepared once per
 * connection: re-parsing them for every instance cost a measurable share of its index time. */
#define RCY_STORE_CACHED_MAX 16

struct rcy_store {
  rcy_db *db;
  char *archive_dir;
  char *storage_dir;
  struct {
    const char *sql; /* identity: a string literal */
    rcy_db_stmt *st;
  } cached[RCY_STORE_CACHED_MAX];
  int n_cached;
};

/* Runs a script of statements without results; on failure fills err naming `what`. */
int rcy_store_exec(rcy_store *store, const char *sql, const char *what, rcy_error *err);
/* The prepared statement for `sql` (a string literal, cached by its address), reset and with no bindings;
 * release it with rcy_db_reset, never finalize it. Fills err naming `what` on failure. */
int rcy_store_cached(rcy_db_stmt **st, rcy_store *store, const char *sql, const char *what, rcy_error *err);
/* Formats the connection's last failure into err (its kind: rcy_db_errcode) naming `what`. */
int rcy_store_fail(rcy_store *store, const char *what, rcy_error *err);

#endif
