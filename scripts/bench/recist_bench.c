/* Benchmark of the RECIST engine (scripts/bench/recist runs it).
 *
 * Generates a seeded cohort (default 100 000 subjects × 8 assessments, 1–5 targets, 0–3 non-targets,
 * occasional new lesions and unevaluable lesions) straight into engine structs, evaluates every subject
 * through the library with one reused result (the hot path), and prints subjects/s and assessments/s.
 * As the comparison peer measured in the same run, it also pushes a slice of the same cohort through the
 * CLI's JSON path (parse → evaluate → print, what `recistry recist` does) and prints the ratio.
 *   bench_recist [SUBJECTS [ASSESSMENTS [JSON_SUBJECTS]]] */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/reads.h"
#include "recistry/recist.h"

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}
static int pick(int n) {
  return (int)(next() % (uint64_t)n);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *tids[] = {"T1", "T2", "T3", "T4", "T5"};
static const char *organs[] = {"liver", "liver", "lung", "lymph node", "bone"};
static const char *ntids[] = {"NT1", "NT2", "NT3"};
static const char *labels[] = {"BL",  "FU1", "FU2",  "FU3",  "FU4",  "FU5",  "FU6",  "FU7",
                               "FU8", "FU9", "FU10", "FU11", "FU12", "FU13", "FU14", "FU15"};

typedef struct cohort {
  size_t n_subjects, n_assessments;
  rcy_recist_subject *subjects;
  rcy_recist_assessment *assessments;
  rcy_recist_target *targets;
  rcy_recist_non_target *non_targets;
  rcy_recist_new_lesion *new_lesions;
  char *ids;
} cohort;

static int generate(cohort *c, size_t n, size_t na) {
  c->n_subjects = n;
  c->n_assessments = na;
  c->subjects = calloc(n, sizeof *c->subjects);
  c->assessments = calloc(n * na, sizeof *c->assessments);
  c->targets = calloc(n * na * 5, sizeof *c->targets);
  c->non_targets = calloc(n * na * 3, sizeof *c->non_targets);
  c->new_lesions = calloc(n * na, sizeof *c->new_lesions);
  c->ids = calloc(n, 32);
  if (!c->subjects || !c->assessments || !c->targets || !c->non_targets || !c->new_lesions || !c->ids)
    return -1;
  for (size_t s = 0; s < n; s++) {
    snprintf(c->ids + 32 * s, 32, "S%03u-%06u", (unsigned)(s % 40), (unsigned)(s % 1000000));
    const int nt = 1 + pick(5), nn = pick(4);
    double size[5];
    rcy_recist_assessment *A = c->assessments + s * na;
    int day = 0;
    for (size_t a = 0; a < na; a++) {
      rcy_recist_target *T = c->targets + (s * na + a) * 5;
      rcy_recist_non_target *N = c->non_targets + (s * na + a) * 3;
      A[a].timepoint = labels[a];
      A[a].date_days = 18000 + day;
      day += 42 + pick(21);
      A[a].targets = T;
      A[a].n_targets = (size_t)nt;
      A[a].non_targets = N;
      A[a].n_non_targets = (size_t)nn;
      for (int j = 0; j < nt; j++) {
        T[j].lesion_id = tids[j];
        if (a == 0) {
          T[j].organ = organs[j];
          T[j].nodal = j == 3;
          size[j] = j == 3 ? 15 + pick(30) : 10 + pick(60);
          T[j].diameter_mm = size[j];
          continue;
        }
        const int u = pick(100);
        size[j] *= 0.6 + 0.01 * pick(70);
        if (u < 3)
          T[j].state = RCY_RECIST_TARGET_NOT_EVALUABLE;
        else if (u < 6)
          T[j].state = RCY_RECIST_TARGET_DISAPPEARED;
        else if (u < 8)
          T[j].state = RCY_RECIST_TARGET_TOO_SMALL;
        else
          T[j].diameter_mm = size[j];
      }
      for (int k = 0; k < nn; k++) {
        N[k].lesion_id = ntids[k];
        N[k].organ = a == 0 ? (k == 0 ? "liver" : "peritoneum") : NULL;
        const int u = pick(100);
        N[k].state = a == 0 || u > 40 ? RCY_RECIST_NON_TARGET_PRESENT
                     : u < 3          ? RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION
                     : u < 6          ? RCY_RECIST_NON_TARGET_NOT_EVALUABLE
                                      : RCY_RECIST_NON_TARGET_ABSENT;
      }
      if (a > 0 && pick(100) < 4) {
        rcy_recist_new_lesion *W = c->new_lesions + s * na + a;
        W->lesion_id = "N1";
        W->organ = pick(2) ? "liver" : "lung";
        W->state = pick(3) ? RCY_RECIST_NEW_UNEQUIVOCAL : RCY_RECIST_NEW_EQUIVOCAL;
        A[a].new_lesions = W;
        A[a].n_new_lesions = 1;
      }
    }
    c->subjects[s].subject_id = c->ids + 32 * s;
    c->subjects[s].assessments = A;
    c->subjects[s].n_assessments = na;
  }
  return 0;
}

static void cohort_free(cohort *c) {
  free(c->subjects);
  free(c->assessments);
  free(c->targets);
  free(c->non_targets);
  free(c->new_lesions);
  free(c->ids);
}

/* The input JSON of subjects [0, n): what `recistry recist` would be given. */
static char *to_json(const cohort *c, size_t n) {
  static const char *tstate[] = {NULL, "too_small", "disappeared", "not_evaluable"};
  static const char *nstate[] = {"present", "absent", "unequivocal_progression", "not_evaluable"};
  json_t *arr = json_array();
  char date[11];
  for (size_t s = 0; s < n; s++) {
    const rcy_recist_subject *S = &c->subjects[s];
    json_t *as = json_array();
    for (size_t a = 0; a < S->n_assessments; a++) {
      const rcy_recist_assessment *A = &S->assessments[a];
      json_t *t = json_array(), *nt = json_array(), *nw = json_array();
      for (size_t j = 0; j < A->n_targets; j++) {
        const rcy_recist_target *T = &A->targets[j];
        json_t *o = json_pack("{s:s}", "lesion_id", T->lesion_id);
        if (a == 0) {
          json_object_set_new(o, "organ", json_string(T->organ));
          json_object_set_new(o, "nodal", json_boolean(T->nodal));
        }
        if (T->state == RCY_RECIST_TARGET_MEASURED)
          json_object_set_new(o, "diameter_mm", json_real(T->diameter_mm));
        else
          json_object_set_new(o, "state", json_string(tstate[T->state]));
        json_array_append_new(t, o);
      }
      for (size_t k = 0; k < A->n_non_targets; k++) {
        const rcy_recist_non_target *N = &A->non_targets[k];
        json_t *o = json_pack("{s:s, s:s}", "lesion_id", N->lesion_id, "state", nstate[N->state]);
        if (N->organ) json_object_set_new(o, "organ", json_string(N->organ));
        json_array_append_new(nt, o);
      }
      for (size_t w = 0; w < A->n_new_lesions; w++)
        json_array_append_new(nw, json_pack("{s:s, s:s, s:s}", "lesion_id", A->new_lesions[w].lesion_id,
                                            "organ", A->new_lesions[w].organ, "state",
                                            A->new_lesions[w].state ? "unequivocal" : "equivocal"));
      rcy_recist_date_format(date, A->date_days);
      json_array_append_new(as, json_pack("{s:s, s:s, s:o, s:o, s:o}", "timepoint", A->timepoint, "date",
                                          date, "target", t, "non_target", nt, "new_lesions", nw));
    }
    json_array_append_new(arr, json_pack("{s:s, s:o}", "subject_id", S->subject_id, "assessments", as));
  }
  char *text = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  return text;
}

int main(int argc, char **argv) {
  const size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
  const size_t na = argc > 2 ? strtoul(argv[2], NULL, 10) : 8;
  size_t nj = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
  if (n == 0 || na < 1 || na > 16) {
    fprintf(stderr, "usage: bench_recist [SUBJECTS [ASSESSMENTS(1-16) [JSON_SUBJECTS]]]\n");
    return 2;
  }
  if (nj > n) nj = n;
  cohort c;
  if (generate(&c, n, na)) {
    fprintf(stderr, "bench_recist: out of memory\n");
    return 1;
  }

  rcy_recist_result r;
  rcy_recist_result_init(&r);
  rcy_recist_options o;
  rcy_recist_options_default(&o);
  rcy_error err;
  size_t bor[RCY_RECIST_RESPONSE_COUNT] = {0}, progressed = 0, failed = 0;
  const double t0 = now_s();
  for (size_t s = 0; s < n; s++) {
    if (rcy_recist_evaluate(&r, &c.subjects[s], &o, &err)) {
      if (!failed++) fprintf(stderr, "bench_recist: %s\n", err.message);
      continue;
    }
    bor[r.best_overall_response]++;
    progressed += r.progression.present;
  }
  const double lib_s = now_s() - t0;
  rcy_recist_result_free(&r);
  const double lib_subjects = (double)n / lib_s, lib_assess = (double)(n * na) / lib_s;

  char *json = to_json(&c, nj);
  char *out = NULL;
  rcy_recist_json_flags flags = {false, false, false};
  const double t1 = now_s();
  const int jrc = json ? rcy_recist_json_evaluate(&out, json, strlen(json), &flags, false, &err) : RCY_ENOMEM;
  const double json_s = now_s() - t1;
  if (jrc) fprintf(stderr, "bench_recist: JSON path failed: %s\n", err.message);
  const double json_subjects = (double)nj / json_s, json_assess = (double)(nj * na) / json_s;

  printf("cohort: %zu subjects x %zu assessments (seeded), %zu invalid, %zu progressed\n", n, na, failed,
         progressed);
  printf("BOR:");
  for (int i = 1; i < RCY_RECIST_RESPONSE_COUNT; i++)
    if (bor[i]) printf(" %s %zu", rcy_recist_response_name((rcy_recist_response)i), bor[i]);
  printf("\n");
  printf("library: %.3f s  %.0f subjects/s  %.0f assessments/s\n", lib_s, lib_subjects, lib_assess);
  printf("json:    %.3f s  %.0f subjects/s  %.0f assessments/s  (%zu subjects, %zu bytes in, %zu bytes out; "
         "parse+evaluate+print)\n",
         json_s, json_subjects, json_assess, nj, json ? strlen(json) : 0, out ? strlen(out) : 0);
  printf("ratio library/json: %.1fx\n", lib_assess / json_assess);
  printf("target >= 1000000 assessments/s on one core: %s\n", lib_assess >= 1e6 ? "met" : "NOT met");
  free(json);
  free(out);
  cohort_free(&c);
  return failed || jrc ? 1 : 0;
}
