/* A click on an archived image -> the lesion's segmentation: find the instance's series in the index, stack the
 * slices around the click into a slab of modality values (HU for CT), hand it to rcy_imaging_segment_lesion,
 * and widen the slab while the lesion reaches its top or bottom. Only the slices needed are decoded: a
 * 512x512x300 series is never read whole for one click. */
#include "recistry/segment.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "recistry/dicom.h"

/* Half-height of the first slab, and how far it may grow. */
#define SLAB_HALF_MM 25.0
#define SLAB_MAX_HALF_MM 160.0

typedef struct {
  char sop[65], series[65], study[65], subject[65], timepoint[65];
  int found, cut;
} find_ctx;

static int keep_instance(void *ctx, const rcy_store_instance *in) {
  find_ctx *f = ctx;
  f->found = 1;
  f->cut = rcy_copy_exact(f->series, sizeof f->series, in->series_uid) ||
           rcy_copy_exact(f->study, sizeof f->study, in->study_uid) ||
           rcy_copy_exact(f->subject, sizeof f->subject, in->subject_id ? in->subject_id : "") ||
           rcy_copy_exact(f->timepoint, sizeof f->timepoint, in->timepoint ? in->timepoint : "");
  return 0;
}

typedef struct {
  rcy_store_instance *items; /* strings owned below */
  char (*sop)[65];
  char (*path)[4200];
  size_t n, cap;
  const char *storage;
  int bad_path;
} series_list;

static int add_instance(void *ctx, const rcy_store_instance *in) {
  series_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    rcy_store_instance *items = realloc(l->items, cap * sizeof *items);
    if (items) l->items = items;
    char(*sop)[65] = realloc(l->sop, cap * sizeof *sop);
    if (sop) l->sop = sop;
    char(*path)[4200] = realloc(l->path, cap * sizeof *path);
    if (path) l->path = path;
    if (!items || !sop || !path) return RCY_ENOMEM;
    l->cap = cap;
  }
  l->items[l->n] = *in;
  if (rcy_copy_exact(l->sop[l->n], 65, in->sop_instance_uid) || strstr(in->path, "..") || in->path[0] == '/' ||
      snprintf(l->path[l->n], 4200, "%s/%s", l->storage, in->path) >= 4200)
    l->bad_path = 1;
  l->n++;
  return 0;
}

static void series_list_free(series_list *l) {
  free(l->items);
  free(l->sop);
  free(l->path);
}

void rcy_segment_process_setup(void) {
  mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Position along the slice normal. */
static double along_normal(const rcy_store_instance *in) {
  if (!in->has_orientation) return in->position_mm[2];
  const double *o = in->orientation;
  double n[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
  return n[0] * in->position_mm[0] + n[1] * in->position_mm[1] + n[2] * in->position_mm[2];
}

/* Decoded slices of the series, loaded on demand (frames[k] NULL until needed) by a few threads: decoding is
 * most of a click's time, and a wider slab only adds the slices it lacks. */
typedef struct {
  const series_list *l;
  rcy_dicom_frame **frames;
  size_t next, end;
  pthread_mutex_t lock;
  int rc;
  rcy_error err;
} loader;

static void *load_worker(void *arg) {
  loader *ld = arg;
  for (;;) {
    pthread_mutex_lock(&ld->lock);
    while (ld->next < ld->end && ld->frames[ld->next]) ld->next++;
    size_t k = ld->next++;
    int stop = ld->rc != 0 || k >= ld->end;
    pthread_mutex_unlock(&ld->lock);
    if (stop) return NULL;
    rcy_dicom_frame *f = NULL;
    rcy_error e = {0};
    int rc = rcy_dicom_frame_load(&f, ld->l->path[k], &e);
    pthread_mutex_lock(&ld->lock);
    if (rc && !ld->rc) ld->rc = rc, ld->err = e;
    ld->frames[k] = f;
    pthread_mutex_unlock(&ld->lock);
  }
}

static int load_frames(rcy_dicom_frame **frames, const series_list *l, size_t k0, size_t k1, rcy_error *err) {
  loader ld = {.l = l, .frames = frames, .next = k0, .end = k1 + 1};
  pthread_mutex_init(&ld.lock, NULL);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int n = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
  pthread_t th[4];
  int started = 0;
  for (int t = 1; t < n; t++)
    if (pthread_create(&th[started], NULL, load_worker, &ld) == 0) started++;
  load_worker(&ld);
  for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
  pthread_mutex_destroy(&ld.lock);
  if (ld.rc) {
    if (err) *err = ld.err;
    return ld.rc;
  }
  return RCY_OK;
}

/* The slab's planes [k0, k1], checked to be stackable with the clicked image. */
static int slab_planes(const float **planes, rcy_dicom_frame **frames, const series_list *l, size_t k0, size_t k1,
                       int rows, int columns, rcy_error *err) {
  for (size_t k = k0; k <= k1; k++) {
    if (frames[k]->rows != rows || frames[k]->columns != columns)
      return rcy_error_set(err, RCY_EINVAL, "instance %s is %dx%d, not %dx%d as the clicked image: the series "
                                            "cannot be stacked", l->sop[k], frames[k]->columns, frames[k]->rows,
                           columns, rows);
    planes[k - k0] = frames[k]->values;
  }
  return RCY_OK;
}

int rcy_segment_at(rcy_segmentation **out, rcy_store *store, const char *sop, const double point[2],
                   rcy_error *err) {
  *out = NULL;
  double t0 = now_ms();
  find_ctx f = {0};
  int rc = rcy_store_instance_find(store, sop, keep_instance, &f, err);
  if (rc == RCY_ENOTFOUND || (!rc && (!f.found || f.cut)))
    return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s in the archive", sop);
  if (rc) return rc;
  series_list l = {.storage = rcy_store_storage_dir(store)};
  if ((rc = rcy_store_instances_each(store, f.series, add_instance, &l, err))) {
    series_list_free(&l);
    return rc == RCY_ENOMEM ? rcy_error_set(err, rc, "out of memory listing series %s", f.series) : rc;
  }
  if (l.bad_path) {
    series_list_free(&l);
    return rcy_error_set(err, RCY_EINTERNAL, "bad path in the index for series %s", f.series);
  }
  size_t seed_k = l.n;
  for (size_t k = 0; k < l.n; k++)
    if (strcmp(l.sop[k], sop) == 0) seed_k = k;
  const rcy_store_instance *seed_in = seed_k < l.n ? &l.items[seed_k] : NULL;
  if (!seed_in) {
    series_list_free(&l);
    return rcy_error_set(err, RCY_ENOTFOUND, "no instance %s in the archive", sop);
  }
  int rows = seed_in->rows, columns = seed_in->columns;
  double sc = seed_in->pixel_spacing_col_mm, sr = seed_in->pixel_spacing_row_mm;
  if (!(sc > 0) || !(sr > 0) || rows <= 0 || columns <= 0) {
    series_list_free(&l);
    return rcy_error_set(err, RCY_EINVAL, "instance %s has no Pixel Spacing or size: it cannot be measured", sop);
  }
  if (!(point[0] >= -0.5 && point[1] >= -0.5 && point[0] <= columns - 0.5 && point[1] <= rows - 0.5)) {
    series_list_free(&l);
    return rcy_error_set(err, RCY_EINVAL, "the point [%g, %g] lies outside the %dx%d image", point[0], point[1],
                         columns, rows);
  }
  /* The slice spacing: the median gap between neighbours along the normal (the index orders them along z). */
  double spacing = seed_in->slice_thickness_mm > 0 ? seed_in->slice_thickness_mm : 1.0;
  if (l.n > 1) {
    double *gaps = malloc((l.n - 1) * sizeof *gaps);
    if (!gaps) {
      series_list_free(&l);
      return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k + 1 < l.n; k++) gaps[k] = fabs(along_normal(&l.items[k + 1]) - along_normal(&l.items[k]));
    for (size_t a = 1; a < l.n - 1; a++) /* insertion sort: a few hundred gaps */
      for (size_t b = a; b > 0 && gaps[b - 1] > gaps[b]; b--) {
        double t = gaps[b];
        gaps[b] = gaps[b - 1];
        gaps[b - 1] = t;
      }
    if (gaps[(l.n - 1) / 2] > 0.01) spacing = gaps[(l.n - 1) / 2];
    free(gaps);
  }
  rcy_imaging_lesion *lesion = NULL;
  rcy_dicom_frame **frames = calloc(l.n, sizeof *frames);
  const float **planes = calloc(l.n, sizeof *planes);
  size_t k0 = 0, k1 = 0;
  double load_ms = 0;
  rc = frames && planes ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  /* The lesion's size on the clicked slice sizes the first slab and crop, so that a large lesion is not
   * segmented twice. */
  double radius = 0, first_half = SLAB_HALF_MM;
  if (!rc && !(rc = load_frames(frames, &l, seed_k, seed_k, err))) {
    radius = rcy_imaging_lesion_radius(frames[seed_k]->values, frames[seed_k]->columns, frames[seed_k]->rows,
                                       (double[]){sc, sr}, point);
    if (1.2 * radius + 5.0 > first_half) first_half = 1.2 * radius + 5.0;
  }
  for (double half = first_half; !rc; half *= 2) {
    size_t reach = (size_t)ceil(half / spacing);
    k0 = seed_k > reach ? seed_k - reach : 0;
    k1 = seed_k + reach < l.n - 1 ? seed_k + reach : l.n - 1;
    rcy_imaging_lesion_free(lesion);
    lesion = NULL;
    double tl = now_ms();
    if ((rc = load_frames(frames, &l, k0, k1, err))) break;
    load_ms += now_ms() - tl;
    if ((rc = slab_planes(planes, frames, &l, k0, k1, rows, columns, err))) break;
    rcy_imaging_slab slab = {columns, rows, (int)(k1 - k0 + 1), {sc, sr, spacing}, planes, radius};
    double seed[3] = {point[0], point[1], (double)(seed_k - k0)};
    if ((rc = rcy_imaging_segment_lesion(&lesion, &slab, seed, err))) break;
    /* Reaching the slab's first or last slice when the series goes on: widen and start again. */
    int cut_below = lesion->first_slice == 0 && k0 > 0, cut_above = lesion->last_slice == (int)(k1 - k0) && k1 < l.n - 1;
    if (!(cut_below || cut_above) || half >= SLAB_MAX_HALF_MM) break;
  }
  for (size_t k = 0; frames && k < l.n; k++) rcy_dicom_frame_free(frames[k]);
  free(frames);
  free(planes);
  if (rc) {
    rcy_imaging_lesion_free(lesion);
    series_list_free(&l);
    return rc;
  }
  rcy_segmentation *s = calloc(1, sizeof *s);
  if (s) s->slices = calloc(k1 - k0 + 1, sizeof *s->slices);
  if (!s || !s->slices) {
    free(s);
    rcy_imaging_lesion_free(lesion);
    series_list_free(&l);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  snprintf(s->series_uid, sizeof s->series_uid, "%s", f.series);
  snprintf(s->study_uid, sizeof s->study_uid, "%s", f.study);
  snprintf(s->subject_id, sizeof s->subject_id, "%s", f.subject);
  snprintf(s->timepoint, sizeof s->timepoint, "%s", f.timepoint);
  snprintf(s->seed_sop_instance_uid, sizeof s->seed_sop_instance_uid, "%s", sop);
  s->seed_point[0] = point[0];
  s->seed_point[1] = point[1];
  s->n_slices = k1 - k0 + 1;
  for (size_t k = k0; k <= k1; k++) {
    rcy_segment_slice *sl = &s->slices[k - k0];
    memcpy(sl->sop_instance_uid, l.sop[k], 65);
    memcpy(sl->path, l.path[k], sizeof sl->path);
    memcpy(sl->position_mm, l.items[k].position_mm, sizeof sl->position_mm);
  }
  s->rows = rows;
  s->columns = columns;
  s->spacing_mm[0] = sc;
  s->spacing_mm[1] = sr;
  s->spacing_mm[2] = spacing;
  static const double axial[6] = {1, 0, 0, 0, 1, 0};
  memcpy(s->orientation, seed_in->has_orientation ? seed_in->orientation : axial, sizeof s->orientation);
  s->lesion = lesion;
  s->elapsed_ms = now_ms() - t0;
  s->load_ms = load_ms;
  series_list_free(&l);
  *out = s;
  return RCY_OK;
}

void rcy_segmentation_free(rcy_segmentation *seg) {
  if (!seg) return;
  rcy_imaging_lesion_free(seg->lesion);
  free(seg->slices);
  free(seg);
}

static double r3(double v) { return round(v * 1000.0) / 1000.0; }

static json_t *axis(const rcy_segmentation *s, const double p1[2], const double p2[2]) {
  const char *sop = s->slices[s->lesion->long_slice].sop_instance_uid;
  return json_pack("{s:s,s:[f,f],s:[f,f]}", "sop_instance_uid", sop, "p1", r3(p1[0]), r3(p1[1]), "p2", r3(p2[0]),
                   r3(p2[1]));
}

json_t *rcy_segmentation_json(const rcy_segmentation *s, int with_contours) {
  const rcy_imaging_lesion *l = s->lesion;
  json_t *o = json_object();
  json_object_set_new(o, "long_mm", json_real(round(l->long_mm * 100) / 100));
  json_object_set_new(o, "short_mm", json_real(round(l->short_mm * 100) / 100));
  json_object_set_new(o, "volume_ml", json_real(round(l->volume_ml * 1000) / 1000));
  json_object_set_new(o, "long_axis", axis(s, l->long_p1, l->long_p2));
  json_object_set_new(o, "short_axis", axis(s, l->short_p1, l->short_p2));
  json_object_set_new(o, "slices", json_integer(l->last_slice - l->first_slice + 1));
  json_object_set_new(o, "first_sop_instance_uid", json_string(s->slices[l->first_slice].sop_instance_uid));
  json_object_set_new(o, "last_sop_instance_uid", json_string(s->slices[l->last_slice].sop_instance_uid));
  json_object_set_new(o, "voxels", json_integer((json_int_t)l->voxels));
  json_object_set_new(o, "method", json_string("semiautomatic"));
  json_object_set_new(o, "algorithm", json_string(RCY_SEGMENT_ALGORITHM " " RCY_SEGMENT_ALGORITHM_VERSION));
  json_object_set_new(o, "seed", json_pack("{s:s,s:[f,f]}", "sop_instance_uid", s->seed_sop_instance_uid, "point",
                                           s->seed_point[0], s->seed_point[1]));
  json_object_set_new(o, "series_instance_uid", json_string(s->series_uid));
  json_object_set_new(o, "lesion_value", json_real(round(l->lesion_value * 10) / 10));
  json_object_set_new(o, "background_value", json_real(round(l->background_value * 10) / 10));
  json_object_set_new(o, "boundary_value", json_real(round(l->boundary_level * 10) / 10));
  json_object_set_new(o, "smoothing_mm", json_real(l->smoothing_mm));
  json_object_set_new(o, "rim", json_boolean(l->rim));
  json_object_set_new(o, "pixel_spacing_mm", json_pack("[f,f]", s->spacing_mm[1], s->spacing_mm[0]));
  json_object_set_new(o, "slice_spacing_mm", json_real(r3(s->spacing_mm[2])));
  json_object_set_new(o, "elapsed_ms", json_real(round(s->elapsed_ms * 10) / 10));
  json_object_set_new(o, "load_ms", json_real(round(s->load_ms * 10) / 10));
  if (with_contours) {
    json_t *cs = json_array();
    for (size_t c = 0; c < l->n_contours; c++) {
      const rcy_imaging_contour *ct = &l->contours[c];
      json_t *pts = json_array();
      for (size_t q = 0; q < ct->n; q++)
        json_array_append_new(pts, json_pack("[f,f]", r3(ct->points[2 * q]), r3(ct->points[2 * q + 1])));
      json_array_append_new(cs, json_pack("{s:s,s:o}", "sop_instance_uid", s->slices[ct->slice].sop_instance_uid,
                                          "points", pts));
    }
    json_object_set_new(o, "contours", cs);
  }
  return o;
}

int rcy_segmentation_write_nrrd(const rcy_segmentation *s, const char *path, rcy_error *err) {
  const double *o = s->orientation;
  double n[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
  /* Index axis c's patient direction is column c: columns move along the row direction, rows along the column
   * direction, slices along the normal. */
  double direction[9] = {o[0], o[3], n[0], o[1], o[4], n[1], o[2], o[5], n[2]};
  int size[3] = {s->columns, s->rows, (int)s->n_slices};
  return rcy_imaging_mask_write_nrrd(path, s->lesion->mask, size, s->slices[0].position_mm, s->spacing_mm, direction,
                                     err);
}
