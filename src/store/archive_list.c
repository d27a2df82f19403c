/* `recistry studies`: every study with its counts and QC findings, then the quarantined instances grouped
 * by study (status 'quarantined'; they are not in the studies table). */
#include "archive_internal.h"

#include <stdlib.h>
#include <string.h>

static void study_clear(rcy_archive_study *s) {
  free(s->study_uid);
  free(s->site_id);
  free(s->subject_id);
  free(s->timepoint);
  free(s->modality);
  free(s->study_date);
  free(s->status);
  free(s->first_received_at);
  free(s->last_received_at);
  for (size_t i = 0; i < s->n_findings; i++) {
    free((char *)s->findings[i].series_uid);
    free((char *)s->findings[i].code);
    free((char *)s->findings[i].severity);
    free((char *)s->findings[i].message);
  }
  free(s->findings);
}

void rcy_archive_studies_free(rcy_archive_study *studies, size_t n) {
  if (!studies) return;
  for (size_t i = 0; i < n; i++) study_clear(&studies[i]);
  free(studies);
}

static int load_findings(rcy_archive_study *s, rcy_store *store, rcy_error *err) {
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(&st, store,
                               "SELECT series_uid, code, severity, message FROM qc_findings WHERE study_uid = ?"
                               " ORDER BY id",
                               "reading QC findings", err);
  if (rc) return rc;
  rcy_db_bind_text(st, 1, s->study_uid);
  int step, oom = 0;
  size_t cap = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    if (s->n_findings == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      rcy_archive_finding *p = realloc(s->findings, ncap * sizeof *p);
      if (!p) {
        oom = 1;
        break;
      }
      s->findings = p;
      cap = ncap;
    }
    rcy_archive_finding *f = &s->findings[s->n_findings++];
    f->series_uid = rcy_archive_column_dup(st, 0, &oom);
    f->code = rcy_archive_column_dup(st, 1, &oom);
    f->severity = rcy_archive_column_dup(st, 2, &oom);
    f->message = rcy_archive_column_dup(st, 3, &oom);
  }
  rcy_db_finalize(st);
  if (oom) return rcy_error_set(err, RCY_ENOMEM, "out of memory reading QC findings");
  if (step != RCY_DB_DONE && step != RCY_DB_ROW) return rcy_store_fail(store, "reading QC findings", err);
  return RCY_OK;
}

int rcy_archive_list_studies(rcy_archive_study **studies, size_t *n, rcy_store *store, rcy_error *err) {
  *studies = NULL;
  *n = 0;
  rcy_db_stmt *st;
  int rc = rcy_archive_prepare(
      &st, store,
      "SELECT s.study_uid, s.site_id, s.subject_id, s.timepoint, s.modality, s.study_date, s.status,"
      " s.first_received_at, s.last_received_at,"
      " (SELECT COUNT(*) FROM series r WHERE r.study_uid = s.study_uid),"
      " (SELECT COUNT(*) FROM instances i JOIN series r ON r.series_uid = i.series_uid"
      "   WHERE r.study_uid = s.study_uid)"
      " FROM studies s"
      " UNION ALL"
      " SELECT q.study_uid, q.site_id, MAX(q.subject_id), NULL, NULL, NULL, 'quarantined', MIN(q.received_at),"
      " MAX(q.received_at), 0, COUNT(*) FROM quarantine q GROUP BY q.study_uid, q.site_id"
      " ORDER BY 2, 3 NULLS FIRST, 6 NULLS FIRST, 1",
      "listing studies", err);
  if (rc) return rc;
  size_t cap = 0;
  int step, oom = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      rcy_archive_study *p = realloc(*studies, ncap * sizeof *p);
      if (!p) {
        oom = 1;
        break;
      }
      *studies = p;
      cap = ncap;
    }
    rcy_archive_study *s = &(*studies)[(*n)++];
    memset(s, 0, sizeof *s);
    char **fields[] = {&s->study_uid, &s->site_id,         &s->subject_id,        &s->timepoint, &s->modality,
                       &s->study_date, &s->status, &s->first_received_at, &s->last_received_at};
    for (int k = 0; k < 9; k++) *fields[k] = rcy_archive_column_dup(st, k, &oom);
    s->n_series = rcy_db_column_int(st, 9);
    s->n_instances = rcy_db_column_int(st, 10);
  }
  rcy_db_finalize(st);
  if (oom) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory listing studies");
  else if (step != RCY_DB_DONE && step != RCY_DB_ROW) rc = rcy_store_fail(store, "listing studies", err);
  for (size_t i = 0; !rc && i < *n; i++)
    if ((*studies)[i].study_uid && strcmp((*studies)[i].status, "quarantined") != 0)
      rc = load_findings(&(*studies)[i], store, err);
  if (rc) {
    rcy_archive_studies_free(*studies, *n);
    *studies = NULL;
    *n = 0;
  }
  return rc;
}
