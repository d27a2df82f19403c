/* The endpoints' JSON document, keys as shared/spec/registry-endpoints.md (more keys are added: each
 * group's dpr carries time to nadir, each curve-bearing endpoint its landmarks at 6/12/24 months, each
 * curve point its std_err). Numbers are not rounded; a missing value is null; a whole number is printed
 * without a fraction (days are whole days). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "recistry/qa.h"

static json_t *num(double x) {
  if (!isfinite(x)) return json_null();
  if (x == floor(x) && fabs(x) < 9e15) return json_integer((json_int_t)x);
  return json_real(x);
}

static json_t *pair(double a, double b) { return json_pack("[oo]", num(a), num(b)); }

static json_t *rate_json(const rcy_qa_rate *r) {
  return json_pack("{sIsIsoso}", "count", (json_int_t)r->count, "n", (json_int_t)r->n, "pct", num(r->pct),
                   "ci95_pct", pair(r->lower_pct, r->upper_pct));
}

static json_t *point_json(const rcy_qa_km_point *p, bool landmark) {
  json_t *o = json_pack("{sosIsososo}", "t", num(p->t), "n_risk", (json_int_t)p->n_risk, "surv", num(p->surv),
                        "std_err", num(p->std_err), "ci95", pair(p->lower, p->upper));
  if (o && !landmark) {
    json_object_set_new(o, "n_event", json_integer((json_int_t)p->n_event));
    json_object_set_new(o, "n_censor", json_integer((json_int_t)p->n_censor));
  }
  return o;
}

static json_t *km_json(const rcy_qa_km *km) {
  json_t *curve = json_array(), *marks = json_array();
  for (size_t i = 0; curve && i < km->n_points; i++)
    if (json_array_append_new(curve, point_json(&km->points[i], false))) {
      json_decref(curve);
      curve = NULL;
    }
  for (int l = 0; marks && l < RCY_QA_N_LANDMARKS; l++) {
    rcy_qa_km_point p;
    json_t *m;
    if (rcy_qa_km_at(&p, km, rcy_qa_landmark_days[l])) {
      m = point_json(&p, true);
    } else { /* after the last time: not estimable (R's summary drops it) */
      m = json_pack("{sosIsnsnso}", "t", num(rcy_qa_landmark_days[l]), "n_risk", (json_int_t)0, "surv",
                    "std_err", "ci95", pair(NAN, NAN));
    }
    if (m) json_object_set_new(m, "months", json_integer(rcy_qa_landmark_months[l]));
    if (json_array_append_new(marks, m)) {
      json_decref(marks);
      marks = NULL;
    }
  }
  return json_pack("{sIsIsosososo}", "n", (json_int_t)km->n, "events", (json_int_t)km->events, "median_days",
                   num(km->median), "median_ci95_days", pair(km->median_lower, km->median_upper), "landmarks",
                   marks, "curve", curve);
}

static json_t *group_json(const rcy_qa_endpoint_group *g) {
  json_t *o = json_pack("{sssIsosososo}", "group", g->group, "n", (json_int_t)g->n, "orr", rate_json(&g->orr),
                        "dcr", rate_json(&g->dcr), "ets20", rate_json(&g->ets20), "ets30", rate_json(&g->ets30));
  if (!o) return NULL;
  json_object_set_new(o, "dpr",
                      json_pack("{sIsosososososo}", "n", (json_int_t)g->dpr.n, "median_pct", num(g->dpr.median),
                                "q1_pct", num(g->dpr.q1), "q3_pct", num(g->dpr.q3), "time_to_nadir_median_days",
                                num(g->time_to_nadir.median), "time_to_nadir_q1_days", num(g->time_to_nadir.q1),
                                "time_to_nadir_q3_days", num(g->time_to_nadir.q3)));
  for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) json_object_set_new(o, rcy_qa_survival_names[s], km_json(&g->survival[s]));
  return o;
}

int rcy_qa_endpoints_to_json(char **out_text, const rcy_qa_endpoints *e, const char *reader, bool pretty,
                             rcy_error *err) {
  *out_text = NULL;
  json_t *groups = json_array();
  for (size_t g = 0; groups && g < e->n_groups; g++)
    if (json_array_append_new(groups, group_json(&e->groups[g]))) {
      json_decref(groups);
      groups = NULL;
    }
  json_t *doc = json_pack("{sososo}", "reader", reader ? json_string(reader) : json_null(), "by",
                          e->by_indication ? json_string("indication") : json_null(), "groups", groups);
  if (doc && e->by_indication) {
    json_t *lr = json_object();
    for (int s = 0; lr && s < RCY_QA_N_SURVIVAL; s++)
      json_object_set_new(lr, rcy_qa_survival_names[s],
                          json_pack("{sosIso}", "chisq", num(e->logrank[s].chisq), "df", (json_int_t)e->logrank[s].df,
                                    "p", num(e->logrank[s].p)));
    json_object_set_new(doc, "logrank", lr);
  }
  if (!doc) return rcy_error_set(err, RCY_ENOMEM, "out of memory building the endpoints JSON");
  *out_text = json_dumps(doc, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(17));
  json_decref(doc);
  return *out_text ? 0 : rcy_error_set(err, RCY_ENOMEM, "out of memory printing the endpoints JSON");
}
