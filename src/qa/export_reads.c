/* The reads an export covers (SDTM TU/TR/RS, the flat CSV), gathered once: which reads (the site's; every
 * central reader's, the final central read flagged), each evaluated by the RECIST engine, with its subject's
 * timepoints and registry row; and the CSV table both exports write through libcsv, so that quoting is
 * libcsv's (RFC 4180) and not ours. */
#include "export_internal.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/recist.h"

static int position_rank(const char *p) {
  if (!p[0]) return 0;                 /* site */
  if (p[0] == 'R') return atoi(p + 1); /* R1, R2, … */
  return 1000;                         /* ADJ */
}

static int cmp_read(const void *a, const void *b) {
  const export_read *x = a, *y = b;
  int c = strcmp(x->subject_id, y->subject_id);
  if (c) return c;
  c = position_rank(x->position) - position_rank(y->position);
  if (c) return c;
  return strcmp(x->reader, y->reader);
}

static export_read *find_read(export_reads *r, const char *subject, const char *role, const char *reader) {
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->items[i].subject_id, subject) && !strcmp(r->items[i].role, role) &&
        !strcmp(r->items[i].reader, reader))
      return &r->items[i];
  return NULL;
}

/* Adds the reads of one rcy_review_reads list (new ones only); `accepted` flags them as final. */
static int add_list(export_reads *r, rcy_store *store, const rcy_review_settings *s, const char *which,
                    rcy_error *err) {
  json_t *list = NULL;
  int rc = rcy_review_reads(&list, store, s, which, err);
  if (rc) return rc;
  size_t i;
  json_t *in;
  json_array_foreach(list, i, in) {
    const char *subject = json_string_value(json_object_get(in, "subject_id"));
    const char *role = json_string_value(json_object_get(in, "role"));
    const char *reader = json_string_value(json_object_get(in, "reader"));
    const char *acceptance = json_string_value(json_object_get(in, "acceptance"));
    if (!subject || !role || !reader) continue;
    export_read *e = find_read(r, subject, role, reader);
    if (!e) {
      export_read *items = realloc(r->items, (r->n + 1) * sizeof *items);
      if (!items) {
        json_decref(list);
        return rcy_error_set(err, RCY_ENOMEM, "out of memory");
      }
      r->items = items;
      e = &r->items[r->n++];
      memset(e, 0, sizeof *e);
      snprintf(e->subject_id, sizeof e->subject_id, "%s", subject);
      snprintf(e->role, sizeof e->role, "%s", role);
      snprintf(e->reader, sizeof e->reader, "%s", reader);
      e->input = json_deep_copy(in);
      json_object_del(e->input, "role");
      json_object_del(e->input, "reader");
      json_object_del(e->input, "acceptance");
    }
    if (!strcmp(which, "central") && acceptance) {
      e->accepted = true;
      snprintf(e->acceptance, sizeof e->acceptance, "%s", acceptance);
    }
  }
  json_decref(list);
  return RCY_OK;
}

/* R1/R2/… from the subject's central readers in review order; ADJ for the adjudicator's own read. */
static int set_position(export_read *e, rcy_store *store, rcy_error *err) {
  if (!strcmp(e->role, "site")) return RCY_OK;
  if (!strcmp(e->role, "adjudicator")) {
    snprintf(e->position, sizeof e->position, "ADJ");
    return RCY_OK;
  }
  json_t *names = NULL;
  int rc = rcy_review_readers(&names, store, e->subject_id, err);
  if (rc) return rc;
  size_t i, pos = json_array_size(names);
  json_t *n;
  json_array_foreach(names, i, n) if (!strcmp(json_string_value(n) ? json_string_value(n) : "", e->reader))
      pos = i;
  json_decref(names);
  snprintf(e->position, sizeof e->position, "R%zu", pos + 1);
  return RCY_OK;
}

static int complete(export_read *e, rcy_store *store, rcy_error *err) {
  int rc = set_position(e, store, err);
  if (rc) return rc;
  char *msg = NULL;
  if (rcy_reads_engine_run(&e->result, &msg, e->input)) {
    rc = rcy_error_set(err, RCY_EINVAL, "%s (%s read %s): %s", e->subject_id, e->role, e->reader,
                       msg ? msg : "the engine failed");
    free(msg);
    return rc;
  }
  if ((rc = rcy_reads_timepoints_load(&e->tps, store, e->subject_id, err))) return rc;
  rcy_error e2 = {0};
  rc = rcy_store_registry_get(&e->registry, store, e->subject_id, &e2);
  if (rc == RCY_OK)
    e->has_registry = true;
  else if (rc != RCY_ENOTFOUND) {
    if (err) *err = e2;
    return rc;
  }
  int found = 0;
  if ((rc = rcy_store_subject_site(&found, e->site_id, store, e->subject_id, err))) return rc;
  if (!found && e->has_registry) snprintf(e->site_id, sizeof e->site_id, "%s", e->registry.site_id);
  return RCY_OK;
}

int export_reads_collect(export_reads *out, rcy_store *store, const char *which, rcy_error *err) {
  memset(out, 0, sizeof *out);
  bool site = !strcmp(which, "site") || !strcmp(which, "all");
  bool central = !strcmp(which, "central") || !strcmp(which, "all");
  if (!site && !central)
    return rcy_error_set(err, RCY_EINVAL, "reader must be site, central or all, not '%s'", which);
  rcy_review_settings s;
  int rc = rcy_review_settings_load(&s, store, err);
  if (!rc && site) rc = add_list(out, store, &s, "site", err);
  if (!rc && central) rc = add_list(out, store, &s, "central", err);
  if (!rc && central) rc = add_list(out, store, &s, "r1", err);
  if (!rc && central) rc = add_list(out, store, &s, "r2", err);
  for (size_t i = 0; !rc && i < out->n; i++)
    rc = complete(&out->items[i], store, err);
  if (rc) {
    export_reads_free(out);
    return rc;
  }
  if (out->n) qsort(out->items, out->n, sizeof *out->items, cmp_read);
  return RCY_OK;
}

void export_reads_free(export_reads *r) {
  for (size_t i = 0; i < r->n; i++) {
    json_decref(r->items[i].input);
    json_decref(r->items[i].result);
    rcy_reads_timepoints_free(&r->items[i].tps);
  }
  free(r->items);
  memset(r, 0, sizeof *r);
}

bool export_days_between(int *days, const char *from, const char *to) {
  int32_t a, b;
  if (!from || !to || rcy_recist_date_parse(&a, from, NULL) || rcy_recist_date_parse(&b, to, NULL))
    return false;
  *days = (int)(b - a);
  return true;
}

void export_number(char *buf, size_t size, double v) {
  if (!isfinite(v)) {
    if (size) buf[0] = 0;
    return;
  }
  double r = round(v * 10000.0) / 10000.0;
  if (r == 0) r = 0; /* no "-0" */
  snprintf(buf, size, "%.4f", r);
  char *dot = strchr(buf, '.');
  if (!dot) return;
  char *end = buf + strlen(buf) - 1;
  while (end > dot && *end == '0')
    *end-- = 0;
  if (end == dot) *end = 0;
}

void export_table_init(export_table *t, const char *const *cols, size_t n_cols) {
  memset(t, 0, sizeof *t);
  t->cols = cols;
  t->n_cols = n_cols;
}

long export_table_row(export_table *t) {
  if (t->n_rows == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    char **cells = realloc(t->cells, cap * t->n_cols * sizeof *cells);
    if (!cells) return -1;
    t->cells = cells;
    t->cap = cap;
  }
  memset(t->cells + t->n_rows * t->n_cols, 0, t->n_cols * sizeof *t->cells);
  return (long)t->n_rows++;
}

static long col_index(const export_table *t, const char *col) {
  for (size_t i = 0; i < t->n_cols; i++)
    if (!strcmp(t->cols[i], col)) return (long)i;
  return -1;
}

int export_table_set(export_table *t, long row, const char *col, const char *value) {
  long c = col_index(t, col);
  if (c < 0 || row < 0 || (size_t)row >= t->n_rows) return RCY_EINTERNAL;
  char **cell = &t->cells[(size_t)row * t->n_cols + (size_t)c];
  free(*cell);
  *cell = NULL;
  if (value && value[0] && !(*cell = strdup(value))) return RCY_ENOMEM;
  return RCY_OK;
}

const char *export_table_get(const export_table *t, size_t row, const char *col) {
  long c = col_index(t, col);
  if (c < 0 || row >= t->n_rows) return NULL;
  return t->cells[row * t->n_cols + (size_t)c];
}

int export_csv_record(FILE *f, const char *const *fields, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *v = fields[i] ? fields[i] : "";
    if (i && fputc(',', f) == EOF) return RCY_EIO;
    if (csv_fwrite(f, v, strlen(v))) return RCY_EIO;
  }
  return fputs("\r\n", f) == EOF ? RCY_EIO : RCY_OK;
}

int export_table_write(const export_table *t, const char *path, rcy_error *err) {
  FILE *f = fopen(path, "wb");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  int rc = export_csv_record(f, t->cols, t->n_cols);
  for (size_t r = 0; !rc && r < t->n_rows; r++)
    rc = export_csv_record(f, (const char *const *)(t->cells + r * t->n_cols), t->n_cols);
  if (fclose(f) && !rc) rc = RCY_EIO;
  return rc ? rcy_error_set(err, rc, "cannot write %s", path) : RCY_OK;
}

void export_table_free(export_table *t) {
  for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
    free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof *t);
}
