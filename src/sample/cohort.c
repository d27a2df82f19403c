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

double subject_slice_z(const subject *s, int k) { return (k - (s->slices - 1) / 2.0) * s->thickness_mm; }

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

/* Follow-up sizes as a factor of baseline per assessment (the last factor repeats). */
static void trajectory(lesion *l, int n_tp, const double *f, int nf) {
  for (int t = 1; t < n_tp; t++) {
    double k = f[t < nf ? t : nf - 1];
    l->long_mm[t] = round1(l->long_mm[0] * k);
    l->short_mm[t] = round1(l->short_mm[0] * k);
  }
}

/* Nodes shrinking to given short axes (mm), long axis in proportion. */
static void node_course(lesion *l, int n_tp, const double *short_mm, int n) {
  for (int t = 1; t < n_tp; t++) {
    double v = short_mm[t < n ? t : n - 1];
    l->long_mm[t] = round1(l->long_mm[0] * v / l->short_mm[0]);
    l->short_mm[t] = v;
  }
}

/* A new lesion: absent until `first`, then sizes from the list (long, short pairs; the last pair repeats). */
static void new_course(lesion *l, int n_tp, int first, const double (*sizes)[2], int n, int equivocal_first) {
  for (int t = first; t < n_tp; t++) {
    int i = t - first < n ? t - first : n - 1;
    l->long_mm[t] = sizes[i][0];
    l->short_mm[t] = sizes[i][1];
    l->new_state[t] = (equivocal_first && t == first) ? 1 : 2;
  }
}

static void build_lesions(subject *s, prng *r) {
  int n = s->n_tp;
  s->n_les = 0;
  switch (s->sc) {
    case SC_PARTIAL_RESPONSE: {
      static const double f[] = {1, 0.65, 0.55, 0.5, 0.5};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 40, 55);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_LIVER);
      set_baseline(t2, r, 22, 32);
      lesion *t3 = add_lesion(s, r, "T3", ROLE_TARGET, ORG_LUNG);
      set_baseline(t3, r, 14, 20);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_LIVER);
      set_baseline(nt, r, 7, 9);
      trajectory(t1, n, f, 5);
      trajectory(t2, n, f, 5);
      trajectory(t3, n, f, 5);
      trajectory(nt, n, (const double[]){1, 0.9}, 2);
      break;
    }
    case SC_NEW_LESION: {
      static const double f[] = {1, 0.92, 0.88, 0.9, 0.9};
      static const double grow[][2] = {{14.0, 11.0}, {17.0, 13.0}, {20.0, 15.5}};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 35, 50);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_NODE);
      set_baseline(t2, r, 15, 20);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_LUNG);
      set_baseline(nt, r, 6, 8);
      lesion *n1 = add_lesion(s, r, "N1", ROLE_NEW, ORG_LIVER);
      trajectory(t1, n, f, 5);
      trajectory(t2, n, f, 5);
      trajectory(nt, n, (const double[]){1}, 1);
      new_course(n1, n, n > 2 ? 2 : 1, grow, 3, 0);
      break;
    }
    case SC_NODE_CR: {
      static const double nodes[] = {0, 10.5, 8.0, 7.0}; /* FU1 clearly PR, FU2 CR */
      static const double small[] = {0, 10.5, 8.0, 7.0};
      static const double gone[] = {1, 0.6, 0};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_NODE);
      set_baseline(t1, r, 15, 18);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_NODE);
      set_baseline(t2, r, 15, 19);
      lesion *t3 = add_lesion(s, r, "T3", ROLE_TARGET, ORG_LIVER);
      set_baseline(t3, r, 12, 16);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_NODE);
      set_baseline(nt, r, 11, 13);
      node_course(t1, n, nodes, 4);
      node_course(t2, n, nodes, 4);
      node_course(nt, n, small, 4);
      trajectory(t3, n, gone, 3);
      break;
    }
    case SC_GROWTH: {
      static const double f[] = {1, 0.9, 1.25, 1.45, 1.6};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 30, 42);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_LIVER);
      set_baseline(t2, r, 20, 28);
      lesion *t3 = add_lesion(s, r, "T3", ROLE_TARGET, ORG_NODE);
      set_baseline(t3, r, 15, 18);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_LIVER);
      set_baseline(nt, r, 7, 9);
      trajectory(t1, n, f, 5);
      trajectory(t2, n, f, 5);
      trajectory(t3, n, f, 5);
      trajectory(nt, n, (const double[]){1, 1, 1.2}, 3);
      break;
    }
    case SC_STABLE: {
      static const double f[] = {1, 0.95, 1.03, 0.97, 1.04};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 30, 45);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_LUNG);
      set_baseline(t2, r, 12, 18);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_NODE);
      set_baseline(nt, r, 11, 13);
      trajectory(t1, n, f, 5);
      trajectory(t2, n, f, 5);
      trajectory(nt, n, (const double[]){1}, 1);
      break;
    }
    case SC_EQUIVOCAL_NEW: {
      static const double f[] = {1, 0.9, 0.88, 0.9, 0.92};
      static const double grow[][2] = {{6.0, 5.0}, {13.0, 10.0}, {16.0, 12.0}, {19.0, 14.0}};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 30, 45);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_LIVER);
      set_baseline(t2, r, 18, 26);
      lesion *n1 = add_lesion(s, r, "N1", ROLE_NEW, ORG_LIVER);
      trajectory(t1, n, f, 5);
      trajectory(t2, n, f, 5);
      new_course(n1, n, 1, grow, 4, 1);
      break;
    }
    case SC_LIVER_ONLY:
    default: {
      static const double liver[] = {1, 1.05, 1.5, 1.7, 1.9};
      static const double lung[] = {1, 1.0, 0.98, 1.0, 1.0};
      lesion *t1 = add_lesion(s, r, "T1", ROLE_TARGET, ORG_LIVER);
      set_baseline(t1, r, 22, 30);
      lesion *t2 = add_lesion(s, r, "T2", ROLE_TARGET, ORG_LUNG);
      set_baseline(t2, r, 14, 20);
      lesion *nt = add_lesion(s, r, "NT1", ROLE_NON_TARGET, ORG_LUNG);
      set_baseline(nt, r, 6, 8);
      trajectory(t1, n, liver, 5);
      trajectory(t2, n, lung, 5);
      trajectory(nt, n, (const double[]){1}, 1);
      break;
    }
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
      snprintf(s->tp[t], sizeof s->tp[t], "FU%d", t);
      s->tp_day[t] = t == 1 ? s->treatment_day + prng_int(&r, 28, 56) : s->tp_day[t - 1] + prng_int(&r, 42, 70);
    }
  }
  build_lesions(s, &r);
  return place_lesions(s, &r, err);
}
