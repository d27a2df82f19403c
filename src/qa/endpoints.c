/* Registry endpoints (shared/spec/registry-endpoints.md; docs/endpoints.md): each subject's OS, PFS and
 * hepatic PFS times and events from the engine's result and the registry row, then per group ("all", then
 * each indication present) the response rates with Clopper–Pearson intervals, depth of response and time
 * to nadir quartiles, the three Kaplan–Meier curves, and with --by the log-rank test across indications.
 * Rules only; the statistics are in stats_*.c, the output in endpoints_json.c and endpoints_table.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"
#include "recistry/reads.h"

const char *const rcy_qa_survival_names[RCY_QA_N_SURVIVAL] = {"os", "pfs", "hpfs"};
const double rcy_qa_landmark_days[RCY_QA_N_LANDMARKS] = {182.625, 365.25, 730.5};
const int rcy_qa_landmark_months[RCY_QA_N_LANDMARKS] = {6, 12, 24};

static double days_from(int32_t start, int32_t date) { return date > start ? (double)(date - start) : 0.0; }

/* PFS-like endpoint: event at the earlier of the progression date and death; otherwise censored at the
 * last assessment whose overall response is not NE (the baseline has none and always counts). */
static void progression_free(double *time, bool *event, const rcy_recist_result *r, const rcy_recist_progression *p,
                             bool has_death, int32_t death, int32_t start) {
  bool ev = false;
  int32_t when = 0;
  if (p->present && p->index < r->n_timepoints) {
    ev = true;
    when = r->timepoints[p->index].date_days;
  }
  if (has_death && (!ev || death < when)) {
    ev = true;
    when = death;
  }
  if (!ev) {
    for (size_t i = 0; i < r->n_timepoints; i++)
      if (i == 0 || r->timepoints[i].overall_response != RCY_RECIST_NE) when = r->timepoints[i].date_days;
  }
  *time = days_from(start, when);
  *event = ev;
}

int rcy_qa_endpoint_subject_make(rcy_qa_endpoint_subject *out, const rcy_recist_result *result,
                                 const rcy_registry_subject *registry, int32_t treatment_start_days,
                                 rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->subject_id = registry->subject_id;
  const char *id = registry->subject_id;
  size_t ind = rcy_registry_n_indications;
  for (size_t i = 0; i < rcy_registry_n_indications; i++)
    if (strcmp(registry->indication, rcy_registry_indications[i]) == 0) ind = i;
  if (ind == rcy_registry_n_indications)
    return rcy_error_set(err, RCY_EINVAL, "subject %.64s: unknown indication '%.24s'", id, registry->indication);
  out->indication = ind;
  if (result->n_timepoints == 0) return rcy_error_set(err, RCY_EINVAL, "subject %.64s: no assessment", id);

  int32_t death = 0, last = 0;
  rcy_error e = {0};
  const bool has_death = registry->death_date[0] != '\0', has_last = registry->last_contact_date[0] != '\0';
  if ((has_death && rcy_recist_date_parse(&death, registry->death_date, &e)) ||
      (has_last && rcy_recist_date_parse(&last, registry->last_contact_date, &e)))
    return rcy_error_set(err, RCY_EINVAL, "subject %.64s: registry date: %s", id, e.message);
  if (!has_death && !has_last)
    return rcy_error_set(err, RCY_EINVAL, "subject %.64s: registry has neither death nor last contact date", id);

  out->time[RCY_QA_OS] = days_from(treatment_start_days, has_death ? death : last);
  out->event[RCY_QA_OS] = has_death;
  progression_free(&out->time[RCY_QA_PFS], &out->event[RCY_QA_PFS], result, &result->progression, has_death,
                   death, treatment_start_days);
  progression_free(&out->time[RCY_QA_HPFS], &out->event[RCY_QA_HPFS], result, &result->hepatic_progression,
                   has_death, death, treatment_start_days);

  out->bor = result->best_overall_response;
  const rcy_recist_ets *ets = &result->early_tumour_shrinkage;
  out->ets_evaluable = ets->present && ets->in_window;
  out->ets20 = out->ets_evaluable && ets->ets20;
  out->ets30 = out->ets_evaluable && ets->ets30;
  out->has_dpr = result->depth_of_response.present;
  out->dpr_pct = result->depth_of_response.pct;
  out->time_to_nadir_days = result->depth_of_response.time_to_nadir_days;
  return 0;
}

static int rate(rcy_qa_rate *r, size_t count, size_t n, rcy_error *err) {
  r->count = count;
  r->n = n;
  r->pct = r->lower_pct = r->upper_pct = NAN;
  if (n == 0) return 0;
  r->pct = 100.0 * (double)count / (double)n;
  double lo, up;
  int rc = rcy_qa_clopper_pearson(&lo, &up, count, n, 0.95, err);
  if (rc) return rc;
  r->lower_pct = 100.0 * lo;
  r->upper_pct = 100.0 * up;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void spread(rcy_qa_spread *s, double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  s->n = n;
  s->median = rcy_qa_quantile7(v, n, 0.5);
  s->q1 = rcy_qa_quantile7(v, n, 0.25);
  s->q3 = rcy_qa_quantile7(v, n, 0.75);
}

/* One group: the subjects whose member[] is true (all when member is NULL). work holds 3n doubles. */
static int group_compute(rcy_qa_endpoint_group *g, const rcy_qa_endpoint_subject *s, size_t n, const bool *member,
                         double *work, bool *ework, rcy_error *err) {
  size_t m = 0, orr = 0, dcr = 0, ets_n = 0, e20 = 0, e30 = 0, ndpr = 0;
  double *dpr = work, *ttn = work + n, *t = work + 2 * n;
  for (size_t i = 0; i < n; i++) {
    if (member && !member[i]) continue;
    m++;
    const rcy_recist_response b = s[i].bor;
    orr += b == RCY_RECIST_CR || b == RCY_RECIST_PR;
    dcr += b == RCY_RECIST_CR || b == RCY_RECIST_PR || b == RCY_RECIST_SD || b == RCY_RECIST_NON_CR_NON_PD;
    if (s[i].ets_evaluable) {
      ets_n++;
      e20 += s[i].ets20;
      e30 += s[i].ets30;
    }
    if (s[i].has_dpr) {
      dpr[ndpr] = s[i].dpr_pct;
      ttn[ndpr++] = (double)s[i].time_to_nadir_days;
    }
  }
  g->n = m;
  int rc;
  if ((rc = rate(&g->orr, orr, m, err)) || (rc = rate(&g->dcr, dcr, m, err)) ||
      (rc = rate(&g->ets20, e20, ets_n, err)) || (rc = rate(&g->ets30, e30, ets_n, err)))
    return rc;
  spread(&g->dpr, dpr, ndpr);
  spread(&g->time_to_nadir, ttn, ndpr);
  for (int e = 0; e < RCY_QA_N_SURVIVAL; e++) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      if (member && !member[i]) continue;
      t[k] = s[i].time[e];
      ework[k++] = s[i].event[e];
    }
    if ((rc = rcy_qa_km_compute(&g->survival[e], t, ework, k, err))) return rc;
  }
  return 0;
}

int rcy_qa_endpoints_compute(rcy_qa_endpoints **out, const rcy_qa_endpoint_subject *subjects, size_t n,
                             bool by_indication, rcy_error *err) {
  *out = NULL;
  const size_t ni = rcy_registry_n_indications;
  rcy_qa_endpoints *e = calloc(1, sizeof *e);
  size_t *count = calloc(ni, sizeof *count);
  double *work = malloc((3 * n + 1) * sizeof *work);
  bool *ework = malloc((n + 1) * sizeof *ework), *member = malloc((n + 1) * sizeof *member);
  size_t *group = malloc((n + 1) * sizeof *group);
  int rc = 0;
  if (!e || !count || !work || !ework || !member || !group) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto done;
  }
  e->by_indication = by_indication;
  for (size_t i = 0; i < n; i++) {
    if (subjects[i].indication >= ni) {
      rc = rcy_error_set(err, RCY_EINVAL, "subject %.64s: indication out of range", subjects[i].subject_id);
      goto done;
    }
    count[subjects[i].indication]++;
  }
  size_t ng = 1;
  if (by_indication)
    for (size_t k = 0; k < ni; k++) ng += count[k] > 0;
  e->groups = calloc(ng, sizeof *e->groups);
  if (!e->groups) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto done;
  }
  e->n_groups = ng;
  e->groups[0].group = "all";
  if ((rc = group_compute(&e->groups[0], subjects, n, NULL, work, ework, err))) goto done;
  if (by_indication) {
    size_t gi = 1;
    for (size_t k = 0; k < ni; k++) {
      if (!count[k]) continue;
      for (size_t i = 0; i < n; i++) member[i] = subjects[i].indication == k;
      e->groups[gi].group = rcy_registry_indications[k];
      if ((rc = group_compute(&e->groups[gi++], subjects, n, member, work, ework, err))) goto done;
    }
    for (size_t i = 0; i < n; i++) group[i] = subjects[i].indication;
    for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) {
      for (size_t i = 0; i < n; i++) {
        work[i] = subjects[i].time[s];
        ework[i] = subjects[i].event[s];
      }
      rc = rcy_qa_logrank_compute(&e->logrank[s], work, ework, group, n, ni, err);
      if (rc == RCY_EINVAL) { /* a singular variance matrix: no test, not a failed report */
        e->logrank[s].chisq = e->logrank[s].p = NAN;
        rc = 0;
      }
      if (rc) goto done;
    }
  }
done:
  free(count);
  free(work);
  free(ework);
  free(member);
  free(group);
  if (rc) {
    rcy_qa_endpoints_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

void rcy_qa_endpoints_free(rcy_qa_endpoints *e) {
  if (!e) return;
  for (size_t g = 0; g < e->n_groups; g++)
    for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) rcy_qa_km_free(&e->groups[g].survival[s]);
  for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) rcy_qa_logrank_free(&e->logrank[s]);
  free(e->groups);
  free(e);
}
