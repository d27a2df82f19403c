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

json_t *rcy_dose_result_json_object(const rcy_dose_result *r, int with_dvh);

#endif
