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
#include <stdio.h>

#include "recistry/dicom.h"
#include "recistry/error.h"
#include "recistry/store.h"

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
  char message[400];     /* e.g. "tumour T1: mean_gy 142.0 < 189.0 (should be >= 189.0; EANM 2022 ...)" */
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
   * reference, the NM series; tumour VOIs from the central read's stored segmentations. The archive's folder
   * and database (the caller's; NULL: from the folders). */
  const rcy_store_location *archive;
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
  double tnr;                      /* > 0: the tumour-to-normal ratio given (else from the MAA SPECT, if any) */
} rcy_dose_run_options;

void rcy_dose_run_options_init(rcy_dose_run_options *o);

typedef struct rcy_dose_run {
  char subject[65];
  rcy_dicom_volume *pet, *ct, *maa, *maa_ct; /* NULL when not given */
  char density_source[64];
  char note[256];                    /* what was found but not used, e.g. an archived MAA without a plan */           /* "CT (HU -> g/mL, default table)", "fixed 1.03 g/mL (--density)"... */
  char **voi_names;                  /* the VOIs used, in order (tumours from the archive included) */
  uint8_t **voi_masks;               /* each on the dose grid (result.dose's geometry) */
  size_t n_vois;
  rcy_dose_result result;            /* from the 90Y PET */
  int has_predicted;
  rcy_dose_result predicted;         /* from the MAA SPECT, when given */
  rcy_dose_threshold *thresholds;    /* the table the flags were checked against (the report cites each flag's
                                      * reference and counts the rows); NULL, 0 without thresholds_ini */
  size_t n_thresholds;
} rcy_dose_run;

int rcy_dose_run_execute(rcy_dose_run **out, const rcy_dose_run_options *o, rcy_error *err);
void rcy_dose_run_free(rcy_dose_run *r);
/* {"subject", "method", ..., "compartments": [...], "flags": [...], "models": {...}, "predicted": {...}} */
char *rcy_dose_run_json(const rcy_dose_run *r, int with_dvh);

/* ---- Section: rendering — the dose over the CT as pictures, and the subject's dose report (PDF)
 * (src/dose/render_fused.c, report.c; docs/dosimetry.md) ---- */

/* Dose below this fraction of dose_max_gy is not drawn: zero and near-zero dose leave the CT untinted. */
#define RCY_DOSE_RENDER_FLOOR_FRACTION 0.05

/* The colour of dose_gy on a scale 0..dose_max_gy (clamped): Google's "Turbo" rainbow (Mikhailov 2019; the
 * table of matplotlib's "turbo"), rgb in 0..1. Turbo rather than viridis/inferno: dosimetrists read dose
 * washes in rainbow colours (the planning systems show them so), and over a grey CT a hue code survives the
 * blending where a lightness-only map (viridis, inferno) is confounded with the CT's own grey levels; Turbo
 * is the rainbow without jet's false bands (its lightness rises and falls smoothly). */
void rcy_dose_render_colour(double rgb[3], double dose_gy, double dose_max_gy);

/* A scale maximum for a dose map: the 99th percentile of the voxels with dose > 0, rounded up to a multiple
 * of a tick step of 1, 2 or 5 × 10^k Gy (about five ticks); 1 Gy when no voxel has dose. A few noise voxels
 * of a PET (kilo-grays in LDM) do not wash the map out. */
double rcy_dose_render_auto_max_gy(const rcy_dose_grid *dose);

/* One axial slice (index `slice` along result.dose's third axis; the CT's slice when a CT was given, as the
 * dose is then on the CT grid) as an RGB PNG: the CT at window ct_wc/ct_ww (HU; DICOM linear VOI, as
 * rcy_render_window; black when the run has no CT), the dose blended over it with `opacity` (0..1) in
 * rcy_dose_render_colour where dose >= RCY_DOSE_RENDER_FLOOR_FRACTION * dose_max_gy (dose_max_gy <= 0:
 * rcy_dose_render_auto_max_gy), and with with_vois the outlines of run->voi_masks in white with their names.
 * Pixel (column i, row j) of the slice is a block of f × f PNG pixels at (f*i, f*j), f = max(1, 256 /
 * max(columns, rows)) (integer division): small grids are magnified so that outlines and labels stay
 * legible. Index space as stored (an axial LPS series shows the patient's right on the left, anterior up).
 * *png is malloc'ed (rcy_render_free). RCY_EINVAL: no dose, slice out of range, ct_ww < 1, opacity
 * outside 0..1. */
int rcy_dose_render_fused_png(unsigned char **png, size_t *len, const rcy_dose_run *run, int slice, double ct_wc,
                              double ct_ww, double dose_max_gy, double opacity, int with_vois, rcy_error *err);

/* A vertical colour bar for a map drawn with dose_max_gy: the colours from 0 (bottom) to dose_max_gy (top),
 * the part below the floor hatched (not drawn on the map), ticks and labels in Gy, "Gy" above. height_px
 * (100..10000) high, height_px * 0.4 wide. *png is malloc'ed (rcy_render_free). */
int rcy_dose_render_colour_bar_png(unsigned char **png, size_t *len, double dose_max_gy, int height_px,
                                   rcy_error *err);

/* The subject's dose report (PDF, docs/reports.md): page 1 the subject, the inputs (series, decay
 * correction, activity, date-times, delay, decay factor, density, VOIs), per-compartment dose metrics, the
 * MIRD / partition / lung doses, the EANM flags with their references; page 2 the cumulative DVHs and the
 * dose over the CT on three slices (largest tumour, liver centre, lung base) with the colour bar; the
 * MAA-predicted vs delivered doses when the run has them; who issued it and the recistry version.
 * signed_by may be NULL. Trial identifiers only (the run's subject; no patient name, ID or birth date). */
int rcy_dose_report_write(const rcy_dose_run *run, const char *pdf_path, const char *signed_by, rcy_error *err);

/* ---- Section: cohort analyses (src/dose/analysis*.c; `recistry dose-response`) ----
 * Declared by the analyses' own header section below this line. */

/* The statistics (src/dose/analysis_stats.c: pure arithmetic, no I/O). Each refuses (RCY_EINVAL, a message
 * saying what is missing) fewer than 3 observations, an empty group, non-finite values. Every one is checked
 * against a tool nobody here wrote (scipy, sklearn, R; tests/integration/dose_response.sh). */

/* Mann–Whitney U, two-sided, as scipy.stats.mannwhitneyu(x, y, method='auto'): the exact null distribution
 * when there are no ties and not both samples have more than 8 values, else the normal approximation with
 * the tie correction and the continuity correction. */
typedef struct rcy_dose_mwu {
  size_t n1, n2;
  double u1; /* U of the first sample (scipy's statistic): pairs (x, y) with x > y, ties counting 1/2 */
  double p;  /* two-sided */
  int exact; /* 1: exact distribution; 0: normal approximation */
} rcy_dose_mwu;
int rcy_dose_mannwhitney(rcy_dose_mwu *out, const double *x, size_t nx, const double *y, size_t ny, rcy_error *err);

/* Logistic regression P(y = 1) = 1 / (1 + exp(-(b0 + b1 * x))) by Newton–Raphson (IRLS) from b = 0, Wald
 * standard errors from the inverse Fisher information at the optimum. RCY_EINVAL, saying so, when one
 * outcome is absent or the outcomes are separated by x (complete or quasi-complete separation: every
 * y = 1 at or above every y = 0, or the reverse): the maximum likelihood estimate does not exist there and
 * Newton would walk b1 to infinity. */
typedef struct rcy_dose_logistic {
  size_t n, n_events;
  double b0, b1;
  double se_b0, se_b1;
  double z_b1, p_b1;  /* Wald test of b1 = 0, two-sided normal */
  double x50;         /* -b0 / b1: the x (dose, Gy) at which P = 0.5 */
  double loglik;
  int iterations;
} rcy_dose_logistic;
int rcy_dose_logistic_fit(rcy_dose_logistic *out, const double *x, const int *y, size_t n, rcy_error *err);

/* The ROC curve of a score (dose) for a binary outcome, with the convention "positive when score >=
 * threshold": one point per distinct score, thresholds decreasing, after a first point (+inf, 0, 0) — the
 * points of sklearn.metrics.roc_curve(y, score, drop_intermediate=False). AUC by the trapezoids (= U /
 * (n_pos n_neg), ties 1/2). The Youden threshold maximises TPR - FPR; ties go to the highest threshold (the
 * first in sklearn's order). */
typedef struct rcy_dose_roc_point {
  double threshold, fpr, tpr;
} rcy_dose_roc_point;
typedef struct rcy_dose_roc {
  size_t n_pos, n_neg;
  rcy_dose_roc_point *points; /* malloc'ed (rcy_dose_roc_free) */
  size_t n_points;
  double auc;
  double youden_j, youden_threshold, youden_tpr, youden_fpr;
} rcy_dose_roc;
int rcy_dose_roc_compute(rcy_dose_roc *out, const double *score, const int *y, size_t n, rcy_error *err);
void rcy_dose_roc_free(rcy_dose_roc *roc);

/* Spearman's rank correlation (average ranks for ties) and its two-sided p-value from Student's t with
 * n - 2 degrees of freedom, as scipy.stats.spearmanr. RCY_EINVAL when either variable is constant. */
typedef struct rcy_dose_spearman {
  size_t n;
  double rho, p;
} rcy_dose_spearman;
int rcy_dose_spearman_compute(rcy_dose_spearman *out, const double *x, const double *y, size_t n, rcy_error *err);

/* Agreement of a predicted (MAA) and a measured (90Y PET) dose. Bland–Altman on d = post - pre against the
 * pair mean: bias, SD (n - 1), limits bias ± 1.96 SD; the same on 100 d / mean (%; pairs with a mean of 0
 * are left out of the % part). Lin's concordance correlation coefficient (Lin 1989, moments with 1/n) with
 * the 95 % CI from Fisher's z and Lin's asymptotic variance (docs/dosimetry.md). */
typedef struct rcy_dose_agreement {
  size_t n;
  double mean_pre_gy, mean_post_gy;
  double bias_gy, sd_gy, loa_low_gy, loa_high_gy;
  size_t n_pct;
  double bias_pct, sd_pct, loa_low_pct, loa_high_pct;
  double pearson_r;
  double ccc, ccc_low, ccc_high;
} rcy_dose_agreement;
int rcy_dose_agreement_compute(rcy_dose_agreement *out, const double *pre_gy, const double *post_gy, size_t n,
                               rcy_error *err);

/* Percentile bootstrap (2.5 and 97.5 %, R's quantile type 7 over the valid replicates) of the AUC, the
 * Youden threshold and the difference of mean x (y = 1 minus y = 0). Resamples clusters with replacement
 * (cluster[i]: the subject of observation i, 0..n_clusters-1; NULL: every observation its own cluster),
 * all the observations of a drawn cluster together: tumours of one patient share a treatment and a
 * liver, so they are not independent. A replicate with an empty group is not valid (counted, left out).
 * Deterministic from seed. */
typedef struct rcy_dose_bootstrap {
  size_t replicates, valid;
  double auc_low, auc_high;
  double threshold_low, threshold_high;
  double diff_low, diff_high;
} rcy_dose_bootstrap;
int rcy_dose_bootstrap_binary(rcy_dose_bootstrap *out, const double *x, const int *y, const size_t *cluster,
                              size_t n, size_t n_clusters, size_t replicates, uint64_t seed, rcy_error *err);

/* The cohort tables (src/dose/analysis_read.c; columns in docs/dosimetry.md "Cohort analyses"): a folder
 * with tumours.csv, patients.csv, toxicity.csv and concordance.csv (the last two optional). Every field is
 * checked; an error names the file, the line and the column. A missing optional value is NAN (-1 for
 * progression). */
typedef struct rcy_dose_cohort_patient {
  char subject[65];
  double normal_liver_mean_gy, perfused_normal_liver_mean_gy, tumour_mean_gy;
  char response_3m[4]; /* CR, PR, SD, PD, NE */
  char response_source[24]; /* "csv", or "archive:central_final" (rcy_dose_cohort_fill_archive) */
  double ttp_days;     /* NAN: unknown */
  int progression;     /* 1 event, 0 censored, -1 unknown */
  double lsf;
  int max_grade;       /* highest CTCAE grade in toxicity.csv, 0 when none */
} rcy_dose_cohort_patient;
typedef struct rcy_dose_cohort_tumour {
  size_t patient; /* index into patients */
  char lesion_id[65];
  double mean_gy, d70_gy, volume_ml, pct_change_3m; /* pct_change_3m NAN: not evaluated */
  char pct_change_source[24]; /* "csv", or "archive:central_final" */
} rcy_dose_cohort_tumour;
typedef struct rcy_dose_cohort_toxicity {
  size_t patient;
  char term[128];
  int grade;
  double days;
} rcy_dose_cohort_toxicity;
typedef struct rcy_dose_cohort_pair {
  size_t patient;
  char compartment[64];
  double maa_gy, y90_gy;
} rcy_dose_cohort_pair;
typedef struct rcy_dose_cohort {
  rcy_dose_cohort_patient *patients;
  size_t n_patients;
  rcy_dose_cohort_tumour *tumours;
  size_t n_tumours;
  rcy_dose_cohort_toxicity *toxicity;
  size_t n_toxicity;
  rcy_dose_cohort_pair *pairs;
  size_t n_pairs;
  char **warnings; /* from rcy_dose_cohort_fill_archive: subjects or lesions left without a response */
  size_t n_warnings;
} rcy_dose_cohort;
int rcy_dose_cohort_read(rcy_dose_cohort **out, const char *dir, rcy_error *err);
void rcy_dose_cohort_free(rcy_dose_cohort *c);

/* The responses at 3 months from the archive instead of the tables (src/dose/analysis_archive.c;
 * `recistry dose-response --archive`): for each patient, its final central read as the registry endpoints take it
 * (rcy_review_reads "central": signed timepoints, timed from the registry's treatment start by
 * rcy_reads_engine_input_timed) run through the engine (rcy_reads_engine_run); the follow-up nearest 90 days after the start within
 * [window_min_days, window_max_days] gives response_3m (its overall response) and each tumour's pct_change_3m
 * (the % change of that target's diameter from baseline, as the engine's input holds it: the short axis for a
 * node), matched by lesion_id. Replaces the tables' values; a patient without a read or an assessment in the
 * window gets NE, a tumour that is not a target of the read NAN, each with a line in c->warnings. */
int rcy_dose_cohort_fill_archive(rcy_dose_cohort *c, const rcy_store_location *archive, int window_min_days,
                                 int window_max_days, rcy_error *err);

/* The analyses over a cohort (src/dose/analysis.c, analysis_out.c, analysis_plots.c). One analysis that
 * cannot be computed (too few subjects, separation) carries its message and the others go on. */
typedef struct rcy_dose_analysis_options {
  size_t bootstrap;       /* replicates, default 2000; 0: no bootstrap */
  uint64_t seed;          /* default 1 */
  double threshold_gy;    /* dose groups for TTP: default 189 (EANM 2022); NAN with use_youden */
  int use_youden;         /* the per-patient dose-response Youden threshold instead */
} rcy_dose_analysis_options;
void rcy_dose_analysis_options_init(rcy_dose_analysis_options *o);

typedef struct rcy_dose_analysis rcy_dose_analysis;
int rcy_dose_analysis_run(rcy_dose_analysis **out, const rcy_dose_cohort *c, const rcy_dose_analysis_options *o,
                          rcy_error *err);
void rcy_dose_analysis_free(rcy_dose_analysis *a);
/* The `--json` document (keys in docs/dosimetry.md): a malloc'ed string. */
char *rcy_dose_analysis_json(const rcy_dose_analysis *a);
/* The readable summary. */
int rcy_dose_analysis_print(FILE *f, const rcy_dose_analysis *a, rcy_error *err);
/* Writes dir/dose_response.pdf (dose vs % change, the ROC curves, Bland–Altman, Kaplan–Meier by dose
 * group) and each plot as a PNG: dose_vs_change, roc_response, roc_toxicity, bland_altman_<compartment>,
 * ttp_km (cairo, include/recistry/render.h). dir is created when missing. */
int rcy_dose_analysis_plots(const rcy_dose_analysis *a, const char *dir, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
