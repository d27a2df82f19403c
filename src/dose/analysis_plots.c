/* The plots of the cohort analyses (`recistry dose-response --plots DIR`): DIR/dose_response.pdf with all of
 * them, and each as a PNG (DIR/dose_vs_change.png, roc_response.png, roc_toxicity.png,
 * bland_altman_<compartment>.png, ttp_km.png), drawn with render/'s plot helpers (rcy_pdf_plot,
 * rcy_plot_png): tumour dose vs % change at 3 months, the ROC curves with their Youden points, Bland–Altman
 * per compartment (MAA vs 90Y) and Kaplan–Meier of time to progression by dose group. What is drawn is
 * decided here; how is render's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis_internal.h"
#include "recistry/render.h"

typedef struct {
  rcy_pdf *pdf;
  const char *dir;
  int rc;
  rcy_error *err;
} out;

/* The plot into the PDF and, alone, into DIR/name.png (2 pixels per point). */
static void emit(out *o, const char *name, const rcy_plot *p, double height) {
  rcy_pdf_plot(o->pdf, p, height);
  if (o->rc) return;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s.png", o->dir, name) >= (int)sizeof path) {
    o->rc = rcy_error_set(o->err, RCY_EINVAL, "path too long: %s", o->dir);
    return;
  }
  o->rc = rcy_plot_png(path, p, 520, height, 2.0, o->err);
}

static const rcy_rgb red = {0.75, 0.1, 0.1}, grey = {0.45, 0.45, 0.45}, black = {0.1, 0.1, 0.1};

static void scatter_plot(out *o, const rcy_dose_analysis *a) {
  size_t n = a->n_scatter;
  rcy_rgb *col = malloc((n + 1) * sizeof *col);
  if (!col) return;
  for (size_t i = 0; i < n; i++)
    col[i] = a->scatter_resp[i] ? rcy_plot_palette[2] : rcy_plot_palette[1];
  rcy_plot_series se = {.kind = RCY_PLOT_POINTS,
                        .x = a->scatter_gy,
                        .y = a->scatter_pct,
                        .n = n,
                        .color = rcy_plot_palette[0],
                        .colors = col,
                        .width = 1.2};
  char yl[96];
  const dose_binary *t = &a->bin[BIN_TUMOUR];
  /* the vertical thresholds are named in the legend: their labels would overlap at the top when close */
  rcy_plot_rule rules[3] = {{false, -30, "-30 % (responder at or below)", {0.1, 0.35, 0.7}},
                            {true, 189, NULL, grey}};
  size_t nr = 2, nl = 3;
  rcy_plot_legend legend[4] = {{"responder (<= -30 %)", rcy_plot_palette[2]},
                               {"non-responder", rcy_plot_palette[1]},
                               {"EANM 2022 threshold 189 Gy (dashed)", grey}};
  if (t->roc_ok) {
    snprintf(yl, sizeof yl, "per-tumour Youden threshold %.0f Gy (dashed)", t->roc.youden_threshold);
    rules[nr++] = (rcy_plot_rule){true, t->roc.youden_threshold, NULL, red};
    legend[nl++] = (rcy_plot_legend){yl, red};
  }
  rcy_plot p = {.title =
                    "Tumour mean dose (90Y PET) vs % change of the longest diameter at 3 months, per tumour",
                .x_label = "tumour mean dose (Gy)",
                .y_label = "% change at 3 months",
                .x_min = 0,
                .x_max = NAN,
                .y_min = NAN,
                .y_max = NAN,
                .series = &se,
                .n_series = 1,
                .rules = rules,
                .n_rules = nr,
                .legend = legend,
                .n_legend = nl,
                .empty_note = "no tumour with a % change"};
  emit(o, "dose_vs_change", &p, 260);
  free(col);
}

static void roc_plot(out *o, const char *name, const rcy_dose_analysis *a, const int *which, size_t n_which,
                     const char *title) {
  rcy_plot_series se[8];
  rcy_plot_legend legend[8];
  double *xs[4] = {0}, *ys[4] = {0};
  double dx[2] = {0, 1}, dy[2] = {0, 1}, yx[4], yy[4];
  char labels[4][160];
  size_t ns = 0, nl = 0;
  se[ns++] = (rcy_plot_series){
      .kind = RCY_PLOT_LINE, .x = dx, .y = dy, .n = 2, .color = grey, .dashed = true, .width = 0.6};
  for (size_t w = 0; w < n_which; w++) {
    const dose_binary *b = &a->bin[which[w]];
    if (!b->roc_ok) continue;
    size_t m = b->roc.n_points;
    xs[w] = malloc(m * sizeof(double)), ys[w] = malloc(m * sizeof(double));
    if (!xs[w] || !ys[w]) continue;
    for (size_t i = 0; i < m; i++)
      xs[w][i] = b->roc.points[i].fpr, ys[w][i] = b->roc.points[i].tpr;
    rcy_rgb c = rcy_plot_palette[w];
    /* straight segments between the points: a tie of responders and non-responders is a diagonal step, as
     * the trapezoids of the AUC count it */
    se[ns++] =
        (rcy_plot_series){.kind = RCY_PLOT_LINE, .x = xs[w], .y = ys[w], .n = m, .color = c, .width = 0.8};
    yx[w] = b->roc.youden_fpr, yy[w] = b->roc.youden_tpr;
    se[ns++] = (rcy_plot_series){
        .kind = RCY_PLOT_POINTS, .x = &yx[w], .y = &yy[w], .n = 1, .color = c, .width = 3.5};
    snprintf(labels[w], sizeof labels[w], "%s (%s): AUC %.2f, Youden %.0f Gy (dot)", b->key, b->unit,
             b->roc.auc, b->roc.youden_threshold);
    legend[nl++] = (rcy_plot_legend){labels[w], c};
  }
  rcy_plot p = {.title = title,
                .x_label = "1 - specificity (false positive rate)",
                .y_label = "sensitivity",
                .x_min = 0,
                .x_max = 1,
                .y_min = 0,
                .y_max = 1.02,
                .x_step = 0.1,
                .series = se,
                .n_series = ns,
                .legend = legend,
                .n_legend = nl,
                .empty_note = "not computed"};
  emit(o, name, &p, 250);
  for (int w = 0; w < 4; w++)
    free(xs[w]), free(ys[w]);
}

/* Bland–Altman of one compartment: d = 90Y - MAA against the mean of the pair. */
static void ba_plot(out *o, const dose_pairs *d) {
  double *x = malloc((d->n + 1) * sizeof *x), *y = malloc((d->n + 1) * sizeof *y);
  if (!x || !y) {
    free(x), free(y);
    return;
  }
  for (size_t i = 0; i < d->n; i++)
    x[i] = (d->pre[i] + d->post[i]) / 2, y[i] = d->post[i] - d->pre[i];
  const rcy_dose_agreement *g = &d->agreement;
  char lb[64], ll[64], lu[64], title[200];
  snprintf(lb, sizeof lb, "bias %.1f Gy", g->bias_gy);
  snprintf(ll, sizeof ll, "-1.96 SD %.1f Gy", g->loa_low_gy);
  snprintf(lu, sizeof lu, "+1.96 SD %.1f Gy", g->loa_high_gy);
  rcy_plot_rule rules[4] = {{false, 0, NULL, grey},
                            {false, g->bias_gy, lb, black},
                            {false, g->loa_low_gy, ll, red},
                            {false, g->loa_high_gy, lu, red}};
  rcy_plot_series se = {
      .kind = RCY_PLOT_POINTS, .x = x, .y = y, .n = d->n, .color = rcy_plot_palette[0], .width = 1.2};
  snprintf(title, sizeof title,
           "Bland-Altman, %s: 90Y PET - MAA predicted dose (n = %zu; Lin's CCC %.3f, 95 %% CI %.3f-%.3f)",
           d->compartment, d->n, g->ccc, g->ccc_low, g->ccc_high);
  rcy_plot p = {.title = title,
                .x_label = "mean of MAA and 90Y dose (Gy)",
                .y_label = "90Y - MAA (Gy)",
                .x_min = NAN,
                .x_max = NAN,
                .y_min = NAN,
                .y_max = NAN,
                .series = &se,
                .n_series = 1,
                .rules = rules,
                .n_rules = d->ok ? 4 : 0};
  /* the compartment in a file name: letters, digits, '-' and '_' kept, anything else '_' */
  char name[96] = "bland_altman_";
  size_t k = strlen(name);
  for (const char *c = d->compartment; *c && k + 1 < sizeof name; c++, k++)
    name[k] = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-')
                  ? *c
                  : '_';
  name[k] = 0;
  emit(o, name, &p, 200);
  free(x), free(y);
}

static void km_plot(out *o, const rcy_dose_analysis *a) {
  rcy_plot_series se[2];
  rcy_plot_legend legend[2];
  rcy_plot_risk_row risk[2];
  double *xs[2] = {0}, *ys[2] = {0}, *ts[2] = {0};
  size_t *at[2] = {0};
  bool *marks[2] = {0};
  char labels[2][96], rl[2][32];
  size_t ns = 0;
  double tmax = 0;
  for (int g = 0; g < 2; g++) {
    if (!a->km_ok[g]) continue;
    const rcy_qa_km *k = &a->km[g];
    size_t m = k->n_points + 1;
    xs[g] = malloc(m * sizeof(double)), ys[g] = malloc(m * sizeof(double)),
    ts[g] = malloc(m * sizeof(double));
    at[g] = malloc(m * sizeof(size_t)), marks[g] = calloc(m, sizeof(bool));
    if (!xs[g] || !ys[g] || !ts[g] || !at[g] || !marks[g]) continue;
    /* months: 30.4375 days, as the endpoints' plots */
    xs[g][0] = 0, ys[g][0] = 1;
    for (size_t i = 0; i < k->n_points; i++) {
      xs[g][i + 1] = k->points[i].t / 30.4375, ys[g][i + 1] = k->points[i].surv;
      marks[g][i + 1] = k->points[i].n_censor > 0;
      ts[g][i] = k->points[i].t / 30.4375, at[g][i] = k->points[i].n_risk;
      if (xs[g][i + 1] > tmax) tmax = xs[g][i + 1];
    }
    rcy_rgb c = rcy_plot_palette[g ? 2 : 1];
    se[ns] = (rcy_plot_series){
        .kind = RCY_PLOT_STEP, .x = xs[g], .y = ys[g], .n = m, .color = c, .marks = marks[g]};
    if (isfinite(k->median))
      snprintf(labels[g], sizeof labels[g], "%s %.0f Gy (n = %zu, median %.1f months)", g ? ">=" : "<",
               a->ttp_threshold_gy, k->n, k->median / 30.4375);
    else
      snprintf(labels[g], sizeof labels[g], "%s %.0f Gy (n = %zu, median not reached)", g ? ">=" : "<",
               a->ttp_threshold_gy, k->n);
    snprintf(rl[g], sizeof rl[g], "%s %.0f Gy", g ? ">=" : "<", a->ttp_threshold_gy);
    legend[ns] = (rcy_plot_legend){labels[g], c};
    risk[ns] = (rcy_plot_risk_row){rl[g], c, ts[g], at[g], k->n_points, k->n};
    ns++;
  }
  char title[200];
  if (a->logrank_ok)
    snprintf(title, sizeof title,
             "Time to progression by patient tumour dose (Kaplan-Meier; log-rank p = %.3g)", a->logrank.p);
  else
    snprintf(title, sizeof title, "Time to progression by patient tumour dose (Kaplan-Meier)");
  rcy_plot p = {.title = title,
                .x_label = "months from treatment",
                .y_label = "progression-free (fraction)",
                .x_min = 0,
                .x_max = tmax > 0 ? ceil(tmax / 3) * 3 : 12,
                .y_min = 0,
                .y_max = 1.02,
                .x_step = tmax > 36 ? 6 : 3,
                .series = se,
                .n_series = ns,
                .legend = legend,
                .n_legend = ns,
                .risk = ns ? risk : NULL,
                .n_risk = ns,
                .empty_note = "no time to progression"};
  emit(o, "ttp_km", &p, 240);
  for (int g = 0; g < 2; g++)
    free(xs[g]), free(ys[g]), free(ts[g]), free(at[g]), free(marks[g]);
}

int rcy_dose_analysis_plots(const rcy_dose_analysis *a, const char *dir, rcy_error *err) {
  if (mkdir(dir, 0755) != 0) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      return rcy_error_set(err, RCY_EIO, "cannot create the folder %s", dir);
  }
  char path[4096];
  if (snprintf(path, sizeof path, "%s/dose_response.pdf", dir) >= (int)sizeof path)
    return rcy_error_set(err, RCY_EINVAL, "path too long: %s", dir);
  rcy_pdf *pdf;
  int rc = rcy_pdf_open(&pdf, path, "TARE cohort: dose-response, dose-toxicity, MAA vs 90Y, TTP",
                        "recistry dose-response", err);
  if (rc) return rc;
  rcy_pdf_heading(pdf, 1, "TARE cohort analyses");
  char para[400];
  snprintf(para, sizeof para,
           "%zu patients, %zu tumours. Definitions and methods: docs/dosimetry.md, \"Cohort analyses\".",
           a->n_patients, a->n_tumours);
  rcy_pdf_paragraph(pdf, para);
  out o = {pdf, dir, RCY_OK, err};
  rcy_pdf_heading(pdf, 2, "Dose-response");
  scatter_plot(&o, a);
  const int resp[2] = {BIN_TUMOUR, BIN_PATIENT}, tox[2] = {BIN_GRADE3, BIN_GRADE2};
  roc_plot(&o, "roc_response", a, resp, 2,
           "ROC of the tumour dose for response (responder when dose >= threshold)");
  rcy_pdf_heading(pdf, 2, "Dose-toxicity");
  roc_plot(&o, "roc_toxicity", a, tox, 2,
           "ROC of the normal-liver mean dose for toxicity (highest CTCAE grade)");
  rcy_pdf_heading(pdf, 2, "MAA-predicted vs 90Y PET dose");
  if (!a->n_compartments) rcy_pdf_paragraph(pdf, "No concordance.csv rows.");
  for (size_t k = 0; k < a->n_compartments; k++)
    ba_plot(&o, &a->pairs[k]);
  rcy_pdf_heading(pdf, 2, "Time to progression by dose group");
  km_plot(&o, a);
  rcy_error close_err = {0};
  rc = rcy_pdf_close(pdf, o.rc ? &close_err : err);
  return o.rc ? o.rc : rc;
}
