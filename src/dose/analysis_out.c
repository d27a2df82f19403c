/* The cohort analyses as `recistry dose-response --json` (keys in docs/dosimetry.md "Cohort analyses") and as
 * the readable summary. Numbers are not rounded in the JSON (the tests compare them with scipy, sklearn and
 * R); a value that does not exist is null; an analysis that could not be computed carries "error". */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

static json_t *num(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}
static json_t *pair(double a, double b) {
  return json_pack("[oo]", num(a), num(b));
}
static json_t *err_obj(const char *msg) {
  return json_pack("{ss}", "error", msg);
}

static json_t *binary_json(const dose_binary *b) {
  json_t *o =
      json_pack("{ssssssss sI sI sI so so so}", "unit", b->unit, "dose", b->dose, "outcome", b->outcome,
                "positive", b->positive, "n", (json_int_t)b->n, "n_positive", (json_int_t)b->n_pos,
                "n_negative", (json_int_t)b->n_neg, "mean_gy_positive", num(b->mean_pos_gy),
                "mean_gy_negative", num(b->mean_neg_gy), "diff_mean_gy", num(b->diff_gy));
  if (b->cluster) json_object_set_new(o, "n_patients", json_integer((json_int_t)b->n_clusters));
  if (b->error[0]) {
    json_object_set_new(o, "error", json_string(b->error));
    return o;
  }
  json_object_set_new(o, "mann_whitney",
                      b->mwu_ok
                          ? json_pack("{sosossso}", "u", num(b->mwu.u1), "p", num(b->mwu.p), "method",
                                      b->mwu.exact ? "exact" : "asymptotic", "u_of", json_string("positive"))
                          : err_obj(b->mwu_error));
  if (b->logit_ok) {
    const rcy_dose_logistic *l = &b->logit;
    json_object_set_new(o, "logistic",
                        json_pack("{sososososososososo}", "b0", num(l->b0), "b1", num(l->b1), "se_b0",
                                  num(l->se_b0), "se_b1", num(l->se_b1), "z_b1", num(l->z_b1), "p_b1",
                                  num(l->p_b1), "dose50_gy", num(l->x50), "loglik", num(l->loglik),
                                  "iterations", json_integer(l->iterations)));
  } else {
    json_object_set_new(o, "logistic", err_obj(b->logit_error));
  }
  if (b->roc_ok) {
    const rcy_dose_roc *r = &b->roc;
    json_t *pts = json_array();
    for (size_t i = 0; i < r->n_points; i++)
      json_array_append_new(
          pts, json_pack("[ooo]", num(r->points[i].threshold), num(r->points[i].fpr), num(r->points[i].tpr)));
    json_object_set_new(o, "roc",
                        json_pack("{sosososososo}", "auc", num(r->auc), "youden_threshold_gy",
                                  num(r->youden_threshold), "youden_j", num(r->youden_j), "sensitivity",
                                  num(r->youden_tpr), "specificity", num(1 - r->youden_fpr), "points", pts));
  } else {
    json_object_set_new(o, "roc", err_obj(b->roc_error));
  }
  if (b->boot_ok) {
    const rcy_dose_bootstrap *s = &b->boot;
    json_object_set_new(o, "bootstrap",
                        json_pack("{sIsIsssososo}", "replicates", (json_int_t)s->replicates, "valid",
                                  (json_int_t)s->valid, "resampled",
                                  b->cluster ? "patients" : "patients (one row each)", "auc_ci95",
                                  pair(s->auc_low, s->auc_high), "youden_threshold_ci95_gy",
                                  pair(s->threshold_low, s->threshold_high), "diff_mean_ci95_gy",
                                  pair(s->diff_low, s->diff_high)));
  } else if (b->boot_error[0]) {
    json_object_set_new(o, "bootstrap", err_obj(b->boot_error));
  }
  return o;
}

static json_t *km_json(const rcy_qa_km *k) {
  json_t *pts = json_array();
  for (size_t i = 0; i < k->n_points; i++)
    json_array_append_new(pts, json_pack("{sosIsIsIso}", "t", num(k->points[i].t), "n_risk",
                                         (json_int_t)k->points[i].n_risk, "n_event",
                                         (json_int_t)k->points[i].n_event, "n_censor",
                                         (json_int_t)k->points[i].n_censor, "surv", num(k->points[i].surv)));
  return json_pack("{sososo so}", "median_days", num(k->median), "median_ci95_days",
                   pair(k->median_lower, k->median_upper), "points", pts, "n",
                   json_integer((json_int_t)k->n));
}

char *rcy_dose_analysis_json(const rcy_dose_analysis *a) {
  json_t *root = json_object();
  json_object_set_new(root, "n_patients", json_integer((json_int_t)a->n_patients));
  json_object_set_new(root, "n_tumours", json_integer((json_int_t)a->n_tumours));
  json_object_set_new(root, "options",
                      json_pack("{sIsIsoss}", "bootstrap", (json_int_t)a->options.bootstrap, "seed",
                                (json_int_t)a->options.seed, "threshold_gy", num(a->ttp_threshold_gy),
                                "threshold_source", a->ttp_threshold_source ? a->ttp_threshold_source : ""));
  json_object_set_new(root, "dose_response",
                      json_pack("{soso}", "per_tumour", binary_json(&a->bin[BIN_TUMOUR]), "per_patient",
                                binary_json(&a->bin[BIN_PATIENT])));
  /* The points of the plots (the workstation's cohort page draws them; it computes nothing). */
  json_t *scatter = json_array();
  for (size_t i = 0; i < a->n_scatter; i++)
    json_array_append_new(scatter,
                          json_pack("{sososb}", "tumour_mean_gy", num(a->scatter_gy[i]), "pct_change_3m",
                                    num(a->scatter_pct[i]), "responder", a->scatter_resp[i] != 0));
  json_object_set_new(root, "dose_vs_change", scatter);
  json_t *sp = a->spearman_ok ? json_pack("{sIsoso}", "n", (json_int_t)a->spearman.n, "rho",
                                          num(a->spearman.rho), "p", num(a->spearman.p))
                              : err_obj(a->spearman_error);
  json_object_set_new(root, "dose_toxicity",
                      json_pack("{sosososs}", "grade_ge3", binary_json(&a->bin[BIN_GRADE3]), "grade_ge2",
                                binary_json(&a->bin[BIN_GRADE2]), "spearman_grade", sp, "dose",
                                "normal-liver mean dose vs the highest CTCAE v5 grade"));
  json_t *conc = json_array();
  for (size_t k = 0; k < a->n_compartments; k++) {
    const dose_pairs *d = &a->pairs[k];
    const rcy_dose_agreement *g = &d->agreement;
    json_t *o = json_pack("{sssI}", "compartment", d->compartment, "n", (json_int_t)d->n);
    if (!d->ok) {
      json_object_set_new(o, "error", json_string(d->error));
    } else {
      json_object_set_new(o, "mean_maa_gy", num(g->mean_pre_gy));
      json_object_set_new(o, "mean_y90_gy", num(g->mean_post_gy));
      json_object_set_new(o, "bias_gy", num(g->bias_gy));
      json_object_set_new(o, "sd_gy", num(g->sd_gy));
      json_object_set_new(o, "loa95_gy", pair(g->loa_low_gy, g->loa_high_gy));
      json_object_set_new(o, "n_pct", json_integer((json_int_t)g->n_pct));
      json_object_set_new(o, "bias_pct", num(g->bias_pct));
      json_object_set_new(o, "sd_pct", num(g->sd_pct));
      json_object_set_new(o, "loa95_pct", pair(g->loa_low_pct, g->loa_high_pct));
      json_object_set_new(o, "pearson_r", num(g->pearson_r));
      json_object_set_new(o, "ccc", num(g->ccc));
      json_object_set_new(o, "ccc_ci95", pair(g->ccc_low, g->ccc_high));
    }
    /* Bland-Altman's points: the mean of the two doses and their difference (90Y - MAA) */
    json_t *pts = json_array();
    for (size_t i = 0; i < d->n; i++)
      json_array_append_new(pts, json_pack("{sosososo}", "maa_gy", num(d->pre[i]), "y90_gy", num(d->post[i]),
                                           "mean_gy", num((d->pre[i] + d->post[i]) / 2), "diff_gy",
                                           num(d->post[i] - d->pre[i])));
    json_object_set_new(o, "points", pts);
    json_array_append_new(conc, o);
  }
  json_object_set_new(root, "concordance", conc);
  json_t *ttp = json_pack("{sossss}", "threshold_gy", num(a->ttp_threshold_gy), "threshold_source",
                          a->ttp_threshold_source ? a->ttp_threshold_source : "", "group_rule",
                          "patient tumour dose >= threshold_gy: group 'above', else 'below'");
  if (a->ttp_ok) {
    json_t *groups = json_array();
    static const char *const names[2] = {"below", "above"};
    for (int g = 0; g < 2; g++) {
      json_t *o = json_pack("{sssIsI}", "group", names[g], "n", (json_int_t)a->ttp_n[g], "events",
                            (json_int_t)a->ttp_events[g]);
      if (a->km_ok[g]) json_object_set_new(o, "km", km_json(&a->km[g]));
      json_array_append_new(groups, o);
    }
    json_object_set_new(ttp, "groups", groups);
    if (a->logrank_ok)
      json_object_set_new(ttp, "logrank",
                          json_pack("{sosIsososo}", "chisq", num(a->logrank.chisq), "df",
                                    (json_int_t)a->logrank.df, "p", num(a->logrank.p), "observed",
                                    pair(a->logrank.observed[0], a->logrank.observed[1]), "expected",
                                    pair(a->logrank.expected[0], a->logrank.expected[1])));
  }
  if (a->ttp_error[0]) json_object_set_new(ttp, "error", json_string(a->ttp_error));
  json_object_set_new(root, "ttp", ttp);
  json_t *warn = json_array();
  for (size_t i = 0; i < a->n_warnings; i++)
    json_array_append_new(warn, json_string(a->warnings[i]));
  json_object_set_new(root, "warnings", warn);
  if (a->responses) json_object_set(root, "responses", a->responses);
  char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  json_decref(root);
  return s;
}

/* ---- the readable summary ---- */

static void print_binary(FILE *f, const dose_binary *b) {
  fprintf(f, "  %s (%s): %s\n", b->key, b->dose, b->outcome);
  fprintf(f, "    n = %zu: %zu %s, mean %.1f Gy; %zu %s, mean %.1f Gy; difference %.1f Gy\n", b->n, b->n_pos,
          b->positive, b->mean_pos_gy, b->n_neg, b->negative, b->mean_neg_gy, b->diff_gy);
  if (b->error[0]) {
    fprintf(f, "    not computed: %s\n", b->error);
    return;
  }
  if (b->mwu_ok)
    fprintf(f, "    Mann-Whitney U = %.1f, p = %.4g (%s)\n", b->mwu.u1, b->mwu.p,
            b->mwu.exact ? "exact" : "normal approximation");
  else
    fprintf(f, "    Mann-Whitney: %s\n", b->mwu_error);
  if (b->logit_ok)
    fprintf(f, "    logistic: b0 = %.4g (SE %.3g), b1 = %.4g /Gy (SE %.3g, p = %.4g); P = 50 %% at %.1f Gy\n",
            b->logit.b0, b->logit.se_b0, b->logit.b1, b->logit.se_b1, b->logit.p_b1, b->logit.x50);
  else
    fprintf(f, "    logistic: %s\n", b->logit_error);
  if (b->roc_ok) {
    fprintf(f, "    ROC: AUC %.3f", b->roc.auc);
    if (b->boot_ok && b->boot.valid) fprintf(f, " (95 %% CI %.3f-%.3f)", b->boot.auc_low, b->boot.auc_high);
    fprintf(f, "; Youden threshold %.1f Gy", b->roc.youden_threshold);
    if (b->boot_ok && b->boot.valid)
      fprintf(f, " (%.1f-%.1f)", b->boot.threshold_low, b->boot.threshold_high);
    fprintf(f, ": sensitivity %.2f, specificity %.2f\n", b->roc.youden_tpr, 1 - b->roc.youden_fpr);
  } else {
    fprintf(f, "    ROC: %s\n", b->roc_error);
  }
  if (b->boot_ok && b->boot.valid)
    fprintf(f,
            "    bootstrap (%zu of %zu replicates valid, resampling %s): difference of means 95 %% CI %.1f "
            "to %.1f Gy\n",
            b->boot.valid, b->boot.replicates, b->cluster ? "patients with all their tumours" : "patients",
            b->boot.diff_low, b->boot.diff_high);
  else if (b->boot_error[0])
    fprintf(f, "    bootstrap: %s\n", b->boot_error);
}

int rcy_dose_analysis_print(FILE *f, const rcy_dose_analysis *a, rcy_error *err) {
  fprintf(f, "TARE cohort: %zu patients, %zu tumours, %zu toxicity rows, %zu MAA/90Y pairs\n\n",
          a->n_patients, a->n_tumours, a->n_toxicity, a->n_pairs);
  /* which responses were analysed: the tables' or the archive's (every patient has the same source) */
  const char *src = json_string_value(json_object_get(json_array_get(a->responses, 0), "response_source"));
  fprintf(f, "Dose-response (responses at 3 months from %s)\n",
          src && strcmp(src, "csv") != 0 ? "the archive's final central reads through the engine"
                                         : "the tables");
  print_binary(f, &a->bin[BIN_TUMOUR]);
  print_binary(f, &a->bin[BIN_PATIENT]);
  fprintf(f, "\nDose-toxicity\n");
  print_binary(f, &a->bin[BIN_GRADE3]);
  print_binary(f, &a->bin[BIN_GRADE2]);
  if (a->spearman_ok)
    fprintf(f, "  Spearman (normal-liver mean dose vs highest grade): rho = %.3f, p = %.4g (n = %zu)\n",
            a->spearman.rho, a->spearman.p, a->spearman.n);
  else
    fprintf(f, "  Spearman: %s\n", a->spearman_error);
  fprintf(f, "\nMAA-predicted vs 90Y PET dose (d = 90Y - MAA)\n");
  if (!a->n_compartments) fprintf(f, "  no concordance.csv rows\n");
  for (size_t k = 0; k < a->n_compartments; k++) {
    const dose_pairs *d = &a->pairs[k];
    const rcy_dose_agreement *g = &d->agreement;
    if (!d->ok) {
      fprintf(f, "  %s (n = %zu): %s\n", d->compartment, d->n, d->error);
      continue;
    }
    fprintf(
        f,
        "  %s (n = %zu): bias %.1f Gy (SD %.1f), limits %.1f to %.1f Gy; %.1f %% (limits %.1f to %.1f %%); "
        "Lin's CCC %.3f (95 %% CI %.3f-%.3f)\n",
        d->compartment, d->n, g->bias_gy, g->sd_gy, g->loa_low_gy, g->loa_high_gy, g->bias_pct,
        g->loa_low_pct, g->loa_high_pct, g->ccc, g->ccc_low, g->ccc_high);
  }
  fprintf(f, "\nTime to progression by dose group (patient tumour dose >= %.1f Gy, %s)\n",
          a->ttp_threshold_gy, a->ttp_threshold_source ? a->ttp_threshold_source : "");
  if (a->ttp_ok)
    for (int g = 0; g < 2; g++) {
      fprintf(f, "  %s: n = %zu, %zu progressions", g ? "at or above" : "below", a->ttp_n[g],
              a->ttp_events[g]);
      if (a->km_ok[g]) {
        if (isfinite(a->km[g].median))
          fprintf(f, ", median %.0f days", a->km[g].median);
        else
          fprintf(f, ", median not reached");
      }
      fputc('\n', f);
    }
  if (a->logrank_ok)
    fprintf(f, "  log-rank: chi2 = %.3f (df %d), p = %.4g\n", a->logrank.chisq, a->logrank.df, a->logrank.p);
  if (a->ttp_error[0]) fprintf(f, "  %s\n", a->ttp_error);
  if (a->n_warnings) fprintf(f, "\nChecks of the tables\n");
  for (size_t i = 0; i < a->n_warnings; i++)
    fprintf(f, "  warning: %s\n", a->warnings[i]);
  if (fflush(f)) return rcy_error_set(err, RCY_EIO, "cannot write the summary");
  return RCY_OK;
}
