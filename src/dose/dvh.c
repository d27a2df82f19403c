/* One compartment's dose statistics: volume and mass, the mean absorbed dose (energy over mass, as MIRD
 * defines it), Dx (the minimum dose to the hottest x % of the volume), Vx (the % of the volume receiving at
 * least x Gy) and the cumulative dose-volume histogram. Definitions and the plastimatch cross-check:
 * docs/dosimetry.md. */
#include "dose_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

rcy_dose_kind rcy_dose_kind_from_name(const char *name) {
  if (!name) return RCY_DOSE_KIND_OTHER;
  if (!strncasecmp(name, "tumour", 6) || !strncasecmp(name, "tumor", 5) || !strncasecmp(name, "lesion", 6) ||
      ((name[0] == 'T' || name[0] == 't') && name[1] >= '0' && name[1] <= '9'))
    return RCY_DOSE_KIND_TUMOUR;
  if (!strcasecmp(name, "liver") || !strcasecmp(name, "whole_liver")) return RCY_DOSE_KIND_LIVER;
  if (!strncasecmp(name, "perfused", 8)) return RCY_DOSE_KIND_PERFUSED_LIVER;
  if (!strncasecmp(name, "lung", 4)) return RCY_DOSE_KIND_LUNG;
  return RCY_DOSE_KIND_OTHER;
}

const char *rcy_dose_kind_name(rcy_dose_kind kind) {
  switch (kind) {
  case RCY_DOSE_KIND_TUMOUR: return "tumour";
  case RCY_DOSE_KIND_LIVER: return "liver";
  case RCY_DOSE_KIND_PERFUSED_LIVER: return "perfused_liver";
  case RCY_DOSE_KIND_NORMAL_LIVER: return "normal_liver";
  case RCY_DOSE_KIND_PERFUSED_NORMAL: return "perfused_normal_liver";
  case RCY_DOSE_KIND_LUNG: return "lung";
  default: return "other";
  }
}

/* The k-th smallest (0-based) of v[0..n-1], reordering v (Hoare's selection; O(n) on average). */
static float select_kth(float *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
    float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j], v[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

/* Dx: sorted descending d[0..n-1], the hottest x % is d[0..m-1] with m = ceil(x n / 100): its minimum is
 * d[m-1], the (n - m)-th smallest. */
static double dx(float *v, size_t n, double x_pct) {
  size_t m = (size_t)ceil(x_pct / 100.0 * (double)n - 1e-9);
  if (m < 1) m = 1;
  if (m > n) m = n;
  return select_kth(v, n, n - m);
}

int rcy_dose_compartment_compute(rcy_dose_compartment *out, const char *name, rcy_dose_kind kind,
                                 const rcy_dose_grid *dose, const uint8_t *mask, const rcy_dose_grid *density,
                                 double fixed_density, double dvh_step_gy, rcy_error *err) {
  dose_voxels v;
  memset(out, 0, sizeof *out);
  int rc = dose_voxels_from_mask(&v, mask, rcy_dose_grid_voxels(dose), err);
  if (rc) return rc;
  rc = dose_compartment_from_voxels(out, name, kind, dose, &v, density, fixed_density, dvh_step_gy, err);
  dose_voxels_free(&v);
  return rc;
}

int dose_compartment_from_voxels(rcy_dose_compartment *out, const char *name, rcy_dose_kind kind,
                                 const rcy_dose_grid *dose, const dose_voxels *vox, const rcy_dose_grid *density,
                                 double fixed_density, double dvh_step_gy, rcy_error *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", name ? name : "");
  out->kind = kind;
  if (!(dvh_step_gy > 0)) dvh_step_gy = 1.0;
  size_t n = vox->n;
  if (n == 0) return rcy_error_set(err, RCY_EINVAL, "VOI %s: no voxel of it lies inside the dose grid", out->name);
  float *v = malloc(n * sizeof *v);
  if (!v) return rcy_error_set(err, RCY_ENOMEM, "VOI %s: out of memory", out->name);
  double voxel_ml = rcy_dose_grid_voxel_ml(dose), mass = 0, energy = 0; /* g, Gy*g */
  double vmin = INFINITY, vmax = -INFINITY;
  size_t m = 0, n100 = 0, n150 = 0, n205 = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t i = vox->idx[k];
    float d = dose->values[i];
    double rho = density ? density->values[i] : fixed_density;
    double g = rho * voxel_ml;
    mass += g;
    energy += d * g;
    if (d < vmin) vmin = d;
    if (d > vmax) vmax = d;
    n100 += d >= 100.0f, n150 += d >= 150.0f, n205 += d >= 205.0f;
    v[m++] = d;
  }
  out->voxels = n;
  out->volume_ml = (double)n * voxel_ml;
  out->mass_g = mass;
  out->mean_gy = mass > 0 ? energy / mass : 0;
  out->min_gy = vmin, out->max_gy = vmax;
  out->activity_gbq = energy / 1000.0 / RCY_DOSE_Y90_GY_KG_PER_GBQ;
  out->v100_pct = 100.0 * (double)n100 / (double)n;
  out->v150_pct = 100.0 * (double)n150 / (double)n;
  out->v205_pct = 100.0 * (double)n205 / (double)n;
  out->d50_gy = dx(v, n, 50), out->d70_gy = dx(v, n, 70), out->d90_gy = dx(v, n, 90);
  /* Cumulative DVH: volume_pct(b * step) = share of voxels with dose >= b * step. */
  size_t bins = (size_t)floor((vmax > 0 ? vmax : 0) / dvh_step_gy) + 2;
  if (bins > 200000) bins = 200000, dvh_step_gy = vmax / (double)(bins - 2);
  size_t *hist = calloc(bins, sizeof *hist);
  out->dvh = calloc(bins, sizeof *out->dvh);
  if (!hist || !out->dvh) {
    free(v), free(hist), free(out->dvh);
    out->dvh = NULL;
    return rcy_error_set(err, RCY_ENOMEM, "VOI %s: out of memory", out->name);
  }
  for (size_t i = 0; i < n; i++) {
    double b = v[i] > 0 ? floor(v[i] / dvh_step_gy) : 0;
    hist[b >= (double)bins ? bins - 1 : (size_t)b]++;
  }
  size_t above = 0;
  for (size_t b = bins; b-- > 0;) {
    above += hist[b];
    out->dvh[b].dose_gy = (double)b * dvh_step_gy;
    out->dvh[b].volume_pct = 100.0 * (double)above / (double)n;
  }
  out->n_dvh = bins;
  free(hist);
  free(v);
  return RCY_OK;
}

void rcy_dose_compartment_free(rcy_dose_compartment *c) {
  if (!c) return;
  free(c->dvh);
  c->dvh = NULL;
  c->n_dvh = 0;
}
