/* Clopper–Pearson exact confidence interval of a proportion (Clopper & Pearson, Biometrika 1934;26:404),
 * as R's binom.test: lower = qbeta(α/2, x, n − x + 1) (0 when x = 0), upper = qbeta(1 − α/2, x + 1, n − x)
 * (1 when x = n). */
#include <math.h>

#include "recistry/qa.h"

int rcy_qa_clopper_pearson(double *lower, double *upper, size_t count, size_t n, double conf, rcy_error *err) {
  *lower = *upper = NAN;
  if (n == 0) return rcy_error_set(err, RCY_EINVAL, "a proportion of 0 subjects has no confidence interval");
  if (count > n) return rcy_error_set(err, RCY_EINVAL, "count %zu exceeds n %zu", count, n);
  if (!(conf > 0 && conf < 1)) return rcy_error_set(err, RCY_EINVAL, "confidence level must be in (0, 1)");
  const double alpha = 1.0 - conf, x = (double)count, nn = (double)n;
  *lower = count == 0 ? 0.0 : rcy_qa_beta_inv(alpha / 2.0, x, nn - x + 1.0);
  *upper = count == n ? 1.0 : rcy_qa_beta_inv(1.0 - alpha / 2.0, x + 1.0, nn - x);
  return 0;
}
