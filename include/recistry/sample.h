/* Sample: the phantom generator. Writes, deterministically from a seed, a cohort of synthetic
 * anonymised subjects of the CIREL trial at several sites (one CT or MR study per assessment, lesions
 * of known size in liver, lungs and lymph nodes following a response scenario), the ground truth of
 * every lesion, the RECIST engine input a perfect reader would produce, a "site investigator" read
 * with small differences, and "dirty" studies that the ingest daemon must refuse or flag.
 *
 * Output layout (docs/sample.md):
 *   DIR/<site>/<subject>/<timepoint>/<MOD>_<nnnn>.dcm   one study (one series) per assessment
 *   DIR/truth/<subject>.json                             lesions, geometry, UIDs, engine input
 *   DIR/reads/central.json, DIR/reads/site.json          engine inputs (arrays of subjects)
 *   DIR/dirty/<case>/...                                  one folder per defect; DIR/dirty/manifest.json
 * With lesion_phantoms, only: DIR/S014/CIREL-014-096N/{BL,FU1}/CT_nnnn.dcm, DIR/lesions/<subject>.json and
 * DIR/lesions/<subject>/<timepoint>.nrrd (label volumes) for segmentation tests.
 * With tare, only the TARE dosimetry phantoms: DIR/S014/CIREL-014-097N/{MAA,Y90}/{CT,PT,NM}_nnnn.dcm (CT and
 * 99mTc-MAA SPECT in MAA, CT and 90Y PET in Y90), DIR/tare/<subject>/<study>/<voi>.nrrd (label maps on the
 * study's CT grid) and DIR/tare/<subject>.json (truth: activities, masses, analytic doses).
 * Same options, same bytes: UIDs are derived from the seed and dates are computed, never read from a clock. */
#ifndef RECISTRY_SAMPLE_H
#define RECISTRY_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_sample_options {
  const char *out_dir;  /* created if missing; existing sample files are overwritten */
  int subjects;         /* cohort size (default 6); subject i follows scenario i mod 7 */
  uint64_t seed;        /* default 1 */
  int slices;           /* slices per series (default 60; 8..1000); sets the slice thickness, see docs */
  int max_timepoints;   /* cap on assessments per subject including baseline (0 = the scenario's 3..5) */
  double noise_hu;      /* standard deviation of the image noise in HU (default 10; 0 = noiseless) */
  int dirty;            /* also write DIR/dirty (default 1) */
  int lesion_phantoms;  /* write only the lesion phantoms (DIR/S014/CIREL-014-096N, DIR/lesions; default 0) */
  const char *phantom;  /* with lesion_phantoms: only this one (standard, thick, lowdose); with tare: accuracy,
                         * realistic, cohort or the subject ID; NULL: all of them */
  int tare;             /* write only the TARE dosimetry phantoms (DIR/S014/CIREL-014-097N, DIR/tare; default 0) */
  const char *tare_decay; /* with tare: the PET's Decay Correction, "START" (NULL: default), "ADMIN" or "NONE"
                           * (case-insensitive); docs/sample.md says how the values are scaled for each */
  /* The TARE cohort tables (src/sample/tare_cohort.c): > 0 writes only DIR/patients.csv, tumours.csv,
   * toxicity.csv and concordance.csv for that many subjects (the input of `recistry dose-response`, from the
   * known model of docs/dosimetry.md "Cohort analyses"); only seed applies. Default 0. */
  int tare_cohort;
} rcy_sample_options;

typedef struct rcy_sample_stats {
  size_t subjects;
  size_t studies;
  size_t instances; /* clean + dirty DICOM files written */
  size_t bytes;     /* bytes of DICOM written */
  double seconds;   /* wall time of the whole generation */
} rcy_sample_stats;

/* Fills the defaults above. */
void rcy_sample_options_init(rcy_sample_options *opts);
/* Writes the whole sample set; stats may be NULL. */
int rcy_sample_generate(rcy_sample_stats *stats, const rcy_sample_options *opts, rcy_error *err);

/* Names of the response scenarios, in cohort order ("partial_response", ...); NULL past the end. */
const char *rcy_sample_scenario_name(int index);

#ifdef __cplusplus
}
#endif
#endif
