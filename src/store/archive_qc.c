/* The index side of study completeness: which studies have been silent long enough, their slice geometry,
 * and recording the QC outcome without racing a late instance. */
#include "archive_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rcy_archive_strings_free(char **strings, size_t n) {
  if (!strings) return;
  for (size_t i = 0; i < n; i++) free(strings[i]);
  free(strings);
}

int rcy_archive_stable_studies(char ***uids, size_t *n, rcy_store *store, const char *before, rcy_error *err) {
  *uids = NULL;
  *n = 0;
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT study_uid FROM studies WHERE status = 'receiving' AND last_received_at <= ?"
                               " ORDER BY last_received_at",
                               "listing stable studies", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, before);
  size_t cap = 0;
  int step, oom = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW && !oom) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      char **p = realloc(*uids, ncap * sizeof *p);
      if (!p) {
        oom = 1;
        break;
      }
      *uids = p;
      cap = ncap;
    }
    char *u = rcy_archive_column_dup(st, 0, &oom);
    if (u) (*uids)[(*n)++] = u;
  }
  rcy_db_finalize(st);
  if (oom) {
    rcy_archive_strings_free(*uids, *n);
    *uids = NULL;
    *n = 0;
    return rcy_error_set(err, RCY_ENOMEM, "out of memory listing stable studies");
  }
  if (step != RCY_DB_DONE && step != RCY_DB_ROW) return rcy_store_fail(store, "listing stable studies", err);
  return RCY_OK;
}

int rcy_archive_study_last_received(char out[32], rcy_store *store, const char *study_uid, rcy_error *err) {
  rcy_db_stmt *st;
  out[0] = '\0';
  int rc = rcy_archive_prepare(&st, store, "SELECT last_received_at FROM studies WHERE study_uid = ?",
                               "reading a study", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, study_uid);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) snprintf(out, 32, "%s", rcy_db_column_text(st, 0));
  rcy_db_finalize(st);
  if (step == RCY_DB_DONE) return rcy_error_set(err, RCY_ENOTFOUND, "no study %s in the index", study_uid);
  if (step != RCY_DB_ROW) return rcy_store_fail(store, "reading a study", err);
  return RCY_OK;
}

static void parse_orientation(rcy_archive_slice *s, const char *text) {
  s->has_orientation = text && sscanf(text, "%lf\\%lf\\%lf\\%lf\\%lf\\%lf", &s->orientation[0], &s->orientation[1],
                                      &s->orientation[2], &s->orientation[3], &s->orientation[4],
                                      &s->orientation[5]) == 6;
}

int rcy_archive_study_slices(rcy_archive_slice **slices, size_t *n, rcy_store *store, const char *study_uid,
                             rcy_error *err) {
  *slices = NULL;
  *n = 0;
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(
      &st, store,
      "SELECT i.series_uid, s.modality, i.position_x_mm, i.position_y_mm, i.position_z_mm, i.orientation,"
      " i.slice_thickness_mm, i.pixel_spacing_row_mm, i.pixel_spacing_col_mm, i.instance_number"
      " FROM instances i JOIN series s ON s.series_uid = i.series_uid WHERE s.study_uid = ?"
      " ORDER BY i.series_uid, i.instance_number NULLS FIRST",
      "reading a study's geometry", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, study_uid);
  size_t cap = 0;
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      rcy_archive_slice *p = realloc(*slices, ncap * sizeof *p);
      if (!p) {
        rcy_db_finalize(st);
        free(*slices);
        *slices = NULL;
        *n = 0;
        return rcy_error_set(err, RCY_ENOMEM, "out of memory reading study %s", study_uid);
      }
      *slices = p;
      cap = ncap;
    }
    rcy_archive_slice *s = &(*slices)[(*n)++];
    memset(s, 0, sizeof *s);
    const char *ser = rcy_db_column_text(st, 0), *mod = rcy_db_column_text(st, 1);
    int w1 = snprintf(s->series_uid, sizeof s->series_uid, "%s", ser ? ser : "");
    int w2 = snprintf(s->modality, sizeof s->modality, "%s", mod ? mod : "");
    if ((size_t)w1 >= sizeof s->series_uid || (size_t)w2 >= sizeof s->modality) { /* never cut an identifier */
      rcy_db_finalize(st);
      free(*slices);
      *slices = NULL;
      *n = 0;
      return rcy_error_set(err, RCY_EINTERNAL, "study %s: index holds a series UID or modality too long", study_uid);
    }
    s->has_position = !rcy_db_column_is_null(st, 2);
    for (int k = 0; k < 3; k++) s->position_mm[k] = rcy_db_column_double(st, 2 + k);
    parse_orientation(s, rcy_db_column_text(st, 5));
    s->has_slice_thickness = !rcy_db_column_is_null(st, 6);
    s->slice_thickness_mm = rcy_db_column_double(st, 6);
    s->has_pixel_spacing = !rcy_db_column_is_null(st, 7);
    s->pixel_spacing_mm[0] = rcy_db_column_double(st, 7);
    s->pixel_spacing_mm[1] = rcy_db_column_double(st, 8);
    s->has_instance_number = !rcy_db_column_is_null(st, 9);
    s->instance_number = rcy_db_column_int(st, 9);
  }
  rcy_db_finalize(st);
  if (step != RCY_DB_DONE) {
    free(*slices);
    *slices = NULL;
    *n = 0;
    return rcy_store_fail(store, "reading a study's geometry", err);
  }
  return RCY_OK;
}

void rcy_archive_slices_free(rcy_archive_slice *slices) { free(slices); }

int rcy_archive_set_study_qc(int *applied, rcy_store *store, const char *study_uid, const char *last_received_at,
                             const char *status, const rcy_archive_finding *findings, size_t n_findings,
                             const char *checked_at, rcy_error *err) {
  *applied = 0;
  int rc = rcy_store_begin(store, err);
  if (rc) return rc;
  rcy_db_stmt *st;
  if ((rc = rcy_archive_prepare(&st, store,
                                "UPDATE studies SET status = ?, checked_at = ? WHERE study_uid = ?"
                                " AND status = 'receiving' AND last_received_at = ?",
                                "recording QC status", err)))
    goto fail;
  rcy_db_bind_text(st, 1, status);
  rcy_db_bind_text(st, 2, checked_at);
  rcy_db_bind_text(st, 3, study_uid);
  rcy_db_bind_text(st, 4, last_received_at);
  if ((rc = rcy_archive_step_done(st, store, "recording QC status", err))) goto fail;
  if (rcy_db_changes(store->db) == 0) {
    rcy_store_rollback(store);  // an instance arrived meanwhile: the study is checked again later
    return RCY_OK;
  }
  if ((rc = rcy_archive_prepare(&st, store, "DELETE FROM qc_findings WHERE study_uid = ?", "clearing QC findings",
                                err)))
    goto fail;
  rcy_db_bind_text(st, 1, study_uid);
  if ((rc = rcy_archive_step_done(st, store, "clearing QC findings", err))) goto fail;
  for (size_t i = 0; i < n_findings; i++) {
    if ((rc = rcy_archive_prepare(&st, store,
                                  "INSERT INTO qc_findings(study_uid, series_uid, code, severity, message)"
                                  " VALUES(?, ?, ?, ?, ?)",
                                  "recording a QC finding", err)))
      goto fail;
    rcy_db_bind_text(st, 1, study_uid);
    rcy_archive_bind_text(st, 2, findings[i].series_uid);
    rcy_db_bind_text(st, 3, findings[i].code);
    rcy_db_bind_text(st, 4, findings[i].severity);
    rcy_db_bind_text(st, 5, findings[i].message);
    if ((rc = rcy_archive_step_done(st, store, "recording a QC finding", err))) goto fail;
  }
  if ((rc = rcy_store_commit(store, err))) goto fail;
  *applied = 1;
  return RCY_OK;
fail:
  rcy_store_rollback(store);
  return rc;
}
