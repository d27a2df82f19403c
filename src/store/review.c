/* Central review in the store: archive-wide settings (reads_info), a subject's reads in creation order (for
 * pairing R1 and R2 when nobody assigned them), and adjudication decisions, append-only with their audit
 * row in one transaction. What the rows mean is src/reads/review.c's. */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int rcy_store_setting_get(char **value, rcy_store *store, const char *key, rcy_error *err) {
  *value = NULL;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT value FROM reads_info WHERE key = ?"))
    return rcy_store_fail(store, "reading a setting", err);
  rcy_db_bind_text(st, 1, key);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) *value = strdup(rcy_db_column_text(st, 0));
  rcy_db_finalize(st);
  if (step == RCY_DB_ROW) return *value ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (step != RCY_DB_DONE) return rcy_store_fail(store, "reading a setting", err);
  return RCY_ENOTFOUND;
}

int rcy_store_setting_set(rcy_store *store, const char *key, const char *value, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO reads_info(key, value) VALUES(?, ?)"
                         " ON CONFLICT(key) DO UPDATE SET value = excluded.value"))
    return rcy_store_fail(store, "saving a setting", err);
  rcy_db_bind_text(st, 1, key);
  rcy_db_bind_text(st, 2, value);
  int step = rcy_db_step(st);
  rcy_db_finalize(st);
  return step == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "saving a setting", err);
}

int rcy_store_subject_reads_each(rcy_store *store, const char *subject_id, const char *role, rcy_store_read_fn fn,
                                 void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  /* reads.id only grows: an update keeps the row (ON CONFLICT DO UPDATE), so id order is creation order. */
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, role, reader, doc FROM reads WHERE subject_id = ? AND role = ?"
                         " ORDER BY id"))
    return rcy_store_fail(store, "listing a subject's reads", err);
  rcy_db_bind_text(st, 1, subject_id);
  rcy_db_bind_text(st, 2, role);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rc = fn(ctx, rcy_db_column_text(st, 0), rcy_db_column_text(st, 1),
            rcy_db_column_text(st, 2), rcy_db_column_text(st, 3));
    if (rc) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing a subject's reads", err);
  rcy_db_finalize(st);
  return rc;
}

void rcy_store_sha256_text(char out[65], const char *text) {
  rcy_reads_sha256_hex(out, text, strlen(text));
}

int rcy_store_adjudication_add(rcy_store *store, const rcy_store_adjudication *a, const rcy_audit_entry *audit,
                               rcy_error *err) {
  int own_tx = !rcy_db_in_transaction(store->db);
  int rc = own_tx ? rcy_store_begin(store, err) : RCY_OK;
  if (rc) return rc;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO adjudications(subject_id, outcome, read_role, read_reader, triggers, reason,"
                         " adjudicator, signed_at, meaning, r1_reader, r1_sha256, r2_reader, r2_sha256)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
    rc = rcy_store_fail(store, "saving an adjudication", err);
    goto fail;
  }
  const char *v[] = {a->subject_id, a->outcome, a->read_role, a->read_reader, a->triggers, a->reason, a->adjudicator,
                     a->signed_at, a->meaning, a->r1_reader, a->r1_sha256, a->r2_reader, a->r2_sha256};
  for (int i = 0; i < 13; i++) rcy_db_bind_text(st, i + 1, v[i]);
  int step = rcy_db_step(st);
  rcy_db_finalize(st);
  if (step != RCY_DB_DONE) {
    rc = rcy_store_fail(store, "saving an adjudication", err);
    goto fail;
  }
  if (audit && (rc = rcy_store_audit_append(store, audit, err))) goto fail;
  return own_tx ? rcy_store_commit(store, err) : RCY_OK;
fail:
  if (own_tx) rcy_store_rollback(store);
  return rc;
}

int rcy_store_adjudications_latest(rcy_store *store, const char *subject_id, rcy_store_adjudication_fn fn,
                                   void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT seq, subject_id, outcome, read_role, read_reader, triggers, reason, adjudicator,"
                         " signed_at, meaning, r1_reader, r1_sha256, r2_reader, r2_sha256 FROM adjudications a"
                         " WHERE (?1 IS NULL OR subject_id = ?1)"
                         " AND seq = (SELECT max(seq) FROM adjudications b WHERE b.subject_id = a.subject_id)"
                         " ORDER BY subject_id"))
    return rcy_store_fail(store, "listing adjudications", err);
  if (subject_id) rcy_db_bind_text(st, 1, subject_id);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    const char *c[14];
    for (int i = 1; i < 14; i++) c[i] = rcy_db_column_text(st, i);
    rcy_store_adjudication a = {rcy_db_column_int64(st, 0), c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                                c[8], c[9], c[10], c[11], c[12], c[13]};
    if ((rc = fn(ctx, &a))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing adjudications", err);
  rcy_db_finalize(st);
  return rc;
}
