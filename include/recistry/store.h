/* Store: the archive on disk — DIR/recistry.db (SQLite, WAL) and DIR/storage/ — and everything indexed
 * in it: instances and studies (ingest), reads and measurements, users and sessions, the audit log.
 *
 * One rcy_store is one database connection: open one per thread. Queries stay portable SQL so that a
 * PostgreSQL backend can be added behind this interface. */
#ifndef RECISTRY_STORE_H
#define RECISTRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_store rcy_store;

/* ---- Section: archive lifecycle (src/store/store.c) ---- */

/* Creates DIR (if absent), DIR/storage/ and DIR/recistry.db with the current schema.
 * Fails with RCY_EEXIST if DIR already holds an archive (nothing is touched). */
int rcy_store_init(const char *archive_dir, rcy_error *err);
/* Opens an existing archive, applying any pending schema migrations. */
int rcy_store_open(rcy_store **out, const char *archive_dir, rcy_error *err);
void rcy_store_close(rcy_store *store);
const char *rcy_store_archive_dir(const rcy_store *store);
/* DIR/storage: where instance files live (paths in the index are relative to it). */
const char *rcy_store_storage_dir(const rcy_store *store);
/* Transactions (BEGIN IMMEDIATE so writers queue on the lock instead of failing on upgrade). */
int rcy_store_begin(rcy_store *store, rcy_error *err);
int rcy_store_commit(rcy_store *store, rcy_error *err);
void rcy_store_rollback(rcy_store *store);


/* ---- Section: instances and studies index (src/store/archive*.c; used by ingest/) ---- */


/* ---- Section: reads, lesions and measurements (src/store/reads*.c; used by readers/) ---- */

/* A read is one JSON document per (subject, role, reader): its lesions with per-timepoint observations and
 * the timepoints' sign-offs (format in docs/api.md). role is "site", "central" or "adjudicator". */

/* *doc_out (malloc'ed, caller frees) is the stored document; RCY_ENOTFOUND when there is none yet. */
int rcy_store_read_get(char **doc_out, rcy_store *store, const char *subject_id, const char *role,
                       const char *reader, rcy_error *err);

typedef struct rcy_audit_entry rcy_audit_entry;

/* Replaces (or creates) the document and appends `audit` to the audit log in one transaction (the caller's,
 * when one is open: rcy_store_begin before reading for a read-modify-write), so that no change exists
 * without its audit row. audit may be NULL only for imports that log their own row. */
int rcy_store_read_put(rcy_store *store, const char *subject_id, const char *role, const char *reader,
                       const char *doc, const rcy_audit_entry *audit, rcy_error *err);

/* Calls fn for every stored read matching role (and reader when non-NULL), ordered by subject, reader.
 * A non-zero return from fn stops the walk and is returned. */
typedef int (*rcy_store_read_fn)(void *ctx, const char *subject_id, const char *role, const char *reader,
                                 const char *doc);
int rcy_store_read_each(rcy_store *store, const char *role, const char *reader, rcy_store_read_fn fn,
                        void *ctx, rcy_error *err);

/* What the workstation reads from the archive index (written by ingest; see schema_archive.c). */
typedef struct rcy_store_study {
  const char *study_uid, *site_id, *subject_id, *timepoint, *modality, *study_date, *status;
} rcy_store_study;
/* Every study that has a timepoint, of site_id (all when NULL), ordered by subject then date. */
typedef int (*rcy_store_study_fn)(void *ctx, const rcy_store_study *study);
int rcy_store_studies_each(rcy_store *store, const char *site_id, rcy_store_study_fn fn, void *ctx,
                           rcy_error *err);
/* RCY_ENOTFOUND if absent. Strings in *out live until the next call on this store with the same out. */
typedef struct rcy_store_qc_finding {
  const char *code, *severity, *message, *series_uid;
} rcy_store_qc_finding;
typedef int (*rcy_store_qc_fn)(void *ctx, const rcy_store_qc_finding *finding);
int rcy_store_qc_each(rcy_store *store, const char *study_uid, rcy_store_qc_fn fn, void *ctx, rcy_error *err);

typedef struct rcy_store_series {
  const char *series_uid, *study_uid, *modality, *description;
  int series_number;
  double slice_thickness_mm; /* of its instances (0 if unknown) */
  int n_instances;
} rcy_store_series;
typedef int (*rcy_store_series_fn)(void *ctx, const rcy_store_series *series);
int rcy_store_series_each(rcy_store *store, const char *study_uid, rcy_store_series_fn fn, void *ctx,
                          rcy_error *err);

typedef struct rcy_store_instance {
  const char *sop_instance_uid, *series_uid, *study_uid, *subject_id, *site_id, *timepoint;
  const char *path; /* relative to the storage dir */
  int instance_number, rows, columns;
  double pixel_spacing_row_mm, pixel_spacing_col_mm, slice_thickness_mm; /* 0 when unknown */
  double position_mm[3];
  double window_center, window_width; /* 0 width when absent */
} rcy_store_instance;
typedef int (*rcy_store_instance_fn)(void *ctx, const rcy_store_instance *inst);
/* Instances of a series ordered along increasing z (then instance number). */
int rcy_store_instances_each(rcy_store *store, const char *series_uid, rcy_store_instance_fn fn, void *ctx,
                             rcy_error *err);
/* One instance by SOP Instance UID (fn called once), RCY_ENOTFOUND when absent. */
int rcy_store_instance_find(rcy_store *store, const char *sop_instance_uid, rcy_store_instance_fn fn,
                            void *ctx, rcy_error *err);

/* Indexes a DICOM file already placed under the storage dir (the row a C-STORE would have written).
 * For archives assembled from files on disk (demo, tests) before/without the ingest daemon. */
typedef struct rcy_store_index_row {
  const char *study_uid, *series_uid, *sop_instance_uid, *sop_class_uid, *transfer_syntax_uid;
  const char *site_id, *subject_id, *timepoint, *modality, *study_date, *series_description;
  const char *frame_of_reference_uid, *orientation;
  const char *path; /* relative to the storage dir */
  const char *sha256_hex;
  long long size_bytes;
  int series_number, instance_number, rows, columns;
  double pixel_spacing_row_mm, pixel_spacing_col_mm, slice_thickness_mm, position_mm[3];
  double window_center, window_width;
} rcy_store_index_row;
int rcy_store_index_instance(rcy_store *store, const rcy_store_index_row *row, rcy_error *err);


/* ---- Section: users and sessions (src/store/users*.c; used by readers/) ---- */

#define RCY_NAME_MAX 64
typedef struct rcy_user {
  char name[RCY_NAME_MAX + 1];
  char role[16];                 /* central | adjudicator | site | qa | admin */
  char site_id[RCY_NAME_MAX + 1]; /* empty unless role is site */
} rcy_user;

/* Names: 1..64 of [A-Za-z0-9._-]. A site user needs site_id. Password (>= 8 bytes) hashed with argon2id.
 * RCY_EEXIST if the name is taken. */
int rcy_store_user_add(rcy_store *store, const char *name, const char *role, const char *site_id,
                       const char *password, rcy_error *err);
/* 0 and *out filled when the password matches; RCY_EDENIED otherwise (unknown user or wrong password alike). */
int rcy_store_user_check(rcy_user *out, rcy_store *store, const char *name, const char *password,
                         rcy_error *err);

#define RCY_TOKEN_HEX 64 /* 256-bit tokens as lowercase hex */
/* New session for `name` valid ttl_s seconds: token_out is the secret for the cookie (only its SHA-256 is
 * stored), csrf_out the per-session CSRF token. Buffers of RCY_TOKEN_HEX + 1. */
int rcy_store_session_create(char *token_out, char *csrf_out, rcy_store *store, const char *name, int ttl_s,
                             rcy_error *err);
/* Looks a live session up by its token: RCY_ENOTFOUND when unknown or expired. */
int rcy_store_session_find(rcy_user *user_out, char *csrf_out, rcy_store *store, const char *token,
                           rcy_error *err);
int rcy_store_session_delete(rcy_store *store, const char *token, rcy_error *err);


/* ---- Section: audit log, append-only and hash-chained (src/store/audit*.c) ---- */

/* One change. Every field but actor and action may be NULL. */
struct rcy_audit_entry {
  const char *actor;  /* user name */
  const char *action; /* lesion.add, measurement.set, timepoint.sign, ... */
  const char *subject_id, *read_role, *reader, *timepoint, *lesion_id;
  const char *before_json, *after_json, *reason;
};
/* Appends a row: hash = SHA-256(previous row's hash || canonical form of this row). Call inside a
 * transaction (rcy_store_read_put does). The table refuses UPDATE and DELETE (triggers). */
int rcy_store_audit_append(rcy_store *store, const rcy_audit_entry *entry, rcy_error *err);
/* Recomputes the chain: 0 with *n_rows when intact; RCY_ECONFLICT with *first_bad_seq set and err naming
 * the row when a row was altered, removed or inserted. */
int rcy_store_audit_verify(long long *n_rows, long long *first_bad_seq, rcy_store *store, rcy_error *err);


#ifdef __cplusplus
}
#endif
#endif
