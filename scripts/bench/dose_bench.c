/* Dose benchmark (issue 14): the dose map and the DVHs of a 256x256x200 90Y PET resampled onto a 512x512x300 CT,
 * with six VOIs on the CT grid (whole and perfused liver, three tumours, lungs), as rcy_dose_compute runs it
 * for `recistry dose` and the workstation. The volumes are made in memory (a liver, tumours, lungs and body in
 * HU; activity per compartment), so the figure is the computation, not the disk. Writes the dose map and a
 * plastimatch structure-set image (one bit per VOI) so that scripts/bench/dose can time plastimatch's DVHs on
 * the same data.
 *   bench_dose OUT_DIR RUNS */
#include "recistry/dose.h"
#include "recistry/imaging.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int inside(double x, double y, double z, const double c[3], const double r[3]) {
  double a = (x - c[0]) / r[0], b = (y - c[1]) / r[1], d = (z - c[2]) / r[2];
  return a * a + b * b + d * d <= 1;
}

static const double ident[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
static const double liver_c[3] = {-60, 0, 0}, liver_r[3] = {90, 70, 80};
static const double tum_c[3][3] = {{-80, -10, 10}, {-40, 20, -20}, {-100, 15, -40}};
static const double tum_r[3] = {25, 17, 12};
static const double lung_c[2][3] = {{-80, 0, 150}, {80, 0, 150}}, lung_r[3] = {70, 60, 90};

/* 0 air, 1 body, 2 liver (2: perfused when x < -50), 3.. tumours, 6 lungs */
static int label_at(double x, double y, double z, int *perfused) {
  *perfused = 0;
  for (int t = 0; t < 3; t++) {
    double r[3] = {tum_r[t], tum_r[t], tum_r[t]};
    if (inside(x, y, z, tum_c[t], r)) return *perfused = 1, 3 + t;
  }
  if (inside(x, y, z, liver_c, liver_r)) return *perfused = x < -50, 2;
  for (int l = 0; l < 2; l++)
    if (inside(x, y, z, lung_c[l], lung_r)) return 6;
  double body[3] = {0, 0, 0}, br[3] = {190, 140, 400};
  return inside(x, y, z, body, br) ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_dose OUT_DIR RUNS\n");
    return 2;
  }
  int runs = atoi(argv[2]);
  rcy_error err = {0};
  /* CT 512x512x300 at 0.78 x 0.78 x 1.25 mm (400 x 400 x 375 mm); PET 256x256x200 at 1.6 x 1.6 x 1.875 mm. */
  rcy_dicom_volume ct = {0}, pet = {0};
  int cs[3] = {512, 512, 300}, ps[3] = {256, 256, 200};
  double csp[3] = {0.78125, 0.78125, 1.25}, psp[3] = {1.5625, 1.5625, 1.875};
  strcpy(ct.modality, "CT"), strcpy(pet.modality, "PT"), strcpy(pet.units, "BQML");
  strcpy(ct.frame_of_reference_uid, "1.2.3"), strcpy(pet.frame_of_reference_uid, "1.2.3");
  for (int a = 0; a < 3; a++) {
    ct.size[a] = cs[a], pet.size[a] = ps[a];
    ct.spacing_mm[a] = csp[a], pet.spacing_mm[a] = psp[a];
    ct.origin_mm[a] = -(cs[a] - 1) * csp[a] / 2, pet.origin_mm[a] = -(ps[a] - 1) * psp[a] / 2;
  }
  memcpy(ct.direction, ident, sizeof ident), memcpy(pet.direction, ident, sizeof ident);
  pet.decay_correction = RCY_DICOM_DECAY_START;
  pet.half_life_s = RCY_DOSE_Y90_HALF_LIFE_S;
  pet.injection_epoch_s = 0, pet.series_epoch_s = 20 * 3600, pet.acquisition_epoch_s = 20 * 3600;
  pet.total_dose_bq = 2.5e9;
  size_t nct = (size_t)cs[0] * cs[1] * cs[2], npet = (size_t)ps[0] * ps[1] * ps[2];
  ct.values = malloc(nct * sizeof(float));
  pet.values = malloc(npet * sizeof(float));
  uint8_t *masks[6];
  const char *names[6] = {"liver", "perfused_liver", "T1", "T2", "T3", "lungs"};
  for (int m = 0; m < 6; m++) masks[m] = calloc(nct, 1);
  static const float hu[7] = {-1000, 40, 60, 35, 35, 35, -800};
  static const float conc[7] = {0, 2e3, 4e4, 6e5, 5e5, 3e5, 1.5e4}; /* Bq/mL at the scan */
  for (int k = 0; k < cs[2]; k++)
    for (int j = 0; j < cs[1]; j++)
      for (int i = 0; i < cs[0]; i++) {
        size_t v = ((size_t)k * cs[1] + j) * cs[0] + i;
        int perf, l = label_at(ct.origin_mm[0] + i * csp[0], ct.origin_mm[1] + j * csp[1], ct.origin_mm[2] + k * csp[2], &perf);
        ct.values[v] = hu[l];
        if (l >= 2 && l <= 5) masks[0][v] = 1;
        if (perf) masks[1][v] = 1;
        if (l >= 3 && l <= 5) masks[l - 1][v] = 1;
        if (l == 6) masks[5][v] = 1;
      }
  for (int k = 0; k < ps[2]; k++)
    for (int j = 0; j < ps[1]; j++)
      for (int i = 0; i < ps[0]; i++) {
        int perf, l = label_at(pet.origin_mm[0] + i * psp[0], pet.origin_mm[1] + j * psp[1], pet.origin_mm[2] + k * psp[2], &perf);
        pet.values[((size_t)k * ps[1] + j) * ps[0] + i] = l == 2 && !perf ? conc[2] / 10 : conc[l];
      }
  rcy_dose_voi vois[6];
  for (int m = 0; m < 6; m++) {
    vois[m].name = names[m];
    vois[m].mask = masks[m];
    memcpy(vois[m].size, cs, sizeof cs);
    memcpy(vois[m].origin_mm, ct.origin_mm, sizeof ct.origin_mm);
    memcpy(vois[m].spacing_mm, csp, sizeof csp);
    memcpy(vois[m].direction, ident, sizeof ident);
  }
  rcy_dose_input in = {0};
  in.pet = &pet, in.ct = &ct, in.vois = vois, in.n_vois = 6, in.lung_shunt_fraction = 0.06, in.tnr = 0;
  double best = INFINITY, total = 0, best_cpu = INFINITY;
  rcy_dose_result r = {0};
  for (int run = 0; run < runs; run++) {
    if (run) rcy_dose_result_free(&r);
    double t0 = now(), c0 = cpu();
    if (rcy_dose_compute(&r, &in, &err)) {
      fprintf(stderr, "bench_dose: %s\n", err.message);
      return 1;
    }
    double dt = now() - t0, dc = cpu() - c0;
    if (dc < best_cpu) best_cpu = dc;
    total += dt;
    if (dt < best) best = dt;
  }
  printf("recistry dose map + %zu DVHs (PET %dx%dx%d -> CT %dx%dx%d): best %.3f s, mean %.3f s over %d runs\n",
         r.n_compartments, ps[0], ps[1], ps[2], cs[0], cs[1], cs[2], best, total / runs, runs);
  for (size_t c = 0; c < r.n_compartments; c++)
    printf("  %-22s %8.1f mL  mean %7.1f Gy  D70 %7.1f Gy\n", r.compartments[c].name, r.compartments[c].volume_ml,
           r.compartments[c].mean_gy, r.compartments[c].d70_gy);
  printf("  CPU time (all threads) best %.3f s: with the machine to itself, wall time is about this over the cores\n",
         best_cpu);
  printf("RESULT seconds=%.4f cpu_seconds=%.4f\n", best, best_cpu);
  /* For the peer: the dose map and a structure-set image (bit m = VOI m) with its list. */
  char path[4096];
  snprintf(path, sizeof path, "%s/dose.nrrd", argv[1]);
  if (rcy_imaging_float_write(path, r.dose.values, r.dose.size, r.dose.origin_mm, r.dose.spacing_mm, r.dose.direction, &err)) {
    fprintf(stderr, "bench_dose: %s\n", err.message);
    return 1;
  }
  uint8_t *ss = calloc(nct, 1);
  for (size_t v = 0; v < nct; v++)
    for (int m = 0; m < 6; m++) ss[v] |= (uint8_t)(masks[m][v] << m);
  snprintf(path, sizeof path, "%s/ss.nrrd", argv[1]);
  if (rcy_imaging_mask_write_nrrd(path, ss, cs, ct.origin_mm, csp, ident, &err)) {
    fprintf(stderr, "bench_dose: %s\n", err.message);
    return 1;
  }
  snprintf(path, sizeof path, "%s/ss.txt", argv[1]);
  FILE *f = fopen(path, "w");
  for (int m = 0; m < 6; m++) fprintf(f, "%d|255 0 0|%s\n", m, names[m]);
  fclose(f);
  rcy_dose_result_free(&r);
  for (int m = 0; m < 6; m++) free(masks[m]);
  free(ss), free(ct.values), free(pet.values);
  return 0;
}
