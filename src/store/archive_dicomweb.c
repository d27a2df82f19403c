/* The index queries behind QIDO-RS: studies, series and instances matching exact values (UIDs, subject,
 * modality, series and instance numbers, a study date range), with the counts PS3.18 asks for at each level.
 * The WHERE clause is built from the criteria given, so each query stays plain portable SQL (src/store/db.h:
 * the same text on SQLite and PostgreSQL). */
#include "archive_internal.h"

#include <stdio.h>
#include <string.h>

static const char *text(rcy_db_stmt *st, int i) {
  return rcy_db_column_text(st, i);
}

#define MAX_BINDS 12

typedef struct {
  char sql[2048];
  const char *text[MAX_BINDS];
  int is_int[MAX_BINDS], ints[MAX_BINDS];
  int n;
} query;

static void where(query *q, const char *cond, const char *value) {
  if (!value || q->n == MAX_BINDS) return;
  strncat(q->sql, q->n ? " AND " : " WHERE ", sizeof q->sql - strlen(q->sql) - 1);
  strncat(q->sql, cond, sizeof q->sql - strlen(q->sql) - 1);
  q->text[q->n++] = value;
}

static void where_int(query *q, const char *cond, int has, int v) {
  if (!has || q->n == MAX_BINDS) return;
  strncat(q->sql, q->n ? " AND " : " WHERE ", sizeof q->sql - strlen(q->sql) - 1);
  strncat(q->sql, cond, sizeof q->sql - strlen(q->sql) - 1);
  q->is_int[q->n] = 1;
  q->ints[q->n++] = v;
}

int rcy_store_qido(rcy_store *store, rcy_qido_level level, const rcy_store_qido_filter *f,
                   rcy_store_qido_fn fn, void *ctx, rcy_error *err) {
  query q = {0};
  snprintf(q.sql, sizeof q.sql, "%s",
           "SELECT t.study_uid, t.site_id, t.subject_id, t.timepoint, t.study_date,"
           " (SELECT COUNT(*) FROM series r WHERE r.study_uid = t.study_uid),"
           " (SELECT COUNT(*) FROM instances n JOIN series r ON r.series_uid = n.series_uid"
           "   WHERE r.study_uid = t.study_uid)");
  if (level >= RCY_QIDO_SERIES)
    strncat(q.sql,
            ", s.series_uid, s.modality, s.description, s.series_number,"
            " (SELECT COUNT(*) FROM instances n WHERE n.series_uid = s.series_uid)",
            sizeof q.sql - strlen(q.sql) - 1);
  if (level == RCY_QIDO_INSTANCE)
    strncat(q.sql,
            ", i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.path, i.instance_number, i.rows,"
            " i.columns",
            sizeof q.sql - strlen(q.sql) - 1);
  strncat(q.sql, " FROM studies t", sizeof q.sql - strlen(q.sql) - 1);
  if (level >= RCY_QIDO_SERIES)
    strncat(q.sql, " JOIN series s ON s.study_uid = t.study_uid", sizeof q.sql - strlen(q.sql) - 1);
  if (level == RCY_QIDO_INSTANCE)
    strncat(q.sql, " JOIN instances i ON i.series_uid = s.series_uid", sizeof q.sql - strlen(q.sql) - 1);
  where(&q, "t.site_id = ?", f->site_id);
  where(&q, "t.study_uid = ?", f->study_uid);
  where(&q, "t.subject_id = ?", f->subject_id);
  where(&q, "t.study_date >= ?", f->date_from);
  where(&q, "t.study_date <= ?", f->date_to);
  if (level == RCY_QIDO_STUDY)
    where(&q, "EXISTS (SELECT 1 FROM series m WHERE m.study_uid = t.study_uid AND m.modality = ?)",
          f->modality);
  if (level >= RCY_QIDO_SERIES) {
    where(&q, "s.series_uid = ?", f->series_uid);
    where(&q, "s.modality = ?", f->modality);
    where_int(&q, "s.series_number = ?", f->has_series_number, f->series_number);
  }
  if (level == RCY_QIDO_INSTANCE) {
    where(&q, "i.sop_instance_uid = ?", f->sop_instance_uid);
    where(&q, "i.sop_class_uid = ?", f->sop_class_uid);
    where_int(&q, "i.instance_number = ?", f->has_instance_number, f->instance_number);
  }
  strncat(q.sql,
          level == RCY_QIDO_STUDY ? " ORDER BY t.subject_id, t.study_date, t.study_uid"
          : level == RCY_QIDO_SERIES
              ? " ORDER BY t.subject_id, t.study_date, t.study_uid, s.series_number, s.series_uid"
              : " ORDER BY t.subject_id, t.study_date, t.study_uid, s.series_number,"
                " s.series_uid, i.instance_number, i.sop_instance_uid",
          sizeof q.sql - strlen(q.sql) - 1);
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store, q.sql, "querying the index (QIDO)", err);
  if (rc) return rc;
  for (int i = 0; i < q.n; i++) {
    if (q.is_int[i])
      rcy_db_bind_int(st, i + 1, q.ints[i]);
    else
      rcy_db_bind_text(st, i + 1, q.text[i]);
  }
  int step;
  rc = RCY_OK;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_qido_row row;
    memset(&row, 0, sizeof row);
    row.study_uid = text(st, 0);
    row.site_id = text(st, 1);
    row.subject_id = text(st, 2);
    row.timepoint = text(st, 3);
    row.study_date = text(st, 4);
    row.n_study_series = rcy_db_column_int(st, 5);
    row.n_study_instances = rcy_db_column_int(st, 6);
    if (level >= RCY_QIDO_SERIES) {
      row.series_uid = text(st, 7);
      row.modality = text(st, 8);
      row.series_description = text(st, 9);
      row.has_series_number = !rcy_db_column_is_null(st, 10);
      row.series_number = rcy_db_column_int(st, 10);
      row.n_series_instances = rcy_db_column_int(st, 11);
    }
    if (level == RCY_QIDO_INSTANCE) {
      row.sop_instance_uid = text(st, 12);
      row.sop_class_uid = text(st, 13);
      row.transfer_syntax_uid = text(st, 14);
      row.path = text(st, 15);
      row.has_instance_number = !rcy_db_column_is_null(st, 16);
      row.instance_number = rcy_db_column_int(st, 16);
      row.rows = rcy_db_column_int(st, 17);
      row.columns = rcy_db_column_int(st, 18);
    }
    if ((rc = fn(ctx, &row))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "querying the index (QIDO)", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_study_modalities(rcy_store *store, const char *study_uid,
                               int (*fn)(void *ctx, const char *modality), void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  int rc =
      rcy_archive_prepare(&st, store,
                          "SELECT DISTINCT modality FROM series WHERE study_uid = ? AND modality IS NOT NULL"
                          " ORDER BY modality",
                          "listing a study's modalities", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, study_uid);
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW)
    if ((rc = fn(ctx, text(st, 0)))) break;
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing a study's modalities", err);
  rcy_db_finalize(st);
  return rc;
}
