/* The instances' SHA-256 filled in after the fact. The ingest daemon indexes an instance with the hash
 * RCY_ARCHIVE_SHA256_PENDING and answers Success as soon as file and row are durable; its hasher computes
 * the hash from the stored file right after and sets it here (in a later transaction), and its startup
 * recovery lists the rows a crash left pending. */
#include "archive_internal.h"

#include <stdio.h>
#include <string.h>

int rcy_archive_set_sha256(rcy_store *store, const char *sop_instance_uid, const char *sha256, rcy_error *err) {
  if (!sha256 || strlen(sha256) != 64)
    return rcy_error_set(err, RCY_EINVAL, "a SHA-256 is 64 hex digits (instance %s)", sop_instance_uid);
  rcy_db_stmt *st;
  /* Only a pending hash is ever replaced: a known one is the reference verify compares the file with. */
  int rc = rcy_store_cached(&st, store, "UPDATE instances SET sha256 = ? WHERE sop_instance_uid = ? AND sha256 = ?",
                            "recording an instance's SHA-256", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, sha256);
  rcy_db_bind_text(st, 2, sop_instance_uid);
  rcy_db_bind_text(st, 3, RCY_ARCHIVE_SHA256_PENDING);
  return rcy_archive_step_done_cached(st, store, "recording an instance's SHA-256", err);
}

int rcy_archive_each_pending_sha256(rcy_store *store, int (*fn)(void *ctx, const char *sop_instance_uid,
                                                                 const char *path),
                                    void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  /* The literal, not a parameter: only then may SQLite use the partial index of schema step 5. */
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT sop_instance_uid, path FROM instances WHERE sha256 = '" RCY_ARCHIVE_SHA256_PENDING
                               "'",
                               "listing instances whose SHA-256 is pending", err);
  if (rc) return rc;
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW)
    if (fn(ctx, rcy_db_column_text(st, 0), rcy_db_column_text(st, 1))) break;
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE)
    return rcy_store_fail(store, "listing instances whose SHA-256 is pending", err);
  return RCY_OK;
}

/* The window the ingest daemon opens on SQLite (docs/ingest.md, "Crash safety"): a batch's rows are
 * committed while its directories are fsync'ed, so a row can be durable before its file's directory entry.
 * Such a row is still pending (its hash comes after the Success), and nothing else changes a pending row
 * before its file is durable under its final name; so deleting only while pending never deletes a row
 * another writer has since made durable and answered for. Its series and study go with it when it leaves
 * them empty (they came with it: the same transaction created them, or they were empty anyway). */
int rcy_archive_remove_pending(int *removed, rcy_store *store, const char *sop_instance_uid, rcy_error *err) {
  *removed = 0;
  rcy_db_stmt *st;
  const char *what = "removing an instance whose SHA-256 is pending";
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT i.series_uid, s.study_uid FROM instances i JOIN series s ON s.series_uid = "
                               "i.series_uid WHERE i.sop_instance_uid = ? AND i.sha256 = '" RCY_ARCHIVE_SHA256_PENDING "'",
                               what, err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, sop_instance_uid);
  char series[128] = "", study[128] = "";
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    snprintf(series, sizeof series, "%s", rcy_db_column_text(st, 0));
    snprintf(study, sizeof study, "%s", rcy_db_column_text(st, 1));
  }
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) return rcy_store_fail(store, what, err);
  if (step == RCY_DB_DONE) return RCY_OK; /* gone, or no longer pending: not ours to remove */
  static const char *const sql[] = {
      "DELETE FROM instances WHERE sop_instance_uid = ? AND sha256 = '" RCY_ARCHIVE_SHA256_PENDING "'",
      "DELETE FROM series WHERE series_uid = ? AND NOT EXISTS (SELECT 1 FROM instances WHERE series_uid = ?)",
      "DELETE FROM studies WHERE study_uid = ? AND NOT EXISTS (SELECT 1 FROM series WHERE study_uid = ?)"
      " AND NOT EXISTS (SELECT 1 FROM quarantine WHERE study_uid = ?)"
      " AND NOT EXISTS (SELECT 1 FROM qc_findings WHERE study_uid = ?)",
  };
  for (int k = 0; k < 3; k++) {
    if ((rc = rcy_archive_prepare(&st, store, sql[k], what, err))) return rc;
    const char *key = k == 0 ? sop_instance_uid : k == 1 ? series : study;
    for (int b = 1; b <= (k == 0 ? 1 : k == 1 ? 2 : 4); b++) rcy_db_bind_text(st, b, key);
    if ((rc = rcy_archive_step_done(st, store, what, err))) return rc;
  }
  *removed = 1;
  return RCY_OK;
}
