/* The dose pictures' scale: the Turbo colour wash and the dose at its top (dose.h), with the tick step the colour
 * bar shares. No drawing here: this is linked into the program itself, the drawing (render_fused.c, cairo) into
 * the render module (include/recistry/module.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dose_internal.h"

/* matplotlib's "turbo" (Mikhailov 2019) sampled at 33 points 0, 1/32, ..., 1; linear in between (at most
 * 3.3/255 off the 256-entry table). */
static const double turbo[33][3] = {
    {0.1900, 0.0718, 0.2322}, {0.2250, 0.1635, 0.4510}, {0.2511, 0.2524, 0.6337}, {0.2682, 0.3382, 0.7805},
    {0.2763, 0.4212, 0.8912}, {0.2754, 0.5011, 0.9659}, {0.2586, 0.5796, 0.9988}, {0.2138, 0.6589, 0.9796},
    {0.1584, 0.7355, 0.9231}, {0.1117, 0.8057, 0.8452}, {0.0927, 0.8655, 0.7623}, {0.1201, 0.9119, 0.6866},
    {0.1966, 0.9490, 0.5947}, {0.3051, 0.9770, 0.4899}, {0.4278, 0.9942, 0.3857}, {0.5466, 0.9991, 0.2958},
    {0.6436, 0.9900, 0.2336}, {0.7260, 0.9647, 0.2064}, {0.8047, 0.9245, 0.2046}, {0.8753, 0.8727, 0.2155},
    {0.9330, 0.8124, 0.2267}, {0.9732, 0.7468, 0.2254}, {0.9931, 0.6741, 0.2035}, {0.9959, 0.5870, 0.1690},
    {0.9836, 0.4929, 0.1285}, {0.9580, 0.3996, 0.0883}, {0.9211, 0.3149, 0.0548}, {0.8742, 0.2453, 0.0330},
    {0.8161, 0.1846, 0.0181}, {0.7462, 0.1310, 0.0085}, {0.6645, 0.0844, 0.0042}, {0.5710, 0.0447, 0.0053},
    {0.4796, 0.0158, 0.0106},
};

void rcy_dose_render_colour(double rgb[3], double dose_gy, double dose_max_gy) {
  double t = dose_max_gy > 0 ? dose_gy / dose_max_gy : 0;
  if (!(t > 0)) t = 0; /* NaN too */
  if (t > 1) t = 1;
  double x = t * 32;
  int k = (int)x;
  if (k >= 32) k = 31;
  double f = x - k;
  for (int c = 0; c < 3; c++) rgb[c] = turbo[k][c] + f * (turbo[k + 1][c] - turbo[k][c]);
}

/* A tick step of 1, 2 or 5 × 10^k giving about `want` intervals over span. */
double rcy_dose_render_step(double span, int want) {
  if (!(span > 0)) return 1;
  double raw = span / want, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

double rcy_dose_render_auto_max_gy(const rcy_dose_grid *dose) {
  size_t n = dose && dose->values ? rcy_dose_grid_voxels(dose) : 0;
  double hi = 0;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++)
    if (dose->values[i] > 0) {
      pos++;
      if (dose->values[i] > hi) hi = dose->values[i];
    }
  if (!pos || !(hi > 0) || !isfinite(hi)) return 1;
  /* the percentile from two histogram passes (coarse over 0..max, then fine inside the bin that holds it):
   * no copy or sort of a 512×512×300 grid, and within max / 8192² below it */
  enum { BINS = 8192 };
  size_t *h = calloc(BINS, sizeof *h);
  double p99 = hi;
  if (h) {
    const size_t want = (size_t)ceil(0.99 * (double)pos);
    double lo = 0, width = hi;
    size_t below = 0; /* positive voxels under lo */
    for (int pass = 0; pass < 2; pass++) {
      memset(h, 0, BINS * sizeof *h);
      for (size_t i = 0; i < n; i++) {
        double v = dose->values[i];
        if (!(v > 0) || v < lo || v > lo + width) continue;
        size_t b = (size_t)((v - lo) / width * BINS);
        h[b < BINS ? b : BINS - 1]++;
      }
      size_t acc = below, b = 0;
      for (; b < BINS; b++) {
        if (acc + h[b] >= want) break;
        acc += h[b];
      }
      if (b == BINS) b = BINS - 1;
      below = acc;
      lo += width * (double)b / BINS;
      width /= BINS;
      p99 = lo; /* the lower edge: a plateau of equal doses (a uniform phantom) gives its own value */
    }
    free(h);
  }
  if (p99 > hi) p99 = hi;
  double step = rcy_dose_render_step(p99, 5);
  double m = ceil(p99 / step - 1e-9) * step;
  return m >= 1 ? m : 1;
}

