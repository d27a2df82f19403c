/* Dose thresholds and the flags they raise. The numbers (EANM 2022 for glass microspheres in mCRC, or a
 * site's protocol) live in the config's [dose_threshold NAME] sections, never in code: a guideline update is a
 * config change, reviewed like one. The shipped table: config/dose-thresholds.ini; docs/dosimetry.md. */
#include "recistry/dose.h"

#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const metrics[] = {"mean_gy", "min_gy", "max_gy", "d50_gy", "d70_gy", "d90_gy", "v100_pct",
                                      "v150_pct", "v205_pct", "volume_ml", "mass_g", "cumulative_mean_gy"};

int rcy_dose_metric_known(const char *metric) {
  for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
    if (!strcmp(metric, metrics[i])) return 1;
  return 0;
}

double rcy_dose_metric(const rcy_dose_compartment *c, const char *m) {
  if (!strcmp(m, "mean_gy") || !strcmp(m, "cumulative_mean_gy")) return c->mean_gy;
  if (!strcmp(m, "min_gy")) return c->min_gy;
  if (!strcmp(m, "max_gy")) return c->max_gy;
  if (!strcmp(m, "d50_gy")) return c->d50_gy;
  if (!strcmp(m, "d70_gy")) return c->d70_gy;
  if (!strcmp(m, "d90_gy")) return c->d90_gy;
  if (!strcmp(m, "v100_pct")) return c->v100_pct;
  if (!strcmp(m, "v150_pct")) return c->v150_pct;
  if (!strcmp(m, "v205_pct")) return c->v205_pct;
  if (!strcmp(m, "volume_ml")) return c->volume_ml;
  if (!strcmp(m, "mass_g")) return c->mass_g;
  return NAN;
}

static int kind_parse(rcy_dose_kind *k, const char *s) {
  for (int i = RCY_DOSE_KIND_OTHER; i <= RCY_DOSE_KIND_LUNG; i++)
    if (!strcmp(s, rcy_dose_kind_name((rcy_dose_kind)i))) {
      *k = (rcy_dose_kind)i;
      return 0;
    }
  return -1;
}

typedef struct {
  rcy_dose_threshold *rows;
  size_t n, cap;
  char section[80];
  char error[RCY_ERROR_MESSAGE_MAX];
} loader;

static rcy_dose_threshold *row_for(loader *l, const char *section) {
  if (l->n && !strcmp(l->section, section)) return &l->rows[l->n - 1];
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    rcy_dose_threshold *r = realloc(l->rows, cap * sizeof *r);
    if (!r) return NULL;
    l->rows = r, l->cap = cap;
  }
  rcy_dose_threshold *t = &l->rows[l->n++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", section + strlen("dose_threshold "));
  snprintf(t->severity, sizeof t->severity, "warning");
  t->limit = NAN, t->when_min = NAN, t->when_max = NAN;
  snprintf(l->section, sizeof l->section, "%s", section);
  return t;
}

static int number(double *out, const char *v) {
  char *end;
  *out = strtod(v, &end);
  return end != v && !*end && isfinite(*out) ? 0 : -1;
}

static int on_key(void *ctx, const char *section, const char *key, const char *value) {
  loader *l = ctx;
  if (strncmp(section, "dose_threshold ", 15) != 0) return 1;
  rcy_dose_threshold *t = row_for(l, section);
  if (!t) return 0;
  const char *bad = NULL;
  if (!strcmp(key, "compartment")) bad = kind_parse(&t->kind, value) ? "compartment" : NULL;
  else if (!strcmp(key, "metric")) {
    if (rcy_dose_metric_known(value)) snprintf(t->metric, sizeof t->metric, "%s", value);
    else bad = "metric";
  } else if (!strcmp(key, "comparison")) {
    if (!strcmp(value, ">=") || !strcmp(value, ">") || !strcmp(value, "<") || !strcmp(value, "<="))
      snprintf(t->comparison, sizeof t->comparison, "%s", value);
    else bad = "comparison (>=, >, <, <=)";
  } else if (!strcmp(key, "limit")) bad = number(&t->limit, value) ? "limit" : NULL;
  else if (!strcmp(key, "severity")) {
    if (!strcmp(value, "warning") || !strcmp(value, "info")) snprintf(t->severity, sizeof t->severity, "%s", value);
    else bad = "severity (warning, info)";
  } else if (!strcmp(key, "reference")) snprintf(t->reference, sizeof t->reference, "%s", value);
  else if (!strcmp(key, "when_compartment")) bad = kind_parse(&t->when_kind, value) ? "when_compartment" : NULL;
  else if (!strcmp(key, "when_metric")) {
    if (rcy_dose_metric_known(value) || !strcmp(value, "volume_pct_of_liver"))
      snprintf(t->when_metric, sizeof t->when_metric, "%s", value);
    else bad = "when_metric";
  } else if (!strcmp(key, "when_min")) bad = number(&t->when_min, value) ? "when_min" : NULL;
  else if (!strcmp(key, "when_max")) bad = number(&t->when_max, value) ? "when_max" : NULL;
  else bad = "key";
  if (bad) {
    snprintf(l->error, sizeof l->error, "[%s]: invalid %s: %s = %s", section, bad, key, value);
    return 0;
  }
  return 1;
}

int rcy_dose_thresholds_load(rcy_dose_threshold **out, size_t *n, const char *path, rcy_error *err) {
  *out = NULL, *n = 0;
  loader l = {0};
  int line = ini_parse(path, on_key, &l);
  if (line < 0) {
    free(l.rows);
    return rcy_error_set(err, RCY_ENOTFOUND, "%s: cannot open the threshold table", path);
  }
  if (line > 0) {
    free(l.rows);
    return rcy_error_set(err, RCY_EINVAL, "%s:%d: %s", path, line, l.error[0] ? l.error : "syntax error");
  }
  for (size_t i = 0; i < l.n; i++) {
    rcy_dose_threshold *t = &l.rows[i];
    if (!t->metric[0] || !t->comparison[0] || isnan(t->limit) || t->kind == RCY_DOSE_KIND_OTHER) {
      int rc = rcy_error_set(err, RCY_EINVAL, "%s: [dose_threshold %s] needs compartment, metric, comparison and limit",
                             path, t->name);
      free(l.rows);
      return rc;
    }
  }
  *out = l.rows, *n = l.n;
  return RCY_OK;
}

static int holds(double v, const char *cmp, double limit) {
  if (!strcmp(cmp, ">=")) return v >= limit;
  if (!strcmp(cmp, ">")) return v > limit;
  if (!strcmp(cmp, "<")) return v < limit;
  return v <= limit;
}

static const char *negation(const char *cmp) {
  if (!strcmp(cmp, ">=")) return "<";
  if (!strcmp(cmp, ">")) return "<=";
  if (!strcmp(cmp, "<")) return ">=";
  return ">";
}

/* The condition's value: a metric of the first compartment of a kind, or the perfused share of the liver. */
static double condition_value(const rcy_dose_threshold *t, const rcy_dose_compartment *c, size_t n) {
  const rcy_dose_compartment *of = NULL, *liver = NULL;
  for (size_t i = 0; i < n; i++) {
    if (!of && c[i].kind == t->when_kind) of = &c[i];
    if (!liver && c[i].kind == RCY_DOSE_KIND_LIVER) liver = &c[i];
  }
  if (!of) return NAN;
  if (!strcmp(t->when_metric, "volume_pct_of_liver"))
    return liver && liver->volume_ml > 0 ? 100.0 * of->volume_ml / liver->volume_ml : NAN;
  return rcy_dose_metric(of, t->when_metric);
}

int rcy_dose_flags_evaluate(rcy_dose_flag **out, size_t *n_out, const rcy_dose_compartment *c, size_t n_c,
                            const rcy_dose_threshold *t, size_t n_t, double prior_lung_gy, rcy_error *err) {
  *out = NULL, *n_out = 0;
  size_t n = 0, cap = 0;
  rcy_dose_flag *flags = NULL;
  for (size_t i = 0; i < n_t; i++) {
    if (t[i].when_metric[0]) {
      double w = condition_value(&t[i], c, n_c);
      if (isnan(w) || (!isnan(t[i].when_min) && w < t[i].when_min) || (!isnan(t[i].when_max) && w >= t[i].when_max))
        continue;
    }
    for (size_t j = 0; j < n_c; j++) {
      if (c[j].kind != t[i].kind) continue;
      double v = rcy_dose_metric(&c[j], t[i].metric);
      if (!strcmp(t[i].metric, "cumulative_mean_gy") && prior_lung_gy > 0) v += prior_lung_gy;
      if (isnan(v) || holds(v, t[i].comparison, t[i].limit)) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 8;
        rcy_dose_flag *f = realloc(flags, cap * sizeof *f);
        if (!f) {
          free(flags);
          return rcy_error_set(err, RCY_ENOMEM, "dose flags: out of memory");
        }
        flags = f;
      }
      rcy_dose_flag *f = &flags[n++];
      memset(f, 0, sizeof *f);
      snprintf(f->threshold, sizeof f->threshold, "%s", t[i].name);
      snprintf(f->compartment, sizeof f->compartment, "%s", c[j].name);
      snprintf(f->metric, sizeof f->metric, "%s", t[i].metric);
      snprintf(f->comparison, sizeof f->comparison, "%s", t[i].comparison);
      snprintf(f->severity, sizeof f->severity, "%s", t[i].severity);
      f->value = v, f->limit = t[i].limit;
      snprintf(f->message, sizeof f->message, "%s %s: %s %.1f %s %.1f (should be %s %.1f; %s)",
               rcy_dose_kind_name(c[j].kind), c[j].name, t[i].metric, v, negation(t[i].comparison), t[i].limit,
               t[i].comparison, t[i].limit, t[i].reference[0] ? t[i].reference : t[i].name);
    }
  }
  *out = flags, *n_out = n;
  return RCY_OK;
}
