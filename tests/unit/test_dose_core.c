/* The dose arithmetic (src/dose/): decay factors of the three decay-correction modes against the exponential
 * law by hand, the PET checks that refuse what cannot give a dose, LDM against 49.67e-6 C / rho, Dx/Vx and the
 * mass-weighted mean on a known set of voxel doses, the MIRD and partition models against hand computation,
 * resampling between grids, and the threshold table with its flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/dose.h"

static const double ident[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};

static rcy_dicom_volume pet_header(int decay) {
  rcy_dicom_volume v;
  memset(&v, 0, sizeof v);
  strcpy(v.modality, "PT");
  strcpy(v.units, "BQML");
  strcpy(v.series_uid, "1.2.3");
  v.decay_correction = decay;
  v.half_life_s = RCY_DOSE_Y90_HALF_LIFE_S;
  v.injection_epoch_s = 1000000;
  v.series_epoch_s = 1000000 + 20 * 3600;       /* 20 h after the injection */
  v.acquisition_epoch_s = 1000000 + 20.5 * 3600; /* the bed position 30 min later */
  v.frame_duration_s = 900;
  v.total_dose_bq = 2.5e9;
  return v;
}

static void decay_factors_follow_the_exponential_law(void **state) {
  (void)state;
  double lambda = log(2) / RCY_DOSE_Y90_HALF_LIFE_S, f;
  rcy_error err = {0};
  rcy_dicom_volume v = pet_header(RCY_DICOM_DECAY_ADMIN);
  assert_int_equal(rcy_dose_decay_factor(&f, &v, &err), 0);
  assert_float_equal(f, 1.0, 1e-15);
  v = pet_header(RCY_DICOM_DECAY_START);
  assert_int_equal(rcy_dose_decay_factor(&f, &v, &err), 0);
  assert_float_equal(f, exp(lambda * 20 * 3600), 1e-12);
  assert_true(f > 1.23 && f < 1.25); /* 90Y loses ~19 % in 20 h */
  v = pet_header(RCY_DICOM_DECAY_NONE);
  assert_int_equal(rcy_dose_decay_factor(&f, &v, &err), 0);
  double lt = lambda * 900;
  assert_float_equal(f, exp(lambda * 20.5 * 3600) * lt / (1 - exp(-lt)), 1e-12);
  v.frame_duration_s = -1; /* unknown duration: the value is taken at the frame start */
  assert_int_equal(rcy_dose_decay_factor(&f, &v, &err), 0);
  assert_float_equal(f, exp(lambda * 20.5 * 3600), 1e-12);
}

static void pets_that_cannot_give_a_dose_are_refused_by_name(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dicom_volume v = pet_header(RCY_DICOM_DECAY_START);
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), 0);
  strcpy(v.units, "CNTS");
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "BQML"));
  v = pet_header(RCY_DICOM_DECAY_START);
  v.injection_epoch_s = -1;
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "Radiopharmaceutical Start DateTime"));
  v = pet_header(RCY_DICOM_DECAY_START);
  v.decay_correction = -1;
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "Decay Correction"));
  v = pet_header(RCY_DICOM_DECAY_START);
  v.half_life_s = 6586.2; /* 18F */
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "Half Life"));
  v = pet_header(RCY_DICOM_DECAY_START);
  v.series_epoch_s = v.injection_epoch_s - 60;
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "before the injection"));
  v = pet_header(RCY_DICOM_DECAY_START);
  strcpy(v.modality, "NM");
  assert_int_equal(rcy_dose_check_y90_pet(&v, &err), RCY_EINVAL);
}

static void ldm_is_energy_over_mass(void **state) {
  (void)state;
  rcy_error err = {0};
  int size[3] = {4, 3, 2};
  double o[3] = {0, 0, 0}, s[3] = {2, 2, 2};
  rcy_dose_grid act, rho, dose;
  assert_int_equal(rcy_dose_grid_alloc(&act, size, o, s, ident, &err), 0);
  assert_int_equal(rcy_dose_grid_alloc(&rho, size, o, s, ident, &err), 0);
  for (size_t i = 0; i < 24; i++) act.values[i] = 1e6f * (float)(i + 1), rho.values[i] = i == 5 ? 0.001f : 1.05f;
  assert_int_equal(rcy_dose_ldm(&dose, &act, 1.25, &rho, 0, &err), 0);
  for (size_t i = 0; i < 24; i++) {
    double want = i == 5 ? 0 : 49.67e-6 * 1e6 * (double)(i + 1) * 1.25 / 1.05; /* air voxel: no dose */
    assert_float_equal(dose.values[i], want, want * 1e-6);
  }
  rcy_dose_grid_free(&dose);
  /* 1 GBq in 1 kg of tissue gives 49.67 Gy: 1e9 Bq in 1000 mL at 1 g/mL. */
  for (size_t i = 0; i < 24; i++) act.values[i] = 1e6f;
  assert_int_equal(rcy_dose_ldm(&dose, &act, 1.0, NULL, 1.0, &err), 0);
  assert_float_equal(dose.values[0], 49.67, 1e-4);
  rcy_dose_grid_free(&dose);
  assert_int_equal(rcy_dose_ldm(&dose, &act, 1.0, NULL, 0, &err), RCY_EINVAL);
  rcy_dose_grid_free(&act), rcy_dose_grid_free(&rho);
}

static void dvh_metrics_on_known_doses(void **state) {
  (void)state;
  rcy_error err = {0};
  int size[3] = {10, 10, 1};
  double o[3] = {0, 0, 0}, s[3] = {1, 1, 10}; /* 0.01 mL voxels */
  rcy_dose_grid dose;
  assert_int_equal(rcy_dose_grid_alloc(&dose, size, o, s, ident, &err), 0);
  uint8_t mask[100];
  for (int i = 0; i < 100; i++) dose.values[i] = (float)(100 - i) * 2.5f, mask[i] = 1; /* 250, 247.5 ... 2.5 Gy */
  rcy_dose_compartment c;
  assert_int_equal(rcy_dose_compartment_compute(&c, "T1", RCY_DOSE_KIND_TUMOUR, &dose, mask, NULL, 1.0, 1.0, &err), 0);
  assert_int_equal(c.voxels, 100);
  assert_float_equal(c.volume_ml, 1.0, 1e-12);
  assert_float_equal(c.mass_g, 1.0, 1e-12);
  assert_float_equal(c.mean_gy, 126.25, 1e-4);
  /* The hottest 50 voxels are 250..127.5 Gy: D50 is 127.5; D70 the 70th hottest, 77.5; D90: 27.5. */
  assert_float_equal(c.d50_gy, 127.5, 1e-4);
  assert_float_equal(c.d70_gy, 77.5, 1e-4);
  assert_float_equal(c.d90_gy, 27.5, 1e-4);
  assert_float_equal(c.v100_pct, 61.0, 1e-9); /* 250 .. 100 Gy: 61 voxels */
  assert_float_equal(c.v150_pct, 41.0, 1e-9);
  assert_float_equal(c.v205_pct, 19.0, 1e-9); /* 250 .. 205 */
  assert_float_equal(c.dvh[0].volume_pct, 100.0, 1e-9);
  assert_float_equal(c.dvh[100].dose_gy, 100.0, 1e-9);
  assert_float_equal(c.dvh[100].volume_pct, 61.0, 1e-9);
  assert_float_equal(c.dvh[c.n_dvh - 1].volume_pct, 0.0, 1e-9);
  assert_float_equal(c.activity_gbq, 126.25 * 1e-3 / 49.67, 1e-9);
  rcy_dose_compartment_free(&c);
  /* Mass-weighted mean: a denser half weighs more. */
  rcy_dose_grid rho;
  assert_int_equal(rcy_dose_grid_alloc(&rho, size, o, s, ident, &err), 0);
  for (int i = 0; i < 100; i++) dose.values[i] = i < 50 ? 100.0f : 200.0f, rho.values[i] = i < 50 ? 3.0f : 1.0f;
  assert_int_equal(rcy_dose_compartment_compute(&c, "x", RCY_DOSE_KIND_OTHER, &dose, mask, &rho, 0, 1.0, &err), 0);
  assert_float_equal(c.mean_gy, (100.0 * 3 + 200.0 * 1) / 4, 1e-6);
  rcy_dose_compartment_free(&c);
  memset(mask, 0, sizeof mask);
  assert_int_equal(rcy_dose_compartment_compute(&c, "empty", RCY_DOSE_KIND_OTHER, &dose, mask, NULL, 1, 1, &err),
                   RCY_EINVAL);
  rcy_dose_grid_free(&dose), rcy_dose_grid_free(&rho);
}

static void models_match_hand_computation(void **state) {
  (void)state;
  rcy_dose_models m;
  /* 2.5 GBq, LSF 6 %, perfused liver 1200 g of which tumours 150 g and normal 1050 g, T/N 3.5, lungs 800 g. */
  rcy_dose_models_compute(&m, 2.5, 0.06, 0, 1200, 150, 1050, 800, 3.5);
  assert_float_equal(m.mird_liver_gy, 49.67 * 2.5 * 0.94 / 1.2, 1e-9);
  double dn = 49.67 * 2.5 * 0.94 / (1.050 + 3.5 * 0.150);
  assert_float_equal(m.partition_normal_gy, dn, 1e-9);
  assert_float_equal(m.partition_tumour_gy, 3.5 * dn, 1e-9);
  assert_float_equal(m.lung_gy, 49.67 * 2.5 * 0.06 / 0.8, 1e-9);
  rcy_dose_models_compute(&m, 2.5, 0.06, 0, 1200, 150, 1050, 0, 0); /* no lung VOI: 1 kg; no T/N */
  assert_float_equal(m.lung_gy, 49.67 * 2.5 * 0.06, 1e-9);
  assert_true(isnan(m.partition_tumour_gy));
}

static void resampling_takes_the_containing_voxel(void **state) {
  (void)state;
  rcy_error err = {0};
  int coarse[3] = {4, 4, 4}, fine[3] = {8, 8, 8};
  double oc[3] = {0, 0, 0}, sc[3] = {4, 4, 4};
  double of[3] = {-1, -1, -1}, sf[3] = {2, 2, 2}; /* fine voxels split each coarse voxel in 2x2x2 */
  rcy_dose_grid src, dst;
  assert_int_equal(rcy_dose_grid_alloc(&src, coarse, oc, sc, ident, &err), 0);
  for (size_t i = 0; i < 64; i++) src.values[i] = (float)i;
  assert_int_equal(rcy_dose_grid_alloc(&dst, fine, of, sf, ident, &err), 0);
  assert_int_equal(rcy_dose_grid_resample(&dst, &src, &err), 0);
  double sum = 0;
  for (int k = 0; k < 8; k++)
    for (int j = 0; j < 8; j++)
      for (int i = 0; i < 8; i++) {
        float v = dst.values[(k * 8 + j) * 8 + i];
        assert_float_equal(v, (float)(((k / 2) * 4 + j / 2) * 4 + i / 2), 0);
        sum += v;
      }
  assert_float_equal(sum / 8, 63.0 * 64 / 2, 1e-9); /* activity conserved */
  /* A mask on the coarse grid, onto the fine one. */
  uint8_t m[64] = {0}, out[512];
  m[21] = 1; /* (1,1,1) */
  assert_int_equal(rcy_dose_mask_resample(out, &dst, m, coarse, oc, sc, ident, &err), 0);
  int n = 0;
  for (int i = 0; i < 512; i++) n += out[i];
  assert_int_equal(n, 8);
  assert_int_equal(out[(2 * 8 + 2) * 8 + 2], 1);
  rcy_dose_grid_free(&src), rcy_dose_grid_free(&dst);
}

static void thresholds_flag_what_they_should(void **state) {
  (void)state;
  char path[] = "/tmp/rcy_thresholdsXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("[archive]\npath = x\n"
        "[dose_threshold tumour_efficacy]\ncompartment = tumour\nmetric = mean_gy\ncomparison = >=\nlimit = 189\n"
        "severity = info\nreference = EANM 2022\n"
        "[dose_threshold lung_cumulative]\ncompartment = lung\nmetric = cumulative_mean_gy\ncomparison = <\n"
        "limit = 50\n"
        "[dose_threshold lobar]\ncompartment = perfused_normal_liver\nmetric = mean_gy\ncomparison = <\nlimit = 10\n"
        "when_compartment = perfused_liver\nwhen_metric = volume_pct_of_liver\nwhen_max = 70\n",
        f);
  fclose(f);
  rcy_dose_threshold *t;
  size_t n;
  rcy_error err = {0};
  assert_int_equal(rcy_dose_thresholds_load(&t, &n, path, &err), 0);
  assert_int_equal(n, 3);
  rcy_dose_compartment c[5];
  memset(c, 0, sizeof c);
  strcpy(c[0].name, "T1"), c[0].kind = RCY_DOSE_KIND_TUMOUR, c[0].mean_gy = 142;
  strcpy(c[1].name, "T2"), c[1].kind = RCY_DOSE_KIND_TUMOUR, c[1].mean_gy = 250;
  strcpy(c[2].name, "lungs"), c[2].kind = RCY_DOSE_KIND_LUNG, c[2].mean_gy = 20;
  strcpy(c[3].name, "liver"), c[3].kind = RCY_DOSE_KIND_LIVER, c[3].volume_ml = 1500;
  strcpy(c[4].name, "perfused_liver"), c[4].kind = RCY_DOSE_KIND_PERFUSED_LIVER, c[4].volume_ml = 1200;
  rcy_dose_flag *flags;
  size_t nf;
  /* Lungs 20 Gy + 35 Gy before = 55 Gy cumulative; T1 below 189; the lobar row does not apply (80 %). */
  assert_int_equal(rcy_dose_flags_evaluate(&flags, &nf, c, 5, t, n, 35, &err), 0);
  assert_int_equal(nf, 2);
  assert_string_equal(flags[0].compartment, "T1");
  assert_string_equal(flags[0].severity, "info");
  assert_non_null(strstr(flags[0].message, "142.0 < 189.0"));
  assert_string_equal(flags[1].compartment, "lungs");
  assert_float_equal(flags[1].value, 55, 1e-9);
  free(flags);
  free(t);
  f = fopen(path, "w");
  fputs("[dose_threshold x]\ncompartment = tumour\nmetric = mean_dose\n", f);
  fclose(f);
  assert_int_equal(rcy_dose_thresholds_load(&t, &n, path, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, ":3:"));
  assert_non_null(strstr(err.message, "metric"));
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decay_factors_follow_the_exponential_law),
      cmocka_unit_test(pets_that_cannot_give_a_dose_are_refused_by_name),
      cmocka_unit_test(ldm_is_energy_over_mass),
      cmocka_unit_test(dvh_metrics_on_known_doses),
      cmocka_unit_test(models_match_hand_computation),
      cmocka_unit_test(resampling_takes_the_containing_voxel),
      cmocka_unit_test(thresholds_flag_what_they_should),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
