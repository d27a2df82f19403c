/* DICOM: the only module that touches DCMTK. A C API over DCMTK for the rest of recistry:
 * building and writing instances (phantom generator), reading attributes, geometry and pixels of
 * stored instances (ingest checks, QC, rendering), and the network (C-ECHO, C-STORE SCP, C-GET/C-MOVE SCU).
 * Implemented in C++17 in src/dicom/; every entry point catches all exceptions and returns an RCY_E* code. */
#ifndef RECISTRY_DICOM_H
#define RECISTRY_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "DCMTK x.y.z": the toolkit this build links. */
const char *rcy_dicom_toolkit_version(void);

/* ---- Section: datasets — build and write instances (src/dicom/write*.cc; used by sample/) ---- */


/* ---- Section: reading — attributes and geometry of an instance (src/dicom/read*.cc; used by ingest/, readers/) ---- */


/* ---- Section: pixels — decoded frames with rescale, for rendering (src/dicom/pixels*.cc; used by render/, readers/) ---- */

/* One decoded grayscale frame in modality units (Rescale Slope/Intercept applied: HU for CT). */
typedef struct rcy_dicom_frame {
  int rows, columns;
  float *values;                                      /* rows * columns, row-major */
  double pixel_spacing_row_mm, pixel_spacing_col_mm; /* Pixel Spacing [0], [1]; 0 when absent */
  double window_center, window_width;                /* first VOI window; width 0 when absent */
  int monochrome1;                                   /* 1: higher values display darker */
} rcy_dicom_frame;

/* Decodes the first frame of the instance at path (native, JPEG baseline/lossless, JPEG-LS or RLE).
 * RCY_EDICOM naming the file and what is unsupported (colour, > 16 bits, no pixel data). */
int rcy_dicom_frame_load(rcy_dicom_frame **out, const char *path, rcy_error *err);
void rcy_dicom_frame_free(rcy_dicom_frame *frame);

/* What the archive index records of an instance, read from a file on disk (for indexing files that did not
 * come through the ingest daemon; no PHI is read). Strings are empty when absent. */
typedef struct rcy_dicom_index_info {
  char study_uid[65], series_uid[65], sop_instance_uid[65], sop_class_uid[65], transfer_syntax_uid[65];
  char frame_of_reference_uid[65];
  char site_id[65], subject_id[65], timepoint[65]; /* Clinical Trial Site / Subject / Time Point ID */
  char modality[17], study_date[11] /* YYYY-MM-DD */, series_description[65], orientation[160];
  int series_number, instance_number, rows, columns;
  double pixel_spacing_row_mm, pixel_spacing_col_mm, slice_thickness_mm, position_mm[3];
  double window_center, window_width;
} rcy_dicom_index_info;
int rcy_dicom_index_info_read(rcy_dicom_index_info *out, const char *path, rcy_error *err);


/* ---- Section: network — associations, C-ECHO, C-STORE SCP, C-GET/C-MOVE SCU (src/dicom/net*.cc; used by ingest/) ---- */


#ifdef __cplusplus
}
#endif
#endif
