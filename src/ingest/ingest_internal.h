/* What the ingest files share (not public): the verdict of the checks, the sites with compiled patterns,
 * and the durable store-and-index path (group commit) used by the daemon and by pull. */
#ifndef RECISTRY_INGEST_INTERNAL_H
#define RECISTRY_INGEST_INTERNAL_H

#include <pthread.h>
#include <regex.h>
#include <stdint.h>

#include "recistry/dicom.h"
#include "recistry/ingest.h"
#include "recistry/store.h"

/* ---- deid_profile.c: the PS3.15 E.1-1 rows the anonymisation check applies ---- */

/* What recistry does with an attribute of the profile (docs/ingest.md, "The anonymisation profile"). */
typedef enum {
  RCY_DEID_EMPTY,            /* identity: absent or empty, at the top level and in every sequence item */
  RCY_DEID_SUBJECT,          /* Patient Name / ID: empty or the trial subject ID */
  RCY_DEID_TRIAL_CODE,       /* Study ID: empty, the subject ID or the time point ID */
  RCY_DEID_KEPT_TRIAL,       /* the clinical trial attributes the registry works with */
  RCY_DEID_KEPT_DATE,        /* Retain Longitudinal Temporal Information (Modified Dates) */
  RCY_DEID_KEPT_PATIENT,     /* Retain Patient Characteristics */
  RCY_DEID_KEPT_DESCRIPTOR,  /* descriptions the reader needs */
  RCY_DEID_UID               /* action U: pseudonymised by the site, not checked */
} rcy_deid_rule;

typedef struct {
  uint32_t tag;
  const char *keyword;
  const char *action; /* PS3.15 E.1-1 Basic Profile action code(s): D, Z, X, U, X/Z/D ... */
  rcy_deid_rule rule;
} rcy_deid_entry;

/* Upper bound of the profile's size: callers size present[] with it. */
#define RCY_INGEST_PROFILE_MAX 256

/* The whole profile table (for docs and tests). */
size_t rcy_ingest_deid_profile(const rcy_deid_entry **entries);
/* The profile entry of rcy_ingest_phi_tags()'s i-th tag. */
const rcy_deid_entry *rcy_ingest_phi_entry(size_t i);

/* ---- checks.c ---- */

typedef enum { RCY_VERDICT_ACCEPT, RCY_VERDICT_REFUSE, RCY_VERDICT_NOT_ANONYMISED } rcy_verdict_kind;

/* Where a not-anonymised instance goes: as [policy] phi says, or as [policy] private_tags forces. */
typedef enum { RCY_KEEP_PER_PHI = 0, RCY_KEEP_REFUSE, RCY_KEEP_QUARANTINE } rcy_verdict_keep;

typedef struct {
  rcy_verdict_kind kind;
  rcy_verdict_keep keep;                /* for RCY_VERDICT_NOT_ANONYMISED */
  unsigned status;                      /* DIMSE status when not accepted */
  char comment[RCY_DICOM_COMMENT_MAX];  /* Error Comment: no PHI */
  char reason[256];                     /* longer reason for log / quarantine row: attribute names, no values */
  const char *subject_id;               /* the trial subject ID (valid when accepted) */
} rcy_verdict;

/* Checks one received instance against the sending site: values that fit their VR, valid UIDs, request/data
 * set consistency, Clinical Trial Site ID, subject pattern, anonymisation (the profile, Burned In Annotation,
 * private data elements under the private-tag policy of cfg; NULL cfg: refuse every private element).
 * present[] answers rcy_ingest_phi_tags(). */
void rcy_ingest_check(rcy_verdict *v, const rcy_dicom_attrs *a, const int *present, const rcy_ingest_site *site,
                      const regex_t *subject_re, const rcy_ingest_config *cfg, const char *sop_class_uid,
                      const char *sop_instance_uid);
/* 1 when s is a valid UID (VR UI, PS3.5 9.1): 1-64 characters, components of digits separated by single dots,
 * no component with a leading zero other than "0" itself. */
int rcy_ingest_valid_uid(const char *s);

/* ---- config_peers.c: the [peer:NAME] sections (query/retrieve rights) ---- */

/* One key of [peer:NAME]: 0, or -1 with why (no file/section prefix: config.c adds it). */
int rcy_ingest_peer_key(rcy_ingest_config *c, const char *name, const char *key, const char *value, char *why,
                        size_t len);
/* After parsing: every peer complete and consistent with the sites (errors name section and key). */
int rcy_ingest_peers_validate(const rcy_ingest_config *c, rcy_error *err);
void rcy_ingest_peers_free(rcy_ingest_config *c);
/* The peer calling with ae_title, or NULL. */
const rcy_ingest_peer *rcy_ingest_config_peer(const rcy_ingest_config *c, const char *ae_title);

/* ---- qr.c: query/retrieve for the peers (matching against the index, rights, the files to send) ---- */

/* Answers a C-FIND for `peer` from the index: calls emit for each match, only ever among the studies of
 * the peer's sites. Returns the DIMSE status (comment filled on failure); *n_matched counts the matches. */
unsigned rcy_qr_find(int *n_matched, rcy_store *store, const rcy_ingest_peer *peer, const rcy_dicom_qr_request *rq,
                     const char *our_ae_title, int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n),
                     void *emit_ctx, char *comment, size_t comment_len);
/* The files a C-MOVE / C-GET of `peer` retrieves (and for C-MOVE the destination, a configured peer).
 * Returns the DIMSE status (comment filled on failure). */
unsigned rcy_qr_retrieve(rcy_dicom_qr_files *out, rcy_store *store, const rcy_ingest_config *cfg,
                         const rcy_ingest_peer *peer, const rcy_dicom_qr_request *rq, char *comment,
                         size_t comment_len);
void rcy_qr_files_clear(rcy_dicom_qr_files *files);
/* The Query/Retrieve Level of a request, checked against its information model: "PATIENT", "STUDY",
 * "SERIES", "IMAGE", or NULL when missing or not one of the model's. */
const char *rcy_qr_level(const rcy_dicom_qr_request *rq);

/* ---- qr_session.c: one peer's association (its own index connection, the audit of each request) ---- */

typedef struct rcy_qr_session rcy_qr_session;
/* Why an association of peer from peer_host is refused (filled into why, returning 1), or 0. */
int rcy_qr_peer_refusal(const rcy_ingest_peer *peer, const char *peer_host, char *why, size_t len);
/* audit / audit_mu: the daemon's audit connection and the lock it is used under. */
int rcy_qr_session_open(rcy_qr_session **out, const rcy_ingest_config *cfg, const rcy_ingest_peer *peer,
                        const char *calling_ae, rcy_store *audit, pthread_mutex_t *audit_mu);
void rcy_qr_session_close(rcy_qr_session *s);
/* RCY_DICOM_SERVICE_* bits of the peer's rights (0 for NULL). */
unsigned rcy_qr_session_services(const rcy_qr_session *s);
unsigned rcy_qr_session_find(rcy_qr_session *s, const rcy_dicom_qr_request *rq,
                             int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n), void *emit_ctx,
                             char *comment, size_t comment_len);
unsigned rcy_qr_session_retrieve(rcy_qr_session *s, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *out,
                                 char *comment, size_t comment_len);
void rcy_qr_session_retrieve_done(rcy_qr_session *s, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *files,
                                  int n_completed, int n_failed, int n_warning, unsigned status);
/* ---- hasher.c: the SHA-256 of stored instances, after their Success ---- */

typedef struct rcy_hasher rcy_hasher;
typedef struct rcy_hash_item {
  struct rcy_hash_item *next;
  char sop_instance_uid[65];
  char sha256[65]; /* filled by the hasher */
  char path[];     /* the stored file */
} rcy_hash_item;
/* Starts the hasher thread. write(ctx) is called when hashed results waited 100 ms for a group commit (and
 * at stop): it must rcy_hasher_take them and write them in a transaction; non-zero when it could not. */
int rcy_hasher_start(rcy_hasher **out, int (*write)(void *ctx), void *ctx, rcy_error *err);
/* Queues a stored file whose row's sha256 is pending. RCY_ENOMEM: not queued (stays pending until a start). */
int rcy_hasher_add(rcy_hasher *h, const char *sop_instance_uid, const char *path);
/* The hashed results not yet written (a list the caller owns), NULL if none; h may be NULL. */
rcy_hash_item *rcy_hasher_take(rcy_hasher *h);
/* Results taken but not written (the transaction failed): kept for the next writer. */
void rcy_hasher_give_back(rcy_hasher *h, rcy_hash_item *items);
void rcy_hash_items_free(rcy_hash_item *items);
/* Hashes what is queued, writes the results, and stops the thread. */
void rcy_hasher_stop(rcy_hasher *h);

/* ---- flusher.c: blocking flushes run while their owner does other work ---- */

typedef struct rcy_flusher rcy_flusher;
/* One flush handed to the flushers; owned (and kept alive until rcy_flusher_wait returned) by its submitter. */
typedef struct rcy_flush_task {
  int (*fn)(void *ctx);
  void *ctx;
  int rc;
  int state;
  struct rcy_flush_task *next;
  /* Only with RECISTRY_STAGE_TIMES (stage_times.c): when it was queued, started, finished (monotonic ms),
   * the stages its run and hand-off are counted under, and whether its owner ran it. */
  double queued_ms, started_ms, finished_ms;
  int stage_run, stage_handoff, by_owner;
} rcy_flush_task;
/* Starts n_threads flusher threads (fewer if some cannot be created: their tasks then run in their owner's
 * wait). */
int rcy_flusher_start(rcy_flusher **out, int n_threads, rcy_error *err);
/* Queues fn(ctx); every submitted task must be waited for. */
void rcy_flusher_submit(rcy_flusher *f, rcy_flush_task *t, int (*fn)(void *ctx), void *ctx);
/* fn's result once it returned (run here if no flusher started it yet); 0 for a task never submitted. */
int rcy_flusher_wait(rcy_flusher *f, rcy_flush_task *t);
void rcy_flusher_stop(rcy_flusher *f);

/* ---- stage_times.c: the critical path's stages, with RECISTRY_STAGE_TIMES set (medians at close) ---- */

typedef enum {
  RCY_STAGE_PARSE = 0,
  RCY_STAGE_CHECKS,
  RCY_STAGE_QUEUE,
  RCY_STAGE_DECIDE,
  RCY_STAGE_FLUSH_WAIT,
  RCY_STAGE_RENAME,
  RCY_STAGE_INSERT,
  RCY_STAGE_DIR_WAIT,
  RCY_STAGE_COMMIT,
  RCY_STAGE_AFTER_COMMIT,
  RCY_STAGE_TOTAL,
  RCY_STAGE_FDATASYNC,
  RCY_STAGE_FDATASYNC_HANDOFF,
  RCY_STAGE_DIRSYNC,
  RCY_STAGE_DIRSYNC_HANDOFF,
  RCY_STAGE_DIRSYNC_LATE,
  RCY_STAGE_EARLY_COMMIT,
  RCY_STAGE_EARLY_DIR_WAIT,
  RCY_STAGE_NOT_FLUSHING,
  RCY_STAGE_N
} rcy_stage;
/* 1 when RECISTRY_STAGE_TIMES is set (read once). */
int rcy_stage_on(void);
double rcy_stage_now_ms(void);
/* One instance's duration of a stage (ignored when off). */
void rcy_stage_add(rcy_stage stage, double ms);
/* A flush run by its owner because no flusher had started it (dir: a directory fsync). */
void rcy_stage_by_owner(int dir);
/* Logs each stage's median, p90 and mean (one line per stage) and forgets them. */
void rcy_stage_report(void);

/* ---- pipeline.c: durable storage + index with group commit ---- */

typedef struct rcy_pipeline rcy_pipeline;

typedef enum {
  RCY_STORED = 0,      /* new instance, durable and indexed */
  RCY_DUPLICATE,       /* same SOP Instance UID, same content: nothing to do */
  RCY_REFUSED,         /* a check failed (status/comment in the outcome) */
  RCY_QUARANTINED,     /* not anonymised, kept aside (status/comment in the outcome) */
  RCY_FAILED           /* storage error: Out of Resources */
} rcy_store_result;

typedef struct {
  rcy_store_result result;
  unsigned status;
  char comment[RCY_DICOM_COMMENT_MAX];
  char reason[RCY_ERROR_MESSAGE_MAX];
} rcy_store_outcome;

/* Opens the index connection the pipeline writes through. storage_fail_env: name of an environment variable
 * that, when set, makes every file commit fail with ENOSPC (a test hook for hosts where tmpfs cannot be
 * mounted); NULL to disable. */
int rcy_pipeline_open(rcy_pipeline **out, const rcy_ingest_config *config, rcy_error *err);
void rcy_pipeline_close(rcy_pipeline *p);
/* A fresh temporary file name under storage/.tmp. */
int rcy_pipeline_temp_path(rcy_pipeline *p, char *path, size_t len);
/* Checks, stores durably and indexes one received instance from `site` (the C-STORE data set in `in`). */
void rcy_pipeline_store(rcy_store_outcome *out, rcy_pipeline *p, const rcy_ingest_site *site,
                        const rcy_dicom_received *in);
/* The compiled subject pattern of a site. */
const regex_t *rcy_pipeline_subject_re(rcy_pipeline *p, const rcy_ingest_site *site);
/* The index connection and directories of the pipeline (for recovery). */
rcy_store *rcy_pipeline_db(rcy_pipeline *p);
const char *rcy_pipeline_storage(rcy_pipeline *p);
const char *rcy_pipeline_tmp(rcy_pipeline *p);
/* Queues an indexed instance whose sha256 is pending for the pipeline's hasher (path relative to storage/). */
int rcy_pipeline_hash_later(rcy_pipeline *p, const char *sop_instance_uid, const char *rel);
/* This machine's name as it appears in temporary file names (characters other than [A-Za-z0-9.] as '_'). */
void rcy_ingest_host_name(char *out, size_t cap);
/* The index row of an instance from its attributes. orientation: a buffer for the formatted orientation. */
void rcy_ingest_row_from_attrs(rcy_archive_instance *r, char *orientation, size_t olen, const rcy_dicom_attrs *a,
                               const char *site_id, const char *subject_id, const char *rel, uint64_t size_bytes,
                               const char *sha256, const char *received_at);
/* A path component from a trial identifier (site, subject): only [A-Za-z0-9._-], never starting with a dot. */
void rcy_ingest_safe_component(char *out, size_t cap, const char *in);
/* Startup recovery: removes storage/.tmp leftovers, indexes files that reached their final name without
 * their index row, and queues the rows whose SHA-256 a crash left pending for the hasher. */
int rcy_pipeline_recover(rcy_pipeline *p, rcy_error *err);

/* ---- pull.c: retrieving one study from a site's node ---- */

/* C-GET of study_uid through pipe (each instance through the same checks as a C-STORE), or C-MOVE to our AE
 * (the running daemon receives) when the site says retrieve = move. Counts of instances stored (or, for
 * C-MOVE, completed as the node reports) and refused. timeout_s 0: the default; stop as rcy_dicom_peer's. */
int rcy_ingest_retrieve(int *n_stored, int *n_refused, rcy_pipeline *pipe, const rcy_ingest_config *cfg,
                        const rcy_ingest_site *site, const char *study_uid, int timeout_s,
                        const volatile int *stop, rcy_error *err);

/* ---- poll.c: the daemon's pollers ---- */

typedef struct rcy_pollers rcy_pollers;
/* Starts one poller thread per site with poll_interval > 0 (none: *out NULL). They retrieve with C-GET
 * through pipe (shared with the SCP) or C-MOVE to our AE, and stop when *stop becomes non-zero. */
int rcy_pollers_start(rcy_pollers **out, const rcy_ingest_config *cfg, rcy_pipeline *pipe,
                      const volatile int *stop, rcy_error *err);
/* Waits for the threads (they see *stop within a second, or the node's timeout while connecting). */
void rcy_pollers_join(rcy_pollers *p);

/* A tls / pacs_tls value of the config (config.c): required, or off / no; -1 for anything else. */
int rcy_ingest_tls_mode(rcy_tls_mode *out, const char *value);

/* The site's node as we call it for pulls and polls (config.c): address, AE titles, retrieve mode and, with
 * pacs_tls = required, DICOM TLS (tls is filled and must outlive peer). */
void rcy_ingest_site_node(rcy_dicom_peer *peer, rcy_dicom_tls_client *tls, const rcy_ingest_config *cfg,
                          const rcy_ingest_site *site, int timeout_s, const volatile int *stop);

#endif
