/* The instances index: instances with their series and studies, lookups for duplicates and ownership, and
 * the quarantine. Writers are the ingest daemon (inside its group-commit transactions) and `recistry pull`. */
#include "archive_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rcy_archive_prepare(rcy_db_stmt **st, rcy_store *store, const char *sql, const char *what, rcy_error *err) {
  if (rcy_db_prepare(st, store->db, sql) != RCY_OK) return rcy_store_fail(store, what, err);
  return RCY_OK;
}

void rcy_archive_bind_text(rcy_db_stmt *st, int i, const char *v) {
  if (v && v[0]) rcy_db_bind_text(st, i, v);
  else rcy_db_bind_null(st, i);
}

void rcy_archive_bind_opt_double(rcy_db_stmt *st, int i, int has, double v) {
  if (has) rcy_db_bind_double(st, i, v);
  else rcy_db_bind_null(st, i);
}

void rcy_archive_bind_opt_int(rcy_db_stmt *st, int i, int has, int v) {
  if (has) rcy_db_bind_int(st, i, v);
  else rcy_db_bind_null(st, i);
}

int rcy_archive_step_done(rcy_db_stmt *st, rcy_store *store, const char *what, rcy_error *err) {
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, what, err);
  return RCY_OK;
}

int rcy_archive_step_done_cached(rcy_db_stmt *st, rcy_store *store, const char *what, rcy_error *err) {
  int rc = rcy_db_step(st);
  int out = rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, what, err);
  rcy_db_reset(st);
  return out;
}

char *rcy_archive_column_dup(rcy_db_stmt *st, int col, int *oom) {
  const char *v = rcy_db_column_text(st, col);
  if (!v) return NULL;
  char *d = strdup(v);
  if (!d) *oom = 1;
  return d;
}

void rcy_archive_timestamp(char out[21], long long t) {
  time_t tt = t >= 0 ? (time_t)t : time(NULL);
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int rcy_archive_writer_sync(rcy_store *store, rcy_error *err) {
  if (rcy_db_relax_durability(store->db)) return rcy_store_fail(store, "relaxing the writer's durability", err);
  return RCY_OK;
}

int rcy_archive_writer_defer_checkpoints(rcy_store *store, int *deferred, rcy_error *err) {
  int rc = rcy_db_defer_checkpoints(store->db);
  *deferred = rc > 0;
  if (rc < 0) return rcy_store_fail(store, "deferring the writer's checkpoints", err);
  return RCY_OK;
}

int rcy_archive_checkpoint(rcy_store *store, rcy_error *err) {
  if (rcy_db_checkpoint(store->db)) return rcy_store_fail(store, "checkpointing the index", err);
  return RCY_OK;
}

/* Copies a text column into a caller's buffer: a value that does not fit is an error, never cut (the index
 * holds only validated identifiers, so this means the index was written by something else). */
static int copy_column(char *out, size_t cap, rcy_db_stmt *st, int col, const char *what, rcy_error *err) {
  const char *v = rcy_db_column_text(st, col);
  size_t n = v ? strlen(v) : 0;
  if (n >= cap) {
    out[0] = '\0';
    return rcy_error_set(err, RCY_EINTERNAL, "index holds a %s of %zu characters (at most %zu expected)", what, n,
                         cap - 1);
  }
  memcpy(out, v ? v : "", n + 1);
  return RCY_OK;
}

int rcy_archive_find_instance(int *found, char *path, size_t path_len, uint64_t *size_bytes, char sha256[65],
                              rcy_store *store, const char *sop_instance_uid, rcy_error *err) {
  rcy_db_stmt *st;
  *found = 0;
  int rc = rcy_store_cached(&st, store, "SELECT path, size_bytes, sha256 FROM instances WHERE sop_instance_uid = ?",
                            "looking up an instance", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, sop_instance_uid);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    if (path) rc = copy_column(path, path_len, st, 0, "instance path", err);
    if (size_bytes) *size_bytes = (uint64_t)rcy_db_column_int64(st, 1);
    if (sha256 && !rc) rc = copy_column(sha256, 65, st, 2, "instance SHA-256", err);
  }
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) rc = rcy_store_fail(store, "looking up an instance", err);
  rcy_db_reset(st);
  return rc;
}

int rcy_archive_find_study(int *found, char site_id[65], char subject_id[65], rcy_store *store,
                           const char *study_uid, rcy_error *err) {
  rcy_db_stmt *st;
  *found = 0;
  int rc = rcy_store_cached(&st, store, "SELECT site_id, subject_id FROM studies WHERE study_uid = ?",
                            "looking up a study", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, study_uid);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    rc = copy_column(site_id, 65, st, 0, "study site ID", err);
    if (!rc) rc = copy_column(subject_id, 65, st, 1, "study subject ID", err);
  }
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) rc = rcy_store_fail(store, "looking up a study", err);
  rcy_db_reset(st);
  return rc;
}

int rcy_archive_find_series(int *found, char *study_uid, size_t study_uid_len, rcy_store *store,
                            const char *series_uid, rcy_error *err) {
  rcy_db_stmt *st;
  *found = 0;
  int rc = rcy_store_cached(&st, store, "SELECT study_uid FROM series WHERE series_uid = ?", "looking up a series",
                            err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, series_uid);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    rc = copy_column(study_uid, study_uid_len, st, 0, "series study UID", err);
  }
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) rc = rcy_store_fail(store, "looking up a series", err);
  rcy_db_reset(st);
  return rc;
}

/* The three rows of one instance; the upserts never change a study's site or subject nor a series' study,
 * so a UID level never changes owner or parent whatever the caller checked before.
 * The study and series rows are written only when something in them changes: for the second and later
 * instances of a series that is nothing (the study's last_received_at moves once a second), and an
 * unchanged row rewritten would still cost its index entries (studies_subject holds study_date) in every
 * commit's WAL — the commit that runs after the directory fsync, on every instance's critical path — and a
 * new row version per instance on PostgreSQL. When no row changed, a read tells "nothing to change" from
 * "another owner". */
static int add_instance_rows(rcy_store *store, const rcy_archive_instance *in, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_store_cached(
      &st, store,
      "INSERT INTO studies(study_uid, site_id, subject_id, timepoint, modality, study_date, status,"
      " first_received_at, last_received_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'receiving', ?7, ?7)"
      " ON CONFLICT(study_uid) DO UPDATE SET status = 'receiving', last_received_at = excluded.last_received_at,"
      " timepoint = COALESCE(studies.timepoint, excluded.timepoint),"
      " modality = COALESCE(studies.modality, excluded.modality),"
      " study_date = COALESCE(studies.study_date, excluded.study_date)"
      " WHERE studies.site_id = excluded.site_id AND studies.subject_id = excluded.subject_id"
      " AND (studies.status <> 'receiving' OR studies.last_received_at <> excluded.last_received_at"
      " OR (studies.timepoint IS NULL AND excluded.timepoint IS NOT NULL)"
      " OR (studies.modality IS NULL AND excluded.modality IS NOT NULL)"
      " OR (studies.study_date IS NULL AND excluded.study_date IS NOT NULL))",
      "indexing a study", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, in->study_uid);
  rcy_archive_bind_text(st, 2, in->site_id);
  rcy_archive_bind_text(st, 3, in->subject_id);
  rcy_archive_bind_text(st, 4, in->timepoint);
  rcy_archive_bind_text(st, 5, in->modality);
  rcy_archive_bind_text(st, 6, in->study_date);
  rcy_archive_bind_text(st, 7, in->received_at);
  if ((rc = rcy_archive_step_done_cached(st, store, "indexing a study", err))) return rc;
  if (rcy_db_changes(store->db) == 0) {
    int found;
    char site[65], subject[65];
    if ((rc = rcy_archive_find_study(&found, site, subject, store, in->study_uid, err))) return rc;
    if (!found || strcmp(site, in->site_id) != 0 || strcmp(subject, in->subject_id) != 0)
      return rcy_error_set(err, RCY_EDENIED, "study %s belongs to another site or subject", in->study_uid);
  }

  rc = rcy_store_cached(&st, store,
                        "INSERT INTO series(series_uid, study_uid, modality, series_number, description,"
                        " frame_of_reference_uid) VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(series_uid) DO NOTHING",
                        "indexing a series", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, in->series_uid);
  rcy_archive_bind_text(st, 2, in->study_uid);
  rcy_archive_bind_text(st, 3, in->modality);
  rcy_archive_bind_opt_int(st, 4, in->has_series_number, in->series_number);
  rcy_archive_bind_text(st, 5, in->series_description);
  rcy_archive_bind_text(st, 6, in->frame_of_reference_uid);
  if ((rc = rcy_archive_step_done_cached(st, store, "indexing a series", err))) return rc;
  if (rcy_db_changes(store->db) == 0) {
    int found;
    char parent[256]; /* a UID is at most 64 characters; longer here fails as an index written by something else */
    if ((rc = rcy_archive_find_series(&found, parent, sizeof parent, store, in->series_uid, err))) return rc;
    if (!found || strcmp(parent, in->study_uid) != 0)
      return rcy_error_set(err, RCY_EDENIED, "series %s belongs to another study than %s", in->series_uid,
                           in->study_uid);
  }

  rc = rcy_store_cached(
      &st, store,
      "INSERT INTO instances(sop_instance_uid, series_uid, sop_class_uid, transfer_syntax_uid, instance_number,"
      " path, size_bytes, sha256, rows, columns, pixel_spacing_row_mm, pixel_spacing_col_mm, slice_thickness_mm,"
      " position_x_mm, position_y_mm, position_z_mm, orientation, window_center, window_width, received_at)"
      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "indexing an instance", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, in->sop_instance_uid);
  rcy_archive_bind_text(st, 2, in->series_uid);
  rcy_archive_bind_text(st, 3, in->sop_class_uid);
  rcy_archive_bind_text(st, 4, in->transfer_syntax_uid);
  rcy_archive_bind_opt_int(st, 5, in->has_instance_number, in->instance_number);
  rcy_archive_bind_text(st, 6, in->path);
  rcy_db_bind_int64(st, 7, (int64_t)in->size_bytes);
  rcy_archive_bind_text(st, 8, in->sha256);
  rcy_archive_bind_opt_int(st, 9, in->has_rows, in->rows);
  rcy_archive_bind_opt_int(st, 10, in->has_rows, in->columns);
  rcy_archive_bind_opt_double(st, 11, in->has_pixel_spacing, in->pixel_spacing_row_mm);
  rcy_archive_bind_opt_double(st, 12, in->has_pixel_spacing, in->pixel_spacing_col_mm);
  rcy_archive_bind_opt_double(st, 13, in->has_slice_thickness, in->slice_thickness_mm);
  for (int i = 0; i < 3; i++) rcy_archive_bind_opt_double(st, 14 + i, in->has_position, in->position_mm[i]);
  rcy_archive_bind_text(st, 17, in->orientation);
  rcy_archive_bind_opt_double(st, 18, in->has_window, in->window_center);
  rcy_archive_bind_opt_double(st, 19, in->has_window, in->window_width);
  rcy_archive_bind_text(st, 20, in->received_at);
  return rcy_archive_step_done_cached(st, store, "indexing an instance", err);
}

int rcy_archive_add_instance(rcy_store *store, const rcy_archive_instance *in, rcy_error *err) {
  /* A savepoint, so that a refused instance leaves nothing (a new study row, say) in the caller's batch. */
  int rc = rcy_store_exec(store, "SAVEPOINT add_instance", "indexing an instance", err);
  if (rc) return rc;
  rc = add_instance_rows(store, in, err);
  if (rc) {
    rcy_error ignored = {0};
    rcy_store_exec(store, "ROLLBACK TO add_instance", "undoing an instance", &ignored);
  }
  rcy_error ignored = {0};
  if (rcy_store_exec(store, "RELEASE add_instance", "indexing an instance", rc ? &ignored : err) && !rc)
    rc = err ? err->code : RCY_ESTORE;
  return rc;
}

int rcy_archive_add_quarantine(rcy_store *store, const char *sop_instance_uid, const char *study_uid,
                               const char *site_id, const char *subject_id, const char *path, uint64_t size_bytes,
                               const char *sha256, const char *reason, const char *received_at, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "INSERT INTO quarantine(sop_instance_uid, study_uid, site_id, subject_id, path,"
                               " size_bytes, sha256, reason, received_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               "recording a quarantined instance", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, sop_instance_uid);
  rcy_archive_bind_text(st, 2, study_uid);
  rcy_archive_bind_text(st, 3, site_id);
  rcy_archive_bind_text(st, 4, subject_id);
  rcy_archive_bind_text(st, 5, path);
  rcy_db_bind_int64(st, 6, (int64_t)size_bytes);
  rcy_archive_bind_text(st, 7, sha256);
  rcy_archive_bind_text(st, 8, reason);
  rcy_archive_bind_text(st, 9, received_at);
  return rcy_archive_step_done(st, store, "recording a quarantined instance", err);
}

int rcy_archive_has_path(int *found, rcy_store *store, const char *path, rcy_error *err) {
  rcy_db_stmt *st;
  *found = 0;
  int rc = rcy_archive_prepare(&st, store, "SELECT 1 FROM instances WHERE path = ?", "looking up a path", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, path);
  int step = rcy_db_step(st);
  *found = step == RCY_DB_ROW;
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) return rcy_store_fail(store, "looking up a path", err);
  return RCY_OK;
}

int rcy_archive_each_instance(rcy_store *store,
                              int (*fn)(void *ctx, const char *sop_instance_uid, const char *path,
                                        uint64_t size_bytes, const char *sha256),
                              void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT sop_instance_uid, path, size_bytes, sha256 FROM instances ORDER BY path",
                               "listing instances", err);
  if (rc) return rc;
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    if (fn(ctx, rcy_db_column_text(st, 0), rcy_db_column_text(st, 1),
           (uint64_t)rcy_db_column_int64(st, 2), rcy_db_column_text(st, 3)))
      break;
  }
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) return rcy_store_fail(store, "listing instances", err);
  return RCY_OK;
}

int rcy_archive_each_placement(rcy_store *store,
                               int (*fn)(void *ctx, const char *sop_instance_uid, const char *path,
                                         const char *series_uid, const char *study_uid, const char *site_id,
                                         const char *subject_id),
                               void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT i.sop_instance_uid, i.path, i.series_uid, e.study_uid, s.site_id, s.subject_id"
                               " FROM instances i LEFT JOIN series e ON e.series_uid = i.series_uid"
                               " LEFT JOIN studies s ON s.study_uid = e.study_uid ORDER BY i.path",
                               "listing the hierarchy of instances", err);
  if (rc) return rc;
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    const char *c[6];
    for (int i = 0; i < 6; i++) c[i] = rcy_db_column_text(st, i);
    if (fn(ctx, c[0], c[1], c[2], c[3], c[4], c[5])) break;
  }
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) return rcy_store_fail(store, "listing the hierarchy of instances", err);
  return RCY_OK;
}
