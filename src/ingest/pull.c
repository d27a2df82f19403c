/* `recistry pull`: fetch a study from a site's node. With C-GET every instance arrives on our association and
 * goes through the same pipeline as a C-STORE to the daemon (checks, durable store, index); with C-MOVE the
 * node delivers to our AE, i.e. to the running daemon, which applies the same checks. */
#include "ingest_internal.h"

#include <stdio.h>
#include <string.h>

#include "recistry/log.h"

typedef struct {
  rcy_pipeline *pipe;
  const rcy_ingest_site *site;
  int n_stored, n_refused;
} pull_ctx;

static int pull_temp(void *ctx, char *path, size_t len) {
  pull_ctx *c = ctx;
  return rcy_pipeline_temp_path(c->pipe, path, len);
}

static unsigned pull_store(void *ctx, const rcy_dicom_received *in, char *comment, size_t len) {
  pull_ctx *c = ctx;
  rcy_store_outcome o;
  rcy_pipeline_store(&o, c->pipe, c->site, in);
  if (o.result == RCY_STORED || o.result == RCY_DUPLICATE) c->n_stored++;
  else {
    c->n_refused++;
    rcy_log(RCY_LOG_WARN, "pull", "site %s: %s refused (status 0x%04x): %s", c->site->id, in->sop_instance_uid,
            o.status, o.reason);
  }
  snprintf(comment, len, "%s", o.comment);
  return o.status;
}

int rcy_ingest_retrieve(int *n_stored, int *n_refused, rcy_pipeline *pipe, const rcy_ingest_config *cfg,
                        const rcy_ingest_site *site, const char *study_uid, int timeout_s,
                        const volatile int *stop, rcy_error *err) {
  *n_stored = *n_refused = 0;
  pull_ctx c = {pipe, site, 0, 0};
  rcy_dicom_scp_handlers h = {&c, NULL, pull_temp, pull_store, NULL, NULL, NULL, NULL, NULL};
  rcy_dicom_peer peer;
  rcy_dicom_tls_client tls;
  rcy_ingest_site_node(&peer, &tls, cfg, site, timeout_s, stop);
  int completed = 0, failed = 0;
  int rc = rcy_dicom_retrieve_study(&completed, &failed, &peer, study_uid, &h, err);
  *n_stored = site->pull_move ? completed : c.n_stored;
  *n_refused = site->pull_move ? failed : c.n_refused;
  return rc;
}

int rcy_ingest_pull(int *n_stored, int *n_refused, const rcy_ingest_config *cfg, const char *site_id,
                    const char *study_uid, rcy_error *err) {
  *n_stored = *n_refused = 0;
  const rcy_ingest_site *site = rcy_ingest_config_site(cfg, site_id);
  if (!site) return rcy_error_set(err, RCY_ENOTFOUND, "%s: no [site:%s] section", cfg->path, site_id);
  if (!site->pacs_host)
    return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] pacs: not configured (host:port:AE_TITLE)", cfg->path,
                         site_id);
  if (!rcy_ingest_valid_uid(study_uid)) return rcy_error_set(err, RCY_EINVAL, "'%s' is not a valid Study Instance UID", study_uid);
  rcy_pipeline *pipe;
  int rc = rcy_pipeline_open(&pipe, cfg, err);
  if (rc) return rc;
  rc = rcy_ingest_retrieve(n_stored, n_refused, pipe, cfg, site, study_uid, 0, NULL, err);
  rcy_pipeline_close(pipe);
  return rc;
}
