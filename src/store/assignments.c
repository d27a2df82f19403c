/* Reader assignments: which central reader or adjudicator reads which subject. An admin replaces a subject's
 * readers as a whole; each change is one audit row in the same transaction. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *col(rcy_db_stmt *st, int i) {
  return rcy_db_column_text(st, i);
}

int rcy_store_assignments_each(rcy_store *store, const char *reader, rcy_store_assignment_fn fn, void *ctx,
                               rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, reader, assigned_by, assigned_at, position FROM assignments"
                         " WHERE ?1 IS NULL OR reader = ?1 ORDER BY subject_id, position NULLS FIRST, reader"))
    return rcy_store_fail(store, "listing assignments", err);
  if (reader) rcy_db_bind_text(st, 1, reader);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_assignment a = {col(st, 0), col(st, 1), col(st, 2), col(st, 3), rcy_db_column_int(st, 4)};
    if ((rc = fn(ctx, &a))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing assignments", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_subject_assignments_each(rcy_store *store, const char *subject_id, rcy_store_assignment_fn fn,
                                       void *ctx, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, reader, assigned_by, assigned_at, position FROM assignments"
                         " WHERE subject_id = ? ORDER BY position NULLS FIRST, reader"))
    return rcy_store_fail(store, "listing a subject's assignments", err);
  rcy_db_bind_text(st, 1, subject_id);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_store_assignment a = {col(st, 0), col(st, 1), col(st, 2), col(st, 3), rcy_db_column_int(st, 4)};
    if ((rc = fn(ctx, &a))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "listing a subject's assignments", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_assignments_set(rcy_store *store, const char *subject_id, const char *const *readers, size_t n,
                              const char *assigned_by, const rcy_audit_entry *audit, rcy_error *err) {
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "DELETE FROM assignments WHERE subject_id = ?"))
    return rcy_store_fail(store, "changing assignments", err);
  rcy_db_bind_text(st, 1, subject_id);
  int step = rcy_db_step(st);
  rcy_db_finalize(st);
  if (step != RCY_DB_DONE) return rcy_store_fail(store, "changing assignments", err);
  for (size_t i = 0; i < n; i++) {
    if (rcy_db_prepare(&st, store->db, "INSERT INTO assignments(subject_id, reader, assigned_by, assigned_at, position)"
            " SELECT ?, name, ?, ?, ? FROM users WHERE name = ? AND role IN ('central', 'adjudicator')"
            " ON CONFLICT DO NOTHING"))
      return rcy_store_fail(store, "changing assignments", err);
    rcy_db_bind_text(st, 1, subject_id);
    rcy_db_bind_text(st, 2, assigned_by);
    rcy_db_bind_text(st, 3, now);
    rcy_db_bind_int(st, 4, (int)i + 1);
    rcy_db_bind_text(st, 5, readers[i]);
    step = rcy_db_step(st);
    int changed = rcy_db_changes(store->db);
    rcy_db_finalize(st);
    if (step != RCY_DB_DONE) return rcy_store_fail(store, "changing assignments", err);
    if (!changed) {
      /* ON CONFLICT DO NOTHING: a reader listed twice is no error; an unknown or non-reader account is. */
      int dup = 0;
      for (size_t k = 0; k < i; k++)
        dup |= strcmp(readers[k], readers[i]) == 0;
      if (!dup)
        return rcy_error_set(err, RCY_ENOTFOUND, "%s is no central reader or adjudicator account",
                             readers[i]);
    }
  }
  return audit ? rcy_store_audit_append(store, audit, err) : RCY_OK;
}
