/* DICOMweb (PS3.18) over the archive: what QIDO-RS matches and how its replies look, which instances a
 * WADO-RS request names (and whether this user may see them), their metadata as DICOM JSON, STOW-RS bodies
 * (multipart/related) and replies. The reader server's /dicomweb handlers are thin wrappers over this; the
 * store answers the queries, src/dicom writes DICOM JSON and frames, src/ingest stores what STOW receives,
 * src/reads decides who sees which subject. docs/dicomweb.md is the user's view. */
#ifndef RECISTRY_DICOMWEB_H
#define RECISTRY_DICOMWEB_H

#include <jansson.h>
#include <stddef.h>

#include "recistry/error.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- QIDO-RS (src/dicomweb/qido.c) ---- */

/* Most results one query returns; beyond it the reply is cut and says so (a Warning header). */
#define RCY_QIDO_MAX_RESULTS 10000

typedef struct rcy_qido_query rcy_qido_query;
/* Parses a query's parameters (keys and values as they came, repeated keys allowed): matching keys as
 * keywords or 8 hex digits, limit, offset, includefield (a list, or "all"), fuzzymatching (ignored).
 * study_uid / series_uid: the scope the URL gives (NULL: none). RCY_EINVAL naming the bad parameter. */
int rcy_dicomweb_qido_parse(rcy_qido_query **out, rcy_qido_level level, const char *study_uid,
                            const char *series_uid, const char *const *keys, const char *const *values,
                            size_t n, rcy_error *err);
void rcy_dicomweb_qido_free(rcy_qido_query *q);
/* Runs the query for user: *out a DICOM JSON array (application/dicom+json), *truncated 1 when more
 * matched than RCY_QIDO_MAX_RESULTS. base_url: what RetrieveURLs start with ("http://host/dicomweb"). */
int rcy_dicomweb_qido_run(json_t **out, int *truncated, rcy_store *store, const rcy_user *user,
                          const rcy_qido_query *q, const char *base_url, rcy_error *err);

/* ---- WADO-RS (src/dicomweb/retrieve.c) ---- */

typedef struct rcy_dicomweb_instance {
  char study_uid[65], series_uid[65], sop_instance_uid[65], sop_class_uid[65], transfer_syntax_uid[65];
  char *path; /* absolute */
} rcy_dicomweb_instance;
/* The instances of a study, a series of it (series_uid) or one instance (sop_instance_uid as well) that
 * user may see, in series and instance order. RCY_ENOTFOUND when there is none (unknown and not-yours look
 * the same). */
int rcy_dicomweb_instances(rcy_dicomweb_instance **out, size_t *n, rcy_store *store, const rcy_user *user,
                           const char *study_uid, const char *series_uid, const char *sop_instance_uid,
                           rcy_error *err);
void rcy_dicomweb_instances_free(rcy_dicomweb_instance *list, size_t n);
/* The DICOM JSON of each instance (a JSON array), pixel data as a BulkDataURI under base_url. */
int rcy_dicomweb_metadata(json_t **out, const rcy_dicomweb_instance *list, size_t n, const char *base_url,
                          rcy_error *err);
/* Parses a frame list ("1", "1,3,5"): *frames malloc'ed, 1-based. RCY_EINVAL when malformed. */
int rcy_dicomweb_frame_list(unsigned **frames, size_t *n, const char *text, rcy_error *err);

/* ---- STOW-RS (src/dicomweb/stow.c) ---- */

typedef struct rcy_dicomweb_part {
  const char *data;
  size_t len;
} rcy_dicomweb_part;
/* Splits a multipart/related body into its parts (pointers into body). The Content-Type must be
 * multipart/related with a boundary and type="application/dicom" (a part may say so itself instead);
 * RCY_EINVAL naming what is wrong. *parts malloc'ed. */
int rcy_dicomweb_multipart_split(rcy_dicomweb_part **parts, size_t *n, const char *content_type,
                                 const char *body, size_t len, rcy_error *err);

/* Who may store over STOW-RS and for which site: a site account for its own site (*site_id = its site: the
 * account plays the calling AE's part), an administrator for the site each data set names (*site_id NULL);
 * RCY_EDENIED for every other role. */
int rcy_dicomweb_stow_site(const char **site_id, const rcy_user *user, rcy_error *err);

/* The STOW-RS reply being built: ReferencedSOPSequence, FailedSOPSequence, the study's RetrieveURL. */
typedef struct rcy_stow_reply rcy_stow_reply;
int rcy_dicomweb_stow_reply_new(rcy_stow_reply **out, const char *base_url, const char *study_uid);
/* One instance's outcome: stored (status 0) or failed with a DIMSE status as FailureReason. */
void rcy_dicomweb_stow_reply_add(rcy_stow_reply *reply, const char *sop_class_uid,
                                 const char *sop_instance_uid, const char *study_uid, unsigned status);
/* The reply's body (steals nothing; *body new) and HTTP status: 200 all stored, 202 some, 409 none. */
json_t *rcy_dicomweb_stow_reply_finish(rcy_stow_reply *reply, unsigned *http_status);
void rcy_dicomweb_stow_reply_free(rcy_stow_reply *reply);

#ifdef __cplusplus
}
#endif
#endif
