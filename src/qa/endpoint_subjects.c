/* Each analysed subject's data for the endpoint plots (GET /api/endpoints/subjects; docs/endpoints.md,
 * "Plots"): BOR, the waterfall's best % change, the spider's % change at each follow-up, the swimmer's
 * timeline (treatment start, assessments with their overall response, progression, hepatic progression,
 * death or last contact, secondary resection) and the subject's OS / PFS / HPFS time and event — the same
 * ones the Kaplan–Meier curves are built from (rcy_qa_endpoint_subject_make). Days count from the registry's
 * treatment start (a baseline before it is negative here; survival times are clamped at 0 as in the curves).
 */
#include <math.h>
#include <string.h>

#include "recistry/qa.h"
#include "recistry/reads.h"

static json_t *num_or_null(bool has, double x) {
  return has && isfinite(x) ? json_real(x) : json_null();
}

static json_t *day_of(const char *iso, int32_t start, rcy_error *err, int *rc) {
  if (!iso || !iso[0]) return json_null();
  int32_t d;
  rcy_error e = {0};
  if (rcy_recist_date_parse(&d, iso, &e)) {
    *rc = rcy_error_set(err, RCY_EINVAL, "registry date '%.12s': %s", iso, e.message);
    return json_null();
  }
  return json_integer(d - start);
}

/* The waterfall's value: the smallest % change of the sum of diameters from baseline over the follow-ups up
 * to and including the first one whose overall response is PD (a subject progressing at the first follow-up
 * shows that growth). false when no follow-up in that range has a complete sum. */
bool rcy_qa_best_change(double *pct, size_t *index, const rcy_recist_result *r) {
  bool found = false;
  for (size_t i = 1; i < r->n_timepoints; i++) {
    const rcy_recist_timepoint *t = &r->timepoints[i];
    if (t->has_change_from_baseline && (!found || t->change_from_baseline_pct < *pct)) {
      *pct = t->change_from_baseline_pct;
      *index = i;
      found = true;
    }
    if (t->overall_response == RCY_RECIST_PD) break;
  }
  return found;
}

int rcy_qa_endpoint_subject_json(json_t **out, const rcy_recist_result *r, const rcy_registry_subject *row,
                                 int32_t start, rcy_error *err) {
  *out = NULL;
  rcy_qa_endpoint_subject ep;
  int rc = rcy_qa_endpoint_subject_make(&ep, r, row, start, err);
  if (rc) return rc;
  json_t *tps = json_array();
  for (size_t i = 0; tps && i < r->n_timepoints; i++) {
    const rcy_recist_timepoint *t = &r->timepoints[i];
    char date[11];
    rcy_recist_date_format(date, t->date_days);
    const char *resp = rcy_recist_response_name(t->overall_response);
    json_array_append_new(tps,
                          json_pack("{sssssIsososo}", "timepoint", t->timepoint ? t->timepoint : "", "date",
                                    date, "day", (json_int_t)(t->date_days - start), "overall_response",
                                    resp ? json_string(resp) : json_null(), "sum_mm",
                                    num_or_null(t->has_sum, t->sum_mm), "change_from_baseline_pct",
                                    num_or_null(t->has_change_from_baseline, t->change_from_baseline_pct)));
  }
  double best = NAN;
  size_t best_i = 0;
  bool has_best = rcy_qa_best_change(&best, &best_i, r);
  const char *bor = rcy_recist_response_name(r->best_overall_response);
  json_t *prog = r->progression.present && r->progression.index < r->n_timepoints
                     ? json_integer(r->timepoints[r->progression.index].date_days - start)
                     : json_null();
  json_t *hprog = r->hepatic_progression.present && r->hepatic_progression.index < r->n_timepoints
                      ? json_integer(r->timepoints[r->hepatic_progression.index].date_days - start)
                      : json_null();
  json_t *surv = json_object();
  for (int s = 0; surv && s < RCY_QA_N_SURVIVAL; s++)
    json_object_set_new(surv, rcy_qa_survival_names[s],
                        json_pack("{sfsb}", "time_days", ep.time[s], "event", ep.event[s]));
  json_t *o =
      json_pack("{sssssssssososososososososo}", "subject_id", row->subject_id, "site_id", row->site_id,
                "indication", row->indication, "treatment_start", row->treatment_start,
                "best_overall_response", bor ? json_string(bor) : json_null(), "best_change_pct",
                num_or_null(has_best, best), "best_change_timepoint",
                has_best && r->timepoints[best_i].timepoint ? json_string(r->timepoints[best_i].timepoint)
                                                            : json_null(),
                "progression_day", prog, "hepatic_progression_day", hprog, "death_day",
                day_of(row->death_date, start, err, &rc), "last_contact_day",
                day_of(row->last_contact_date, start, err, &rc), "secondary_resection_day",
                day_of(row->secondary_resection_date, start, err, &rc), "timepoints", tps);
  if (o) {
    json_object_set_new(o, "survival", surv);
    json_object_set_new(o, "depth_of_response_pct", num_or_null(ep.has_dpr, ep.dpr_pct));
    json_object_set_new(o, "ets_change_pct",
                        num_or_null(r->early_tumour_shrinkage.present, r->early_tumour_shrinkage.change_pct));
  } else {
    json_decref(surv);
  }
  if (rc) {
    json_decref(o);
    return rc;
  }
  if (!o) return rcy_error_set(err, RCY_ENOMEM, "out of memory building a subject's plot data");
  *out = o;
  return 0;
}
