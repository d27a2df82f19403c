/* rcy_recist_evaluate: one subject's reads → per-timepoint responses, BOR, ETS, DpR and progression.
 *
 * Three passes over the subject: (1) structural checks and the baseline rules (errors, or warnings when
 * lenient); (2) resolving every follow-up lesion to its baseline lesion once, into flat per-assessment
 * tables (target values in mm, NaN = not evaluable; non-target states; new-lesion flags with the first
 * sighting of each new lesion); (3) the rules run over those tables twice, for all lesions and for the
 * liver alone (hepatic progression). Buffers live in the result's workspace and are reused, so a warm
 * result evaluates a subject without allocating. */
#include "rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NT_MISSING 0xFF
#define NO_INDEX ((size_t)-1)

enum { NEW_UNEQ = 1, NEW_EQ = 2, NEW_UNEQ_LIVER = 4, NEW_EQ_LIVER = 8 };

typedef struct sighting {
  const char *lesion_id;
  const char *organ;
  size_t first; /* assessment of first sight */
} sighting;

/* Buffers reused across evaluations; each grows to the largest subject seen. */
struct rcy_recist_workspace {
  size_t cap_timepoints, cap_warnings;
  double *values; /* [assessment * n_targets + j] mm, NaN = not evaluable */
  size_t cap_values;
  unsigned char *nt_states; /* [assessment * n_non_targets + k] */
  size_t cap_nt_states;
  size_t *target_src, *nt_src; /* kept baseline lesions → index in the baseline arrays */
  unsigned char *target_nodal, *target_liver, *nt_liver, *seen;
  size_t cap_lesions;
  unsigned char *new_flags;                /* per assessment: NEW_* */
  size_t *first_sight, *first_sight_liver; /* per assessment: earliest first sight of an unequivocal one */
  rcy_recist_response *overall;            /* per assessment, for the BOR of one track */
  int32_t *dates;
  rcy_recist_timepoint *liver_tp;
  size_t cap_assessments;
  sighting *sightings;
  size_t cap_sightings, n_sightings;
};

typedef struct ctx {
  const rcy_recist_subject *s;
  const rcy_recist_options *o;
  rcy_recist_result *r;
  struct rcy_recist_workspace *ws;
  rcy_error *err;
  size_t n_targets, n_nts; /* kept baseline lesions */
  int32_t start_days;
} ctx;

/* Capacity for `need` elements: doubling from 8, so a warm workspace stops reallocating. */
static size_t capacity_for(size_t cap, size_t need) {
  size_t n = cap ? cap : 8;
  while (n < need)
    n *= 2;
  return n;
}

/* Reallocates `arr` (any pointer type) to `cap` elements; returns RCY_ENOMEM from the enclosing function
 * on failure, leaving `arr` valid. */
#define RESIZE(arr, cap)                                                                                     \
  do {                                                                                                       \
    void *q_ = realloc((arr), (cap) * sizeof *(arr));                                                        \
    if (!q_) return RCY_ENOMEM;                                                                              \
    (arr) = q_;                                                                                              \
  } while (0)

/* Makes room for `need` elements in `arr`, whose capacity is the lvalue `cap`. */
#define ENSURE(arr, cap, need)                                                                               \
  do {                                                                                                       \
    if ((need) > (cap) || !(arr)) {                                                                          \
      const size_t n_ = capacity_for((cap), (need));                                                         \
      RESIZE(arr, n_);                                                                                       \
      (cap) = n_;                                                                                            \
    }                                                                                                        \
  } while (0)

/* The per-lesion arrays share one capacity. */
static int grow_lesion_arrays(struct rcy_recist_workspace *ws, size_t need) {
  if (need <= ws->cap_lesions && ws->target_src) return 0;
  const size_t cap = capacity_for(ws->cap_lesions, need);
  RESIZE(ws->target_src, cap);
  RESIZE(ws->nt_src, cap);
  RESIZE(ws->target_nodal, cap);
  RESIZE(ws->target_liver, cap);
  RESIZE(ws->nt_liver, cap);
  RESIZE(ws->seen, cap);
  ws->cap_lesions = cap;
  return 0;
}

/* So do the per-assessment ones, and the tables sized by assessments × lesions. */
static int grow_assessment_arrays(rcy_recist_result *r, struct rcy_recist_workspace *ws, size_t n,
                                  size_t n_targets, size_t n_nts) {
  ENSURE(r->timepoints, ws->cap_timepoints, n);
  ENSURE(ws->values, ws->cap_values, n * n_targets + 1);
  ENSURE(ws->nt_states, ws->cap_nt_states, n * n_nts + 1);
  if (n <= ws->cap_assessments && ws->new_flags) return 0;
  const size_t cap = capacity_for(ws->cap_assessments, n);
  RESIZE(ws->new_flags, cap);
  RESIZE(ws->first_sight, cap);
  RESIZE(ws->first_sight_liver, cap);
  RESIZE(ws->overall, cap);
  RESIZE(ws->dates, cap);
  RESIZE(ws->liver_tp, cap);
  ws->cap_assessments = cap;
  return 0;
}

static int add_warning_slot(rcy_recist_result *r, struct rcy_recist_workspace *ws) {
  ENSURE(r->warnings, ws->cap_warnings, r->n_warnings + 1);
  return 0;
}

static int add_sighting_slot(struct rcy_recist_workspace *ws) {
  ENSURE(ws->sightings, ws->cap_sightings, ws->n_sightings + 1);
  return 0;
}

void rcy_recist_options_default(rcy_recist_options *o) {
  o->confirmation = true;
  o->confirmation_min_days = 28;
  o->sd_min_days = 42;
  o->ets_window_min_days = 28;
  o->ets_window_max_days = 56;
  o->lenient = false;
}

void rcy_recist_result_init(rcy_recist_result *r) {
  memset(r, 0, sizeof *r);
}

void rcy_recist_result_free(rcy_recist_result *r) {
  if (!r) return;
  struct rcy_recist_workspace *ws = r->workspace_;
  if (ws) {
    free(ws->values);
    free(ws->nt_states);
    free(ws->target_src);
    free(ws->nt_src);
    free(ws->target_nodal);
    free(ws->target_liver);
    free(ws->nt_liver);
    free(ws->seen);
    free(ws->new_flags);
    free(ws->first_sight);
    free(ws->first_sight_liver);
    free(ws->overall);
    free(ws->dates);
    free(ws->liver_tp);
    free(ws->sightings);
    free(ws);
  }
  free(r->timepoints);
  free(r->warnings);
  memset(r, 0, sizeof *r);
}

/* ---- messages ------------------------------------------------------------------------------------- */

static const char *label(const ctx *c, size_t a) {
  const char *t = c->s->assessments[a].timepoint;
  return t && *t ? t : "?";
}

/* "subject S, timepoint T, lesion L: what" — the prefix every message carries. */
static void vformat(char *buf, size_t size, const ctx *c, size_t a, const char *lesion, const char *fmt,
                    va_list ap) {
  int n;
  const char *sid = c->s->subject_id && *c->s->subject_id ? c->s->subject_id : "?";
  if (a == NO_INDEX)
    n = snprintf(buf, size, "subject %s: ", sid);
  else if (!lesion)
    n = snprintf(buf, size, "subject %s, timepoint %s: ", sid, label(c, a));
  else
    n = snprintf(buf, size, "subject %s, timepoint %s, lesion %s: ", sid, label(c, a),
                 *lesion ? lesion : "?");
  if (n < 0) n = 0;
  if ((size_t)n < size) vsnprintf(buf + n, size - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 5, 6))) static int fail(const ctx *c, size_t a, const char *lesion, int code,
                                                      const char *fmt, ...) {
  if (c->err) {
    va_list ap;
    va_start(ap, fmt);
    vformat(c->err->message, sizeof c->err->message, c, a, lesion, fmt, ap);
    va_end(ap);
    c->err->code = code;
  }
  return code;
}

static int add_warning_v(const ctx *c, size_t a, const char *lesion, const char *fmt, va_list ap) {
  rcy_recist_result *r = c->r;
  if (add_warning_slot(r, c->ws)) return fail(c, a, lesion, RCY_ENOMEM, "out of memory");
  vformat(r->warnings[r->n_warnings++], RCY_ERROR_MESSAGE_MAX, c, a, lesion, fmt, ap);
  return 0;
}

__attribute__((format(printf, 4, 5))) static int warn(const ctx *c, size_t a, const char *lesion,
                                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = add_warning_v(c, a, lesion, fmt, ap);
  va_end(ap);
  return rc;
}

/* A rule the contract lets --lenient downgrade: an error, or a warning when lenient (returns 0). */
__attribute__((format(printf, 4, 5))) static int issue(const ctx *c, size_t a, const char *lesion,
                                                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc;
  if (c->o->lenient) {
    rc = add_warning_v(c, a, lesion, fmt, ap);
  } else {
    if (c->err) {
      vformat(c->err->message, sizeof c->err->message, c, a, lesion, fmt, ap);
      c->err->code = RCY_EINVAL;
    }
    rc = RCY_EINVAL;
  }
  va_end(ap);
  return rc;
}

/* ---- pass 1: structure and baseline rules --------------------------------------------------------- */

/* Bounded so that sums and percentages stay finite whatever the input (no lesion is 10 m long). */
static bool valid_mm(double mm) {
  return mm >= 0 && mm <= RCY_RECIST_MAX_MM;
}

static bool is_liver(const char *organ) {
  return organ && strcasecmp(organ, "liver") == 0;
}
static bool empty(const char *s) {
  return !s || !*s;
}

static int check_structure(ctx *c) {
  const rcy_recist_subject *s = c->s;
  const rcy_recist_options *o = c->o;
  if (empty(s->subject_id)) return fail(c, NO_INDEX, NULL, RCY_EINVAL, "missing subject_id");
  if (o->confirmation_min_days < 0 || o->sd_min_days < 0 || o->ets_window_min_days < 0 ||
      o->ets_window_max_days < o->ets_window_min_days)
    return fail(c, NO_INDEX, NULL, RCY_EINVAL,
                "invalid options (day counts must be >= 0 and ets_window_days [min, max] with min <= max)");
  if (s->n_assessments == 0 || !s->assessments)
    return fail(c, NO_INDEX, NULL, RCY_EINVAL, "no assessments (the first one is the baseline)");
  for (size_t a = 0; a < s->n_assessments; a++) {
    const rcy_recist_assessment *A = &s->assessments[a];
    if (empty(A->timepoint))
      return fail(c, a, NULL, RCY_EINVAL, "assessment %zu has no timepoint label", a + 1);
    for (size_t b = 0; b < a; b++)
      if (strcmp(s->assessments[b].timepoint, A->timepoint) == 0)
        return fail(c, a, NULL, RCY_EINVAL, "timepoint label used twice");
    if (a > 0 && A->date_days <= s->assessments[a - 1].date_days) {
      char d[11], p[11];
      rcy_recist_date_format(d, A->date_days);
      rcy_recist_date_format(p, s->assessments[a - 1].date_days);
      return fail(c, a, NULL, RCY_EINVAL,
                  "date %s is not after the previous assessment %s (%s): dates must "
                  "strictly increase",
                  d, label(c, a - 1), p);
    }
    if ((A->n_targets && !A->targets) || (A->n_non_targets && !A->non_targets) ||
        (A->n_new_lesions && !A->new_lesions))
      return fail(c, a, NULL, RCY_EINVAL, "lesion count without lesion array");
    for (size_t i = 0; i < A->n_targets; i++)
      if (empty(A->targets[i].lesion_id))
        return fail(c, a, NULL, RCY_EINVAL, "target lesion %zu has no lesion_id", i + 1);
    for (size_t i = 0; i < A->n_non_targets; i++)
      if (empty(A->non_targets[i].lesion_id))
        return fail(c, a, NULL, RCY_EINVAL, "non-target lesion %zu has no lesion_id", i + 1);
    for (size_t i = 0; i < A->n_new_lesions; i++)
      if (empty(A->new_lesions[i].lesion_id))
        return fail(c, a, NULL, RCY_EINVAL, "new lesion %zu has no lesion_id", i + 1);
  }
  return 0;
}

static const char *organ_group(const rcy_recist_target *t) {
  return t->nodal ? "lymph node" : t->organ;
}

static bool baseline_id_taken(const ctx *c, const char *id) {
  const rcy_recist_assessment *bl = &c->s->assessments[0];
  for (size_t j = 0; j < c->n_targets; j++)
    if (strcmp(bl->targets[c->ws->target_src[j]].lesion_id, id) == 0) return true;
  for (size_t k = 0; k < c->n_nts; k++)
    if (strcmp(bl->non_targets[c->ws->nt_src[k]].lesion_id, id) == 0) return true;
  return false;
}

static int check_baseline(ctx *c) {
  const rcy_recist_assessment *bl = &c->s->assessments[0];
  struct rcy_recist_workspace *ws = c->ws;
  int rc;
  if ((rc = grow_lesion_arrays(ws, bl->n_targets + bl->n_non_targets + 1)))
    return fail(c, 0, NULL, rc, "out of memory");
  c->n_targets = c->n_nts = 0;
  for (size_t i = 0; i < bl->n_targets; i++) {
    const rcy_recist_target *t = &bl->targets[i];
    if (t->state != RCY_RECIST_TARGET_MEASURED)
      return fail(c, 0, t->lesion_id, RCY_EINVAL, "a baseline target lesion must be measured (diameter_mm)");
    if (!valid_mm(t->diameter_mm))
      return fail(c, 0, t->lesion_id, RCY_EINVAL, "diameter_mm must be a number from 0 to %.0f",
                  RCY_RECIST_MAX_MM);
    if (empty(t->organ))
      return fail(c, 0, t->lesion_id, RCY_EINVAL, "a baseline target lesion needs its organ");
    if (baseline_id_taken(c, t->lesion_id)) {
      if ((rc = issue(c, 0, t->lesion_id, "duplicate lesion id at baseline"))) return rc;
      continue; /* lenient: the first lesion with that id is the one followed */
    }
    if (t->nodal && t->diameter_mm < RCY_RECIST_MIN_NODAL_MM - RCY_RECIST_EPS) {
      if ((rc = issue(c, 0, t->lesion_id, "nodal target short axis %.1f mm at baseline (must be >= 15 mm)",
                      t->diameter_mm)))
        return rc;
    } else if (!t->nodal && t->diameter_mm < RCY_RECIST_MIN_NON_NODAL_MM - RCY_RECIST_EPS) {
      if ((rc = issue(c, 0, t->lesion_id, "non-nodal target %.1f mm at baseline (must be >= 10 mm)",
                      t->diameter_mm)))
        return rc;
    }
    size_t same_organ = 0;
    for (size_t j = 0; j < c->n_targets; j++)
      if (strcasecmp(organ_group(&bl->targets[ws->target_src[j]]), organ_group(t)) == 0) same_organ++;
    if (same_organ == RCY_RECIST_MAX_TARGETS_PER_ORGAN &&
        (rc = issue(c, 0, t->lesion_id,
                    "more than %d target lesions in organ '%s' (all lymph nodes count as "
                    "one organ)",
                    RCY_RECIST_MAX_TARGETS_PER_ORGAN, organ_group(t))))
      return rc;
    if (c->n_targets == RCY_RECIST_MAX_TARGETS &&
        (rc = issue(c, 0, t->lesion_id, "more than %d target lesions at baseline", RCY_RECIST_MAX_TARGETS)))
      return rc;
    ws->target_src[c->n_targets] = i;
    ws->target_nodal[c->n_targets] = t->nodal;
    ws->target_liver[c->n_targets] = is_liver(t->organ) && !t->nodal;
    c->n_targets++;
  }
  for (size_t i = 0; i < bl->n_non_targets; i++) {
    const rcy_recist_non_target *n = &bl->non_targets[i];
    if (empty(n->organ))
      return fail(c, 0, n->lesion_id, RCY_EINVAL, "a baseline non-target lesion needs its organ");
    if (baseline_id_taken(c, n->lesion_id)) {
      if ((rc = issue(c, 0, n->lesion_id, "duplicate lesion id at baseline"))) return rc;
      continue;
    }
    if (n->state != RCY_RECIST_NON_TARGET_PRESENT &&
        (rc = issue(c, 0, n->lesion_id, "a baseline non-target lesion must be 'present'")))
      return rc;
    ws->nt_src[c->n_nts] = i;
    ws->nt_liver[c->n_nts] = is_liver(n->organ);
    c->n_nts++;
  }
  if (bl->n_new_lesions && (rc = issue(c, 0, bl->new_lesions[0].lesion_id,
                                       "new lesions cannot be recorded at baseline (ignored)")))
    return rc;
  if (c->n_targets == 0 && c->n_nts == 0 &&
      (rc = issue(c, 0, NULL, "no target or non-target lesion at baseline: response is not evaluable")))
    return rc;
  return 0;
}

/* ---- pass 2: resolve follow-ups ------------------------------------------------------------------- */

static size_t find_target(const ctx *c, const char *id, size_t hint) {
  const rcy_recist_target *bl = c->s->assessments[0].targets;
  const size_t *src = c->ws->target_src;
  if (hint < c->n_targets && strcmp(bl[src[hint]].lesion_id, id) == 0) return hint;
  for (size_t j = 0; j < c->n_targets; j++)
    if (strcmp(bl[src[j]].lesion_id, id) == 0) return j;
  return NO_INDEX;
}

static size_t find_nt(const ctx *c, const char *id, size_t hint) {
  const rcy_recist_non_target *bl = c->s->assessments[0].non_targets;
  const size_t *src = c->ws->nt_src;
  if (hint < c->n_nts && strcmp(bl[src[hint]].lesion_id, id) == 0) return hint;
  for (size_t k = 0; k < c->n_nts; k++)
    if (strcmp(bl[src[k]].lesion_id, id) == 0) return k;
  return NO_INDEX;
}

static int target_value(const ctx *c, size_t a, const rcy_recist_target *t, double *out) {
  switch (t->state) {
  case RCY_RECIST_TARGET_MEASURED:
    if (!valid_mm(t->diameter_mm))
      return fail(c, a, t->lesion_id, RCY_EINVAL, "diameter_mm must be a number from 0 to %.0f",
                  RCY_RECIST_MAX_MM);
    *out = t->diameter_mm;
    return 0;
  case RCY_RECIST_TARGET_TOO_SMALL: *out = RCY_RECIST_TOO_SMALL_MM; return 0;
  case RCY_RECIST_TARGET_DISAPPEARED: *out = 0.0; return 0;
  case RCY_RECIST_TARGET_NOT_EVALUABLE: *out = NAN; return 0;
  case RCY_RECIST_TARGET_FRAGMENTS: {
    if (t->n_fragments == 0 || !t->fragments_mm)
      return fail(c, a, t->lesion_id, RCY_EINVAL, "fragments_mm must list at least one fragment");
    double sum = 0;
    for (size_t i = 0; i < t->n_fragments; i++) {
      if (!valid_mm(t->fragments_mm[i]))
        return fail(c, a, t->lesion_id, RCY_EINVAL, "fragments_mm[%zu] must be a number from 0 to %.0f", i,
                    RCY_RECIST_MAX_MM);
      sum += t->fragments_mm[i];
    }
    *out = sum;
    return 0;
  }
  case RCY_RECIST_TARGET_MERGED:
    if (empty(t->merged_into))
      return fail(c, a, t->lesion_id, RCY_EINVAL, "merged_into must name a baseline target lesion");
    if (strcmp(t->merged_into, t->lesion_id) == 0)
      return fail(c, a, t->lesion_id, RCY_EINVAL, "merged_into names the lesion itself");
    if (find_target(c, t->merged_into, 0) == NO_INDEX)
      return fail(c, a, t->lesion_id, RCY_EINVAL, "merged_into '%.64s' is not a baseline target lesion",
                  t->merged_into);
    *out = 0.0; /* the coalesced lesion's size is recorded on merged_into */
    return 0;
  }
  return fail(c, a, t->lesion_id, RCY_EINVAL, "unknown target lesion state %d", (int)t->state);
}

/* The entry of lesion `id` in assessment A (the first one: a lenient duplicate is ignored), or NULL. */
static const rcy_recist_target *listed_target(const rcy_recist_assessment *A, const char *id) {
  for (size_t i = 0; i < A->n_targets; i++)
    if (strcmp(A->targets[i].lesion_id, id) == 0) return &A->targets[i];
  return NULL;
}

/* A coalesced lesion is measured once, on the target merged_into names; so that target must be a baseline
 * target of the same organ (nodes: all one organ), listed at this assessment, and neither merged itself
 * (a cycle T1 -> T2 -> T1 or a chain T1 -> T2 -> T3 would drop the lesion from the sum) nor disappeared.
 * target_value has already refused a merge into itself or into no baseline target. */
static int check_merges(const ctx *c, size_t a) {
  const rcy_recist_assessment *A = &c->s->assessments[a];
  const rcy_recist_target *bl = c->s->assessments[0].targets;
  for (size_t i = 0; i < A->n_targets; i++) {
    const rcy_recist_target *t = &A->targets[i];
    if (t->state != RCY_RECIST_TARGET_MERGED || listed_target(A, t->lesion_id) != t) continue;
    const size_t j = find_target(c, t->lesion_id, i), k = find_target(c, t->merged_into, 0);
    if (j == NO_INDEX || k == NO_INDEX) continue; /* lenient: an unknown lesion was ignored */
    const rcy_recist_target *from = &bl[c->ws->target_src[j]], *into = &bl[c->ws->target_src[k]];
    if (strcasecmp(organ_group(from), organ_group(into)) != 0)
      return fail(c, a, t->lesion_id, RCY_EINVAL,
                  "merged_into '%.64s' (organ '%.64s'), but %.64s is in organ '%.64s' (lesions coalesce within "
                  "one organ; all lymph nodes count as one organ)",
                  t->merged_into, organ_group(into), t->lesion_id, organ_group(from));
    const rcy_recist_target *u = listed_target(A, t->merged_into);
    if (!u)
      return fail(c, a, t->lesion_id, RCY_EINVAL,
                  "merged_into '%.64s', but %.64s is not assessed at this timepoint (the coalesced lesion is "
                  "measured on it)",
                  t->merged_into, t->merged_into);
    if (u->state == RCY_RECIST_TARGET_MERGED)
      return fail(c, a, t->lesion_id, RCY_EINVAL,
                  "merged_into '%.64s', but %.64s is itself merged_into '%.64s' at this timepoint (no cycles or "
                  "chains: the coalesced lesion is measured on one target)",
                  t->merged_into, t->merged_into, u->merged_into ? u->merged_into : "");
    if (u->state == RCY_RECIST_TARGET_DISAPPEARED)
      return fail(c, a, t->lesion_id, RCY_EINVAL,
                  "merged_into '%.64s', but %.64s is recorded as disappeared at this timepoint (the coalesced "
                  "lesion is measured on it)",
                  t->merged_into, t->merged_into);
  }
  return 0;
}

static int resolve_targets(ctx *c, size_t a) {
  const rcy_recist_assessment *A = &c->s->assessments[a];
  struct rcy_recist_workspace *ws = c->ws;
  double *row = ws->values + a * c->n_targets;
  int rc;
  memset(ws->seen, 0, c->n_targets);
  for (size_t i = 0; i < A->n_targets; i++) {
    const rcy_recist_target *t = &A->targets[i];
    size_t j = find_target(c, t->lesion_id, i);
    if (j == NO_INDEX) {
      rc = find_nt(c, t->lesion_id, 0) != NO_INDEX
               ? issue(c, a, t->lesion_id, "listed as a target but it is a baseline non-target lesion")
               : issue(c, a, t->lesion_id, "target lesion not present at baseline");
      if (rc) return rc;
      continue;
    }
    if (ws->seen[j]) {
      if ((rc = issue(c, a, t->lesion_id, "duplicate lesion id"))) return rc;
      continue;
    }
    ws->seen[j] = 1;
    if ((rc = target_value(c, a, t, &row[j]))) return rc;
  }
  if ((rc = check_merges(c, a))) return rc;
  for (size_t j = 0; j < c->n_targets; j++) {
    if (ws->seen[j]) continue;
    row[j] = NAN;
    if ((rc = warn(c, a, c->s->assessments[0].targets[ws->target_src[j]].lesion_id,
                   "target lesion not assessed: counted as not evaluable")))
      return rc;
  }
  return 0;
}

static int resolve_non_targets(ctx *c, size_t a) {
  const rcy_recist_assessment *A = &c->s->assessments[a];
  struct rcy_recist_workspace *ws = c->ws;
  unsigned char *row = ws->nt_states + a * c->n_nts;
  int rc;
  memset(row, NT_MISSING, c->n_nts);
  for (size_t i = 0; i < A->n_non_targets; i++) {
    const rcy_recist_non_target *n = &A->non_targets[i];
    if ((unsigned)n->state > RCY_RECIST_NON_TARGET_NOT_EVALUABLE)
      return fail(c, a, n->lesion_id, RCY_EINVAL, "unknown non-target state %d", (int)n->state);
    size_t k = find_nt(c, n->lesion_id, i);
    if (k == NO_INDEX) {
      rc = find_target(c, n->lesion_id, 0) != NO_INDEX
               ? issue(c, a, n->lesion_id, "listed as a non-target but it is a baseline target lesion")
               : issue(c, a, n->lesion_id, "non-target lesion not present at baseline");
      if (rc) return rc;
      continue;
    }
    if (row[k] != NT_MISSING) {
      if ((rc = issue(c, a, n->lesion_id, "duplicate lesion id"))) return rc;
      continue;
    }
    row[k] = (unsigned char)n->state;
  }
  for (size_t k = 0; k < c->n_nts; k++)
    if (row[k] == NT_MISSING && (rc = warn(c, a, c->s->assessments[0].non_targets[ws->nt_src[k]].lesion_id,
                                           "non-target lesion not assessed: counted as not evaluable")))
      return rc;
  return 0;
}

static int resolve_new_lesions(ctx *c, size_t a) {
  const rcy_recist_assessment *A = &c->s->assessments[a];
  struct rcy_recist_workspace *ws = c->ws;
  unsigned char flags = 0;
  size_t first = NO_INDEX, first_liver = NO_INDEX;
  int rc;
  for (size_t i = 0; i < A->n_new_lesions; i++) {
    const rcy_recist_new_lesion *n = &A->new_lesions[i];
    if ((unsigned)n->state > RCY_RECIST_NEW_UNEQUIVOCAL)
      return fail(c, a, n->lesion_id, RCY_EINVAL, "unknown new-lesion state %d", (int)n->state);
    bool dup = false;
    for (size_t p = 0; p < i && !dup; p++)
      dup = strcmp(A->new_lesions[p].lesion_id, n->lesion_id) == 0;
    if (dup) {
      if ((rc = issue(c, a, n->lesion_id, "duplicate lesion id"))) return rc;
      continue;
    }
    if (baseline_id_taken(c, n->lesion_id)) {
      if ((rc = issue(c, a, n->lesion_id, "new lesion reuses the id of a baseline lesion"))) return rc;
      continue;
    }
    sighting *sg = NULL;
    for (size_t q = 0; q < ws->n_sightings && !sg; q++)
      if (strcmp(ws->sightings[q].lesion_id, n->lesion_id) == 0) sg = &ws->sightings[q];
    if (!sg) {
      if (add_sighting_slot(ws)) return fail(c, a, n->lesion_id, RCY_ENOMEM, "out of memory");
      sg = &ws->sightings[ws->n_sightings++];
      sg->lesion_id = n->lesion_id;
      sg->organ = NULL;
      sg->first = a;
    }
    if (!sg->organ && !empty(n->organ)) sg->organ = n->organ;
    const bool liver = is_liver(empty(n->organ) ? sg->organ : n->organ);
    if (n->state == RCY_RECIST_NEW_UNEQUIVOCAL) {
      flags |= NEW_UNEQ | (liver ? NEW_UNEQ_LIVER : 0);
      if (sg->first < first) first = sg->first;
      if (liver && sg->first < first_liver) first_liver = sg->first;
    } else {
      flags |= NEW_EQ | (liver ? NEW_EQ_LIVER : 0);
    }
  }
  ws->new_flags[a] = flags;
  ws->first_sight[a] = first;
  ws->first_sight_liver[a] = first_liver;
  return 0;
}

/* ---- pass 3: the rules over one track (all lesions, or the liver alone) ---------------------------- */

static double pct_change(double value, double reference) {
  return (value - reference) / reference * 100.0;
}

static void run_track(const ctx *c, bool liver, rcy_recist_timepoint *tp) {
  const struct rcy_recist_workspace *ws = c->ws;
  const rcy_recist_subject *s = c->s;
  const size_t nT = c->n_targets, nN = c->n_nts;
  size_t n_targets = 0, n_nts = 0;
  double baseline = 0;
  const rcy_recist_target *bl = s->assessments[0].targets;
  for (size_t j = 0; j < nT; j++) {
    if (liver && !ws->target_liver[j]) continue;
    n_targets++;
    baseline += bl[ws->target_src[j]].diameter_mm;
  }
  for (size_t k = 0; k < nN; k++)
    n_nts += !liver || ws->nt_liver[k];
  const bool has_targets = n_targets > 0;

  rcy_recist_timepoint *t0 = &tp[0];
  memset(t0, 0, sizeof *t0);
  t0->timepoint = s->assessments[0].timepoint;
  t0->date_days = s->assessments[0].date_days;
  t0->has_sum = t0->has_nadir = has_targets;
  t0->sum_mm = t0->evaluable_sum_mm = t0->nadir_mm = baseline;
  t0->has_change_from_baseline = t0->has_change_from_nadir = has_targets && baseline > 0;

  double nadir = baseline;
  for (size_t a = 1; a < s->n_assessments; a++) {
    rcy_recist_timepoint *t = &tp[a];
    const double *row = ws->values + a * nT;
    rcy_recist_target_facts tf = {has_targets, true, 0.0, true, true};
    for (size_t j = 0; j < nT; j++) {
      if (liver && !ws->target_liver[j]) continue;
      const double v = row[j];
      if (isnan(v)) {
        tf.complete = false;
        continue;
      }
      tf.sum_mm += v;
      if (ws->target_nodal[j]) {
        if (!(v < RCY_RECIST_NODAL_NORMAL_MM)) tf.nodes_all_normal = false;
      } else if (v != 0.0) {
        tf.non_nodal_all_zero = false;
      }
    }
    const unsigned char *nrow = ws->nt_states + a * nN;
    rcy_recist_non_target_facts nf = {n_nts, false, false, true};
    for (size_t k = 0; k < nN; k++) {
      if (liver && !ws->nt_liver[k]) continue;
      switch (nrow[k]) {
      case RCY_RECIST_NON_TARGET_ABSENT: break;
      case RCY_RECIST_NON_TARGET_PRESENT: nf.all_absent = false; break;
      case RCY_RECIST_NON_TARGET_UNEQUIVOCAL_PROGRESSION:
        nf.any_progression = true;
        nf.all_absent = false;
        break;
      default:
        nf.any_not_evaluable = true;
        nf.all_absent = false;
        break; /* not evaluable or not assessed */
      }
    }
    const unsigned char fl = ws->new_flags[a];
    t->timepoint = s->assessments[a].timepoint;
    t->date_days = s->assessments[a].date_days;
    t->has_sum = has_targets && tf.complete;
    t->sum_mm = t->has_sum ? tf.sum_mm : 0.0;
    t->evaluable_sum_mm = tf.sum_mm;
    t->has_nadir = has_targets;
    t->nadir_mm = nadir;
    t->has_change_from_baseline = t->has_sum && baseline > 0;
    t->change_from_baseline_pct = t->has_change_from_baseline ? pct_change(tf.sum_mm, baseline) : 0.0;
    t->has_change_from_nadir = t->has_sum && nadir > 0;
    t->change_from_nadir_pct = t->has_change_from_nadir ? pct_change(tf.sum_mm, nadir) : 0.0;
    t->target_response = rcy_recist_target_response(&tf, nadir, baseline);
    t->non_target_response = rcy_recist_non_target_response(&nf);
    t->new_lesions = (fl & (liver ? NEW_UNEQ_LIVER : NEW_UNEQ)) != 0;
    t->equivocal_new_lesions = (fl & (liver ? NEW_EQ_LIVER : NEW_EQ)) != 0;
    t->overall_response =
        rcy_recist_overall_response(has_targets, t->target_response, t->non_target_response, t->new_lesions);
    /* The nadir moves only on complete sums: an incomplete one would understate it. */
    if (t->has_sum && tf.sum_mm < nadir) nadir = tf.sum_mm;
  }
}

static rcy_recist_progression progression_of(const ctx *c, const rcy_recist_timepoint *tp, bool liver) {
  rcy_recist_progression p = {false, 0, 0, 0};
  for (size_t a = 1; a < c->s->n_assessments; a++) {
    if (tp[a].overall_response != RCY_RECIST_PD) continue;
    p.present = true;
    p.index = p.confirmed_index = a;
    if (tp[a].target_response == RCY_RECIST_PD) p.reasons |= RCY_RECIST_REASON_TARGET;
    if (tp[a].non_target_response == RCY_RECIST_PD) p.reasons |= RCY_RECIST_REASON_NON_TARGET;
    if (tp[a].new_lesions) {
      p.reasons |= RCY_RECIST_REASON_NEW_LESION;
      /* An unequivocal new lesion first seen as equivocal dates progression to that first sight. */
      const size_t first = liver ? c->ws->first_sight_liver[a] : c->ws->first_sight[a];
      if (first < a) p.index = first;
    }
    break;
  }
  return p;
}

static void early_shrinkage(const ctx *c, rcy_recist_result *r) {
  rcy_recist_ets *e = &r->early_tumour_shrinkage;
  memset(e, 0, sizeof *e);
  if (r->n_timepoints < 2) return;
  const rcy_recist_timepoint *bl = &r->timepoints[0], *fu = &r->timepoints[1];
  if (!bl->has_sum || bl->sum_mm <= 0 || !fu->has_sum || fu->target_response == RCY_RECIST_NE) return;
  e->present = true;
  e->index = 1;
  e->days = fu->date_days - c->start_days;
  e->in_window = e->days >= c->o->ets_window_min_days && e->days <= c->o->ets_window_max_days;
  e->change_pct = fu->change_from_baseline_pct;
  e->ets20 = rcy_recist_meets_ets20(fu->sum_mm, bl->sum_mm);
  e->ets30 = rcy_recist_meets_pr(fu->sum_mm, bl->sum_mm);
}

static void depth_of_response(const ctx *c, rcy_recist_result *r) {
  rcy_recist_dpr *d = &r->depth_of_response;
  memset(d, 0, sizeof *d);
  const rcy_recist_timepoint *tp = r->timepoints;
  if (!tp[0].has_sum || tp[0].sum_mm <= 0) return;
  const size_t last = r->progression.present ? r->progression.confirmed_index : r->n_timepoints - 1;
  for (size_t a = 1; a <= last && a < r->n_timepoints; a++) {
    if (!tp[a].has_sum) continue;
    if (!d->present || tp[a].sum_mm < tp[d->index].sum_mm) {
      d->present = true;
      d->index = a;
    }
  }
  if (!d->present) return;
  d->pct = (tp[0].sum_mm - tp[d->index].sum_mm) / tp[0].sum_mm * 100.0;
  d->time_to_nadir_days = tp[d->index].date_days - c->start_days;
}

static rcy_recist_response best_response(const ctx *c, const rcy_recist_result *r) {
  struct rcy_recist_workspace *ws = c->ws;
  for (size_t a = 0; a < r->n_timepoints; a++) {
    ws->overall[a] = r->timepoints[a].overall_response;
    ws->dates[a] = r->timepoints[a].date_days;
  }
  /* The window ends where progression is dated: responses recorded from then on cannot count. */
  const size_t end = r->progression.present ? r->progression.index : r->n_timepoints;
  return rcy_recist_best_response(ws->overall, ws->dates, end, r->progression.present,
                                  r->timepoints[0].has_sum, c->start_days, c->o);
}

int rcy_recist_evaluate(rcy_recist_result *r, const rcy_recist_subject *s, const rcy_recist_options *options,
                        rcy_error *err) {
  rcy_recist_options defaults;
  if (!options) {
    rcy_recist_options_default(&defaults);
    options = &defaults;
  }
  if (!r || !s) return rcy_error_set(err, RCY_EINVAL, "rcy_recist_evaluate: NULL result or subject");
  if (!r->workspace_) {
    r->workspace_ = calloc(1, sizeof *r->workspace_);
    if (!r->workspace_) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  ctx c = {s, options, r, r->workspace_, err, 0, 0, 0};
  r->subject_id = s->subject_id;
  r->n_timepoints = 0;
  r->n_warnings = 0;
  c.ws->n_sightings = 0;
  int rc;
  if ((rc = check_structure(&c))) return rc;
  c.start_days = s->has_treatment_start ? s->treatment_start_days : s->assessments[0].date_days;
  if ((rc = check_baseline(&c))) return rc;

  const size_t n = s->n_assessments;
  struct rcy_recist_workspace *ws = c.ws;
  if (grow_assessment_arrays(r, ws, n, c.n_targets, c.n_nts))
    return fail(&c, NO_INDEX, NULL, RCY_ENOMEM, "out of memory");
  ws->new_flags[0] = 0;
  ws->first_sight[0] = ws->first_sight_liver[0] = NO_INDEX;
  for (size_t a = 1; a < n; a++)
    if ((rc = resolve_targets(&c, a)) || (rc = resolve_non_targets(&c, a)) ||
        (rc = resolve_new_lesions(&c, a)))
      return rc;

  r->n_timepoints = n;
  run_track(&c, false, r->timepoints);
  r->progression = progression_of(&c, r->timepoints, false);
  run_track(&c, true, ws->liver_tp);
  r->hepatic_progression = progression_of(&c, ws->liver_tp, true);
  r->best_overall_response = best_response(&c, r);
  early_shrinkage(&c, r);
  depth_of_response(&c, r);
  return 0;
}
