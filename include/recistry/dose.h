/* Dose: TARE 90Y dosimetry (src/dose/). From a post-treatment 90Y PET (or a pre-treatment 99mTc-MAA SPECT
 * with the planned activity), a CT and volumes of interest (tumours, whole and perfused liver, lungs), the
 * absorbed dose per voxel by the local deposition method, the MIRD single-compartment and partition-model
 * doses, per-compartment dose-volume histograms and metrics, and the EANM 2022 flags; then the cohort
 * analyses (dose-response, dose-toxicity, MAA vs 90Y concordance). Every formula, constant and reference:
 * docs/dosimetry.md. Units are in the names: mm, mL, g, GBq, Bq/mL, Gy, s, days.
 *
 * The arithmetic here does no file I/O: the PET/SPECT series are read by dicom/ (rcy_dicom_volume_read_dir),
 * label maps by imaging/ (rcy_imaging_mask_read); src/dose/run.c ties them together for the command line
 * and the server. */
#ifndef RECISTRY_DOSE_H
#define RECISTRY_DOSE_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/dicom.h"
#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Energy deposited by the complete decay of 1 GBq of 90Y per kg of tissue (Gy·kg/GBq): 49.67
 * (mean beta energy 0.9337 MeV; docs/dosimetry.md derives it). */
#define RCY_DOSE_Y90_GY_KG_PER_GBQ 49.67
/* Physical half-life of 90Y (s): 64.053 h (DDEP). Used only to check the PET's own Radionuclide Half Life. */
#define RCY_DOSE_Y90_HALF_LIFE_S 230590.8

/* ---- Section: grids ---- */

/* A scalar volume in patient coordinates (LPS, mm), i fastest then j then k: activity concentration (Bq/mL),
 * density (g/mL), counts, or absorbed dose (Gy). */
typedef struct rcy_dose_grid {
  int size[3];
  double origin_mm[3];  /* centre of voxel (0,0,0) */
  double spacing_mm[3];
  double direction[9];  /* row-major 3x3: column c = patient direction of index axis c */
  float *values;        /* size[0]*size[1]*size[2]; owned (rcy_dose_grid_free) */
} rcy_dose_grid;

int rcy_dose_grid_alloc(rcy_dose_grid *g, const int size[3], const double origin_mm[3], const double spacing_mm[3],
                        const double direction[9], rcy_error *err);
void rcy_dose_grid_free(rcy_dose_grid *g);
size_t rcy_dose_grid_voxels(const rcy_dose_grid *g);
double rcy_dose_grid_voxel_ml(const rcy_dose_grid *g);

/* Resamples src onto the geometry of dst (dst->values allocated by the caller), both in patient
 * coordinates: each dst voxel takes the src voxel containing its centre (piecewise constant: a PET voxel's
 * value is the mean over its box, so activity is conserved). Outside src: 0. */
int rcy_dose_grid_resample(rcy_dose_grid *dst, const rcy_dose_grid *src, rcy_error *err);

/* A label mask on some grid resampled onto dst's geometry (nearest: the mask voxel containing each dst
 * voxel's centre). out: rcy_dose_grid_voxels(dst) bytes, 1 inside. */
int rcy_dose_mask_resample(uint8_t *out, const rcy_dose_grid *dst, const uint8_t *mask, const int size[3],
                           const double origin_mm[3], const double spacing_mm[3], const double direction[9],
                           rcy_error *err);

/* ---- Section: decay ---- */

/* Factor that takes the emission image's values to the activity concentration at the administration, for a
 * permanent implant (no biological clearance): 1 for ADMIN; exp(lambda * (t_ref - t_injection)) for START
 * (t_ref = series date/time) and NONE (t_ref = the earliest acquisition date/time; when the frame duration
 * is known, the decay during the frame is corrected too: lambda*T / (1 - exp(-lambda*T))). RCY_EINVAL with a
 * message naming the missing or impossible attribute: no injection date/time, scan before injection,
 * half-life absent or <= 0, decay correction absent or unknown. */
int rcy_dose_decay_factor(double *factor, const rcy_dicom_volume *e, rcy_error *err);

/* Refuses (RCY_EINVAL, naming the attribute) a PET that cannot give a dose: not PT, Units not BQML, no
 * injection date/time, no half-life, no decay correction; a half-life more than 1 % off 90Y's is refused
 * too (this is 90Y dosimetry). */
int rcy_dose_check_y90_pet(const rcy_dicom_volume *e, rcy_error *err);

/* ---- Section: tissue density ---- */

/* HU -> g/mL by linear interpolation between calibration points (sorted by HU; clamped outside). The
 * default table (docs/dosimetry.md) is air -1000 HU -> 0.0012, water 0 -> 1.0, 1000 -> 1.6 (bone-like). */
typedef struct rcy_dose_density_table {
  size_t n;
  double hu[16];
  double g_per_ml[16];
} rcy_dose_density_table;

void rcy_dose_density_table_default(rcy_dose_density_table *t);
double rcy_dose_density_from_hu(const rcy_dose_density_table *t, double hu);

/* ---- Section: local deposition ---- */

/* Dose (Gy) per voxel: D = 49.67e-6 * C_admin(Bq/mL) / rho(g/mL), C_admin = image value * decay factor.
 * activity and dose share a geometry; density is either a grid of the same geometry (from the CT) or NULL
 * with fixed_density_g_per_ml > 0. Voxels with density below 0.01 g/mL (air) get dose 0: LDM is meaningless
 * there and a noise count would make kilo-grays. */
int rcy_dose_ldm(rcy_dose_grid *dose, const rcy_dose_grid *activity_bq_per_ml, double decay_factor,
                 const rcy_dose_grid *density, double fixed_density_g_per_ml, rcy_error *err);

/* Optional: convolution of the LDM dose with a voxel-S-value kernel (odd cube of side n, normalised to sum
 * 1; the caller provides it for its voxel size, docs/dosimetry.md). In place. */
int rcy_dose_convolve(rcy_dose_grid *dose, const float *kernel, int n, rcy_error *err);

/* ---- Section: compartments, DVH, flags ---- */

typedef enum rcy_dose_kind {
  RCY_DOSE_KIND_OTHER = 0,
  RCY_DOSE_KIND_TUMOUR,
  RCY_DOSE_KIND_LIVER,          /* whole liver */
  RCY_DOSE_KIND_PERFUSED_LIVER, /* the perfused (treated) territory */
  RCY_DOSE_KIND_NORMAL_LIVER,   /* liver minus tumours (derived when liver and tumours are given) */
  RCY_DOSE_KIND_PERFUSED_NORMAL,/* perfused liver minus tumours (derived) */
  RCY_DOSE_KIND_LUNG
} rcy_dose_kind;

/* The kind a VOI name implies: tumour*, T1.., lesion* -> TUMOUR; liver, whole_liver -> LIVER;
 * perfused*, perfused_liver -> PERFUSED_LIVER; lung* -> LUNG; else OTHER. */
rcy_dose_kind rcy_dose_kind_from_name(const char *name);
const char *rcy_dose_kind_name(rcy_dose_kind kind); /* "tumour", "liver", "perfused_liver", ... */

/* One point of a cumulative DVH: the % of the compartment's volume receiving at least dose_gy. */
typedef struct rcy_dose_dvh_point {
  double dose_gy;
  double volume_pct;
} rcy_dose_dvh_point;

typedef struct rcy_dose_compartment {
  char name[64];
  rcy_dose_kind kind;
  size_t voxels;
  double volume_ml, mass_g;
  double mean_gy, min_gy, max_gy;
  double d50_gy, d70_gy, d90_gy; /* Dx: the minimum dose to the hottest x % of the volume */
  double v100_pct, v150_pct, v205_pct; /* % of the volume receiving >= 100, 150, 205 Gy */
  double activity_gbq;           /* activity at administration inside the compartment */
  size_t n_dvh;
  rcy_dose_dvh_point *dvh;       /* cumulative, dose increasing from 0 in steps of dvh_step_gy */
} rcy_dose_compartment;

/* Dose statistics of dose inside mask (dose's geometry; mass from density or fixed density). The DVH has
 * bins of dvh_step_gy (> 0) up to the compartment's maximum. */
int rcy_dose_compartment_compute(rcy_dose_compartment *out, const char *name, rcy_dose_kind kind,
                                 const rcy_dose_grid *dose, const uint8_t *mask, const rcy_dose_grid *density,
                                 double fixed_density_g_per_ml, double dvh_step_gy, rcy_error *err);
void rcy_dose_compartment_free(rcy_dose_compartment *c);

/* A threshold row from the config (docs/dosimetry.md, [dose_threshold NAME] sections): the compartment kind
 * it applies to, the metric ("mean_gy", "d70_gy", "v100_pct", "volume_ml", "cumulative_lung_gy"...), the
 * comparison and the limit, and where it comes from. */
typedef struct rcy_dose_threshold {
  char name[64];
  rcy_dose_kind kind;
  char metric[32];
  char comparison[3];    /* ">=", "<", "<=", ">" : the condition the dose SHOULD meet */
  double limit;
  char severity[16];     /* "warning" (safety limit exceeded) or "info" (efficacy target missed) */
  char reference[160];
  /* Optional condition (perfused-volume ranges): the row applies only when when_metric of the first
   * compartment of kind when_kind lies in [when_min, when_max) (NaN bound = open). when_metric "" = always. */
  rcy_dose_kind when_kind;
  char when_metric[32];
  double when_min, when_max;
} rcy_dose_threshold;

typedef struct rcy_dose_flag {
  char threshold[64];    /* the threshold's name */
  char compartment[64];
  char metric[32];
  char comparison[3];
  double value, limit;
  char severity[16];
  char message[256];     /* e.g. "tumour T1: mean 142 Gy < 189 Gy (EANM 2022 ...)" */
} rcy_dose_flag;

/* Reads the [dose_threshold NAME] sections of an INI file (other sections are ignored, so the archive's
 * config can hold them). RCY_EINVAL naming the line for an unknown key, metric, comparison or kind. */
int rcy_dose_thresholds_load(rcy_dose_threshold **out, size_t *n, const char *ini_path, rcy_error *err);
/* The value of metric for a compartment ("mean_gy", "d50_gy", "d70_gy", "d90_gy", "max_gy", "v100_pct",
 * "v150_pct", "v205_pct", "volume_ml", "mass_g"); NaN for an unknown metric. */
double rcy_dose_metric(const rcy_dose_compartment *c, const char *metric);
int rcy_dose_metric_known(const char *metric);
/* Flags: every threshold row checked against every compartment of its kind (the metric
 * "cumulative_mean_gy" adds prior_gy to the mean: the lungs' 50 Gy over all treatments). */
int rcy_dose_flags_evaluate(rcy_dose_flag **out, size_t *n, const rcy_dose_compartment *c, size_t n_c,
                            const rcy_dose_threshold *t, size_t n_t, double prior_lung_gy, rcy_error *err);

/* ---- Section: models from the injected activity ---- */

typedef struct rcy_dose_models {
  double injected_gbq;        /* at administration */
  double lung_shunt_fraction; /* 0..1 */
  double residual_fraction;   /* left in the vial and catheter, 0..1 */
  /* MIRD single compartment: the perfused (or whole) liver as one uniform compartment. */
  double mird_liver_gy;
  /* Partition model: tumour-to-normal ratio from the MAA SPECT (mean counts per mL), tumour and normal
   * liver masses inside the perfused territory. */
  double tnr;
  double partition_tumour_gy, partition_normal_gy;
  double lung_gy;             /* LSF * A * 49.67 / lung mass (the lung VOI's, else 1 kg) */
} rcy_dose_models;

/* mass_* in g; tnr <= 0: partition model not computed (NaN). */
void rcy_dose_models_compute(rcy_dose_models *m, double injected_gbq, double lung_shunt_fraction,
                             double residual_fraction, double liver_mass_g, double tumour_mass_g,
                             double normal_mass_g, double lung_mass_g, double tnr);

/* ---- Section: one subject's dosimetry (the job `recistry dose` and the workstation run) ---- */

typedef struct rcy_dose_voi {
  const char *name;   /* e.g. "T1", "liver", "perfused_liver", "lungs" */
  const uint8_t *mask;/* non-zero inside, on its own grid */
  int size[3];
  double origin_mm[3], spacing_mm[3], direction[9];
} rcy_dose_voi;

typedef struct rcy_dose_input {
  const rcy_dicom_volume *pet;  /* the 90Y PET, values in Bq/mL (rcy_dose_check_y90_pet) */
  const rcy_dicom_volume *ct;     /* HU; NULL: the dose is computed on the emission grid */
  double fixed_density_g_per_ml;  /* > 0: --density, ignore the CT for density */
  const rcy_dose_density_table *density_table; /* NULL: default */
  const rcy_dose_voi *vois;
  size_t n_vois;
  const rcy_dose_threshold *thresholds;
  size_t n_thresholds;
  double lung_shunt_fraction;     /* -1: unknown (no lung dose from LSF) */
  double tnr;                     /* tumour-to-normal ratio from the MAA SPECT; <= 0: not computed */
  double prior_lung_gy;           /* cumulative lung dose of earlier treatments (flags the 50 Gy limit) */
  double dvh_step_gy;             /* default 1 */
} rcy_dose_input;

typedef struct rcy_dose_result {
  char method[8];                 /* "ldm" */
  double decay_factor;
  double injected_gbq;
  double activity_in_fov_gbq;     /* sum over the emission image, at administration */
  rcy_dose_grid dose;             /* Gy, on the CT grid when a CT was given */
  rcy_dose_compartment *compartments;
  size_t n_compartments;
  rcy_dose_models models;
  rcy_dose_flag *flags;
  size_t n_flags;
} rcy_dose_result;

int rcy_dose_compute(rcy_dose_result *out, const rcy_dose_input *in, rcy_error *err);
void rcy_dose_result_free(rcy_dose_result *r);

/* The result as the JSON of `recistry dose --json` (docs/dosimetry.md): a malloc'ed string. */
char *rcy_dose_result_json(const rcy_dose_result *r, int with_dvh);

/* ---- Section: one subject's run over files or the archive (src/dose/run*.c): what `recistry dose`, the
 * dose report and the workstation's dose view call ---- */

typedef struct rcy_dose_run_options {
  /* From files: */
  const char *pet_dir;             /* the 90Y PET series (one PT series in the folder, or pet_series_uid) */
  const char *ct_dir;              /* optional: the CT (density and the dose grid) */
  const char *maa_dir;             /* optional: the 99mTc-MAA SPECT (NM): tumour-to-normal ratio and the
                                    * predicted dose, scaled to the planned 90Y activity */
  /* From the archive (instead of the folders): the subject's latest PT series, the CT of the same frame of
   * reference, the NM series; tumour VOIs from the central read's stored segmentations. */
  const char *archive_dir;
  const char *subject;
  const char *const *voi_specs;    /* "NAME=FILE[#LABEL]": NRRD/NIfTI label map (label > 0, or = LABEL), or a
                                    * DICOM SEG on the CT's slices */
  size_t n_voi_specs;
  const char *maa_ct_dir;          /* optional: the MAA study's CT (density for the predicted dose) */
  const char *const *maa_voi_specs;/* VOIs on the MAA study's grid (the work-up is another day, another frame of
                                    * reference: the 90Y VOIs do not apply) */
  size_t n_maa_voi_specs;
  double fixed_density_g_per_ml;   /* > 0: --density */
  const char *thresholds_ini;      /* NULL: no flags */
  double lung_shunt_fraction;      /* -1: unknown */
  double planned_activity_gbq;     /* MAA: the planned 90Y activity; <= 0: the MAA's Radionuclide Total Dose */
  double prior_lung_gy;
} rcy_dose_run_options;

void rcy_dose_run_options_init(rcy_dose_run_options *o);

typedef struct rcy_dose_run {
  char subject[65];
  rcy_dicom_volume *pet, *ct, *maa, *maa_ct; /* NULL when not given */
  char density_source[64];           /* "CT (HU -> g/mL, default table)", "fixed 1.03 g/mL (--density)"... */
  char **voi_names;                  /* the VOIs used, in order (tumours from the archive included) */
  uint8_t **voi_masks;               /* each on the dose grid (result.dose's geometry) */
  size_t n_vois;
  rcy_dose_result result;            /* from the 90Y PET */
  int has_predicted;
  rcy_dose_result predicted;         /* from the MAA SPECT, when given */
} rcy_dose_run;

int rcy_dose_run_execute(rcy_dose_run **out, const rcy_dose_run_options *o, rcy_error *err);
void rcy_dose_run_free(rcy_dose_run *r);
/* {"subject", "method", ..., "compartments": [...], "flags": [...], "models": {...}, "predicted": {...}} */
char *rcy_dose_run_json(const rcy_dose_run *r, int with_dvh);

/* The subject's dose report (PDF; src/dose/report.c): inputs, compartments, models, flags, DVHs and the dose
 * over the CT. Weak so that the CLI links while the report is being built. */
int rcy_dose_report_write(const rcy_dose_run *run, const char *pdf_path, const char *signed_by, rcy_error *err)
    __attribute__((weak));

/* ---- Section: cohort analyses (src/dose/analysis*.c; `recistry dose-response`) ----
 * Declared by the analyses' own header section below this line. */

#ifdef __cplusplus
}
#endif
#endif
