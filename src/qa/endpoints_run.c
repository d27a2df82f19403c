/* One run of the registry endpoints over a set of reads and registry rows, shared by `recistry endpoints`
 * (both forms) and the workstation's GET /api/endpoints and /api/endpoints/subjects: the reads are evaluated
 * by the engine with the registry's treatment start (a warning where a read gave another), matched with the
 * registry (src/qa/cohort.c), then grouped (endpoints.c). With a subjects array, each subject's plot data
 * (endpoint_subjects.c) is appended as well. The archive form takes the reads of rcy_review_reads: the site
 * reads, or each subject's final central read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"
#include "recistry/reads.h"
#include "recistry/recist.h"

typedef struct {
  rcy_qa_cohort *cohort;
  json_t *subjects; /* NULL: not asked */
  rcy_qa_warn_fn warn;
  void *warn_ctx;
  int32_t start;
} run_ctx;

static int prepare(void *ctx, rcy_recist_subject *subject, rcy_error *err) {
  run_ctx *c = ctx;
  char warning[256];
  int rc = rcy_qa_cohort_time_subject(c->cohort, subject, warning, sizeof warning, err);
  if (rc) return rc;
  if (warning[0] && c->warn) c->warn(c->warn_ctx, warning);
  c->start = subject->treatment_start_days;
  return 0;
}

static int visit(void *ctx, const rcy_recist_subject *subject, const rcy_recist_result *result,
                 rcy_error *err) {
  (void)subject;
  run_ctx *c = ctx;
  if (c->subjects) {
    const rcy_registry_subject *row = rcy_qa_cohort_row(c->cohort, result->subject_id);
    json_t *s = NULL;
    int rc = row ? rcy_qa_endpoint_subject_json(&s, result, row, c->start, err)
                 : rcy_error_set(err, RCY_EINTERNAL, "internal error: no registry row for a read subject");
    if (rc) return rc;
    if (json_array_append_new(c->subjects, s)) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  return rcy_qa_cohort_add(c->cohort, result, err);
}

int rcy_qa_endpoints_run(rcy_qa_endpoints **out, size_t *n_unread, json_t **subjects,
                         const rcy_registry_subject *rows, size_t n_rows, const char *reads_text, size_t len,
                         bool by_indication, rcy_qa_warn_fn warn, void *warn_ctx, rcy_error *err) {
  if (out) *out = NULL;
  if (n_unread) *n_unread = 0;
  if (subjects) *subjects = NULL;
  run_ctx c = {.warn = warn, .warn_ctx = warn_ctx};
  int rc = rcy_qa_cohort_new(&c.cohort, rows, n_rows, err);
  if (!rc && subjects && !(c.subjects = json_array())) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  rcy_recist_json_flags flags = {0};
  if (!rc) rc = rcy_recist_json_each(reads_text, len, &flags, prepare, visit, &c, err);
  if (!rc && out) rc = rcy_qa_cohort_endpoints(out, c.cohort, by_indication, err);
  if (!rc && n_unread) *n_unread = rcy_qa_cohort_n_unread(c.cohort);
  if (!rc && subjects) {
    *subjects = c.subjects;
    c.subjects = NULL;
  }
  json_decref(c.subjects);
  rcy_qa_cohort_free(c.cohort);
  return rc;
}

typedef struct {
  rcy_registry_subject *rows;
  size_t n, cap;
} row_list;

static int collect_row(void *ctx, const rcy_registry_subject *s) {
  row_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    rcy_registry_subject *r = realloc(l->rows, cap * sizeof *r);
    if (!r) return RCY_ENOMEM;
    l->rows = r;
    l->cap = cap;
  }
  l->rows[l->n++] = *s;
  return 0;
}

int rcy_qa_registry_rows(rcy_registry_subject **rows, size_t *n_rows, rcy_store *store, rcy_error *err) {
  row_list l = {0};
  int rc = rcy_store_registry_each(store, collect_row, &l, err);
  if (rc == RCY_ENOMEM && (!err || !err->message[0])) rcy_error_set(err, rc, "out of memory");
  if (rc) {
    free(l.rows);
    l.rows = NULL;
    l.n = 0;
  }
  *rows = l.rows;
  *n_rows = l.n;
  return rc;
}

/* Which stored read each subject's plot data comes from ({"role", "reader"} of the export: the site read, or
 * the central reader whose read is final), so a click in a plot opens that read. The run keeps the reads'
 * order. */
static int add_read_of(json_t *subjects, const json_t *reads, rcy_error *err) {
  if (json_array_size(subjects) != json_array_size(reads))
    return rcy_error_set(err, RCY_EINTERNAL, "internal error: plot data and reads differ in number");
  size_t i;
  json_t *s;
  json_array_foreach(subjects, i, s) {
    const json_t *r = json_array_get(reads, i);
    const char *id = json_string_value(json_object_get(r, "subject_id"));
    const char *role = json_string_value(json_object_get(r, "role"));
    const char *reader = json_string_value(json_object_get(r, "reader"));
    if (!id || strcmp(id, json_string_value(json_object_get(s, "subject_id"))) != 0)
      return rcy_error_set(err, RCY_EINTERNAL, "internal error: plot data out of the reads' order");
    if (json_object_set_new(s, "read", json_pack("{s:s?,s:s?}", "role", role, "reader", reader)))
      return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  return 0;
}

int rcy_qa_endpoints_archive(rcy_qa_endpoints **out, size_t *n_unread, json_t **subjects, rcy_store *store,
                             const char *reader, bool by_indication, rcy_qa_warn_fn warn, void *warn_ctx,
                             rcy_error *err) {
  if (out) *out = NULL;
  if (subjects) *subjects = NULL;
  if (!reader || (strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0))
    return rcy_error_set(err, RCY_EINVAL, "reader must be site or central");
  rcy_registry_subject *rows = NULL;
  size_t n_rows = 0;
  rcy_review_settings s;
  json_t *reads = NULL;
  char *text = NULL;
  int rc = rcy_qa_registry_rows(&rows, &n_rows, store, err);
  if (!rc) rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&reads, store, &s, reader, err);
  if (!rc && !(text = json_dumps(reads, JSON_COMPACT))) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (!rc)
    rc = rcy_qa_endpoints_run(out, n_unread, subjects, rows, n_rows, text, strlen(text), by_indication, warn,
                              warn_ctx, err);
  if (!rc && subjects) rc = add_read_of(*subjects, reads, err);
  free(text);
  json_decref(reads);
  free(rows);
  return rc;
}

int rcy_qa_endpoints_archive_json(char **out_text, rcy_store *store, const char *reader, bool by_indication,
                                  bool pretty, rcy_qa_warn_fn warn, void *warn_ctx, rcy_error *err) {
  *out_text = NULL;
  rcy_qa_endpoints *e = NULL;
  int rc = rcy_qa_endpoints_archive(&e, NULL, NULL, store, reader, by_indication, warn, warn_ctx, err);
  if (!rc) rc = rcy_qa_endpoints_to_json(out_text, e, reader, pretty, err);
  rcy_qa_endpoints_free(e);
  return rc;
}
