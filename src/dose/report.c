/* The subject's dose report (PDF; docs/dosimetry.md, docs/reports.md): what the dose was computed from
 * (series, decay correction, activity, date-times, density, VOIs) and by which recistry version, the
 * per-compartment dose metrics, the model doses (MIRD, partition, lung), the EANM flags with their references,
 * the cumulative DVHs, the dose over the CT on three slices with its colour bar, the MAA-predicted vs
 * delivered doses, and the signatures. Every number comes from the run (rcy_dose_run_execute): nothing here
 * computes a dose. Laid out with the render module's PDF blocks, as the RECIST reports of src/qa. */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recistry/dose.h"
#include "recistry/render.h"

#ifndef RCY_VERSION
#define RCY_VERSION "dev"
#endif

/* The tumour line on the DVH plot when the threshold table has no tumour target: EANM 2022 (glass, mCRC). */
#define TUMOUR_TARGET_GY_DEFAULT 189.0
/* CT window of the dose maps: abdomen soft tissue (HU). */
#define MAP_WC 40.0
#define MAP_WW 400.0
#define MAP_OPACITY 0.55

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* A growable list of malloc'ed cells, freed together: the tables are built row by row. */
typedef struct {
  char **v;
  size_t n, cap;
} cells;

static void cell(cells *c, char *s) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    char **v = realloc(c->v, cap * sizeof *v);
    if (!v) {
      free(s);
      return; /* the table comes out short; rcy_pdf_table is given c->n / cols rows */
    }
    c->v = v, c->cap = cap;
  }
  c->v[c->n++] = s;
}

static void cells_free(cells *c) {
  for (size_t i = 0; i < c->n; i++) free(c->v[i]);
  free(c->v);
  memset(c, 0, sizeof *c);
}

static void table(rcy_pdf *pdf, cells *c, size_t cols, const double *w, const rcy_rgb *const *fills) {
  rcy_pdf_table(pdf, (const char *const *)c->v, c->n / cols, cols, w, fills);
  cells_free(c);
}

static const char *kind_label(rcy_dose_kind k) {
  switch (k) {
  case RCY_DOSE_KIND_TUMOUR: return "tumour";
  case RCY_DOSE_KIND_LIVER: return "whole liver";
  case RCY_DOSE_KIND_PERFUSED_LIVER: return "perfused liver";
  case RCY_DOSE_KIND_NORMAL_LIVER: return "normal liver (liver minus tumours)";
  case RCY_DOSE_KIND_PERFUSED_NORMAL: return "perfused normal liver";
  case RCY_DOSE_KIND_LUNG: return "lung";
  default: return "other";
  }
}

/* "2026-11-29 10:05:00" from seconds since 1970 read as one clock (dicom.h: DICOM times carry no zone). */
static void fmt_epoch(char *buf, size_t size, double epoch_s) {
  if (!(epoch_s >= 0) || !isfinite(epoch_s)) {
    snprintf(buf, size, "not given");
    return;
  }
  time_t t = (time_t)epoch_s;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A number with its unit, or a dash when it is not a number (not computed). */
static char *num(double v, int decimals, const char *unit) {
  if (!isfinite(v)) return strf("-");
  return strf("%.*f%s%s", decimals, v, unit && *unit ? " " : "", unit ? unit : "");
}

static const char *metric_unit(const char *metric) {
  size_t n = strlen(metric);
  if (n > 3 && strcmp(metric + n - 3, "_gy") == 0) return "Gy";
  if (n > 4 && strcmp(metric + n - 4, "_pct") == 0) return "%";
  if (n > 3 && strcmp(metric + n - 3, "_ml") == 0) return "mL";
  if (n > 2 && strcmp(metric + n - 2, "_g") == 0) return "g";
  return "";
}

/* "mean_gy" -> "mean dose", "v100_pct" -> "V100": what a reader calls the metric. */
static void metric_label(char *buf, size_t size, const char *metric) {
  static const struct {
    const char *key, *label;
  } known[] = {{"mean_gy", "mean dose"},     {"d50_gy", "D50"},       {"d70_gy", "D70"},
               {"d90_gy", "D90"},           {"v100_pct", "V100"},    {"v150_pct", "V150"},
               {"v205_pct", "V205"},        {"volume_ml", "volume"}, {"mass_g", "mass"},
               {"max_gy", "maximum dose"},  {"cumulative_mean_gy", "mean dose over all treatments"},
               {"lung_gy", "lung dose"}};
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strcmp(metric, known[i].key) == 0) {
      snprintf(buf, size, "%s", known[i].label);
      return;
    }
  snprintf(buf, size, "%s", metric);
}

static const rcy_dose_threshold *threshold_of(const rcy_dose_run *run, const char *name) {
  for (size_t i = 0; i < run->n_thresholds; i++)
    if (strcmp(run->thresholds[i].name, name) == 0) return &run->thresholds[i];
  return NULL;
}

static const char *cmp_text(const char *c) {
  if (strcmp(c, ">=") == 0) return "\xe2\x89\xa5"; /* ≥ */
  if (strcmp(c, "<=") == 0) return "\xe2\x89\xa4"; /* ≤ */
  return c;
}

/* "T1 (tumour)", but "perfused_liver", "lungs", "all_tumours": the kind only when the name does not say it. */
static char *named(const char *name, rcy_dose_kind kind) {
  const char *k = kind_label(kind);
  char n[128], first[64];
  size_t i = 0;
  for (; name[i] && i < sizeof n - 1; i++) n[i] = name[i] == '_' ? ' ' : name[i];
  n[i] = 0;
  snprintf(first, sizeof first, "%.*s", (int)strcspn(k, " ("), k); /* "normal liver (...)" -> "normal" */
  if (strstr(n, first) || (kind == RCY_DOSE_KIND_LIVER && strstr(n, "liver"))) return strf("%s", name);
  return strf("%s (%s)", name, k);
}

static const char *voi_name(const rcy_dose_run *run, size_t i) {
  return run->voi_names && run->voi_names[i] ? run->voi_names[i] : "";
}

/* ---- page 1 ---------------------------------------------------------------------------------------------- */

static const char *decay_text(int mode) {
  switch (mode) {
  case RCY_DICOM_DECAY_NONE: return "NONE (image at the acquisition)";
  case RCY_DICOM_DECAY_START: return "START (image at the series start)";
  case RCY_DICOM_DECAY_ADMIN: return "ADMIN (image at the administration)";
  default: return "not given";
  }
}

static char *grid_text(const int size[3], const double sp[3]) {
  return strf("%d x %d x %d of %.2f x %.2f x %.2f mm", size[0], size[1], size[2], sp[0], sp[1], sp[2]);
}

static void inputs_table(rcy_pdf *pdf, const rcy_dose_run *run) {
  cells c = {0};
  const rcy_dicom_volume *pet = run->pet, *ct = run->ct, *maa = run->maa;
  const rcy_dose_result *r = &run->result;
  char t0[32], t1[32], t2[32];
  cell(&c, strf("Input")), cell(&c, strf("Value"));
  if (pet) {
    char *g = grid_text(pet->size, pet->spacing_mm);
    cell(&c, strf("90Y PET series"));
    cell(&c, strf("%s\n%s; %s; %s, half-life %.2f h", pet->series_uid, g ? g : "",
                  pet->units[0] ? pet->units : "not given", pet->radionuclide[0] ? pet->radionuclide : "not given",
                  pet->half_life_s / 3600.0));
    free(g);
    cell(&c, strf("Decay correction"));
    cell(&c, strf("%s; factor %.4f to the administration (no biological clearance)",
                  decay_text(pet->decay_correction), r->decay_factor));
    fmt_epoch(t0, sizeof t0, pet->injection_epoch_s);
    fmt_epoch(t1, sizeof t1, pet->series_epoch_s);
    fmt_epoch(t2, sizeof t2, pet->acquisition_epoch_s);
    double ref = pet->acquisition_epoch_s >= 0 ? pet->acquisition_epoch_s : pet->series_epoch_s;
    char delay[64] = "unknown", frame[48] = "", scan[80];
    if (pet->injection_epoch_s >= 0 && ref >= 0)
      snprintf(delay, sizeof delay, "%.2f h (%.2f days)", (ref - pet->injection_epoch_s) / 3600.0,
               (ref - pet->injection_epoch_s) / 86400.0);
    if (pet->frame_duration_s > 0) snprintf(frame, sizeof frame, ", frame %.0f s", pet->frame_duration_s);
    if (strcmp(t1, t2) == 0) snprintf(scan, sizeof scan, "%s", t1);
    else snprintf(scan, sizeof scan, "%s (series %s)", t2, t1);
    cell(&c, strf("Injection, scan"));
    cell(&c, strf("injection %s; scan %s%s; delay %s (scanner clock)", t0, scan, frame, delay));
  } else {
    cell(&c, strf("90Y PET series")), cell(&c, strf("(none in the run)"));
    cell(&c, strf("Decay factor")), cell(&c, strf("%.4f", r->decay_factor));
  }
  char lsf[64] = "lung shunt fraction not given (no lung dose from it)";
  if (r->models.lung_shunt_fraction >= 0 && isfinite(r->models.lung_shunt_fraction))
    snprintf(lsf, sizeof lsf, "lung shunt fraction %.1f %%", 100 * r->models.lung_shunt_fraction);
  /* activities at the administration (the decay factor applied) */
  cell(&c, strf("Activity"));
  if (isfinite(r->injected_gbq) && r->injected_gbq > 0)
    cell(&c, strf("%.3f GBq injected%s; %.3f GBq (%.1f %%) in the PET's field of view; %s", r->injected_gbq,
                  pet && pet->total_dose_bq > 0 ? " (Radionuclide Total Dose)" : "",
                  r->activity_in_fov_gbq, 100.0 * r->activity_in_fov_gbq / r->injected_gbq, lsf));
  else
    cell(&c, strf("injected activity not given; %.3f GBq in the PET's field of view; %s",
                  r->activity_in_fov_gbq, lsf));
  {
    char *g = grid_text(r->dose.size, r->dose.spacing_mm);
    cell(&c, strf("CT and dose grid"));
    if (ct) cell(&c, strf("CT %s\nthe dose on the CT grid, %s; %s, 49.67 Gy kg/GBq", ct->series_uid, g ? g : "",
                          r->method[0] ? r->method : "ldm"));
    else cell(&c, strf("no CT: the dose is on the PET grid: %s; %s (local deposition, 49.67 Gy kg/GBq)", g ? g : "",
                       r->method[0] ? r->method : "ldm"));
    free(g);
  }
  cell(&c, strf("Tissue density"));
  cell(&c, strf("%s%s", run->density_source[0] ? run->density_source : "not recorded in the run",
                strstr(run->density_source, "default table") ? ": -1000 HU 0.0012, 0 HU 1.0, 1000 HU 1.6 g/mL" : ""));
  if (maa) {
    cell(&c, strf("99mTc-MAA SPECT"));
    char *p = run->has_predicted ? strf("; predicted for %.3f GBq of 90Y", run->predicted.injected_gbq) : NULL;
    cell(&c, strf("%s%s%s%s", maa->series_uid, p ? p : "", run->maa_ct ? "\nits CT " : "",
                  run->maa_ct ? run->maa_ct->series_uid : ""));
    free(p);
  }
  {
    size_t len = 64;
    for (size_t i = 0; i < run->n_vois; i++) len += strlen(voi_name(run, i)) + 48;
    for (size_t i = 0; i < r->n_compartments; i++) len += strlen(r->compartments[i].name) + 4;
    char *v = calloc(len, 1);
    if (v) {
      for (size_t i = 0; i < run->n_vois; i++) {
        char *nm = named(voi_name(run, i), rcy_dose_kind_from_name(voi_name(run, i)));
        snprintf(v + strlen(v), len - strlen(v), "%s%s", i ? ", " : "", nm ? nm : voi_name(run, i));
        free(nm);
      }
      /* the run kept no masks: name the compartments instead */
      for (size_t i = 0; !run->n_vois && i < r->n_compartments; i++)
        snprintf(v + strlen(v), len - strlen(v), "%s%s", i ? ", " : "", r->compartments[i].name);
      if (!*v) snprintf(v, len, "none");
    }
    cell(&c, strf("Volumes of interest")), cell(&c, v);
  }
  const double w[2] = {1.1, 4.4};
  table(pdf, &c, 2, w, NULL);
}

static void compartment_table(rcy_pdf *pdf, const rcy_dose_result *r) {
  if (!r->n_compartments) {
    rcy_pdf_paragraph(pdf, "No compartment: no volume of interest was given.");
    return;
  }
  cells c = {0};
  const char *head[] = {"Compartment", "Volume", "Mass", "Mean", "D50", "D70", "D90", "V100", "V150", "V205"};
  enum { COLS = sizeof head / sizeof *head };
  for (int i = 0; i < COLS; i++) cell(&c, strf("%s", head[i]));
  for (size_t i = 0; i < r->n_compartments; i++) {
    const rcy_dose_compartment *k = &r->compartments[i];
    cell(&c, named(k->name, k->kind));
    cell(&c, num(k->volume_ml, 1, "mL")), cell(&c, num(k->mass_g, 1, "g"));
    cell(&c, num(k->mean_gy, 1, "Gy")), cell(&c, num(k->d50_gy, 1, "Gy")), cell(&c, num(k->d70_gy, 1, "Gy"));
    cell(&c, num(k->d90_gy, 1, "Gy"));
    cell(&c, num(k->v100_pct, 1, "%")), cell(&c, num(k->v150_pct, 1, "%")), cell(&c, num(k->v205_pct, 1, "%"));
  }
  const double w[COLS] = {2.4, 1.2, 1.15, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9};
  table(pdf, &c, COLS, w, NULL);
  rcy_pdf_paragraph(pdf, "Dx: the minimum dose to the hottest x % of the volume; Vx: the % of the volume with at least "
                         "x Gy.");
}

/* One row per source (90Y PET; the MAA when present), one column per model: compact enough for page 1. */
static void models_table(rcy_pdf *pdf, const rcy_dose_run *run) {
  const rcy_dose_models *rows[2] = {&run->result.models, run->has_predicted ? &run->predicted.models : NULL};
  const char *names[2] = {"90Y PET (delivered)", "99mTc-MAA (planned)"};
  cells c = {0};
  const char *head[] = {"Source", "Activity", "Lung shunt", "Residual", "MIRD liver", "TNR (MAA)",
                        "Partition: tumour", "Partition: normal liver", "Lung"};
  enum { COLS = sizeof head / sizeof *head };
  for (int i = 0; i < COLS; i++) cell(&c, strf("%s", head[i]));
  for (int r = 0; r < 2; r++) {
    const rcy_dose_models *m = rows[r];
    if (!m) continue;
    cell(&c, strf("%s", names[r]));
    cell(&c, num(m->injected_gbq, 3, "GBq"));
    cell(&c, m->lung_shunt_fraction >= 0 ? num(100 * m->lung_shunt_fraction, 1, "%") : strf("-"));
    cell(&c, num(100 * m->residual_fraction, 1, "%"));
    cell(&c, num(m->mird_liver_gy, 1, "Gy"));
    cell(&c, m->tnr > 0 ? num(m->tnr, 2, "") : strf("-"));
    cell(&c, num(m->partition_tumour_gy, 1, "Gy")), cell(&c, num(m->partition_normal_gy, 1, "Gy"));
    cell(&c, num(m->lung_gy, 1, "Gy"));
  }
  const double w[COLS] = {2.0, 1, 0.85, 0.85, 1, 0.8, 1.05, 1.15, 0.85};
  table(pdf, &c, COLS, w, NULL);
  rcy_pdf_paragraph(pdf, "MIRD: A (1 - LSF)(1 - residual) 49.67 Gy kg/GBq / liver mass; partition: that activity "
                         "shared as TNR x mass; lung: LSF A 49.67 / lung mass. -: not computed (no input).");
}

static const rcy_rgb RED = {0.98, 0.80, 0.78}, AMBER = {1.0, 0.90, 0.68};

static void flags_table(rcy_pdf *pdf, const rcy_dose_run *run) {
  const rcy_dose_result *r = &run->result;
  if (!r->n_flags) {
    char *t = run->n_thresholds
                  ? strf("No flag: every one of the %zu thresholds of the table is met.", run->n_thresholds)
                  : strf("No threshold table was given: no EANM threshold was checked.");
    rcy_pdf_paragraph(pdf, t);
    free(t);
    return;
  }
  cells c = {0};
  const rcy_rgb **fills = calloc(r->n_flags + 1, sizeof *fills);
  cell(&c, strf("Severity")), cell(&c, strf("Finding")), cell(&c, strf("Reference"));
  for (size_t i = 0; i < r->n_flags; i++) {
    const rcy_dose_flag *f = &r->flags[i];
    int safety = strcmp(f->severity, "warning") == 0;
    const rcy_dose_threshold *t = threshold_of(run, f->threshold);
    const char *unit = metric_unit(f->metric);
    char ml[64];
    metric_label(ml, sizeof ml, f->metric);
    cell(&c, strf("%s", safety ? "SAFETY LIMIT EXCEEDED" : "Efficacy target missed"));
    /* our own wording from the numbers; the engine's message only when the table does not name the threshold */
    cell(&c, strf("%s: %s %.1f%s%s, should be %s %.1f%s%s%s%s", f->compartment, ml, f->value, *unit ? " " : "",
                  unit, cmp_text(f->comparison), f->limit, *unit ? " " : "", unit, !t && f->message[0] ? "\n" : "",
                  !t ? f->message : ""));
    cell(&c, t && t->reference[0] ? strf("%s", t->reference) : strf("(threshold %s)", f->threshold));
    if (fills) fills[i + 1] = safety ? &RED : &AMBER;
  }
  const double w[3] = {1.45, 2.6, 2.9};
  table(pdf, &c, 3, w, fills);
  free(fills);
  char *t = strf("Red: a safety limit exceeded; amber: an efficacy target missed. %zu threshold%s checked.",
                 run->n_thresholds, run->n_thresholds == 1 ? "" : "s");
  rcy_pdf_paragraph(pdf, t);
  free(t);
}

/* ---- page 2 ---------------------------------------------------------------------------------------------- */

static double tumour_target_gy(const rcy_dose_run *run, const char **source) {
  for (size_t i = 0; i < run->n_thresholds; i++) {
    const rcy_dose_threshold *t = &run->thresholds[i];
    if (t->kind == RCY_DOSE_KIND_TUMOUR && t->comparison[0] == '>' && strcmp(metric_unit(t->metric), "Gy") == 0) {
      *source = t->reference[0] ? t->reference : t->name;
      return t->limit;
    }
  }
  *source = "EANM 2022, glass microspheres, mCRC";
  return TUMOUR_TARGET_GY_DEFAULT;
}

static void dvh_plot(rcy_pdf *pdf, const rcy_dose_run *run) {
  const rcy_dose_result *r = &run->result;
  size_t n = r->n_compartments;
  rcy_plot_series *se = calloc(n + 1, sizeof *se);
  rcy_plot_legend *lg = calloc(n + 1, sizeof *lg);
  double **x = calloc(n + 1, sizeof *x), **y = calloc(n + 1, sizeof *y);
  char **labels = calloc(n + 1, sizeof *labels);
  const char *src = NULL;
  double target = tumour_target_gy(run, &src);
  size_t ns = 0;
  if (!se || !lg || !x || !y || !labels) goto done;
  /* x up to where the last curve falls below 1 % (the hottest noise voxels would squeeze the curves), and
   * always past the tumour target */
  double xmax = target * 1.15;
  for (size_t c = 0; c < n; c++) {
    const rcy_dose_compartment *k = &r->compartments[c];
    if (!k->n_dvh || !k->dvh) continue;
    x[c] = malloc(k->n_dvh * sizeof **x), y[c] = malloc(k->n_dvh * sizeof **y);
    if (!x[c] || !y[c]) goto done;
    for (size_t i = 0; i < k->n_dvh; i++) {
      x[c][i] = k->dvh[i].dose_gy, y[c][i] = k->dvh[i].volume_pct;
      if (y[c][i] >= 1 && x[c][i] * 1.1 > xmax) xmax = x[c][i] * 1.1;
    }
    rcy_rgb col = rcy_plot_palette[ns % 8];
    se[ns] = (rcy_plot_series){.kind = RCY_PLOT_STEP, .x = x[c], .y = y[c], .n = k->n_dvh, .color = col,
                               .width = 1.4, .dashed = (ns / 8) % 2 == 1};
    char *nm = named(k->name, k->kind);
    labels[ns] = strf("%s: mean %.1f Gy", nm ? nm : k->name, k->mean_gy);
    free(nm);
    lg[ns] = (rcy_plot_legend){labels[ns], col};
    ns++;
  }
  {
    char rl[96];
    snprintf(rl, sizeof rl, "%.0f Gy tumour target", target);
    rcy_plot_rule rule = {true, target, rl, {0.75, 0.1, 0.1}};
    rcy_plot p = {.title = "Cumulative dose-volume histograms (% of each compartment's volume receiving at least the dose)",
                  .x_label = "absorbed dose (Gy)", .y_label = "volume (%)", .x_min = 0, .x_max = xmax, .y_min = 0,
                  .y_max = 102, .series = se, .n_series = ns, .rules = &rule, .n_rules = 1, .legend = lg,
                  .n_legend = ns, .empty_note = "no compartment has a DVH"};
    rcy_pdf_plot(pdf, &p, 185);
    char *t = strf("Dashed line: the tumour target of %.0f Gy (%s).", target, src);
    rcy_pdf_paragraph(pdf, t);
    free(t);
  }
done:
  for (size_t c = 0; c <= n; c++) {
    if (x) free(x[c]);
    if (y) free(y[c]);
    if (labels) free(labels[c]);
  }
  free(se), free(lg), free(x), free(y), free(labels);
}

/* Patient z (mm) of the centre of slice k. */
static double slice_z(const rcy_dose_grid *g, int k) {
  double i = (g->size[0] - 1) / 2.0, j = (g->size[1] - 1) / 2.0;
  return g->origin_mm[2] + g->direction[6] * i * g->spacing_mm[0] + g->direction[7] * j * g->spacing_mm[1] +
         g->direction[8] * k * g->spacing_mm[2];
}

/* Voxels of a mask in each slice (counts[size[2]]). */
static size_t *slice_counts(const rcy_dose_grid *g, const uint8_t *m) {
  size_t *cnt = calloc((size_t)g->size[2] + 1, sizeof *cnt);
  if (!cnt) return NULL;
  size_t plane = (size_t)g->size[0] * (size_t)g->size[1];
  for (int k = 0; k < g->size[2]; k++)
    for (size_t p = 0; p < plane; p++) cnt[k] += m[(size_t)k * plane + p] != 0;
  return cnt;
}

typedef struct {
  int slice;
  char caption[200];
} map_slice;

/* The VOI of a kind with the most voxels (its index in run->voi_masks), -1 when none. */
static long largest_voi(const rcy_dose_run *run, rcy_dose_kind kind) {
  long best = -1;
  size_t n_best = 0, n = rcy_dose_grid_voxels(&run->result.dose);
  for (size_t v = 0; v < run->n_vois; v++) {
    if (!run->voi_masks || !run->voi_masks[v] || rcy_dose_kind_from_name(voi_name(run, v)) != kind) continue;
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += run->voi_masks[v][i] != 0;
    if (c > n_best) best = (long)v, n_best = c;
  }
  return best;
}

/* The three slices: through the largest tumour (its largest cross-section), the liver's centre (centroid),
 * and the lung base (the most inferior slice whose lung area is at least a quarter of the largest). */
static size_t pick_slices(map_slice out[3], const rcy_dose_run *run) {
  const rcy_dose_grid *g = &run->result.dose;
  size_t n = 0;
  long t = largest_voi(run, RCY_DOSE_KIND_TUMOUR);
  size_t *cnt = t >= 0 ? slice_counts(g, run->voi_masks[t]) : NULL;
  if (cnt) {
    int best = 0;
    for (int k = 0; k < g->size[2]; k++)
      if (cnt[k] > cnt[best]) best = k;
    out[n].slice = best;
    snprintf(out[n++].caption, sizeof out[0].caption, "Largest tumour (%s): slice %d, z %.1f mm", voi_name(run, (size_t)t), best,
             slice_z(g, best));
    free(cnt);
  } else {
    /* no tumour VOI: the slice holding the most dose */
    size_t plane = (size_t)g->size[0] * (size_t)g->size[1];
    double best_sum = -1;
    int best = 0;
    for (int k = 0; k < g->size[2]; k++) {
      double s = 0;
      for (size_t p = 0; p < plane; p++) s += g->values[(size_t)k * plane + p];
      if (s > best_sum) best_sum = s, best = k;
    }
    out[n].slice = best;
    snprintf(out[n++].caption, sizeof out[0].caption, "Most dose (no tumour VOI): slice %d, z %.1f mm", best,
             slice_z(g, best));
  }
  long l = largest_voi(run, RCY_DOSE_KIND_LIVER);
  if (l < 0) l = largest_voi(run, RCY_DOSE_KIND_PERFUSED_LIVER);
  cnt = l >= 0 ? slice_counts(g, run->voi_masks[l]) : NULL;
  if (cnt) {
    double sk = 0, sn = 0;
    for (int k = 0; k < g->size[2]; k++) sk += (double)cnt[k] * k, sn += (double)cnt[k];
    int c = sn > 0 ? (int)lround(sk / sn) : g->size[2] / 2;
    out[n].slice = c;
    snprintf(out[n++].caption, sizeof out[0].caption, "Liver centre (%s): slice %d, z %.1f mm", voi_name(run, (size_t)l), c,
             slice_z(g, c));
    free(cnt);
  } else {
    int c = g->size[2] / 2;
    out[n].slice = c;
    snprintf(out[n++].caption, sizeof out[0].caption, "Middle of the grid (no liver VOI): slice %d, z %.1f mm", c,
             slice_z(g, c));
  }
  long lu = largest_voi(run, RCY_DOSE_KIND_LUNG);
  cnt = lu >= 0 ? slice_counts(g, run->voi_masks[lu]) : NULL;
  if (cnt) {
    size_t most = 0;
    for (int k = 0; k < g->size[2]; k++)
      if (cnt[k] > most) most = cnt[k];
    int base = -1;
    for (int k = 0; k < g->size[2]; k++)
      if (cnt[k] * 4 >= most && cnt[k] > 0 && (base < 0 || slice_z(g, k) < slice_z(g, base))) base = k;
    if (base >= 0) {
      out[n].slice = base;
      snprintf(out[n++].caption, sizeof out[0].caption, "Lung base (%s): slice %d, z %.1f mm", voi_name(run, (size_t)lu), base,
               slice_z(g, base));
    }
    free(cnt);
  }
  return n;
}

/* The maps' scale: 1.2 × the highest compartment mean, rounded up to a tick of 1, 2 or 5 × 10^k (about five
 * ticks), so that the hottest compartment (the tumours) sits in the top fifth and normal liver well below it;
 * the grid's 99th percentile (rcy_dose_render_auto_max_gy) when there is no compartment. A percentile of the
 * whole grid is dominated by the body's near-zero dose and would saturate tumour and perfused liver alike. */
static double map_max_gy(const rcy_dose_run *run) {
  double m = 0;
  for (size_t i = 0; i < run->result.n_compartments; i++)
    if (isfinite(run->result.compartments[i].mean_gy) && run->result.compartments[i].mean_gy > m)
      m = run->result.compartments[i].mean_gy;
  if (!(m > 0)) return rcy_dose_render_auto_max_gy(&run->result.dose);
  m *= 1.2;
  double raw = m / 5, p = pow(10, floor(log10(raw))), f = raw / p;
  double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  return ceil(m / step - 1e-9) * step;
}

static int dose_maps(rcy_pdf *pdf, const rcy_dose_run *run, rcy_error *err) {
  map_slice s[3];
  size_t n = pick_slices(s, run);
  double dmax = map_max_gy(run);
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/rcy-dose-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return rcy_error_set(err, RCY_EIO, "cannot make a temporary folder in %s: %s",
                                          tmp && *tmp ? tmp : "/tmp", strerror(errno));
  int rc = RCY_OK;
  char path[4200];
  for (size_t i = 0; i <= n && !rc; i++) {
    unsigned char *png = NULL;
    size_t len = 0;
    if (i < n) rc = rcy_dose_render_fused_png(&png, &len, run, s[i].slice, MAP_WC, MAP_WW, dmax, MAP_OPACITY, 1, err);
    else rc = rcy_dose_render_colour_bar_png(&png, &len, dmax, 360, err);
    if (rc) break;
    snprintf(path, sizeof path, "%s/%zu.png", dir, i);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(png, 1, len, f) != len) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", path);
    if (f && fclose(f) && !rc) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", path);
    free(png);
    if (!rc) rc = i < n ? rcy_pdf_picture(pdf, path, 140, 140, s[i].caption, err)
                        : rcy_pdf_picture(pdf, path, 56, 140, NULL, err);
    unlink(path);
  }
  rmdir(dir);
  rcy_pdf_picture_row_end(pdf);
  if (rc) return rc;
  char *t = strf("CT at %.0f/%.0f HU (abdomen); dose in the Turbo rainbow, 0 to %.0f Gy (above: the top colour), "
                 "%.0f %% opaque (scale: 1.2 x the highest compartment mean); under %.0f Gy (%.0f %% of the scale) the CT is "
                 "untinted; white: the VOI outlines. "
                 "Patient's right on the left, anterior up (axial).",
                 MAP_WC, MAP_WW, dmax, 100 * MAP_OPACITY, RCY_DOSE_RENDER_FLOOR_FRACTION * dmax,
                 100 * RCY_DOSE_RENDER_FLOOR_FRACTION);
  rcy_pdf_paragraph(pdf, t);
  free(t);
  return RCY_OK;
}

static void predicted_table(rcy_pdf *pdf, const rcy_dose_run *run) {
  const rcy_dose_result *d = &run->result, *p = &run->predicted;
  cells c = {0};
  const char *head[] = {"Compartment",         "Predicted mean", "Delivered mean", "Difference",
                        "Difference relative", "Predicted D70",  "Delivered D70"};
  enum { COLS = sizeof head / sizeof *head };
  for (int i = 0; i < COLS; i++) cell(&c, strf("%s", head[i]));
  size_t rows = 0;
  for (size_t i = 0; i < d->n_compartments; i++) {
    const rcy_dose_compartment *a = &d->compartments[i], *b = NULL;
    for (size_t j = 0; j < p->n_compartments && !b; j++)
      if (strcmp(p->compartments[j].name, a->name) == 0) b = &p->compartments[j];
    if (!b) continue;
    rows++;
    cell(&c, strf("%s", a->name));
    cell(&c, num(b->mean_gy, 1, "Gy")), cell(&c, num(a->mean_gy, 1, "Gy"));
    cell(&c, isfinite(a->mean_gy - b->mean_gy) ? strf("%+.1f Gy", a->mean_gy - b->mean_gy) : strf("-"));
    cell(&c, b->mean_gy > 0 ? strf("%+.1f %%", 100 * (a->mean_gy - b->mean_gy) / b->mean_gy) : strf("-"));
    cell(&c, num(b->d70_gy, 1, "Gy")), cell(&c, num(a->d70_gy, 1, "Gy"));
  }
  if (!rows) {
    cells_free(&c);
    rcy_pdf_paragraph(pdf, "No compartment is in both the MAA and the 90Y PET result.");
    return;
  }
  const double w[COLS] = {1.6, 1, 1, 1, 1, 1, 1};
  table(pdf, &c, COLS, w, NULL);
  char *t = strf("Predicted: the 99mTc-MAA SPECT scaled to the planned %.3f GBq of 90Y; delivered: the 90Y PET. "
                 "Difference: delivered minus predicted, %% of the predicted.",
                 p->injected_gbq);
  rcy_pdf_paragraph(pdf, t);
  free(t);
}

static void signatures(rcy_pdf *pdf, const char *signed_by, const char *when) {
  cells c = {0};
  cell(&c, strf("Role")), cell(&c, strf("Name")), cell(&c, strf("Date (UTC)")), cell(&c, strf("Signature"));
  cell(&c, strf("Computed by")), cell(&c, strf("recistry %s", RCY_VERSION)), cell(&c, strf("%s", when)),
      cell(&c, strf("(software)"));
  cell(&c, strf("Report issued by")), cell(&c, strf("%s", signed_by && *signed_by ? signed_by : "(not given)")),
      cell(&c, strf("%s", when)), cell(&c, strf(" "));
  cell(&c, strf("Reviewed by (medical physicist)")), cell(&c, strf("\n ")), cell(&c, strf(" ")), cell(&c, strf(" "));
  const double w[4] = {1.6, 1.6, 1.2, 1.6};
  table(pdf, &c, 4, w, NULL);
}

int rcy_dose_report_write(const rcy_dose_run *run, const char *pdf_path, const char *signed_by, rcy_error *err) {
  if (!run || !pdf_path || !*pdf_path) return rcy_error_set(err, RCY_EINVAL, "dose report: no run or no output path");
  if (!run->result.dose.values) return rcy_error_set(err, RCY_EINVAL, "dose report: the run has no dose grid");
  /* the date printed: SOURCE_DATE_EPOCH when set, as the PDF metadata (reproducible output) */
  time_t now = time(NULL);
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde && *sde) {
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (!errno && !*end && v >= 0) now = (time_t)v;
  }
  char when[32];
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  const char *subject = run->subject[0] ? run->subject : "(no subject)";
  char *title = strf("Dose report: %s", subject);
  char *footer = strf("recistry %s dose report %s - trial identifiers only", RCY_VERSION, subject);
  rcy_pdf *pdf = NULL;
  int rc = rcy_pdf_open(&pdf, pdf_path, title, footer, err);
  free(footer);
  if (rc) {
    free(title);
    return rc;
  }
  rcy_pdf_heading(pdf, 1, title);
  free(title);
  {
    char *t = strf("TARE 90Y dose from the post-treatment 90Y PET by recistry %s, %s UTC%s%s. Formulas and "
                   "references: docs/dosimetry.md.",
                   RCY_VERSION, when, signed_by && *signed_by ? ", issued by " : "",
                   signed_by && *signed_by ? signed_by : "");
    rcy_pdf_paragraph(pdf, t);
    free(t);
  }
  rcy_pdf_heading(pdf, 2, "Inputs");
  inputs_table(pdf, run);
  rcy_pdf_heading(pdf, 2, "Absorbed dose per compartment (90Y PET)");
  compartment_table(pdf, &run->result);
  rcy_pdf_heading(pdf, 2, "Model doses from the activity");
  models_table(pdf, run);
  rcy_pdf_heading(pdf, 2, "EANM 2022 thresholds");
  flags_table(pdf, run);

  /* page 2, unless page 1 ran over by a few lines only (then they share the page rather than leave it empty) */
  rcy_pdf_need(pdf, 690);
  rcy_pdf_heading(pdf, 2, "Dose-volume histograms");
  dvh_plot(pdf, run);
  rcy_pdf_heading(pdf, 2, "Dose over the CT");
  rc = dose_maps(pdf, run, err);
  if (rc) {
    rcy_pdf_close(pdf, NULL);
    unlink(pdf_path);
    return rc;
  }
  if (run->has_predicted) {
    rcy_pdf_heading(pdf, 2, "MAA-predicted vs delivered dose");
    predicted_table(pdf, run);
  }
  rcy_pdf_heading(pdf, 2, "Signatures");
  signatures(pdf, signed_by, when);
  return rcy_pdf_close(pdf, err);
}
