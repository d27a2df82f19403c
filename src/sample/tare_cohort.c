/* The generated TARE cohort (`recistry sample --tare-cohort N --out DIR`): the four tables of the cohort
 * analyses (patients.csv, tumours.csv, toxicity.csv, concordance.csv; docs/dosimetry.md) for N subjects,
 * drawn from a known model so that `recistry dose-response` can be seen to recover it. Deterministic from
 * the seed (prng.c, one stream per subject). The model (docs/dosimetry.md states the same numbers):
 *   - 1..4 tumours per patient; tumour mean dose log-normal: log D = log 200 + 0.30 z_patient + 0.40 z_tumour
 *     (Gy); D70 = D x U(0.55, 0.80); volume log-normal around 15 mL (sigma_log 0.8);
 *   - tumour response P = 1 / (1 + exp(-(B0 + B1 D))), B0 = -4, B1 = 0.02 /Gy (50 % at 200 Gy); a responder's
 *     % change at 3 months U(-80, -30], a non-responder's U(-29, +40); 1 tumour in 25 not evaluated (empty);
 *   - patient tumour dose: the volume-weighted (= mass-weighted, one density) mean of its tumours' doses;
 *     response at 3 months from the diameter-weighted mean % change (<= -30 PR, >= +20 PD, else SD), and 1
 *     patient in 20 NE;
 *   - normal-liver mean dose log-normal around 40 Gy (sigma_log 0.35), perfused normal liver x U(1.2, 1.8);
 *     the highest CTCAE grade by a cumulative logit: P(grade >= k) = 1 / (1 + exp(-(A_k + 0.08 (D - 40)))),
 *     A = (0.5, -1.0, -2.5, -5.0) for k = 1..4 (no grade 5);
 *   - MAA-predicted dose: 90Y = MAA x 1.10 x exp(0.15 z) for the tumour, x 0.95 x exp(0.10 z) for the normal
 *     liver (a known bias and spread);
 *   - time to progression exponential, median 150 days below 189 Gy and 300 days at or above (hazard ratio
 *     0.5), censored at U(360, 720) days; whole days. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sample_internal.h"

#define TARE_B0 (-4.0)
#define TARE_B1 0.02

static double gauss(prng *r) { /* Box–Muller: exact tails, unlike prng_gauss's 4-uniform sum */
  double u1 = prng_uniform(r, 0, 1), u2 = prng_uniform(r, 0, 1);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double round2(double v) {
  return round(v * 100) / 100;
}

int tare_cohort_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err) {
  int n = o->tare_cohort;
  if (n < 1 || n > 100000)
    return rcy_error_set(err, RCY_EINVAL, "--tare-cohort must be 1..100000, got %d", n);
  int rc = make_dirs(o->out_dir, err);
  if (rc) return rc;
  static const char *const names[4] = {"patients.csv", "tumours.csv", "toxicity.csv", "concordance.csv"};
  FILE *f[4] = {0};
  for (int i = 0; i < 4 && !rc; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->out_dir, names[i]);
    f[i] = fopen(path, "w");
    if (!f[i]) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  }
  if (!rc) {
    fputs("subject,normal_liver_mean_gy,perfused_normal_liver_mean_gy,tumour_mean_gy,response_3m,ttp_days,"
          "progression,lsf\n",
          f[0]);
    fputs("subject,lesion_id,mean_gy,d70_gy,volume_ml,pct_change_3m\n", f[1]);
    fputs("subject,ctcae_term,grade,days\n", f[2]);
    fputs("subject,compartment,maa_gy,y90_gy\n", f[3]);
  }
  static const char *const terms[] = {"Fatigue", "Abdominal pain", "Nausea", "Blood bilirubin increased",
                                      "Ascites", "Hepatic failure"};
  static const double grade_a[4] = {0.5, -1.0, -2.5, -5.0};
  for (int i = 0; i < n && !rc; i++) {
    char subject[32], key[48];
    snprintf(subject, sizeof subject, "TARE-%04d", i + 1);
    snprintf(key, sizeof key, "tare-cohort/%s", subject);
    prng r;
    prng_init(&r, o->seed, key);
    double zp = gauss(&r);
    int nt = prng_int(&r, 1, 4);
    double sum_vd = 0, sum_v = 0, sum_w = 0, sum_wp = 0;
    int evaluated = 0;
    for (int t = 0; t < nt; t++) {
      double dose = exp(log(200.0) + 0.30 * zp + 0.40 * gauss(&r));
      double d70 = dose * prng_uniform(&r, 0.55, 0.80);
      double vol = exp(log(15.0) + 0.8 * gauss(&r));
      double p = 1 / (1 + exp(-(TARE_B0 + TARE_B1 * dose)));
      int resp = prng_uniform(&r, 0, 1) < p;
      double pct = resp ? prng_uniform(&r, -80, -30) : prng_uniform(&r, -29, 40);
      int ne = prng_int(&r, 0, 24) == 0;
      dose = round2(dose), d70 = round2(d70), vol = round2(vol), pct = round(pct * 10) / 10;
      sum_vd += vol * dose, sum_v += vol;
      if (!ne) {
        double w = cbrt(vol); /* a diameter's weight in the sum of diameters */
        sum_w += w, sum_wp += w * pct, evaluated++;
      }
      if (ne)
        fprintf(f[1], "%s,T%d,%.2f,%.2f,%.2f,\n", subject, t + 1, dose, d70, vol);
      else
        fprintf(f[1], "%s,T%d,%.2f,%.2f,%.2f,%.1f\n", subject, t + 1, dose, d70, vol, pct);
    }
    double tumour_gy = round2(sum_vd / sum_v);
    const char *response = "NE";
    if (evaluated && prng_int(&r, 0, 19) != 0) {
      double m = sum_wp / sum_w;
      response = m <= -30 ? "PR" : m >= 20 ? "PD" : "SD";
    }
    double normal = round2(exp(log(40.0) + 0.35 * gauss(&r)));
    double perfused = round2(normal * prng_uniform(&r, 1.2, 1.8));
    double u = prng_uniform(&r, 0, 1);
    int grade = 0;
    for (int k = 1; k <= 4; k++)
      if (u < 1 / (1 + exp(-(grade_a[k - 1] + 0.08 * (normal - 40))))) grade = k;
    if (grade > 0) {
      int term = grade >= 3 ? prng_int(&r, 3, 5) : prng_int(&r, 0, 2);
      fprintf(f[2], "%s,%s,%d,%d\n", subject, terms[term], grade, prng_int(&r, 3, 90));
      if (grade > 1 && prng_int(&r, 0, 1)) /* a second, milder event */
        fprintf(f[2], "%s,%s,%d,%d\n", subject, terms[prng_int(&r, 0, 2)], prng_int(&r, 1, grade - 1),
                prng_int(&r, 1, 60));
    }
    double median = tumour_gy >= 189.0 ? 300.0 : 150.0;
    double tp = -log(1 - prng_uniform(&r, 0, 1)) * median / log(2.0), tc = prng_uniform(&r, 360, 720);
    int prog = tp <= tc;
    double ttp = round(prog ? tp : tc);
    if (ttp < 1) ttp = 1;
    double lsf = prng_uniform(&r, 0.02, 0.15);
    fprintf(f[0], "%s,%.2f,%.2f,%.2f,%s,%.0f,%d,%.3f\n", subject, normal, perfused, tumour_gy, response, ttp,
            prog, lsf);
    double maa_t = tumour_gy / (1.10 * exp(0.15 * gauss(&r)));
    double maa_n = normal / (0.95 * exp(0.10 * gauss(&r)));
    fprintf(f[3], "%s,tumour,%.2f,%.2f\n", subject, maa_t, tumour_gy);
    fprintf(f[3], "%s,normal_liver,%.2f,%.2f\n", subject, maa_n, normal);
    if (stats) stats->subjects++;
  }
  for (int i = 0; i < 4; i++)
    if (f[i] && fclose(f[i]) != 0 && !rc)
      rc = rcy_error_set(err, RCY_EIO, "cannot write %s/%s", o->out_dir, names[i]);
  return rc;
}
