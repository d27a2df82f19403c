/* The analysed cohort: registry rows matched with reads by subject_id. The rules of
 * registry-endpoints.md that join the two: the registry's treatment start is the one the engine uses (a
 * read that gives another is flagged so the caller can warn), a read of a subject the registry does not
 * know is an error naming it, and so is a second read of the same subject. Rows are kept sorted for
 * binary search (10 000 subjects: no quadratic matching). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"

struct rcy_qa_cohort {
  rcy_registry_subject *rows;
  int32_t *start; /* parsed treatment start per row */
  bool *read;     /* the row has had its read */
  size_t n_rows;
  rcy_qa_endpoint_subject *subjects;
  size_t n_subjects;
  ptrdiff_t pending; /* row whose read is being evaluated (-1: none) */
};

static int row_cmp(const void *a, const void *b) {
  return strcmp(((const rcy_registry_subject *)a)->subject_id, ((const rcy_registry_subject *)b)->subject_id);
}

int rcy_qa_cohort_new(rcy_qa_cohort **out, const rcy_registry_subject *rows, size_t n_rows, rcy_error *err) {
  *out = NULL;
  rcy_qa_cohort *c = calloc(1, sizeof *c);
  if (!c) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  size_t n = n_rows ? n_rows : 1;
  c->rows = malloc(n * sizeof *c->rows);
  c->start = malloc(n * sizeof *c->start);
  c->read = calloc(n, sizeof *c->read);
  c->subjects = malloc(n * sizeof *c->subjects);
  if (!c->rows || !c->start || !c->read || !c->subjects) {
    rcy_qa_cohort_free(c);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  if (n_rows) memcpy(c->rows, rows, n_rows * sizeof *rows);
  c->n_rows = n_rows;
  c->pending = -1;
  qsort(c->rows, n_rows, sizeof *c->rows, row_cmp);
  for (size_t i = 0; i < n_rows; i++) {
    rcy_error e = {0};
    if (i > 0 && strcmp(c->rows[i].subject_id, c->rows[i - 1].subject_id) == 0) {
      rcy_error_set(err, RCY_EINVAL, "subject %.64s: more than one registry row", c->rows[i].subject_id);
      rcy_qa_cohort_free(c);
      return RCY_EINVAL;
    }
    if (rcy_recist_date_parse(&c->start[i], c->rows[i].treatment_start, &e)) {
      rcy_error_set(err, RCY_EINVAL, "subject %.64s: registry treatment_start: %s", c->rows[i].subject_id,
                    e.message);
      rcy_qa_cohort_free(c);
      return RCY_EINVAL;
    }
  }
  *out = c;
  return 0;
}

void rcy_qa_cohort_free(rcy_qa_cohort *c) {
  if (!c) return;
  free(c->rows);
  free(c->start);
  free(c->read);
  free(c->subjects);
  free(c);
}

int rcy_qa_cohort_treatment_start(int32_t *start_days, bool *read_differs, rcy_qa_cohort *c, const char *subject_id,
                                  bool has_read_start, int32_t read_start_days, rcy_error *err) {
  rcy_registry_subject key;
  snprintf(key.subject_id, sizeof key.subject_id, "%s", subject_id ? subject_id : "");
  const rcy_registry_subject *row =
      subject_id && strlen(subject_id) < sizeof key.subject_id
          ? bsearch(&key, c->rows, c->n_rows, sizeof *c->rows, row_cmp)
          : NULL;
  if (!row)
    return rcy_error_set(err, RCY_EINVAL, "subject %.64s: has a read but no registry row", subject_id ? subject_id : "?");
  size_t i = (size_t)(row - c->rows);
  if (c->read[i])
    return rcy_error_set(err, RCY_EINVAL, "subject %.64s: appears more than once in the reads", subject_id);
  c->read[i] = true;
  c->pending = (ptrdiff_t)i;
  *start_days = c->start[i];
  *read_differs = has_read_start && read_start_days != c->start[i];
  return 0;
}

int rcy_qa_cohort_time_subject(rcy_qa_cohort *cohort, rcy_recist_subject *subject, char *warning, size_t size,
                               rcy_error *err) {
  int32_t start;
  bool differs;
  warning[0] = '\0';
  int rc = rcy_qa_cohort_treatment_start(&start, &differs, cohort, subject->subject_id, subject->has_treatment_start,
                                         subject->treatment_start_days, err);
  if (rc) return rc;
  if (differs) {
    char a[11], b[11];
    rcy_recist_date_format(a, subject->treatment_start_days);
    rcy_recist_date_format(b, start);
    snprintf(warning, size, "subject %.64s: the read's treatment_start %s replaced by the registry's %s",
             subject->subject_id, a, b);
  }
  subject->has_treatment_start = true;
  subject->treatment_start_days = start;
  return 0;
}

int rcy_qa_cohort_add(rcy_qa_cohort *c, const rcy_recist_result *result, rcy_error *err) {
  if (c->pending < 0 || strcmp(c->rows[c->pending].subject_id, result->subject_id ? result->subject_id : "") != 0)
    return rcy_error_set(err, RCY_EINTERNAL, "internal error: result added without its treatment start");
  size_t i = (size_t)c->pending;
  c->pending = -1;
  int rc = rcy_qa_endpoint_subject_make(&c->subjects[c->n_subjects], result, &c->rows[i], c->start[i], err);
  if (rc) return rc;
  c->n_subjects++;
  return 0;
}

size_t rcy_qa_cohort_n_unread(const rcy_qa_cohort *c) {
  size_t n = 0;
  for (size_t i = 0; i < c->n_rows; i++) n += !c->read[i];
  return n;
}

int rcy_qa_cohort_endpoints(rcy_qa_endpoints **out, const rcy_qa_cohort *c, bool by_indication, rcy_error *err) {
  return rcy_qa_endpoints_compute(out, c->subjects, c->n_subjects, by_indication, err);
}

const rcy_registry_subject *rcy_qa_cohort_row(const rcy_qa_cohort *c, const char *subject_id) {
  rcy_registry_subject key;
  if (!subject_id || strlen(subject_id) >= sizeof key.subject_id) return NULL;
  snprintf(key.subject_id, sizeof key.subject_id, "%s", subject_id);
  return bsearch(&key, c->rows, c->n_rows, sizeof *c->rows, row_cmp);
}
