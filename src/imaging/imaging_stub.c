/* The program's imaging (include/recistry/imaging.h) without ITK: each call loads recistry-imaging.so on first
 * use and forwards to it (include/recistry/module.h), so that commands that never touch a volume or a lesion
 * never map ITK's libraries. A volume or lesion exists only once the module is loaded, so the functions without
 * an error object that take one need no check; the free functions accept NULL without loading anything. */
#include "imaging_module.h"

RCY_MODULE_GETTER(imaging, "imaging", rcy_imaging_module_table)

/* Calls through a table the caller's object proves loaded. */
static const rcy_imaging_module_table *loaded(void) { return imaging(NULL); }

int rcy_imaging_volume_read_series(rcy_imaging_volume **out, const char *dir, const char *series_uid,
                                   rcy_error *err) {
  *out = NULL;
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->volume_read_series(out, dir, series_uid, err) : imaging_slot.error.code;
}

void rcy_imaging_volume_free(rcy_imaging_volume *vol) {
  if (vol) loaded()->volume_free(vol);
}
void rcy_imaging_volume_size(const rcy_imaging_volume *vol, size_t size[3]) { loaded()->volume_size(vol, size); }
void rcy_imaging_volume_origin_mm(const rcy_imaging_volume *vol, double origin_mm[3]) {
  loaded()->volume_origin_mm(vol, origin_mm);
}
void rcy_imaging_volume_spacing_mm(const rcy_imaging_volume *vol, double spacing_mm[3]) {
  loaded()->volume_spacing_mm(vol, spacing_mm);
}
void rcy_imaging_volume_direction(const rcy_imaging_volume *vol, double direction[9]) {
  loaded()->volume_direction(vol, direction);
}
const int16_t *rcy_imaging_volume_voxels(const rcy_imaging_volume *vol) { return loaded()->volume_voxels(vol); }
void rcy_imaging_volume_index_to_mm(const rcy_imaging_volume *vol, const double index[3], double point_mm[3]) {
  loaded()->volume_index_to_mm(vol, index, point_mm);
}

/* No error object: when the module cannot be loaded there is no estimate (0), and the segmentation that
 * follows reports why. */
double rcy_imaging_lesion_radius(const float *plane, int columns, int rows, const double spacing_mm[2],
                                 const double seed[2]) {
  const rcy_imaging_module_table *m = imaging(NULL);
  return m ? m->lesion_radius(plane, columns, rows, spacing_mm, seed) : 0.0;
}

int rcy_imaging_segment_lesion(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const double seed[3],
                               rcy_error *err) {
  *out = NULL;
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->segment_lesion(out, slab, seed, err) : imaging_slot.error.code;
}

void rcy_imaging_lesion_free(rcy_imaging_lesion *lesion) {
  if (lesion) loaded()->lesion_free(lesion);
}

int rcy_imaging_measure_mask(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const uint8_t *mask,
                             const float *level, rcy_error *err) {
  *out = NULL;
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->measure_mask(out, slab, mask, level, err) : imaging_slot.error.code;
}

int rcy_imaging_mask_read(uint8_t **mask, int size[3], double origin_mm[3], double spacing_mm[3], double direction[9],
                          const char *path, rcy_error *err) {
  *mask = NULL;
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->mask_read(mask, size, origin_mm, spacing_mm, direction, path, err) : imaging_slot.error.code;
}

int rcy_imaging_mask_write_nrrd(const char *path, const uint8_t *mask, const int size[3], const double origin_mm[3],
                                const double spacing_mm[3], const double direction[9], rcy_error *err) {
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->mask_write_nrrd(path, mask, size, origin_mm, spacing_mm, direction, err) : imaging_slot.error.code;
}

int rcy_imaging_float_write(const char *path, const float *values, const int size[3], const double origin_mm[3],
                            const double spacing_mm[3], const double direction[9], rcy_error *err) {
  const rcy_imaging_module_table *m = imaging(err);
  return m ? m->float_write(path, values, size, origin_mm, spacing_mm, direction, err) : imaging_slot.error.code;
}
