/* The synthetic cohort: who the subjects are (site, trial subject ID, modality), when they are imaged
 * (baseline, then a first follow-up 4-8 weeks after treatment start and the next ones every 6-10 weeks),
 * which lesions they carry and how those change under each response scenario. Everything is drawn from
 * a stream keyed by (seed, subject index), so a subject is the same whatever the cohort size.
 * Lesion sizes are kept to 0.1 mm: the truth, the painted ellipsoids and the perfect read all use them. */
#include "sample_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const scenario_names[SC_COUNT] = {
    "partial_response", "progression_new_lesion", "complete_response_nodes", "progression_growth",
    "stable_disease",   "equivocal_new_lesion_confirmed", "liver_only_progression"};

const char *scenario_name(scenario sc) { return sc < SC_COUNT ? scenario_names[sc] : "unknown"; }

const char *rcy_sample_scenario_name(int index) {
  return index >= 0 && index < SC_COUNT ? scenario_names[index] : NULL;
}

typedef enum { ORG_LIVER, ORG_LUNG, ORG_NODE } organ_kind;
static const struct {
  const char *organ;
  int nodal;
  uint8_t host;
  double hu, mr;
} organs[] = {
    {"liver", 0, TISSUE_LIVER, 40, 300},     /* hypodense colorectal metastasis (portal venous phase) */
    {"lung", 0, TISSUE_LUNG, 30, 380},       /* soft-tissue nodule in aerated lung */
    {"lymph node", 1, TISSUE_VFAT, 70, 450}, /* enhancing node in retroperitoneal/mesenteric fat */
};

static const char *const sites[] = {"S014", "S027", "S031"};

double subject_slice_z(const subject *s, int k) {
  double z = (k - (s->slices - 1) / 2.0) * s->thickness_mm;
  return s->z_centre_mm != 0 ? z + s->z_centre_mm : z; /* the cohort's heights stay bit-identical */
}

void subject_grid(plane_grid *g, const subject *s) {
  g->rows = g->columns = s->mr ? 256 : 512;
  g->dx_mm = s->fov_mm / g->columns;
  g->x0_mm = -s->fov_mm / 2 + g->dx_mm / 2;
  g->y0_mm = g->x0_mm;
}

int subject_lesion_shapes(shape *out, const subject *s, int tp) {
  int n = 0;
  for (int i = 0; i < s->n_les; i++) {
    const lesion *l = &s->les[i];
    if (l->long_mm[tp] <= 0) continue;
    shape *sh = &out[n++];
    memcpy(sh->c, l->c, sizeof sh->c);
    sh->r[0] = l->long_mm[tp] / 2;
    sh->r[1] = l->short_mm[tp] / 2;
    sh->r[2] = l->short_mm[tp] / 2 * l->cc_ratio;
    sh->theta = l->theta;
    sh->label = (uint8_t)(LABEL_LESION0 + i);
    sh->clip = 0;
  }
  return n;
}

static lesion *add_lesion(subject *s, prng *r, const char *id, lesion_role role, organ_kind k) {
  lesion *l = &s->les[s->n_les++];
  memset(l, 0, sizeof *l);
  snprintf(l->id, sizeof l->id, "%s", id);
  l->role = role;
  l->organ = organs[k].organ;
  l->nodal = organs[k].nodal;
  l->host = organs[k].host;
  l->hu = organs[k].hu;
  l->mr = organs[k].mr;
  l->theta = prng_uniform(r, 0, 3.14159265358979);
  l->cc_ratio = prng_uniform(r, 0.8, 1.0);
  return l;
}

/* Baseline size: non-nodal lesions by their longest diameter, nodes by their short axis. */
static void set_baseline(lesion *l, prng *r, double lo, double hi) {
  double v = round1(prng_uniform(r, lo, hi));
  if (l->nodal) {
    l->short_mm[0] = v;
    l->long_mm[0] = round1(v * prng_uniform(r, 1.25, 1.6));
  } else {
    l->long_mm[0] = v;
    l->short_mm[0] = round1(v * prng_uniform(r, l->host == TISSUE_LUNG ? 0.8 : 0.65, 0.9));
  }
}

/* How a lesion's size goes over the assessments (the last value repeats):
 *   FACTOR  long and short axes x a[t] of baseline;
 *   NODE    short axis a[t] mm (t >= 1), long axis in proportion;
 *   NEW     absent at baseline, appears at FU2 (FU1 when there are only two assessments, or when `first` is 1)
 *           with long a[i] and short b[i] mm at its i-th assessment; equivocal where first seen if `equivocal`. */
typedef enum { FACTOR, NODE, NEW } course;
typedef struct {
  const char *id;
  lesion_role role;
  organ_kind organ;
  double lo, hi; /* baseline size range (nodes: short axis) */
  course kind;
  double a[5], b[5];
  int n;
  int first, equivocal;
} lesion_spec;

#define SPECS_MAX 4
static const lesion_spec scenarios[SC_COUNT][SPECS_MAX] = {
    [SC_PARTIAL_RESPONSE] = {{"T1", ROLE_TARGET, ORG_LIVER, 40, 55, FACTOR, {1, 0.65, 0.55, 0.5}, {0}, 4, 0, 0},
                             {"T2", ROLE_TARGET, ORG_LIVER, 22, 32, FACTOR, {1, 0.65, 0.55, 0.5}, {0}, 4, 0, 0},
                             {"T3", ROLE_TARGET, ORG_LUNG, 14, 20, FACTOR, {1, 0.65, 0.55, 0.5}, {0}, 4, 0, 0},
                             {"NT1", ROLE_NON_TARGET, ORG_LIVER, 7, 9, FACTOR, {1, 0.9}, {0}, 2, 0, 0}},
    [SC_NEW_LESION] = {{"T1", ROLE_TARGET, ORG_LIVER, 35, 50, FACTOR, {1, 0.92, 0.88, 0.9}, {0}, 4, 0, 0},
                       {"T2", ROLE_TARGET, ORG_NODE, 15, 20, FACTOR, {1, 0.92, 0.88, 0.9}, {0}, 4, 0, 0},
                       {"NT1", ROLE_NON_TARGET, ORG_LUNG, 6, 8, FACTOR, {1}, {0}, 1, 0, 0},
                       {"N1", ROLE_NEW, ORG_LIVER, 0, 0, NEW, {14, 17, 20}, {11, 13, 15.5}, 3, 0, 0}},
    /* FU1 clearly PR; FU2 CR: nodes under 10 mm, the liver target gone */
    [SC_NODE_CR] = {{"T1", ROLE_TARGET, ORG_NODE, 15, 18, NODE, {0, 10.5, 8, 7}, {0}, 4, 0, 0},
                    {"T2", ROLE_TARGET, ORG_NODE, 15, 19, NODE, {0, 10.5, 8, 7}, {0}, 4, 0, 0},
                    {"T3", ROLE_TARGET, ORG_LIVER, 12, 16, FACTOR, {1, 0.6, 0}, {0}, 3, 0, 0},
                    {"NT1", ROLE_NON_TARGET, ORG_NODE, 11, 13, NODE, {0, 10.5, 8, 7}, {0}, 4, 0, 0}},
    [SC_GROWTH] = {{"T1", ROLE_TARGET, ORG_LIVER, 30, 42, FACTOR, {1, 0.9, 1.25, 1.45, 1.6}, {0}, 5, 0, 0},
                   {"T2", ROLE_TARGET, ORG_LIVER, 20, 28, FACTOR, {1, 0.9, 1.25, 1.45, 1.6}, {0}, 5, 0, 0},
                   {"T3", ROLE_TARGET, ORG_NODE, 15, 18, FACTOR, {1, 0.9, 1.25, 1.45, 1.6}, {0}, 5, 0, 0},
                   {"NT1", ROLE_NON_TARGET, ORG_LIVER, 7, 9, FACTOR, {1, 1, 1.2}, {0}, 3, 0, 0}},
    [SC_STABLE] = {{"T1", ROLE_TARGET, ORG_LIVER, 30, 45, FACTOR, {1, 0.95, 1.03, 0.97, 1.04}, {0}, 5, 0, 0},
                   {"T2", ROLE_TARGET, ORG_LUNG, 12, 18, FACTOR, {1, 0.95, 1.03, 0.97, 1.04}, {0}, 5, 0, 0},
                   {"NT1", ROLE_NON_TARGET, ORG_NODE, 11, 13, FACTOR, {1}, {0}, 1, 0, 0}},
    [SC_EQUIVOCAL_NEW] = {{"T1", ROLE_TARGET, ORG_LIVER, 30, 45, FACTOR, {1, 0.9, 0.88, 0.9, 0.92}, {0}, 5, 0, 0},
                          {"T2", ROLE_TARGET, ORG_LIVER, 18, 26, FACTOR, {1, 0.9, 0.88, 0.9, 0.92}, {0}, 5, 0, 0},
                          {"N1", ROLE_NEW, ORG_LIVER, 0, 0, NEW, {6, 13, 16, 19}, {5, 10, 12, 14}, 4, 1, 1}},
    [SC_LIVER_ONLY] = {{"T1", ROLE_TARGET, ORG_LIVER, 22, 30, FACTOR, {1, 1.05, 1.5, 1.7, 1.9}, {0}, 5, 0, 0},
                       {"T2", ROLE_TARGET, ORG_LUNG, 14, 20, FACTOR, {1, 1.0, 0.98, 1.0}, {0}, 4, 0, 0},
                       {"NT1", ROLE_NON_TARGET, ORG_LUNG, 6, 8, FACTOR, {1}, {0}, 1, 0, 0}},
};

static void follow(lesion *l, const lesion_spec *sp, int n_tp) {
  int first = sp->first ? sp->first : (n_tp > 2 ? 2 : 1);
  for (int t = 1; t < n_tp; t++) {
    int i = t < sp->n ? t : sp->n - 1;
    switch (sp->kind) {
      case FACTOR:
        l->long_mm[t] = round1(l->long_mm[0] * sp->a[i]);
        l->short_mm[t] = round1(l->short_mm[0] * sp->a[i]);
        break;
      case NODE:
        l->long_mm[t] = round1(l->long_mm[0] * sp->a[i] / l->short_mm[0]);
        l->short_mm[t] = sp->a[i];
        break;
      case NEW:
        if (t < first) break;
        i = t - first < sp->n ? t - first : sp->n - 1;
        l->long_mm[t] = sp->a[i];
        l->short_mm[t] = sp->b[i];
        l->new_state[t] = (sp->equivocal && t == first) ? 1 : 2;
        break;
    }
  }
}

static void build_lesions(subject *s, prng *r) {
  s->n_les = 0;
  for (int i = 0; i < SPECS_MAX && scenarios[s->sc][i].id; i++) {
    const lesion_spec *sp = &scenarios[s->sc][i];
    lesion *l = add_lesion(s, r, sp->id, sp->role, sp->organ);
    if (sp->kind != NEW) set_baseline(l, r, sp->lo, sp->hi);
    follow(l, sp, s->n_tp);
  }
}

static double max_size(const double *v, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (v[i] > m) m = v[i];
  return m;
}

/* Is the lesion, at its largest plus a margin, wholly inside its host tissue and clear of the others? */
static int fits(const subject *s, const lesion *l, int index) {
  double a = max_size(l->long_mm, s->n_tp) / 2 + 2.5, b = max_size(l->short_mm, s->n_tp) / 2 + 2.5;
  double zc = (b - 2.5) * l->cc_ratio + 1.5;
  double ct = cos(l->theta), st = sin(l->theta);
  for (int ring = -2; ring <= 2; ring++) {
    double dz = ring * 0.45 * zc, f = sqrt(1.0 - (ring * 0.45) * (ring * 0.45));
    for (int i = 0; i < 16; i++) {
      double phi = i * 3.14159265358979 / 8, u = a * f * cos(phi), v = b * f * sin(phi);
      double p[3] = {l->c[0] + u * ct - v * st, l->c[1] + u * st + v * ct, l->c[2] + dz};
      if (anatomy_label_at(&s->body, p) != l->host) return 0;
    }
  }
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    double p[3] = {l->c[0], l->c[1], l->c[2] + sgn * zc};
    if (anatomy_label_at(&s->body, p) != l->host) return 0;
  }
  for (int j = 0; j < index; j++) {
    const lesion *o = &s->les[j];
    double d = sqrt((o->c[0] - l->c[0]) * (o->c[0] - l->c[0]) + (o->c[1] - l->c[1]) * (o->c[1] - l->c[1]) +
                    (o->c[2] - l->c[2]) * (o->c[2] - l->c[2]));
    if (d < a + max_size(o->long_mm, s->n_tp) / 2 + 4) return 0;
  }
  return 1;
}

static int place_lesions(subject *s, prng *r, rcy_error *err) {
  /* centre slices in the band around the liver dome where liver, lung bases and nodes all exist */
  int lo = 0, hi = s->slices - 1;
  while (lo < hi && subject_slice_z(s, lo) < -40) lo++;
  while (hi > lo && subject_slice_z(s, hi) > 40) hi--;
  if (hi - lo >= 2) {
    lo++;
    hi--;
  }
  double k = s->body.s[0].r[0] / 170;
  for (int i = 0; i < s->n_les; i++) {
    lesion *l = &s->les[i];
    int ok = 0;
    for (int attempt = 0; attempt < 20000 && !ok; attempt++) {
      l->slice = prng_int(r, lo, hi);
      l->c[2] = subject_slice_z(s, l->slice);
      if (l->host == TISSUE_VFAT) { /* retroperitoneal / mesenteric fat */
        l->c[0] = prng_uniform(r, -40 * k, 75 * k);
        l->c[1] = prng_uniform(r, -80 * k, 55 * k);
      } else {
        l->c[0] = prng_uniform(r, -150 * k, 150 * k);
        l->c[1] = prng_uniform(r, -100 * k, 100 * k);
      }
      l->c[0] = round1(l->c[0]);
      l->c[1] = round1(l->c[1]);
      ok = fits(s, l, i);
    }
    if (!ok)
      return rcy_error_set(err, RCY_EINTERNAL, "%s: no room for lesion %s (%s) with %d slices of %.2f mm",
                           s->subject_id, l->id, l->organ, s->slices, s->thickness_mm);
  }
  return RCY_OK;
}

int cohort_subject(subject *s, const rcy_sample_options *o, int index, rcy_error *err) {
  memset(s, 0, sizeof *s);
  char key[64];
  snprintf(key, sizeof key, "subject/%d", index);
  prng r;
  prng_init(&r, o->seed, key);
  s->index = index;
  snprintf(s->site, sizeof s->site, "%s", sites[index % 3]);
  snprintf(s->subject_id, sizeof s->subject_id, "CIREL-%s-%04d", sites[index % 3] + 1, index / 3 + 1);
  s->sc = (scenario)(index % SC_COUNT);
  s->mr = index % 5 == 2; /* one subject in five is followed by liver MRI */
  s->sex[0] = prng_int(&r, 0, 1) ? 'F' : 'M';
  s->fov_mm = prng_uniform(&r, 360, 410);
  double scale = prng_uniform(&r, 0.92, 1.06);
  if (scale > (s->fov_mm / 2 - 10) / 170) scale = (s->fov_mm / 2 - 10) / 170;
  anatomy_build(&s->body, scale);
  s->slices = o->slices;
  s->thickness_mm = o->slices >= 200 ? 1.25 : o->slices >= 100 ? 2.5 : 5.0;
  s->kvp = 120;
  s->n_tp = 3 + prng_int(&r, 0, 2); /* baseline and 2-4 follow-ups */
  if (o->max_timepoints > 0 && s->n_tp > o->max_timepoints) s->n_tp = o->max_timepoints;
  s->treatment_day = days_from_civil(2019, 1, 7) + prng_int(&r, 0, 600);
  for (int t = 0; t < s->n_tp; t++) {
    if (t == 0) {
      snprintf(s->tp[t], sizeof s->tp[t], "BL");
      s->tp_day[t] = s->treatment_day - prng_int(&r, 3, 21);
    } else {
      snprintf(s->tp[t], sizeof s->tp[t], "FU%u", (unsigned)t % 10u);
      s->tp_day[t] = t == 1 ? s->treatment_day + prng_int(&r, 28, 56) : s->tp_day[t - 1] + prng_int(&r, 42, 70);
    }
  }
  build_lesions(s, &r);
  return place_lesions(s, &r, err);
}
