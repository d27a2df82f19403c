/* The phantom's anatomy: a thoraco-abdominal body built from ellipses (cylinders along z) and ellipsoids,
 * painted in order so later shapes cover earlier ones (lungs first, then liver and spleen over the lung
 * bases, as the diaphragm domes do). Slices are rasterised row by row: each shape's cross-section is an
 * ellipse whose extent on a row comes from a quadratic, so a 512x512 slice costs a few thousand operations
 * before noise. The same inside test (anatomy_label_at) places lesions wholly inside their organ. */
#include "sample_internal.h"

#include <math.h>
#include <string.h>

static void add(anatomy *a, double cx, double cy, double cz, double rx, double ry, double rz, double theta,
                uint8_t label, int clip) {
  shape *s = &a->s[a->n++];
  s->c[0] = cx;
  s->c[1] = cy;
  s->c[2] = cz;
  s->r[0] = rx;
  s->r[1] = ry;
  s->r[2] = rz;
  s->theta = theta;
  s->label = label;
  s->clip = clip;
}

void anatomy_build(anatomy *a, double k) {
  a->n = 0;
  /* body wall: subcutaneous fat, muscle, then the cavity (index ANATOMY_CAVITY) */
  add(a, 0, 0, 0, 170 * k, 125 * k, 0, 0, TISSUE_FAT, 0);
  add(a, 0, 0, 0, 160 * k, 115 * k, 0, 0, TISSUE_MUSCLE, 0);
  add(a, 0, 0, 0, 150 * k, 105 * k, 0, 0, TISSUE_VFAT, 0);
  /* lung bases behind the diaphragm domes */
  add(a, -85 * k, 40 * k, 100, 62 * k, 65 * k, 125, 0, TISSUE_LUNG, 1);
  add(a, 85 * k, 40 * k, 100, 60 * k, 65 * k, 125, 0, TISSUE_LUNG, 1);
  /* liver (right, anterior), spleen (left, posterior), kidneys (lower) */
  add(a, -75 * k, -5 * k, -40, 85 * k, 80 * k, 110, 0.15, TISSUE_LIVER, 1);
  add(a, 95 * k, 50 * k, -30, 38 * k, 52 * k, 60, 0.5, TISSUE_SPLEEN, 1);
  add(a, -70 * k, 62 * k, -115, 30 * k, 24 * k, 55, -0.4, TISSUE_KIDNEY, 1);
  add(a, 72 * k, 60 * k, -105, 30 * k, 24 * k, 55, 0.4, TISSUE_KIDNEY, 1);
  /* great vessels */
  add(a, 18 * k, 40 * k, 0, 12 * k, 12 * k, 0, 0, TISSUE_AORTA, 0);
  add(a, -22 * k, 35 * k, 0, 12 * k, 9 * k, 0, 0, TISSUE_IVC, 0);
  /* vertebra: body (cortex over marrow), arch, canal; paraspinal muscles */
  add(a, 0, 65 * k, 0, 19 * k, 17 * k, 0, 0, TISSUE_CORTEX, 0);
  add(a, 0, 65 * k, 0, 16 * k, 14 * k, 0, 0, TISSUE_MARROW, 0);
  add(a, 0, 93 * k, 0, 20 * k, 10 * k, 0, 0, TISSUE_CORTEX, 0);
  add(a, 0, 86 * k, 0, 8 * k, 7 * k, 0, 0, TISSUE_CSF, 0);
  add(a, -36 * k, 95 * k, 0, 20 * k, 13 * k, 0.3, 0, TISSUE_MUSCLE, 0);
  add(a, 36 * k, 95 * k, 0, 20 * k, 13 * k, -0.3, 0, TISSUE_MUSCLE, 0);
  /* ribs in the muscle wall */
  for (int i = 0; i < 10; i++) {
    double phi = -2.6 + i * (5.2 / 9.0) + 3.14159265358979 / 2;
    add(a, 155 * k * cos(phi), 110 * k * sin(phi), 0, 5 * k, 4 * k, 0, phi, TISSUE_CORTEX, 0);
  }
}

/* In-plane semi-axes of a shape's cross-section at height z; 0 when the plane misses it. */
static int section(const shape *s, double z, double *ra, double *rb) {
  double f = 1.0;
  if (s->r[2] > 0) {
    double t = (z - s->c[2]) / s->r[2];
    if (t <= -1.0 || t >= 1.0) return 0;
    f = sqrt(1.0 - t * t);
  }
  *ra = s->r[0] * f;
  *rb = s->r[1] * f;
  return 1;
}

static int inside(const shape *s, const double p[3]) {
  double ra, rb;
  if (!section(s, p[2], &ra, &rb)) return 0;
  double dx = p[0] - s->c[0], dy = p[1] - s->c[1];
  double u = dx * cos(s->theta) + dy * sin(s->theta), v = -dx * sin(s->theta) + dy * cos(s->theta);
  return (u * u) / (ra * ra) + (v * v) / (rb * rb) <= 1.0;
}

uint8_t anatomy_label_at(const anatomy *a, const double p[3]) {
  for (int i = a->n - 1; i >= 0; i--) {
    const shape *s = &a->s[i];
    if (inside(s, p) && (!s->clip || inside(&a->s[ANATOMY_CAVITY], p))) return s->label;
  }
  return TISSUE_AIR;
}

/* The x interval of row y inside the ellipse (ra, rb, theta) centred at (cx, cy). */
static int row_span(double cx, double cy, double ra, double rb, double theta, double y, double *xa, double *xb) {
  double c = cos(theta), s = sin(theta), yy = y - cy;
  double ia = 1.0 / (ra * ra), ib = 1.0 / (rb * rb);
  double A = c * c * ia + s * s * ib;
  double B = 2.0 * yy * c * s * (ia - ib);
  double C = yy * yy * (s * s * ia + c * c * ib) - 1.0;
  double disc = B * B - 4.0 * A * C;
  if (disc < 0) return 0;
  double q = sqrt(disc);
  *xa = cx + (-B - q) / (2.0 * A);
  *xb = cx + (-B + q) / (2.0 * A);
  return 1;
}

static void paint(uint8_t *labels, const plane_grid *g, double z, const shape *sh, const shape *cavity) {
  double ra, rb;
  if (!section(sh, z, &ra, &rb)) return;
  double ext = sqrt(ra * ra * sin(sh->theta) * sin(sh->theta) + rb * rb * cos(sh->theta) * cos(sh->theta));
  int j0 = (int)ceil((sh->c[1] - ext - g->y0_mm) / g->dx_mm), j1 = (int)floor((sh->c[1] + ext - g->y0_mm) / g->dx_mm);
  if (j0 < 0) j0 = 0;
  if (j1 > g->rows - 1) j1 = g->rows - 1;
  for (int j = j0; j <= j1; j++) {
    double y = g->y0_mm + j * g->dx_mm, xa, xb;
    if (!row_span(sh->c[0], sh->c[1], ra, rb, sh->theta, y, &xa, &xb)) continue;
    if (sh->clip) {
      double ca, cb;
      if (!row_span(cavity->c[0], cavity->c[1], cavity->r[0], cavity->r[1], cavity->theta, y, &ca, &cb)) continue;
      if (ca > xa) xa = ca;
      if (cb < xb) xb = cb;
    }
    int i0 = (int)ceil((xa - g->x0_mm) / g->dx_mm), i1 = (int)floor((xb - g->x0_mm) / g->dx_mm);
    if (i0 < 0) i0 = 0;
    if (i1 > g->columns - 1) i1 = g->columns - 1;
    if (i1 >= i0) memset(labels + (size_t)j * g->columns + i0, sh->label, (size_t)(i1 - i0 + 1));
  }
}

void anatomy_paint_slice(uint8_t *labels, const plane_grid *g, double z_mm, const anatomy *a, const shape *extra,
                         int n_extra) {
  memset(labels, TISSUE_AIR, (size_t)g->rows * g->columns);
  for (int i = 0; i < a->n; i++) paint(labels, g, z_mm, &a->s[i], &a->s[ANATOMY_CAVITY]);
  for (int i = 0; i < n_extra; i++) paint(labels, g, z_mm, &extra[i], &a->s[ANATOMY_CAVITY]);
}
