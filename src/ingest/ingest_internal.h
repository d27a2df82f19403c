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
/* This machine's name as it appears in temporary file names (characters other than [A-Za-z0-9.] as '_'). */
void rcy_ingest_host_name(char *out, size_t cap);
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
