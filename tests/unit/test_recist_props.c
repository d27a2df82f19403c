/* Property tests over randomly generated subjects (fixed seeds, so every run checks the same 3000
 * subjects): invariants that must hold whatever the measurements are, computed here independently of
 * the engine where possible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "recist_builder.h"

#define N_SUBJECTS 3000

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) { /* xorshift64* */
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717ULL;
}
static double unif(rng *r) {
  return (double)(next(r) >> 11) / 9007199254740992.0;
}
static int pick(rng *r, int n) {
  return (int)(next(r) % (uint64_t)n);
}

static const char *tids[] = {"T1", "T2", "T3", "T4", "T5"};
static const char *nids[] = {"NT1", "NT2", "NT3"};
static const char *newids[] = {"N1", "N2", "N3"};
static const char *labels[] = {"BL", "FU1", "FU2", "FU3", "FU4", "FU5", "FU6", "FU7"};

typedef struct gen_opts {
  bool non_nodal_only; /* for scaling: nodal thresholds and too_small are absolute */
  bool all_liver;
} gen_opts;

/* A valid subject: ≤ 5 targets, ≤ 2 per organ, sizes within the baseline rules; a target merges only into
 * the other target of its organ (T2 -> T1, T4 -> T3), and only when that one is listed and not gone. */
static void generate(builder *b, rng *r, const gen_opts *g) {
  static const char *organs[] = {"liver", "liver", "lung", "lung", "bone"};
  b_init(b, "P");
  const int n_targets = pick(r, 6);
  const int n_nts = n_targets == 0 ? 1 + pick(r, 3) : pick(r, 4);
  const int n_assess = 2 + pick(r, 7);
  int day = 0;
  double size[5];
  b_at(b, "BL", day);
  for (int j = 0; j < n_targets; j++) {
    const bool nodal = !g->non_nodal_only && j == 4;
    size[j] = nodal ? 15 + pick(r, 40) : 10 + 0.5 * pick(r, 140);
    b_bl(b, tids[j],
         g->all_liver ? (j < 2   ? "liver"
                         : j < 4 ? "Liver"
                                 : "LIVER")
         : nodal      ? "lymph node"
                      : organs[j],
         nodal, size[j]);
  }
  if (g->all_liver && n_targets > 2) b->a[0].n_targets = 2; /* at most 2 per organ */
  for (int k = 0; k < n_nts; k++)
    b_nt(b, nids[k], g->all_liver ? "liver" : k == 0 ? "liver" : "peritoneum", RCY_RECIST_NON_TARGET_PRESENT);
  const size_t nt_bl = b->a[0].n_targets;
  for (int a = 1; a < n_assess; a++) {
    day += 28 + pick(r, 43);
    b_at(b, labels[a], day);
    int drawn[5] = {0};
    for (size_t j = 0; j < nt_bl; j++) {
      const int u = pick(r, 100);
      drawn[j] = u;
      size[j] *= 0.55 + 0.9 * unif(r);
      size[j] = round(size[j] * 2) / 2;
      if (u < 8)
        b_state(b, tids[j], RCY_RECIST_TARGET_DISAPPEARED);
      else if (u < 12 && !g->non_nodal_only)
        b_state(b, tids[j], RCY_RECIST_TARGET_TOO_SMALL);
      else if (u < 17)
        b_state(b, tids[j], RCY_RECIST_TARGET_NOT_EVALUABLE);
      else if (u < 21)
        b_frag(b, tids[j], round(size[j]) / 2, size[j] - round(size[j]) / 2);
      else if (u < 24 && j % 2 == 1 && drawn[j - 1] >= 8)
        b_merged(b, tids[j], tids[j - 1]); /* into its same-organ partner, when that one has not disappeared */
      else
        b_mm(b, tids[j], size[j]);
    }
    for (int k = 0; k < n_nts; k++) {
      const int u = pick(r, 100);
      b_nt(b, nids[k], NULL,
           u < 5    ? RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION
           : u < 12 ? RCY_RECIST_NON_TARGET_NOT_EVALUABLE
           : u < 45 ? RCY_RECIST_NON_TARGET_ABSENT
                    : RCY_RECIST_NON_TARGET_PRESENT);
    }
    const int u = pick(r, 100);
    if (u < 10) {
      const int which = pick(r, 3);
      b_new(b, newids[which],
            g->all_liver ? "liver"
            : which == 0 ? "liver"
                         : "lung",
            u < 6 ? RCY_RECIST_NEW_EQUIVOCAL : RCY_RECIST_NEW_UNEQUIVOCAL);
    }
  }
}

static int evaluate(rcy_recist_result *r, const builder *b, const rcy_recist_options *o) {
  rcy_error e;
  int rc = rcy_recist_evaluate(r, &b->s, o, &e);
  if (rc) fail_msg("generated subject rejected: %s", e.message);
  return rc;
}

/* SOD is the sum of its parts and the nadir is the smallest complete sum before, computed independently. */
static void test_sum_and_nadir_from_parts(void **state) {
  (void)state;
  rng r = {0x9E3779B97F4A7C15ULL};
  rcy_recist_result res;
  rcy_recist_result_init(&res);
  const gen_opts g = {false, false};
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    generate(&b, &r, &g);
    evaluate(&res, &b, NULL);
    const rcy_recist_assessment *bl = &b.a[0];
    double baseline = 0;
    for (size_t j = 0; j < bl->n_targets; j++)
      baseline += bl->targets[j].diameter_mm;
    double nadir = baseline;
    for (size_t a = 1; a < b.s.n_assessments; a++) {
      const rcy_recist_assessment *A = &b.a[a];
      double sum = 0;
      bool complete = bl->n_targets > 0;
      for (size_t j = 0; j < A->n_targets; j++) {
        const rcy_recist_target *t = &A->targets[j];
        switch (t->state) {
        case RCY_RECIST_TARGET_MEASURED: sum += t->diameter_mm; break;
        case RCY_RECIST_TARGET_TOO_SMALL: sum += 5.0; break;
        case RCY_RECIST_TARGET_FRAGMENTS: sum += t->fragments_mm[0] + t->fragments_mm[1]; break;
        case RCY_RECIST_TARGET_NOT_EVALUABLE: complete = false; break;
        default: break;
        }
      }
      const rcy_recist_timepoint *tp = &res.timepoints[a];
      assert_int_equal(tp->has_sum, complete);
      if (complete) assert_true(fabs(tp->sum_mm - sum) < 1e-9);
      if (bl->n_targets) assert_true(fabs(tp->nadir_mm - nadir) < 1e-9);
      assert_true(tp->evaluable_sum_mm <= baseline * 10 + 1e-9);
      if (complete && sum < nadir) nadir = sum;
    }
  }
  rcy_recist_result_free(&res);
}

/* Overall PD ⇔ target PD, non-target PD or an unequivocal new lesion; the first PD is the progression. */
static void test_overall_pd_iff_a_reason(void **state) {
  (void)state;
  rng r = {12345};
  rcy_recist_result res;
  rcy_recist_result_init(&res);
  const gen_opts g = {false, false};
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    generate(&b, &r, &g);
    evaluate(&res, &b, NULL);
    size_t first_pd = 0;
    for (size_t a = 1; a < res.n_timepoints; a++) {
      const rcy_recist_timepoint *t = &res.timepoints[a];
      const bool reason =
          t->target_response == RCY_RECIST_PD || t->non_target_response == RCY_RECIST_PD || t->new_lesions;
      assert_int_equal(t->overall_response == RCY_RECIST_PD, reason);
      if (reason && !first_pd) first_pd = a;
    }
    assert_int_equal(res.progression.present, first_pd != 0);
    if (first_pd) {
      assert_int_equal(res.progression.confirmed_index, first_pd);
      assert_true(res.progression.index <= first_pd);
      assert_true(res.progression.reasons != 0);
    }
    if (res.best_overall_response == RCY_RECIST_PD) assert_true(res.progression.present);
  }
  rcy_recist_result_free(&res);
}

/* The BOR only looks up to the first PD: what follows cannot change it. */
static void test_bor_ignores_everything_after_first_pd(void **state) {
  (void)state;
  rng r = {777};
  rcy_recist_result res, cut;
  rcy_recist_result_init(&res);
  rcy_recist_result_init(&cut);
  const gen_opts g = {false, false};
  int checked = 0;
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    generate(&b, &r, &g);
    evaluate(&res, &b, NULL);
    if (!res.progression.present || res.progression.confirmed_index + 1 >= b.s.n_assessments) continue;
    const size_t full = b.s.n_assessments;
    b.s.n_assessments = res.progression.confirmed_index + 1;
    evaluate(&cut, &b, NULL);
    b.s.n_assessments = full;
    assert_int_equal(cut.best_overall_response, res.best_overall_response);
    assert_int_equal(cut.progression.index, res.progression.index);
    assert_int_equal(cut.progression.reasons, res.progression.reasons);
    assert_int_equal(cut.depth_of_response.present, res.depth_of_response.present);
    if (cut.depth_of_response.present) assert_true(cut.depth_of_response.pct == res.depth_of_response.pct);
    checked++;
  }
  assert_true(checked > 100);
  rcy_recist_result_free(&res);
  rcy_recist_result_free(&cut);
}

static void scale(builder *b, double k) {
  for (size_t a = 0; a < b->s.n_assessments; a++)
    for (size_t j = 0; j < b->a[a].n_targets; j++) {
      b->t[a][j].diameter_mm *= k;
      b->frag[a][j][0] *= k;
      b->frag[a][j][1] *= k;
    }
}

/* Scaling every diameter by 2 or 4 (exact in binary) keeps every response, unless the absolute 5 mm part
 * of the PD rule decides differently at the two scales (then the subject is skipped, and counted). */
static void test_scaling_keeps_responses(void **state) {
  (void)state;
  rng r = {4242};
  rcy_recist_result res, big;
  rcy_recist_result_init(&res);
  rcy_recist_result_init(&big);
  const gen_opts g = {true, false};
  int skipped = 0, compared = 0;
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    generate(&b, &r, &g);
    evaluate(&res, &b, NULL);
    for (double k = 2; k <= 4; k *= 2) {
      builder s = b;
      /* the builder holds pointers into itself: re-point them at the copy */
      s.s.assessments = s.a;
      for (size_t a = 0; a < s.s.n_assessments; a++) {
        s.a[a].targets = s.t[a];
        s.a[a].non_targets = s.n[a];
        s.a[a].new_lesions = s.w[a];
        for (size_t j = 0; j < s.a[a].n_targets; j++)
          if (s.t[a][j].fragments_mm) s.t[a][j].fragments_mm = s.frag[a][j];
      }
      scale(&s, k);
      evaluate(&big, &s, NULL);
      bool binding = false;
      for (size_t a = 1; a < res.n_timepoints; a++) {
        const rcy_recist_timepoint *x = &res.timepoints[a], *y = &big.timepoints[a];
        const bool ratio = 5 * x->evaluable_sum_mm >= 6 * x->nadir_mm - 1e-9;
        const bool abs_x = x->evaluable_sum_mm - x->nadir_mm >= 5 - 1e-9;
        const bool abs_y = y->evaluable_sum_mm - y->nadir_mm >= 5 - 1e-9;
        if (ratio && abs_x != abs_y) binding = true;
      }
      if (binding) {
        skipped++;
        continue;
      }
      compared++;
      for (size_t a = 1; a < res.n_timepoints; a++) {
        assert_int_equal(res.timepoints[a].target_response, big.timepoints[a].target_response);
        assert_int_equal(res.timepoints[a].overall_response, big.timepoints[a].overall_response);
        if (res.timepoints[a].has_change_from_baseline)
          assert_true(fabs(res.timepoints[a].change_from_baseline_pct -
                           big.timepoints[a].change_from_baseline_pct) < 1e-9);
      }
      assert_int_equal(res.best_overall_response, big.best_overall_response);
      assert_int_equal(res.progression.present, big.progression.present);
      assert_int_equal(res.early_tumour_shrinkage.present, big.early_tumour_shrinkage.present);
    }
  }
  assert_true(compared > 4 * skipped);
  rcy_recist_result_free(&res);
  rcy_recist_result_free(&big);
}

static int rank(rcy_recist_response r) {
  switch (r) {
  case RCY_RECIST_CR: return 5;
  case RCY_RECIST_PR: return 4;
  case RCY_RECIST_SD: return 3;
  case RCY_RECIST_NON_CR_NON_PD: return 2;
  case RCY_RECIST_PD: return 1;
  default: return 0;
  }
}

/* Confirmation can only lower the BOR; reusing a result gives identical output; lenient changes nothing
 * for valid input; with every lesion in the liver, hepatic progression is progression. */
static void test_confirmation_reuse_lenient_liver(void **state) {
  (void)state;
  rng r = {2026};
  rcy_recist_result a, b2, fresh;
  rcy_recist_result_init(&a);
  rcy_recist_result_init(&b2);
  rcy_recist_options conf, noconf, lenient;
  rcy_recist_options_default(&conf);
  noconf = conf;
  noconf.confirmation = false;
  lenient = conf;
  lenient.lenient = true;
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    const gen_opts g = {false, i % 2 == 1};
    generate(&b, &r, &g);
    evaluate(&a, &b, &conf);
    evaluate(&b2, &b, &noconf);
    assert_true(rank(b2.best_overall_response) >= rank(a.best_overall_response));
    evaluate(&b2, &b, &lenient);
    assert_int_equal(b2.n_warnings, a.n_warnings);
    assert_int_equal(b2.best_overall_response, a.best_overall_response);
    rcy_recist_result_init(&fresh);
    evaluate(&fresh, &b, &conf);
    assert_int_equal(fresh.n_timepoints, a.n_timepoints);
    for (size_t t = 0; t < a.n_timepoints; t++) {
      assert_int_equal(fresh.timepoints[t].overall_response, a.timepoints[t].overall_response);
      assert_true(fresh.timepoints[t].sum_mm == a.timepoints[t].sum_mm);
      assert_true(fresh.timepoints[t].nadir_mm == a.timepoints[t].nadir_mm);
    }
    rcy_recist_result_free(&fresh);
    if (g.all_liver) {
      assert_int_equal(a.hepatic_progression.present, a.progression.present);
      if (a.progression.present) {
        assert_int_equal(a.hepatic_progression.index, a.progression.index);
        assert_int_equal(a.hepatic_progression.reasons, a.progression.reasons);
      }
    }
  }
  rcy_recist_result_free(&a);
  rcy_recist_result_free(&b2);
}

/* A merge cycle between the two liver targets, at any follow-up of any subject, is refused (strict and
 * lenient alike) with a message naming subject, timepoint and both lesions; breaking the cycle (T2 measured)
 * makes the subject valid again. */
static void test_merge_cycles_refused(void **state) {
  (void)state;
  rng r = {0xA0761D6478BD642FULL};
  rcy_recist_result res;
  rcy_recist_result_init(&res);
  const gen_opts g = {false, true};
  int checked = 0;
  for (int i = 0; i < N_SUBJECTS; i++) {
    builder b;
    generate(&b, &r, &g);
    if (b.a[0].n_targets < 2) continue;
    const size_t a = 1 + (size_t)pick(&r, (int)b.s.n_assessments - 1);
    rcy_recist_target *t = b.t[a];
    t[0].state = t[1].state = RCY_RECIST_TARGET_MERGED;
    t[0].merged_into = "T2";
    t[1].merged_into = "T1";
    for (int lenient = 0; lenient < 2; lenient++) {
      rcy_recist_options o;
      rcy_recist_options_default(&o);
      o.lenient = lenient;
      rcy_error e = {0, ""};
      assert_int_equal(rcy_recist_evaluate(&res, &b.s, &o, &e), RCY_EINVAL);
      char want[160];
      snprintf(want, sizeof want, "subject P, timepoint %s, lesion T1: merged_into 'T2', but T2 is itself "
               "merged_into 'T1'", b.a[a].timepoint);
      if (strncmp(e.message, want, strlen(want)) != 0) fail_msg("%s", e.message);
    }
    t[1].state = RCY_RECIST_TARGET_MEASURED;
    t[1].diameter_mm = 12;
    evaluate(&res, &b, NULL);
    checked++;
  }
  assert_true(checked > N_SUBJECTS / 2);
  rcy_recist_result_free(&res);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sum_and_nadir_from_parts),
      cmocka_unit_test(test_overall_pd_iff_a_reason),
      cmocka_unit_test(test_bor_ignores_everything_after_first_pd),
      cmocka_unit_test(test_scaling_keeps_responses),
      cmocka_unit_test(test_confirmation_reuse_lenient_liver),
      cmocka_unit_test(test_merge_cycles_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
