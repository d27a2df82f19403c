/* Dose grids: scalar volumes in patient coordinates (activity, density, dose) and the resampling between
 * the emission grid, the CT grid and the label maps' grids. Resampling is piecewise constant (the source
 * voxel containing the target voxel's centre): a PET voxel holds the mean activity over its box, so this
 * conserves activity, where trilinear interpolation would smear a hot tumour into its rim. */
#include "dose_internal.h"

#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

size_t rcy_dose_grid_voxels(const rcy_dose_grid *g) {
  return (size_t)g->size[0] * (size_t)g->size[1] * (size_t)g->size[2];
}

double rcy_dose_grid_voxel_ml(const rcy_dose_grid *g) {
  return g->spacing_mm[0] * g->spacing_mm[1] * g->spacing_mm[2] / 1000.0;
}

/* A CT-sized grid is 300 MB: faulting it in 4 kB pages costs more than the LDM itself on a virtual machine
 * (measured: two thirds of the time in the page-fault path). Large buffers ask for transparent huge pages. */
void *rcy_dose_big_zalloc(size_t bytes) {
  const size_t huge = 2u << 20;
  if (bytes < 4 * huge) return calloc(1, bytes ? bytes : 1);
  size_t rounded = (bytes + huge - 1) / huge * huge;
  void *p = NULL;
  if (posix_memalign(&p, huge, rounded)) return NULL;
  madvise(p, rounded, MADV_HUGEPAGE);
  memset(p, 0, bytes);
  return p;
}

int rcy_dose_grid_alloc(rcy_dose_grid *g, const int size[3], const double origin_mm[3], const double spacing_mm[3],
                        const double direction[9], rcy_error *err) {
  memset(g, 0, sizeof *g);
  for (int a = 0; a < 3; a++) {
    if (size[a] <= 0 || !(spacing_mm[a] > 0) || !isfinite(origin_mm[a]))
      return rcy_error_set(err, RCY_EINVAL, "dose grid: invalid size or spacing along axis %d", a);
    g->size[a] = size[a];
    g->origin_mm[a] = origin_mm[a];
    g->spacing_mm[a] = spacing_mm[a];
  }
  memcpy(g->direction, direction, sizeof g->direction);
  g->values = rcy_dose_big_zalloc(rcy_dose_grid_voxels(g) * sizeof *g->values);
  if (!g->values) return rcy_error_set(err, RCY_ENOMEM, "dose grid: out of memory (%d x %d x %d)", size[0], size[1], size[2]);
  return RCY_OK;
}

void rcy_dose_grid_free(rcy_dose_grid *g) {
  if (!g) return;
  free(g->values);
  g->values = NULL;
}

/* The affine map from dst index space to src index space (both orthonormal directions): src_idx =
 * M * dst_idx + t, with M = S_src^-1 D_src^T D_dst S_dst and t = S_src^-1 D_src^T (o_dst - o_src). */
void dose_index_map(double m[9], double t[3], const double o_dst[3], const double s_dst[3],
                      const double d_dst[9], const double o_src[3], const double s_src[3], const double d_src[9]) {
  for (int r = 0; r < 3; r++) {
    for (int c = 0; c < 3; c++) {
      double v = 0;
      for (int a = 0; a < 3; a++) v += d_src[a * 3 + r] * d_dst[a * 3 + c];
      m[r * 3 + c] = v * s_dst[c] / s_src[r];
    }
    double v = 0;
    for (int a = 0; a < 3; a++) v += d_src[a * 3 + r] * (o_dst[a] - o_src[a]);
    t[r] = v / s_src[r];
  }
}

/* Calls back (dst voxel index, src voxel index or -1 outside) for every dst voxel, row by row. */
typedef void (*visit_fn)(size_t dst, long src, void *ctx);

static void each_nearest(const int dst_size[3], const double m[9], const double t[3], const int src_size[3],
                         visit_fn fn, void *ctx) {
  size_t nx = (size_t)dst_size[0];
  for (int k = 0; k < dst_size[2]; k++)
    for (int j = 0; j < dst_size[1]; j++) {
      double base[3];
      for (int r = 0; r < 3; r++) base[r] = m[r * 3 + 1] * j + m[r * 3 + 2] * k + t[r];
      size_t row = ((size_t)k * dst_size[1] + j) * nx;
      for (size_t i = 0; i < nx; i++) {
        long s = -1;
        /* floor(x + 0.5): the source voxel whose box contains the point (its centre is the nearest). */
        double x = base[0] + m[0] * (double)i, y = base[1] + m[3] * (double)i, z = base[2] + m[6] * (double)i;
        long si = (long)floor(x + 0.5), sj = (long)floor(y + 0.5), sk = (long)floor(z + 0.5);
        if (si >= 0 && sj >= 0 && sk >= 0 && si < src_size[0] && sj < src_size[1] && sk < src_size[2])
          s = (sk * (long)src_size[1] + sj) * (long)src_size[0] + si;
        fn(row + i, s, ctx);
      }
    }
}

typedef struct {
  float *dst;
  const float *src;
} float_copy;

static void copy_float(size_t d, long s, void *ctx) {
  float_copy *c = ctx;
  c->dst[d] = s < 0 ? 0.0f : c->src[s];
}

typedef struct {
  uint8_t *dst;
  const uint8_t *src;
} mask_copy;

static void copy_mask(size_t d, long s, void *ctx) {
  mask_copy *c = ctx;
  c->dst[d] = s < 0 ? 0 : (c->src[s] != 0);
}

static int check_direction(const double d[9], const char *what, rcy_error *err) {
  for (int c = 0; c < 3; c++) {
    double n = 0;
    for (int a = 0; a < 3; a++) n += d[a * 3 + c] * d[a * 3 + c];
    if (fabs(n - 1) > 1e-3) return rcy_error_set(err, RCY_EINVAL, "%s: direction cosines are not unit vectors", what);
  }
  return RCY_OK;
}

int rcy_dose_grid_resample(rcy_dose_grid *dst, const rcy_dose_grid *src, rcy_error *err) {
  if (!dst || !src || !dst->values || !src->values) return rcy_error_set(err, RCY_EINVAL, "resample: no grid");
  int rc = check_direction(src->direction, "resample source", err);
  if (!rc) rc = check_direction(dst->direction, "resample target", err);
  if (rc) return rc;
  double m[9], t[3];
  dose_index_map(m, t, dst->origin_mm, dst->spacing_mm, dst->direction, src->origin_mm, src->spacing_mm, src->direction);
  float_copy c = {dst->values, src->values};
  each_nearest(dst->size, m, t, src->size, copy_float, &c);
  return RCY_OK;
}

int rcy_dose_mask_resample(uint8_t *out, const rcy_dose_grid *dst, const uint8_t *mask, const int size[3],
                           const double origin_mm[3], const double spacing_mm[3], const double direction[9],
                           rcy_error *err) {
  if (!out || !dst || !mask) return rcy_error_set(err, RCY_EINVAL, "mask resample: no mask");
  for (int a = 0; a < 3; a++)
    if (size[a] <= 0 || !(spacing_mm[a] > 0)) return rcy_error_set(err, RCY_EINVAL, "mask resample: invalid geometry");
  int rc = check_direction(direction, "label map", err);
  if (rc) return rc;
  double m[9], t[3];
  dose_index_map(m, t, dst->origin_mm, dst->spacing_mm, dst->direction, origin_mm, spacing_mm, direction);
  mask_copy c = {out, mask};
  each_nearest(dst->size, m, t, size, copy_mask, &c);
  return RCY_OK;
}

void dose_grid_view(rcy_dose_grid *g, const rcy_dicom_volume *v) {
  memcpy(g->size, v->size, sizeof g->size);
  memcpy(g->origin_mm, v->origin_mm, sizeof g->origin_mm);
  memcpy(g->spacing_mm, v->spacing_mm, sizeof g->spacing_mm);
  memcpy(g->direction, v->direction, sizeof g->direction);
  g->values = v->values;
}

int rcy_dose_same_geometry(const rcy_dose_grid *g, const int size[3], const double origin_mm[3],
                       const double spacing_mm[3], const double direction[9]) {
  for (int a = 0; a < 3; a++)
    if (g->size[a] != size[a] || fabs(g->origin_mm[a] - origin_mm[a]) > 1e-3 ||
        fabs(g->spacing_mm[a] - spacing_mm[a]) > 1e-4)
      return 0;
  for (int i = 0; i < 9; i++)
    if (fabs(g->direction[i] - direction[i]) > 1e-5) return 0;
  return 1;
}
