/* The cohort PDF report (docs/reports.md): which numbers and plots, from the same computation as
 * `recistry endpoints` (the reads of rcy_review_reads or a file, the registry, rcy_qa_cohort_*), plus what
 * the plots need of each subject's engine result (best % change, % change over time, responses). Drawing is
 * src/render's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"
#include "recistry/reads.h"
#include "recistry/recist.h"
#include "recistry/render.h"
#include "report_internal.h"

#define MONTH_DAYS 30.4375

typedef struct {
  char id[RCY_NAME_MAX + 1];
  rcy_recist_response bor;
  size_t indication;
  double best_pct; /* NAN: no follow-up change */
  size_t n;        /* follow-ups */
  double *month, *pct;
  rcy_recist_response *resp;
  double os_month, pfs_month;
  bool os_event, pfs_event;
} plot_subject;

typedef struct {
  rcy_qa_cohort *cohort;
  rcy_registry_subject *rows; /* sorted by id: the registry row of a read */
  size_t n_rows;
  plot_subject *subjects;
  size_t n, cap;
  FILE *warnings;
} cohort_ctx;

static int cmp_row(const void *a, const void *b) {
  return strcmp(((const rcy_registry_subject *)a)->subject_id, ((const rcy_registry_subject *)b)->subject_id);
}

static int prepare(void *vctx, rcy_recist_subject *subject, rcy_error *err) {
  cohort_ctx *c = vctx;
  char warning[256];
  int rc = rcy_qa_cohort_time_subject(c->cohort, subject, warning, sizeof warning, err);
  if (!rc && warning[0] && c->warnings) fprintf(c->warnings, "recistry report: warning: %s\n", warning);
  return rc;
}

static int visit(void *vctx, const rcy_recist_subject *subject, const rcy_recist_result *r, rcy_error *err) {
  cohort_ctx *c = vctx;
  int rc = rcy_qa_cohort_add(c->cohort, r, err);
  if (rc) return rc;
  rcy_registry_subject key;
  snprintf(key.subject_id, sizeof key.subject_id, "%s", r->subject_id);
  const rcy_registry_subject *row = bsearch(&key, c->rows, c->n_rows, sizeof *c->rows, cmp_row);
  if (!row) return rcy_error_set(err, RCY_EINTERNAL, "subject %s: no registry row", r->subject_id);
  rcy_qa_endpoint_subject es;
  if ((rc = rcy_qa_endpoint_subject_make(&es, r, row, subject->treatment_start_days, err))) return rc;
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    plot_subject *p = realloc(c->subjects, cap * sizeof *p);
    if (!p) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    c->subjects = p;
    c->cap = cap;
  }
  plot_subject *s = &c->subjects[c->n];
  memset(s, 0, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", r->subject_id);
  s->bor = r->best_overall_response;
  s->indication = es.indication;
  s->best_pct = NAN;
  s->os_month = es.time[RCY_QA_OS] / MONTH_DAYS;
  s->os_event = es.event[RCY_QA_OS];
  s->pfs_month = es.time[RCY_QA_PFS] / MONTH_DAYS;
  s->pfs_event = es.event[RCY_QA_PFS];
  size_t k = r->n_timepoints;
  s->month = malloc((k + 1) * sizeof *s->month);
  s->pct = malloc((k + 1) * sizeof *s->pct);
  s->resp = malloc((k + 1) * sizeof *s->resp);
  if (!s->month || !s->pct || !s->resp) {
    free(s->month), free(s->pct), free(s->resp);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  c->n++;
  for (size_t i = 0; i < k; i++) {
    const rcy_recist_timepoint *t = &r->timepoints[i];
    s->month[s->n] = (t->date_days - subject->treatment_start_days) / MONTH_DAYS;
    s->pct[s->n] = t->has_change_from_baseline ? t->change_from_baseline_pct : (i == 0 && t->has_sum ? 0 : NAN);
    s->resp[s->n] = t->overall_response;
    if (i > 0 && t->has_change_from_baseline && !(s->best_pct <= t->change_from_baseline_pct))
      s->best_pct = t->change_from_baseline_pct;
    s->n++;
  }
  return 0;
}

static void cohort_ctx_free(cohort_ctx *c) {
  for (size_t i = 0; i < c->n; i++) free(c->subjects[i].month), free(c->subjects[i].pct), free(c->subjects[i].resp);
  free(c->subjects);
  rcy_qa_cohort_free(c->cohort);
  free(c->rows);
}

/* ---- tables ---------------------------------------------------------------------------------------- */

static void fmt(char *buf, size_t size, double x, int decimals, const char *missing) {
  if (isfinite(x)) snprintf(buf, size, "%.*f", decimals, x);
  else snprintf(buf, size, "%s", missing);
}

static char *rate_cell(const rcy_qa_rate *r) {
  char p[32], lo[32], up[32];
  fmt(p, sizeof p, r->pct, 1, "-");
  fmt(lo, sizeof lo, r->lower_pct, 1, "-");
  fmt(up, sizeof up, r->upper_pct, 1, "-");
  return rcy_report_strf("%zu/%zu  %s %%\n(%s-%s)", r->count, r->n, p, lo, up);
}

static void rates_table(rcy_pdf *pdf, const rcy_qa_endpoints *e) {
  enum { COLS = 8 };
  size_t rows = e->n_groups + 1;
  char **cells = calloc(rows * COLS, sizeof *cells);
  if (!cells) return;
  const char *head[COLS] = {"Group", "n", "ORR (95% CI)", "DCR (95% CI)", "ETS20 (95% CI)", "ETS30 (95% CI)",
                            "DpR median % (IQR)", "Time to nadir, days median (IQR)"};
  for (int c = 0; c < COLS; c++) cells[c] = rcy_report_strf("%s", head[c]);
  for (size_t g = 0; g < e->n_groups; g++) {
    const rcy_qa_endpoint_group *gr = &e->groups[g];
    char **row = cells + (g + 1) * COLS;
    char m[32], q1[32], q3[32];
    row[0] = rcy_report_strf("%s", gr->group);
    row[1] = rcy_report_strf("%zu", gr->n);
    row[2] = rate_cell(&gr->orr);
    row[3] = rate_cell(&gr->dcr);
    row[4] = rate_cell(&gr->ets20);
    row[5] = rate_cell(&gr->ets30);
    fmt(m, sizeof m, gr->dpr.median, 1, "-");
    fmt(q1, sizeof q1, gr->dpr.q1, 1, "-");
    fmt(q3, sizeof q3, gr->dpr.q3, 1, "-");
    row[6] = rcy_report_strf("%s\n(%s to %s), n %zu", m, q1, q3, gr->dpr.n);
    fmt(m, sizeof m, gr->time_to_nadir.median, 0, "-");
    fmt(q1, sizeof q1, gr->time_to_nadir.q1, 0, "-");
    fmt(q3, sizeof q3, gr->time_to_nadir.q3, 0, "-");
    row[7] = rcy_report_strf("%s (%s-%s)", m, q1, q3);
  }
  const double w[COLS] = {1.5, 0.5, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2};
  rcy_pdf_table(pdf, (const char *const *)cells, rows, COLS, w, NULL);
  for (size_t i = 0; i < rows * COLS; i++) free(cells[i]);
  free(cells);
}

static const char *const survival_label[RCY_QA_N_SURVIVAL] = {"Overall survival (OS)", "Progression-free survival (PFS)",
                                                              "Hepatic progression-free survival (HPFS)"};
static const char *const survival_short[RCY_QA_N_SURVIVAL] = {"OS", "PFS", "HPFS"};

static void survival_table(rcy_pdf *pdf, const rcy_qa_endpoints *e, int s) {
  enum { COLS = 6 };
  size_t rows = e->n_groups + 1;
  char **cells = calloc(rows * COLS, sizeof *cells);
  if (!cells) return;
  const char *head[COLS] = {"Group", "n / events", "Median, days (95% CI)", "6 months", "12 months", "24 months"};
  for (int c = 0; c < COLS; c++) cells[c] = rcy_report_strf("%s", head[c]);
  for (size_t g = 0; g < e->n_groups; g++) {
    const rcy_qa_km *km = &e->groups[g].survival[s];
    char **row = cells + (g + 1) * COLS;
    char m[32], lo[32], up[32];
    row[0] = rcy_report_strf("%s", e->groups[g].group);
    row[1] = rcy_report_strf("%zu / %zu", km->n, km->events);
    fmt(m, sizeof m, km->median, 1, "NR");
    fmt(lo, sizeof lo, km->median_lower, 1, "NR");
    fmt(up, sizeof up, km->median_upper, 1, "NR");
    row[2] = rcy_report_strf("%s (%s-%s)", m, lo, up);
    for (int l = 0; l < RCY_QA_N_LANDMARKS; l++) {
      rcy_qa_km_point p;
      if (!rcy_qa_km_at(&p, km, rcy_qa_landmark_days[l])) {
        row[3 + l] = rcy_report_strf("not estimable");
        continue;
      }
      fmt(m, sizeof m, p.surv, 3, "-");
      fmt(lo, sizeof lo, p.lower, 3, "-");
      fmt(up, sizeof up, p.upper, 3, "-");
      row[3 + l] = rcy_report_strf("%s (%s-%s)\nat risk %zu", m, lo, up, p.n_risk);
    }
  }
  const double w[COLS] = {1.5, 0.8, 1.5, 1.2, 1.2, 1.2};
  rcy_pdf_table(pdf, (const char *const *)cells, rows, COLS, w, NULL);
  for (size_t i = 0; i < rows * COLS; i++) free(cells[i]);
  free(cells);
}

/* ---- plots ----------------------------------------------------------------------------------------- */

static void km_plot(rcy_pdf *pdf, const rcy_qa_endpoints *e, int s) {
  size_t first = e->by_indication && e->n_groups > 1 ? 1 : 0, ng = e->n_groups - first;
  rcy_plot_series *series = calloc(ng, sizeof *series);
  rcy_plot_legend *legend = calloc(ng, sizeof *legend);
  rcy_plot_risk_row *risk = calloc(ng, sizeof *risk);
  double **xs = calloc(ng, sizeof *xs), **ys = calloc(ng, sizeof *ys), **ts = calloc(ng, sizeof *ts);
  bool **marks = calloc(ng, sizeof *marks);
  size_t **at = calloc(ng, sizeof *at);
  char **labels = calloc(ng, sizeof *labels);
  double x_max = 0;
  if (!series || !legend || !risk || !xs || !ys || !ts || !marks || !at || !labels) goto done;
  for (size_t g = 0; g < ng; g++) {
    const rcy_qa_km *km = &e->groups[first + g].survival[s];
    size_t n = km->n_points + 1;
    xs[g] = malloc(n * sizeof **xs), ys[g] = malloc(n * sizeof **ys), ts[g] = malloc(n * sizeof **ts);
    marks[g] = calloc(n, sizeof **marks), at[g] = malloc(n * sizeof **at);
    if (!xs[g] || !ys[g] || !ts[g] || !marks[g] || !at[g]) goto done;
    xs[g][0] = 0, ys[g][0] = 1;
    for (size_t i = 0; i < km->n_points; i++) {
      const rcy_qa_km_point *p = &km->points[i];
      xs[g][i + 1] = p->t / MONTH_DAYS;
      ys[g][i + 1] = p->surv;
      marks[g][i + 1] = p->n_censor > 0;
      ts[g][i] = p->t / MONTH_DAYS;
      at[g][i] = p->n_risk;
      if (xs[g][i + 1] > x_max) x_max = xs[g][i + 1];
    }
    rcy_rgb col = rcy_plot_palette[g % 8];
    series[g] = (rcy_plot_series){.kind = RCY_PLOT_STEP, .x = xs[g], .y = ys[g], .n = n, .color = col, .marks = marks[g]};
    char m[32];
    fmt(m, sizeof m, km->median, 0, "NR");
    labels[g] = rcy_report_strf("%s (n %zu, %zu events, median %s days)", e->groups[first + g].group, km->n,
                                km->events, m);
    legend[g] = (rcy_plot_legend){labels[g] ? labels[g] : "", col};
    risk[g] = (rcy_plot_risk_row){e->groups[first + g].group, col, ts[g], at[g], km->n_points, km->n};
  }
  char *title = rcy_report_strf("%s: Kaplan-Meier (+ censored)", survival_label[s]);
  char *ylab = rcy_report_strf("%s probability", survival_short[s]);
  rcy_plot p = {.title = title, .x_label = "months from treatment start", .y_label = ylab,
                .x_min = 0, .x_max = x_max > 0 ? ceil(x_max / 6) * 6 : 6, .y_min = 0, .y_max = 1.02,
                .x_step = x_max > 48 ? 12 : 6, .series = series, .n_series = ng, .legend = legend, .n_legend = ng,
                .risk = risk, .n_risk = ng, .empty_note = "no subjects"};
  rcy_pdf_plot(pdf, &p, 230);
  free(title);
  free(ylab);
done:
  for (size_t g = 0; g < ng; g++) {
    if (xs) free(xs[g]);
    if (ys) free(ys[g]);
    if (ts) free(ts[g]);
    if (marks) free(marks[g]);
    if (at) free(at[g]);
    if (labels) free(labels[g]);
  }
  free(series), free(legend), free(risk), free(xs), free(ys), free(ts), free(marks), free(at), free(labels);
}

static const rcy_recist_response bor_order[] = {RCY_RECIST_CR, RCY_RECIST_PR, RCY_RECIST_SD, RCY_RECIST_NON_CR_NON_PD,
                                                RCY_RECIST_PD, RCY_RECIST_NE};

static int cmp_best(const void *a, const void *b) {
  const plot_subject *x = *(plot_subject *const *)a, *y = *(plot_subject *const *)b;
  if (x->best_pct != y->best_pct) return x->best_pct < y->best_pct ? 1 : -1; /* largest growth first */
  return strcmp(x->id, y->id);
}

static void waterfall(rcy_pdf *pdf, const cohort_ctx *c) {
  plot_subject **order = malloc((c->n + 1) * sizeof *order);
  double *x = malloc((c->n + 1) * sizeof *x), *y = malloc((c->n + 1) * sizeof *y);
  rcy_rgb *col = malloc((c->n + 1) * sizeof *col);
  if (!order || !x || !y || !col) goto done;
  size_t n = 0;
  for (size_t i = 0; i < c->n; i++)
    if (isfinite(c->subjects[i].best_pct)) order[n++] = &c->subjects[i];
  qsort(order, n, sizeof *order, cmp_best);
  for (size_t i = 0; i < n; i++) x[i] = (double)i, y[i] = order[i]->best_pct, col[i] = rcy_report_bor_color(order[i]->bor);
  rcy_plot_series se = {.kind = RCY_PLOT_BARS, .x = x, .y = y, .n = n, .colors = col};
  rcy_plot_rule rules[] = {{false, 20, "+20 % (PD)", {0.75, 0.1, 0.1}}, {false, -30, "-30 % (PR)", {0.1, 0.35, 0.7}}};
  rcy_plot_legend legend[6];
  for (int i = 0; i < 6; i++) legend[i] = (rcy_plot_legend){rcy_recist_response_name(bor_order[i]), rcy_report_bor_color(bor_order[i])};
  char *title = rcy_report_strf("Waterfall: best %% change of the sum of diameters from baseline (%zu subjects, coloured by BOR)", n);
  rcy_plot p = {.title = title, .x_label = "subjects (ordered by best % change)", .y_label = "best % change",
                .x_min = -0.6, .x_max = n ? n - 0.4 : 1, .y_min = NAN, .y_max = NAN, .series = &se, .n_series = 1,
                .rules = rules, .n_rules = 2, .legend = legend, .n_legend = 6, .no_x_ticks = true,
                .empty_note = "no subject with a follow-up sum of diameters"};
  rcy_pdf_plot(pdf, &p, 230);
  free(title);
done:
  free(order), free(x), free(y), free(col);
}

static void spider(rcy_pdf *pdf, const cohort_ctx *c) {
  rcy_plot_series *se = calloc(c->n + 1, sizeof *se);
  if (!se) return;
  for (size_t i = 0; i < c->n; i++)
    se[i] = (rcy_plot_series){.kind = RCY_PLOT_LINE, .x = c->subjects[i].month, .y = c->subjects[i].pct,
                              .n = c->subjects[i].n, .color = rcy_report_bor_color(c->subjects[i].bor),
                              .width = c->n > 60 ? 0.5 : 0.9};
  rcy_plot_rule rules[] = {{false, 20, "+20 %", {0.75, 0.1, 0.1}}, {false, -30, "-30 %", {0.1, 0.35, 0.7}}};
  rcy_plot_legend legend[6];
  for (int i = 0; i < 6; i++) legend[i] = (rcy_plot_legend){rcy_recist_response_name(bor_order[i]), rcy_report_bor_color(bor_order[i])};
  rcy_plot p = {.title = "Spider: % change of the sum of diameters from baseline over time (lines coloured by BOR)",
                .x_label = "months from treatment start", .y_label = "% change from baseline", .x_min = NAN, /* baselines come before the treatment start */
                .x_max = NAN, .y_min = NAN, .y_max = NAN, .series = se, .n_series = c->n, .rules = rules, .n_rules = 2,
                .legend = legend, .n_legend = 6, .empty_note = "no subject with a sum of diameters"};
  rcy_pdf_plot(pdf, &p, 230);
  free(se);
}

static int cmp_followup(const void *a, const void *b) {
  const plot_subject *x = *(plot_subject *const *)a, *y = *(plot_subject *const *)b;
  if (x->os_month != y->os_month) return x->os_month < y->os_month ? 1 : -1;
  return strcmp(x->id, y->id);
}

#define SWIMMER_MAX 60

static void swimmer(rcy_pdf *pdf, const cohort_ctx *c) {
  size_t n = c->n < SWIMMER_MAX ? c->n : SWIMMER_MAX, total_tp = 0;
  plot_subject **order = malloc((c->n + 1) * sizeof *order);
  for (size_t i = 0; order && i < c->n; i++) order[i] = &c->subjects[i], total_tp += c->subjects[i].n;
  double *x0 = malloc((n + 1) * sizeof *x0), *x1 = malloc((n + 1) * sizeof *x1), *ly = malloc((n + 1) * sizeof *ly);
  rcy_rgb *lc = malloc((n + 1) * sizeof *lc);
  double *px = malloc((total_tp + 1) * sizeof *px), *py = malloc((total_tp + 1) * sizeof *py);
  rcy_rgb *pc = malloc((total_tp + 1) * sizeof *pc);
  double *ex = malloc((2 * n + 1) * sizeof *ex), *ey = malloc((2 * n + 1) * sizeof *ey);
  rcy_rgb *ec = malloc((2 * n + 1) * sizeof *ec);
  const char **names = calloc(n + 1, sizeof *names);
  if (!order || !x0 || !x1 || !ly || !lc || !px || !py || !pc || !ex || !ey || !ec || !names) goto done;
  qsort(order, c->n, sizeof *order, cmp_followup);
  size_t np = 0, ne = 0;
  for (size_t i = 0; i < n; i++) {
    const plot_subject *s = order[i];
    double lane = (double)(n - i);
    x0[i] = 0, x1[i] = s->os_month, ly[i] = lane, lc[i] = (rcy_rgb){0.78, 0.82, 0.88};
    for (size_t k = 1; k < s->n; k++)
      if (s->resp[k] != RCY_RECIST_NULL) px[np] = s->month[k], py[np] = lane, pc[np++] = rcy_report_bor_color(s->resp[k]);
    if (s->pfs_event) ex[ne] = s->pfs_month, ey[ne] = lane, ec[ne++] = (rcy_rgb){0.75, 0.1, 0.1};
    if (s->os_event) ex[ne] = s->os_month, ey[ne] = lane, ec[ne++] = (rcy_rgb){0, 0, 0};
    names[i] = s->id;
  }
  rcy_plot_series se[3] = {
      {.kind = RCY_PLOT_SPANS, .x0 = x0, .x = x1, .y = ly, .n = n, .colors = lc},
      {.kind = RCY_PLOT_POINTS, .x = px, .y = py, .n = np, .colors = pc, .width = 1.2},
      {.kind = RCY_PLOT_POINTS, .x = ex, .y = ey, .n = ne, .colors = ec, .width = 0.4},
  };
  rcy_plot_legend legend[9] = {{"follow-up (to death or last contact)", {0.78, 0.82, 0.88}}};
  for (int i = 0; i < 6; i++) legend[1 + i] = (rcy_plot_legend){rcy_recist_response_name(bor_order[i]), rcy_report_bor_color(bor_order[i])};
  legend[7] = (rcy_plot_legend){"progression (PFS event)", {0.75, 0.1, 0.1}};
  legend[8] = (rcy_plot_legend){"death", {0, 0, 0}};
  char *title = c->n > SWIMMER_MAX
                    ? rcy_report_strf("Swimmer: the %d subjects with the longest follow-up of %zu (dots: overall response per assessment)", SWIMMER_MAX, c->n)
                    : rcy_report_strf("Swimmer: each subject's follow-up (dots: overall response per assessment)");
  rcy_plot p = {.title = title, .x_label = "months from treatment start", .y_label = "subjects", .x_min = 0,
                .x_max = NAN, .y_min = 0.3, .y_max = n + 0.7, .series = se, .n_series = 3, .legend = legend,
                .n_legend = 9, .empty_note = "no subjects"};
  rcy_pdf_plot(pdf, &p, n > 30 ? 420 : 260);
  free(title);
done:
  free(order), free(x0), free(x1), free(ly), free(lc), free(px), free(py), free(pc), free(ex), free(ey), free(ec);
  free(names);
}

/* The R1–R2 Bland–Altman plots from the archive concordance of r1:r2 (its JSON: points mean/diff, bias, LoA). */
static void bland_altman(rcy_pdf *pdf, const json_t *ba, const char *unit, const char *what) {
  json_t *pts = json_object_get(ba, "points");
  size_t n = json_array_size(pts);
  double *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
  if (!x || !y) goto done;
  for (size_t i = 0; i < n; i++) {
    json_t *p = json_array_get(pts, i);
    x[i] = json_number_value(json_object_get(p, "mean"));
    y[i] = json_number_value(json_object_get(p, "diff"));
  }
  char k1[32], k2[32], k3[32];
  snprintf(k1, sizeof k1, "mean_diff_%s", unit);
  snprintf(k2, sizeof k2, "loa_lower_%s", unit);
  snprintf(k3, sizeof k3, "loa_upper_%s", unit);
  json_t *bias = json_object_get(ba, k1), *lo = json_object_get(ba, k2), *up = json_object_get(ba, k3);
  char lb[64], ll[64], lu[64];
  rcy_plot_rule rules[3];
  size_t nr = 0;
  if (json_is_number(bias)) {
    snprintf(lb, sizeof lb, "bias %.2f", json_number_value(bias));
    rules[nr++] = (rcy_plot_rule){false, json_number_value(bias), lb, {0.1, 0.1, 0.1}};
  }
  if (json_is_number(lo) && json_is_number(up)) {
    snprintf(ll, sizeof ll, "lower LoA %.2f", json_number_value(lo));
    snprintf(lu, sizeof lu, "upper LoA %.2f", json_number_value(up));
    rules[nr++] = (rcy_plot_rule){false, json_number_value(lo), ll, {0.75, 0.1, 0.1}};
    rules[nr++] = (rcy_plot_rule){false, json_number_value(up), lu, {0.75, 0.1, 0.1}};
  }
  rcy_plot_series se = {.kind = RCY_PLOT_POINTS, .x = x, .y = y, .n = n, .color = rcy_plot_palette[0], .width = 1.2};
  char *title = rcy_report_strf("Bland-Altman, R1 - R2: %s (%zu paired timepoints)", what, n);
  char *xl = rcy_report_strf("mean of R1 and R2 (%s)", strcmp(unit, "mm") ? "%" : "mm");
  char *yl = rcy_report_strf("R1 - R2 (%s)", strcmp(unit, "mm") ? "% points" : "mm");
  rcy_plot p = {.title = title, .x_label = xl, .y_label = yl, .x_min = NAN, .x_max = NAN, .y_min = NAN,
                .y_max = NAN, .series = &se, .n_series = 1, .rules = rules, .n_rules = nr,
                .empty_note = "no timepoint measured by both central readers"};
  rcy_pdf_plot(pdf, &p, 200);
  free(title), free(xl), free(yl);
done:
  free(x), free(y);
}

/* ---- the report -------------------------------------------------------------------------------------- */

static int build(const char *out_path, const char *reader, const char *paradigm, rcy_registry_subject *rows,
                 size_t n_rows, const char *text, size_t len, bool by_indication, const json_t *r1r2, FILE *warnings,
                 rcy_error *err) {
  cohort_ctx c = {.warnings = warnings};
  rcy_qa_endpoints *e = NULL;
  rcy_pdf *pdf = NULL;
  int rc = rcy_qa_cohort_new(&c.cohort, rows, n_rows, err);
  if (!rc && n_rows && !(c.rows = malloc(n_rows * sizeof *c.rows))) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (!rc) {
    if (n_rows) memcpy(c.rows, rows, n_rows * sizeof *rows);
    c.n_rows = n_rows;
    qsort(c.rows, n_rows, sizeof *c.rows, cmp_row);
  }
  rcy_recist_json_flags flags = {0};
  if (!rc) rc = rcy_recist_json_each(text, len, &flags, prepare, visit, &c, err);
  if (!rc) rc = rcy_qa_cohort_endpoints(&e, c.cohort, by_indication, err);
  char *title = rcy_report_strf("Cohort report: %s reads", reader ? reader : "file");
  if (!rc) rc = rcy_pdf_open(&pdf, out_path, title, "recistry cohort report", err);
  if (rc) goto out;
  rcy_pdf_heading(pdf, 1, title);
  char *intro = rcy_report_strf(
      "Reads: %s. %zu subjects in the registry, %zu with a read in the endpoints, %zu without%s.%s%s\n"
      "Definitions of every endpoint, event and censoring rule: docs/endpoints.md. Rates with Clopper-Pearson 95%% "
      "CIs; survival by Kaplan-Meier (median and 95%% CI as R survival's print.survfit, log scale); times in "
      "days from treatment start unless stated.",
      reader ? (strcmp(reader, "site") == 0 ? "the site investigators' reads"
                                             : "each subject's final central read (signed timepoints)")
             : "from a file",
      n_rows, c.n, rcy_qa_cohort_n_unread(c.cohort),
      reader && strcmp(reader, "central") == 0 ? " (not read, or awaiting a second read or adjudication)" : "",
      paradigm ? " Reading paradigm: " : "", paradigm ? paradigm : "");
  rcy_pdf_paragraph(pdf, intro ? intro : "");
  free(intro);

  rcy_pdf_heading(pdf, 2, "Response endpoints");
  rates_table(pdf, e);
  rcy_pdf_paragraph(pdf, "ORR: best overall response CR or PR; DCR: CR, PR, SD or non-CR/non-PD; ETS20/ETS30: "
                         "at least 20 % / 30 % shrinkage at the first assessment within 4-8 weeks (evaluable "
                         "subjects); DpR: maximum shrinkage from baseline, in %.");
  rcy_pdf_heading(pdf, 2, "Survival endpoints");
  for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) {
    rcy_pdf_heading(pdf, 3, survival_label[s]);
    survival_table(pdf, e, s);
  }
  if (e->by_indication) {
    rcy_pdf_heading(pdf, 3, "Log-rank test across indications");
    char *cells[4 * 4] = {0};
    cells[0] = rcy_report_strf("Endpoint"), cells[1] = rcy_report_strf("Chi-square"), cells[2] = rcy_report_strf("df");
    cells[3] = rcy_report_strf("p");
    for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) {
      char ch[32], p[32];
      fmt(ch, sizeof ch, e->logrank[s].chisq, 2, "-");
      fmt(p, sizeof p, e->logrank[s].p, 4, "-");
      if (isfinite(e->logrank[s].p) && e->logrank[s].p < 1e-4) snprintf(p, sizeof p, "< 0.0001");
      cells[4 * (s + 1)] = rcy_report_strf("%s", survival_short[s]);
      cells[4 * (s + 1) + 1] = rcy_report_strf("%s", ch);
      cells[4 * (s + 1) + 2] = rcy_report_strf("%d", e->logrank[s].df);
      cells[4 * (s + 1) + 3] = rcy_report_strf("%s", p);
    }
    rcy_pdf_table(pdf, (const char *const *)cells, 4, 4, NULL, NULL);
    for (int i = 0; i < 16; i++) free(cells[i]);
  }
  rcy_pdf_new_page(pdf);
  rcy_pdf_heading(pdf, 2, "Kaplan-Meier curves");
  for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) km_plot(pdf, e, s);
  rcy_pdf_new_page(pdf);
  rcy_pdf_heading(pdf, 2, "Tumour response plots");
  waterfall(pdf, &c);
  spider(pdf, &c);
  rcy_pdf_new_page(pdf);
  swimmer(pdf, &c);
  if (r1r2) {
    rcy_pdf_heading(pdf, 2, "Double reading: agreement of the two central readers");
    bland_altman(pdf, json_object_get(r1r2, "bland_altman_sum_mm"), "mm", "sum of diameters");
    bland_altman(pdf, json_object_get(r1r2, "bland_altman_change_pct"), "pct", "% change from baseline");
  }
  rc = rcy_pdf_close(pdf, err);
  pdf = NULL;
out:
  if (pdf) rcy_pdf_close(pdf, NULL);
  free(title);
  rcy_qa_endpoints_free(e);
  cohort_ctx_free(&c);
  return rc;
}

int rcy_qa_report_cohort(rcy_store *store, const char *reader, bool by_indication, const char *out_path,
                         FILE *warnings, rcy_error *err) {
  if (strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0)
    return rcy_error_set(err, RCY_EINVAL, "reader must be site or central");
  rcy_registry_subject *rows = NULL;
  size_t n_rows = 0;
  rcy_review_settings s;
  json_t *reads = NULL, *conc = NULL;
  char *text = NULL, *ctext = NULL;
  int rc = rcy_qa_registry_rows(&rows, &n_rows, store, err);
  if (!rc) rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&reads, store, &s, reader, err);
  if (!rc && !(text = json_dumps(reads, JSON_COMPACT))) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  /* In double reading, the R1-R2 agreement: the archive concordance QA sees, unrounded for the plots. */
  if (!rc && strcmp(s.paradigm, "double") == 0) {
    rc = rcy_review_concordance(&ctext, store, "r1:r2", true, false, err);
    if (!rc && !(conc = json_loads(ctext, 0, NULL))) rc = rcy_error_set(err, RCY_EINTERNAL, "concordance JSON");
  }
  if (!rc) rc = build(out_path, reader, s.paradigm, rows, n_rows, text, strlen(text), by_indication, conc, warnings, err);
  json_decref(reads), json_decref(conc);
  free(text), free(ctext), free(rows);
  return rc;
}

int rcy_qa_report_cohort_files(const char *registry_csv, const char *reads_json, bool by_indication,
                               const char *out_path, FILE *warnings, rcy_error *err) {
  rcy_registry_subject *rows = NULL;
  size_t n_rows = 0, len = 0;
  char *text = NULL;
  int rc = rcy_registry_read_file(&rows, &n_rows, registry_csv, warnings ? warnings : stderr, err);
  if (!rc) rc = rcy_recist_json_read_file(&text, &len, reads_json, err);
  if (!rc) rc = build(out_path, NULL, NULL, rows, n_rows, text, len, by_indication, NULL, warnings, err);
  free(rows);
  free(text);
  return rc;
}
