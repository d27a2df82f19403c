/* A subject's dosimetry inputs from the archive: the latest study with a 90Y PET, the CT of that study (a
 * PET/CT shares one frame of reference; compute refuses another), the latest MAA SPECT (NM) not after the PET,
 * and the tumours the central read segmented on that very CT (stored DICOM SEG). Segmentations on other CTs
 * (the RECIST timepoints' diagnostic CTs) are left out: recistry does not register images (docs/dosimetry.md). */
#include "dose_internal.h"

#include "recistry/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char study_uid[65], date[16];
} study_ref;

typedef struct {
  study_ref *s;
  size_t n, cap;
} studies;

static int on_study(void *ctx, const rcy_store_study *st) {
  studies *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    study_ref *s = realloc(l->s, cap * sizeof *s);
    if (!s) return RCY_ENOMEM;
    l->s = s, l->cap = cap;
  }
  snprintf(l->s[l->n].study_uid, sizeof l->s[l->n].study_uid, "%s", st->study_uid);
  snprintf(l->s[l->n].date, sizeof l->s[l->n].date, "%s", st->study_date ? st->study_date : "");
  l->n++;
  return 0;
}

typedef struct {
  const char *modality;
  char series_uid[65];
  int n_instances;
} series_pick;

/* The series of that modality with the most instances. */
static int on_series(void *ctx, const rcy_store_series *se) {
  series_pick *p = ctx;
  if (se->modality && !strcmp(se->modality, p->modality) && se->n_instances > p->n_instances) {
    snprintf(p->series_uid, sizeof p->series_uid, "%s", se->series_uid);
    p->n_instances = se->n_instances;
  }
  return 0;
}

typedef struct {
  const char *storage;
  char **paths;
  size_t n, cap;
} paths;

static int on_instance(void *ctx, const rcy_store_instance *in) {
  paths *p = ctx;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    char **x = realloc(p->paths, cap * sizeof *x);
    if (!x) return RCY_ENOMEM;
    p->paths = x, p->cap = cap;
  }
  size_t len = strlen(p->storage) + strlen(in->path) + 2;
  if (!(p->paths[p->n] = malloc(len))) return RCY_ENOMEM;
  snprintf(p->paths[p->n++], len, "%s/%s", p->storage, in->path);
  return 0;
}

static void paths_free(paths *p) {
  for (size_t i = 0; i < p->n; i++) free(p->paths[i]);
  free(p->paths);
}

static int read_series(rcy_dicom_volume **out, rcy_store *store, const char *series_uid, rcy_error *err) {
  paths p = {rcy_store_storage_dir(store), NULL, 0, 0};
  int rc = rcy_store_instances_each(store, series_uid, on_instance, &p, err);
  if (rc == RCY_ENOMEM) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory listing series %s", series_uid);
  if (!rc) rc = rcy_dicom_volume_read_files(out, (const char *const *)p.paths, p.n, err);
  paths_free(&p);
  return rc;
}

/* Index of the latest study (by date; ties: the later in the index's order) with a series of modality, not
 * after `not_after` when given. -1 when none. */
static int latest_with(series_pick *pick, rcy_store *store, const studies *l, const char *modality,
                       const char *not_after, rcy_error *err) {
  for (size_t i = l->n; i-- > 0;) {
    if (not_after && *not_after && strcmp(l->s[i].date, not_after) > 0) continue;
    series_pick p = {modality, "", 0};
    int rc = rcy_store_series_each(store, l->s[i].study_uid, on_series, &p, err);
    if (rc) return rc;
    if (p.series_uid[0]) {
      *pick = p;
      return (int)i;
    }
  }
  return -1;
}

typedef struct {
  const char *archive_dir;
  const rcy_dicom_volume *ct;
  dose_voi_owned *v;
  size_t n, cap;
  rcy_error *err;
} seg_walk;

static int on_segmentation(void *ctx, const char *sop_uid, const char *role, const char *reader) {
  (void)reader;
  seg_walk *w = ctx;
  if (!strcmp(role, "site")) return 0; /* the site investigator's masks are not the central measurement */
  char path[4096];
  snprintf(path, sizeof path, "%s/segmentations/%s.dcm", w->archive_dir, sop_uid);
  dose_voi_owned voi;
  rcy_error quiet = {0};
  if (dose_voi_from_seg(&voi, "", path, w->ct, &quiet)) return 0; /* drawn on another CT */
  if (rcy_dose_kind_from_name(voi.name) != RCY_DOSE_KIND_TUMOUR) {
    char name[64];
    snprintf(name, sizeof name, "tumour_%.56s", voi.name);
    snprintf(voi.name, sizeof voi.name, "%s", name);
  }
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 4;
    dose_voi_owned *x = realloc(w->v, cap * sizeof *x);
    if (!x) {
      dose_voi_free(&voi);
      return rcy_error_set(w->err, RCY_ENOMEM, "out of memory");
    }
    w->v = x, w->cap = cap;
  }
  w->v[w->n++] = voi;
  return 0;
}

int dose_run_from_archive(rcy_dose_run *run, dose_voi_owned **vois, size_t *n_vois, const rcy_dose_run_options *o,
                          rcy_error *err) {
  *vois = NULL, *n_vois = 0;
  rcy_store *store;
  int rc = rcy_store_open_at(&store, o->archive, err);
  if (rc) return rc;
  studies l = {0};
  rc = rcy_store_subject_studies_each(store, o->subject, on_study, &l, err);
  if (rc == RCY_ENOMEM) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  series_pick pet = {0}, ct = {0}, nm = {0};
  int at = -1;
  if (!rc) {
    at = latest_with(&pet, store, &l, "PT", NULL, err);
    if (at < -1) rc = at;
    else if (at < 0)
      rc = rcy_error_set(err, RCY_ENOTFOUND, "subject %s: no PET (PT) series in the archive", o->subject);
  }
  if (!rc) {
    ct.modality = "CT";
    rc = rcy_store_series_each(store, l.s[at].study_uid, on_series, &ct, err);
  }
  if (!rc) rc = read_series(&run->pet, store, pet.series_uid, err);
  if (!rc && ct.series_uid[0]) rc = read_series(&run->ct, store, ct.series_uid, err);
  if (!rc && !o->maa_dir) {
    int m = latest_with(&nm, store, &l, "NM", l.s[at].date, err);
    if (m < -1) rc = m;
    else if (m >= 0) {
      series_pick mct = {"CT", "", 0};
      rc = read_series(&run->maa, store, nm.series_uid, err);
      if (!rc && !o->maa_ct_dir) rc = rcy_store_series_each(store, l.s[m].study_uid, on_series, &mct, err);
      if (!rc && mct.series_uid[0]) rc = read_series(&run->maa_ct, store, mct.series_uid, err);
    }
  }
  if (!rc && run->ct) {
    seg_walk w = {o->archive->archive_dir, run->ct, NULL, 0, 0, err};
    rc = rcy_store_segmentations_each(store, o->subject, on_segmentation, &w, err);
    *vois = w.v, *n_vois = w.n;
  }
  free(l.s);
  rcy_store_close(store);
  return rc;
}
