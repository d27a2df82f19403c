/* Star-shaped lesion solids for the lesion phantoms: a radial function R(u) of the direction u from the
 * lesion's centre, an anisotropic ellipsoid base (semi-axes a, rotated) times a modulation
 *   1 + sum_j A_j exp(kappa (u.d_j - 1))          smooth lobes around directions d_j
 *     + sum_k B_k Re(e^{-i psi_k} (u.e1_k + i u.e2_k)^m_k)   sectoral spherical harmonics of degree m_k
 * scaled to mm. The solid is { c + r u : 0 <= r <= R(u) }. R is tabulated once on a cube map (6 faces of
 * (LS_N+1)^2 nodes, bilinear between nodes, continuous across face edges because the nodes on a shared edge
 * are the same directions): the tabulated function IS the solid, so the image, the label volume, the volume
 * and the RECIST truth all describe exactly the same object. A lookup costs one division per axis. */
#include "lesion_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double star_radius_analytic(const star_shape *s, const double u[3]) {
  double l[3];
  for (int k = 0; k < 3; k++)
    l[k] = s->rot[0][k] * u[0] + s->rot[1][k] * u[1] + s->rot[2][k] * u[2];
  double q = 0;
  for (int k = 0; k < 3; k++)
    q += (l[k] / s->a[k]) * (l[k] / s->a[k]);
  double m = 1.0;
  for (int j = 0; j < s->n_lobes; j++) {
    double dot = l[0] * s->lobe_dir[j][0] + l[1] * s->lobe_dir[j][1] + l[2] * s->lobe_dir[j][2];
    m += s->lobe_amp[j] * exp(s->lobe_kappa * (dot - 1.0));
  }
  for (int j = 0; j < s->n_harm; j++) {
    double x = l[0] * s->h_e1[j][0] + l[1] * s->h_e1[j][1] + l[2] * s->h_e1[j][2];
    double y = l[0] * s->h_e2[j][0] + l[1] * s->h_e2[j][1] + l[2] * s->h_e2[j][2];
    double re = 1, im = 0;
    for (int p = 0; p < s->h_m[j]; p++) {
      double nr = re * x - im * y, ni = re * y + im * x;
      re = nr;
      im = ni;
    }
    m += s->h_amp[j] * (re * cos(s->h_phase[j]) + im * sin(s->h_phase[j]));
  }
  return s->scale * m / sqrt(q);
}

static void face_dir(double u[3], int face, int i, int j) {
  int axis = face / 2, o1 = (axis + 1) % 3, o2 = (axis + 2) % 3;
  u[axis] = (face & 1) ? -1.0 : 1.0;
  u[o1] = -1.0 + 2.0 * i / LS_N;
  u[o2] = -1.0 + 2.0 * j / LS_N;
  double n = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  for (int k = 0; k < 3; k++)
    u[k] /= n;
}

int star_build_table(star_shape *s) {
  size_t n = (size_t)6 * (LS_N + 1) * (LS_N + 1);
  free(s->tab);
  s->tab = malloc(n * sizeof *s->tab);
  if (!s->tab) return -1;
  s->rmin = 1e30;
  s->rmax = 0;
  for (int f = 0; f < 6; f++)
    for (int i = 0; i <= LS_N; i++)
      for (int j = 0; j <= LS_N; j++) {
        double u[3];
        face_dir(u, f, i, j);
        double r = star_radius_analytic(s, u);
        s->tab[((size_t)f * (LS_N + 1) + i) * (LS_N + 1) + j] = r;
        if (r < s->rmin) s->rmin = r;
        if (r > s->rmax) s->rmax = r;
      }
  return 0;
}

void star_free(star_shape *s) {
  free(s->tab);
  s->tab = NULL;
}

double star_volume_mm3(const star_shape *s) {
  /* V = 1/3 \int R^3 dOmega; dOmega = d(uz) dphi (Archimedes), midpoint rule */
  enum { nu = 800, nphi = 1600 };
  static double cs[nphi][2];
  if (cs[0][0] == 0)
    for (int b = 0; b < nphi; b++) {
      double phi = (b + 0.5) * 2.0 * LS_PI / nphi;
      cs[b][0] = cos(phi);
      cs[b][1] = sin(phi);
    }
  double sum = 0;
  for (int a = 0; a < nu; a++) {
    double uz = -1.0 + (a + 0.5) * 2.0 / nu, rr = sqrt(1.0 - uz * uz), row = 0;
    for (int b = 0; b < nphi; b++) {
      double d[3] = {rr * cs[b][0], rr * cs[b][1], uz};
      double r = star_radius(s, d);
      row += r * r * r;
    }
    sum += row;
  }
  return sum * (2.0 / nu) * (2.0 * LS_PI / nphi) / 3.0;
}

void star_frame(star_shape *s, double theta, double tilt) {
  /* columns: local axes in patient coordinates; Rz(theta) * Rx(tilt) */
  double ct = cos(theta), st = sin(theta), cx = cos(tilt), sx = sin(tilt);
  double m[3][3] = {{ct, -st * cx, st * sx}, {st, ct * cx, -ct * sx}, {0, sx, cx}};
  memcpy(s->rot, m, sizeof m);
}
