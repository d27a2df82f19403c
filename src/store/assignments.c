/* Reader assignments: which central reader or adjudicator reads which subject. An admin replaces a subject's
 * readers as a whole; each change is one audit row in the same transaction. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *col(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

int rcy_store_assignments_each(rcy_store *store, const char *reader, rcy_store_assignment_fn fn, void *ctx,
                               rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT subject_id, reader, assigned_by, assigned_at, position FROM assignments"
                         " WHERE ?1 IS NULL OR reader = ?1 ORDER BY subject_id, position, reader",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing assignments", err);
  if (reader) sqlite3_bind_text(st, 1, reader, -1, SQLITE_STATIC);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_assignment a = {col(st, 0), col(st, 1), col(st, 2), col(st, 3), sqlite3_column_int(st, 4)};
    if ((rc = fn(ctx, &a))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing assignments", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_subject_assignments_each(rcy_store *store, const char *subject_id, rcy_store_assignment_fn fn,
                                       void *ctx, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT subject_id, reader, assigned_by, assigned_at, position FROM assignments"
                         " WHERE subject_id = ? ORDER BY position, reader",
                         -1, &st, NULL))
    return rcy_store_fail(store, "listing a subject's assignments", err);
  sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_store_assignment a = {col(st, 0), col(st, 1), col(st, 2), col(st, 3), sqlite3_column_int(st, 4)};
    if ((rc = fn(ctx, &a))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "listing a subject's assignments", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_assignments_set(rcy_store *store, const char *subject_id, const char *const *readers, size_t n,
                              const char *assigned_by, const rcy_audit_entry *audit, rcy_error *err) {
  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "DELETE FROM assignments WHERE subject_id = ?", -1, &st, NULL))
    return rcy_store_fail(store, "changing assignments", err);
  sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) return rcy_store_fail(store, "changing assignments", err);
  for (size_t i = 0; i < n; i++) {
    if (sqlite3_prepare_v2(
            store->db,
            "INSERT OR IGNORE INTO assignments(subject_id, reader, assigned_by, assigned_at, position)"
            " SELECT ?, name, ?, ?, ? FROM users WHERE name = ? AND role IN ('central', 'adjudicator')",
            -1, &st, NULL))
      return rcy_store_fail(store, "changing assignments", err);
    sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, assigned_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)i + 1);
    sqlite3_bind_text(st, 5, readers[i], -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    int changed = sqlite3_changes(store->db);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return rcy_store_fail(store, "changing assignments", err);
    if (!changed) {
      /* INSERT OR IGNORE: a reader listed twice is no error; an unknown or non-reader account is. */
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
