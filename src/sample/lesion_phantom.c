/* Lesion phantoms for the segmentation tests (docs/sample.md "Lesion phantoms"). Three subjects at site S014
 * (CIREL-014-0961 standard 2.5 mm, -0962 thick 5 mm, -0963 low-dose 2.5 mm), each with a baseline and a first
 * follow-up CT in which every lesion is 0.8 x its baseline size (scaled about its anchor: its centre, or the
 * point where it touches the vessel or the liver capsule) and the whole patient is shifted by a known offset.
 * Ten star-shaped lesions of different kinds (lesion_shapes.c) per subject, apart from each other.
 *
 * Partial volume: every voxel value is the average over its slab (nz sub-slices of the anatomy, 3 for 2.5 mm,
 * 5 for 5 mm) and, near a lesion, over 2 x 2 x 2nz sub-samples where each sub-sample is the lesion's value
 * when inside it and the sub-slice's tissue otherwise. The label is the lesion's where at least half the
 * sub-samples are inside. Truth (RECIST diameters, volume) is computed from the continuous solid. */
#include "lesion_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))
#define N_PHANTOMS 3
#define N_TP 2
#define FU_SCALE 0.8
#define LES_ZSUB 2 /* lesion sub-samples along z per anatomy sub-slice */

typedef enum {
  LT_LOBULATED,
  LT_IRREGULAR,
  LT_RIM,
  LT_LOW_CONTRAST,
  LT_HYPERDENSE,
  LT_VESSEL,
  LT_EDGE,
  LT_SMALL,
  LT_LUNG_NODULE,
  LT_NODE,
  LT_COUNT
} ltype;

static const char *const type_names[LT_COUNT] = {"lobulated",   "irregular", "rim",  "low_contrast",
                                                 "hyperdense",  "vessel",    "edge", "small",
                                                 "lung_nodule", "node"};

typedef struct {
  ltype type;
  char id[16];
  const char *organ;
  int nodal;
  uint8_t host;
  double host_hu, hu, core_hu, rim_mm; /* rim_mm > 0: rim lesion, core where r <= R(u) - rim_mm */
  star_shape sh;
  double c[3];      /* baseline centre */
  double anchor[3]; /* follow-up scaling fixed point */
  const char *touches;
  double volume_bl_mm3;
} plesion;

typedef struct {
  const char *name, *description;
  double thickness, noise;
  int nz;
  subject s;
  anatomy body0;
  plesion les[LT_COUNT];
  int n;
  shape vessel; /* baseline position; label TISSUE_AORTA */
  double vessel_len;
  double shift[N_TP][3];
  double scale[N_TP];
} phantom;

/* ---------------------------------------------------------------------------------------------------------
 */
/* geometry of a lesion at a timepoint */

static void les_centre(double out[3], const phantom *ph, const plesion *l, int tp) {
  for (int k = 0; k < 3; k++)
    out[k] = l->anchor[k] + ph->scale[tp] * (l->c[k] - l->anchor[k]) + ph->shift[tp][k];
}

/* 0 outside, 1 in the lesion, 2 in a rim lesion's core */
static inline int les_inside(const plesion *l, const double ctr[3], double f, double x, double y, double z) {
  double d[3] = {x - ctr[0], y - ctr[1], z - ctr[2]};
  double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  double rmax = f * l->sh.rmax;
  if (r2 > rmax * rmax) return 0;
  double rmin = f * l->sh.rmin;
  if (l->rim_mm <= 0 && r2 <= rmin * rmin) return 1;
  double R = f * star_radius(&l->sh, d), r = sqrt(r2);
  if (r > R) return 0;
  return (l->rim_mm > 0 && r <= R - l->rim_mm) ? 2 : 1;
}

static int vessel_inside(const shape *v, const double p[3]) {
  double dz = (p[2] - v->c[2]) / v->r[2];
  if (dz <= -1 || dz >= 1) return 0;
  double dx = (p[0] - v->c[0]) / v->r[0], dy = (p[1] - v->c[1]) / v->r[1];
  return dx * dx + dy * dy + dz * dz <= 1.0;
}

static uint8_t label_at(const phantom *ph, const double p[3]) {
  if (vessel_inside(&ph->vessel, p)) return TISSUE_AORTA;
  return anatomy_label_at(&ph->body0, p);
}

/* Fibonacci sphere directions */
#define NDIR 1500
static double dirs[NDIR][3];
static void init_dirs(void) {
  double ga = LS_PI * (3.0 - sqrt(5.0));
  for (int i = 0; i < NDIR; i++) {
    double z = 1.0 - (i + 0.5) * 2.0 / NDIR, r = sqrt(1.0 - z * z);
    dirs[i][0] = r * cos(ga * i);
    dirs[i][1] = r * sin(ga * i);
    dirs[i][2] = z;
  }
}

/* ---------------------------------------------------------------------------------------------------------
 */
/* shapes */

static void random_unit(double u[3], prng *r) {
  double z = prng_uniform(r, -1, 1), phi = prng_uniform(r, 0, 2 * LS_PI), q = sqrt(1 - z * z);
  u[0] = q * cos(phi);
  u[1] = q * sin(phi);
  u[2] = z;
}

static void add_harmonic(star_shape *s, prng *r, int m, double amp) {
  int j = s->n_harm++;
  double n[3], t[3] = {1, 0, 0};
  random_unit(n, r);
  if (fabs(n[0]) > 0.9) t[0] = 0, t[1] = 1;
  double d = t[0] * n[0] + t[1] * n[1] + t[2] * n[2];
  double e1[3] = {t[0] - d * n[0], t[1] - d * n[1], t[2] - d * n[2]};
  double l = sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
  for (int k = 0; k < 3; k++)
    e1[k] /= l;
  double e2[3] = {n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0]};
  memcpy(s->h_e1[j], e1, sizeof e1);
  memcpy(s->h_e2[j], e2, sizeof e2);
  s->h_m[j] = m;
  s->h_amp[j] = amp;
  s->h_phase[j] = prng_uniform(r, 0, 2 * LS_PI);
}

/* in-plane chord through the centre, extremes over directions (scale 1) */
static void chords(const star_shape *s, double *dmin, double *dmax) {
  *dmin = 1e30;
  *dmax = 0;
  for (int i = 0; i < 360; i++) {
    double phi = i * LS_PI / 360;
    double u[3] = {cos(phi), sin(phi), 0}, v[3] = {-u[0], -u[1], 0};
    double d = star_radius_analytic(s, u) + star_radius_analytic(s, v);
    if (d < *dmin) *dmin = d;
    if (d > *dmax) *dmax = d;
  }
}

static int make_lesion(plesion *l, ltype t, prng *r) {
  memset(l, 0, sizeof *l);
  l->type = t;
  snprintf(l->id, sizeof l->id, "T%d", (int)t + 1);
  l->organ = "liver";
  l->host = TISSUE_LIVER;
  l->hu = 40;
  l->touches = NULL;
  star_shape *s = &l->sh;
  double theta = prng_uniform(r, 0, LS_PI);
  star_frame(s, theta, prng_uniform(r, -0.25, 0.25));
  s->a[0] = 1;
  s->a[1] = prng_uniform(r, 0.75, 0.9);
  s->a[2] = prng_uniform(r, 0.8, 1.0);
  double lo, hi;
  int by_short = 0;
  switch (t) {
  case LT_LOBULATED: {
    s->a[1] = prng_uniform(r, 0.85, 0.95);
    s->n_lobes = prng_int(r, 3, 5);
    s->lobe_kappa = prng_uniform(r, 6, 9);
    double phi0 = prng_uniform(r, 0, 2 * LS_PI);
    for (int j = 0; j < s->n_lobes; j++) {
      double phi = phi0 + 2 * LS_PI * j / s->n_lobes + prng_uniform(r, -0.3, 0.3),
             z = prng_uniform(r, -0.35, 0.35);
      s->lobe_dir[j][0] = sqrt(1 - z * z) * cos(phi);
      s->lobe_dir[j][1] = sqrt(1 - z * z) * sin(phi);
      s->lobe_dir[j][2] = z;
      s->lobe_amp[j] = prng_uniform(r, 0.28, 0.38);
    }
    lo = 34, hi = 42;
    break;
  }
  case LT_IRREGULAR: {
    static const int ms[] = {3, 5, 6, 7, 9};
    for (int j = 0; j < 5; j++)
      add_harmonic(s, r, ms[j], j == 0 ? 0.07 : prng_uniform(r, 0.035, 0.06));
    lo = 28, hi = 37;
    break;
  }
  case LT_RIM:
    l->hu = round(prng_uniform(r, 145, 155));
    l->core_hu = round(prng_uniform(r, 20, 30));
    l->rim_mm = round1(prng_uniform(r, 3.0, 4.0));
    lo = 34, hi = 42;
    break;
  case LT_LOW_CONTRAST:
    l->hu = 100 - round(prng_uniform(r, 18, 27));
    lo = 23, hi = 32;
    break;
  case LT_HYPERDENSE:
    l->hu = round(prng_uniform(r, 155, 165));
    lo = 22, hi = 28;
    break;
  case LT_VESSEL: /* untilted, so that it touches near its largest slices */
    lo = 26, hi = 33;
    l->touches = "vessel";
    star_frame(s, theta, 0);
    break;
  case LT_EDGE:
    lo = 26, hi = 33;
    l->touches = "liver_capsule";
    star_frame(s, theta, 0);
    break;
  case LT_SMALL: lo = 11.0, hi = 11.8; break;
  case LT_LUNG_NODULE:
    l->organ = "lung";
    l->host = TISSUE_LUNG;
    l->hu = 30;
    s->a[1] = prng_uniform(r, 0.85, 0.95);
    s->a[2] = prng_uniform(r, 0.85, 1.0);
    lo = 14, hi = 22;
    break;
  case LT_NODE:
  default:
    l->organ = "lymph node";
    l->nodal = 1;
    l->host = TISSUE_VFAT;
    l->hu = 40;
    s->a[1] = prng_uniform(r, 0.6, 0.72);
    s->a[2] = prng_uniform(r, 0.9, 1.2);
    star_frame(s, prng_uniform(r, 0, LS_PI), prng_uniform(r, -0.1, 0.1));
    lo = 16, hi = 19;
    by_short = 1;
    break;
  }
  if (t != LT_LOBULATED && t != LT_IRREGULAR) {
    add_harmonic(s, r, 2, prng_uniform(r, 0.02, 0.045));
    add_harmonic(s, r, 3, prng_uniform(r, 0.02, 0.04));
  }
  l->host_hu = tissue_ct_hu(l->host);
  s->scale = 1;
  double dmin, dmax;
  chords(s, &dmin, &dmax);
  double target = prng_uniform(r, lo, hi);
  s->scale = target / (by_short ? dmin : dmax);
  return star_build_table(s);
}

/* ---------------------------------------------------------------------------------------------------------
 */
/* placement */

static double dist3(const double a[3], const double b[3]) {
  return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

/* Is lesion i (at baseline) inside its host with `margin` mm around it (points inside the vessel are allowed
 * for the vessel lesion) and clear of the lesions placed before it? */
static int fits(const phantom *ph, int i, double margin) {
  const plesion *l = &ph->les[i];
  for (int j = 0; j < i; j++)
    if (dist3(l->c, ph->les[j].c) < l->sh.rmax + ph->les[j].sh.rmax + 6) return 0;
  for (int k = 0; k < NDIR; k += (margin > 0 ? 3 : 1)) {
    double R = star_radius(&l->sh, dirs[k]) + margin;
    double p[3] = {l->c[0] + R * dirs[k][0], l->c[1] + R * dirs[k][1], l->c[2] + R * dirs[k][2]};
    uint8_t lab = label_at(ph, p);
    if (lab == l->host) continue;
    if (l->type == LT_VESSEL && lab == TISSUE_AORTA) continue;
    return 0;
  }
  return 1;
}

static int find_shape(const anatomy *a, uint8_t label) {
  for (int i = 0; i < a->n; i++)
    if (a->s[i].label == label) return i;
  return -1;
}

/* normalised quadratic of an ellipse/ellipsoid shape (<= 1 inside) */
static double shape_q(const shape *s, const double p[3]) {
  double dx = p[0] - s->c[0], dy = p[1] - s->c[1];
  double u = dx * cos(s->theta) + dy * sin(s->theta), v = -dx * sin(s->theta) + dy * cos(s->theta);
  double q = u * u / (s->r[0] * s->r[0]) + v * v / (s->r[1] * s->r[1]);
  if (s->r[2] > 0) q += (p[2] - s->c[2]) * (p[2] - s->c[2]) / (s->r[2] * s->r[2]);
  return q;
}

/* The edge lesion: moved from inside the liver along an in-plane direction until its surface reaches the
 * liver's boundary (the liver ellipsoid clipped by the body cavity: convex, so a lesion scaled about the
 * touching point stays inside and still touches). */
static int place_edge(phantom *ph, int i, prng *r) {
  plesion *l = &ph->les[i];
  const shape *liver = &ph->body0.s[find_shape(&ph->body0, TISSUE_LIVER)],
              *cav = &ph->body0.s[ANATOMY_CAVITY];
  for (int attempt = 0; attempt < 400; attempt++) {
    double alpha = prng_uniform(r, -1.6, -0.4); /* anterior-medial: the liver borders visceral fat there */
    double z =
        prng_uniform(r, -48, -32); /* near the liver's equator (z -40), where its boundary is vertical */
    double u[2] = {cos(alpha), sin(alpha)}, lo = 0, hi = 150, best[3] = {0};
    for (int it = 0; it < 50; it++) {
      double d = 0.5 * (lo + hi), fmax = 0, arg[3] = {0};
      double c[3] = {liver->c[0] + d * u[0], liver->c[1] + d * u[1], z};
      for (int k = 0; k < NDIR; k++) {
        double R = star_radius(&l->sh, dirs[k]);
        double p[3] = {c[0] + R * dirs[k][0], c[1] + R * dirs[k][1], c[2] + R * dirs[k][2]};
        double q = shape_q(liver, p), qc = shape_q(cav, p);
        if (qc > q) q = qc;
        if (q > fmax) {
          fmax = q;
          memcpy(arg, p, sizeof arg);
        }
      }
      if (fmax > 1.0)
        hi = d;
      else {
        lo = d;
        memcpy(best, arg, sizeof best);
        memcpy(l->c, c, sizeof l->c);
      }
    }
    if (lo <= 0) continue;
    l->c[0] = liver->c[0] + lo * u[0];
    l->c[1] = liver->c[1] + lo * u[1];
    l->c[2] = z;
    memcpy(l->anchor, best, sizeof best);
    /* outside the touching point: visceral fat; the lesion itself wholly in liver tissue (not a vessel) */
    double o[3] = {best[0] - l->c[0], best[1] - l->c[1], best[2] - l->c[2]},
           on = sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
    double out[3] = {best[0] + 3 * o[0] / on, best[1] + 3 * o[1] / on, best[2] + 3 * o[2] / on};
    if (label_at(ph, out) != TISSUE_VFAT) continue;
    /* the lesion shrunk a little must be in liver tissue everywhere */
    int ok = 1;
    for (int j = 0; j < i && ok; j++)
      if (dist3(l->c, ph->les[j].c) < l->sh.rmax + ph->les[j].sh.rmax + 6) ok = 0;
    for (int k = 0; k < NDIR && ok; k++) {
      double R = star_radius(&l->sh, dirs[k]) - 1.0;
      double p[3] = {l->c[0] + R * dirs[k][0], l->c[1] + R * dirs[k][1], l->c[2] + R * dirs[k][2]};
      if (label_at(ph, p) != TISSUE_LIVER) ok = 0;
    }
    /* and 4 mm around it, except towards the capsule, clear of other structures inside the liver */
    for (int k = 0; k < NDIR && ok; k += 2) {
      double R = star_radius(&l->sh, dirs[k]) + 4.0;
      double p[3] = {l->c[0] + R * dirs[k][0], l->c[1] + R * dirs[k][1], l->c[2] + R * dirs[k][2]};
      uint8_t lab = label_at(ph, p);
      if (lab != TISSUE_LIVER && lab != TISSUE_VFAT && lab != TISSUE_MUSCLE) ok = 0;
    }
    if (ok) return 1;
  }
  return 0;
}

/* The vessel lesion: a liver lesion, then a craniocaudal vessel (an elongated ellipsoid, 8-10 mm across)
 * moved towards it along an in-plane direction until the two surfaces touch. */
static int place_vessel(phantom *ph, int i, prng *r) {
  plesion *l = &ph->les[i];
  double rv = round1(prng_uniform(r, 4.0, 5.0));
  ph->vessel_len = 55;
  for (int attempt = 0; attempt < 4000; attempt++) {
    l->c[0] = round1(prng_uniform(r, -140, -20));
    l->c[1] = round1(prng_uniform(r, -75, 60));
    l->c[2] = round1(prng_uniform(r, -55, -25));
    double beta = prng_uniform(r, 0, 2 * LS_PI), u[2] = {cos(beta), sin(beta)};
    shape *v = &ph->vessel;
    memset(v, 0, sizeof *v);
    v->r[0] = v->r[1] = rv;
    v->r[2] = ph->vessel_len;
    v->label = TISSUE_AORTA;
    v->clip = 1;
    double lo = 0, hi = l->sh.rmax + rv + 5, best[3] = {0};
    for (int it = 0; it < 50; it++) {
      double d = 0.5 * (lo + hi), qmin = 1e30, arg[3] = {0};
      v->c[0] = l->c[0] + d * u[0];
      v->c[1] = l->c[1] + d * u[1];
      v->c[2] = l->c[2];
      for (int k = 0; k < NDIR; k++) {
        double R = star_radius(&l->sh, dirs[k]);
        double p[3] = {l->c[0] + R * dirs[k][0], l->c[1] + R * dirs[k][1], l->c[2] + R * dirs[k][2]};
        double q = shape_q(v, p);
        if (q < qmin) {
          qmin = q;
          memcpy(arg, p, sizeof arg);
        }
      }
      if (qmin < 1.0)
        lo = d;
      else {
        hi = d;
        memcpy(best, arg, sizeof best);
      }
    }
    v->c[0] = l->c[0] + hi * u[0];
    v->c[1] = l->c[1] + hi * u[1];
    v->c[2] = l->c[2];
    memcpy(l->anchor, best, sizeof best);
    /* the vessel runs inside the liver (2 mm clear of its boundary) */
    int ok = 1;
    for (int a = -9; a <= 9 && ok; a++) {
      double z = v->c[2] + a * 0.1 * ph->vessel_len, f = sqrt(1 - (a * 0.1) * (a * 0.1));
      for (int k = 0; k < 16 && ok; k++) {
        double phi = k * LS_PI / 8, rr = rv * f + 2;
        double p[3] = {v->c[0] + rr * cos(phi), v->c[1] + rr * sin(phi), z};
        if (anatomy_label_at(&ph->body0, p) != TISSUE_LIVER) ok = 0;
      }
    }
    if (ok && fits(ph, i, 3.0)) return 1;
  }
  return 0;
}

static int place_random(phantom *ph, int i, prng *r) {
  plesion *l = &ph->les[i];
  for (int attempt = 0; attempt < 6000; attempt++) {
    switch (l->type) {
    case LT_LUNG_NODULE:
      l->c[0] = prng_uniform(r, -130, 130);
      l->c[1] = prng_uniform(r, -40, 90);
      l->c[2] = prng_uniform(r, 5, 30);
      break;
    case LT_NODE:
      l->c[0] = prng_uniform(r, -40, 75);
      l->c[1] = prng_uniform(r, -80, 55);
      l->c[2] = prng_uniform(r, -60, -20);
      break;
    default:
      l->c[0] = prng_uniform(r, -150, -5);
      l->c[1] = prng_uniform(r, -85, 70);
      l->c[2] = prng_uniform(r, -58, -20);
      break;
    }
    for (int k = 0; k < 3; k++)
      l->c[k] = round1(l->c[k]);
    memcpy(l->anchor, l->c, sizeof l->c);
    if (fits(ph, i, l->type == LT_LUNG_NODULE ? 4.0 : 3.0)) return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 */

static int build_phantom(phantom *ph, int index, uint64_t seed, rcy_error *err) {
  static const struct {
    const char *name, *description;
    double thickness, noise;
    int nz;
  } kinds[N_PHANTOMS] = {
      {"standard", "512x512, 2.5 mm slices, noise 10 HU", 2.5, 10, 3},
      {"thick", "512x512, 5 mm slices (slab partial volume), noise 10 HU", 5.0, 10, 5},
      {"lowdose", "512x512, 2.5 mm slices, low-dose noise 25 HU", 2.5, 25, 3},
  };
  memset(ph, 0, sizeof *ph);
  ph->name = kinds[index].name;
  ph->description = kinds[index].description;
  ph->thickness = kinds[index].thickness;
  ph->noise = kinds[index].noise;
  ph->nz = kinds[index].nz;
  subject *s = &ph->s;
  s->index = 200 + index;
  snprintf(s->site, sizeof s->site, "S014");
  snprintf(s->subject_id, sizeof s->subject_id, "CIREL-014-%04d", 961 + index);
  s->sex[0] = index == 1 ? 'F' : 'M';
  s->fov_mm = 400;
  anatomy_build(&ph->body0, 1.0);
  s->body = ph->body0;
  s->thickness_mm = ph->thickness;
  s->kvp = 120;
  s->n_tp = N_TP;
  snprintf(s->tp[0], sizeof s->tp[0], "BL");
  snprintf(s->tp[1], sizeof s->tp[1], "FU1");
  s->treatment_day = days_from_civil(2021, 3, 1) + 7 * index;
  s->tp_day[0] = s->treatment_day - 10;
  s->tp_day[1] = s->treatment_day + 42;
  char key[96];
  snprintf(key, sizeof key, "lesion-phantom/%s/shift", s->subject_id);
  prng r;
  prng_init(&r, seed, key);
  ph->scale[0] = 1.0;
  ph->scale[1] = FU_SCALE;
  for (int k = 0; k < 3; k++)
    ph->shift[1][k] = round1(prng_uniform(&r, 0.6, 1.7) * (prng_int(&r, 0, 1) ? 1 : -1));
  /* lesions: the vessel and edge ones first (their placement is constrained), then the largest */
  static const ltype order[LT_COUNT] = {LT_VESSEL,    LT_EDGE,         LT_LOBULATED,  LT_RIM,
                                        LT_IRREGULAR, LT_LOW_CONTRAST, LT_HYPERDENSE, LT_SMALL,
                                        LT_NODE,      LT_LUNG_NODULE};
  plesion tmp[LT_COUNT];
  phantom *work = ph;
  for (int n = 0; n < LT_COUNT; n++) {
    ltype t = order[n];
    snprintf(key, sizeof key, "lesion-phantom/%s/%s", s->subject_id, type_names[t]);
    prng_init(&r, seed, key);
    plesion *l = &work->les[n];
    if (make_lesion(l, t, &r)) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    work->n = n + 1;
    int ok = t == LT_VESSEL ? place_vessel(ph, n, &r)
             : t == LT_EDGE ? place_edge(ph, n, &r)
                            : place_random(ph, n, &r);
    if (!ok)
      return rcy_error_set(err, RCY_EINTERNAL, "%s: no room for the %s lesion phantom", s->subject_id,
                           type_names[t]);
  }
  /* re-order by type so that T1..T10 and labels 1..10 follow the type list */
  memcpy(tmp, ph->les, sizeof tmp);
  for (int n = 0; n < LT_COUNT; n++)
    ph->les[tmp[n].type] = tmp[n];
  for (int n = 0; n < LT_COUNT; n++)
    ph->les[n].volume_bl_mm3 = star_volume_mm3(&ph->les[n].sh);
  /* slices: the lesions' z range (baseline, plus the follow-up shift) with a margin */
  double zlo = 1e30, zhi = -1e30;
  for (int n = 0; n < LT_COUNT; n++) {
    const plesion *l = &ph->les[n];
    if (l->c[2] - l->sh.rmax < zlo) zlo = l->c[2] - l->sh.rmax;
    if (l->c[2] + l->sh.rmax > zhi) zhi = l->c[2] + l->sh.rmax;
  }
  zlo -= 7.5;
  zhi += 7.5;
  s->slices = (int)ceil((zhi - zlo) / ph->thickness) + 1;
  s->z_centre_mm = round((zlo + zhi) / 2 / ph->thickness) * ph->thickness;
  if (s->z_centre_mm == 0) s->z_centre_mm = ph->thickness; /* 0 means "the cohort's stack" */
  return RCY_OK;
}

static void free_phantom(phantom *ph) {
  for (int n = 0; n < LT_COUNT; n++)
    star_free(&ph->les[n].sh);
}

/* ---------------------------------------------------------------------------------------------------------
 */
/* rendering */

typedef struct {
  int16_t *pixels; /* stored values of one slice */
  uint8_t *labels; /* the whole label volume [k][row][col] */
  uint8_t *sub;    /* nz sub-slice tissue labels */
  double *bg;
  size_t label_voxels[LT_COUNT];
} render_buf;

static void render_slice(const phantom *ph, int tp, int k, uint64_t seed, render_buf *b) {
  const subject *s = &ph->s;
  plane_grid g;
  subject_grid(&g, s);
  size_t npx = (size_t)g.rows * g.columns;
  double zk = subject_slice_z(s, k), t = ph->thickness;
  int nz = ph->nz;
  /* the patient at this timepoint: shifted anatomy and vessel */
  anatomy body = ph->body0;
  for (int i = 0; i < body.n; i++)
    for (int q = 0; q < 3; q++)
      body.s[i].c[q] += ph->shift[tp][q];
  shape vessel = ph->vessel;
  for (int q = 0; q < 3; q++)
    vessel.c[q] += ph->shift[tp][q];
  double zs[8];
  for (int j = 0; j < nz; j++) {
    zs[j] = zk - t / 2 + (j + 0.5) * t / nz;
    anatomy_paint_slice(b->sub + (size_t)j * npx, &g, zs[j], &body, &vessel, 1);
  }
  double hu[256] = {0};
  for (int q = 0; q < TISSUE_COUNT; q++)
    hu[q] = tissue_ct_hu(q);
  for (size_t p = 0; p < npx; p++) {
    double sum = 0;
    for (int j = 0; j < nz; j++)
      sum += hu[b->sub[(size_t)j * npx + p]];
    b->bg[p] = sum / nz;
  }
  uint8_t *lab = b->labels + (size_t)k * npx;
  memset(lab, 0, npx);
  /* lesion sub-samples: LES_ZSUB per anatomy sub-slice along z (the sub-slice's tissue is their background)
   */
  int nzl = nz * LES_ZSUB;
  double f = ph->scale[tp], off = g.dx_mm / 4;
  double h = sqrt(2 * off * off * 4 + t * t / 4);
  for (int i = 0; i < LT_COUNT; i++) {
    const plesion *l = &ph->les[i];
    double c[3];
    les_centre(c, ph, l, tp);
    double rmax = f * l->sh.rmax, rin = f * l->sh.rmin - (l->rim_mm > 0 ? l->rim_mm : 0);
    if (zk + t / 2 < c[2] - rmax || zk - t / 2 > c[2] + rmax) continue;
    int c0 = (int)floor((c[0] - rmax - g.x0_mm) / g.dx_mm) - 1,
        c1 = (int)ceil((c[0] + rmax - g.x0_mm) / g.dx_mm) + 1;
    int r0 = (int)floor((c[1] - rmax - g.y0_mm) / g.dx_mm) - 1,
        r1 = (int)ceil((c[1] + rmax - g.y0_mm) / g.dx_mm) + 1;
    if (c0 < 0) c0 = 0;
    if (r0 < 0) r0 = 0;
    if (c1 > g.columns - 1) c1 = g.columns - 1;
    if (r1 > g.rows - 1) r1 = g.rows - 1;
    for (int row = r0; row <= r1; row++)
      for (int col = c0; col <= c1; col++) {
        double x = g.x0_mm + col * g.dx_mm, y = g.y0_mm + row * g.dx_mm;
        double dc = sqrt((x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]) + (zk - c[2]) * (zk - c[2]));
        size_t p = (size_t)row * g.columns + col;
        if (dc - h > rmax) continue;
        int n_in = 0, ns = 4 * nzl;
        double sum = 0;
        if (dc + h < rin) { /* wholly inside (and, for a rim lesion, wholly in its core) */
          n_in = ns;
          sum = ns * (l->rim_mm > 0 ? l->core_hu : l->hu);
        } else {
          for (int j = 0; j < nzl; j++) {
            double zz = zk - t / 2 + (j + 0.5) * t / nzl, bgj = hu[b->sub[(size_t)(j / LES_ZSUB) * npx + p]];
            for (int a = 0; a < 4; a++) {
              double px = x + ((a & 1) ? off : -off), py = y + ((a & 2) ? off : -off);
              int in = les_inside(l, c, f, px, py, zz);
              if (in) n_in++;
              sum += in == 2 ? l->core_hu : in == 1 ? l->hu : bgj;
            }
          }
        }
        if (!n_in) continue;
        b->bg[p] = sum / ns;
        if (2 * n_in >= ns) {
          lab[p] = (uint8_t)(i + 1);
          b->label_voxels[i]++;
        }
      }
  }
  char key[96];
  snprintf(key, sizeof key, "lesion-noise/%s/%s/%d", s->subject_id, s->tp[tp], k);
  prng r;
  prng_init(&r, seed, key);
  const uint8_t *mid = b->sub + (size_t)(nz / 2) * npx;
  for (size_t p = 0; p < npx; p++) {
    double v = b->bg[p];
    if (mid[p] != TISSUE_AIR && ph->noise > 0) v += ph->noise * prng_gauss(&r);
    int iv = (int)floor(v + 0.5) + 1024;
    b->pixels[p] = (int16_t)(iv < 0 ? 0 : iv > 4095 ? 4095 : iv);
  }
}

/* ---------------------------------------------------------------------------------------------------------
 */
/* truth: RECIST diameters from the continuous solid */

typedef struct {
  int slice;
  double long_mm, short_mm;
  double p1[2], p2[2], q1[2], q2[2]; /* mm */
  double seed[2];
} recist_truth;

static double slab_frac(const plesion *l, const double c[3], double f, double x, double y, double z0,
                        double t, int nzs) {
  int n = 0;
  for (int j = 0; j < nzs; j++)
    if (les_inside(l, c, f, x, y, z0 - t / 2 + (j + 0.5) * t / nzs)) n++;
  return (double)n / nzs;
}

/* boundary of the slice's region {slab fraction >= 0.5} by radial bisection from the in-plane centre */
static void boundary(double (*pts)[2], int nang, const plesion *l, const double c[3], double f, double z,
                     double t, int nzs, double tol) {
  for (int a = 0; a < nang; a++) {
    double phi = 2 * LS_PI * a / nang, ux = cos(phi), uy = sin(phi);
    double lo = 0, hi = f * l->sh.rmax + 1;
    while (hi - lo > tol) {
      double m = 0.5 * (lo + hi);
      if (slab_frac(l, c, f, c[0] + m * ux, c[1] + m * uy, z, t, nzs) >= 0.5)
        lo = m;
      else
        hi = m;
    }
    double rr = 0.5 * (lo + hi);
    pts[a][0] = c[0] + rr * ux;
    pts[a][1] = c[1] + rr * uy;
  }
}

static double feret(double (*pts)[2], int n, int *ia, int *ib) {
  double best = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      double dx = pts[i][0] - pts[j][0], dy = pts[i][1] - pts[j][1], d = dx * dx + dy * dy;
      if (d > best) {
        best = d;
        *ia = i;
        *ib = j;
      }
    }
  return sqrt(best);
}

#define NANG_FINE 720

static void recist(recist_truth *rt, const phantom *ph, const plesion *l, int tp) {
  const subject *s = &ph->s;
  double c[3], f = ph->scale[tp], t = ph->thickness;
  les_centre(c, ph, l, tp);
  static double pts[NANG_FINE][2];
  double coarse[1000];
  int n = s->slices < 1000 ? s->slices : 1000;
  for (int k = 0; k < n; k++) {
    double z = subject_slice_z(s, k);
    coarse[k] = 0;
    if (fabs(z - c[2]) > f * l->sh.rmax + t) continue;
    if (slab_frac(l, c, f, c[0], c[1], z, t, 16) < 0.5) continue;
    int ia = 0, ib = 0;
    boundary(pts, 120, l, c, f, z, t, 16, 0.05);
    coarse[k] = feret(pts, 120, &ia, &ib);
  }
  /* the two best slices by the coarse boundary, then fine */
  int k1 = -1, k2 = -1;
  for (int k = 0; k < n; k++)
    if (coarse[k] > 0 && (k1 < 0 || coarse[k] > coarse[k1])) k1 = k;
  for (int k = 0; k < n; k++)
    if (k != k1 && coarse[k] > 0 && (k2 < 0 || coarse[k] > coarse[k2])) k2 = k;
  memset(rt, 0, sizeof *rt);
  rt->slice = -1;
  for (int pass = 0; pass < 2; pass++) {
    int k = pass ? k2 : k1;
    if (k < 0) continue;
    double z = subject_slice_z(s, k);
    int ia = 0, ib = 0;
    boundary(pts, NANG_FINE, l, c, f, z, t, 40, 0.005);
    double L = feret(pts, NANG_FINE, &ia, &ib);
    if (L <= rt->long_mm) continue;
    rt->slice = k;
    rt->long_mm = L;
    memcpy(rt->p1, pts[ia], sizeof rt->p1);
    memcpy(rt->p2, pts[ib], sizeof rt->p2);
    /* short axis: the longest chord perpendicular to the long axis (edges crossed by each perpendicular line)
     */
    double e[2] = {(rt->p2[0] - rt->p1[0]) / L, (rt->p2[1] - rt->p1[1]) / L}, nrm[2] = {-e[1], e[0]};
    double best = 0;
    for (double sp = 0.02; sp < L; sp += 0.02) {
      double wmin = 1e30, wmax = -1e30;
      for (int i = 0; i < NANG_FINE; i++) {
        const double *a = pts[i], *b2 = pts[(i + 1) % NANG_FINE];
        double sa = (a[0] - rt->p1[0]) * e[0] + (a[1] - rt->p1[1]) * e[1];
        double sb = (b2[0] - rt->p1[0]) * e[0] + (b2[1] - rt->p1[1]) * e[1];
        if ((sa - sp) * (sb - sp) > 0 || sa == sb) continue;
        double u = (sp - sa) / (sb - sa);
        double px = a[0] + u * (b2[0] - a[0]), py = a[1] + u * (b2[1] - a[1]);
        double w = (px - rt->p1[0]) * nrm[0] + (py - rt->p1[1]) * nrm[1];
        if (w < wmin) wmin = w;
        if (w > wmax) wmax = w;
      }
      if (wmax > wmin && wmax - wmin > best) {
        best = wmax - wmin;
        for (int q = 0; q < 2; q++) {
          rt->q1[q] = rt->p1[q] + sp * e[q] + wmin * nrm[q];
          rt->q2[q] = rt->p1[q] + sp * e[q] + wmax * nrm[q];
        }
      }
    }
    rt->short_mm = best;
    /* click point: the point of the region farthest from its boundary (for a rim lesion: in the core, 2 mm
     * in) */
    double bx0 = 1e30, bx1 = -1e30, by0 = 1e30, by1 = -1e30;
    for (int i = 0; i < NANG_FINE; i++) {
      if (pts[i][0] < bx0) bx0 = pts[i][0];
      if (pts[i][0] > bx1) bx1 = pts[i][0];
      if (pts[i][1] < by0) by0 = pts[i][1];
      if (pts[i][1] > by1) by1 = pts[i][1];
    }
    double bestd = -1;
    rt->seed[0] = c[0];
    rt->seed[1] = c[1];
    for (double y = by0; y <= by1; y += 1.0)
      for (double x = bx0; x <= bx1; x += 1.0) {
        double phi = atan2(y - c[1], x - c[0]);
        if (phi < 0) phi += 2 * LS_PI;
        int a = (int)(phi / (2 * LS_PI) * NANG_FINE) % NANG_FINE;
        double ra = hypot(pts[a][0] - c[0], pts[a][1] - c[1]);
        if (hypot(x - c[0], y - c[1]) > ra - 1) continue;
        if (l->rim_mm > 0) {
          double d[3] = {x - c[0], y - c[1], z - c[2]};
          double rr = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
          if (rr > 1e-9 && rr + 2 > f * star_radius(&l->sh, d) - l->rim_mm) continue;
        }
        double dmin = 1e30;
        for (int i = 0; i < NANG_FINE; i += 2) {
          double dd = (x - pts[i][0]) * (x - pts[i][0]) + (y - pts[i][1]) * (y - pts[i][1]);
          if (dd < dmin) dmin = dd;
        }
        if (dmin > bestd) {
          bestd = dmin;
          rt->seed[0] = x;
          rt->seed[1] = y;
        }
      }
  }
}

/* ---------------------------------------------------------------------------------------------------------
 */
/* output */

static void fmt_num(char *out, size_t n, double v) {
  snprintf(out, n, "%.6f", v);
  char *dot = strchr(out, '.');
  if (dot) {
    char *e = out + strlen(out) - 1;
    while (e > dot && *e == '0')
      *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (strcmp(out, "-0") == 0) strcpy(out, "0");
}

static int write_nrrd(const char *path, const phantom *ph, const uint8_t *labels, rcy_error *err) {
  const subject *s = &ph->s;
  plane_grid g;
  subject_grid(&g, s);
  size_t n = (size_t)g.rows * g.columns * s->slices;
  char dx[32], t[32], x0[32], y0[32], z0[32];
  fmt_num(dx, sizeof dx, g.dx_mm);
  fmt_num(t, sizeof t, ph->thickness);
  fmt_num(x0, sizeof x0, g.x0_mm);
  fmt_num(y0, sizeof y0, g.y0_mm);
  fmt_num(z0, sizeof z0, subject_slice_z(s, 0));
  uLong bound = compressBound((uLong)n) + 64;
  unsigned char *z = malloc(bound);
  if (!z) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  int zrc = deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); /* gzip wrapper, mtime 0 */
  if (zrc != Z_OK) {
    free(z);
    return rcy_error_set(err, RCY_EINTERNAL, "zlib: cannot start deflate");
  }
  zs.next_in = (Bytef *)labels;
  zs.avail_in = (uInt)n;
  zs.next_out = z;
  zs.avail_out = (uInt)bound;
  zrc = deflate(&zs, Z_FINISH);
  size_t zn = zs.total_out;
  deflateEnd(&zs);
  if (zrc != Z_STREAM_END) {
    free(z);
    return rcy_error_set(err, RCY_EINTERNAL, "zlib: deflate failed");
  }
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    free(z);
    return rcy_error_set(err, RCY_EIO, "cannot create %s", path);
  }
  fprintf(fp,
          "NRRD0004\n# recistry lesion phantom labels (docs/sample.md): lesion label = index + 1, 0 = none\n"
          "type: uint8\ndimension: 3\nspace: left-posterior-superior\nsizes: %d %d %d\n"
          "space directions: (%s,0,0) (0,%s,0) (0,0,%s)\nkinds: domain domain domain\nencoding: gzip\n"
          "space origin: (%s,%s,%s)\n\n",
          g.columns, g.rows, s->slices, dx, dx, t, x0, y0, z0);
  size_t w = fwrite(z, 1, zn, fp);
  free(z);
  if (fclose(fp) != 0 || w != zn) return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  return RCY_OK;
}

static json_t *r2(double v) {
  return json_real(round(v * 100) / 100);
}
static json_t *pix(const plane_grid *g, const double p[2]) {
  return json_pack("[oo]", r2((p[0] - g->x0_mm) / g->dx_mm), r2((p[1] - g->y0_mm) / g->dx_mm));
}

static json_t *lesion_json(const phantom *ph, const plesion *l, int idx, int tp, uint64_t seed,
                           const uint8_t *labels, size_t label_voxels) {
  const subject *s = &ph->s;
  plane_grid g;
  subject_grid(&g, s);
  double c[3], f = ph->scale[tp];
  les_centre(c, ph, l, tp);
  recist_truth rt;
  recist(&rt, ph, l, tp);
  json_t *j =
      json_pack("{s:s, s:s, s:i, s:s, s:b, s:f, s:f}", "id", l->id, "type", type_names[l->type], "label",
                idx + 1, "organ", l->organ, "nodal", l->nodal, "host_hu", l->host_hu, "lesion_hu", l->hu);
  if (l->rim_mm > 0) {
    json_object_set_new(j, "core_hu", json_real(l->core_hu));
    json_object_set_new(j, "rim_mm", json_real(l->rim_mm));
  }
  json_object_set_new(j, "center_mm", json_pack("[ooo]", r2(c[0]), r2(c[1]), r2(c[2])));
  if (l->touches) {
    double a[3];
    for (int q = 0; q < 3; q++)
      a[q] = l->anchor[q] + ph->shift[tp][q];
    json_object_set_new(j, "touches", json_string(l->touches));
    json_object_set_new(j, "touch_point_mm", json_pack("[ooo]", r2(a[0]), r2(a[1]), r2(a[2])));
    int tk = (int)lround((a[2] - subject_slice_z(s, 0)) / ph->thickness);
    json_object_set_new(j, "touch_slice_index", json_integer(tk));
  }
  json_object_set_new(j, "scale_from_baseline", json_real(f));
  if (rt.slice >= 0) {
    char uid[RCY_DICOM_UID_SIZE];
    instance_uid_for(uid, seed, s, tp, slice_instance_number(s, rt.slice));
    long col = lround((rt.seed[0] - g.x0_mm) / g.dx_mm), row = lround((rt.seed[1] - g.y0_mm) / g.dx_mm);
    /* the click must be on the lesion's label: nearest labelled pixel otherwise (not expected) */
    const uint8_t *lab = labels + (size_t)rt.slice * g.rows * g.columns;
    if (lab[(size_t)row * g.columns + col] != idx + 1) {
      double bd = 1e30;
      for (int rr = 0; rr < g.rows; rr++)
        for (int cc = 0; cc < g.columns; cc++)
          if (lab[(size_t)rr * g.columns + cc] == idx + 1) {
            double d = (rr - row) * (double)(rr - row) + (cc - col) * (double)(cc - col);
            if (d < bd) bd = d, row = rr, col = cc;
          }
    }
    json_object_set_new(j, "seed",
                        json_pack("{s:s, s:i, s:i, s:i}", "sop_instance_uid", uid, "col", (int)col, "row",
                                  (int)row, "slice_index", rt.slice));
    json_object_set_new(j, "long_mm", r2(rt.long_mm));
    json_object_set_new(j, "short_mm", r2(rt.short_mm));
    json_object_set_new(j, "slice_z_mm", r2(subject_slice_z(s, rt.slice)));
    json_object_set_new(j, "long_axis",
                        json_pack("{s:s, s:o, s:o, s:i}", "sop_instance_uid", uid, "p1", pix(&g, rt.p1), "p2",
                                  pix(&g, rt.p2), "slice_index", rt.slice));
    json_object_set_new(j, "short_axis",
                        json_pack("{s:s, s:o, s:o, s:i}", "sop_instance_uid", uid, "p1", pix(&g, rt.q1), "p2",
                                  pix(&g, rt.q2), "slice_index", rt.slice));
  }
  json_object_set_new(j, "volume_ml", json_real(round(l->volume_bl_mm3 * f * f * f) / 1000.0));
  json_object_set_new(j, "label_voxels", json_integer((json_int_t)label_voxels));
  return j;
}

static int write_phantom(const rcy_sample_options *o, phantom *ph, rcy_sample_stats *stats, rcy_error *err) {
  subject *s = &ph->s;
  plane_grid g;
  subject_grid(&g, s);
  size_t npx = (size_t)g.rows * g.columns;
  render_buf b;
  memset(&b, 0, sizeof b);
  b.pixels = malloc(npx * sizeof *b.pixels);
  b.labels = malloc(npx * s->slices);
  b.sub = malloc(npx * ph->nz);
  b.bg = malloc(npx * sizeof *b.bg);
  int rc = b.pixels && b.labels && b.sub && b.bg ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  json_t *tps = json_array();
  char dir[3072], path[4096];
  for (int tp = 0; tp < N_TP && !rc; tp++) {
    snprintf(dir, sizeof dir, "%s/%s/%s/%s", o->out_dir, s->site, s->subject_id, s->tp[tp]);
    rc = make_dirs(dir, err);
    if (rc) break;
    series_job job = {.s = s, .tp = tp, .seed = o->seed, .noise_hu = ph->noise, .out_dir = dir};
    series_uids_for(&job.uids, o->seed, s, tp);
    rcy_dicom_dataset *tmpl = NULL;
    rc = series_template(&tmpl, &job, err);
    memset(b.label_voxels, 0, sizeof b.label_voxels);
    for (int k = 0; k < s->slices && !rc; k++) {
      render_slice(ph, tp, k, o->seed, &b);
      rcy_dicom_dataset *img = NULL;
      rc = rcy_dicom_dataset_clone(&img, tmpl, err);
      if (!rc) rc = series_image(img, &job, k, b.pixels, err);
      if (!rc) {
        char name[32];
        slice_file_name(name, s, k);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        rc = write_dataset(img, path, stats, err);
      }
      rcy_dicom_dataset_free(img);
    }
    rcy_dicom_dataset_free(tmpl);
    if (rc) break;
    stats->studies++;
    snprintf(path, sizeof path, "%s/lesions/%s", o->out_dir, s->subject_id);
    rc = make_dirs(path, err);
    snprintf(path, sizeof path, "%s/lesions/%s/%s.nrrd", o->out_dir, s->subject_id, s->tp[tp]);
    if (!rc) rc = write_nrrd(path, ph, b.labels, err);
    if (rc) break;
    char rel[256], series_dir[256], px[32];
    snprintf(rel, sizeof rel, "lesions/%s/%s.nrrd", s->subject_id, s->tp[tp]);
    snprintf(series_dir, sizeof series_dir, "%s/%s/%s", s->site, s->subject_id, s->tp[tp]);
    fmt_num(px, sizeof px, g.dx_mm);
    json_t *les = json_array();
    for (int i = 0; i < LT_COUNT; i++)
      json_array_append_new(les, lesion_json(ph, &ph->les[i], i, tp, o->seed, b.labels, b.label_voxels[i]));
    char z0[32];
    fmt_num(z0, sizeof z0, subject_slice_z(s, 0));
    json_t *e = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:i, s:i, s:f, s:[fff], s:s, s:s}",
                          "timepoint", s->tp[tp], "study_uid", job.uids.study, "series_uid", job.uids.series,
                          "slice_thickness_mm", ph->thickness, "slice_spacing_mm", ph->thickness,
                          "pixel_spacing_mm", atof(px), "columns", g.columns, "rows", g.rows, "slices",
                          s->slices, "noise_hu", ph->noise, "shift_mm", ph->shift[tp][0], ph->shift[tp][1],
                          ph->shift[tp][2], "label_volume", rel, "series_dir", series_dir);
    json_object_set_new(e, "first_slice_position_mm", json_pack("[fff]", g.x0_mm, g.y0_mm, atof(z0)));
    json_object_set_new(e, "lesions", les);
    json_array_append_new(tps, e);
  }
  if (!rc) {
    const plesion *vl = &ph->les[LT_VESSEL];
    (void)vl;
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:s, s:f}", "subject", s->subject_id, "site", s->site, "phantom", ph->name,
                  "description", ph->description, "follow_up_scale", FU_SCALE);
    json_object_set_new(root, "vessel",
                        json_pack("{s:s, s:[fff], s:f, s:f, s:f}", "shape",
                                  "craniocaudal ellipsoid (baseline position; shifted with the patient)",
                                  "center_mm", round(ph->vessel.c[0] * 100) / 100,
                                  round(ph->vessel.c[1] * 100) / 100, round(ph->vessel.c[2] * 100) / 100,
                                  "radius_mm", ph->vessel.r[0], "half_length_mm", ph->vessel.r[2], "hu",
                                  tissue_ct_hu(TISSUE_AORTA)));
    json_object_set_new(root, "timepoints", tps);
    tps = NULL;
    snprintf(path, sizeof path, "%s/lesions/%s.json", o->out_dir, s->subject_id);
    if (json_dump_file(root, path, DUMP_FLAGS) != 0)
      rc = rcy_error_set(err, RCY_EIO, "cannot write %s", path);
    json_decref(root);
  }
  json_decref(tps);
  free(b.pixels);
  free(b.labels);
  free(b.sub);
  free(b.bg);
  return rc;
}

int lesion_phantoms_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err) {
  init_dirs();
  phantom *ph = calloc(1, sizeof *ph);
  if (!ph) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  int rc = RCY_OK, written = 0;
  for (int i = 0; i < N_PHANTOMS && !rc; i++) {
    rc = build_phantom(ph, i, o->seed, err);
    if (!rc && (!o->phantom || strcmp(o->phantom, ph->name) == 0)) {
      rc = write_phantom(o, ph, stats, err);
      if (!rc) stats->subjects++, written++;
    }
    free_phantom(ph);
  }
  free(ph);
  if (!rc && !written)
    rc = rcy_error_set(err, RCY_EINVAL, "no lesion phantom named \"%s\" (standard, thick or lowdose)", o->phantom);
  return rc;
}
