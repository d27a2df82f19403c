/* Reads as stored documents: one JSON text per (subject, role, reader), replaced as a whole together with
 * the audit row of the change, in one transaction. The store does not interpret the document (the reader
 * workstation owns its format, docs/api.md); it guarantees that no change lands without its audit row. */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int rcy_store_read_get(char **doc_out, rcy_store *store, const char *subject_id, const char *role,
                       const char *reader, rcy_error *err) {
  *doc_out = NULL;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT doc FROM reads WHERE subject_id = ? AND role = ? AND reader = ?"))
    return rcy_store_fail(store, "reading a read", err);
  rcy_db_bind_text(st, 1, subject_id);
  rcy_db_bind_text(st, 2, role);
  rcy_db_bind_text(st, 3, reader);
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) {
    const char *doc = rcy_db_column_text(st, 0);
    *doc_out = strdup(doc ? doc : "{}");
  }
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return *doc_out ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "reading a read", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no %s read of subject %s by %s", role, subject_id, reader);
}

int rcy_store_read_put(rcy_store *store, const char *subject_id, const char *role, const char *reader,
                       const char *doc, const rcy_audit_entry *audit, rcy_error *err) {
  /* Inside a caller's transaction (a read-modify-write, an all-or-nothing import) join it. */
  int own_tx = !rcy_db_in_transaction(store->db);
  int rc = own_tx ? rcy_store_begin(store, err) : RCY_OK;
  if (rc) return rc;
  char now[32];
  rcy_reads_now_iso(now, sizeof now);
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO reads(subject_id, role, reader, doc, updated_at) VALUES(?,?,?,?,?) "
                         "ON CONFLICT(subject_id, role, reader) DO UPDATE SET doc = excluded.doc,"
                         " updated_at = excluded.updated_at")) {
    rc = rcy_store_fail(store, "saving a read", err);
    goto fail;
  }
  rcy_db_bind_text(st, 1, subject_id);
  rcy_db_bind_text(st, 2, role);
  rcy_db_bind_text(st, 3, reader);
  rcy_db_bind_text(st, 4, doc);
  rcy_db_bind_text(st, 5, now);
  int step = rcy_db_step(st);
  rcy_db_finalize(st);
  if (step != RCY_DB_DONE) {
    rc = rcy_store_fail(store, "saving a read", err);
    goto fail;
  }
  char doc_hash[65];
  rcy_reads_sha256_hex(doc_hash, doc, strlen(doc));
  /* The row names the read it changed, whatever the caller filled in: verify matches rows to reads by it. */
  rcy_audit_entry row;
  if (audit) {
    row = *audit;
    row.subject_id = subject_id;
    row.read_role = role;
    row.reader = reader;
  }
  if (audit && (rc = rcy_store_audit_append_doc(store, &row, doc_hash, err))) goto fail;
  return own_tx ? rcy_store_commit(store, err) : RCY_OK;
fail:
  if (own_tx) rcy_store_rollback(store);
  return rc;
}

int rcy_store_read_each(rcy_store *store, const char *role, const char *reader, rcy_store_read_fn fn,
                        void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, role, reader, doc FROM reads WHERE role = ?1 AND (?2 IS NULL OR"
                         " reader = ?2) ORDER BY subject_id, reader"))
    return rcy_store_fail(store, "listing reads", err);
  rcy_db_bind_text(st, 1, role);
  if (reader) rcy_db_bind_text(st, 2, reader);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rc = fn(ctx, rcy_db_column_text(st, 0), rcy_db_column_text(st, 1),
            rcy_db_column_text(st, 2), rcy_db_column_text(st, 3));
    if (rc) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing reads", err);
  rcy_db_finalize(st);
  return rc;
}
