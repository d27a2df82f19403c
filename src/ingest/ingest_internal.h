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

/* ---- checks.c ---- */

typedef enum { RCY_VERDICT_ACCEPT, RCY_VERDICT_REFUSE, RCY_VERDICT_NOT_ANONYMISED } rcy_verdict_kind;

typedef struct {
  rcy_verdict_kind kind;
  unsigned status;                      /* DIMSE status when not accepted */
  char comment[RCY_DICOM_COMMENT_MAX];  /* Error Comment: no PHI */
  char reason[256];                     /* longer reason for log / quarantine row: attribute names, no values */
  const char *subject_id;               /* the trial subject ID (valid when accepted) */
} rcy_verdict;

/* Checks one received instance against the sending site: request/data set consistency, Clinical Trial Site
 * ID, subject pattern, anonymisation. present[] answers rcy_ingest_phi_tags(). */
void rcy_ingest_check(rcy_verdict *v, const rcy_dicom_attrs *a, const int *present, const rcy_ingest_site *site,
                      const regex_t *subject_re, const char *sop_class_uid, const char *sop_instance_uid);
/* 1 when s is a syntactically valid UID (digits and dots, at most 64 characters). */
int rcy_ingest_valid_uid(const char *s);

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
/* The index row of an instance from its attributes. orientation: a buffer for the formatted orientation. */
void rcy_ingest_row_from_attrs(rcy_archive_instance *r, char *orientation, size_t olen, const rcy_dicom_attrs *a,
                               const char *site_id, const char *subject_id, const char *rel, uint64_t size_bytes,
                               const char *sha256, const char *received_at);
/* A path component from a trial identifier (site, subject): only [A-Za-z0-9._-], never starting with a dot. */
void rcy_ingest_safe_component(char *out, size_t cap, const char *in);
/* Startup recovery: removes storage/.tmp leftovers and indexes files that reached their final name without
 * their index row. */
int rcy_pipeline_recover(rcy_pipeline *p, rcy_error *err);

#endif
