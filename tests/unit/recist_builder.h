/* Test helper: builds rcy_recist_subject values in a few lines (fixed-size storage, no allocation), so each
 * RECIST test reads like the scenario it checks. Lesion calls apply to the last assessment added. */
#ifndef RECISTRY_TEST_RECIST_BUILDER_H
#define RECISTRY_TEST_RECIST_BUILDER_H

#include <string.h>

#include "recistry/recist.h"

#define B_MAX_ASSESSMENTS 24
#define B_MAX_LESIONS 12

typedef struct builder {
  rcy_recist_subject s;
  rcy_recist_assessment a[B_MAX_ASSESSMENTS];
  rcy_recist_target t[B_MAX_ASSESSMENTS][B_MAX_LESIONS];
  rcy_recist_non_target n[B_MAX_ASSESSMENTS][B_MAX_LESIONS];
  rcy_recist_new_lesion w[B_MAX_ASSESSMENTS][B_MAX_LESIONS];
  double frag[B_MAX_ASSESSMENTS][B_MAX_LESIONS][4];
} builder;

/* Baseline date: day 20000 (2024-10-04); dates below are days after it. */
#define B_DAY0 20000

static inline void b_init(builder *b, const char *subject_id) {
  memset(b, 0, sizeof *b);
  b->s.subject_id = subject_id;
  b->s.assessments = b->a;
}

static inline void b_start(builder *b, int day) {
  b->s.has_treatment_start = true;
  b->s.treatment_start_days = B_DAY0 + day;
}

static inline rcy_recist_assessment *b_last(builder *b) {
  return &b->a[b->s.n_assessments - 1];
}

static inline void b_at(builder *b, const char *label, int day) {
  size_t i = b->s.n_assessments++;
  b->a[i].timepoint = label;
  b->a[i].date_days = B_DAY0 + day;
  b->a[i].targets = b->t[i];
  b->a[i].non_targets = b->n[i];
  b->a[i].new_lesions = b->w[i];
}

static inline rcy_recist_target *b_target_slot(builder *b, const char *id) {
  rcy_recist_assessment *a = b_last(b);
  rcy_recist_target *t = &b->t[b->s.n_assessments - 1][a->n_targets++];
  memset(t, 0, sizeof *t);
  t->lesion_id = id;
  return t;
}

/* Baseline target. */
static inline void b_bl(builder *b, const char *id, const char *organ, bool nodal, double mm) {
  rcy_recist_target *t = b_target_slot(b, id);
  t->organ = organ;
  t->nodal = nodal;
  t->diameter_mm = mm;
}

static inline void b_mm(builder *b, const char *id, double mm) {
  b_target_slot(b, id)->diameter_mm = mm;
}

static inline void b_state(builder *b, const char *id, rcy_recist_target_state st) {
  b_target_slot(b, id)->state = st;
}

static inline void b_frag(builder *b, const char *id, double f1, double f2) {
  rcy_recist_target *t = b_target_slot(b, id);
  size_t i = b->s.n_assessments - 1, j = (size_t)(t - b->t[i]);
  b->frag[i][j][0] = f1;
  b->frag[i][j][1] = f2;
  t->state = RCY_RECIST_TARGET_FRAGMENTS;
  t->fragments_mm = b->frag[i][j];
  t->n_fragments = 2;
}

static inline void b_merged(builder *b, const char *id, const char *into) {
  rcy_recist_target *t = b_target_slot(b, id);
  t->state = RCY_RECIST_TARGET_MERGED;
  t->merged_into = into;
}

static inline void b_nt(builder *b, const char *id, const char *organ, rcy_recist_non_target_state st) {
  rcy_recist_assessment *a = b_last(b);
  rcy_recist_non_target *n = &b->n[b->s.n_assessments - 1][a->n_non_targets++];
  n->lesion_id = id;
  n->organ = organ;
  n->state = st;
}

static inline void b_new(builder *b, const char *id, const char *organ, rcy_recist_new_lesion_state st) {
  rcy_recist_assessment *a = b_last(b);
  rcy_recist_new_lesion *n = &b->w[b->s.n_assessments - 1][a->n_new_lesions++];
  n->lesion_id = id;
  n->organ = organ;
  n->state = st;
}

/* One result and one error per test file, reset around each test (cmocka setup/teardown). */
static rcy_recist_result R __attribute__((unused));
static rcy_error E __attribute__((unused));

static inline int b_setup(void **state) {
  (void)state;
  rcy_recist_result_init(&R);
  memset(&E, 0, sizeof E);
  return 0;
}

static inline int b_teardown(void **state) {
  (void)state;
  rcy_recist_result_free(&R);
  return 0;
}

#endif
