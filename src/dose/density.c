/* Tissue density from CT numbers. LDM divides the deposited energy by the voxel's mass, so the density is
 * what turns activity per mL into dose per kg. A piecewise-linear calibration, by default the bilinear
 * air-water-bone line of docs/dosimetry.md; a site's own CT calibration replaces it. */
#include "recistry/dose.h"

void rcy_dose_density_table_default(rcy_dose_density_table *t) {
  t->n = 3;
  t->hu[0] = -1000, t->g_per_ml[0] = 0.0012; /* air */
  t->hu[1] = 0, t->g_per_ml[1] = 1.0;        /* water */
  t->hu[2] = 1000, t->g_per_ml[2] = 1.6;     /* cortical-bone-like slope above water */
}

double rcy_dose_density_from_hu(const rcy_dose_density_table *t, double hu) {
  if (t->n == 0) return 1.0;
  if (hu <= t->hu[0]) return t->g_per_ml[0];
  for (size_t i = 1; i < t->n; i++)
    if (hu <= t->hu[i]) {
      double f = (hu - t->hu[i - 1]) / (t->hu[i] - t->hu[i - 1]);
      return t->g_per_ml[i - 1] + f * (t->g_per_ml[i] - t->g_per_ml[i - 1]);
    }
  return t->g_per_ml[t->n - 1];
}
