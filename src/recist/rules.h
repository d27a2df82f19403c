/* The RECIST 1.1 decision rules as small pure functions: target response from sums, non-target response,
 * the two overall-response tables and the best overall response. evaluate.c feeds them; the unit tests
 * call them directly as well as through rcy_recist_evaluate. Internal to rcy_recist. */
#ifndef RECISTRY_RECIST_RULES_H
#define RECISTRY_RECIST_RULES_H

#include "recistry/recist.h"

/* Boundaries ("≥ 20 %", "≤ −30 %") are compared on unrounded values in exact integer-ratio form
 * (5·sum ≥ 6·nadir); this tolerance only absorbs binary floating-point noise (a nanometre). */
#define RCY_RECIST_EPS 1e-9

bool rcy_recist_meets_pd(double sum_mm, double nadir_mm);
bool rcy_recist_meets_pr(double sum_mm, double baseline_mm);
bool rcy_recist_meets_ets20(double sum_mm, double baseline_mm);

/* Facts about one follow-up's target lesions. */
typedef struct rcy_recist_target_facts {
  bool has_targets;
  bool complete;           /* no target not evaluable */
  double sum_mm;           /* of the evaluable targets */
  bool non_nodal_all_zero; /* every non-nodal evaluable target is 0 mm */
  bool nodes_all_normal;   /* every nodal evaluable target < 10 mm */
} rcy_recist_target_facts;

rcy_recist_response rcy_recist_target_response(const rcy_recist_target_facts *facts, double nadir_mm,
                                               double baseline_mm);

typedef struct rcy_recist_non_target_facts {
  size_t n; /* non-target lesions at baseline */
  bool any_progression, any_not_evaluable, all_absent;
} rcy_recist_non_target_facts;

rcy_recist_response rcy_recist_non_target_response(const rcy_recist_non_target_facts *facts);

/* Table 1 (has_targets) or Table 2 of the paper. */
rcy_recist_response rcy_recist_overall_response(bool has_targets, rcy_recist_response target,
                                                rcy_recist_response non_target, bool new_lesion);

/* Best overall response over overall[1..end) (index 0 = baseline is skipped), dates in days.
 * pd_seen: a progression ends the window at `end`. */
rcy_recist_response rcy_recist_best_response(const rcy_recist_response *overall, const int32_t *dates,
                                             size_t end, bool pd_seen, bool has_targets,
                                             int32_t treatment_start_days, const rcy_recist_options *options);

#endif
