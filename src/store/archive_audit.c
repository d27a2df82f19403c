/* Audit of associations: who connected (site, AE titles, peer address, TLS), whether we accepted, and what
 * came of it (instances stored, duplicates, refusals, failures). One row per association. */
#include "archive_internal.h"

int rcy_archive_association_begin(int64_t *id, rcy_store *store, const rcy_archive_association *a,
                                  rcy_error *err) {
  rcy_db_stmt *st;
  *id = 0;
  int rc = rcy_archive_prepare(&st, store,
                               "INSERT INTO associations(site_id, calling_ae, called_ae, peer, tls, outcome, reason,"
                               " started_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                               "recording an association", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, a->site_id);
  rcy_db_bind_text(st, 2, a->calling_ae ? a->calling_ae : "");
  rcy_db_bind_text(st, 3, a->called_ae ? a->called_ae : "");
  rcy_db_bind_text(st, 4, a->peer ? a->peer : "");
  rcy_db_bind_int(st, 5, a->tls);
  rcy_archive_bind_text(st, 6, a->outcome);
  rcy_archive_bind_text(st, 7, a->reason);
  rcy_archive_bind_text(st, 8, a->started_at);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *id = rcy_db_column_int64(st, 0);
    step = rcy_db_step(st);
  }
  rcy_db_finalize(st);
  return step == RCY_DB_DONE && *id ? RCY_OK : rcy_store_fail(store, "recording an association", err);
}

int rcy_archive_association_end(rcy_store *store, int64_t id, const char *ended_at, int aborted, int n_stored,
                                int n_duplicates, int n_refused, int n_failed, const char *last_refusal,
                                rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "UPDATE associations SET ended_at = ?, aborted = ?, n_stored = ?, n_duplicates = ?,"
                               " n_refused = ?, n_failed = ?, last_refusal = ? WHERE id = ?",
                               "completing an association record", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, ended_at);
  rcy_db_bind_int(st, 2, aborted);
  rcy_db_bind_int(st, 3, n_stored);
  rcy_db_bind_int(st, 4, n_duplicates);
  rcy_db_bind_int(st, 5, n_refused);
  rcy_db_bind_int(st, 6, n_failed);
  rcy_archive_bind_text(st, 7, last_refusal);
  rcy_db_bind_int64(st, 8, (int64_t)id);
  return rcy_archive_step_done(st, store, "completing an association record", err);
}
