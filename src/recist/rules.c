/* The RECIST 1.1 decision rules (Eisenhauer et al. 2009, sections 4.3.x and Tables 1–2), written as the
 * contract states them so each function can be read against the text. */
#include "rules.h"

bool rcy_recist_meets_pd(double sum_mm, double nadir_mm) {
  /* ≥ 20 % over the nadir AND ≥ 5 mm absolute: 5·sum ≥ 6·nadir avoids 1.2·nadir's rounding. */
  return 5.0 * sum_mm >= 6.0 * nadir_mm - RCY_RECIST_EPS &&
         sum_mm - nadir_mm >= RCY_RECIST_PD_MIN_INCREASE_MM - RCY_RECIST_EPS;
}

bool rcy_recist_meets_pr(double sum_mm, double baseline_mm) {
  return 10.0 * sum_mm <= 7.0 * baseline_mm + RCY_RECIST_EPS; /* ≤ −30 % */
}

bool rcy_recist_meets_ets20(double sum_mm, double baseline_mm) {
  return 5.0 * sum_mm <= 4.0 * baseline_mm + RCY_RECIST_EPS; /* ≤ −20 % */
}

rcy_recist_response rcy_recist_target_response(const rcy_recist_target_facts *f, double nadir_mm,
                                               double baseline_mm) {
  if (!f->has_targets) return RCY_RECIST_NONE;
  /* An incomplete sum can still prove progression: the missing lesions can only add to it. */
  if (!f->complete) return rcy_recist_meets_pd(f->sum_mm, nadir_mm) ? RCY_RECIST_PD : RCY_RECIST_NE;
  if (rcy_recist_meets_pd(f->sum_mm, nadir_mm)) return RCY_RECIST_PD;
  if (f->non_nodal_all_zero && f->nodes_all_normal) return RCY_RECIST_CR;
  if (rcy_recist_meets_pr(f->sum_mm, baseline_mm)) return RCY_RECIST_PR;
  return RCY_RECIST_SD;
}

rcy_recist_response rcy_recist_non_target_response(const rcy_recist_non_target_facts *f) {
  if (f->n == 0) return RCY_RECIST_NONE;
  if (f->any_progression) return RCY_RECIST_PD;
  if (f->any_not_evaluable) return RCY_RECIST_NE;
  if (f->all_absent) return RCY_RECIST_CR;
  return RCY_RECIST_NON_CR_NON_PD;
}

rcy_recist_response rcy_recist_overall_response(bool has_targets, rcy_recist_response target,
                                                rcy_recist_response non_target, bool new_lesion) {
  if (new_lesion || non_target == RCY_RECIST_PD) return RCY_RECIST_PD;
  if (!has_targets) {
    switch (non_target) {
    case RCY_RECIST_CR: return RCY_RECIST_CR;
    case RCY_RECIST_NON_CR_NON_PD: return RCY_RECIST_NON_CR_NON_PD;
    default: return RCY_RECIST_NE; /* NE, or no disease at all at baseline */
    }
  }
  switch (target) {
  case RCY_RECIST_PD: return RCY_RECIST_PD;
  case RCY_RECIST_NE: return RCY_RECIST_NE;
  case RCY_RECIST_CR:
    return (non_target == RCY_RECIST_CR || non_target == RCY_RECIST_NONE) ? RCY_RECIST_CR : RCY_RECIST_PR;
  case RCY_RECIST_PR: return RCY_RECIST_PR;
  case RCY_RECIST_SD: return RCY_RECIST_SD;
  default: return RCY_RECIST_NE;
  }
}

static bool in_set(rcy_recist_response r, bool cr_only) {
  return r == RCY_RECIST_CR || (!cr_only && r == RCY_RECIST_PR);
}

/* A response at i is confirmed by a later one in the set, ≥ min days later, with only set members or at
 * most one NE between them. */
static bool confirmed(const rcy_recist_response *overall, const int32_t *dates, size_t i, size_t end,
                      bool cr_only, int min_days) {
  int ne = 0;
  for (size_t j = i + 1; j < end; j++) {
    if (in_set(overall[j], cr_only)) {
      if ((int64_t)dates[j] - dates[i] >= min_days) return true;
    } else if (overall[j] == RCY_RECIST_NE) {
      if (++ne > 1) return false;
    } else {
      return false;
    }
  }
  return false;
}

static bool sd_long_enough(const int32_t *dates, size_t i, int32_t start, const rcy_recist_options *o) {
  return (int64_t)dates[i] - start >= o->sd_min_days;
}

rcy_recist_response rcy_recist_best_response(const rcy_recist_response *overall, const int32_t *dates,
                                             size_t end, bool pd_seen, bool has_targets, int32_t start,
                                             const rcy_recist_options *o) {
  /* Without targets a "stable" finding is NON_CR_NON_PD: there is no sum to call stable. */
  const rcy_recist_response stable = has_targets ? RCY_RECIST_SD : RCY_RECIST_NON_CR_NON_PD;
  if (o->confirmation) {
    for (size_t i = 1; i < end; i++)
      if (overall[i] == RCY_RECIST_CR && confirmed(overall, dates, i, end, true, o->confirmation_min_days))
        return RCY_RECIST_CR;
    for (size_t i = 1; i < end; i++)
      if (in_set(overall[i], false) && confirmed(overall, dates, i, end, false, o->confirmation_min_days))
        return RCY_RECIST_PR;
    for (size_t i = 1; i < end; i++) {
      const rcy_recist_response r = overall[i];
      /* An unconfirmed CR/PR counts as stable disease, under the same minimum duration. */
      if ((r == RCY_RECIST_SD || r == RCY_RECIST_NON_CR_NON_PD || r == RCY_RECIST_CR || r == RCY_RECIST_PR) &&
          sd_long_enough(dates, i, start, o))
        return stable;
    }
    return pd_seen ? RCY_RECIST_PD : RCY_RECIST_NE;
  }
  int best = 0; /* 4 CR, 3 PR, 2 SD, 1 NON_CR_NON_PD */
  for (size_t i = 1; i < end; i++) {
    int rank = 0;
    switch (overall[i]) {
    case RCY_RECIST_CR: rank = 4; break;
    case RCY_RECIST_PR: rank = 3; break;
    case RCY_RECIST_SD: rank = sd_long_enough(dates, i, start, o) ? 2 : 0; break;
    case RCY_RECIST_NON_CR_NON_PD: rank = sd_long_enough(dates, i, start, o) ? 1 : 0; break;
    default: break;
    }
    if (rank > best) best = rank;
  }
  static const rcy_recist_response by_rank[5] = {RCY_RECIST_NULL, RCY_RECIST_NON_CR_NON_PD, RCY_RECIST_SD,
                                                 RCY_RECIST_PR, RCY_RECIST_CR};
  if (best > 0) return by_rank[best];
  return pd_seen ? RCY_RECIST_PD : RCY_RECIST_NE;
}
