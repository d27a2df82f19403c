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

/* Where an archive lives. archive_dir always holds the instance files (DIR/storage, DIR/quarantine, ...).
 * The index is DIR/recistry.db (SQLite, the embedded default) when database is NULL or empty, or the
 * PostgreSQL database `database` names ("postgresql://..." or "postgres://...", libpq's URI form) — the
 * scale-out choice: several ingest nodes and reader servers on one index and one shared storage folder.
 * An archive created on PostgreSQL records that in DIR/database.url (the URI without any password: libpq's
 * ~/.pgpass or PGPASSFILE holds secrets), so that a tool given only the folder finds its index. */
typedef struct rcy_store_location {
  const char *archive_dir;
  const char *database;
} rcy_store_location;

/* Creates DIR (if absent), DIR/storage/ and the index with the current schema (for PostgreSQL: the schema
 * in the existing, empty database, and DIR/database.url). Fails with RCY_EEXIST if DIR or the database
 * already holds an archive (nothing is touched). */
int rcy_store_init_at(const rcy_store_location *where, rcy_error *err);
/* Opens an existing archive, applying any pending schema migrations. A location without a database whose
 * folder records one (DIR/database.url) opens that database; a location whose database differs from the one
 * the folder records is refused (RCY_EINVAL), naming both. */
int rcy_store_open_at(rcy_store **out, const rcy_store_location *where, rcy_error *err);
/* The same for a folder alone (SQLite, or the database DIR/database.url records). */
int rcy_store_init(const char *archive_dir, rcy_error *err);
int rcy_store_open(rcy_store **out, const char *archive_dir, rcy_error *err);
/* "sqlite" or "postgresql". */
const char *rcy_store_backend(const rcy_store *store);
/* Reads [archive] path and database of an INI file (the config ingest and serve share). The strings are
 * the caller's (free both with rcy_store_location_free). */
int rcy_store_location_from_config(rcy_store_location *out, const char *config_path, rcy_error *err);
void rcy_store_location_free(rcy_store_location *where);
void rcy_store_close(rcy_store *store);
const char *rcy_store_archive_dir(const rcy_store *store);
/* DIR/storage: where instance files live (paths in the index are relative to it). */
const char *rcy_store_storage_dir(const rcy_store *store);
/* Transactions (BEGIN IMMEDIATE so writers queue on the lock instead of failing on upgrade). */
int rcy_store_begin(rcy_store *store, rcy_error *err);
int rcy_store_commit(rcy_store *store, rcy_error *err);
void rcy_store_rollback(rcy_store *store);


/* ---- Section: instances and studies index (src/store/archive*.c; used by ingest/) ---- */

/* ISO 8601 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ" of now (or of t seconds since the epoch when t >= 0). */
void rcy_archive_timestamp(char out[21], long long t);

/* One instance to index, with the study and series it belongs to (values already checked by ingest). */
typedef struct rcy_archive_instance {
  const char *site_id, *subject_id, *timepoint, *study_date; /* study_date ISO or NULL */
  const char *study_uid, *series_uid, *sop_instance_uid, *sop_class_uid, *transfer_syntax_uid;
  const char *modality, *series_description, *frame_of_reference_uid;
  int has_series_number, series_number, has_instance_number, instance_number;
  int has_rows, rows, columns;
  int has_pixel_spacing;
  double pixel_spacing_row_mm, pixel_spacing_col_mm;
  int has_slice_thickness;
  double slice_thickness_mm;
  int has_position;
  double position_mm[3];
  const char *orientation;      /* 6 values backslash-separated, or NULL */
  int has_window;
  double window_center, window_width;
  const char *path;             /* relative to DIR/storage */
  uint64_t size_bytes;
  const char *sha256;           /* lowercase hex */
  const char *received_at;
} rcy_archive_instance;

/* For the ingest writer's own connection: commits are atomic and survive a crash of the process, but are
 * flushed to disk with the next checkpoint rather than at each commit (SQLite WAL, synchronous=NORMAL).
 * Safe because the instance file is durable (fsync'ed under its final name) before its row is written, and
 * the daemon re-indexes at start any file whose row a power loss took away: the index is rebuildable from
 * storage, the files are not. Saves one disk flush per instance. */
int rcy_archive_writer_sync(rcy_store *store, rcy_error *err);
/* For the same writer: its commits stop checkpointing the index's log themselves (SQLite's WAL: a commit
 * crossing the threshold would flush and copy it on that instance's critical path); the caller runs
 * rcy_archive_checkpoint from another connection instead. *deferred is 1 when the engine has such
 * checkpoints (SQLite), 0 when there is nothing to do (PostgreSQL's server checkpoints itself). */
int rcy_archive_writer_defer_checkpoints(rcy_store *store, int *deferred, rcy_error *err);
/* Copies the log's committed pages into the index and flushes it, without blocking the writer. */
int rcy_archive_checkpoint(rcy_store *store, rcy_error *err);

/* What the index holds for a SOP Instance UID: *found 0/1, and its relative path, size and SHA-256. */
int rcy_archive_find_instance(int *found, char *path, size_t path_len, uint64_t *size_bytes, char sha256[65],
                              rcy_store *store, const char *sop_instance_uid, rcy_error *err);
/* The site and subject a study is indexed under (*found 0 when the study is new). */
int rcy_archive_find_study(int *found, char site_id[65], char subject_id[65], rcy_store *store,
                           const char *study_uid, rcy_error *err);
/* The study a series is indexed under (*found 0 when the series is new). */
int rcy_archive_find_series(int *found, char *study_uid, size_t study_uid_len, rcy_store *store,
                            const char *series_uid, rcy_error *err);
/* Inserts the instance (and its study and series when new); the study goes back to 'receiving' with
 * last_received_at = received_at. Call inside a transaction. Every UID level has one owner and one parent:
 * RCY_EDENIED when the study is indexed under another site or subject, or the series under another study
 * (nothing is written then); an error when the SOP Instance UID is there. */
int rcy_archive_add_instance(rcy_store *store, const rcy_archive_instance *in, rcy_error *err);

/* An instance kept aside by the anonymisation check: not indexed as a study. subject_id may be NULL. */
int rcy_archive_add_quarantine(rcy_store *store, const char *sop_instance_uid, const char *study_uid,
                               const char *site_id, const char *subject_id, const char *path, uint64_t size_bytes,
                               const char *sha256, const char *reason, const char *received_at, rcy_error *err);

/* Audit of associations: a row when one is accepted or rejected, completed with counts when it ends. */
typedef struct rcy_archive_association {
  const char *site_id;          /* NULL when the calling AE matched no site */
  const char *calling_ae, *called_ae, *peer;
  int tls;
  const char *outcome;          /* accepted | rejected */
  const char *reason;           /* why rejected, NULL otherwise */
  const char *started_at;
} rcy_archive_association;
int rcy_archive_association_begin(int64_t *id, rcy_store *store, const rcy_archive_association *a,
                                  rcy_error *err);
int rcy_archive_association_end(rcy_store *store, int64_t id, const char *ended_at, int aborted, int n_stored,
                                int n_duplicates, int n_refused, int n_failed, const char *last_refusal,
                                rcy_error *err);

/* Polls of the sites' nodes (src/store/archive_poll.c; rules in src/ingest/poll.c). */
typedef struct rcy_archive_poll {
  const char *site_id;
  const char *kind;             /* daemon | manual */
  const char *started_at, *finished_at; /* ISO UTC */
  const char *outcome;          /* ok | failed | partial */
  int n_matches, n_skipped, n_retrieved, n_instances, n_refused;
  const char *error;            /* NULL when ok; never a query value */
  const char *next_attempt_at;  /* NULL for a manual poll */
} rcy_archive_poll;
/* Per site: where the next poll starts from. */
typedef struct rcy_archive_poll_state {
  char last_success_at[21];     /* "" when never */
  char last_outcome[16];
  char last_finished_at[21];
  char last_error[256];
  char next_attempt_at[21];
  int failures_in_row;
} rcy_archive_poll_state;
/* Records a poll (a row of polls) and, when update_state, the site's state: last_success_at = started_at
 * when the outcome is ok, failures_in_row reset or incremented. Call inside a transaction (the caller adds
 * the audit row in the same one). */
int rcy_archive_poll_record(rcy_store *store, const rcy_archive_poll *poll, int update_state, rcy_error *err);
/* The state of site_id (*found 0 and a zeroed state when the site was never polled). */
int rcy_archive_poll_state_get(rcy_archive_poll_state *out, int *found, rcy_store *store, const char *site_id,
                               rcy_error *err);
/* What the index holds of a study: *found, the number of instances indexed and its status
 * (receiving | complete | qc-warning), its site. */
int rcy_archive_study_indexed(int *found, int *n_instances, char status[16], char site_id[65], rcy_store *store,
                              const char *study_uid, rcy_error *err);

/* Studies whose status is 'receiving' and whose last instance arrived at or before `before` (ISO UTC). */
int rcy_archive_stable_studies(char ***uids, size_t *n, rcy_store *store, const char *before, rcy_error *err);
void rcy_archive_strings_free(char **strings, size_t n);

/* Per-instance geometry of a study, for the QC checks. */
typedef struct rcy_archive_slice {
  char series_uid[65];
  char modality[17];
  int has_position, has_orientation, has_slice_thickness, has_pixel_spacing, has_instance_number;
  double position_mm[3], orientation[6], slice_thickness_mm, pixel_spacing_mm[2];
  int instance_number;
} rcy_archive_slice;
int rcy_archive_study_slices(rcy_archive_slice **slices, size_t *n, rcy_store *store, const char *study_uid,
                             rcy_error *err);
void rcy_archive_slices_free(rcy_archive_slice *slices);

typedef struct rcy_archive_finding {
  const char *series_uid; /* NULL for a study-level finding */
  const char *code;       /* slice_gap, spacing_inconsistent, thick_slices, orientation_mixed, ... */
  const char *severity;   /* info | warning | error */
  const char *message;
} rcy_archive_finding;
/* Records the QC outcome (replacing earlier findings) unless an instance arrived after `last_received_at`
 * (then *applied = 0 and nothing changes: the study is still receiving). status: complete | qc-warning. */
int rcy_archive_set_study_qc(int *applied, rcy_store *store, const char *study_uid, const char *last_received_at,
                             const char *status, const rcy_archive_finding *findings, size_t n_findings,
                             const char *checked_at, rcy_error *err);
int rcy_archive_study_last_received(char out[32], rcy_store *store, const char *study_uid, rcy_error *err);

/* `recistry studies`: every study (and every group of quarantined instances by study) with counts and findings. */
typedef struct rcy_archive_study {
  char *study_uid, *site_id, *subject_id, *timepoint, *modality, *study_date, *status, *first_received_at,
      *last_received_at;
  int n_series, n_instances;
  rcy_archive_finding *findings; /* strings owned by the list */
  size_t n_findings;
} rcy_archive_study;
int rcy_archive_list_studies(rcy_archive_study **studies, size_t *n, rcy_store *store, rcy_error *err);
void rcy_archive_studies_free(rcy_archive_study *studies, size_t n);

/* Calls fn for every indexed instance (relative path, size, SHA-256); fn returns non-zero to stop. */
int rcy_archive_each_instance(rcy_store *store,
                              int (*fn)(void *ctx, const char *sop_instance_uid, const char *path,
                                        uint64_t size_bytes, const char *sha256),
                              void *ctx, rcy_error *err);
/* Calls fn for every indexed instance with the series, study, site and subject the index places it under
 * (NULL for a missing series or study row); fn returns non-zero to stop. */
int rcy_archive_each_placement(rcy_store *store,
                               int (*fn)(void *ctx, const char *sop_instance_uid, const char *path,
                                         const char *series_uid, const char *study_uid, const char *site_id,
                                         const char *subject_id),
                               void *ctx, rcy_error *err);
/* Query/retrieve (src/store/archive_qr.c; used by ingest/qr.c). One series with its study; strings live
 * until fn returns. */
typedef struct rcy_archive_qr_series {
  const char *study_uid, *site_id, *subject_id, *timepoint, *study_date; /* study_date ISO or NULL */
  const char *series_uid, *modality, *description;
  int has_series_number, series_number;
  int n_instances;
} rcy_archive_qr_series;
/* Every series (of study_uid and/or series_uid when not NULL), ordered by study then series number. fn returns
 * non-zero to stop; that value is returned. */
int rcy_archive_qr_series_each(rcy_store *store, const char *study_uid, const char *series_uid,
                               int (*fn)(void *ctx, const rcy_archive_qr_series *s), void *ctx, rcy_error *err);
typedef struct rcy_archive_qr_instance {
  const char *sop_instance_uid, *sop_class_uid, *transfer_syntax_uid, *path; /* path relative to DIR/storage */
  int has_instance_number, instance_number, has_rows, rows, columns;
} rcy_archive_qr_instance;
/* The instances of one series, by instance number. fn returns non-zero to stop; that value is returned. */
int rcy_archive_qr_instances_each(rcy_store *store, const char *series_uid,
                                  int (*fn)(void *ctx, const rcy_archive_qr_instance *i), void *ctx, rcy_error *err);
/* The sha256 an instance is indexed with when its hash is not known yet. The ingest daemon answers a
 * C-STORE once file and row are durable and hashes the stored file afterwards, off the critical path (in
 * the background, within milliseconds while it runs; at its next start for rows a crash left pending). A
 * pending hash means: the content is not yet fingerprinted. Readers needing the hash must not compare
 * with it: duplicate detection hashes the stored file itself; `recistry verify` checks the size and
 * counts the row as pending, not as a mismatch. */
#define RCY_ARCHIVE_SHA256_PENDING "pending"
/* Replaces a pending sha256 by the real one (a known hash is never replaced). */
int rcy_archive_set_sha256(rcy_store *store, const char *sop_instance_uid, const char *sha256, rcy_error *err);
/* Calls fn for every instance whose sha256 is pending (path relative to storage/); fn returns non-zero to
 * stop. */
int rcy_archive_each_pending_sha256(rcy_store *store,
                                    int (*fn)(void *ctx, const char *sop_instance_uid, const char *path), void *ctx,
                                    rcy_error *err);
/* Deletes an instance's row if its sha256 is still pending (*removed 1), with its series and study when
 * that leaves them empty; a row no longer pending is left alone (*removed 0). Call inside a transaction. For
 * the ingest daemon's rows whose file did not become durable (a directory fsync that failed after the
 * commit, or a file missing at start-up recovery). */
int rcy_archive_remove_pending(int *removed, rcy_store *store, const char *sop_instance_uid, rcy_error *err);
/* 1 when some instance row has this relative path. */
int rcy_archive_has_path(int *found, rcy_store *store, const char *path, rcy_error *err);

/* Durable files (src/store/files*.c). */
/* Creates the directories of rel (relative to base; the last component is a file name) as needed, fsyncing
 * the parent of every directory it creates so the new entries survive a crash. */
int rcy_files_make_parents(const char *base, const char *rel, rcy_error *err);
/* fdatasync(fd) of the file at tmp_path, rename to final_path, fsync of final_path's directory: afterwards
 * the file is durable under its final name. RCY_ENOSPC / RCY_EIO on failure (tmp_path left in place). */
int rcy_files_commit(int fd, const char *tmp_path, const char *final_path, rcy_error *err);
/* fsync of the directory holding path (or of path itself when it is a directory). */
int rcy_files_sync_dir_of(const char *path, rcy_error *err);
/* Size and SHA-256 (lowercase hex) of a file. */
int rcy_files_sha256(char hex[65], uint64_t *size_bytes, const char *path, rcy_error *err);
/* The same, then drops the file's pages from the page cache (advisory: the file must be durable already, so
 * that its pages are clean and only dropped, never written). For a writer that will not read the file
 * again soon: the next file it writes reuses those pages (see docs/ingest.md, "fresh pages"). */
int rcy_files_sha256_uncache(char hex[65], uint64_t *size_bytes, const char *path, rcy_error *err);
/* Walks every regular file below dir (recursively; entries starting with '.' skipped), calling fn with its
 * path relative to dir; fn returns non-zero to stop. */
int rcy_files_walk(const char *dir, int (*fn)(void *ctx, const char *rel), void *ctx, rcy_error *err);


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
/* The studies of one subject with a timepoint (quarantined ones left out), ordered by date then timepoint. */
int rcy_store_subject_studies_each(rcy_store *store, const char *subject_id, rcy_store_study_fn fn, void *ctx,
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
  int has_orientation;               /* Image Orientation (Patient) known */
  double orientation[6];             /* row direction cosines, then column direction cosines */
} rcy_store_instance;
typedef int (*rcy_store_instance_fn)(void *ctx, const rcy_store_instance *inst);
/* Instances of a series ordered along increasing z (then instance number). */
int rcy_store_instances_each(rcy_store *store, const char *series_uid, rcy_store_instance_fn fn, void *ctx,
                             rcy_error *err);
/* One instance by SOP Instance UID (fn called once), RCY_ENOTFOUND when absent. */
int rcy_store_instance_find(rcy_store *store, const char *sop_instance_uid, rcy_store_instance_fn fn,
                            void *ctx, rcy_error *err);



/* ---- Section: DICOMweb queries (src/store/archive_dicomweb.c; used by src/dicomweb/) ---- */

typedef enum { RCY_QIDO_STUDY, RCY_QIDO_SERIES, RCY_QIDO_INSTANCE } rcy_qido_level;

/* What the index can match exactly; every field is optional (NULL / has_ 0) and given ones are ANDed.
 * Wildcards and other matching the index cannot do are the caller's (src/dicomweb/qido.c). */
typedef struct rcy_store_qido_filter {
  const char *site_id;                            /* only this site's studies */
  const char *study_uid, *series_uid, *sop_instance_uid, *sop_class_uid;
  const char *subject_id;                         /* Clinical Trial Subject ID */
  const char *modality;                           /* study level: some series of it; else the series' */
  const char *date_from, *date_to;                /* study_date within, ISO YYYY-MM-DD, inclusive */
  int has_series_number, series_number, has_instance_number, instance_number;
} rcy_store_qido_filter;

/* One matching study, series or instance with its parents (fields below its level are NULL / 0). Strings
 * live until the callback returns. */
typedef struct rcy_store_qido_row {
  const char *study_uid, *site_id, *subject_id, *timepoint, *study_date;
  int n_study_series, n_study_instances;
  const char *series_uid, *modality, *series_description;
  int has_series_number, series_number, n_series_instances;
  const char *sop_instance_uid, *sop_class_uid, *transfer_syntax_uid, *path; /* path relative to storage */
  int has_instance_number, instance_number, rows, columns;
} rcy_store_qido_row;
typedef int (*rcy_store_qido_fn)(void *ctx, const rcy_store_qido_row *row);
/* Every row of `level` matching the filter, ordered by subject, date and UID (then series number, instance
 * number). A non-zero return from fn stops the walk and is returned. */
int rcy_store_qido(rcy_store *store, rcy_qido_level level, const rcy_store_qido_filter *filter,
                   rcy_store_qido_fn fn, void *ctx, rcy_error *err);
/* The distinct modalities of a study's series, in alphabetical order. */
int rcy_store_study_modalities(rcy_store *store, const char *study_uid, int (*fn)(void *ctx, const char *modality),
                               void *ctx, rcy_error *err);

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
/* The role of an account (*role malloc'ed): RCY_ENOTFOUND for no such account. */
int rcy_store_user_role(char **role, rcy_store *store, const char *name);
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
/* Deletes every expired session (login, logout and a refused expired token call it). */
int rcy_store_sessions_purge(rcy_store *store, rcy_error *err);

/* Login throttling (src/store/login_guard.c), durable and per account name and per peer address:
 *   account: the 5th consecutive failure locks the name for 5 min, each further one doubles the lock (10, 20,
 *            40, then 60 min at most); a successful login or 24 h without a failure resets it. Counted for
 *            every well-formed name, existing or not, so a lock does not tell whether an account exists.
 *   peer:    50 failures, each within 15 min of the previous, lock the address for 15 min (spraying many
 *            names from one address); 15 min without a failure resets it.
 * rcy_store_login_attempt is called before the password is checked: it refuses a locked name or peer with
 * RCY_EDENIED and *retry_after_s (seconds until the later lock ends), else counts the attempt as a failure
 * in advance (so parallel attempts cannot overrun the limit) and returns 0; rcy_store_login_succeeded then
 * takes it back. */
#define RCY_LOGIN_ACCOUNT_MAX_FAILURES 5
#define RCY_LOGIN_PEER_MAX_FAILURES 50
int rcy_store_login_attempt(int *retry_after_s, rcy_store *store, const char *name, const char *peer,
                            rcy_error *err);
int rcy_store_login_succeeded(rcy_store *store, const char *name, const char *peer, rcy_error *err);

/* The login of a request that carries its password (HTTP Basic; src/store/login_password.c): the throttling
 * above, the password, and the success's bookkeeping. A credential verified once is remembered in `cache`
 * (memory only, keyed hashes) for its lifetime, so that a tool sending it with every request pays Argon2id once,
 * not per request; a hit still reads the account afresh, is refused while the name or peer is locked, and stops
 * matching when the account's password changes. RCY_EDENIED: wrong name or password, or locked
 * (*retry_after_s > 0). *from_cache (may be NULL) tells whether Argon2id was skipped. cache may be NULL. */
typedef struct rcy_credential_cache rcy_credential_cache;
#define RCY_CREDENTIAL_CACHE_TTL_S 300
int rcy_credential_cache_new(rcy_credential_cache **out, int ttl_s, rcy_error *err);
void rcy_credential_cache_free(rcy_credential_cache *cache);
int rcy_store_login_password(rcy_user *out, int *retry_after_s, int *from_cache, rcy_store *store,
                             rcy_credential_cache *cache, const char *name, const char *password, const char *peer,
                             rcy_error *err);

/* Key images (src/store/key_images.c): which read a key image was rendered for. Add it in the transaction
 * that saves the read naming it. */
typedef struct rcy_store_read_key {
  char subject_id[RCY_NAME_MAX + 1];
  char role[16];
  char reader[RCY_NAME_MAX + 1];
} rcy_store_read_key;
int rcy_store_key_image_add(rcy_store *store, const char *id, const char *subject_id, const char *role,
                            const char *reader, rcy_error *err);
/* RCY_ENOTFOUND when no read names the key image. */
int rcy_store_key_image_owner(rcy_store_read_key *out, rcy_store *store, const char *id, rcy_error *err);
/* Stored segmentations (DICOM SEG under ARCHIVE/segmentations, src/segment/seg_store.c) and the read each
 * belongs to, by the SEG's SOP Instance UID: the same rule as key images. */
int rcy_store_segmentation_add(rcy_store *store, const char *sop_instance_uid, const char *subject_id,
                               const char *role, const char *reader, rcy_error *err);
/* Every stored segmentation of a subject (ordered by SOP Instance UID): the dose run takes the central
 * read's tumour masks from them. A non-zero return from fn stops the walk and is returned. */
typedef int (*rcy_store_segmentation_fn)(void *ctx, const char *sop_instance_uid, const char *role,
                                         const char *reader);
int rcy_store_segmentations_each(rcy_store *store, const char *subject_id, rcy_store_segmentation_fn fn, void *ctx,
                                 rcy_error *err);
/* RCY_ENOTFOUND when no read names the segmentation. */
int rcy_store_segmentation_owner(rcy_store_read_key *out, rcy_store *store, const char *sop_instance_uid,
                                 rcy_error *err);


/* ---- Section: reader assignments (src/store/assignments.c) ---- */

typedef struct rcy_store_assignment {
  const char *subject_id, *reader, *assigned_by, *assigned_at;
  int position; /* 1.. in the order the admin listed the subject's readers (0: assigned before positions) */
} rcy_store_assignment;
typedef int (*rcy_store_assignment_fn)(void *ctx, const rcy_store_assignment *a);
/* Assignments ordered by subject, position, reader; only `reader`'s when non-NULL. */
int rcy_store_assignments_each(rcy_store *store, const char *reader, rcy_store_assignment_fn fn, void *ctx,
                               rcy_error *err);
/* One subject's assignments, ordered by position then reader. */
int rcy_store_subject_assignments_each(rcy_store *store, const char *subject_id, rcy_store_assignment_fn fn,
                                       void *ctx, rcy_error *err);
/* Replaces the readers of one subject (n = 0 removes them all) and appends `audit`, in the caller's
 * transaction. RCY_ENOTFOUND when a reader is no central or adjudicator account. */
int rcy_store_assignments_set(rcy_store *store, const char *subject_id, const char *const *readers, size_t n,
                              const char *assigned_by, const rcy_audit_entry *audit, rcy_error *err);

/* ---- Section: central review (src/store/review.c; rules in src/reads/review.c) ---- */

/* Archive-wide settings (table reads_info). get: *value malloc'ed, RCY_ENOTFOUND when never set. set: in the
 * caller's transaction (add the audit row there). */
int rcy_store_setting_get(char **value, rcy_store *store, const char *key, rcy_error *err);
int rcy_store_setting_set(rcy_store *store, const char *key, const char *value, rcy_error *err);
/* The reads of one subject and role, in the order they were first saved. */
int rcy_store_subject_reads_each(rcy_store *store, const char *subject_id, const char *role, rcy_store_read_fn fn,
                                 void *ctx, rcy_error *err);
/* Lowercase hex SHA-256 of a NUL-terminated text (a read document's identity). */
void rcy_store_sha256_text(char out[65], const char *text);

/* One adjudicator's signed decision on a subject (table adjudications, append-only). */
typedef struct rcy_store_adjudication {
  long long seq; /* set by the store */
  const char *subject_id;
  const char *outcome;                /* r1 | r2 | own */
  const char *read_role, *read_reader; /* the read that stands */
  const char *triggers;               /* JSON array of reasons */
  const char *reason, *adjudicator, *signed_at, *meaning;
  const char *r1_reader, *r1_sha256, *r2_reader, *r2_sha256; /* the two reads as decided on */
} rcy_store_adjudication;
typedef int (*rcy_store_adjudication_fn)(void *ctx, const rcy_store_adjudication *a);
/* Appends a decision and `audit` in one transaction (the caller's when one is open). */
int rcy_store_adjudication_add(rcy_store *store, const rcy_store_adjudication *a, const rcy_audit_entry *audit,
                               rcy_error *err);
/* The latest decision of subject_id (of every subject when NULL, ordered by subject). */
int rcy_store_adjudications_latest(rcy_store *store, const char *subject_id, rcy_store_adjudication_fn fn,
                                   void *ctx, rcy_error *err);

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
 * the row when a row was altered, removed or inserted. Then compares every stored read with the log: the
 * newest audit row of a read carries the SHA-256 of its document after the change (rcy_store_read_put
 * records it), so a read edited, or inserted, behind the API gives RCY_ECONFLICT naming the read
 * (*first_bad_seq 0). Reads whose newest row predates schema step 3 of "reads" carry no hash and are
 * not compared. */
int rcy_store_audit_verify(long long *n_rows, long long *first_bad_seq, rcy_store *store, rcy_error *err);

/* Reading the log back (src/store/audit_query.c): the audit viewer of QA and admin, `recistry audit list`.
 * Every criterion is optional (NULL or 0); given ones are combined with AND. Who may read the log, and the
 * checks of user-given values, are the reads layer's (rcy_reads_audit_*); the store refuses only what it
 * cannot query (RCY_EINVAL). */
#define RCY_AUDIT_LIMIT_MAX 500
typedef struct rcy_audit_filter {
  const char *subject_id; /* the row's subject */
  const char *reader;     /* the row's actor (who made the change) OR the reader of the read it changed */
  const char *action;     /* exact ("timepoint.sign"), or a prefix when it ends in '.' ("timepoint.") */
  const char *at_from;    /* at >= at_from (ISO UTC text, e.g. "2026-01-05"), or NULL */
  const char *at_before;  /* at < at_before (ISO UTC text), or NULL */
  long long before_seq;   /* keyset pagination: only rows with seq < before_seq (0: from the newest) */
  int limit;              /* 1..RCY_AUDIT_LIMIT_MAX rows per page */
} rcy_audit_filter;

/* One row as stored; NULL for absent fields. Strings live until the callback returns. */
typedef struct rcy_audit_row {
  long long seq;
  const char *at, *actor, *action, *subject_id, *read_role, *reader, *timepoint, *lesion_id;
  const char *before_json, *after_json, *reason;
} rcy_audit_row;
typedef int (*rcy_store_audit_fn)(void *ctx, const rcy_audit_row *row);

/* Calls fn for the rows matching filter, newest first (seq descending), at most filter->limit of them.
 * *next_before is the seq to pass as before_seq for the next (older) page, or 0 when there is none.
 * A non-zero return from fn stops the walk and is returned. */
int rcy_store_audit_query(long long *next_before, rcy_store *store, const rcy_audit_filter *filter,
                          rcy_store_audit_fn fn, void *ctx, rcy_error *err);
/* Calls fn(ctx, action) for each distinct action among the rows matching filter's subject, reader and dates
 * (its action, before_seq and limit are ignored: the choices of an action menu), in alphabetical order. */
int rcy_store_audit_actions(rcy_store *store, const rcy_audit_filter *filter,
                            int (*fn)(void *ctx, const char *action), void *ctx, rcy_error *err);


/* ---- Section: subject registry data (src/store/registry.c; used by reads/) ---- */

/* What the registry knows of one subject (../shared/spec/registry-endpoints.md). Dates are ISO YYYY-MM-DD,
 * "" when not given; values are checked by the reads layer (src/reads/registry.c) before they get here. */
typedef struct rcy_registry_subject {
  char subject_id[RCY_NAME_MAX + 1], site_id[RCY_NAME_MAX + 1];
  char treatment_start[11];
  char indication[24];  /* first_line | consolidation | intensification | salvage | ablation_combination | other */
  int liver_only;       /* 1 yes, 0 no, -1 not given */
  char death_date[11], last_contact_date[11], secondary_resection_date[11];
  char updated_at[32], updated_by[RCY_NAME_MAX + 1]; /* filled by the store */
} rcy_registry_subject;

/* RCY_ENOTFOUND when the registry has no row for the subject. */
int rcy_store_registry_get(rcy_registry_subject *out, rcy_store *store, const char *subject_id, rcy_error *err);
/* Inserts or replaces the subject's row (updated_by = audit->actor) and appends `audit` in the caller's
 * transaction, or in its own when none is open. */
int rcy_store_registry_put(rcy_store *store, const rcy_registry_subject *subject, const rcy_audit_entry *audit,
                           rcy_error *err);
/* Every row, ordered by subject_id; a non-zero return from fn stops the walk and is returned. */
int rcy_store_registry_each(rcy_store *store, int (*fn)(void *ctx, const rcy_registry_subject *subject),
                            void *ctx, rcy_error *err);
/* The site a subject's images are indexed under (*found 0 when the archive holds no study of it). */
int rcy_store_subject_site(int *found, char site_id[RCY_NAME_MAX + 1], rcy_store *store, const char *subject_id,
                           rcy_error *err);


#ifdef __cplusplus
}
#endif
#endif
