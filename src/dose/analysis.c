/* The TARE cohort analyses over the cohort tables (rcy_dose_cohort_read): which observations enter each
 * analysis and how the outcomes are defined, then the statistics of analysis_stats.c and the Kaplan–Meier
 * and log-rank of the endpoints (src/qa). The definitions (docs/dosimetry.md "Cohort analyses"):
 *   - tumour response: the lesion's % change of its longest diameter at 3 months <= -30 % (RECIST 1.1's
 *     partial-response threshold applied to one lesion); tumours without a % change are left out;
 *   - patient response: the engine's overall response at 3 months CR or PR; NE is left out;
 *   - toxicity: the highest CTCAE v5 grade of the patient (0 without any row), >= 3 and >= 2;
 *   - dose groups for time to progression: patient tumour dose >= threshold (EANM 2022: 189 Gy). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

void rcy_dose_analysis_options_init(rcy_dose_analysis_options *o) {
  memset(o, 0, sizeof *o);
  o->bootstrap = 2000;
  o->seed = 1;
  o->threshold_gy = 189.0;
  o->use_youden = 0;
}

static int binary_alloc(dose_binary *b, size_t n, int clustered, rcy_error *err) {
  b->x = malloc((n ? n : 1) * sizeof *b->x);
  b->y = malloc((n ? n : 1) * sizeof *b->y);
  b->cluster = clustered ? malloc((n ? n : 1) * sizeof *b->cluster) : NULL;
  if (!b->x || !b->y || (clustered && !b->cluster)) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  return RCY_OK;
}

/* Every statistic of one dose-vs-binary-outcome analysis; a failure of one is its message, not the run's. */
static void binary_compute(dose_binary *b, const rcy_dose_analysis_options *o, uint64_t seed_offset) {
  double s1 = 0, s0 = 0;
  b->n_pos = b->n_neg = 0;
  for (size_t i = 0; i < b->n; i++) {
    if (b->y[i])
      s1 += b->x[i], b->n_pos++;
    else
      s0 += b->x[i], b->n_neg++;
  }
  b->mean_pos_gy = b->n_pos ? s1 / (double)b->n_pos : NAN;
  b->mean_neg_gy = b->n_neg ? s0 / (double)b->n_neg : NAN;
  b->diff_gy = b->mean_pos_gy - b->mean_neg_gy;
  if (b->n < 3) {
    snprintf(b->error, sizeof b->error, "fewer than 3 %ss with an outcome (%zu): nothing computed", b->unit,
             b->n);
    return;
  }
  if (!b->n_pos || !b->n_neg) {
    snprintf(b->error, sizeof b->error, "no %s among the %zu %ss: no comparison possible",
             b->n_pos ? b->negative : b->positive, b->n, b->unit);
    return;
  }
  rcy_error e = {0};
  /* responders first: U counts pairs where the responder's dose is higher */
  double *pos = malloc(b->n_pos * sizeof *pos), *neg = malloc(b->n_neg * sizeof *neg);
  if (pos && neg) {
    size_t a = 0, c = 0;
    for (size_t i = 0; i < b->n; i++) {
      if (b->y[i])
        pos[a++] = b->x[i];
      else
        neg[c++] = b->x[i];
    }
    b->mwu_ok = rcy_dose_mannwhitney(&b->mwu, pos, a, neg, c, &e) == 0;
    if (!b->mwu_ok) snprintf(b->mwu_error, sizeof b->mwu_error, "%s", e.message);
  } else {
    snprintf(b->mwu_error, sizeof b->mwu_error, "out of memory");
  }
  free(pos), free(neg);
  b->logit_ok = rcy_dose_logistic_fit(&b->logit, b->x, b->y, b->n, &e) == 0;
  if (!b->logit_ok) snprintf(b->logit_error, sizeof b->logit_error, "%s", e.message);
  b->roc_ok = rcy_dose_roc_compute(&b->roc, b->x, b->y, b->n, &e) == 0;
  if (!b->roc_ok) snprintf(b->roc_error, sizeof b->roc_error, "%s", e.message);
  if (o->bootstrap) {
    b->boot_ok = rcy_dose_bootstrap_binary(&b->boot, b->x, b->y, b->cluster, b->n, b->n_clusters,
                                           o->bootstrap, o->seed + seed_offset, &e) == 0;
    if (!b->boot_ok) snprintf(b->boot_error, sizeof b->boot_error, "%s", e.message);
  }
}

static int build_binaries(rcy_dose_analysis *a, const rcy_dose_cohort *c, rcy_error *err) {
  dose_binary *t = &a->bin[BIN_TUMOUR], *p = &a->bin[BIN_PATIENT];
  *t = (dose_binary){.key = "per_tumour",
                     .unit = "tumour",
                     .dose = "tumour mean dose (90Y PET)",
                     .outcome =
                         "% change of the lesion's longest diameter at 3 months <= -30 % (RECIST 1.1 PR "
                         "threshold applied per lesion)",
                     .positive = "responders",
                     .negative = "non-responders"};
  *p = (dose_binary){.key = "per_patient",
                     .unit = "patient",
                     .dose = "patient tumour dose (mass-weighted mean over tumours)",
                     .outcome = "RECIST 1.1 overall response at 3 months CR or PR (NE left out)",
                     .positive = "responders",
                     .negative = "non-responders"};
  a->bin[BIN_GRADE3] = (dose_binary){.key = "grade_ge3",
                                     .unit = "patient",
                                     .dose = "normal-liver mean dose",
                                     .outcome = "highest CTCAE v5 grade >= 3",
                                     .positive = "grade >= 3",
                                     .negative = "grade < 3"};
  a->bin[BIN_GRADE2] = (dose_binary){.key = "grade_ge2",
                                     .unit = "patient",
                                     .dose = "normal-liver mean dose",
                                     .outcome = "highest CTCAE v5 grade >= 2",
                                     .positive = "grade >= 2",
                                     .negative = "grade < 2"};
  int rc = binary_alloc(t, c->n_tumours, 1, err);
  for (int k = BIN_PATIENT; !rc && k < N_BIN; k++)
    rc = binary_alloc(&a->bin[k], c->n_patients, 0, err);
  a->scatter_gy = malloc((c->n_tumours + 1) * sizeof *a->scatter_gy);
  a->scatter_pct = malloc((c->n_tumours + 1) * sizeof *a->scatter_pct);
  a->scatter_resp = malloc((c->n_tumours + 1) * sizeof *a->scatter_resp);
  if (!rc && (!a->scatter_gy || !a->scatter_pct || !a->scatter_resp))
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc) return rc;
  /* Tumours: clusters are the patients that have at least one evaluated tumour, renumbered 0.. */
  size_t *renum = malloc((c->n_patients + 1) * sizeof *renum);
  if (!renum) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < c->n_patients; i++)
    renum[i] = SIZE_MAX;
  for (size_t i = 0; i < c->n_tumours; i++) {
    const rcy_dose_cohort_tumour *tu = &c->tumours[i];
    if (isnan(tu->pct_change_3m)) continue;
    if (renum[tu->patient] == SIZE_MAX) renum[tu->patient] = t->n_clusters++;
    t->x[t->n] = tu->mean_gy;
    t->y[t->n] = tu->pct_change_3m <= -30.0;
    t->cluster[t->n] = renum[tu->patient];
    a->scatter_gy[a->n_scatter] = tu->mean_gy, a->scatter_pct[a->n_scatter] = tu->pct_change_3m;
    a->scatter_resp[a->n_scatter++] = t->y[t->n];
    t->n++;
  }
  free(renum);
  for (size_t i = 0; i < c->n_patients; i++) {
    const rcy_dose_cohort_patient *pa = &c->patients[i];
    if (strcmp(pa->response_3m, "NE") != 0) {
      p->x[p->n] = pa->tumour_mean_gy;
      p->y[p->n++] = strcmp(pa->response_3m, "CR") == 0 || strcmp(pa->response_3m, "PR") == 0;
    }
    for (int k = BIN_GRADE3; k <= BIN_GRADE2; k++) {
      dose_binary *g = &a->bin[k];
      g->x[g->n] = pa->normal_liver_mean_gy;
      g->y[g->n++] = pa->max_grade >= (k == BIN_GRADE3 ? 3 : 2);
    }
  }
  return RCY_OK;
}

static int build_pairs(rcy_dose_analysis *a, const rcy_dose_cohort *c, rcy_error *err) {
  a->pairs = calloc(c->n_pairs + 1, sizeof *a->pairs);
  if (!a->pairs) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < c->n_pairs; i++) {
    size_t k = 0;
    while (k < a->n_compartments && strcmp(a->pairs[k].compartment, c->pairs[i].compartment) != 0)
      k++;
    if (k == a->n_compartments) {
      snprintf(a->pairs[k].compartment, sizeof a->pairs[k].compartment, "%s", c->pairs[i].compartment);
      a->pairs[k].pre = malloc(c->n_pairs * sizeof(double));
      a->pairs[k].post = malloc(c->n_pairs * sizeof(double));
      a->n_compartments++;
      if (!a->pairs[k].pre || !a->pairs[k].post) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    }
    dose_pairs *d = &a->pairs[k];
    d->pre[d->n] = c->pairs[i].maa_gy;
    d->post[d->n++] = c->pairs[i].y90_gy;
  }
  for (size_t k = 0; k < a->n_compartments; k++) {
    rcy_error e = {0};
    dose_pairs *d = &a->pairs[k];
    d->ok = rcy_dose_agreement_compute(&d->agreement, d->pre, d->post, d->n, &e) == 0;
    if (!d->ok) snprintf(d->error, sizeof d->error, "%s", e.message);
  }
  return RCY_OK;
}

static int build_ttp(rcy_dose_analysis *a, const rcy_dose_cohort *c, rcy_error *err) {
  const rcy_dose_analysis_options *o = &a->options;
  if (o->use_youden) {
    a->ttp_threshold_source = "youden";
    if (!a->bin[BIN_PATIENT].roc_ok) {
      a->ttp_threshold_gy = NAN;
      snprintf(a->ttp_error, sizeof a->ttp_error,
               "no Youden threshold: the per-patient ROC could not be computed (%s)",
               a->bin[BIN_PATIENT].error[0] ? a->bin[BIN_PATIENT].error : a->bin[BIN_PATIENT].roc_error);
      return RCY_OK;
    }
    a->ttp_threshold_gy = a->bin[BIN_PATIENT].roc.youden_threshold;
  } else {
    a->ttp_threshold_gy = o->threshold_gy;
    a->ttp_threshold_source = o->threshold_gy == 189.0 ? "eanm2022" : "given";
  }
  size_t n = c->n_patients;
  double *time = malloc((n + 1) * sizeof *time);
  bool *event = malloc((n + 1) * sizeof *event);
  size_t *group = malloc((n + 1) * sizeof *group);
  double *gt[2] = {malloc((n + 1) * sizeof(double)), malloc((n + 1) * sizeof(double))};
  bool *ge[2] = {malloc((n + 1) * sizeof(bool)), malloc((n + 1) * sizeof(bool))};
  int rc = RCY_OK;
  if (!time || !event || !group || !gt[0] || !gt[1] || !ge[0] || !ge[1])
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  size_t m = 0;
  for (size_t i = 0; !rc && i < n; i++) {
    const rcy_dose_cohort_patient *p = &c->patients[i];
    if (isnan(p->ttp_days) || p->progression < 0) continue;
    size_t g = p->tumour_mean_gy >= a->ttp_threshold_gy;
    time[m] = p->ttp_days, event[m] = p->progression == 1, group[m] = g;
    gt[g][a->ttp_n[g]] = p->ttp_days, ge[g][a->ttp_n[g]] = p->progression == 1;
    a->ttp_events[g] += p->progression == 1;
    a->ttp_n[g]++;
    m++;
  }
  if (!rc) {
    if (m < 3) {
      snprintf(a->ttp_error, sizeof a->ttp_error, "fewer than 3 patients with a time to progression (%zu)",
               m);
    } else {
      a->ttp_ok = 1;
      rcy_error e = {0};
      for (int g = 0; g < 2; g++) {
        if (!a->ttp_n[g]) continue;
        a->km_ok[g] = rcy_qa_km_compute(&a->km[g], gt[g], ge[g], a->ttp_n[g], &e) == 0;
      }
      if (a->ttp_n[0] && a->ttp_n[1]) {
        a->logrank_ok = rcy_qa_logrank_compute(&a->logrank, time, event, group, m, 2, &e) == 0;
        if (!a->logrank_ok) snprintf(a->ttp_error, sizeof a->ttp_error, "log-rank: %s", e.message);
      } else {
        snprintf(a->ttp_error, sizeof a->ttp_error, "every patient is %s the threshold: no log-rank test",
                 a->ttp_n[0] ? "below" : "at or above");
      }
    }
  }
  free(time), free(event), free(group), free(gt[0]), free(gt[1]), free(ge[0]), free(ge[1]);
  return rc;
}

static int add_warning(rcy_dose_analysis *a, const char *text, rcy_error *err) {
  char **w = realloc(a->warnings, (a->n_warnings + 1) * sizeof *w);
  if (!w) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  a->warnings = w;
  if (!(w[a->n_warnings] = strdup(text))) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  a->n_warnings++;
  return RCY_OK;
}

/* Each patient's response at 3 months and its tumours' % changes, with the source of each (the JSON's
 * "responses"). */
static int build_responses(rcy_dose_analysis *a, const rcy_dose_cohort *c, rcy_error *err) {
  if (!(a->responses = json_array())) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < c->n_patients; i++) {
    const rcy_dose_cohort_patient *p = &c->patients[i];
    json_t *tu = json_array();
    for (size_t t = 0; tu && t < c->n_tumours; t++) {
      const rcy_dose_cohort_tumour *x = &c->tumours[t];
      if (x->patient != i) continue;
      json_array_append_new(tu, json_pack("{sssoss}", "lesion_id", x->lesion_id, "pct_change_3m",
                                          isnan(x->pct_change_3m) ? json_null() : json_real(x->pct_change_3m),
                                          "pct_change_source", x->pct_change_source));
    }
    json_t *o = tu ? json_pack("{sssssssO}", "subject", p->subject, "response_3m", p->response_3m,
                               "response_source", p->response_source, "tumours", tu)
                   : NULL;
    json_decref(tu);
    if (!o || json_array_append_new(a->responses, o)) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  return RCY_OK;
}

/* The patient's tumour dose against its tumours' volume-weighted mean, where every tumour has a volume. */
static int check_patient_doses(rcy_dose_analysis *a, const rcy_dose_cohort *c, rcy_error *err) {
  for (size_t i = 0; i < c->n_patients; i++) {
    double vd = 0, v = 0;
    int complete = 1, any = 0;
    for (size_t t = 0; t < c->n_tumours; t++) {
      if (c->tumours[t].patient != i) continue;
      any = 1;
      if (isnan(c->tumours[t].volume_ml))
        complete = 0;
      else
        vd += c->tumours[t].volume_ml * c->tumours[t].mean_gy, v += c->tumours[t].volume_ml;
    }
    const rcy_dose_cohort_patient *p = &c->patients[i];
    double m = v > 0 ? vd / v : NAN;
    char msg[256];
    if (!any) {
      snprintf(msg, sizeof msg,
               "%s: no tumour in tumours.csv (the patient counts in the patient analyses only)", p->subject);
    } else if (complete && v > 0 && fabs(p->tumour_mean_gy - m) > 0.05 * fmax(m, 1e-9)) {
      snprintf(msg, sizeof msg,
               "%s: tumour_mean_gy %.2f Gy is more than 5 %% off the volume-weighted mean of its tumours "
               "(%.2f Gy)",
               p->subject, p->tumour_mean_gy, m);
    } else {
      continue;
    }
    int rc = add_warning(a, msg, err);
    if (rc) return rc;
  }
  return RCY_OK;
}

int rcy_dose_analysis_run(rcy_dose_analysis **out, const rcy_dose_cohort *c,
                          const rcy_dose_analysis_options *o, rcy_error *err) {
  *out = NULL;
  rcy_dose_analysis *a = calloc(1, sizeof *a);
  if (!a) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (o)
    a->options = *o;
  else
    rcy_dose_analysis_options_init(&a->options);
  if (!a->options.use_youden && !(isfinite(a->options.threshold_gy) && a->options.threshold_gy >= 0)) {
    free(a);
    return rcy_error_set(err, RCY_EINVAL, "dose threshold must be a dose >= 0 Gy");
  }
  a->n_patients = c->n_patients, a->n_tumours = c->n_tumours, a->n_toxicity = c->n_toxicity,
  a->n_pairs = c->n_pairs;
  int rc = build_binaries(a, c, err);
  for (size_t i = 0; !rc && i < c->n_warnings; i++)
    rc = add_warning(a, c->warnings[i], err);
  if (!rc) rc = build_responses(a, c, err);
  if (!rc) rc = check_patient_doses(a, c, err);
  /* each analysis its own bootstrap stream (seed + k), so that adding one does not change the others */
  for (int k = 0; !rc && k < N_BIN; k++)
    binary_compute(&a->bin[k], &a->options, (uint64_t)k * 1000003u);
  if (!rc) {
    rcy_error e = {0};
    double *g = malloc((c->n_patients + 1) * sizeof *g);
    if (!g) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    for (size_t i = 0; g && i < c->n_patients; i++)
      g[i] = c->patients[i].max_grade;
    if (g) {
      a->spearman_ok =
          rcy_dose_spearman_compute(&a->spearman, a->bin[BIN_GRADE3].x, g, c->n_patients, &e) == 0;
      if (!a->spearman_ok) snprintf(a->spearman_error, sizeof a->spearman_error, "%s", e.message);
    }
    free(g);
  }
  if (!rc) rc = build_pairs(a, c, err);
  if (!rc) rc = build_ttp(a, c, err);
  if (rc) {
    rcy_dose_analysis_free(a);
    return rc;
  }
  *out = a;
  return RCY_OK;
}

void rcy_dose_analysis_free(rcy_dose_analysis *a) {
  if (!a) return;
  for (int k = 0; k < N_BIN; k++) {
    free(a->bin[k].x), free(a->bin[k].y), free(a->bin[k].cluster);
    rcy_dose_roc_free(&a->bin[k].roc);
  }
  free(a->scatter_gy), free(a->scatter_pct), free(a->scatter_resp);
  for (size_t k = 0; a->pairs && k < a->n_compartments; k++)
    free(a->pairs[k].pre), free(a->pairs[k].post);
  free(a->pairs);
  for (size_t i = 0; i < a->n_warnings; i++)
    free(a->warnings[i]);
  free(a->warnings);
  json_decref(a->responses);
  for (int g = 0; g < 2; g++)
    if (a->km_ok[g]) rcy_qa_km_free(&a->km[g]);
  if (a->logrank_ok) rcy_qa_logrank_free(&a->logrank);
  free(a);
}
