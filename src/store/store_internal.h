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

/* users.c, for the login of a request that carries a password (login_password.c). Both fill stored_hash
 * (crypto_pwhash_STRBYTES) with the account's argon2id string: the one just verified, or the current one. */
int rcy_store_user_verify(rcy_user *out, char *stored_hash, rcy_store *store, const char *name,
                          const char *password, rcy_error *err);
int rcy_store_user_load(rcy_user *out, char *stored_hash, rcy_store *store, const char *name, rcy_error *err);
/* login_guard.c: RCY_EDENIED with *retry_after_s when the name or the peer is locked, else 0; counts nothing. */
int rcy_store_login_locked(int *retry_after_s, rcy_store *store, const char *name, const char *peer,
                           rcy_error *err);

#endif
