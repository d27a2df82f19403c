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

#ifdef __cplusplus
}
#endif
#endif
