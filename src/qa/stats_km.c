/* Kaplan–Meier estimator (Kaplan & Meier, JASA 1958;53:457) with Greenwood's variance and the log-scale
 * pointwise interval, reproducing survival::survfit(Surv(time, event) ~ 1) with its defaults:
 *   S(t)   = Π_{t_i ≤ t} (1 − d_i / n_i)
 *   se(t)  = sqrt(Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i)))     (standard error of −log S; Inf once n_i = d_i)
 *   band   = exp(log S ∓ z·se), z = qnorm(0.975), the upper bound capped at 1; NA where S = 0
 * and the median with its interval by print.survfit's rule (survmean's minmin). Pure: no I/O. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"

typedef struct obs {
  double t;
  bool event;
} obs;

static int obs_cmp(const void *a, const void *b) {
  const obs *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

double rcy_qa_km_median_of(const double *y, const double *t, size_t n) {
  const double tol = sqrt(DBL_EPSILON); /* R: .Machine$double.eps^0.5, as all.equal */
  size_t first = n;
  for (size_t i = 0; i < n; i++)
    if (!isnan(y[i]) && y[i] < 0.5 + tol) {
      first = i;
      break;
    }
  if (first == n) return NAN;
  if (fabs(y[first] - 0.5) < tol)
    for (size_t i = first + 1; i < n; i++)
      if (!isnan(y[i]) && y[i] < y[first]) return (t[first] + t[i]) / 2.0;
  return t[first];
}

int rcy_qa_km_compute(rcy_qa_km *out, const double *time, const bool *event, size_t n, rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->median = out->median_lower = out->median_upper = NAN;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(time[i]) || time[i] < 0)
      return rcy_error_set(err, RCY_EINVAL, "Kaplan-Meier: time #%zu is negative or not finite", i + 1);
  out->n = n;
  if (n == 0) return 0;
  obs *o = malloc(n * sizeof *o);
  rcy_qa_km_point *pts = malloc(n * sizeof *pts);
  double *buf = malloc(4 * n * sizeof *buf); /* t, S, lower, upper for the median rule */
  if (!o || !pts || !buf) {
    free(o);
    free(pts);
    free(buf);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) o[i] = (obs){time[i], event[i]};
  qsort(o, n, sizeof *o, obs_cmp);

  size_t at_risk = n, np = 0;
  double surv = 1.0, var = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i, d = 0;
    while (j < n && o[j].t == o[i].t) d += o[j++].event;
    rcy_qa_km_point *p = &pts[np++];
    p->t = o[i].t;
    p->n_risk = at_risk;
    p->n_event = d;
    p->n_censor = (j - i) - d;
    if (d) {
      surv *= 1.0 - (double)d / (double)at_risk;
      var = d < at_risk ? var + (double)d / ((double)at_risk * (double)(at_risk - d)) : INFINITY;
      out->events += d;
    }
    p->surv = surv;
    p->std_err = sqrt(var);
    if (surv == 0) {
      p->lower = p->upper = NAN;
    } else {
      double ls = log(surv), half = RCY_QA_Z975 * p->std_err;
      p->lower = exp(ls - half);
      p->upper = fmin(exp(ls + half), 1.0);
    }
    at_risk -= j - i;
    i = j;
  }
  free(o);
  out->points = pts;
  out->n_points = np;

  double *t = buf, *sv = buf + n, *lo = buf + 2 * n, *up = buf + 3 * n;
  for (size_t i = 0; i < np; i++) {
    t[i] = pts[i].t;
    sv[i] = pts[i].surv;
    lo[i] = pts[i].lower;
    up[i] = pts[i].upper;
  }
  out->median = rcy_qa_km_median_of(sv, t, np);
  out->median_lower = rcy_qa_km_median_of(lo, t, np);
  out->median_upper = rcy_qa_km_median_of(up, t, np);
  free(buf);
  return 0;
}

void rcy_qa_km_free(rcy_qa_km *km) {
  if (!km) return;
  free(km->points);
  km->points = NULL;
  km->n_points = 0;
}

bool rcy_qa_km_at(rcy_qa_km_point *out, const rcy_qa_km *km, double t) {
  if (km->n_points == 0 || t > km->points[km->n_points - 1].t) return false;
  /* Binary search for the last point with time ≤ t. */
  size_t lo = 0, hi = km->n_points; /* invariant: points[< lo].t ≤ t < points[≥ hi].t */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (km->points[mid].t <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  rcy_qa_km_point p;
  if (lo == 0) {
    p = (rcy_qa_km_point){.t = t, .surv = 1.0, .std_err = 0.0, .lower = 1.0, .upper = 1.0};
  } else {
    p = km->points[lo - 1];
    p.t = t;
  }
  /* At risk at t: those whose time is ≥ t, i.e. the at-risk count of the first point at or after t. */
  size_t first_ge = lo > 0 && km->points[lo - 1].t == t ? lo - 1 : lo;
  p.n_risk = first_ge < km->n_points ? km->points[first_ge].n_risk : 0;
  p.n_event = p.n_censor = 0; /* not meaningful at a landmark */
  *out = p;
  return true;
}
