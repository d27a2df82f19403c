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


/* ---- Section: network — associations, C-ECHO, C-STORE SCP, C-GET/C-MOVE SCU (src/dicom/net*.cc; used by ingest/) ---- */


#ifdef __cplusplus
}
#endif
#endif
