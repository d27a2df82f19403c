/* The per-subject PDF report (docs/reports.md): the registry header, a timeline, the SOD of every read
 * shown over time, the responses per timepoint, the key images and the signatures. Each read is evaluated
 * by the engine exactly as the workstation does (rcy_reads_engine_input_timed + rcy_reads_engine_run):
 * nothing here computes a response. */
#define _GNU_SOURCE /* vasprintf */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recistry/qa.h"
#include "recistry/reads.h"
#include "recistry/recist.h"
#include "recistry/render.h"
#include "report_internal.h"

char *rcy_report_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

rcy_rgb rcy_report_bor_color(rcy_recist_response r) {
  switch (r) {
  case RCY_RECIST_CR: return (rcy_rgb){0.0, 0.30, 0.55};
  case RCY_RECIST_PR: return (rcy_rgb){0.34, 0.66, 0.90};
  case RCY_RECIST_SD: return (rcy_rgb){0.0, 0.62, 0.45};
  case RCY_RECIST_NON_CR_NON_PD: return (rcy_rgb){0.60, 0.80, 0.45};
  case RCY_RECIST_PD: return (rcy_rgb){0.84, 0.30, 0.0};
  default: return (rcy_rgb){0.6, 0.6, 0.6};
  }
}

static const char *str(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* One read shown in the report. */
typedef struct {
  const char *role, *reader;
  char label[160];
  const json_t *doc;
  json_t *result; /* the engine's output; NULL when it could not be evaluated */
  char *problem;
} shown_read;

static int32_t days_of(const char *iso) {
  int32_t d = 0;
  if (rcy_recist_date_parse(&d, iso, NULL)) return INT32_MIN;
  return d;
}

static void sod_plot(rcy_pdf *pdf, shown_read *reads, size_t n, int32_t origin) {
  rcy_plot_series *se = calloc(2 * n + 1, sizeof *se);
  rcy_plot_legend *lg = calloc(n + 1, sizeof *lg);
  double **x = calloc(n + 1, sizeof *x), **y = calloc(n + 1, sizeof *y), **nx = calloc(n + 1, sizeof *nx),
         **ny = calloc(n + 1, sizeof *ny);
  char ***labels = calloc(n + 1, sizeof *labels);
  const char ***nl = calloc(n + 1, sizeof *nl);
  size_t ns = 0, *nk = calloc(n + 1, sizeof *nk);
  if (!se || !lg || !x || !y || !nx || !ny || !labels || !nl || !nk) goto done;
  for (size_t r = 0; r < n; r++) {
    json_t *tps = json_object_get(reads[r].result, "timepoints");
    size_t k = json_array_size(tps);
    x[r] = malloc((k + 1) * sizeof **x), y[r] = malloc((k + 1) * sizeof **y);
    nx[r] = malloc(sizeof **nx), ny[r] = malloc(sizeof **ny);
    labels[r] = calloc(k + 1, sizeof **labels), nl[r] = calloc(1, sizeof **nl);
    if (!x[r] || !y[r] || !labels[r] || !nx[r] || !ny[r] || !nl[r]) goto done;
    double nadir = INFINITY;
    size_t nadir_i = 0;
    for (size_t i = 0; i < k; i++) {
      json_t *t = json_array_get(tps, i), *sum = json_object_get(t, "sum_mm"), *pct = json_object_get(t, "change_from_baseline_pct");
      int32_t d = days_of(str(t, "date"));
      x[r][i] = d == INT32_MIN ? NAN : (d - origin) / 30.4375;
      y[r][i] = json_is_number(sum) ? json_number_value(sum) : NAN;
      if (i > 0 && json_is_number(pct)) labels[r][i] = rcy_report_strf("%+.1f %%", json_number_value(pct));
      if (isfinite(y[r][i]) && y[r][i] < nadir) nadir = y[r][i], nadir_i = i;
    }
    rcy_rgb col = rcy_plot_palette[r % 8];
    se[ns++] = (rcy_plot_series){.kind = RCY_PLOT_LINE, .x = x[r], .y = y[r], .n = k, .color = col,
                                 .labels = (const char *const *)labels[r], .dashed = r > 0 && r % 2};
    if (isfinite(nadir) && k > 1) {
      nx[r][0] = x[r][nadir_i], ny[r][0] = nadir, nl[r][0] = NULL;
      nk[r] = 1;
      se[ns++] = (rcy_plot_series){.kind = RCY_PLOT_POINTS, .x = nx[r], .y = ny[r], .n = 1, .color = col, .width = 3.2};
    }
    lg[r] = (rcy_plot_legend){reads[r].label, col};
  }
  rcy_plot p = {.title = "Sum of target lesion diameters (labels: % change from baseline; large dot: nadir)",
                .x_label = "months from treatment start", .y_label = "sum of diameters (mm)", .x_min = NAN,
                .x_max = NAN, .y_min = 0, .y_max = NAN, .series = se, .n_series = ns, .legend = lg, .n_legend = n,
                .empty_note = "no read with a sum of diameters"};
  rcy_pdf_plot(pdf, &p, 220);
done:
  for (size_t r = 0; r < n; r++) {
    if (labels && labels[r]) {
      json_t *tps = json_object_get(reads[r].result, "timepoints");
      for (size_t i = 0; i < json_array_size(tps); i++) free(labels[r][i]);
      free(labels[r]);
    }
    if (x) free(x[r]);
    if (y) free(y[r]);
    if (nx) free(nx[r]);
    if (ny) free(ny[r]);
    if (nl) free(nl[r]);
  }
  free(se), free(lg), free(x), free(y), free(nx), free(ny), free(labels), free(nl), free(nk);
}

static void timeline(rcy_pdf *pdf, const rcy_timepoint_list *tps, const rcy_registry_subject *reg, int has_reg,
                     int32_t origin) {
  size_t n = tps->n;
  double *x = malloc((n + 3) * sizeof *x), *y = malloc((n + 3) * sizeof *y);
  char **lab = calloc(n + 3, sizeof *lab);
  rcy_plot_rule rules[3];
  size_t nr = 0;
  char rl[3][48];
  if (!x || !y || !lab) goto done;
  for (size_t i = 0; i < n; i++) {
    int32_t d = days_of(tps->items[i].date);
    x[i] = d == INT32_MIN ? NAN : (d - origin) / 30.4375;
    y[i] = 0.5 + 0.25 * (double)(i % 2); /* alternate heights so neighbouring labels do not collide */
    lab[i] = rcy_report_strf("%s %s", tps->items[i].timepoint, tps->items[i].date);
  }
  rules[nr++] = (rcy_plot_rule){true, 0, has_reg ? "treatment start" : "baseline", {0.1, 0.1, 0.1}};
  if (has_reg && reg->death_date[0]) {
    snprintf(rl[0], sizeof rl[0], "death %s", reg->death_date);
    rules[nr++] = (rcy_plot_rule){true, (days_of(reg->death_date) - origin) / 30.4375, rl[0], {0, 0, 0}};
  } else if (has_reg && reg->last_contact_date[0]) {
    snprintf(rl[1], sizeof rl[1], "last contact %s", reg->last_contact_date);
    rules[nr++] = (rcy_plot_rule){true, (days_of(reg->last_contact_date) - origin) / 30.4375, rl[1], {0.4, 0.4, 0.4}};
  }
  rcy_plot_series se = {.kind = RCY_PLOT_POINTS, .x = x, .y = y, .n = n, .color = rcy_plot_palette[0], .width = 2,
                        .labels = (const char *const *)lab};
  double xmax = 0;
  for (size_t i = 0; i < n; i++)
    if (x[i] > xmax) xmax = x[i];
  for (size_t i = 0; i < nr; i++)
    if (rules[i].value > xmax) xmax = rules[i].value;
  rcy_plot p = {.title = "Timeline: imaging timepoints (study dates)", .x_label = "months from treatment start",
                .x_min = fmin(0, x[0]) - 0.5, .x_max = xmax + 1.5, .y_min = 0, .y_max = 1.2, .no_y_ticks = true, .series = &se,
                .n_series = 1, .rules = rules, .n_rules = nr};
  rcy_pdf_plot(pdf, &p, 110);
done:
  for (size_t i = 0; lab && i < n; i++) free(lab[i]);
  free(lab), free(x), free(y);
}

static void response_table(rcy_pdf *pdf, const shown_read *r) {
  json_t *tps = json_object_get(r->result, "timepoints"), *signoffs = json_object_get(r->doc, "signoffs");
  size_t k = json_array_size(tps);
  enum { COLS = 10 };
  char **cells = calloc((k + 1) * COLS, sizeof *cells);
  const rcy_rgb **fills = calloc(k + 1, sizeof *fills);
  static rcy_rgb fill[8];
  if (!cells || !fills) goto done;
  const char *head[COLS] = {"Timepoint", "Date",       "SOD (mm)", "% from BL", "% from nadir",
                            "Target",    "Non-target", "New lesions", "Overall", "Signed"};
  for (int c = 0; c < COLS; c++) cells[c] = rcy_report_strf("%s", head[c]);
  for (size_t i = 0; i < k; i++) {
    json_t *t = json_array_get(tps, i);
    char **row = cells + (i + 1) * COLS;
    json_t *sum = json_object_get(t, "sum_mm"), *b = json_object_get(t, "change_from_baseline_pct"),
           *nd = json_object_get(t, "change_from_nadir_pct"), *nl = json_object_get(t, "new_lesions");
    row[0] = rcy_report_strf("%s", str(t, "timepoint"));
    row[1] = rcy_report_strf("%s", str(t, "date"));
    row[2] = json_is_number(sum) ? rcy_report_strf("%.1f", json_number_value(sum)) : rcy_report_strf("-");
    row[3] = i && json_is_number(b) ? rcy_report_strf("%+.1f", json_number_value(b)) : rcy_report_strf("-");
    row[4] = i && json_is_number(nd) ? rcy_report_strf("%+.1f", json_number_value(nd)) : rcy_report_strf("-");
    row[5] = rcy_report_strf("%s", i ? str(t, "target_response") : "baseline");
    row[6] = rcy_report_strf("%s", i ? str(t, "non_target_response") : "");
    row[7] = rcy_report_strf("%s", i ? (json_is_true(nl) ? "yes" : "no") : "");
    row[8] = rcy_report_strf("%s", str(t, "overall_response"));
    json_t *so = json_object_get(signoffs, str(t, "timepoint"));
    /* "2026-11-29T21:20:17Z" → "2026-11-29 21:20 UTC": the signatures table below has the full time */
    row[9] = so ? rcy_report_strf("%s\n%.10s %.5s UTC", str(so, "signed_by"), str(so, "signed_at"),
                                  strlen(str(so, "signed_at")) > 11 ? str(so, "signed_at") + 11 : "")
                : rcy_report_strf("not signed");
    rcy_recist_response resp;
    if (i && !rcy_recist_response_parse(&resp, str(t, "overall_response"))) {
      rcy_rgb c = rcy_report_bor_color(resp);
      fill[resp % 8] = (rcy_rgb){0.82 + 0.18 * c.r, 0.82 + 0.18 * c.g, 0.82 + 0.18 * c.b};
      fills[i + 1] = &fill[resp % 8];
    }
  }
  const double w[COLS] = {1.25, 1.1, 0.7, 0.75, 0.8, 0.9, 1.7, 0.8, 0.8, 1.8};
  rcy_pdf_table(pdf, (const char *const *)cells, k + 1, COLS, w, (const rcy_rgb *const *)fills);
  json_t *prog = json_object_get(r->result, "progression");
  char *reasons = NULL;
  if (json_is_object(prog)) {
    char buf[256] = "";
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(prog, "reasons"), i, v) {
      if (i) strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
      strncat(buf, json_string_value(v) ? json_string_value(v) : "", sizeof buf - strlen(buf) - 1);
    }
    reasons = rcy_report_strf("progression at %s (%s; %s)", str(prog, "timepoint"), str(prog, "date"), buf);
  }
  char *line = rcy_report_strf("Best overall response (BOR): %s; %s.", str(r->result, "best_overall_response"),
                               reasons ? reasons : "no progression");
  rcy_pdf_paragraph(pdf, line);
  free(line);
  free(reasons);
done:
  for (size_t i = 0; cells && i < (k + 1) * COLS; i++) free(cells[i]);
  free(cells);
  free(fills);
}

static void key_images(rcy_pdf *pdf, const shown_read *r, const char *archive_dir, size_t *count) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(r->doc, "lesions"), i, l) {
    const char *tp;
    json_t *ob;
    json_object_foreach(json_object_get(l, "observations"), tp, ob) {
      const char *url = json_string_value(json_object_get(json_object_get(ob, "measurement"), "key_image_url"));
      if (!url) url = json_string_value(json_object_get(ob, "key_image_url"));
      const char *prefix = "/api/key-images/";
      if (!url || strncmp(url, prefix, strlen(prefix)) != 0) continue;
      const char *id = url + strlen(prefix);
      if (strchr(id, '/') || strstr(id, "..")) continue; /* a name, never a path */
      char path[4400];
      snprintf(path, sizeof path, "%s/key-images/%s", archive_dir, id);
      json_t *d = json_object_get(ob, "diameter_mm");
      char dia[32] = "";
      if (json_is_number(d)) snprintf(dia, sizeof dia, ", %.1f mm", json_number_value(d));
      char *cap = rcy_report_strf("%s: %s %s (%s) at %s%s", r->label, str(l, "lesion_id"), str(l, "kind"),
                                  str(l, "organ"), tp, dia);
      rcy_error e = {0};
      if (rcy_pdf_picture(pdf, path, 160, 150, cap, &e)) {
        free(cap);
        cap = rcy_report_strf("(key image %s of %s %s at %s is missing from the archive)", id, r->label,
                              str(l, "lesion_id"), tp);
        rcy_pdf_paragraph(pdf, cap);
      } else {
        (*count)++;
      }
      free(cap);
    }
  }
}

int rcy_qa_report_subject(rcy_store *store, const char *archive_dir, const char *subject, const char *out_path,
                          rcy_qa_read_filter visible, void *ctx, rcy_error *err) {
  rcy_timepoint_list tps = {0};
  rcy_registry_subject reg;
  rcy_review_settings settings;
  json_t *review = NULL, *all = NULL;
  shown_read *reads = NULL;
  size_t n = 0;
  rcy_pdf *pdf = NULL;
  char site[RCY_NAME_MAX + 1] = "";
  int found = 0, has_reg = 0;
  int rc = rcy_store_subject_site(&found, site, store, subject, err);
  if (!rc && !found) rc = rcy_error_set(err, RCY_ENOTFOUND, "subject %s has no studies in the archive", subject);
  if (!rc) rc = rcy_reads_timepoints_load(&tps, store, subject, err);
  if (!rc) {
    rcy_error e2 = {0};
    int r2 = rcy_store_registry_get(&reg, store, subject, &e2);
    if (r2 == 0) has_reg = 1;
    else if (r2 != RCY_ENOTFOUND) rc = rcy_error_set(err, r2, "%s", e2.message);
  }
  if (!rc) rc = rcy_review_settings_load(&settings, store, err);
  if (!rc) rc = rcy_review_subject(&review, store, &settings, subject, err);
  if (!rc) rc = rcy_reads_of_subjects(&all, store, subject, err);
  if (rc) goto out;
  reads = calloc(json_array_size(all) + 1, sizeof *reads);
  if (!reads) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  const char *r1 = json_string_value(json_object_get(json_object_get(review, "readers"), "r1"));
  const char *r2 = json_string_value(json_object_get(json_object_get(review, "readers"), "r2"));
  json_t *final = json_object_get(review, "final");
  int dbl = strcmp(settings.paradigm, "double") == 0;
  size_t i;
  json_t *entry;
  json_array_foreach(all, i, entry) {
    shown_read *r = &reads[n];
    r->role = str(entry, "role");
    r->reader = str(entry, "reader");
    if (visible && !visible(ctx, r->role, r->reader)) continue;
    r->doc = json_object_get(entry, "doc");
    const char *tag = "";
    if (strcmp(r->role, "central") == 0 && dbl && r1 && strcmp(r->reader, r1) == 0) tag = " (R1)";
    else if (strcmp(r->role, "central") == 0 && dbl && r2 && strcmp(r->reader, r2) == 0) tag = " (R2)";
    int is_final = json_is_object(final) && strcmp(str(final, "role"), r->role) == 0 &&
                   strcmp(str(final, "reader"), r->reader) == 0;
    if (strcmp(r->role, "site") == 0) snprintf(r->label, sizeof r->label, "site read");
    else snprintf(r->label, sizeof r->label, "%s read: %s%s%s", r->role, r->reader, tag,
                  is_final ? " - final central read" : "");
    json_t *warn = json_array();
    json_t *input = rcy_reads_engine_input_timed(NULL, store, subject, r->doc, &tps, warn);
    json_decref(warn);
    char *emsg = NULL;
    if (!input) r->problem = rcy_report_strf("no complete baseline: not evaluated");
    else if (rcy_reads_engine_run(&r->result, &emsg, input)) {
      r->problem = rcy_report_strf("not evaluated: %s", emsg ? emsg : "engine error");
      r->result = NULL;
    }
    free(emsg);
    json_decref(input);
    n++;
  }
  int32_t origin = has_reg ? days_of(reg.treatment_start) : INT32_MIN;
  if (origin == INT32_MIN && tps.n) origin = days_of(tps.items[0].date);
  if (origin == INT32_MIN) origin = 0;

  char *title = rcy_report_strf("Subject report: %s", subject);
  char *footer = rcy_report_strf("recistry subject report %s - trial identifiers only", subject);
  rc = rcy_pdf_open(&pdf, out_path, title, footer, err);
  free(footer);
  if (rc) {
    free(title);
    goto out;
  }
  rcy_pdf_heading(pdf, 1, title);
  free(title);
  {
    const char *cells[] = {"Subject",        subject,
                           "Site",           site,
                           "Indication",     has_reg ? reg.indication : "(no registry data)",
                           "Treatment start", has_reg ? reg.treatment_start : "(no registry data: timed from baseline)",
                           "Liver-only disease", has_reg ? (reg.liver_only == 1 ? "yes" : reg.liver_only == 0 ? "no" : "not given") : "",
                           "Death / last contact", has_reg ? (reg.death_date[0] ? reg.death_date : reg.last_contact_date) : "",
                           "Reading paradigm", settings.paradigm,
                           "Central review status", str(review, "status")};
    char *hdr[] = {"Item", "Value"};
    const char *all_cells[2 + sizeof cells / sizeof *cells];
    all_cells[0] = hdr[0], all_cells[1] = hdr[1];
    memcpy(all_cells + 2, cells, sizeof cells);
    const double w[2] = {1, 3};
    rcy_pdf_table(pdf, all_cells, 1 + sizeof cells / sizeof *cells / 2, 2, w, NULL);
  }
  timeline(pdf, &tps, &reg, has_reg, origin);
  {
    size_t ok = 0;
    for (size_t r = 0; r < n; r++) ok += reads[r].result != NULL;
    shown_read *ev = calloc(ok + 1, sizeof *ev);
    size_t k = 0;
    for (size_t r = 0; ev && r < n; r++)
      if (reads[r].result) ev[k++] = reads[r];
    if (ev) sod_plot(pdf, ev, k, origin);
    free(ev);
  }
  rcy_pdf_heading(pdf, 2, "Responses per timepoint");
  if (!n) rcy_pdf_paragraph(pdf, "No read of this subject is stored (or none you may see).");
  for (size_t r = 0; r < n; r++) {
    rcy_pdf_heading(pdf, 3, reads[r].label);
    if (!reads[r].result) {
      rcy_pdf_paragraph(pdf, reads[r].problem);
      continue;
    }
    response_table(pdf, &reads[r]);
  }
  rcy_pdf_heading(pdf, 2, "Key images");
  size_t shown = 0;
  for (size_t r = 0; r < n; r++) key_images(pdf, &reads[r], archive_dir, &shown);
  rcy_pdf_picture_row_end(pdf);
  if (!shown) rcy_pdf_paragraph(pdf, "No key image stored for the reads shown (imported reads have none).");

  rcy_pdf_heading(pdf, 2, "Signatures");
  {
    size_t rows = 1, cap = 1;
    for (size_t r = 0; r < n; r++) cap += json_object_size(json_object_get(reads[r].doc, "signoffs"));
    char **cells = calloc(cap * 5, sizeof *cells);
    if (cells) {
      const char *head[5] = {"Read", "Timepoint", "Signed by", "Signed at (UTC)", "Meaning"};
      for (int c = 0; c < 5; c++) cells[c] = rcy_report_strf("%s", head[c]);
      for (size_t r = 0; r < n; r++)
        for (size_t t = 0; t < tps.n; t++) {
          json_t *so = json_object_get(json_object_get(reads[r].doc, "signoffs"), tps.items[t].timepoint);
          if (!so || rows >= cap) continue;
          char **row = cells + rows++ * 5;
          row[0] = rcy_report_strf("%s", reads[r].label);
          row[1] = rcy_report_strf("%s", tps.items[t].timepoint);
          row[2] = rcy_report_strf("%s", str(so, "signed_by"));
          row[3] = rcy_report_strf("%s", str(so, "signed_at"));
          row[4] = rcy_report_strf("%s", json_object_get(so, "meaning") ? str(so, "meaning") : "(not recorded)");
        }
      const double w[5] = {1.8, 0.8, 0.9, 1.5, 2.0};
      if (rows > 1) rcy_pdf_table(pdf, (const char *const *)cells, rows, 5, w, NULL);
      else rcy_pdf_paragraph(pdf, "No timepoint signed.");
      for (size_t c = 0; c < cap * 5; c++) free(cells[c]);
      free(cells);
    }
  }
  json_t *adj = json_object_get(review, "adjudication");
  if (json_is_object(adj) && (!visible || visible(ctx, "adjudicator", str(adj, "adjudicator")))) {
    rcy_pdf_heading(pdf, 3, "Adjudication decision");
    char *t = rcy_report_strf("%s decided on %s: the %s read of %s stands (outcome %s).\nReason: %s\nMeaning: %s",
                              str(adj, "adjudicator"), str(adj, "signed_at"), str(adj, "read_role"),
                              str(adj, "read_reader"), str(adj, "outcome"), str(adj, "reason"), str(adj, "meaning"));
    rcy_pdf_paragraph(pdf, t);
    free(t);
  } else if (dbl && json_is_object(final)) {
    char *t = rcy_report_strf("Final central read: %s %s (basis: %s).", str(final, "role"), str(final, "reader"),
                              str(final, "basis"));
    rcy_pdf_paragraph(pdf, t);
    free(t);
  }
  rc = rcy_pdf_close(pdf, err);
out:
  for (size_t r = 0; reads && r < n; r++) json_decref(reads[r].result), free(reads[r].problem);
  free(reads);
  json_decref(review);
  json_decref(all);
  rcy_reads_timepoints_free(&tps);
  return rc;
}
