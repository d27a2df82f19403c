/* The subject registry rows: one per subject, replaced as a whole together with its audit row. The store
 * does not judge the values (src/reads/registry.c does); the schema still refuses an unknown indication and a
 * row with neither a death date nor a last contact date. */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col) {
  const unsigned char *v = sqlite3_column_text(st, col);
  snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static void bind_date(sqlite3_stmt *st, int i, const char *date) {
  if (date && *date) sqlite3_bind_text(st, i, date, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

#define REGISTRY_COLUMNS                                                                                      \
  "subject_id, site_id, treatment_start, indication, liver_only, death_date, last_contact_date, "            \
  "secondary_resection_date, updated_at, updated_by"

static void row_to_subject(rcy_registry_subject *out, sqlite3_stmt *st) {
  memset(out, 0, sizeof *out);
  copy_col(out->subject_id, sizeof out->subject_id, st, 0);
  copy_col(out->site_id, sizeof out->site_id, st, 1);
  copy_col(out->treatment_start, sizeof out->treatment_start, st, 2);
  copy_col(out->indication, sizeof out->indication, st, 3);
  out->liver_only = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
  copy_col(out->death_date, sizeof out->death_date, st, 5);
  copy_col(out->last_contact_date, sizeof out->last_contact_date, st, 6);
  copy_col(out->secondary_resection_date, sizeof out->secondary_resection_date, st, 7);
  copy_col(out->updated_at, sizeof out->updated_at, st, 8);
  copy_col(out->updated_by, sizeof out->updated_by, st, 9);
}

int rcy_store_registry_get(rcy_registry_subject *out, rcy_store *store, const char *subject_id, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "SELECT " REGISTRY_COLUMNS " FROM registry_subjects WHERE subject_id = ?", -1,
                         &st, NULL))
    return rcy_store_fail(store, "reading the registry", err);
  sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) row_to_subject(out, st);
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW) return RCY_OK;
  if (rc != SQLITE_DONE) return rcy_store_fail(store, "reading the registry", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "the registry has no data for subject %s", subject_id);
}

int rcy_store_registry_put(rcy_store *store, const rcy_registry_subject *s, const rcy_audit_entry *audit,
                           rcy_error *err) {
  if (!audit || !audit->actor) return rcy_error_set(err, RCY_EINTERNAL, "a registry change needs its audit row");
  int own_tx = sqlite3_get_autocommit(store->db) != 0;
  int rc = own_tx ? rcy_store_begin(store, err) : RCY_OK;
  if (rc) return rc;
  char now[32];
  rcy_reads_now_iso(now, sizeof now);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db,
                         "INSERT INTO registry_subjects(" REGISTRY_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?) "
                         "ON CONFLICT(subject_id) DO UPDATE SET site_id = excluded.site_id, "
                         "treatment_start = excluded.treatment_start, indication = excluded.indication, "
                         "liver_only = excluded.liver_only, death_date = excluded.death_date, "
                         "last_contact_date = excluded.last_contact_date, "
                         "secondary_resection_date = excluded.secondary_resection_date, "
                         "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                         -1, &st, NULL)) {
    rc = rcy_store_fail(store, "writing the registry", err);
    goto done;
  }
  sqlite3_bind_text(st, 1, s->subject_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, s->site_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, s->treatment_start, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, s->indication, -1, SQLITE_STATIC);
  if (s->liver_only >= 0) sqlite3_bind_int(st, 5, s->liver_only ? 1 : 0);
  else sqlite3_bind_null(st, 5);
  bind_date(st, 6, s->death_date);
  bind_date(st, 7, s->last_contact_date);
  bind_date(st, 8, s->secondary_resection_date);
  sqlite3_bind_text(st, 9, now, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 10, audit->actor, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) {
    rc = rcy_store_fail(store, "writing the registry", err);
    goto done;
  }
  rc = rcy_store_audit_append(store, audit, err);
done:
  if (own_tx) {
    if (!rc) rc = rcy_store_commit(store, err);
    else rcy_store_rollback(store);
  }
  return rc;
}

int rcy_store_registry_each(rcy_store *store, int (*fn)(void *ctx, const rcy_registry_subject *subject),
                            void *ctx, rcy_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "SELECT " REGISTRY_COLUMNS " FROM registry_subjects ORDER BY subject_id", -1,
                         &st, NULL))
    return rcy_store_fail(store, "reading the registry", err);
  int rc = RCY_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rcy_registry_subject s;
    row_to_subject(&s, st);
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = rcy_store_fail(store, "reading the registry", err);
  sqlite3_finalize(st);
  return rc;
}

int rcy_store_subject_site(int *found, char site_id[RCY_NAME_MAX + 1], rcy_store *store, const char *subject_id,
                           rcy_error *err) {
  *found = 0;
  site_id[0] = '\0';
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(store->db, "SELECT site_id FROM studies WHERE subject_id = ? LIMIT 1", -1, &st, NULL))
    return rcy_store_fail(store, "looking a subject up", err);
  sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    *found = 1;
    copy_col(site_id, RCY_NAME_MAX + 1, st, 0);
  }
  sqlite3_finalize(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return rcy_store_fail(store, "looking a subject up", err);
  return RCY_OK;
}
