/* Decay: from the values the PET stores to the activity concentration at the administration. 90Y
 * microspheres are a permanent implant (no biological clearance), so the absorbed dose of the complete decay is
 * proportional to the activity at the administration, and every decay-correction mode of the PET reduces to
 * one factor (docs/dosimetry.md, "Decay correction"). */
#include "recistry/dose.h"

#include <math.h>
#include <string.h>

int rcy_dose_decay_factor(double *factor, const rcy_dicom_volume *e, rcy_error *err) {
  *factor = NAN;
  if (e->decay_correction == RCY_DICOM_DECAY_ADMIN) {
    *factor = 1.0;
    return RCY_OK;
  }
  if (e->decay_correction != RCY_DICOM_DECAY_START && e->decay_correction != RCY_DICOM_DECAY_NONE)
    return rcy_error_set(err, RCY_EINVAL,
                         "%s series %s: Decay Correction (0054,1102) is absent or not START, ADMIN or NONE",
                         e->modality, e->series_uid);
  if (!(e->half_life_s > 0))
    return rcy_error_set(err, RCY_EINVAL, "%s series %s: no Radionuclide Half Life (0018,1075)", e->modality,
                         e->series_uid);
  if (e->injection_epoch_s < 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "%s series %s: no injection time: Radiopharmaceutical Start DateTime (0018,1078) and "
                         "Start Time (0018,1072) are both absent",
                         e->modality, e->series_uid);
  int start = e->decay_correction == RCY_DICOM_DECAY_START;
  double t_ref = start ? e->series_epoch_s : e->acquisition_epoch_s;
  if (t_ref < 0)
    return rcy_error_set(err, RCY_EINVAL, "%s series %s: no %s date/time, the reference of Decay Correction %s",
                         e->modality, e->series_uid, start ? "Series" : "Acquisition", start ? "START" : "NONE");
  double dt = t_ref - e->injection_epoch_s;
  if (dt < 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "%s series %s: the scan (%s) is %.0f s before the injection (Radiopharmaceutical Start)",
                         e->modality, e->series_uid, start ? "Series Date/Time" : "Acquisition Date/Time", -dt);
  double lambda = log(2.0) / e->half_life_s;
  double f = exp(lambda * dt);
  /* NONE: each value is the mean over the frame [t, t+T]; the mean of exp(-lambda s) over it is
   * (1 - exp(-lambda T)) / (lambda T) of the value at its start. */
  if (!start && e->frame_duration_s > 0) {
    double lt = lambda * e->frame_duration_s;
    f *= lt / (1.0 - exp(-lt));
  }
  *factor = f;
  return RCY_OK;
}

int rcy_dose_check_y90_pet(const rcy_dicom_volume *e, rcy_error *err) {
  if (strcmp(e->modality, "PT") != 0)
    return rcy_error_set(err, RCY_EINVAL, "series %s is %s, not a PET (PT): 90Y dosimetry needs the 90Y PET",
                         e->series_uid, e->modality[0] ? e->modality : "of no modality");
  if (strcmp(e->units, "BQML") != 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "PET series %s: Units (0054,1001) is \"%s\", not BQML: the values are not an activity "
                         "concentration (SUV or counts cannot give a dose)",
                         e->series_uid, e->units);
  double f;
  int rc = rcy_dose_decay_factor(&f, e, err);
  if (rc) return rc;
  if (fabs(e->half_life_s - RCY_DOSE_Y90_HALF_LIFE_S) > 0.01 * RCY_DOSE_Y90_HALF_LIFE_S)
    return rcy_error_set(err, RCY_EINVAL,
                         "PET series %s: Radionuclide Half Life %.0f s is not 90Y's (%.0f s, 64.05 h): is this a "
                         "18F or 68Ga PET?",
                         e->series_uid, e->half_life_s, RCY_DOSE_Y90_HALF_LIFE_S);
  return RCY_OK;
}
