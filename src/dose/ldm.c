/* Local deposition: every 90Y beta deposits its energy in the voxel where it decays (the mean beta range,
 * 2.5 mm in soft tissue, is below a PET voxel), so a voxel's dose is its activity at administration times the
 * energy of the complete decay, over its mass: D = 49.67 Gy·kg/GBq * A / m = 49.67e-6 * C(Bq/mL) / rho(g/mL).
 * A voxel-S-value convolution (rcy_dose_convolve) spreads that energy instead, for voxels smaller than the
 * range. docs/dosimetry.md. */
#include "recistry/dose.h"

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
