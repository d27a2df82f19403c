/* The table of the imaging module (recistry-imaging.so): include/recistry/imaging.h as function pointers, filled
 * by imaging_module.c inside the module and used by imaging_stub.c in the program (include/recistry/module.h). */
#ifndef RECISTRY_IMAGING_MODULE_H
#define RECISTRY_IMAGING_MODULE_H

#include "recistry/imaging.h"
#include "recistry/module.h"

typedef struct rcy_imaging_module_table {
  rcy_module_header header;
  int (*volume_read_series)(rcy_imaging_volume **out, const char *dir, const char *series_uid, rcy_error *err);
  void (*volume_free)(rcy_imaging_volume *vol);
  void (*volume_size)(const rcy_imaging_volume *vol, size_t size[3]);
  void (*volume_origin_mm)(const rcy_imaging_volume *vol, double origin_mm[3]);
  void (*volume_spacing_mm)(const rcy_imaging_volume *vol, double spacing_mm[3]);
  void (*volume_direction)(const rcy_imaging_volume *vol, double direction[9]);
  const int16_t *(*volume_voxels)(const rcy_imaging_volume *vol);
  void (*volume_index_to_mm)(const rcy_imaging_volume *vol, const double index[3], double point_mm[3]);
  double (*lesion_radius)(const float *plane, int columns, int rows, const double spacing_mm[2],
                          const double seed[2]);
  int (*segment_lesion)(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const double seed[3], rcy_error *err);
  void (*lesion_free)(rcy_imaging_lesion *lesion);
  int (*measure_mask)(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const uint8_t *mask, const float *level,
                      rcy_error *err);
  int (*mask_read)(uint8_t **mask, int size[3], double origin_mm[3], double spacing_mm[3], double direction[9],
                   const char *path, rcy_error *err);
  int (*mask_write_nrrd)(const char *path, const uint8_t *mask, const int size[3], const double origin_mm[3],
                         const double spacing_mm[3], const double direction[9], rcy_error *err);
  int (*float_write)(const char *path, const float *values, const int size[3], const double origin_mm[3],
                     const double spacing_mm[3], const double direction[9], rcy_error *err);
} rcy_imaging_module_table;

#endif
