/* `recistry ingest`: wires the storage SCP to the association policy (which site is calling, from where,
 * over TLS or not), to the pipeline (check → store → index) and to the audit of associations, and runs the
 * study-completeness checker beside it. A configured peer ([peer:NAME]) may query and retrieve on the same
 * port: its associations get a query/retrieve session (qr_session.c). Sites with poll_interval are polled by
 * a thread each (poll.c), started once we listen, since a C-MOVE they ask for comes back to us. */
#include "ingest_internal.h"

#include <malloc.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recistry/log.h"

typedef struct {
  unsigned char *der;
  int len;
} cert_der;

typedef struct {
  const rcy_ingest_config *cfg;
  rcy_pipeline *pipe;
  rcy_store *audit; /* its own connection: association rows never ride in a pipeline batch */
  pthread_mutex_t audit_mu;
  cert_der *certs;  /* per site, trusted certificate in DER (len 0 when none) */
  cert_der *peer_certs; /* per [peer], likewise */
  volatile int *stop;
  rcy_pollers *pollers; /* the sites' pollers (poll.c), started once we listen (a C-MOVE comes back to us) */
} daemon_ctx;

typedef struct {
  daemon_ctx *d;
  const rcy_ingest_site *site; /* NULL: a peer's association, no storage */
  rcy_qr_session *qr;          /* NULL: a site's association, no query/retrieve */
  int64_t audit_id;
  int n_stored, n_duplicates, n_refused, n_failed;
  char last_refusal[160];
  char calling[17];
  char peer[64];
} assoc_ctx;

static int load_cert_der(cert_der *out, const char *path, rcy_error *err) {
  FILE *f = fopen(path, "r");
  if (!f) return rcy_error_set(err, RCY_ENOTFOUND, "cannot open certificate %s", path);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!x) return rcy_error_set(err, RCY_EINVAL, "%s is not a PEM certificate", path);
  out->der = NULL;
  out->len = i2d_X509(x, &out->der);
  X509_free(x);
  if (out->len <= 0) return rcy_error_set(err, RCY_EINVAL, "cannot encode certificate %s", path);
  return RCY_OK;
}

static void audit(daemon_ctx *d, int64_t *id, const rcy_ingest_site *site, const rcy_dicom_assoc_request *req,
                  const char *outcome, const char *reason) {
  char now[21];
  rcy_archive_timestamp(now, -1);
  rcy_archive_association a = {site ? site->id : NULL, req->calling_ae, req->called_ae, req->peer_host, req->tls,
                               outcome, reason, now};
  rcy_error err = {0};
  int64_t ignored;
  pthread_mutex_lock(&d->audit_mu);
  if (rcy_archive_association_begin(id ? id : &ignored, d->audit, &a, &err))
    rcy_log(RCY_LOG_ERROR, "ingest", "audit: %s", err.message);
  pthread_mutex_unlock(&d->audit_mu);
}

/* 1 when the TLS connection presented exactly this certificate. */
static int same_cert(const rcy_dicom_assoc_request *req, const cert_der *c) {
  return c->len > 0 && req->peer_cert_len == (size_t)c->len && memcmp(req->peer_cert_der, c->der, req->peer_cert_len) == 0;
}

static int deny(daemon_ctx *d, const rcy_ingest_site *site, const rcy_dicom_assoc_request *req, int code,
                char *reason, size_t len, const char *text) {
  snprintf(reason, len, "%s", text);
  audit(d, NULL, site, req, "rejected", text);
  return code;
}

static int on_associate(void *ctx, const rcy_dicom_assoc_request *req, void **actx_out, char *reason, size_t len) {
  daemon_ctx *d = ctx;
  const rcy_ingest_site *site = NULL;
  char text[256];
  if (strcmp(req->called_ae, d->cfg->ae_title) != 0) {
    snprintf(text, sizeof text, "called AE title %s is not ours (%s)", req->called_ae, d->cfg->ae_title);
    return deny(d, NULL, req, RCY_EINVAL, reason, len, text);
  }
  /* A site calls with its ae_title; its node (pacs) may call too, to deliver a C-MOVE we asked for. */
  for (size_t i = 0; i < d->cfg->n_sites; i++)
    if (strcmp(d->cfg->sites[i].ae_title, req->calling_ae) == 0 ||
        (d->cfg->sites[i].pacs_ae_title && strcmp(d->cfg->sites[i].pacs_ae_title, req->calling_ae) == 0))
      site = &d->cfg->sites[i];
  /* A peer may query/retrieve; an AE that is both a site and a peer gets what each of its checks allows. */
  const rcy_ingest_peer *peer = rcy_ingest_config_peer(d->cfg, req->calling_ae);
  if (!site && !peer) {
    snprintf(text, sizeof text, "unknown calling AE title %s", req->calling_ae);
    return deny(d, NULL, req, RCY_ENOTFOUND, reason, len, text);
  }
  if (peer && rcy_qr_peer_refusal(peer, req->peer_host, text, sizeof text)) {
    if (!site) return deny(d, NULL, req, RCY_EDENIED, reason, len, text);
    peer = NULL;
  }
  /* A peer's TLS: its own certificate, never a site's (or another peer's) under its AE title. */
  if (peer && peer->tls == RCY_TLS_REQUIRED && !req->tls) {
    snprintf(text, sizeof text, "peer %s must connect over TLS", peer->name);
    if (!site) return deny(d, NULL, req, RCY_EDENIED, reason, len, text);
    peer = NULL;
  }
  if (peer && req->tls && !same_cert(req, &d->peer_certs[peer - d->cfg->peers])) {
    snprintf(text, sizeof text, "TLS certificate is not the one configured for peer %s", peer->name);
    if (!site) return deny(d, NULL, req, RCY_EDENIED, reason, len, text);
    peer = NULL;
  }
  size_t si = site ? (size_t)(site - d->cfg->sites) : 0;
  if (site && site->n_hosts) {
    int ok = 0;
    for (size_t i = 0; i < site->n_hosts; i++) ok |= strcmp(site->hosts[i], req->peer_host) == 0;
    if (!ok) {
      snprintf(text, sizeof text, "host %s is not listed for site %s", req->peer_host, site->id);
      if (!peer) return deny(d, site, req, RCY_EDENIED, reason, len, text);
      site = NULL;
    }
  }
  if (site && site->tls == RCY_TLS_REQUIRED && !req->tls) {
    snprintf(text, sizeof text, "site %s must connect over TLS", site->id);
    if (!peer) return deny(d, site, req, RCY_EDENIED, reason, len, text);
    site = NULL;
  }
  if (site && req->tls && !same_cert(req, &d->certs[si])) {
    snprintf(text, sizeof text, "TLS certificate is not the one configured for site %s", site->id);
    if (!peer) return deny(d, site, req, RCY_EDENIED, reason, len, text);
    site = NULL;
  }
  assoc_ctx *a = calloc(1, sizeof *a);
  if (!a) return deny(d, site, req, RCY_EDENIED, reason, len, "out of memory");
  a->d = d;
  a->site = site;
  if (peer && rcy_qr_session_open(&a->qr, d->cfg, peer, req->calling_ae, d->audit, &d->audit_mu)) {
    free(a);
    return deny(d, site, req, RCY_EDENIED, reason, len, "out of memory");
  }
  snprintf(a->calling, sizeof a->calling, "%s", req->calling_ae);
  snprintf(a->peer, sizeof a->peer, "%s", req->peer_host);
  audit(d, &a->audit_id, site, req, "accepted", NULL);
  if (site)
    rcy_log(RCY_LOG_INFO, "ingest", "association from site %s (AE %s, %s%s) accepted", site->id, a->calling,
            a->peer, req->tls ? ", TLS" : "");
  else
    rcy_log(RCY_LOG_INFO, "ingest", "association from peer %s (AE %s, %s%s) accepted", peer->name, a->calling,
            a->peer, req->tls ? ", TLS" : "");
  *actx_out = a;
  return 0;
}

static int on_temp_path(void *actx, char *path, size_t len) {
  assoc_ctx *a = actx;
  return rcy_pipeline_temp_path(a->d->pipe, path, len);
}

static unsigned on_store(void *actx, const rcy_dicom_received *in, char *comment, size_t len) {
  assoc_ctx *a = actx;
  if (!a->site) { /* a peer's association: C-GET's storage contexts are ours to send on, never to receive */
    snprintf(comment, len, "storage not authorised for this AE");
    return RCY_DICOM_STATUS_QR_NOT_AUTHORISED;
  }
  rcy_store_outcome o;
  rcy_pipeline_store(&o, a->d->pipe, a->site, in);
  switch (o.result) {
    case RCY_STORED:
      a->n_stored++;
      rcy_log(RCY_LOG_DEBUG, "ingest", "site %s: stored %s", a->site->id, in->sop_instance_uid);
      break;
    case RCY_DUPLICATE:
      a->n_duplicates++;
      rcy_log(RCY_LOG_INFO, "ingest", "site %s: duplicate %s (identical content, nothing to do)", a->site->id,
              in->sop_instance_uid);
      break;
    case RCY_REFUSED:
    case RCY_QUARANTINED:
      a->n_refused++;
      snprintf(a->last_refusal, sizeof a->last_refusal, "%s", o.comment);
      rcy_log(RCY_LOG_WARN, "ingest", "site %s: %s %s (status 0x%04x): %s", a->site->id,
              o.result == RCY_QUARANTINED ? "quarantined" : "refused", in->sop_instance_uid, o.status, o.reason);
      break;
    case RCY_FAILED:
      a->n_failed++;
      rcy_log(RCY_LOG_ERROR, "ingest", "site %s: could not store %s (Out of Resources): %s", a->site->id,
              in->sop_instance_uid, o.reason);
      break;
  }
  snprintf(comment, len, "%s", o.comment);
  return o.status;
}

static void on_release(void *actx, int aborted) {
  assoc_ctx *a = actx;
  if (!a) return;
  char now[21];
  rcy_archive_timestamp(now, -1);
  rcy_error err = {0};
  pthread_mutex_lock(&a->d->audit_mu);
  if (rcy_archive_association_end(a->d->audit, a->audit_id, now, aborted, a->n_stored, a->n_duplicates, a->n_refused,
                                  a->n_failed, a->last_refusal[0] ? a->last_refusal : NULL, &err))
    rcy_log(RCY_LOG_ERROR, "ingest", "audit: %s", err.message);
  pthread_mutex_unlock(&a->d->audit_mu);
  if (a->site)
    rcy_log(RCY_LOG_INFO, "ingest",
            "association from site %s (AE %s) %s: %d stored, %d duplicates, %d refused, %d failed", a->site->id,
            a->calling, aborted ? "aborted" : "released", a->n_stored, a->n_duplicates, a->n_refused, a->n_failed);
  else
    rcy_log(RCY_LOG_INFO, "ingest", "association from peer AE %s %s", a->calling, aborted ? "aborted" : "released");
  rcy_qr_session_close(a->qr);
  free(a);
}

static unsigned on_services(void *actx) {
  assoc_ctx *a = actx;
  return (a->site ? RCY_DICOM_SERVICE_STORE : 0u) | rcy_qr_session_services(a->qr);
}

static unsigned on_find(void *actx, const rcy_dicom_qr_request *rq,
                        int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n), void *emit_ctx,
                        char *comment, size_t len) {
  return rcy_qr_session_find(((assoc_ctx *)actx)->qr, rq, emit, emit_ctx, comment, len);
}

static unsigned on_retrieve(void *actx, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *out, char *comment,
                            size_t len) {
  return rcy_qr_session_retrieve(((assoc_ctx *)actx)->qr, rq, out, comment, len);
}

static void on_retrieve_done(void *actx, const rcy_dicom_qr_request *rq, rcy_dicom_qr_files *files,
                             int n_completed, int n_failed, int n_warning, unsigned status) {
  rcy_qr_session_retrieve_done(((assoc_ctx *)actx)->qr, rq, files, n_completed, n_failed, n_warning, status);
}

typedef struct {
  const rcy_ingest_config *cfg;
  volatile int *stop;
  volatile int done;
} qc_thread_arg;

static void *qc_thread(void *arg) {
  qc_thread_arg *q = arg;
  rcy_store *db = NULL;
  rcy_error err = {0};
  rcy_store_location where = rcy_ingest_config_location(q->cfg);
  if (rcy_store_open_at(&db, &where, &err)) {
    rcy_log(RCY_LOG_ERROR, "ingest", "study checker cannot open the archive: %s", err.message);
    return NULL;
  }
  while (!*q->stop && !q->done) {
    int n = 0;
    if (rcy_ingest_check_stable(&n, db, q->cfg->stable_age_s, &err))
      rcy_log(RCY_LOG_ERROR, "ingest", "study check: %s", err.message);
    struct timespec ts = {0, 250 * 1000 * 1000};
    for (int i = 0; i < 4 && !*q->stop && !q->done; i++) nanosleep(&ts, NULL);
  }
  rcy_store_close(db);
  return NULL;
}

static void on_ready(void *ctx) {
  daemon_ctx *d = ctx;
  rcy_error err = {0};
  if (rcy_pollers_start(&d->pollers, d->cfg, d->pipe, d->stop, &err))
    rcy_log(RCY_LOG_ERROR, "poll", "cannot start polling: %s", err.message);
  rcy_log(RCY_LOG_INFO, "ingest", "ready: AE %s listening on %s port %d%s%.0d", d->cfg->ae_title,
          d->cfg->bind ? d->cfg->bind : "*", d->cfg->port, d->cfg->tls_port ? ", TLS port " : "", d->cfg->tls_port);
}

int rcy_ingest_run(const rcy_ingest_config *cfg, volatile int *stop, rcy_error *err) {
  /* Each association thread allocates and frees the same few hundred kB per instance (DCMTK's parse,
   * SQLite's pages); with glibc's defaults its arena is trimmed and regrown every time: about 12 page faults
   * per instance, measured. Keep up to 8 MB freed per arena instead (RSS stays flat: see the benchmark). */
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  daemon_ctx d;
  memset(&d, 0, sizeof d);
  d.cfg = cfg;
  d.stop = stop;
  pthread_mutex_init(&d.audit_mu, NULL);
  const char **trusted = calloc(cfg->n_sites + cfg->n_peers + 1, sizeof *trusted);
  d.certs = calloc(cfg->n_sites + 1, sizeof *d.certs);
  d.peer_certs = calloc(cfg->n_peers + 1, sizeof *d.peer_certs);
  int rc = (!trusted || !d.certs || !d.peer_certs) ? rcy_error_set(err, RCY_ENOMEM, "out of memory") : RCY_OK;
  size_t n_trusted = 0;
  for (size_t i = 0; !rc && i < cfg->n_sites; i++) {
    if (!cfg->sites[i].tls_certificate) continue;
    trusted[n_trusted++] = cfg->sites[i].tls_certificate;
    rc = load_cert_der(&d.certs[i], cfg->sites[i].tls_certificate, err);
  }
  for (size_t i = 0; !rc && i < cfg->n_peers; i++) {
    if (!cfg->peers[i].tls_certificate) continue;
    trusted[n_trusted++] = cfg->peers[i].tls_certificate;
    rc = load_cert_der(&d.peer_certs[i], cfg->peers[i].tls_certificate, err);
  }
  if (!rc) rc = rcy_pipeline_open(&d.pipe, cfg, err);
  rcy_store_location where = rcy_ingest_config_location(cfg);
  if (!rc) rc = rcy_store_open_at(&d.audit, &where, err);
  if (!rc) rc = rcy_pipeline_recover(d.pipe, err);
  if (!rc) {
    qc_thread_arg q = {cfg, stop, 0};
    pthread_t qt;
    int have_qc = pthread_create(&qt, NULL, qc_thread, &q) == 0;
    rcy_dicom_scp_config sc = {cfg->ae_title,       cfg->bind, cfg->port, cfg->tls_port, cfg->tls_certificate,
                               cfg->tls_private_key, trusted,  n_trusted, cfg->max_associations,
                               cfg->idle_timeout_s, cfg->max_connections, cfg->max_connections_per_host,
                               cfg->association_timeout_s};
    rcy_dicom_scp_handlers h = {&d,          on_associate, on_temp_path, on_store,        on_release,
                                on_services, on_find,      on_retrieve,  on_retrieve_done};
    rc = rcy_dicom_scp_run(&sc, &h, stop, 30, on_ready, err);
    /* The pollers stop on the same flag; the SCP may also have ended on an error, so raise it for them. */
    *stop = 1;
    rcy_pollers_join(d.pollers);
    q.done = 1;
    if (have_qc) pthread_join(qt, NULL);
  }
  rcy_pipeline_close(d.pipe);
  rcy_store_close(d.audit);
  for (size_t i = 0; d.certs && i < cfg->n_sites; i++) OPENSSL_free(d.certs[i].der);
  for (size_t i = 0; d.peer_certs && i < cfg->n_peers; i++) OPENSSL_free(d.peer_certs[i].der);
  free(d.certs);
  free(d.peer_certs);
  free(trusted);
  pthread_mutex_destroy(&d.audit_mu);
  return rc;
}
