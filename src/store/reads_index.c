/* The archive index as the reader workstation sees it: studies with a timepoint, their QC findings, series
 * and instances (read-only queries over the tables ingest fills, schema_archive.c step 2), and
 * rcy_store_index_instance, which writes the row ingest would have written for a file already under storage/
 * (used to assemble demo and test archives from files on disk). */
#include "reads_internal.h"
#include "store_internal.h"

#include <string.h>

static const char *text(sqlite3_stmt *st, int col) {
  const char *s = (const char *)sqlite3_column_text(st, col);
  return s ? s : "";
}

int rcy_store_studies_each(rcy_store *store, const char *site_id, rcy_store_study_fn fn, void *ctx,
                           rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT study_uid, site_id, subject_id, timepoint, modality, study_date, status FROM studies"
                         " WHERE timepoint IS NOT NULL AND status <> 'quarantined' AND (?1 IS NULL OR site_id = ?1)"
                         " ORDER BY subject_id, study_date, timepoint",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing studies", err);
  if (site_id) sqlite3_bind_text(st, 1, site_id, -1, SQLITE_STATIC);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_study s = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4), text(st, 5), text(st, 6)};
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing studies", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_qc_each(rcy_store *store, const char *study_uid, rcy_store_qc_fn fn, void *ctx, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT code, severity, message, series_uid FROM qc_findings WHERE study_uid = ? ORDER BY id",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing QC findings", err);
  sqlite3_bind_text(st, 1, study_uid, -1, SQLITE_STATIC);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_qc_finding f = {text(st, 0), text(st, 1), text(st, 2), text(st, 3)};
    if ((rc = fn(ctx, &f))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing QC findings", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_series_each(rcy_store *store, const char *study_uid, rcy_store_series_fn fn, void *ctx,
                          rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT s.series_uid, s.study_uid, s.modality, s.description, s.series_number,"
                         " (SELECT MAX(slice_thickness_mm) FROM instances i WHERE i.series_uid = s.series_uid),"
                         " (SELECT COUNT(*) FROM instances i WHERE i.series_uid = s.series_uid)"
                         " FROM series s WHERE s.study_uid = ? ORDER BY s.series_number, s.series_uid",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing series", err);
  sqlite3_bind_text(st, 1, study_uid, -1, SQLITE_STATIC);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_series s = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), sqlite3_column_int(st, 4),
                          sqlite3_column_double(st, 5), sqlite3_column_int(st, 6)};
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing series", err);
  sqlite3_finalize(st);
  return rc;
}

#define INSTANCE_COLUMNS                                                                                   \
  "SELECT i.sop_instance_uid, i.series_uid, s.study_uid, t.subject_id, t.site_id, t.timepoint, i.path,"   \
  " i.instance_number, i.rows, i.columns, i.pixel_spacing_row_mm, i.pixel_spacing_col_mm,"                \
  " i.slice_thickness_mm, i.position_x_mm, i.position_y_mm, i.position_z_mm, i.window_center,"            \
  " i.window_width FROM instances i JOIN series s ON s.series_uid = i.series_uid"                          \
  " JOIN studies t ON t.study_uid = s.study_uid "

static int walk_instances(sqlite3_stmt *st, rcy_store *store, rcy_store_instance_fn fn, void *ctx, int *n,
                          rcy_error *err) {
  int rc = RCY_OK, step;
  *n = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_instance in = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4), text(st, 5),
                             text(st, 6), sqlite3_column_int(st, 7), sqlite3_column_int(st, 8),
                             sqlite3_column_int(st, 9), sqlite3_column_double(st, 10),
                             sqlite3_column_double(st, 11), sqlite3_column_double(st, 12),
                             {sqlite3_column_double(st, 13), sqlite3_column_double(st, 14),
                              sqlite3_column_double(st, 15)},
                             sqlite3_column_double(st, 16), sqlite3_column_double(st, 17)};
    (*n)++;
    if ((rc = fn(ctx, &in))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing instances", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_instances_each(rcy_store *store, const char *series_uid, rcy_store_instance_fn fn, void *ctx,
                             rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         INSTANCE_COLUMNS "WHERE i.series_uid = ? ORDER BY i.position_z_mm, i.instance_number", -1,
                         &st, NULL))
    return rcy_store_fail(store, "listing instances", err);
  sqlite3_bind_text(st, 1, series_uid, -1, SQLITE_STATIC);
  int n;
  return walk_instances(st, store, fn, ctx, &n, err);
}

int rcy_store_instance_find(rcy_store *store, const char *sop_instance_uid, rcy_store_instance_fn fn,
                            void *ctx, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, INSTANCE_COLUMNS "WHERE i.sop_instance_uid = ?", -1, &st, NULL))
    return rcy_store_fail(store, "looking an instance up", err);
  sqlite3_bind_text(st, 1, sop_instance_uid, -1, SQLITE_STATIC);
  int n;
  int rc = walk_instances(st, store, fn, ctx, &n, err);
  if (!rc && n == 0) return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s in the archive", sop_instance_uid);
  return rc;
}

static int run(rcy_store *store, sqlite3_stmt *st, const char *what, rcy_error *err) {
  int step = sqlite3_step(st);
  sqlite3_finalize(st);
  return step == SQLITE_DONE ? RCY_OK : rcy_store_fail(store, what, err);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s) {
  if (s && *s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}
static void bind_pos(sqlite3_stmt *st, int i, double v) {
  if (v > 0) sqlite3_bind_double(st, i, v);
}

int rcy_store_index_instance(rcy_store *store, const rcy_store_index_row *r, rcy_error *err) {
  if (!r->study_uid || !r->series_uid || !r->sop_instance_uid || !r->path || !r->site_id || !r->subject_id)
    return rcy_error_set(err, RCY_EINVAL, "index row needs study, series and SOP instance UIDs, path, site, subject");
  char now[32];
  rcy_reads_now_iso(now, sizeof now);
  int rc = rcy_store_begin(store, err);
  if (rc) return rc;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "INSERT INTO studies(study_uid, site_id, subject_id, timepoint, modality, study_date,"
                         " status, first_received_at, last_received_at) VALUES(?1,?2,?3,?4,?5,?6,'complete',?7,?7)"
                         " ON CONFLICT(study_uid) DO UPDATE SET last_received_at = excluded.last_received_at",
                         -1, &st, NULL))
    goto fail_sql;
  bind_opt(st, 1, r->study_uid);
  bind_opt(st, 2, r->site_id);
  bind_opt(st, 3, r->subject_id);
  bind_opt(st, 4, r->timepoint);
  bind_opt(st, 5, r->modality);
  bind_opt(st, 6, r->study_date);
  bind_opt(st, 7, now);
  if ((rc = run(store, st, "indexing a study", err))) goto fail;
  if (sqlite3_prepare_v2(store->db,
                         "INSERT INTO series(series_uid, study_uid, modality, series_number, description,"
                         " frame_of_reference_uid) VALUES(?,?,?,?,?,?) ON CONFLICT(series_uid) DO NOTHING",
                         -1, &st, NULL))
    goto fail_sql;
  bind_opt(st, 1, r->series_uid);
  bind_opt(st, 2, r->study_uid);
  bind_opt(st, 3, r->modality);
  sqlite3_bind_int(st, 4, r->series_number);
  bind_opt(st, 5, r->series_description);
  bind_opt(st, 6, r->frame_of_reference_uid);
  if ((rc = run(store, st, "indexing a series", err))) goto fail;
  if (sqlite3_prepare_v2(store->db,
                         "INSERT INTO instances(sop_instance_uid, series_uid, sop_class_uid, transfer_syntax_uid,"
                         " instance_number, path, size_bytes, sha256, rows, columns, pixel_spacing_row_mm,"
                         " pixel_spacing_col_mm, slice_thickness_mm, position_x_mm, position_y_mm, position_z_mm,"
                         " orientation, window_center, window_width, received_at)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &st, NULL))
    goto fail_sql;
  bind_opt(st, 1, r->sop_instance_uid);
  bind_opt(st, 2, r->series_uid);
  sqlite3_bind_text(st, 3, r->sop_class_uid ? r->sop_class_uid : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, r->transfer_syntax_uid ? r->transfer_syntax_uid : "", -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, r->instance_number);
  bind_opt(st, 6, r->path);
  sqlite3_bind_int64(st, 7, r->size_bytes);
  sqlite3_bind_text(st, 8, r->sha256_hex ? r->sha256_hex : "", -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 9, r->rows);
  sqlite3_bind_int(st, 10, r->columns);
  bind_pos(st, 11, r->pixel_spacing_row_mm);
  bind_pos(st, 12, r->pixel_spacing_col_mm);
  bind_pos(st, 13, r->slice_thickness_mm);
  for (int i = 0; i < 3; i++) sqlite3_bind_double(st, 14 + i, r->position_mm[i]);
  bind_opt(st, 17, r->orientation);
  if (r->window_width > 0) {
    sqlite3_bind_double(st, 18, r->window_center);
    sqlite3_bind_double(st, 19, r->window_width);
  }
  sqlite3_bind_text(st, 20, now, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step == SQLITE_CONSTRAINT) {
    rc = rcy_error_set(err, RCY_EEXIST, "instance %s is already indexed (or its path is taken)",
                       r->sop_instance_uid);
    goto fail;
  }
  if (step != SQLITE_DONE) goto fail_sql;
  return rcy_store_commit(store, err);
fail_sql:
  rc = rcy_store_fail(store, "indexing an instance", err);
fail:
  rcy_store_rollback(store);
  return rc;
}
