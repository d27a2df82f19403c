/* The subject registry rows: one per subject, replaced as a whole together with its audit row. The store
 * does not judge the values (src/reads/registry.c does); the schema still refuses an unknown indication and a
 * row with neither a death date nor a last contact date. */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static void copy_col(char *dst, size_t size, rcy_db_stmt *st, int col) {
  const char *v = rcy_db_column_text(st, col);
  snprintf(dst, size, "%s", v ? v : "");
}

static void bind_date(rcy_db_stmt *st, int i, const char *date) {
  if (date && *date) rcy_db_bind_text(st, i, date);
  else rcy_db_bind_null(st, i);
}

#define REGISTRY_COLUMNS                                                                                      \
  "subject_id, site_id, treatment_start, indication, liver_only, death_date, last_contact_date, "            \
  "secondary_resection_date, updated_at, updated_by"

static void row_to_subject(rcy_registry_subject *out, rcy_db_stmt *st) {
  memset(out, 0, sizeof *out);
  copy_col(out->subject_id, sizeof out->subject_id, st, 0);
  copy_col(out->site_id, sizeof out->site_id, st, 1);
  copy_col(out->treatment_start, sizeof out->treatment_start, st, 2);
  copy_col(out->indication, sizeof out->indication, st, 3);
  out->liver_only = rcy_db_column_is_null(st, 4) ? -1 : rcy_db_column_int(st, 4);
  copy_col(out->death_date, sizeof out->death_date, st, 5);
  copy_col(out->last_contact_date, sizeof out->last_contact_date, st, 6);
  copy_col(out->secondary_resection_date, sizeof out->secondary_resection_date, st, 7);
  copy_col(out->updated_at, sizeof out->updated_at, st, 8);
  copy_col(out->updated_by, sizeof out->updated_by, st, 9);
}

int rcy_store_registry_get(rcy_registry_subject *out, rcy_store *store, const char *subject_id, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT " REGISTRY_COLUMNS " FROM registry_subjects WHERE subject_id = ?"))
    return rcy_store_fail(store, "reading the registry", err);
  rcy_db_bind_text(st, 1, subject_id);
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) row_to_subject(out, st);
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return RCY_OK;
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "reading the registry", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "the registry has no data for subject %s", subject_id);
}

int rcy_store_registry_put(rcy_store *store, const rcy_registry_subject *s, const rcy_audit_entry *audit,
                           rcy_error *err) {
  if (!audit || !audit->actor) return rcy_error_set(err, RCY_EINTERNAL, "a registry change needs its audit row");
  int own_tx = !rcy_db_in_transaction(store->db);
  int rc = own_tx ? rcy_store_begin(store, err) : RCY_OK;
  if (rc) return rc;
  char now[32];
  rcy_reads_now_iso(now, sizeof now);
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO registry_subjects(" REGISTRY_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?) "
                         "ON CONFLICT(subject_id) DO UPDATE SET site_id = excluded.site_id, "
                         "treatment_start = excluded.treatment_start, indication = excluded.indication, "
                         "liver_only = excluded.liver_only, death_date = excluded.death_date, "
                         "last_contact_date = excluded.last_contact_date, "
                         "secondary_resection_date = excluded.secondary_resection_date, "
                         "updated_at = excluded.updated_at, updated_by = excluded.updated_by")) {
    rc = rcy_store_fail(store, "writing the registry", err);
    goto done;
  }
  rcy_db_bind_text(st, 1, s->subject_id);
  rcy_db_bind_text(st, 2, s->site_id);
  rcy_db_bind_text(st, 3, s->treatment_start);
  rcy_db_bind_text(st, 4, s->indication);
  if (s->liver_only >= 0) rcy_db_bind_int(st, 5, s->liver_only ? 1 : 0);
  else rcy_db_bind_null(st, 5);
  bind_date(st, 6, s->death_date);
  bind_date(st, 7, s->last_contact_date);
  bind_date(st, 8, s->secondary_resection_date);
  rcy_db_bind_text(st, 9, now);
  rcy_db_bind_text(st, 10, audit->actor);
  int step = rcy_db_step(st);
  rcy_db_finalize(st);
  if (step != RCY_DB_DONE) {
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
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT " REGISTRY_COLUMNS " FROM registry_subjects ORDER BY subject_id"))
    return rcy_store_fail(store, "reading the registry", err);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    rcy_registry_subject s;
    row_to_subject(&s, st);
    if ((rc = fn(ctx, &s))) break;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "reading the registry", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_subject_site(int *found, char site_id[RCY_NAME_MAX + 1], rcy_store *store, const char *subject_id,
                           rcy_error *err) {
  *found = 0;
  site_id[0] = '\0';
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT site_id FROM studies WHERE subject_id = ? LIMIT 1"))
    return rcy_store_fail(store, "looking a subject up", err);
  rcy_db_bind_text(st, 1, subject_id);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) {
    *found = 1;
    copy_col(site_id, RCY_NAME_MAX + 1, st, 0);
  }
  rcy_db_finalize(st);
  if (step != RCY_DB_ROW && step != RCY_DB_DONE) return rcy_store_fail(store, "looking a subject up", err);
  return RCY_OK;
}
