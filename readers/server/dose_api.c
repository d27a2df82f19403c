/* The workstation's dose view (docs/api.md "Dose view", docs/dosimetry.md "In the workstation"): GET
 * /api/dose/{subject} answers the subject's 90Y dosimetry as rcy_dose_run_json (with the DVHs) plus the dose
 * grid's geometry and the CT slices' SOP Instance UIDs in grid order; /volume the dose grid as raw
 * little-endian Float32 (Gy) and /ct the CT on the same grid (the run puts the dose on the CT's grid) as
 * little-endian Int16 (HU), so the browser builds two local volumes of one geometry and fuses them. Thin: the
 * run (src/dose/run.c) finds the PET and CT in the archive and the tumours in the central reads'
 * segmentations; the server adds the label maps of [dose] voi_dir and the thresholds of [dose] thresholds.
 *
 * The run takes about a second (more on a large CT), so its outcome is computed on the first request and
 * kept in memory per subject (a few subjects, least recently used out) until the server restarts: a new
 * PET, CT or segmentation is seen after a restart. One run at a time: two readers opening the same subject
 * at once wait for one run, not two. */
#include "server_internal.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/dose.h"

#define DOSE_CACHE_SUBJECTS 4

typedef struct dose_entry {
  char subject[65];
  char *json;     /* the GET /api/dose/{subject} body */
  float *dose_gy; /* little-endian, grid order */
  size_t dose_bytes;
  int16_t *ct_hu; /* NULL when the run had no CT */
  size_t ct_bytes;
  char geometry[3][160]; /* X-Grid-Size, X-Grid-Origin-mm, X-Grid-Spacing-mm */
  unsigned long used;    /* LRU clock */
} dose_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* one run at a time (it uses threads itself) */
static dose_entry *cache[DOSE_CACHE_SUBJECTS];
static unsigned long cache_clock;

static void entry_free(dose_entry *e) {
  if (!e) return;
  free(e->json);
  free(e->dose_gy);
  free(e->ct_hu);
  free(e);
}

/* The cached entry of subject (its LRU clock advanced), or NULL. Call with cache_lock held. */
static dose_entry *cache_find(const char *subject) {
  for (int i = 0; i < DOSE_CACHE_SUBJECTS; i++)
    if (cache[i] && strcmp(cache[i]->subject, subject) == 0) {
      cache[i]->used = ++cache_clock;
      return cache[i];
    }
  return NULL;
}

static void cache_put(dose_entry *e) {
  pthread_mutex_lock(&cache_lock);
  int slot = 0;
  for (int i = 0; i < DOSE_CACHE_SUBJECTS; i++) {
    if (!cache[i]) {
      slot = i;
      break;
    }
    if (cache[i]->used < cache[slot]->used) slot = i;
  }
  entry_free(cache[slot]);
  e->used = ++cache_clock;
  cache[slot] = e;
  pthread_mutex_unlock(&cache_lock);
}

/* Subject ids become a folder name under [dose] voi_dir: only the characters the registry allows. */
static int valid_subject(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= 64 && s[0] != '.' &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), m = strlen(suf);
  return n > m && strcmp(s + n - m, suf) == 0;
}

/* "NAME=PATH" for every label map DIR/<subject>/<NAME>.nrrd|.nii|.nii.gz (sorted, so the compartments come in
 * the same order every time). No folder: no specs (the run then has only the tumours). */
static int voi_specs_for(char ***out, size_t *n_out, const char *voi_dir, const char *subject,
                         rcy_error *err) {
  *out = NULL;
  *n_out = 0;
  if (!voi_dir) return RCY_OK;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/%s", voi_dir, subject);
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, alphasort);
  if (n < 0) return RCY_OK;
  char **specs = calloc((size_t)n + 1, sizeof *specs);
  size_t k = 0;
  int rc = specs ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory listing %s", dir);
  for (int i = 0; i < n; i++) {
    const char *f = names[i]->d_name;
    const char *suf = has_suffix(f, ".nrrd")     ? ".nrrd"
                      : has_suffix(f, ".nii.gz") ? ".nii.gz"
                      : has_suffix(f, ".nii")    ? ".nii"
                                                 : NULL;
    if (rc == RCY_OK && suf && f[0] != '.') {
      size_t stem = strlen(f) - strlen(suf);
      size_t len = stem + 1 + strlen(dir) + 1 + strlen(f) + 1;
      specs[k] = malloc(len);
      if (!specs[k])
        rc = rcy_error_set(err, RCY_ENOMEM, "out of memory listing %s", dir);
      else
        snprintf(specs[k++], len, "%.*s=%s/%s", (int)stem, f, dir, f);
    }
    free(names[i]);
  }
  free(names);
  if (rc) {
    for (size_t i = 0; i < k; i++)
      free(specs[i]);
    free(specs);
    return rc;
  }
  *out = specs;
  *n_out = k;
  return RCY_OK;
}

static json_t *vec(const double *v, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_real(v[i]));
  return a;
}

static void put_le32(void *dst, const float *src, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  uint8_t *d = dst;
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &src[i], 4);
    d[4 * i] = (uint8_t)u, d[4 * i + 1] = (uint8_t)(u >> 8), d[4 * i + 2] = (uint8_t)(u >> 16),
          d[4 * i + 3] = (uint8_t)(u >> 24);
  }
#else
  memcpy(dst, src, n * sizeof(float));
#endif
}

static int16_t hu16(float hu) {
  if (!(hu > -32768.0f)) return -32768; /* also NaN */
  if (hu > 32767.0f) return 32767;
  return (int16_t)(hu < 0 ? hu - 0.5f : hu + 0.5f);
}

/* Runs the dosimetry of subject and builds the cache entry. RCY_ENOTFOUND when the subject has no 90Y PET
 * (the run's message), RCY_EINVAL when what it found cannot give a dose. */
static int compute(dose_entry **out, const rcy_server *srv, const char *subject, rcy_error *err) {
  const rcy_readers_config *cfg = srv->cfg;
  char **specs = NULL;
  size_t n_specs = 0;
  rcy_dose_run *run = NULL;
  dose_entry *e = NULL;
  json_t *doc = NULL;
  int rc = voi_specs_for(&specs, &n_specs, cfg->dose_voi_dir, subject, err);
  if (rc) goto out;
  rcy_dose_run_options o;
  rcy_dose_run_options_init(&o);
  rcy_store_location where = rcy_readers_config_location(cfg);
  o.archive = &where;
  o.subject = subject;
  o.voi_specs = (const char *const *)specs;
  o.n_voi_specs = n_specs;
  o.thresholds_ini = cfg->dose_thresholds;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rc = rcy_dose_run_execute(&run, &o, err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc) goto out;
  const rcy_dose_grid *g = &run->result.dose;
  size_t nvox = rcy_dose_grid_voxels(g);
  char *text = rcy_dose_run_json(run, 1);
  doc = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  e = calloc(1, sizeof *e);
  if (!doc || !json_is_object(doc) || !e || nvox == 0) {
    rc = rcy_error_set(err, nvox == 0 ? RCY_EINVAL : RCY_ENOMEM,
                       nvox == 0 ? "the dose of %s has no voxels" : "out of memory for the dose of %s",
                       subject);
    goto out;
  }
  snprintf(e->subject, sizeof e->subject, "%s", subject);
  e->dose_bytes = nvox * sizeof(float);
  e->dose_gy = malloc(e->dose_bytes);
  if (!e->dose_gy) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory for the dose of %s", subject);
    goto out;
  }
  put_le32(e->dose_gy, g->values, nvox);
  double max_gy = 0;
  for (size_t i = 0; i < nvox; i++)
    if (g->values[i] > max_gy) max_gy = g->values[i];

  /* The CT on the dose grid: the run puts the dose on the CT's grid, so this is the CT voxel for voxel. A CT
   * of another size (cannot happen with the run as specified) is not sent rather than sent misaligned. */
  const rcy_dicom_volume *ct = run->ct;
  int ct_aligned =
      ct && ct->values && ct->size[0] == g->size[0] && ct->size[1] == g->size[1] && ct->size[2] == g->size[2];
  json_t *ctj = json_null();
  if (ct_aligned) {
    e->ct_bytes = nvox * sizeof(int16_t);
    e->ct_hu = malloc(e->ct_bytes);
    if (!e->ct_hu) {
      rc = rcy_error_set(err, RCY_ENOMEM, "out of memory for the CT of %s", subject);
      goto out;
    }
    uint8_t *b = (uint8_t *)e->ct_hu;
    for (size_t i = 0; i < nvox; i++) {
      uint16_t u = (uint16_t)hu16(ct->values[i]);
      b[2 * i] = (uint8_t)u, b[2 * i + 1] = (uint8_t)(u >> 8);
    }
    json_t *uids = json_array();
    for (int k = 0; k < ct->size[2]; k++)
      json_array_append_new(uids, ct->slice_sop_uids ? json_string(ct->slice_sop_uids[k]) : json_null());
    ctj = json_pack("{s:s,s:s,s:o,s:s}", "series_instance_uid", ct->series_uid, "study_instance_uid",
                    ct->study_uid, "sop_instance_uids", uids, "volume", "ct");
  }
  json_t *grid =
      json_pack("{s:[iii],s:o,s:o,s:o,s:f,s:s,s:s}", "size", g->size[0], g->size[1], g->size[2], "origin_mm",
                vec(g->origin_mm, 3), "spacing_mm", vec(g->spacing_mm, 3), "direction", vec(g->direction, 9),
                "max_gy", max_gy, "volume", "volume", "dtype", "float32le");
  json_object_set_new(doc, "grid", grid);
  json_object_set_new(doc, "ct", ctj);
  json_object_set_new(doc, "frame_of_reference_uid",
                      json_string(ct ? ct->frame_of_reference_uid : run->pet->frame_of_reference_uid));
  json_object_set_new(doc, "computed_s",
                      json_real((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
  time_t now = time(NULL);
  struct tm tm;
  char at[32];
  gmtime_r(&now, &tm);
  strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_object_set_new(doc, "computed_at", json_string(at));
  e->json = json_dumps(doc, JSON_COMPACT);
  if (!e->json) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory for the dose of %s", subject);
    goto out;
  }
  snprintf(e->geometry[0], sizeof e->geometry[0], "%d %d %d", g->size[0], g->size[1], g->size[2]);
  snprintf(e->geometry[1], sizeof e->geometry[1], "%.17g %.17g %.17g", g->origin_mm[0], g->origin_mm[1],
           g->origin_mm[2]);
  snprintf(e->geometry[2], sizeof e->geometry[2], "%.17g %.17g %.17g", g->spacing_mm[0], g->spacing_mm[1],
           g->spacing_mm[2]);
  *out = e;
  e = NULL;
out:
  entry_free(e);
  json_decref(doc);
  rcy_dose_run_free(run);
  for (size_t i = 0; i < n_specs; i++)
    free(specs[i]);
  free(specs);
  return rc;
}

typedef struct {
  rcy_req *r;
  const char *subject;
  char role[16], reader[RCY_NAME_MAX + 1]; /* the first read the user may not see */
} seg_check;

/* Stops the walk (1) at a segmentation the run takes (not the site's) of a read the user may not see. */
static int hidden_segmentation(void *ctx, const char *sop, const char *role, const char *reader) {
  (void)sop;
  seg_check *c = ctx;
  if (strcmp(role, "site") == 0 || rcy_read_visible(c->r, c->subject, role, reader)) return 0;
  snprintf(c->role, sizeof c->role, "%s", role);
  snprintf(c->reader, sizeof c->reader, "%s", reader);
  return 1;
}

/* Who may see a subject's dose: the roles that may see its central data, and only when they may see every
 * read whose segmentations the run turns into tumours (src/dose/run_archive.c takes every stored segmentation
 * that is not the site's: both central readers' and the adjudicator's). So: QA and admin; a central reader as
 * long as no other reader's segmentation is in it (blinding between R1 and R2); an adjudicator once the
 * central reads are open to them (review.c); site users never (the tumours are the central reads' lesions) —
 * 404 for another site's subject, as every API, 403 for their own. 1 when allowed, else replies and returns
 * 0. */
static int may_see(rcy_req *r, const char *subject) {
  if (!valid_subject(subject) || !rcy_subject_visible(r, subject)) {
    rcy_reply_error(r, 404, "no subject %s visible to you", valid_subject(subject) ? subject : "");
    return 0;
  }
  const char *role = r->user.role;
  if (strcmp(role, "central") != 0 && strcmp(role, "adjudicator") != 0 && strcmp(role, "qa") != 0 &&
      strcmp(role, "admin") != 0) {
    rcy_reply_error(r, 403,
                    "role %s may not see the central dosimetry (its tumours are the central read's lesions)",
                    role);
    return 0;
  }
  seg_check c = {.r = r, .subject = subject};
  rcy_error err = {0};
  int rc = rcy_store_segmentations_each(r->store, subject, hidden_segmentation, &c, &err);
  if (rc == 1) {
    rcy_reply_error(r, 403, "the dose of %s includes the lesions of a %s read you may not see (blinded)",
                    subject, c.role);
    return 0;
  }
  if (rc) {
    rcy_reply_rcy_error(r, &err);
    return 0;
  }
  return 1;
}

typedef enum { PART_JSON, PART_DOSE, PART_CT } dose_part;

static int handle(rcy_req *r, const char *subject, dose_part part) {
  if (!may_see(r, subject)) return 0;
  pthread_mutex_lock(&cache_lock);
  dose_entry *e = cache_find(subject);
  pthread_mutex_unlock(&cache_lock);
  if (!e) {
    rcy_error err = {0};
    pthread_mutex_lock(&run_lock);
    pthread_mutex_lock(&cache_lock);
    e = cache_find(subject); /* computed by the request we waited for */
    pthread_mutex_unlock(&cache_lock);
    int rc = RCY_OK;
    if (!e) {
      rc = compute(&e, r->srv, subject, &err);
      if (rc == RCY_OK) cache_put(e);
    }
    pthread_mutex_unlock(&run_lock);
    if (rc == RCY_ENOTFOUND) return rcy_reply_error(r, 404, "%s", err.message);
    if (rc == RCY_EINVAL || rc == RCY_EDICOM) return rcy_reply_error(r, 422, "%s", err.message);
    if (rc) return rcy_reply_rcy_error(r, &err);
  }
  /* The reply copies the bytes (MHD_RESPMEM_MUST_COPY) under the lock: an eviction cannot free them
   * meanwhile. */
  pthread_mutex_lock(&cache_lock);
  e = cache_find(subject);
  if (!e) {
    pthread_mutex_unlock(&cache_lock);
    return rcy_reply_error(r, 503, "the dose of %s was evicted from the cache: ask again", subject);
  }
  if (part == PART_JSON) {
    rcy_reply_bytes(r, 200, "application/json", e->json, strlen(e->json), 0);
  } else if (part == PART_CT && !e->ct_hu) {
    pthread_mutex_unlock(&cache_lock);
    return rcy_reply_error(r, 404, "the dose of %s was computed without a CT", subject);
  } else {
    if (part == PART_DOSE)
      rcy_reply_bytes(r, 200, "application/octet-stream", e->dose_gy, e->dose_bytes, 0);
    else
      rcy_reply_bytes(r, 200, "application/octet-stream", e->ct_hu, e->ct_bytes, 0);
    if (r->status == 200) {
      rcy_reply_header(r, "X-Grid-Size", e->geometry[0]);
      rcy_reply_header(r, "X-Grid-Origin-mm", e->geometry[1]);
      rcy_reply_header(r, "X-Grid-Spacing-mm", e->geometry[2]);
      rcy_reply_header(r, "X-Data-Type", part == PART_DOSE ? "float32le; unit=Gy" : "int16le; unit=HU");
    }
  }
  pthread_mutex_unlock(&cache_lock);
  if (r->status == 200) rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

int rcy_handle_dose_get(rcy_req *r, const char *subject) {
  return handle(r, subject, PART_JSON);
}
int rcy_handle_dose_volume(rcy_req *r, const char *subject) {
  return handle(r, subject, PART_DOSE);
}
int rcy_handle_dose_ct(rcy_req *r, const char *subject) {
  return handle(r, subject, PART_CT);
}
