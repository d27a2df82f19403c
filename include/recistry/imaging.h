/* Imaging: the only module that touches ITK. Reads a DICOM series back as a 3-D volume with its
 * geometry (origin, spacing, direction in patient coordinates, LPS, millimetres) for tests of what
 * recistry writes and, later, for quality control of what sites send.
 * Implemented in C++17 in src/imaging/; every entry point catches all exceptions. */
#ifndef RECISTRY_IMAGING_H
#define RECISTRY_IMAGING_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_imaging_volume rcy_imaging_volume;

/* Reads the series with Series Instance UID `series_uid` found among the files of `dir` (not recursive),
 * ordered by position along the slice normal (ITK's GDCM series reader). series_uid may be NULL when the
 * folder holds exactly one series. Voxel values are modality values (rescale applied: HU for CT). */
int rcy_imaging_volume_read_series(rcy_imaging_volume **out, const char *dir, const char *series_uid,
                                   rcy_error *err);
void rcy_imaging_volume_free(rcy_imaging_volume *vol);

/* Voxel counts along i (columns), j (rows), k (slices). */
void rcy_imaging_volume_size(const rcy_imaging_volume *vol, size_t size[3]);
/* Patient position (mm) of the centre of voxel (0,0,0). */
void rcy_imaging_volume_origin_mm(const rcy_imaging_volume *vol, double origin_mm[3]);
void rcy_imaging_volume_spacing_mm(const rcy_imaging_volume *vol, double spacing_mm[3]);
/* Direction cosines, row-major 3x3: column c is the patient direction of index axis c. */
void rcy_imaging_volume_direction(const rcy_imaging_volume *vol, double direction[9]);
/* Voxels, i fastest then j then k; valid until the volume is freed. */
const int16_t *rcy_imaging_volume_voxels(const rcy_imaging_volume *vol);
/* Patient position (mm) of the centre of voxel (i, j, k) (fractional indices allowed). */
void rcy_imaging_volume_index_to_mm(const rcy_imaging_volume *vol, const double index[3], double point_mm[3]);

/* ---- Section: seeded lesion segmentation and mask measurement (src/imaging/lesion_segment.cc,
 * lesion_measure.cc; the method and its measured accuracy: docs/segmentation.md) ----
 * One click inside a lesion -> a 3-D mask, its RECIST diameters and its volume. The caller hands a slab of
 * consecutive axial slices around the click (modality values, e.g. HU); nothing here reads files. */

typedef struct rcy_imaging_slab {
  int columns, rows, slices;  /* i, j, k */
  double spacing_mm[3];       /* column spacing (along a row), row spacing, distance between slice centres */
  const float *const *planes; /* slices (k increasing along z) of modality values, i fastest then j: the
                               * caller's decoded frames, used in place */
  double expected_radius_mm;  /* the lesion's in-plane radius if estimated (rcy_imaging_lesion_radius), else 0:
                               * sizes the first crop so that a large lesion is not segmented twice */
} rcy_imaging_slab;

/* A quick in-plane estimate of the radius (mm) of the lesion under seed = (col, row) on one slice (the same
 * flood as the segmentation, in 2-D): how far around the click to read and crop. 0 when nothing is found. */
double rcy_imaging_lesion_radius(const float *plane, int columns, int rows, const double spacing_mm[2],
                                 const double seed[2]);

/* One closed contour on one slice, in image coordinates (pixel centres at integers). */
typedef struct rcy_imaging_contour {
  int slice;
  size_t n;        /* points */
  double *points;  /* n x (col, row) */
} rcy_imaging_contour;

typedef struct rcy_imaging_lesion {
  uint8_t *mask;        /* slab-sized, 1 = lesion */
  size_t voxels;
  double volume_ml;
  int first_slice, last_slice;
  /* RECIST 1.1: the longest in-plane diameter over the slices, and the longest chord perpendicular to it on
   * that slice (a node's short axis); end points in image coordinates, lengths in mm. */
  int long_slice;
  double long_p1[2], long_p2[2], long_mm;
  double short_p1[2], short_p2[2], short_mm;
  rcy_imaging_contour *contours;
  size_t n_contours;
  /* What the method found (docs/segmentation.md): the lesion's and its surroundings' smoothed values, the
   * boundary level, the in-plane smoothing, and whether a rim (enhancing ring around a necrotic core) was
   * taken in. */
  double lesion_value, background_value, boundary_level, smoothing_mm;
  int rim;
  int touches_border;   /* the mask reaches the slab's side: the caller should retry with a larger slab */
} rcy_imaging_lesion;

/* Segments the lesion containing seed = (col, row, slice) of slab. RCY_ENOTFOUND (with a message the reader
 * can act on) when nothing stands out around the seed: no boundary within the slab, or a "lesion" of fewer
 * than a few voxels. */
int rcy_imaging_segment_lesion(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const double seed[3],
                               rcy_error *err);
void rcy_imaging_lesion_free(rcy_imaging_lesion *lesion);

/* Measures a given mask (slab-sized, non-zero = inside; e.g. a truth label or a reader-edited mask) as above:
 * contours, diameters and volume. `level`, when non-NULL, is a slab-sized field whose 0-crossing places the
 * contour between pixel centres (positive inside); NULL places it half-way between inside and outside
 * pixels. RCY_ENOTFOUND for an empty mask. */
int rcy_imaging_measure_mask(rcy_imaging_lesion **out, const rcy_imaging_slab *slab, const uint8_t *mask,
                             const float *level, rcy_error *err);

/* Writes a uint8 label volume (columns x rows x slices, i fastest) as NRRD (gzip) with its patient geometry:
 * origin = the centre of voxel (0,0,0), spacing (mm), direction (row-major 3x3, column c = axis c). Read
 * back by ITK, 3D Slicer and numpy alike; used to hand masks to other tools and to the tests. */
/* Reads a label volume (NRRD, NIfTI: any format ITK reads) as uint8, with its geometry as above; the caller
 * frees *mask. */
int rcy_imaging_mask_read(uint8_t **mask, int size[3], double origin_mm[3], double spacing_mm[3], double direction[9],
                          const char *path, rcy_error *err);
int rcy_imaging_mask_write_nrrd(const char *path, const uint8_t *mask, const int size[3], const double origin_mm[3],
                                const double spacing_mm[3], const double direction[9], rcy_error *err);

/* Writes a float volume (e.g. a dose map in Gy) with the same geometry conventions; the format follows the
 * extension (.nrrd, .nii, .nii.gz, .mha), as ITK chooses it. */
int rcy_imaging_float_write(const char *path, const float *values, const int size[3], const double origin_mm[3],
                            const double spacing_mm[3], const double direction[9], rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
