/* What query/retrieve (src/ingest/qr.c) reads of the index: series with their study, and the instances of a
 * series. The matching itself (wildcards, ranges, the peer's sites) is the ingest module's; these narrow
 * only by the exact UIDs a hierarchical query names, so a query never walks more than it must. Portable
 * SQL: the statements read the same on both engines of src/store/db.h. */
#include "archive_internal.h"

#include <string.h>

static const char *col(rcy_db_stmt *st, int i) { return rcy_db_column_text(st, i); }

int rcy_archive_qr_series_each(rcy_store *store, const char *study_uid, const char *series_uid,
                               int (*fn)(void *ctx, const rcy_archive_qr_series *s), void *ctx, rcy_error *err) {
#define QR_SERIES_SELECT                                                                                   \
  "SELECT s.study_uid, s.site_id, s.subject_id, s.timepoint, s.study_date, r.series_uid, r.modality,"        \
  " r.series_number, r.description, (SELECT COUNT(*) FROM instances i WHERE i.series_uid = r.series_uid)"   \
  " FROM studies s JOIN series r ON r.study_uid = s.study_uid"
#define QR_SERIES_ORDER " ORDER BY s.study_uid, r.series_number, r.series_uid"
  /* One statement per filter combination (no "? IS NULL OR": PostgreSQL cannot type an unbound NULL). */
  static const char *const sql[4] = {
      QR_SERIES_SELECT QR_SERIES_ORDER,
      QR_SERIES_SELECT " WHERE s.study_uid = ?" QR_SERIES_ORDER,
      QR_SERIES_SELECT " WHERE r.series_uid = ?" QR_SERIES_ORDER,
      QR_SERIES_SELECT " WHERE s.study_uid = ? AND r.series_uid = ?" QR_SERIES_ORDER,
  };
  int which = (study_uid ? 1 : 0) | (series_uid ? 2 : 0);
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store, sql[which], "listing series for a query", err);
  if (rc) return rc;
  int n = 1;
  if (study_uid) rcy_db_bind_text(st, n++, study_uid);
  if (series_uid) rcy_db_bind_text(st, n++, series_uid);
  int step, stopped = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_archive_qr_series s;
    memset(&s, 0, sizeof s);
    s.study_uid = col(st, 0);
    s.site_id = col(st, 1);
    s.subject_id = col(st, 2);
    s.timepoint = col(st, 3);
    s.study_date = col(st, 4);
    s.series_uid = col(st, 5);
    s.modality = col(st, 6);
    s.has_series_number = !rcy_db_column_is_null(st, 7);
    s.series_number = rcy_db_column_int(st, 7);
    s.description = col(st, 8);
    s.n_instances = rcy_db_column_int(st, 9);
    if ((stopped = fn(ctx, &s)) != 0) break;
  }
  rcy_db_finalize(st);
  if (!stopped && step != RCY_DB_DONE) return rcy_store_fail(store, "listing series for a query", err);
  return stopped;
}

int rcy_archive_qr_instances_each(rcy_store *store, const char *series_uid,
                                  int (*fn)(void *ctx, const rcy_archive_qr_instance *i), void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT sop_instance_uid, sop_class_uid, transfer_syntax_uid, path, instance_number,"
                               " rows, columns FROM instances WHERE series_uid = ?"
                               " ORDER BY instance_number, sop_instance_uid",
                               "listing instances for a query", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, series_uid);
  int step, stopped = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_archive_qr_instance i;
    memset(&i, 0, sizeof i);
    i.sop_instance_uid = col(st, 0);
    i.sop_class_uid = col(st, 1);
    i.transfer_syntax_uid = col(st, 2);
    i.path = col(st, 3);
    i.has_instance_number = !rcy_db_column_is_null(st, 4);
    i.instance_number = rcy_db_column_int(st, 4);
    i.has_rows = !rcy_db_column_is_null(st, 5);
    i.rows = rcy_db_column_int(st, 5);
    i.columns = rcy_db_column_int(st, 6);
    if ((stopped = fn(ctx, &i)) != 0) break;
  }
  rcy_db_finalize(st);
  if (!stopped && step != RCY_DB_DONE) return rcy_store_fail(store, "listing instances for a query", err);
  return stopped;
}
