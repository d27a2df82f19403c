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

/* A DICOM dataset under construction. Attributes are named by tag (RCY_DICOM_TAG(group, element)); their VR
 * comes from DCMTK's data dictionary, so only standard (dictionary) attributes can be set. */
typedef struct rcy_dicom_dataset rcy_dicom_dataset;

#define RCY_DICOM_TAG(group, element) ((uint32_t)(((uint32_t)(group) << 16) | (uint32_t)(element)))
/* Longest UID (PS3.5 9.1) plus its terminating NUL. */
#define RCY_DICOM_UID_SIZE 65

int rcy_dicom_dataset_new(rcy_dicom_dataset **out, rcy_error *err);
/* A deep copy (a series template cloned per instance). The copy is a root dataset: free it. */
int rcy_dicom_dataset_clone(rcy_dicom_dataset **out, const rcy_dicom_dataset *src, rcy_error *err);
/* Frees a root dataset and every item handle obtained from it. NULL and item handles are ignored. */
void rcy_dicom_dataset_free(rcy_dicom_dataset *ds);

/* Sets (replaces) a string-valued attribute; several values are separated by backslashes ("0.75\\0.75").
 * An empty string makes an empty (type 2) attribute. The value is checked against the VR. */
int rcy_dicom_dataset_set_string(rcy_dicom_dataset *ds, uint32_t tag, const char *value, rcy_error *err);
/* Sets a numeric attribute of any numeric VR (US, SS, UL, SL, FL, FD, DS, IS): DS is written with at most
 * 16 characters, IS and the binary integer VRs must receive an integral value in range. */
int rcy_dicom_dataset_set_number(rcy_dicom_dataset *ds, uint32_t tag, double value, rcy_error *err);
/* Sets an OB/OW/UN attribute to raw bytes (e.g. Encapsulated Document). */
int rcy_dicom_dataset_set_bytes(rcy_dicom_dataset *ds, uint32_t tag, const void *bytes, size_t size,
                                rcy_error *err);
/* Inserts an attribute with no value (a type 2 attribute, or an empty sequence). */
int rcy_dicom_dataset_set_empty(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err);
int rcy_dicom_dataset_remove(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err);
/* Appends a new item to sequence `seq_tag` (created when absent). *item is owned by ds: fill it with the
 * set_* functions, never free it; it stays valid until ds is freed. */
int rcy_dicom_dataset_add_item(rcy_dicom_dataset **item, rcy_dicom_dataset *ds, uint32_t seq_tag,
                               rcy_error *err);
/* Pixel Data (OW) of one monochrome frame, with Rows, Columns, Samples per Pixel, Bits Allocated/Stored
 * (16), High Bit (15) and Pixel Representation (1 signed / 0 unsigned). Photometric Interpretation and
 * everything else are the caller's. */
int rcy_dicom_dataset_set_pixels_int16(rcy_dicom_dataset *ds, const int16_t *pixels, uint16_t rows,
                                       uint16_t columns, rcy_error *err);
int rcy_dicom_dataset_set_pixels_uint16(rcy_dicom_dataset *ds, const uint16_t *pixels, uint16_t rows,
                                        uint16_t columns, rcy_error *err);
/* Writes a Part 10 file: preamble, File Meta Information built from SOP Class/Instance UID (which must be
 * set), explicit VR little endian. Written to PATH.tmp and renamed, so PATH is never a partial file.
 * The output depends only on the dataset: same dataset, same bytes. */
int rcy_dicom_dataset_write_file(rcy_dicom_dataset *ds, const char *path, rcy_error *err);

/* A UID derived deterministically from `key`: "2.25." followed by the decimal value of a 128-bit
 * UUID (version 4 layout) hashed from key (PS3.5 B.2). Same key, same UID; different keys collide with
 * negligible probability. Used for reproducible synthetic data, never for real acquisitions. */
void rcy_dicom_uid_from_key(char uid[RCY_DICOM_UID_SIZE], const char *key);


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
