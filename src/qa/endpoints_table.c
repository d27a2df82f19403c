/* The endpoints as a readable table (`recistry endpoints` without --json): rounded for reading only —
 * percentages to one decimal, survival to three, medians to whole days; "NR" where a median or bound is
 * not reached, "-" where a value is not estimable. */
#include <math.h>
#include <stdio.h>

#include "recistry/qa.h"

static void fmt(char *buf, size_t size, double x, int decimals, const char *missing) {
  if (isfinite(x))
    snprintf(buf, size, "%.*f", decimals, x);
  else
    snprintf(buf, size, "%s", missing);
}

static void print_rate(FILE *out, const char *name, const rcy_qa_rate *r) {
  char p[32], lo[32], up[32];
  fmt(p, sizeof p, r->pct, 1, "-");
  fmt(lo, sizeof lo, r->lower_pct, 1, "-");
  fmt(up, sizeof up, r->upper_pct, 1, "-");
  fprintf(out, "  %-6s %5zu/%-5zu %6s %%  (95%% CI %s-%s)\n", name, r->count, r->n, p, lo, up);
}

static void print_km(FILE *out, const char *name, const rcy_qa_km *km) {
  char m[32], lo[32], up[32];
  fmt(m, sizeof m, km->median, 1, "NR");
  fmt(lo, sizeof lo, km->median_lower, 1, "NR");
  fmt(up, sizeof up, km->median_upper, 1, "NR");
  fprintf(out, "  %-5s n %zu, events %zu, median %s days (95%% CI %s-%s)\n", name, km->n, km->events, m, lo, up);
  for (int l = 0; l < RCY_QA_N_LANDMARKS; l++) {
    rcy_qa_km_point p;
    if (!rcy_qa_km_at(&p, km, rcy_qa_landmark_days[l])) {
      fprintf(out, "        %2d months: not estimable (follow-up ends at %.0f days)\n", rcy_qa_landmark_months[l],
              km->n_points ? km->points[km->n_points - 1].t : 0.0);
      continue;
    }
    fmt(m, sizeof m, p.surv, 3, "-");
    fmt(lo, sizeof lo, p.lower, 3, "-");
    fmt(up, sizeof up, p.upper, 3, "-");
    fprintf(out, "        %2d months: %s (95%% CI %s-%s), at risk %zu\n", rcy_qa_landmark_months[l], m, lo, up,
            p.n_risk);
  }
}

int rcy_qa_endpoints_print(FILE *out, const rcy_qa_endpoints *e, const char *reader, rcy_error *err) {
  fprintf(out, "Endpoints (%s reads%s)\n", reader ? reader : "file", e->by_indication ? ", by indication" : "");
  for (size_t g = 0; g < e->n_groups; g++) {
    const rcy_qa_endpoint_group *gr = &e->groups[g];
    fprintf(out, "\n%s: %zu subjects\n", gr->group, gr->n);
    print_rate(out, "ORR", &gr->orr);
    print_rate(out, "DCR", &gr->dcr);
    print_rate(out, "ETS20", &gr->ets20);
    print_rate(out, "ETS30", &gr->ets30);
    char m[32], q1[32], q3[32];
    fmt(m, sizeof m, gr->dpr.median, 1, "-");
    fmt(q1, sizeof q1, gr->dpr.q1, 1, "-");
    fmt(q3, sizeof q3, gr->dpr.q3, 1, "-");
    fprintf(out, "  DpR    n %zu, median %s %% (IQR %s to %s)", gr->dpr.n, m, q1, q3);
    fmt(m, sizeof m, gr->time_to_nadir.median, 0, "-");
    fmt(q1, sizeof q1, gr->time_to_nadir.q1, 0, "-");
    fmt(q3, sizeof q3, gr->time_to_nadir.q3, 0, "-");
    fprintf(out, "; time to nadir median %s days (IQR %s-%s)\n", m, q1, q3);
    print_km(out, "OS", &gr->survival[RCY_QA_OS]);
    print_km(out, "PFS", &gr->survival[RCY_QA_PFS]);
    print_km(out, "HPFS", &gr->survival[RCY_QA_HPFS]);
  }
  if (e->by_indication) {
    fprintf(out, "\nLog-rank across indications\n");
    static const char *const label[RCY_QA_N_SURVIVAL] = {"OS", "PFS", "HPFS"};
    for (int s = 0; s < RCY_QA_N_SURVIVAL; s++) {
      char c[32], p[32];
      fmt(c, sizeof c, e->logrank[s].chisq, 2, "-");
      fmt(p, sizeof p, e->logrank[s].p, 4, "-");
      fprintf(out, "  %-5s chi-square %s, df %d, p %s\n", label[s], c, e->logrank[s].df, p);
    }
  }
  if (fflush(out) || ferror(out)) return rcy_error_set(err, RCY_EIO, "cannot write the endpoints table");
  return 0;
}
