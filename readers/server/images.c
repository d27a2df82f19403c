/* Image endpoints: the worklist (subjects and timepoints this user may see), series of a study with their
 * instances in slice order, the stored DICOM files (WADO-URI style), server-rendered PNGs and thumbnails,
 * and key images. Site users see only their own site's subjects; everything is addressed by UIDs and trial
 * IDs, never by anything identifying a patient. */
#include "server_internal.h"

#include "recistry/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rcy_subject_visible(rcy_req *r, const char *subject_id) {
  return rcy_reads_subject_visible(r->store, &r->user, subject_id);
}

/* ---- worklist ---- */

typedef struct {
  rcy_req *r;
  json_t *subjects, *current;
  const char *role, *reader;
  json_t *doc;
  json_t *all_reads; /* qa/admin: subject -> its reads, for each timepoint's status of every read */
  rcy_error err;
} wl_ctx;

static int add_qc(void *ctx, const rcy_store_qc_finding *f) {
  json_array_append_new(ctx, json_pack("{s:s,s:s,s:s}", "code", f->code, "severity", f->severity, "message",
                                       f->message));
  return 0;
}

static int add_study(void *ctx, const rcy_store_study *s) {
  wl_ctx *c = ctx;
  const char *cur = c->current ? json_string_value(json_object_get(c->current, "subject_id")) : NULL;
  if (!cur || strcmp(cur, s->subject_id) != 0) {
    c->current = json_pack("{s:s,s:s,s:[]}", "subject_id", s->subject_id, "site_id", s->site_id, "timepoints");
    json_array_append_new(c->subjects, c->current);
    json_decref(c->doc);
    c->doc = NULL;
    if (c->role) {
      char *text = NULL;
      if (rcy_store_read_get(&text, c->r->store, s->subject_id, c->role, c->reader, NULL) == RCY_OK)
        c->doc = json_loads(text, 0, NULL);
      free(text);
    }
  }
  json_t *tps = json_object_get(c->current, "timepoints");
  size_t i;
  json_t *t;
  json_array_foreach(tps, i, t) if (strcmp(json_string_value(json_object_get(t, "timepoint")), s->timepoint) == 0)
      return 0;
  json_t *qc = json_array();
  int rc = rcy_store_qc_each(c->r->store, s->study_uid, add_qc, qc, &c->err);
  json_array_append_new(tps, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "timepoint", s->timepoint, "study_uid",
                                       s->study_uid, "date", s->study_date, "modality", s->modality, "status",
                                       rcy_reads_tp_status(c->doc, s->timepoint), "qc", qc));
  if (c->all_reads) { /* QA and admin read nothing themselves: the status is that of the reads that exist */
    json_t *tp = json_array_get(tps, json_array_size(tps) - 1);
    json_t *statuses = rcy_reads_statuses(json_object_get(c->all_reads, s->subject_id), s->timepoint);
    json_object_set_new(tp, "status", json_string(rcy_reads_overall_status(statuses)));
    json_object_set_new(tp, "reads", statuses);
  }
  return rc;
}

int rcy_handle_worklist(rcy_req *r) {
  wl_ctx c = {.r = r, .subjects = json_array()};
  if (!rcy_reads_own_read(&r->user, &c.role, &c.reader)) {
    /* QA and admin have no read of their own: each timepoint lists the status of the reads that exist. */
    c.role = c.reader = NULL;
    if (rcy_reads_of_subjects(&c.all_reads, r->store, NULL, &c.err)) {
      json_decref(c.subjects);
      return rcy_reply_rcy_error(r, &c.err);
    }
  }
  const char *site = strcmp(r->user.role, "site") == 0 ? r->user.site_id : NULL;
  int rc = rcy_store_studies_each(r->store, site, add_study, &c, &c.err);
  json_decref(c.doc);
  json_decref(c.all_reads);
  if (!rc) rc = rcy_reads_worklist_scope(c.subjects, r->store, &r->user, &c.err);
  if (rc) {
    json_decref(c.subjects);
    return rcy_reply_rcy_error(r, &c.err);
  }
  return rcy_reply_json(r, 200, json_pack("{s:o}", "subjects", c.subjects));
}

/* ---- series and instances ---- */

typedef struct {
  rcy_req *r;
  json_t *series;
  rcy_error err;
} series_ctx;

static int add_instance(void *ctx, const rcy_store_instance *in) {
  json_t *list = ctx;
  char url[160];
  snprintf(url, sizeof url, "/wado/instances/%s", in->sop_instance_uid);
  json_array_append_new(list, json_pack("{s:s,s:i,s:[f,f,f],s:s}", "sop_instance_uid", in->sop_instance_uid,
                                        "instance_number", in->instance_number, "position_mm", in->position_mm[0],
                                        in->position_mm[1], in->position_mm[2], "url", url));
  return 0;
}

static int add_series(void *ctx, const rcy_store_series *s) {
  series_ctx *c = ctx;
  char thumb[160];
  snprintf(thumb, sizeof thumb, "/api/series/%s/thumbnail.png", s->series_uid);
  json_t *instances = json_array();
  int rc = rcy_store_instances_each(c->r->store, s->series_uid, add_instance, instances, &c->err);
  json_array_append_new(c->series, json_pack("{s:s,s:s,s:i,s:s,s:f,s:s,s:o}", "series_uid", s->series_uid,
                                             "modality", s->modality, "series_number", s->series_number,
                                             "description", s->description, "slice_thickness_mm",
                                             s->slice_thickness_mm, "thumbnail_url", thumb, "instances",
                                             instances));
  return rc;
}

/* Finds the study's subject: 1 and visible, or replies 404 (unknown and not-yours look the same). */
typedef struct {
  const char *study_uid;
  char subject[65];
} study_find;

static int match_study(void *ctx, const rcy_store_study *s) {
  study_find *f = ctx;
  if (strcmp(s->study_uid, f->study_uid) != 0) return 0;
  rcy_copy_exact(f->subject, sizeof f->subject, s->subject_id); /* too long: empty, so "not visible" */
  return 1;
}

int rcy_handle_series(rcy_req *r, const char *study_uid) {
  study_find f = {study_uid, ""};
  rcy_error err = {0};
  const char *site = strcmp(r->user.role, "site") == 0 ? r->user.site_id : NULL;
  int rc = rcy_store_studies_each(r->store, site, match_study, &f, &err);
  if (rc < 0) return rcy_reply_rcy_error(r, &err);
  if (!f.subject[0]) return rcy_reply_error(r, 404, "no study %s visible to you", study_uid);
  series_ctx c = {.r = r, .series = json_array()};
  if (rcy_store_series_each(r->store, study_uid, add_series, &c, &c.err)) {
    json_decref(c.series);
    return rcy_reply_rcy_error(r, &c.err);
  }
  return rcy_reply_json(r, 200, json_pack("{s:o}", "series", c.series));
}

/* ---- instance files and renderings ---- */

typedef struct {
  char path[4096];
  char subject[65];
  char site[65];
  int cut; /* an index value did not fit: never compare a shortened identifier */
} inst_found;

static int keep_instance(void *ctx, const rcy_store_instance *in) {
  inst_found *f = ctx;
  f->cut = rcy_copy_exact(f->path, sizeof f->path, in->path) || rcy_copy_exact(f->subject, sizeof f->subject, in->subject_id) ||
           rcy_copy_exact(f->site, sizeof f->site, in->site_id);
  return 0;
}

/* The absolute path of a visible instance, or replies 404. */
static int instance_path(rcy_req *r, const char *sop, char *out, size_t size) {
  inst_found f = {0};
  rcy_error err = {0};
  int rc = rcy_store_instance_find(r->store, sop, keep_instance, &f, &err);
  if (rc == RCY_ENOTFOUND || (rc == RCY_OK && strcmp(r->user.role, "site") == 0 && strcmp(f.site, r->user.site_id)))
    return rcy_reply_error(r, 404, "no instance %s visible to you", sop), -1;
  if (rc) return rcy_reply_rcy_error(r, &err), -1;
  if (f.cut || strstr(f.path, "..") || f.path[0] == '/') return rcy_reply_error(r, 500, "bad path in the index"), -1;
  snprintf(out, size, "%s/%s", rcy_store_storage_dir(r->store), f.path);
  return 0;
}

int rcy_handle_wado(rcy_req *r, const char *sop) {
  char path[4200];
  if (instance_path(r, sop, path, sizeof path)) return 0;
  rcy_reply_file(r, path, "application/dicom");
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

/* A window parameter: absent → fallback; else a finite number in range, or replies 400. */
static int window_param(rcy_req *r, const char *key, double lo, double hi, double *out) {
  const char *v = rcy_req_query(r, key);
  if (!v) return 0;
  char *end;
  double d = strtod(v, &end);
  if (!*v || *end || !isfinite(d) || d < lo || d > hi)
    return rcy_reply_error(r, 400, "%s must be a number in [%g, %g], got '%s'", key, lo, hi, v), -1;
  *out = d;
  return 0;
}

static int reply_png(rcy_req *r, int rc, unsigned char *png, size_t len, const rcy_error *err) {
  if (rc) return rcy_reply_rcy_error(r, err);
  rcy_reply_bytes(r, 200, "image/png", png, len, 1);
  /* Patient images never stay in the browser's cache (a shared workstation, a later user). */
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

int rcy_handle_render(rcy_req *r, const char *sop) {
  double wc = 0, ww = 0;
  if (window_param(r, "wc", -100000, 100000, &wc) || window_param(r, "ww", 1, 200000, &ww)) return 0;
  if ((rcy_req_query(r, "wc") != NULL) != (rcy_req_query(r, "ww") != NULL))
    return rcy_reply_error(r, 400, "give both wc and ww, or neither");
  char path[4200];
  if (instance_path(r, sop, path, sizeof path)) return 0;
  unsigned char *png = NULL;
  size_t len = 0;
  rcy_error err = {0};
  int rc = rcy_render_frame_png(&png, &len, path, wc, ww, &err);
  return reply_png(r, rc, png, len, &err);
}

typedef struct {
  int n, want;
  char sop[65];
} middle_ctx;

static int count_instance(void *ctx, const rcy_store_instance *in) {
  middle_ctx *m = ctx;
  if (m->n++ == m->want) rcy_copy_exact(m->sop, sizeof m->sop, in->sop_instance_uid);
  return 0;
}

int rcy_handle_thumbnail(rcy_req *r, const char *series_uid) {
  middle_ctx m = {0, -1, ""};
  rcy_error err = {0};
  if (rcy_store_instances_each(r->store, series_uid, count_instance, &m, &err)) return rcy_reply_rcy_error(r, &err);
  if (m.n == 0) return rcy_reply_error(r, 404, "no series %s", series_uid);
  m.want = m.n / 2;
  m.n = 0;
  if (rcy_store_instances_each(r->store, series_uid, count_instance, &m, &err)) return rcy_reply_rcy_error(r, &err);
  char path[4200];
  if (instance_path(r, m.sop, path, sizeof path)) return 0;
  unsigned char *png = NULL;
  size_t len = 0;
  int rc = rcy_render_thumbnail_png(&png, &len, path, 128, &err);
  return reply_png(r, rc, png, len, &err);
}

int rcy_read_visible(rcy_req *r, const char *subject, const char *role, const char *reader) {
  return rcy_reads_read_visible(r->store, &r->user, subject, role, reader);
}

int rcy_handle_key_image(rcy_req *r, const char *file) {
  /* Names are 32 lowercase hex + ".png", made by the server: anything else cannot be one. */
  size_t n = strlen(file);
  if (n != 36 || strcmp(file + 32, ".png") != 0 || strspn(file, "0123456789abcdef") != 32)
    return rcy_reply_error(r, 404, "no such key image");
  /* An unguessable name is not a permission: the image shows a read, so it follows that read's blinding. */
  char id[33];
  memcpy(id, file, 32);
  id[32] = '\0';
  rcy_store_read_key owner;
  rcy_error err = {0};
  int rc = rcy_store_key_image_owner(&owner, r->store, id, &err);
  if (rc == RCY_ENOTFOUND || (rc == RCY_OK && !rcy_read_visible(r, owner.subject_id, owner.role, owner.reader)))
    return rcy_reply_error(r, 404, "no such key image");
  if (rc) return rcy_reply_rcy_error(r, &err);
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", r->srv->key_image_dir, file);
  rcy_reply_file(r, path, "image/png");
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}
