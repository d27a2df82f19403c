/* The RECIST 1.1 engine (Eisenhauer et al., Eur J Cancer 2009;45:228) and read-concordance statistics.
 *
 * Pure computation: no I/O, no globals, no allocation outside the result objects, so it can run in the
 * reader workstation, the QA jobs and a benchmark alike. The contract it implements is
 * shared/spec/recist-engine.md; docs/recist.md lists every rule and every choice the paper leaves open.
 *
 * A caller describes one subject with plain structs (rcy_recist_subject → assessments → lesions), all
 * strings borrowed: nothing is copied, and the result borrows them back (subject_id, timepoint labels), so
 * the subject's strings must outlive the result. rcy_recist_evaluate fills a caller-owned
 * rcy_recist_result; evaluating many subjects into the same result reuses its buffers (no allocation per
 * assessment once warm). Dates are whole days since 1970-01-01 (see rcy_recist_date_parse). */
#ifndef RECISTRY_RECIST_H
#define RECISTRY_RECIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RCY_RECIST_MAX_TARGETS 5
#define RCY_RECIST_MAX_TARGETS_PER_ORGAN 2
#define RCY_RECIST_MIN_NON_NODAL_MM 10.0 /* baseline longest diameter of a measurable lesion */
#define RCY_RECIST_MIN_NODAL_MM 15.0     /* baseline short axis of a pathological node */
#define RCY_RECIST_NODAL_NORMAL_MM 10.0  /* a node under this short axis is normal (counts for CR) */
#define RCY_RECIST_TOO_SMALL_MM 5.0      /* value of a lesion "too small to measure" */
#define RCY_RECIST_PD_MIN_INCREASE_MM 5.0
#define RCY_RECIST_MAX_MM 10000.0 /* larger (or negative, NaN) diameters are invalid input */

/* ---- responses ------------------------------------------------------------------------------------ */

typedef enum rcy_recist_response {
  RCY_RECIST_NULL = 0, /* not applicable (baseline) */
  RCY_RECIST_CR,
  RCY_RECIST_PR,
  RCY_RECIST_SD,
  RCY_RECIST_NON_CR_NON_PD,
  RCY_RECIST_PD,
  RCY_RECIST_NE,
  RCY_RECIST_NONE /* no lesion of that kind at baseline */
} rcy_recist_response;
#define RCY_RECIST_RESPONSE_COUNT 8

/* "CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE", "NONE"; NULL for RCY_RECIST_NULL or an unknown value. */
const char *rcy_recist_response_name(rcy_recist_response response);
/* Inverse of rcy_recist_response_name; RCY_EINVAL for an unknown name. */
int rcy_recist_response_parse(rcy_recist_response *out, const char *name);

/* ---- dates ---------------------------------------------------------------------------------------- */

/* Strict ISO "YYYY-MM-DD" (a real calendar day, years 0001–9999) → days since 1970-01-01. */
int rcy_recist_date_parse(int32_t *out_days, const char *iso, rcy_error *err);
/* days → "YYYY-MM-DD" into buf (at least 11 bytes). */
void rcy_recist_date_format(char buf[11], int32_t days);

/* ---- input ---------------------------------------------------------------------------------------- */

typedef enum rcy_recist_target_state {
  RCY_RECIST_TARGET_MEASURED = 0,  /* diameter_mm (the only state allowed at baseline) */
  RCY_RECIST_TARGET_TOO_SMALL,     /* counts RCY_RECIST_TOO_SMALL_MM */
  RCY_RECIST_TARGET_DISAPPEARED,   /* counts 0 mm */
  RCY_RECIST_TARGET_NOT_EVALUABLE, /* the sum is incomplete */
  RCY_RECIST_TARGET_FRAGMENTS,     /* split lesion: the sum of fragments_mm */
  RCY_RECIST_TARGET_MERGED         /* coalesced into merged_into: counts 0 */
} rcy_recist_target_state;

typedef struct rcy_recist_target {
  const char *lesion_id;
  const char *organ; /* baseline only (ignored at follow-ups) */
  bool nodal;        /* baseline only: nodal targets record the short axis */
  rcy_recist_target_state state;
  double diameter_mm;         /* RCY_RECIST_TARGET_MEASURED */
  const double *fragments_mm; /* RCY_RECIST_TARGET_FRAGMENTS */
  size_t n_fragments;
  const char *merged_into; /* RCY_RECIST_TARGET_MERGED: another baseline target's id */
} rcy_recist_target;

typedef enum rcy_recist_non_target_state {
  RCY_RECIST_NON_TARGET_PRESENT = 0,
  RCY_RECIST_NON_TARGET_ABSENT, /* for nodes: normal, < 10 mm short axis */
  RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION,
  RCY_RECIST_NON_TARGET_NOT_EVALUABLE
} rcy_recist_non_target_state;

typedef struct rcy_recist_non_target {
  const char *lesion_id;
  const char *organ; /* baseline only */
  rcy_recist_non_target_state state;
} rcy_recist_non_target;

typedef enum rcy_recist_new_lesion_state {
  RCY_RECIST_NEW_EQUIVOCAL = 0,
  RCY_RECIST_NEW_UNEQUIVOCAL
} rcy_recist_new_lesion_state;

typedef struct rcy_recist_new_lesion {
  const char *lesion_id;
  const char *organ; /* may be NULL at a later sighting: the first sighting's organ is used */
  rcy_recist_new_lesion_state state;
} rcy_recist_new_lesion;

typedef struct rcy_recist_assessment {
  const char *timepoint; /* label, unique within the subject ("BL", "FU1"...) */
  int32_t date_days;
  const rcy_recist_target *targets;
  size_t n_targets;
  const rcy_recist_non_target *non_targets;
  size_t n_non_targets;
  const rcy_recist_new_lesion *new_lesions;
  size_t n_new_lesions;
} rcy_recist_assessment;

typedef struct rcy_recist_subject {
  const char *subject_id;
  bool has_treatment_start; /* false: treatment starts at the baseline date */
  int32_t treatment_start_days;
  const rcy_recist_assessment *assessments; /* [0] is baseline; dates strictly increasing */
  size_t n_assessments;
} rcy_recist_subject;

typedef struct rcy_recist_options {
  bool confirmation;         /* BOR needs confirmed CR/PR (default true) */
  int confirmation_min_days; /* default 28 */
  int sd_min_days;           /* default 42, counted from treatment start */
  int ets_window_min_days;   /* default 28 */
  int ets_window_max_days;   /* default 56 */
  bool lenient;              /* baseline-rule violations become warnings (default false) */
} rcy_recist_options;

void rcy_recist_options_default(rcy_recist_options *options);

/* ---- output --------------------------------------------------------------------------------------- */

typedef struct rcy_recist_timepoint {
  const char *timepoint; /* borrowed from the subject */
  int32_t date_days;
  bool has_sum;            /* false without targets or when a target is not evaluable */
  double sum_mm;           /* sum of diameters (complete sums only) */
  double evaluable_sum_mm; /* sum over the evaluable targets (what an NE-with-PD test used) */
  bool has_nadir;
  double nadir_mm; /* nadir before this assessment (at baseline: the baseline sum) */
  bool has_change_from_baseline;
  double change_from_baseline_pct; /* signed, unrounded: negative = shrinkage */
  bool has_change_from_nadir;
  double change_from_nadir_pct;
  rcy_recist_response target_response;     /* RCY_RECIST_NULL at baseline; NONE without targets */
  rcy_recist_response non_target_response; /* RCY_RECIST_NULL at baseline */
  rcy_recist_response overall_response;    /* RCY_RECIST_NULL at baseline */
  bool new_lesions;                        /* an unequivocal new lesion at this assessment */
  bool equivocal_new_lesions;              /* an equivocal one (not progression by itself) */
} rcy_recist_timepoint;

enum { RCY_RECIST_REASON_TARGET = 1, RCY_RECIST_REASON_NON_TARGET = 2, RCY_RECIST_REASON_NEW_LESION = 4 };

typedef struct rcy_recist_progression {
  bool present;
  size_t index;           /* assessment progression is dated to (first sight of a new lesion) */
  size_t confirmed_index; /* first assessment whose overall response is PD */
  unsigned reasons;       /* RCY_RECIST_REASON_* seen at confirmed_index */
} rcy_recist_progression;

typedef struct rcy_recist_ets {
  bool present; /* false without targets, without follow-up, or when the first follow-up is NE */
  size_t index; /* always 1: the first follow-up */
  int32_t days; /* from treatment start */
  bool in_window;
  double change_pct;
  bool ets20, ets30;
} rcy_recist_ets;

typedef struct rcy_recist_dpr {
  bool present;
  double pct;   /* positive = shrinkage */
  size_t index; /* assessment of the smallest complete follow-up sum */
  int32_t time_to_nadir_days;
} rcy_recist_dpr;

typedef struct rcy_recist_result {
  const char *subject_id; /* borrowed */
  rcy_recist_timepoint *timepoints;
  size_t n_timepoints;
  rcy_recist_response best_overall_response;
  rcy_recist_ets early_tumour_shrinkage;
  rcy_recist_dpr depth_of_response;
  rcy_recist_progression progression;
  rcy_recist_progression hepatic_progression; /* liver lesions only */
  char (*warnings)[RCY_ERROR_MESSAGE_MAX];
  size_t n_warnings;
  struct rcy_recist_workspace *workspace_; /* private: buffers reused across evaluations */
} rcy_recist_result;

/* Zeroes a result before first use. */
void rcy_recist_result_init(rcy_recist_result *result);
/* Releases every buffer; the result may be re-initialised and reused. */
void rcy_recist_result_free(rcy_recist_result *result);

/* Evaluates one subject. options NULL = defaults. Returns 0, RCY_EINVAL (message names subject, timepoint
 * and lesion) or RCY_ENOMEM. On error the result's content is unspecified (but still freeable). */
int rcy_recist_evaluate(rcy_recist_result *result, const rcy_recist_subject *subject,
                        const rcy_recist_options *options, rcy_error *err);

/* ---- concordance ---------------------------------------------------------------------------------- */

/* Categories of every confusion matrix, in this order (the overall responses that can occur). */
#define RCY_CONCORDANCE_K 6
extern const rcy_recist_response rcy_concordance_categories[RCY_CONCORDANCE_K];

typedef struct rcy_concordance_table {
  size_t n;
  size_t counts[RCY_CONCORDANCE_K][RCY_CONCORDANCE_K]; /* [first read][second read] */
  double agreement_pct;
  bool has_kappa; /* false when n is 0 or chance agreement is 1 */
  double kappa;
} rcy_concordance_table;

typedef struct rcy_concordance_timepoint {
  const char *timepoint; /* borrowed from the first read */
  rcy_concordance_table table;
} rcy_concordance_timepoint;

enum { RCY_CONCORDANCE_BOR_DIFFERS = 1, RCY_CONCORDANCE_PD_TIMEPOINT_DIFFERS = 2 };

typedef struct rcy_concordance_discordant {
  const char *subject_id;
  unsigned reasons; /* RCY_CONCORDANCE_* */
  rcy_recist_response first_bor, second_bor;
  const char *first_pd_timepoint, *second_pd_timepoint; /* NULL: no progression */
} rcy_concordance_discordant;

typedef struct rcy_concordance {
  size_t n_subjects;   /* paired */
  size_t n_timepoints; /* paired (baseline excluded: it has no response) */
  const char **first_only;
  size_t n_first_only;
  const char **second_only;
  size_t n_second_only;
  rcy_concordance_timepoint *timepoints; /* one per follow-up label, in first-read order */
  size_t n_timepoint_labels;
  rcy_concordance_table all_timepoints; /* every paired follow-up pooled */
  rcy_concordance_table bor;
  struct {
    size_t both, first_only, second_only, neither;
    size_t same_timepoint; /* among both: the same progression timepoint label */
  } progression;
  struct { /* Amit et al. 2011, first read = investigator, second = central */
    size_t investigator_pd, early, late, investigator_only, central_only, discrepancies;
    bool has_edr, has_ldr;
    double edr, ldr; /* fractions 0..1 */
  } discrepancy;
  struct { /* SOD, first minus second, over paired timepoints with both sums complete */
    size_t n;
    double mean_diff_mm;
    bool has_sd; /* n >= 2 */
    double sd_mm, loa_lower_mm, loa_upper_mm;
    struct rcy_concordance_ba_point { /* each paired timepoint, for the plot (strings borrowed) */
      const char *subject_id, *timepoint;
      double first_mm, second_mm;
    } *points; /* n of them */
    size_t points_cap;
  } bland_altman;
  rcy_concordance_discordant *discordant;
  size_t n_discordant;
} rcy_concordance;

/* Pairs two evaluated reads of the same subjects by subject_id (timepoints by label). The results must
 * stay alive while *out is used (strings are borrowed). RCY_EINVAL for a subject id repeated in one read. */
int rcy_concordance_compute(rcy_concordance **out, const rcy_recist_result *first, size_t n_first,
                            const rcy_recist_result *second, size_t n_second, rcy_error *err);
void rcy_concordance_free(rcy_concordance *concordance);

/* Cohen's kappa of a k×k table of counts (row-major). RCY_EINVAL when undefined (n = 0 or pe = 1). */
int rcy_concordance_kappa(double *out_kappa, const size_t *counts, size_t k, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
