/* What the store's own files share: the connection behind an rcy_store and SQL helpers. Not public. */
#ifndef RECISTRY_STORE_INTERNAL_H
#define RECISTRY_STORE_INTERNAL_H

#include <sqlite3.h>

#include "recistry/store.h"

struct rcy_store {
  sqlite3 *db;
  char *archive_dir;
  char *storage_dir;
};

/* Runs a script of statements without results; on failure fills err naming `what`. */
int rcy_store_exec(rcy_store *store, const char *sql, const char *what, rcy_error *err);
/* Formats a SQLite failure into err (RCY_ESTORE) naming `what`. */
int rcy_store_fail(rcy_store *store, const char *what, rcy_error *err);

#endif
