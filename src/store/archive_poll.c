/* Polls of the sites' nodes: a row per poll (counts and outcome, never a query value) and per site the state
 * the next poll starts from (the last successful poll bounds its date window; failures in a row set its
 * back-off). The rules are src/ingest/poll.c's; this file only reads and writes the two tables. */
#include "archive_internal.h"

#include <stdio.h>
#include <string.h>

int rcy_archive_poll_record(rcy_store *store, const rcy_archive_poll *p, int update_state, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "INSERT INTO polls(site_id, kind, started_at, finished_at, outcome, n_matches,"
                               " n_skipped, n_retrieved, n_instances, n_refused, error, next_attempt_at)"
                               " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               "recording a poll", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, p->site_id);
  rcy_archive_bind_text(st, 2, p->kind);
  rcy_archive_bind_text(st, 3, p->started_at);
  rcy_archive_bind_text(st, 4, p->finished_at);
  rcy_archive_bind_text(st, 5, p->outcome);
  rcy_db_bind_int(st, 6, p->n_matches);
  rcy_db_bind_int(st, 7, p->n_skipped);
  rcy_db_bind_int(st, 8, p->n_retrieved);
  rcy_db_bind_int(st, 9, p->n_instances);
  rcy_db_bind_int(st, 10, p->n_refused);
  rcy_archive_bind_text(st, 11, p->error);
  rcy_archive_bind_text(st, 12, p->next_attempt_at);
  rc = rcy_archive_step_done(st, store, "recording a poll", err);
  if (rc || !update_state) return rc;
  int ok = strcmp(p->outcome, "ok") == 0;
  rc = rcy_archive_prepare(&st, store,
                           "INSERT INTO poll_sites(site_id, last_success_at, last_outcome, last_finished_at,"
                           " last_error, next_attempt_at, failures_in_row) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                           " ON CONFLICT (site_id) DO UPDATE SET"
                           " last_success_at = COALESCE(?2, poll_sites.last_success_at), last_outcome = ?3,"
                           " last_finished_at = ?4, last_error = ?5, next_attempt_at = ?6,"
                           " failures_in_row = CASE WHEN ?7 = 0 THEN 0 ELSE poll_sites.failures_in_row + 1 END",
                           "recording a site's poll state", err);
  if (rc) return rc;
  rcy_archive_bind_text(st, 1, p->site_id);
  rcy_archive_bind_text(st, 2, ok ? p->started_at : NULL);
  rcy_archive_bind_text(st, 3, p->outcome);
  rcy_archive_bind_text(st, 4, p->finished_at);
  rcy_archive_bind_text(st, 5, p->error);
  rcy_archive_bind_text(st, 6, p->next_attempt_at);
  rcy_db_bind_int(st, 7, ok ? 0 : 1);
  return rcy_archive_step_done(st, store, "recording a site's poll state", err);
}

static void copy_col(char *out, size_t cap, rcy_db_stmt *st, int col) {
  const char *v = rcy_db_column_text(st, col);
  snprintf(out, cap, "%s", v ? v : "");
}

int rcy_archive_poll_state_get(rcy_archive_poll_state *out, int *found, rcy_store *store, const char *site_id,
                               rcy_error *err) {
  memset(out, 0, sizeof *out);
  *found = 0;
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT last_success_at, last_outcome, last_finished_at, last_error, next_attempt_at,"
                               " failures_in_row FROM poll_sites WHERE site_id = ?",
                               "reading a site's poll state", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, site_id);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    copy_col(out->last_success_at, sizeof out->last_success_at, st, 0);
    copy_col(out->last_outcome, sizeof out->last_outcome, st, 1);
    copy_col(out->last_finished_at, sizeof out->last_finished_at, st, 2);
    copy_col(out->last_error, sizeof out->last_error, st, 3);
    copy_col(out->next_attempt_at, sizeof out->next_attempt_at, st, 4);
    out->failures_in_row = rcy_db_column_int(st, 5);
    step = rcy_db_step(st);
  }
  rcy_db_finalize(st);
  return step == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "reading a site's poll state", err);
}

int rcy_archive_study_indexed(int *found, int *n_instances, char status[16], char site_id[65], rcy_store *store,
                              const char *study_uid, rcy_error *err) {
  *found = 0;
  *n_instances = 0;
  status[0] = site_id[0] = '\0';
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT st.status, st.site_id, (SELECT COUNT(*) FROM instances i JOIN series s"
                               " ON s.series_uid = i.series_uid WHERE s.study_uid = st.study_uid)"
                               " FROM studies st WHERE st.study_uid = ?",
                               "reading a study's instance count", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, study_uid);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    copy_col(status, 16, st, 0);
    copy_col(site_id, 65, st, 1);
    *n_instances = rcy_db_column_int(st, 2);
    step = rcy_db_step(st);
  }
  rcy_db_finalize(st);
  return step == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "reading a study's instance count", err);
}
