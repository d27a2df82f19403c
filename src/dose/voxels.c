/* Voxel lists: a compartment as the indices of its voxels on the dose grid (dose_internal.h). */
#include "dose_internal.h"

#include <stdlib.h>
#include <string.h>

void dose_voxels_free(dose_voxels *v) {
  if (!v) return;
  free(v->idx);
  v->idx = NULL, v->n = 0;
}

int dose_voxels_from_mask(dose_voxels *out, const uint8_t *mask, size_t n, rcy_error *err) {
  out->idx = NULL, out->n = 0;
  if (n > UINT32_MAX) return rcy_error_set(err, RCY_EINVAL, "dose grid of %zu voxels is too large", n);
  size_t count = 0, i = 0;
  /* Two passes: count, then fill; both skip 8 zero bytes at a time (most of a CT grid is outside any VOI). */
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, mask + i, 8);
    if (!w) continue;
    for (size_t b = 0; b < 8; b++) count += mask[i + b] != 0;
  }
  for (; i < n; i++) count += mask[i] != 0;
  out->idx = malloc((count ? count : 1) * sizeof *out->idx);
  if (!out->idx) return rcy_error_set(err, RCY_ENOMEM, "out of memory listing %zu voxels", count);
  size_t m = 0;
  for (i = 0; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, mask + i, 8);
    if (!w) continue;
    for (size_t b = 0; b < 8; b++)
      if (mask[i + b]) out->idx[m++] = (uint32_t)(i + b);
  }
  for (; i < n; i++)
    if (mask[i]) out->idx[m++] = (uint32_t)i;
  out->n = m;
  return RCY_OK;
}

int dose_voxels_without(dose_voxels *out, const dose_voxels *a, const uint8_t *minus, rcy_error *err) {
  out->n = 0;
  out->idx = malloc((a->n ? a->n : 1) * sizeof *out->idx);
  if (!out->idx) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < a->n; i++)
    if (!minus[a->idx[i]]) out->idx[out->n++] = a->idx[i];
  return RCY_OK;
}
