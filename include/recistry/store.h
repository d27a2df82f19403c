/* Store: the archive on disk — DIR/recistry.db (SQLite, WAL) and DIR/storage/ — and everything indexed
 * in it: instances and studies (ingest), reads and measurements, users and sessions, the audit log.
 *
 * One rcy_store is one database connection: open one per thread. Queries stay portable SQL so that a
 * PostgreSQL backend can be added behind this interface. */
#ifndef RECISTRY_STORE_H
#define RECISTRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_store rcy_store;

/* ---- Section: archive lifecycle (src/store/store.c) ---- */

/* Creates DIR (if absent), DIR/storage/ and DIR/recistry.db with the current schema.
 * Fails with RCY_EEXIST if DIR already holds an archive (nothing is touched). */
int rcy_store_init(const char *archive_dir, rcy_error *err);
/* Opens an existing archive, applying any pending schema migrations. */
int rcy_store_open(rcy_store **out, const char *archive_dir, rcy_error *err);
void rcy_store_close(rcy_store *store);
const char *rcy_store_archive_dir(const rcy_store *store);
/* DIR/storage: where instance files live (paths in the index are relative to it). */
const char *rcy_store_storage_dir(const rcy_store *store);
/* Transactions (BEGIN IMMEDIATE so writers queue on the lock instead of failing on upgrade). */
int rcy_store_begin(rcy_store *store, rcy_error *err);
int rcy_store_commit(rcy_store *store, rcy_error *err);
void rcy_store_rollback(rcy_store *store);


/* ---- Section: instances and studies index (src/store/archive*.c; used by ingest/) ---- */


/* ---- Section: reads, lesions and measurements (src/store/reads*.c; used by readers/) ---- */


/* ---- Section: users and sessions (src/store/users*.c; used by readers/) ---- */


/* ---- Section: audit log, append-only and hash-chained (src/store/audit*.c) ---- */


#ifdef __cplusplus
}
#endif
#endif
