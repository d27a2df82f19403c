/* Local deposition: every 90Y beta deposits its energy in the voxel where it decays (the mean beta range,
 * 2.5 mm in soft tissue, is below a PET voxel), so a voxel's dose is its activity at administration times the
 * energy of the complete decay, over its mass: D = 49.67 Gy·kg/GBq * A / m = 49.67e-6 * C(Bq/mL) / rho(g/mL).
 * A voxel-S-value convolution (rcy_dose_convolve) spreads that energy instead, for voxels smaller than the
 * range. docs/dosimetry.md. */
#include "dose_internal.h"

#include <pthread.h>
#include <unistd.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this the voxel is air (lung parenchyma is ~0.25): LDM would divide noise by nothing. */
#define MIN_DENSITY_G_PER_ML 0.01

int rcy_dose_ldm(rcy_dose_grid *dose, const rcy_dose_grid *activity, double decay_factor,
                 const rcy_dose_grid *density, double fixed_density, rcy_error *err) {
  if (!dose || !activity || !activity->values) return rcy_error_set(err, RCY_EINVAL, "ldm: no activity");
  if (!(decay_factor > 0) || !isfinite(decay_factor))
    return rcy_error_set(err, RCY_EINVAL, "ldm: invalid decay factor %g", decay_factor);
  if (!density && !(fixed_density > 0))
    return rcy_error_set(err, RCY_EINVAL, "ldm: neither a CT nor a fixed density (--density)");
  size_t n = rcy_dose_grid_voxels(activity);
  if (density && (rcy_dose_grid_voxels(density) != n || memcmp(density->size, activity->size, sizeof density->size)))
    return rcy_error_set(err, RCY_EINVAL, "ldm: the density and activity grids differ");
  int rc = rcy_dose_grid_alloc(dose, activity->size, activity->origin_mm, activity->spacing_mm, activity->direction, err);
  if (rc) return rc;
  const double k = RCY_DOSE_Y90_GY_KG_PER_GBQ * 1e-6 * decay_factor; /* Gy per (Bq/mL) per (g/mL) */
  const float *c = activity->values;
  float *d = dose->values;
  if (!density) {
    double kf = k / fixed_density;
    for (size_t i = 0; i < n; i++) d[i] = c[i] > 0 ? (float)(kf * c[i]) : 0.0f;
  } else {
    const float *rho = density->values;
    for (size_t i = 0; i < n; i++)
      d[i] = (c[i] > 0 && rho[i] >= MIN_DENSITY_G_PER_ML) ? (float)(k * c[i] / rho[i]) : 0.0f;
  }
  return RCY_OK;
}

int rcy_dose_convolve(rcy_dose_grid *dose, const float *kernel, int n, rcy_error *err) {
  if (!dose || !dose->values || !kernel) return rcy_error_set(err, RCY_EINVAL, "convolve: no dose or kernel");
  if (n < 1 || n % 2 == 0 || n > 31) return rcy_error_set(err, RCY_EINVAL, "convolve: kernel side %d is not odd 1..31", n);
  size_t nv = rcy_dose_grid_voxels(dose);
  float *out = calloc(nv, sizeof *out);
  if (!out) return rcy_error_set(err, RCY_ENOMEM, "convolve: out of memory");
  int h = n / 2, sx = dose->size[0], sy = dose->size[1], sz = dose->size[2];
  /* Scatter from the voxels that hold dose: most of a CT-sized grid is zero. Energy leaving the grid is
   * lost, as it is from the patient. */
  for (int k = 0; k < sz; k++)
    for (int j = 0; j < sy; j++)
      for (int i = 0; i < sx; i++) {
        float v = dose->values[((size_t)k * sy + j) * sx + i];
        if (v == 0) continue;
        for (int c = -h; c <= h; c++) {
          int kk = k + c;
          if (kk < 0 || kk >= sz) continue;
          for (int b = -h; b <= h; b++) {
            int jj = j + b;
            if (jj < 0 || jj >= sy) continue;
            const float *kr = kernel + ((size_t)(c + h) * n + (b + h)) * n;
            float *orow = out + ((size_t)kk * sy + jj) * sx;
            for (int a = -h; a <= h; a++) {
              int ii = i + a;
              if (ii >= 0 && ii < sx) orow[ii] += v * kr[a + h];
            }
          }
        }
      }
  free(dose->values);
  dose->values = out;
  return RCY_OK;
}

/* ---- LDM on the CT grid, fused with the resampling and the density, on a few threads ---- */

#define HU_MIN (-1024)
#define HU_LUT 4096 /* -1024 .. 3071 HU: the range of 12-bit CT */

typedef struct {
  const rcy_dose_grid *pet, *ct;
  rcy_dose_grid *dose, *density;
  const float *lut;
  double m[9], t[3], k_gy, fixed;
  int k0, k1;
} slab_job;

static inline double density_of(const slab_job *j, size_t v) {
  if (!j->lut) return j->fixed;
  long hu = lrintf(j->ct->values[v]);
  hu = hu < HU_MIN ? HU_MIN : hu >= HU_MIN + HU_LUT ? HU_MIN + HU_LUT - 1 : hu;
  float rho = j->lut[hu - HU_MIN];
  j->density->values[v] = rho;
  return rho;
}

static inline float ldm_voxel(const slab_job *j, float c, double rho) {
  return (c > 0 && rho >= MIN_DENSITY_G_PER_ML) ? (float)(j->k_gy * c / rho) : 0.0f;
}

/* The PET index along one axis for each CT index along it, -1 outside (axis-aligned grids only). */
static long *axis_table(int n_ct, double scale, double offset, int n_pet) {
  long *t = malloc((size_t)n_ct * sizeof *t);
  if (!t) return NULL;
  for (int i = 0; i < n_ct; i++) {
    long s = (long)floor(scale * i + offset + 0.5);
    t[i] = s >= 0 && s < n_pet ? s : -1;
  }
  return t;
}

static void *ldm_slab(void *arg) {
  slab_job *j = arg;
  const int nx = j->ct->size[0], ny = j->ct->size[1], nz = j->ct->size[2];
  const int *ps = j->pet->size;
  int aligned = 1;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      if (r != c && fabs(j->m[r * 3 + c]) > 1e-9) aligned = 0;
  long *tx = NULL, *ty = NULL, *tz = NULL;
  if (aligned) {
    tx = axis_table(nx, j->m[0], j->t[0], ps[0]);
    ty = axis_table(ny, j->m[4], j->t[1], ps[1]);
    tz = axis_table(nz, j->m[8], j->t[2], ps[2]);
    if (!tx || !ty || !tz) aligned = 0;
  }
  for (int k = j->k0; k < j->k1; k++)
    for (int y = 0; y < ny; y++) {
      size_t row = ((size_t)k * ny + y) * (size_t)nx;
      if (aligned) {
        /* The common case (PET and CT of one PET/CT, both axial): a table lookup per voxel. */
        const float *prow = tz[k] >= 0 && ty[y] >= 0 ? j->pet->values + ((size_t)tz[k] * ps[1] + (size_t)ty[y]) * ps[0] : NULL;
        for (int x = 0; x < nx; x++) {
          float c = prow && tx[x] >= 0 ? prow[tx[x]] : 0.0f;
          j->dose->values[row + x] = ldm_voxel(j, c, density_of(j, row + x));
        }
        continue;
      }
      double base[3];
      for (int r = 0; r < 3; r++) base[r] = j->m[r * 3 + 1] * y + j->m[r * 3 + 2] * k + j->t[r];
      for (int x = 0; x < nx; x++) {
        /* The PET voxel whose box holds this CT voxel's centre. */
        long si = (long)floor(base[0] + j->m[0] * x + 0.5), sj = (long)floor(base[1] + j->m[3] * x + 0.5),
             sk = (long)floor(base[2] + j->m[6] * x + 0.5);
        float c = 0;
        if (si >= 0 && sj >= 0 && sk >= 0 && si < ps[0] && sj < ps[1] && sk < ps[2])
          c = j->pet->values[((size_t)sk * ps[1] + (size_t)sj) * ps[0] + (size_t)si];
        j->dose->values[row + x] = ldm_voxel(j, c, density_of(j, row + x));
      }
    }
  free(tx), free(ty), free(tz);
  return NULL;
}

int dose_ldm_on_ct(rcy_dose_grid *dose, rcy_dose_grid *density_out, const rcy_dose_grid *pet, double factor,
                   const rcy_dose_grid *ct, const rcy_dose_density_table *table, double fixed, rcy_error *err) {
  memset(dose, 0, sizeof *dose);
  if (density_out) memset(density_out, 0, sizeof *density_out);
  if (!(factor > 0) || !isfinite(factor)) return rcy_error_set(err, RCY_EINVAL, "ldm: invalid decay factor %g", factor);
  int rc = rcy_dose_grid_alloc(dose, ct->size, ct->origin_mm, ct->spacing_mm, ct->direction, err);
  float lut[HU_LUT];
  if (!rc && !(fixed > 0)) {
    rcy_dose_density_table def;
    if (!table) rcy_dose_density_table_default(&def), table = &def;
    for (int h = 0; h < HU_LUT; h++) lut[h] = (float)rcy_dose_density_from_hu(table, HU_MIN + h);
    rc = rcy_dose_grid_alloc(density_out, ct->size, ct->origin_mm, ct->spacing_mm, ct->direction, err);
  }
  if (rc) {
    rcy_dose_grid_free(dose);
    return rc;
  }
  /* The CT index -> PET index map (orthonormal directions): pet = S_p^-1 D_p^T (D_c S_c idx + o_c - o_p). */
  slab_job proto = {pet, ct, dose, fixed > 0 ? NULL : density_out, fixed > 0 ? NULL : lut, {0}, {0},
                    RCY_DOSE_Y90_GY_KG_PER_GBQ * 1e-6 * factor, fixed, 0, 0};
  dose_index_map(proto.m, proto.t, ct->origin_mm, ct->spacing_mm, ct->direction, pet->origin_mm, pet->spacing_mm,
                 pet->direction);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int n = cpus < 1 ? 1 : cpus > 4 ? 4 : (int)cpus;
  if (n > ct->size[2]) n = ct->size[2];
  slab_job jobs[4];
  pthread_t th[4];
  int started[4] = {0};
  for (int i = 0; i < n; i++) {
    jobs[i] = proto;
    jobs[i].k0 = ct->size[2] * i / n, jobs[i].k1 = ct->size[2] * (i + 1) / n;
    started[i] = i > 0 && pthread_create(&th[i], NULL, ldm_slab, &jobs[i]) == 0;
    if (i > 0 && !started[i]) ldm_slab(&jobs[i]); /* no thread: do it here */
  }
  ldm_slab(&jobs[0]);
  for (int i = 1; i < n; i++)
    if (started[i]) pthread_join(th[i], NULL);
  return RCY_OK;
}
