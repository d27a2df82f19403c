/* Reader QC of independent central review: how often each pair of central readers and each site's subjects
 * needed an adjudicator, how often the adjudicator chose each reader's read, and how far two readers'
 * diameters of the same target lesion lie apart. Everything comes from the archive through the review rules
 * of src/reads/review.c (status, R1/R2, decisions) and rcy_review_match_lesions; only signed timepoints
 * count. Definitions and formulas: docs/qa.md ("Reader QC"). `recistry adjudication qc` and GET /api/reader-qc
 * print this JSON. */
#include "recistry/qa.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/reads.h"

typedef struct lesion_diffs {
  double *d, *rel; /* r1 − r2 (mm); |r1 − r2| / mean × 100 (NAN when both are 0) */
  size_t n, cap;
  size_t lesions, subjects;
} lesion_diffs;

typedef struct qc_ctx {
  rcy_store *store;
  json_t *pairs, *sites, *readers; /* objects keyed by "r1\tr2", site, reader name */
  json_t *overall;
  lesion_diffs all;
  json_t *pair_diffs; /* "r1\tr2" -> index into diffs */
  lesion_diffs *diffs;
  size_t n_diffs;
} qc_ctx;

static const char *str(const json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k));
}

static void count(json_t *row, const char *key, int add) {
  json_object_set_new(row, key, json_integer(json_integer_value(json_object_get(row, key)) + add));
}

static json_t *row_of(json_t *table, const char *key, json_t *(*make)(const char *key)) {
  json_t *r = json_object_get(table, key);
  if (!r) {
    r = make(key);
    json_object_set_new(table, key, r);
  }
  return r;
}

static json_t *new_pair(const char *key) {
  const char *tab = strchr(key, '\t');
  return json_pack("{s:s%,s:s,s:i,s:i,s:i}", "r1", key, (size_t)(tab - key), "r2", tab + 1, "complete", 0,
                   "triggered", 0, "adjudicated", 0);
}
static json_t *new_site(const char *key) {
  return json_pack("{s:s,s:i,s:i,s:i}", "site_id", key, "complete", 0, "triggered", 0, "adjudicated", 0);
}
static json_t *new_reader(const char *key) {
  return json_pack("{s:s,s:i,s:i}", "reader", key, "adjudicated", 0, "chosen", 0);
}

static int diffs_push(lesion_diffs *l, double a, double b) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    double *d = realloc(l->d, cap * sizeof *d), *rel = d ? realloc(l->rel, cap * sizeof *rel) : NULL;
    if (d) l->d = d;
    if (!d || !rel) return RCY_ENOMEM;
    l->rel = rel;
    l->cap = cap;
  }
  double mean = (a + b) / 2;
  l->d[l->n] = a - b;
  l->rel[l->n] = mean > 0 ? fabs(a - b) / mean * 100.0 : NAN;
  l->n++;
  return RCY_OK;
}

static json_t *num_or_null(double v) {
  return isfinite(v) ? json_real(v) : json_null();
}

/* n, mean difference, SD (n − 1), 95 % limits of agreement (mean ± 1.96 SD, as the engine's Bland–Altman of
 * SOD), mean absolute relative difference (%). */
static void diffs_stats(json_t *o, const lesion_diffs *l) {
  double mean = NAN, sd = NAN, rel = NAN;
  size_t nrel = 0;
  if (l->n) {
    double s = 0, r = 0;
    for (size_t i = 0; i < l->n; i++)
      s += l->d[i];
    mean = s / (double)l->n;
    for (size_t i = 0; i < l->n; i++)
      if (!isnan(l->rel[i])) r += l->rel[i], nrel++;
    if (nrel) rel = r / (double)nrel;
  }
  if (l->n > 1) {
    double ss = 0;
    for (size_t i = 0; i < l->n; i++)
      ss += (l->d[i] - mean) * (l->d[i] - mean);
    sd = sqrt(ss / (double)(l->n - 1));
  }
  json_object_set_new(o, "n", json_integer((json_int_t)l->n));
  json_object_set_new(o, "lesions", json_integer((json_int_t)l->lesions));
  json_object_set_new(o, "subjects", json_integer((json_int_t)l->subjects));
  json_object_set_new(o, "mean_difference_mm", num_or_null(mean));
  json_object_set_new(o, "sd_mm", num_or_null(sd));
  json_object_set_new(o, "loa_lower_mm", num_or_null(mean - 1.96 * sd));
  json_object_set_new(o, "loa_upper_mm", num_or_null(mean + 1.96 * sd));
  json_object_set_new(o, "mean_abs_relative_difference_pct", num_or_null(rel));
}

static json_t *load_doc(rcy_store *store, const char *subject, const char *reader, rcy_error *err, int *rc) {
  char *text = NULL;
  rcy_error e = {0};
  *rc = rcy_store_read_get(&text, store, subject, "central", reader, &e);
  if (*rc == RCY_ENOTFOUND)
    *rc = RCY_OK;
  else if (*rc)
    *err = e;
  json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  return doc;
}

static json_t *lesion_by_id(const json_t *doc, const char *id) {
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i,
                     l) if (id && strcmp(str(l, "lesion_id"), id) == 0) return l;
  return NULL;
}

static int is_target(const json_t *side) {
  return json_is_object(side) && str(side, "kind") && strcmp(str(side, "kind"), "target") == 0;
}

/* Target lesions matched between the two central reads of subject, at each timepoint both signed and both
 * measured. */
static int lesion_variability(qc_ctx *c, lesion_diffs *pair, const char *subject, const char *r1,
                              const char *r2, rcy_error *err) {
  int rc;
  json_t *a = load_doc(c->store, subject, r1, err, &rc), *b = NULL, *matches = NULL;
  if (!rc) b = load_doc(c->store, subject, r2, err, &rc);
  if (!rc && a && b) rc = rcy_review_match_lesions(&matches, c->store, subject, a, b, err);
  int any = 0;
  size_t i;
  json_t *m;
  json_array_foreach(matches, i, m) {
    if (rc) break;
    json_t *s1 = json_object_get(m, "r1"), *s2 = json_object_get(m, "r2");
    if (!is_target(s1) || !is_target(s2)) continue;
    json_t *l1 = lesion_by_id(a, str(s1, "lesion_id")), *l2 = lesion_by_id(b, str(s2, "lesion_id"));
    json_t *o1 = json_object_get(l1, "observations"), *o2 = json_object_get(l2, "observations");
    const char *tp;
    json_t *obs;
    int counted = 0;
    json_object_foreach(o1, tp, obs) {
      json_t *d1 = json_object_get(obs, "diameter_mm"),
             *d2 = json_object_get(json_object_get(o2, tp), "diameter_mm");
      if (!json_is_number(d1) || !json_is_number(d2)) continue;
      if (!json_object_get(json_object_get(a, "signoffs"), tp) ||
          !json_object_get(json_object_get(b, "signoffs"), tp))
        continue;
      double x = json_number_value(d1), y = json_number_value(d2);
      if (diffs_push(pair, x, y) || diffs_push(&c->all, x, y)) {
        rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
        break;
      }
      counted = 1;
    }
    if (counted) pair->lesions++, c->all.lesions++, any = 1;
  }
  if (any) pair->subjects++, c->all.subjects++;
  json_decref(matches);
  json_decref(a);
  json_decref(b);
  return rc;
}

static int has_trigger(const json_t *reasons) {
  size_t i;
  json_t *r;
  json_array_foreach(reasons, i, r) if (strcmp(json_string_value(r), "reads_changed") != 0) return 1;
  return 0;
}

static int visit(void *ctx, const json_t *state, rcy_error *err) {
  qc_ctx *c = ctx;
  const char *subject = str(state, "subject_id"), *status = str(state, "status");
  json_t *readers = json_object_get(state, "readers");
  const char *r1 = str(readers, "r1"), *r2 = str(readers, "r2");
  /* double reading only; per-lesion variability also counts what both readers have signed so far */
  if (!r1 || !r2 || strcmp(status, "single") == 0) return 0;
  char key[2 * (RCY_NAME_MAX + 1) + 2];
  snprintf(key, sizeof key, "%s\t%s", r1, r2);
  json_t *pair = row_of(c->pairs, key, new_pair);
  json_t *ix = json_object_get(c->pair_diffs, key);
  if (!ix) {
    lesion_diffs *d = realloc(c->diffs, (c->n_diffs + 1) * sizeof *d);
    if (!d) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    c->diffs = d;
    memset(&c->diffs[c->n_diffs], 0, sizeof *d);
    ix = json_integer((json_int_t)c->n_diffs++);
    json_object_set_new(c->pair_diffs, key, ix);
  }
  int rc = lesion_variability(c, &c->diffs[json_integer_value(ix)], subject, r1, r2, err);
  if (rc || strcmp(status, "awaiting_reads") == 0) return rc;

  char site[RCY_NAME_MAX + 1] = "";
  int found = 0;
  rc = rcy_store_subject_site(&found, site, c->store, subject, err);
  if (rc) return rc;
  json_t *rows[3] = {pair, row_of(c->sites, found ? site : "(none)", new_site), c->overall};
  int trig = has_trigger(json_object_get(state, "reasons")), adj = strcmp(status, "adjudicated") == 0;
  for (int i = 0; i < 3; i++) {
    count(rows[i], "complete", 1);
    count(rows[i], "triggered", trig);
    count(rows[i], "adjudicated", adj);
  }
  if (adj) {
    const char *outcome = str(json_object_get(state, "adjudication"), "outcome");
    json_t *a = row_of(c->readers, r1, new_reader), *b = row_of(c->readers, r2, new_reader);
    count(a, "adjudicated", 1);
    count(b, "adjudicated", 1);
    count(a, "chosen", outcome && strcmp(outcome, "r1") == 0);
    count(b, "chosen", outcome && strcmp(outcome, "r2") == 0);
    count(c->overall, "own_read_chosen", outcome && strcmp(outcome, "own") == 0);
  }
  return RCY_OK;
}

/* rate and its Clopper–Pearson 95 % interval of num/den; null when den is 0. */
static void add_rate(json_t *row, const char *num, const char *den) {
  json_int_t k = json_integer_value(json_object_get(row, num)),
             n = json_integer_value(json_object_get(row, den));
  double lo, hi;
  if (n > 0 && rcy_qa_clopper_pearson(&lo, &hi, (size_t)k, (size_t)n, 0.95, NULL) == RCY_OK) {
    json_object_set_new(row, "rate", json_real((double)k / (double)n));
    json_object_set_new(row, "rate_ci95", json_pack("[f,f]", lo, hi));
  } else {
    json_object_set_new(row, "rate", json_null());
    json_object_set_new(row, "rate_ci95", json_null());
  }
}

static json_t *rows_with_rate(json_t *table, const char *num, const char *den) {
  json_t *arr = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(table, k, v) { /* jansson keeps insertion order: subject order of first appearance */
    add_rate(v, num, den);
    json_array_append(arr, v);
  }
  return arr;
}

static int by_key(const void *x, const void *y, const char *k1, const char *k2) {
  const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
  int c = strcmp(str(a, k1), str(b, k1));
  return c || !k2 ? c : strcmp(str(a, k2), str(b, k2));
}
static int by_pair(const void *x, const void *y) {
  return by_key(x, y, "r1", "r2");
}
static int by_site(const void *x, const void *y) {
  return by_key(x, y, "site_id", NULL);
}
static int by_reader(const void *x, const void *y) {
  return by_key(x, y, "reader", NULL);
}

static json_t *sorted(json_t *arr, int (*cmp)(const void *, const void *)) {
  size_t n = json_array_size(arr);
  json_t **v = malloc((n ? n : 1) * sizeof *v);
  json_t *out = json_array();
  if (!v) return out;
  for (size_t i = 0; i < n; i++)
    v[i] = json_array_get(arr, i);
  qsort(v, n, sizeof *v, cmp);
  for (size_t i = 0; i < n; i++)
    json_array_append(out, v[i]);
  free(v);
  json_decref(arr);
  return out;
}

int rcy_qa_reader_qc(json_t **out, rcy_store *store, rcy_error *err) {
  *out = NULL;
  rcy_review_settings s;
  int rc = rcy_review_settings_load(&s, store, err);
  if (rc) return rc;
  qc_ctx c = {.store = store,
              .pairs = json_object(),
              .sites = json_object(),
              .readers = json_object(),
              .overall = json_pack("{s:i,s:i,s:i,s:i}", "complete", 0, "triggered", 0, "adjudicated", 0,
                                   "own_read_chosen", 0),
              .pair_diffs = json_object()};
  rc = rcy_review_each(store, &s, visit, &c, err);
  if (!rc) {
    add_rate(c.overall, "triggered", "complete");
    json_t *pairs = sorted(rows_with_rate(c.pairs, "triggered", "complete"), by_pair);
    json_t *lv_pairs = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p) {
      char key[2 * (RCY_NAME_MAX + 1) + 2];
      snprintf(key, sizeof key, "%s\t%s", str(p, "r1"), str(p, "r2"));
      json_t *row = json_pack("{s:O,s:O}", "r1", json_object_get(p, "r1"), "r2", json_object_get(p, "r2"));
      diffs_stats(row, &c.diffs[json_integer_value(json_object_get(c.pair_diffs, key))]);
      json_array_append_new(lv_pairs, row);
    }
    json_t *lv_all = json_object();
    diffs_stats(lv_all, &c.all);
    *out = json_pack(
        "{s:s,s:{s:O,s:o,s:o},s:o,s:{s:o,s:o}}", "paradigm", s.paradigm, "adjudication", "overall", c.overall,
        "by_pair", pairs, "by_site", sorted(rows_with_rate(c.sites, "triggered", "complete"), by_site),
        "adjudicator_agreement", sorted(rows_with_rate(c.readers, "chosen", "adjudicated"), by_reader),
        "lesion_variability", "overall", lv_all, "by_pair", lv_pairs);
    if (!*out) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < c.n_diffs; i++)
    free(c.diffs[i].d), free(c.diffs[i].rel);
  free(c.diffs);
  free(c.all.d);
  free(c.all.rel);
  json_decref(c.pairs);
  json_decref(c.sites);
  json_decref(c.readers);
  json_decref(c.overall);
  json_decref(c.pair_diffs);
  return rc;
}

static void print_rate(FILE *f, const json_t *row, const char *num, const char *den) {
  json_t *rate = json_object_get(row, "rate");
  fprintf(f, "%6lld/%-6lld", (long long)json_integer_value(json_object_get(row, num)),
          (long long)json_integer_value(json_object_get(row, den)));
  if (json_is_number(rate)) {
    json_t *ci = json_object_get(row, "rate_ci95");
    fprintf(f, " %5.1f %%  (95 %% CI %.1f–%.1f)\n", 100 * json_number_value(rate),
            100 * json_number_value(json_array_get(ci, 0)), 100 * json_number_value(json_array_get(ci, 1)));
  } else {
    fprintf(f, "     –\n");
  }
}

static void print_mm(FILE *f, const json_t *v) {
  if (json_is_number(v))
    fprintf(f, " %8.2f", json_number_value(v));
  else
    fprintf(f, " %8s", "–");
}

int rcy_qa_reader_qc_print(FILE *f, const json_t *qc) {
  size_t i;
  json_t *r;
  const json_t *adj = json_object_get(qc, "adjudication");
  fprintf(f, "Reader QC (paradigm: %s)\n\n", str(qc, "paradigm"));
  fprintf(f, "Adjudication rate (triggered / both reads complete)\n");
  fprintf(f, "  %-36s", "all subjects");
  print_rate(f, json_object_get(adj, "overall"), "triggered", "complete");
  json_array_foreach(json_object_get(adj, "by_pair"), i, r) {
    char label[160];
    snprintf(label, sizeof label, "R1 %s / R2 %s", str(r, "r1"), str(r, "r2"));
    fprintf(f, "  %-36s", label);
    print_rate(f, r, "triggered", "complete");
  }
  json_array_foreach(json_object_get(adj, "by_site"), i, r) {
    char label[160];
    snprintf(label, sizeof label, "site %s", str(r, "site_id"));
    fprintf(f, "  %-36s", label);
    print_rate(f, r, "triggered", "complete");
  }
  fprintf(f, "\nAdjudicator agreement (chose this reader's read / adjudicated subjects the reader read)\n");
  if (!json_array_size(json_object_get(qc, "adjudicator_agreement")))
    fprintf(f, "  no adjudicated subject\n");
  json_array_foreach(json_object_get(qc, "adjudicator_agreement"), i, r) {
    fprintf(f, "  %-36s", str(r, "reader"));
    print_rate(f, r, "chosen", "adjudicated");
  }
  fprintf(f, "\nPer-lesion variability, matched target lesions (R1 − R2, mm)\n");
  fprintf(f, "  %-36s %5s %8s %8s %8s %8s %8s\n", "", "n", "mean", "SD", "LoA low", "LoA up", "|rel| %");
  const json_t *lv = json_object_get(qc, "lesion_variability");
  json_t *rows = json_array();
  json_array_append(rows, json_object_get(lv, "overall"));
  json_array_extend(rows, json_object_get(lv, "by_pair"));
  json_array_foreach(rows, i, r) {
    char label[160];
    if (i == 0)
      snprintf(label, sizeof label, "all pairs");
    else
      snprintf(label, sizeof label, "R1 %s / R2 %s", str(r, "r1"), str(r, "r2"));
    fprintf(f, "  %-36s %5lld", label, (long long)json_integer_value(json_object_get(r, "n")));
    print_mm(f, json_object_get(r, "mean_difference_mm"));
    print_mm(f, json_object_get(r, "sd_mm"));
    print_mm(f, json_object_get(r, "loa_lower_mm"));
    print_mm(f, json_object_get(r, "loa_upper_mm"));
    print_mm(f, json_object_get(r, "mean_abs_relative_difference_pct"));
    fputc('\n', f);
  }
  json_decref(rows);
  return ferror(f) ? RCY_EIO : RCY_OK;
}
