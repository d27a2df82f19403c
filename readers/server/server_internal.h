/* What the files of the reader workstation's server share: the request being answered, reply helpers,
 * authentication state, and the handlers the router dispatches to. Not public. */
#ifndef RECISTRY_READERS_SERVER_INTERNAL_H
#define RECISTRY_READERS_SERVER_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "readers.h"
#include "recistry/reads.h"
#include "recistry/store.h"

#define RCY_MAX_BODY_BYTES (1024 * 1024)
/* STOW-RS bodies (POST /dicomweb/...) are held in memory whole: a study of a few hundred CT slices. */
#define RCY_MAX_STOW_BYTES (512ll * 1024 * 1024)
/* Larger bodies (STOW-RS) are spooled to a nameless file in the archive's folder (request_body.c). */
#define RCY_BODY_IN_MEMORY_BYTES (4 * 1024 * 1024)
#define RCY_MAX_SEGMENTS 10

struct MHD_Connection;
struct MHD_Response;

typedef struct rcy_server {
  const rcy_readers_config *cfg;
  char *web_root_real; /* realpath of the static root, or NULL when the UI is not built */
  char *key_image_dir; /* ARCHIVE/key-images */
  char *seg_dir;       /* ARCHIVE/segmentations: the DICOM SEG of each accepted semi-automatic measurement */
  struct rcy_ingest_config *ingest_cfg;     /* the config's ingest sections, for STOW-RS (NULL: STOW off) */
  struct rcy_ingest_receiver *receiver;     /* the ingest pipeline STOW-RS stores through */
  rcy_credential_cache *credentials;        /* HTTP Basic credentials verified lately (dicomweb_api.c) */
} rcy_server;

typedef struct rcy_req {
  const rcy_server *srv;
  struct MHD_Connection *conn;
  rcy_store *store;
  const char *method, *path;
  const char *seg[RCY_MAX_SEGMENTS]; /* path split on '/' (pointers into segbuf) */
  int n_seg;
  char segbuf[2048];
  const char *body;
  size_t body_len;
  char peer[64];
  /* authentication (auth.c) */
  int authed;
  rcy_user user;
  char csrf[RCY_TOKEN_HEX + 1];
  char token[RCY_TOKEN_HEX + 1];
  /* the reply */
  unsigned status;
  struct MHD_Response *response;
} rcy_req;

/* Replies (http.c). Each sets r->status and r->response; the return value is just 0 for chaining. */
int rcy_reply_json(rcy_req *r, unsigned status, json_t *body); /* steals body */
int rcy_reply_error(rcy_req *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rcy_reply_bytes(rcy_req *r, unsigned status, const char *content_type, void *data, size_t len,
                    int free_data);
int rcy_reply_file(rcy_req *r, const char *path, const char *content_type); /* 404 when absent */
int rcy_reply_empty(rcy_req *r, unsigned status);
void rcy_reply_header(rcy_req *r, const char *name, const char *value);
/* Maps an rcy_error code to an HTTP status and replies with its message. */
int rcy_reply_rcy_error(rcy_req *r, const rcy_error *err);
const char *rcy_req_query(rcy_req *r, const char *key);
/* Parses the body as a JSON object: NULL after replying 400 naming the problem. */
json_t *rcy_req_json_body(rcy_req *r);

/* auth.c */
int rcy_auth_load_session(rcy_req *r);         /* fills r->authed/user/csrf from the cookie */
int rcy_auth_check_csrf(rcy_req *r);           /* 1 ok, else replies 403 and returns 0 */
int rcy_auth_require(rcy_req *r);              /* 1 logged in, else replies 401 and returns 0 */
int rcy_handle_login(rcy_req *r);
int rcy_handle_logout(rcy_req *r);
int rcy_handle_me(rcy_req *r);
/* An electronic signature's password, checked as a login would be (throttling, lock-out): 0, or replies 403
 * "wrong password: <not_done>" or 429 and returns that status. action names the act in the log. */
int rcy_auth_check_password(rcy_req *r, const char *password, const char *action, const char *not_done);

/* static.c */
int rcy_handle_static(rcy_req *r);

/* images.c */
int rcy_subject_visible(rcy_req *r, const char *subject_id); /* 1 when the user may see the subject */
/* 1 when the user may see this read: its own read (central, adjudicator: role and name; site: the site read)
 * or, for qa/admin, any read; and the subject is visible. The rule of GET /api/reads, for things derived
 * from a read (key images). */
int rcy_read_visible(rcy_req *r, const char *subject, const char *role, const char *reader);
int rcy_handle_worklist(rcy_req *r);
int rcy_handle_series(rcy_req *r, const char *study_uid);
int rcy_handle_wado(rcy_req *r, const char *sop);
int rcy_handle_render(rcy_req *r, const char *sop);
int rcy_handle_thumbnail(rcy_req *r, const char *series_uid);
int rcy_handle_key_image(rcy_req *r, const char *file);

/* assignments_api.c */
int rcy_handle_assignments_get(rcy_req *r);
int rcy_handle_assignments_put(rcy_req *r);
/* audit_api.c */
int rcy_handle_audit(rcy_req *r);
/* reads_api.c */
int rcy_handle_read_get(rcy_req *r, const char *subject);
int rcy_handle_lesion_add(rcy_req *r, const char *subject);
int rcy_handle_observation_put(rcy_req *r, const char *subject, const char *tp, const char *lesion);
int rcy_handle_lesion_delete(rcy_req *r, const char *subject, const char *lesion);
int rcy_handle_sign(rcy_req *r, const char *subject, const char *tp, int sign);
int rcy_handle_read_list(rcy_req *r, const char *subject);
/* segment_api.c: POST /api/segment, the proposal of a semi-automatic measurement */
int rcy_handle_segment(rcy_req *r);
int rcy_handle_segment_propagate(rcy_req *r);
int rcy_handle_segmentation_get(rcy_req *r, const char *uid);
/* review_api.c: central review settings, the adjudication queue, the side-by-side and the decision */
int rcy_handle_review_settings_get(rcy_req *r);
int rcy_handle_review_settings_put(rcy_req *r);
int rcy_handle_adjudication_queue(rcy_req *r);
int rcy_handle_adjudication_get(rcy_req *r, const char *subject);
int rcy_handle_adjudication_post(rcy_req *r, const char *subject);
/* assignments_api.c: POST /api/assignments/round-robin */
int rcy_handle_assignments_round_robin(rcy_req *r);
/* registry_api.c */
int rcy_handle_registry_get(rcy_req *r, const char *subject);
int rcy_handle_registry_put(rcy_req *r, const char *subject);
/* qa_api.c: QA and admin only */
int rcy_handle_concordance(rcy_req *r);
int rcy_handle_reader_qc(rcy_req *r);
/* report_api.c: the PDF reports (docs/reports.md). */
int rcy_handle_report_subject(rcy_req *r, const char *file);
int rcy_handle_report_cohort(rcy_req *r);
/* endpoints_api.c: QA and admin only */
int rcy_handle_endpoints(rcy_req *r);
int rcy_handle_endpoint_subjects(rcy_req *r);
/* dose_api.c: the dose view (the subject's 90Y dosimetry, computed on first request and cached) */
int rcy_handle_dose_get(rcy_req *r, const char *subject);
int rcy_handle_dose_volume(rcy_req *r, const char *subject);
int rcy_handle_dose_ct(rcy_req *r, const char *subject);
/* dose_response_api.c: the TARE cohort analyses of [dose] cohort_dir (QA and admin) */
int rcy_handle_dose_response(rcy_req *r);

/* dicomweb_api.c: everything under /dicomweb (QIDO-RS, WADO-RS, STOW-RS; docs/dicomweb.md) */
int rcy_dicomweb_route(rcy_req *r);

/* keyimage_store.c: durable key-image files under ARCHIVE/key-images. */
int rcy_key_image_save(char *id_out /* 33 bytes */, const char *dir, const void *png, size_t len,
                       rcy_error *err);
/* Removes a key image written for a change that did not commit (best effort: an orphan picture is harmless,
 * a missing one would not be). */
void rcy_key_image_remove(const char *dir, const char *id);


/* request_body.c: a request's body, in memory or (past RCY_BODY_IN_MEMORY_BYTES) spooled to an unlinked file
 * in spool_dir and mapped read-only by _finish. _append refuses (RCY_EINVAL) past max; RCY_ENOSPC/RCY_EIO when
 * the spool cannot be written. */
typedef struct rcy_request_body {
  char *mem;
  size_t len, cap, max;
  int fd; /* -1 until spooled */
  void *map;
  size_t map_len;
} rcy_request_body;
void rcy_request_body_init(rcy_request_body *b, size_t max);
int rcy_request_body_append(rcy_request_body *b, const char *data, size_t n, const char *spool_dir,
                            rcy_error *err);
int rcy_request_body_finish(rcy_request_body *b, const char **data, size_t *len, rcy_error *err);
void rcy_request_body_release(rcy_request_body *b);

/* Thread-local store connection for handler threads (http.c). */
rcy_store *rcy_server_store(const rcy_server *srv, rcy_error *err);

#endif
