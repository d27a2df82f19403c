/* Sample quantiles by R's default rule (Hyndman & Fan, Am Stat 1996;50:361, definition 7): with
 * h = (n − 1)p, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋ + 1] − x[⌊h⌋]) over the sorted sample (0-based). */
#include <math.h>

#include "recistry/qa.h"

double rcy_qa_quantile7(const double *sorted, size_t n, double p) {
  if (n == 0 || !(p >= 0 && p <= 1)) return NAN;
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  double frac = h - (double)lo;
  /* R computes (1 − f)·x[lo] + f·x[lo+1] only where f > 0, so an exact order statistic is returned as is. */
  return frac == 0 ? sorted[lo] : (1.0 - frac) * sorted[lo] + frac * sorted[lo + 1];
}
