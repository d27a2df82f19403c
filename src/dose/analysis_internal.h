/* Shared by src/dose/analysis*.c: the result of one cohort analysis run. Not public (the header keeps the
 * run opaque; its JSON is the contract, docs/dosimetry.md). */
#ifndef RECISTRY_DOSE_ANALYSIS_INTERNAL_H
#define RECISTRY_DOSE_ANALYSIS_INTERNAL_H

#include "recistry/dose.h"
#include "recistry/qa.h"

/* A dose against a binary outcome: responders vs non-responders, or toxicity grade >= k vs < k. Each part
 * holds its own error: one that cannot be computed does not hide the others. */
typedef struct dose_binary {
  const char *key;                 /* "per_tumour", "per_patient", "grade_ge3", "grade_ge2" */
  const char *unit;                /* "tumour" or "patient" */
  const char *dose;                /* which dose: "tumour mean dose", ... */
  const char *outcome;             /* the definition of a positive */
  const char *positive, *negative; /* "responders"/"non-responders", "grade >= 3"/"grade < 3" */
  size_t n, n_pos, n_neg, n_clusters;
  double *x; /* dose, Gy */
  int *y;
  size_t *cluster; /* the patient of each tumour (per_tumour only; else NULL) */
  double mean_pos_gy, mean_neg_gy, diff_gy;
  char error[512]; /* set when nothing could be computed (n < 3, a group empty) */
  int mwu_ok, logit_ok, roc_ok, boot_ok;
  rcy_dose_mwu mwu;
  rcy_dose_logistic logit;
  rcy_dose_roc roc;
  rcy_dose_bootstrap boot;
  char mwu_error[512], logit_error[512], roc_error[512], boot_error[512];
} dose_binary;

typedef struct dose_pairs {
  char compartment[64];
  size_t n;
  double *pre, *post;
  int ok;
  rcy_dose_agreement agreement;
  char error[512];
} dose_pairs;

enum { BIN_TUMOUR = 0, BIN_PATIENT, BIN_GRADE3, BIN_GRADE2, N_BIN };

struct rcy_dose_analysis {
  rcy_dose_analysis_options options;
  size_t n_patients, n_tumours, n_toxicity, n_pairs;
  dose_binary bin[N_BIN];
  /* the per-tumour scatter: every tumour with a % change */
  size_t n_scatter;
  double *scatter_gy, *scatter_pct;
  int *scatter_resp;
  /* dose vs highest grade */
  int spearman_ok;
  rcy_dose_spearman spearman;
  char spearman_error[512];
  /* MAA vs 90Y per compartment */
  dose_pairs *pairs;
  size_t n_compartments;
  /* time to progression by dose group: [0] below the threshold, [1] at or above */
  double ttp_threshold_gy;
  const char *ttp_threshold_source; /* "eanm2022", "given", "youden" */
  int ttp_ok, km_ok[2], logrank_ok;
  size_t ttp_n[2], ttp_events[2];
  rcy_qa_km km[2];
  rcy_qa_logrank logrank;
  char ttp_error[768];
  /* cross-table checks that do not stop the run: patients whose tumour_mean_gy is more than 5 % off the
   * volume-weighted mean of their tumours (a mass-weighted mean with one density; CT densities differ a
   * little, hence the margin) */
  char **warnings;
  size_t n_warnings;
  /* where each response came from (--archive or the tables): [{"subject", "response_3m", "response_source",
   * "tumours": [{"lesion_id", "pct_change_3m", "pct_change_source"}]}] */
  json_t *responses;
};

#endif
