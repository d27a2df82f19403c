/* WADO-RS's side of the archive: which instances a study / series / instance URL names for this user (the
 * same visibility as QIDO and the workstation), their metadata as DICOM JSON, and frame lists. */
#include "recistry/dicomweb.h"

#include "recistry/dicom.h"
#include "recistry/reads.h"

#include "scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rcy_store *store;
  const rcy_user *user;
  rcy_dicomweb_instance *list;
  size_t n, cap;
  rcy_dicomweb_scope scope;
  rcy_error *err;
} list_ctx;

static int keep(void *ctx, const rcy_store_qido_row *row) {
  list_ctx *c = ctx;
  if (!rcy_dicomweb_scope_visible(&c->scope, row->subject_id)) return 0;
  if (strstr(row->path, "..") || row->path[0] == '/')
    return rcy_error_set(c->err, RCY_EINTERNAL, "bad path in the index for %s", row->sop_instance_uid);
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    rcy_dicomweb_instance *p = realloc(c->list, cap * sizeof *p);
    if (!p) return rcy_error_set(c->err, RCY_ENOMEM, "out of memory");
    c->list = p;
    c->cap = cap;
  }
  rcy_dicomweb_instance *in = &c->list[c->n];
  memset(in, 0, sizeof *in);
  snprintf(in->study_uid, sizeof in->study_uid, "%s", row->study_uid);
  snprintf(in->series_uid, sizeof in->series_uid, "%s", row->series_uid);
  snprintf(in->sop_instance_uid, sizeof in->sop_instance_uid, "%s", row->sop_instance_uid);
  snprintf(in->sop_class_uid, sizeof in->sop_class_uid, "%s", row->sop_class_uid ? row->sop_class_uid : "");
  snprintf(in->transfer_syntax_uid, sizeof in->transfer_syntax_uid, "%s",
           row->transfer_syntax_uid ? row->transfer_syntax_uid : "");
  size_t len = strlen(rcy_store_storage_dir(c->store)) + strlen(row->path) + 2;
  if (!(in->path = malloc(len))) return rcy_error_set(c->err, RCY_ENOMEM, "out of memory");
  snprintf(in->path, len, "%s/%s", rcy_store_storage_dir(c->store), row->path);
  c->n++;
  return 0;
}

void rcy_dicomweb_instances_free(rcy_dicomweb_instance *list, size_t n) {
  if (!list) return;
  for (size_t i = 0; i < n; i++)
    free(list[i].path);
  free(list);
}

int rcy_dicomweb_instances(rcy_dicomweb_instance **out, size_t *n, rcy_store *store, const rcy_user *user,
                           const char *study_uid, const char *series_uid, const char *sop_instance_uid,
                           rcy_error *err) {
  *out = NULL;
  *n = 0;
  rcy_store_qido_filter f = {0};
  f.site_id = strcmp(user->role, "site") == 0 ? user->site_id : NULL;
  f.study_uid = study_uid;
  f.series_uid = series_uid;
  f.sop_instance_uid = sop_instance_uid;
  list_ctx c = {store, user, NULL, 0, 0, {0}, err};
  int rc = rcy_dicomweb_scope_init(&c.scope, store, user, err);
  if (!rc) rc = rcy_store_qido(store, RCY_QIDO_INSTANCE, &f, keep, &c, err);
  rcy_dicomweb_scope_clear(&c.scope);
  if (rc < 0) {
    rcy_dicomweb_instances_free(c.list, c.n);
    return rc;
  }
  if (c.n == 0)
    return rcy_error_set(err, RCY_ENOTFOUND, "no %s %s visible to you",
                         sop_instance_uid ? "instance"
                         : series_uid     ? "series"
                                          : "study",
                         sop_instance_uid ? sop_instance_uid
                         : series_uid     ? series_uid
                                          : study_uid);
  *out = c.list;
  *n = c.n;
  return RCY_OK;
}

int rcy_dicomweb_metadata(json_t **out, const rcy_dicomweb_instance *list, size_t n, const char *base_url,
                          rcy_error *err) {
  *out = json_array();
  if (!*out) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    char bulk[1024];
    snprintf(bulk, sizeof bulk, "%s/studies/%s/series/%s/instances/%s/bulkdata", base_url, list[i].study_uid,
             list[i].series_uid, list[i].sop_instance_uid);
    char *text = NULL;
    int rc = rcy_dicom_json(&text, list[i].path, bulk, err);
    json_error_t je;
    json_t *j = rc ? NULL : json_loads(text, 0, &je);
    free(text);
    if (!rc && !j)
      rc = rcy_error_set(err, RCY_EINTERNAL, "DICOM JSON of %s does not parse: %s", list[i].sop_instance_uid,
                         je.text);
    if (rc) {
      json_decref(*out);
      *out = NULL;
      return rc;
    }
    json_array_append_new(*out, j);
  }
  return RCY_OK;
}

int rcy_dicomweb_frame_list(unsigned **frames, size_t *n, const char *text, rcy_error *err) {
  *frames = NULL;
  *n = 0;
  size_t cap = 1;
  for (const char *p = text; *p; p++)
    cap += *p == ',';
  if (cap > 4096) return rcy_error_set(err, RCY_EINVAL, "more than 4096 frames in one request");
  unsigned *f = malloc(cap * sizeof *f);
  if (!f) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  const char *p = text;
  for (size_t i = 0; i < cap; i++) {
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p || v < 1 || v > 1000000 || (*end != ',' && *end != '\0') || *p == '-' || *p == '+') {
      free(f);
      return rcy_error_set(err, RCY_EINVAL, "frame list '%s': give frame numbers from 1, comma-separated",
                           text);
    }
    f[i] = (unsigned)v;
    p = end + 1;
  }
  *frames = f;
  *n = cap;
  return RCY_OK;
}
