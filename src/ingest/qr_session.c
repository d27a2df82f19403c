/* One peer's association on the daemon: the address check of its [peer:NAME] section, an index connection
 * of its own (opened at its first request: a connection is per thread), and the audit of every query and
 * retrieve — a row of the hash-chained audit log (actions dicom.find, dicom.move, dicom.get; actor the calling
 * AE) with the level and the counts, never the query's values, so `recistry audit list --action dicom.`
 * shows who asked for what kind of data and how much left. */
#include "ingest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/log.h"

struct rcy_qr_session {
  const rcy_ingest_config *cfg;
  const rcy_ingest_peer *peer;
  char calling[17];
  rcy_store *store; /* opened at the first request */
  rcy_store *audit;
  pthread_mutex_t *audit_mu;
};

int rcy_qr_peer_refusal(const rcy_ingest_peer *peer, const char *peer_host, char *why, size_t len) {
  if (!peer->n_hosts) return 0;
  for (size_t i = 0; i < peer->n_hosts; i++)
    if (strcmp(peer->hosts[i], peer_host) == 0) return 0;
  snprintf(why, len, "host %s is not listed for peer %s", peer_host, peer->name);
  return 1;
}

int rcy_qr_session_open(rcy_qr_session **out, const rcy_ingest_config *cfg, const rcy_ingest_peer *peer,
                        const char *calling_ae, rcy_store *audit, pthread_mutex_t *audit_mu) {
  rcy_qr_session *s = calloc(1, sizeof *s);
  *out = s;
  if (!s) return RCY_ENOMEM;
  s->cfg = cfg;
  s->peer = peer;
  snprintf(s->calling, sizeof s->calling, "%s", calling_ae);
  s->audit = audit;
  s->audit_mu = audit_mu;
  return RCY_OK;
}

void rcy_qr_session_close(rcy_qr_session *s) {
  if (!s) return;
  rcy_store_close(s->store);
  free(s);
}

unsigned rcy_qr_session_services(const rcy_qr_session *s) {
  if (!s) return 0;
  return ((s->peer->rights & RCY_PEER_FIND) ? RCY_DICOM_SERVICE_FIND : 0u) |
         ((s->peer->rights & RCY_PEER_MOVE) ? RCY_DICOM_SERVICE_MOVE : 0u) |
         ((s->peer->rights & RCY_PEER_GET) ? RCY_DICOM_SERVICE_GET : 0u);
}

static int ensure_store(rcy_qr_session *s, char *comment, size_t len) {
  if (s->store) return 0;
  rcy_error err = {0};
  rcy_store_location where = rcy_ingest_config_location(s->cfg);
  if (rcy_store_open_at(&s->store, &where, &err)) {
    rcy_log(RCY_LOG_ERROR, "ingest", "query/retrieve: cannot open the archive: %s", err.message);
    snprintf(comment, len, "the index could not be opened");
    return -1;
  }
  return 0;
}

static void audit_request(rcy_qr_session *s, const char *action, const char *what) {
  char actor[32], reason[256];
  snprintf(actor, sizeof actor, "dicom:%s", s->calling);
  snprintf(reason, sizeof reason, "peer %s: %s", s->peer->name, what);
  rcy_audit_entry e;
  memset(&e, 0, sizeof e);
  e.actor = actor;
  e.action = action;
  e.reason = reason;
  rcy_error err = {0};
  pthread_mutex_lock(s->audit_mu);
  int rc = rcy_store_begin(s->audit, &err);
  if (!rc) rc = rcy_store_audit_append(s->audit, &e, &err);
  if (!rc) rc = rcy_store_commit(s->audit, &err);
  else rcy_store_rollback(s->audit);
  pthread_mutex_unlock(s->audit_mu);
  if (rc) rcy_log(RCY_LOG_ERROR, "ingest", "audit of %s by %s: %s", action, s->calling, err.message);
}

static const char *level_text(const rcy_dicom_qr_request *rq) {
  const char *l = rcy_qr_level(rq);
  return l ? l : "invalid";
}

unsigned rcy_qr_session_find(rcy_qr_session *s, const rcy_dicom_qr_request *rq,
                             int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n), void *emit_ctx,
                             char *comment, size_t comment_len) {
  if (!s) {
    snprintf(comment, comment_len, "not authorised to query");
    return RCY_DICOM_STATUS_QR_NOT_AUTHORISED;
  }
  int n = 0;
  unsigned status = ensure_store(s, comment, comment_len)
                        ? RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS
                        : rcy_qr_find(&n, s->store, s->peer, rq, s->cfg->ae_title, emit, emit_ctx, comment,
                                      comment_len);
  char what[160];
  snprintf(what, sizeof what, "C-FIND %s level %s: %d matched, status 0x%04x",
           rq->patient_root ? "Patient Root" : "Study Root", level_text(rq), n, status);
  rcy_log(RCY_LOG_INFO, "ingest", "peer %s (AE %s): %s", s->peer->name, s->calling, what);
  audit_request(s, "dicom.find", what);
  return status;
}

unsigned rcy_qr_session_retrieve(rcy_qr_session *s, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *out,
                                 char *comment, size_t comment_len) {
  memset(out, 0, sizeof *out);
  if (!s) {
    snprintf(comment, comment_len, "not authorised to retrieve");
    return RCY_DICOM_STATUS_QR_NOT_AUTHORISED;
  }
  unsigned status = ensure_store(s, comment, comment_len)
                        ? RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS
                        : rcy_qr_retrieve(out, s->store, s->cfg, s->peer, rq, comment, comment_len);
  if (status) { /* refused before any sub-operation: audited here (retrieve_done is not called) */
    int move = rq->service == RCY_DICOM_SERVICE_MOVE;
    char what[200];
    snprintf(what, sizeof what, "%s level %s refused, status 0x%04x: %s", move ? "C-MOVE" : "C-GET",
             level_text(rq), status, comment);
    rcy_log(RCY_LOG_WARN, "ingest", "peer %s (AE %s): %s", s->peer->name, s->calling, what);
    audit_request(s, move ? "dicom.move" : "dicom.get", what);
  }
  return status;
}

void rcy_qr_session_retrieve_done(rcy_qr_session *s, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *files,
                                  int n_completed, int n_failed, int n_warning, unsigned status) {
  int move = rq->service == RCY_DICOM_SERVICE_MOVE;
  char what[200], dest[40] = "";
  if (move && files->dest_ae_title) snprintf(dest, sizeof dest, " to %s", files->dest_ae_title);
  snprintf(what, sizeof what, "%s level %s%s: %zu matched, %d sent, %d warning, %d failed, status 0x%04x",
           move ? "C-MOVE" : "C-GET", level_text(rq), dest, files->n, n_completed, n_warning, n_failed, status);
  if (s) {
    rcy_log(n_failed ? RCY_LOG_WARN : RCY_LOG_INFO, "ingest", "peer %s (AE %s): %s", s->peer->name, s->calling,
            what);
    audit_request(s, move ? "dicom.move" : "dicom.get", what);
  }
  rcy_qr_files_clear(files);
}
