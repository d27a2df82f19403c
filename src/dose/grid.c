/* Dose grids: scalar volumes in patient coordinates (activity, density, dose) and the resampling between
 * the emission grid, the CT grid and the label maps' grids. Resampling is piecewise constant (the source
 * voxel containing the target voxel's centre): a PET voxel holds the mean activity over its box, so this
 * conserves activity, where trilinear interpolation would smear a hot tumour into its rim. */
#include "recistry/dose.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t rcy_dose_grid_voxels(const rcy_dose_grid *g) {
  return (size_t)g->size[0] * (size_t)g->size[1] * (size_t)g->size[2];
}

double rcy_dose_grid_voxel_ml(const rcy_dose_grid *g) {
  return g->spacing_mm[0] * g->spacing_mm[1] * g->spacing_mm[2] / 1000.0;
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
  g->values = calloc(rcy_dose_grid_voxels(g), sizeof *g->values);
  if (!g->values) return rcy_error_set(err, RCY_ENOMEM, "dose grid: out of memory (%d x %d x %d)", size[0], size[1], size[2]);
  return RCY_OK;
}

void rcy_dose_grid_free(rcy_dose_grid *g) {
  if (!g) return;
  free(g->values);
  g->values = NULL;
}
