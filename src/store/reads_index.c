/* The archive index as the reader workstation sees it: studies with a timepoint, their QC findings, series
 * and instances: read-only queries over the tables ingest fills (schema_archive.c step 2). */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static const char *text(rcy_db_stmt *st, int col) {
  const char *s = rcy_db_column_text(st, col);
  return s ? s : "";
}

int rcy_store_studies_each(rcy_store *store, const char *site_id, rcy_store_study_fn fn, void *ctx,
                           rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT study_uid, site_id, subject_id, timepoint, modality, study_date, status FROM studies"
                         " WHERE timepoint IS NOT NULL AND status <> 'quarantined' AND (?1 IS NULL OR site_id = ?1)"
                         " ORDER BY subject_id, study_date NULLS FIRST, timepoint"))
    return rcy_store_fail(store, "listing studies", err);
  if (site_id) rcy_db_bind_text(st, 1, site_id);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_study s = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4), text(st, 5), text(st, 6)};
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing studies", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_subject_studies_each(rcy_store *store, const char *subject_id, rcy_store_study_fn fn, void *ctx,
                                   rcy_error *err) {
  rcy_db_stmt *st;
  /* One subject through studies_subject: the workstation and every per-subject rule call this once or more per
   * subject, and a scan of all studies made a cohort's walk quadratic. */
  if (rcy_db_prepare(&st, store->db, "SELECT study_uid, site_id, subject_id, timepoint, modality, study_date, status FROM studies"
                         " WHERE subject_id = ?1 AND timepoint IS NOT NULL AND status <> 'quarantined'"
                         " ORDER BY study_date NULLS FIRST, timepoint"))
    return rcy_store_fail(store, "listing a subject's studies", err);
  rcy_db_bind_text(st, 1, subject_id);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_study s = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4), text(st, 5), text(st, 6)};
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing a subject's studies", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_qc_each(rcy_store *store, const char *study_uid, rcy_store_qc_fn fn, void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT code, severity, message, series_uid FROM qc_findings WHERE study_uid = ? ORDER BY id"))
    return rcy_store_fail(store, "listing QC findings", err);
  rcy_db_bind_text(st, 1, study_uid);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_qc_finding f = {text(st, 0), text(st, 1), text(st, 2), text(st, 3)};
    if ((rc = fn(ctx, &f))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing QC findings", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_series_each(rcy_store *store, const char *study_uid, rcy_store_series_fn fn, void *ctx,
                          rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT s.series_uid, s.study_uid, s.modality, s.description, s.series_number,"
                         " (SELECT MAX(slice_thickness_mm) FROM instances i WHERE i.series_uid = s.series_uid),"
                         " (SELECT COUNT(*) FROM instances i WHERE i.series_uid = s.series_uid)"
                         " FROM series s WHERE s.study_uid = ? ORDER BY s.series_number NULLS FIRST, s.series_uid"))
    return rcy_store_fail(store, "listing series", err);
  rcy_db_bind_text(st, 1, study_uid);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_series s = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), rcy_db_column_int(st, 4),
                          rcy_db_column_double(st, 5), rcy_db_column_int(st, 6)};
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing series", err);
  rcy_db_finalize(st);
  return rc;
}

#define INSTANCE_COLUMNS                                                                                   \
  "SELECT i.sop_instance_uid, i.series_uid, s.study_uid, t.subject_id, t.site_id, t.timepoint, i.path,"   \
  " i.instance_number, i.rows, i.columns, i.pixel_spacing_row_mm, i.pixel_spacing_col_mm,"                \
  " i.slice_thickness_mm, i.position_x_mm, i.position_y_mm, i.position_z_mm, i.window_center,"            \
  " i.window_width, i.orientation FROM instances i JOIN series s ON s.series_uid = i.series_uid"                          \
  " JOIN studies t ON t.study_uid = s.study_uid "

static int walk_instances(rcy_db_stmt *st, rcy_store *store, rcy_store_instance_fn fn, void *ctx, int *n,
                          rcy_error *err) {
  int rc = RCY_OK, step;
  *n = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_instance in = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4), text(st, 5),
                             text(st, 6), rcy_db_column_int(st, 7), rcy_db_column_int(st, 8),
                             rcy_db_column_int(st, 9), rcy_db_column_double(st, 10),
                             rcy_db_column_double(st, 11), rcy_db_column_double(st, 12),
                             {rcy_db_column_double(st, 13), rcy_db_column_double(st, 14),
                              rcy_db_column_double(st, 15)},
                             rcy_db_column_double(st, 16), rcy_db_column_double(st, 17), 0, {0}};
    const char *o = text(st, 18);
    in.has_orientation = o && sscanf(o, "%lf\\%lf\\%lf\\%lf\\%lf\\%lf", &in.orientation[0], &in.orientation[1],
                                     &in.orientation[2], &in.orientation[3], &in.orientation[4],
                                     &in.orientation[5]) == 6;
    (*n)++;
    if ((rc = fn(ctx, &in))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing instances", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_instances_each(rcy_store *store, const char *series_uid, rcy_store_instance_fn fn, void *ctx,
                             rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, INSTANCE_COLUMNS "WHERE i.series_uid = ? ORDER BY i.position_z_mm NULLS FIRST, i.instance_number NULLS FIRST"))
    return rcy_store_fail(store, "listing instances", err);
  rcy_db_bind_text(st, 1, series_uid);
  int n;
  return walk_instances(st, store, fn, ctx, &n, err);
}

int rcy_store_instance_find(rcy_store *store, const char *sop_instance_uid, rcy_store_instance_fn fn,
                            void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, INSTANCE_COLUMNS "WHERE i.sop_instance_uid = ?"))
    return rcy_store_fail(store, "looking an instance up", err);
  rcy_db_bind_text(st, 1, sop_instance_uid);
  int n;
  int rc = walk_instances(st, store, fn, ctx, &n, err);
  if (!rc && n == 0) return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s in the archive", sop_instance_uid);
  return rc;
}
