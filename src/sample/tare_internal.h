/* The TARE phantoms' shared model (tare.c builds the subjects, images, label maps and truth; tare_dicom.c
 * writes the CT, PET and SPECT instances). Coordinates are patient coordinates (LPS, mm) as in the rest of
 * sample/. */
#ifndef RECISTRY_SAMPLE_TARE_INTERNAL_H
#define RECISTRY_SAMPLE_TARE_INTERNAL_H

#include "sample_internal.h"

#define TARE_Y90_HALF_LIFE_S 230590.8   /* DDEP; the value dose/ checks the PET against */
#define TARE_TC99M_HALF_LIFE_S 21624.12 /* 6.0067 h */
#define TARE_MAX_TUMOURS 3

/* An axial voxel grid: index i along +x, j along +y, k along +z (k = 0 is the most inferior slice). */
typedef struct {
  int n[3];
  double d_mm[3];
  double o_mm[3]; /* centre of voxel (0,0,0) */
} tare_grid;

static inline size_t tare_grid_voxels(const tare_grid *g) {
  return (size_t)g->n[0] * g->n[1] * g->n[2];
}
static inline double tare_grid_voxel_ml(const tare_grid *g) {
  return g->d_mm[0] * g->d_mm[1] * g->d_mm[2] / 1000.0;
}

/* Compartments: disjoint, uniform in CT number and activity concentration. */
enum {
  TC_AIR = 0,
  TC_BODY, /* soft tissue */
  TC_LUNG,
  TC_LIVER_NP, /* liver outside the perfused territory */
  TC_LIVER_P,  /* perfused liver outside the tumours */
  TC_T0,       /* tumour i is TC_T0 + i */
  TC_COUNT = TC_T0 + TARE_MAX_TUMOURS
};

enum { TARE_MAA = 0, TARE_Y90 = 1, TARE_STUDIES = 2 };

/* What one series is: the identity, dates and grid tare_dicom.c writes. Date-times are seconds since
 * 1970-01-01 (a clock-free calendar: prng.c's days_from_civil). */
typedef struct {
  const char *subject_id, *site, *sex;
  const char *timepoint, *timepoint_desc, *study_description;
  char study_uid[RCY_DICOM_UID_SIZE], frame_uid[RCY_DICOM_UID_SIZE], series_uid[RCY_DICOM_UID_SIZE];
  char uid_key[160]; /* instance UIDs: sample_uid(seed, "<uid_key>/<instance>") */
  uint64_t seed;
  int64_t study_epoch_s, series_epoch_s, content_epoch_s;
  int series_number;
  tare_grid g;
  const char *out_dir;
} tare_series;

/* The radiopharmaceutical and quantitative attributes of an emission series. */
typedef struct {
  int64_t injection_epoch_s;
  double total_dose_bq, half_life_s;
  const char *nuclide_code, *nuclide_meaning;               /* SCT code of the radionuclide */
  const char *pharmaceutical;                               /* Radiopharmaceutical (0018,0031) */
  const char *pharmaceutical_code, *pharmaceutical_meaning; /* NULL: no Radiopharmaceutical Code Sequence */
  const char *decay_correction;                             /* PET: START, ADMIN or NONE */
  double frame_duration_ms;
  double decay_factor;       /* PET Decay Factor (0054,1321), written when decay-corrected */
  double frame_reference_ms; /* PET Frame Reference Time (0054,1300) */
  const char *kernel;        /* Convolution Kernel (SH, <= 16 characters) */
} tare_emission;

/* CT: int16 stored values (HU + 1024), one instance per slice (CT_nnnn.dcm, instance 1 most superior). */
int tare_write_ct(const tare_series *s, const int16_t *stored, rcy_sample_stats *stats, rcy_error *err);
/* 90Y PET: values in Bq/mL (volume in grid order); each slice gets its own Rescale Slope (PT_nnnn.dcm). */
int tare_write_pet(const tare_series *s, const tare_emission *e, const float *bq_per_ml,
                   rcy_sample_stats *stats, rcy_error *err);
/* 99mTc-MAA SPECT: counts (uint16, grid order) as one multi-frame NM instance (NM_0001.dcm). */
int tare_write_spect(const tare_series *s, const tare_emission *e, const uint16_t *counts,
                     rcy_sample_stats *stats, rcy_error *err);

#endif
