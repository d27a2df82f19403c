/* Lesion phantoms' star-shaped solids (lesion_shapes.c), shared with lesion_phantom.c. */
#ifndef RECISTRY_SAMPLE_LESION_INTERNAL_H
#define RECISTRY_SAMPLE_LESION_INTERNAL_H

#include "sample_internal.h"

#include <math.h>

#define LS_N 96 /* cube-map cells per face edge */
#define LS_PI 3.14159265358979323846
#define LS_MAX_LOBES 6
#define LS_MAX_HARM 8

typedef struct {
  double rot[3][3]; /* columns: the local axes in patient coordinates */
  double a[3];      /* base ellipsoid semi-axes (relative) */
  int n_lobes;
  double lobe_dir[LS_MAX_LOBES][3], lobe_amp[LS_MAX_LOBES], lobe_kappa;
  int n_harm;
  double h_e1[LS_MAX_HARM][3], h_e2[LS_MAX_HARM][3], h_amp[LS_MAX_HARM], h_phase[LS_MAX_HARM];
  int h_m[LS_MAX_HARM];
  double scale; /* mm */
  double *tab;  /* cube map of R, mm */
  double rmin, rmax;
} star_shape;

/* R(u) from the formula (u a unit vector). */
double star_radius_analytic(const star_shape *s, const double u[3]);
/* Tabulates R (after the parameters and scale are set); sets rmin, rmax. 0 or -1 (no memory). */
int star_build_table(star_shape *s);
void star_free(star_shape *s);
/* Volume of the tabulated solid, mm^3 (numerical integration of R^3/3 over the sphere). */
double star_volume_mm3(const star_shape *s);
/* Sets rot from an in-plane angle and a tilt about the local x axis. */
void star_frame(star_shape *s, double theta, double tilt);

/* R in the direction of d (any non-zero vector), from the table. */
static inline double star_radius(const star_shape *s, const double d[3]) {
  double ax = fabs(d[0]), ay = fabs(d[1]), az = fabs(d[2]), m;
  int axis;
  if (ax >= ay && ax >= az) {
    axis = 0;
    m = ax;
  } else if (ay >= az) {
    axis = 1;
    m = ay;
  } else {
    axis = 2;
    m = az;
  }
  if (m == 0) return s->rmin;
  int face = 2 * axis + (d[axis] < 0), o1 = (axis + 1) % 3, o2 = (axis + 2) % 3;
  double a = (d[o1] / m + 1.0) * 0.5 * LS_N, b = (d[o2] / m + 1.0) * 0.5 * LS_N;
  int i = (int)a, j = (int)b;
  if (i > LS_N - 1) i = LS_N - 1;
  if (j > LS_N - 1) j = LS_N - 1;
  if (i < 0) i = 0;
  if (j < 0) j = 0;
  double fa = a - i, fb = b - j;
  const double *t = s->tab + ((size_t)face * (LS_N + 1) + i) * (LS_N + 1) + j;
  return (1 - fa) * ((1 - fb) * t[0] + fb * t[1]) + fa * ((1 - fb) * t[LS_N + 1] + fb * t[LS_N + 2]);
}

#endif
