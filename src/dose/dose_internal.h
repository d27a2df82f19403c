/* Shared between the dose module's files; not part of the API. */
#ifndef RECISTRY_DOSE_INTERNAL_H
#define RECISTRY_DOSE_INTERNAL_H

#include <jansson.h>

#include "recistry/dose.h"

/* A VOI loaded from a file (owns its mask and name). */
typedef struct dose_voi_owned {
  char name[64];
  uint8_t *mask;
  int size[3];
  double origin_mm[3], spacing_mm[3], direction[9];
} dose_voi_owned;

/* "NAME=FILE" or "NAME=FILE#LABEL": a NRRD/NIfTI label map (label > 0, or = LABEL), or a DICOM SEG whose frames
 * reference the slices of ct (which must then be given). */
int dose_voi_load(dose_voi_owned *out, const char *spec, const rcy_dicom_volume *ct, rcy_error *err);
/* A DICOM SEG file onto ct's slices (by the frames' source SOP Instance UIDs); name "" = the segment label. */
int dose_voi_from_seg(dose_voi_owned *out, const char *name, const char *path, const rcy_dicom_volume *ct,
                      rcy_error *err);
void dose_voi_free(dose_voi_owned *v);

/* The archive side of a run: the subject's 90Y PET, the CT of its frame of reference, the latest MAA SPECT
 * before it, and the central read's tumour segmentations on that CT. */
int dose_run_from_archive(rcy_dose_run *run, dose_voi_owned **vois, size_t *n_vois, const rcy_dose_run_options *o,
                          rcy_error *err);

/* rcy_dose_compute on an emission grid already in Bq/mL (times factor: at administration); emission_for is its
 * Frame of Reference UID (compared with the CT's). The MAA prediction goes through here. */
int dose_compute_grid(rcy_dose_result *out, const rcy_dose_grid *emission, double factor, double injected_gbq,
                      const char *emission_for, const rcy_dose_input *in, rcy_error *err);

/* A series volume seen as a grid (its values borrowed, not copied). */
void dose_grid_view(rcy_dose_grid *g, const rcy_dicom_volume *v);

/* The affine map from dst index space to src index space (orthonormal directions): src = m * dst + t. */
void dose_index_map(double m[9], double t[3], const double o_dst[3], const double s_dst[3], const double d_dst[9],
                    const double o_src[3], const double s_src[3], const double d_src[9]);
/* g has this geometry (origin within 1e-3 mm, spacing 1e-4 mm, direction cosines 1e-5). */
int rcy_dose_same_geometry(const rcy_dose_grid *g, const int size[3], const double origin_mm[3],
                       const double spacing_mm[3], const double direction[9]);

/* Zeroed memory for large buffers, on transparent huge pages where the kernel allows (free with free()). */
void *rcy_dose_big_zalloc(size_t bytes);

/* A compartment as the list of its voxels on the dose grid (indices, i fastest): a liver is a few million of a
 * CT grid's 80 million voxels, so statistics over the list cost what the compartment costs, not the grid. */
typedef struct dose_voxels {
  uint32_t *idx;
  size_t n;
} dose_voxels;

/* The non-zero voxels of a mask of n bytes (a fast scan that skips zero words). */
int dose_voxels_from_mask(dose_voxels *out, const uint8_t *mask, size_t n, rcy_error *err);
/* The voxels of a that are not set in the bitmap `minus` (e.g. liver minus tumours). */
int dose_voxels_without(dose_voxels *out, const dose_voxels *a, const uint8_t *minus, rcy_error *err);
void dose_voxels_free(dose_voxels *v);
int dose_compartment_from_voxels(rcy_dose_compartment *out, const char *name, rcy_dose_kind kind,
                                 const rcy_dose_grid *dose, const dose_voxels *v, const rcy_dose_grid *density,
                                 double fixed_density, double dvh_step_gy, rcy_error *err);

/* LDM on the CT grid in one pass: each CT voxel takes the PET voxel containing its centre (times factor), its
 * density from its HU (a lookup table over integer HU), and its dose; density_out (allocated here, CT geometry)
 * is NULL-able when fixed_density > 0. Slabs of slices on a few threads. */
int dose_ldm_on_ct(rcy_dose_grid *dose, rcy_dose_grid *density_out, const rcy_dose_grid *pet, double factor,
                   const rcy_dose_grid *ct_hu, const rcy_dose_density_table *table, double fixed_density,
                   rcy_error *err);

json_t *rcy_dose_result_json_object(const rcy_dose_result *r, int with_dvh);

/* A tick step of 1, 2 or 5 x 10^k giving about `want` intervals over span (render_scale.c): the colour bar's
 * ticks and the top of the automatic scale. */
double rcy_dose_render_step(double span, int want);

#endif
