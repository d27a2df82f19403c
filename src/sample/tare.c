/* TARE dosimetry phantoms (docs/sample.md "TARE phantoms"): subjects with a known activity distribution, so
 * that the dose module's numbers can be compared with analytic ones. Each subject is a few analytic shapes
 * (an elliptic-cylinder body, an ellipsoid liver whose right part is the perfused territory, spherical
 * tumours in it, two ellipsoid lungs above it); a voxel belongs to the shape containing its centre. Every
 * compartment is uniform in CT number and activity concentration, so its LDM dose is 49.67e-6 * C_admin /
 * density exactly, and the MIRD, partition-model and lung doses follow from the compartments' masses.
 *
 * CIREL-014-0973 ("cohort") is a second realistic patient with other doses, for the demo's cohort.
 * Two studies per subject: MAA (14 days before treatment: CT and 99mTc-MAA SPECT) and Y90 (20 h after the
 * injection: CT and 90Y PET). CIREL-014-0971 ("accuracy") has PET and SPECT on the CT's own grid, without
 * blur, so the mean over a label equals the compartment's value within noise/sqrt(N); CIREL-014-0972
 * ("realistic") has a finer CT, PET and SPECT on their own grids and blurred like real images (partial
 * volume). The patient lies a few mm differently in the MAA study: each study has its own frame of reference
 * and label maps. */
#include "tare_internal.h"

#include "recistry/imaging.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(12))
#define GY_KG_PER_GBQ 49.67 /* include/recistry/dose.h RCY_DOSE_Y90_GY_KG_PER_GBQ */
#define SUB 2               /* emission images with blur: computed on a grid SUB x finer, then averaged */

typedef struct {
  const char *id, *kind, *description, *sex;
  double body_r[2], body_z[2]; /* elliptic cylinder: semi-axes x, y; z extent */
  double liver_c[3], liver_r[3];
  double split_x; /* perfused territory: liver with x < split_x (the patient's right) */
  double lung_c[2][3], lung_r[3];
  int n_t;
  double t_c[TARE_MAX_TUMOURS][3], t_r[TARE_MAX_TUMOURS];
  double ct_noise_hu, pet_noise, spect_noise; /* CT: additive HU; PET, SPECT: relative (multiplicative) */
  double lsf, tnr_y90, tnr_maa, np_ratio,
      body_ratio; /* concentrations relative to the perfused normal liver */
  double injected_gbq, planned_gbq, maa_mbq, maa_counts;
  int year, month, day, injection_s; /* treatment day and injection time of day */
  int scan_delay_s, maa_days_before;
  tare_grid ct, pet, spect; /* pet.n[0] == 0: the CT grid without blur (same for spect) */
  double pet_fwhm_mm, spect_fwhm_mm;
  double maa_shift[3]; /* the patient's offset in the MAA study */
} tare_subject;

/* clang-format off */
static const tare_subject subjects[] = {
    {"CIREL-014-0971", "accuracy",
     "CT and 90Y PET on one 128x128x80 grid of 3 mm, SPECT on the MAA CT's grid; no blur, 5 % noise",
     "M", {170, 120}, {-115, 115}, {-50, 0, -20}, {90, 75, 55}, -50,
     {{-85, 10, 78}, {85, 10, 78}}, {55, 70, 35}, 2,
     {{-92, -12, -22}, {-72, 38, -28}}, {25, 18},
     5, 0.05, 0.05, 0.06, 3.0, 3.5, 0.05, 0.005, 2.5, 2.6, 150, 2e7,
     2021, 6, 14, 13 * 3600, 20 * 3600, 14,
     {{128, 128, 80}, {3, 3, 3}, {-190.5, -190.5, -118.5}}, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
     {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, 0, 0, {1.5, -1.5, 3.0}},
    {"CIREL-014-0972", "realistic",
     "CT 256x256x120 of 1.5x1.5x2.5 mm; PET 128x128x75 of 4 mm (FWHM 8 mm) and SPECT 128x128x64 of 4.8 mm "
     "(FWHM 12 mm) on their own grids; 5 % noise",
     "F", {170, 120}, {-115, 115}, {-45, 5, -15}, {95, 80, 60}, -40,
     {{-85, 10, 78}, {85, 10, 78}}, {55, 70, 35}, 3,
     {{-85, -15, -15}, {-70, 45, -20}, {-61, 22, 18}}, {30, 20, 15},
     10, 0.05, 0.05, 0.04, 4.0, 3.5, 0.05, 0.005, 2.8, 2.9, 150, 2e7,
     2021, 7, 5, 13 * 3600, 20 * 3600, 14,
     {{256, 256, 120}, {1.5, 1.5, 2.5}, {-191.25, -191.25, -148.75}},
     {{128, 128, 75}, {4, 4, 4}, {-252.7, -254.7, -146}},
     {{128, 128, 64}, {4.8, 4.8, 4.8}, {-307.2, -303.7, -152.2}}, 8, 12, {2, -3, 6}},
    {"CIREL-014-0973", "cohort",
     "a second realistic patient for the demo's cohort: smaller liver, lower TNR (2.0, MAA 2.6), LSF 8 %; CT 200x200x96 "
     "of 2x2x3 mm, PET 128x128x72 of 4 mm (FWHM 8 mm), SPECT 128x128x64 of 4.8 mm (FWHM 12 mm)",
     "M", {170, 120}, {-115, 115}, {-48, 2, -18}, {85, 72, 52}, -30,
     {{-85, 10, 78}, {85, 10, 78}}, {55, 70, 35}, 2,
     {{-58, -26, -5}, {-61, 26, -24}}, {22, 12},
     10, 0.05, 0.05, 0.08, 2.0, 2.6, 0.05, 0.005, 1.6, 1.7, 150, 2e7,
     2021, 9, 20, 12 * 3600 + 30 * 60, 20 * 3600, 14,
     {{200, 200, 96}, {2, 2, 3}, {-199, -199, -142.5}},
     {{128, 128, 72}, {4, 4, 4}, {-254, -253.3, -141}}, /* the perfused split plane half-way between fine voxels */
     {{128, 128, 64}, {4.8, 4.8, 4.8}, {-303.4, -306.0, -150.0}}, 8, 12, {-2.5, 1.5, -4}},
};
/* clang-format on */
#define N_SUBJECTS (int)(sizeof subjects / sizeof subjects[0])

static const char *const study_name[TARE_STUDIES] = {"MAA", "Y90"};

/* Noiseless CT number per compartment. */
static const double comp_hu[TC_COUNT] = {[TC_AIR] = -1000,   [TC_BODY] = 40,    [TC_LUNG] = -800,
                                         [TC_LIVER_NP] = 60, [TC_LIVER_P] = 60, [TC_T0] = 40,
                                         [TC_T0 + 1] = 40,   [TC_T0 + 2] = 40};

/* The default HU -> g/mL table of include/recistry/dose.h (docs/dosimetry.md): linear between (-1000,
 * 0.0012), (0, 1.0), (1000, 1.6), clamped outside. Repeated here because sample/ does not link dose/ (and
 * dose/ does not implement it yet); the truth carries the table and sample_tare recomputes every density. */
static double density_g_per_ml(double hu) {
  static const double h[3] = {-1000, 0, 1000}, r[3] = {0.0012, 1.0, 1.6};
  if (hu <= h[0]) return r[0];
  if (hu >= h[2]) return r[2];
  int i = hu < h[1] ? 0 : 1;
  return r[i] + (r[i + 1] - r[i]) * (hu - h[i]) / (h[i + 1] - h[i]);
}

static const char *comp_name(int c, char buf[8]) {
  static const char *const names[] = {"air", "body", "lungs", "nonperfused_liver", "perfused_normal_liver"};
  if (c < TC_T0) return names[c];
  snprintf(buf, 8, "T%d", c - TC_T0 + 1);
  return buf;
}

static int label_at(const tare_subject *t, const double shift[3], double x, double y, double z) {
  x -= shift[0];
  y -= shift[1];
  z -= shift[2];
  double bx = x / t->body_r[0], by = y / t->body_r[1];
  if (bx * bx + by * by > 1.0 || z < t->body_z[0] || z > t->body_z[1]) return TC_AIR;
  for (int i = 0; i < t->n_t; i++) {
    double dx = x - t->t_c[i][0], dy = y - t->t_c[i][1], dz = z - t->t_c[i][2];
    if (dx * dx + dy * dy + dz * dz <= t->t_r[i] * t->t_r[i]) return TC_T0 + i;
  }
  double lx = (x - t->liver_c[0]) / t->liver_r[0], ly = (y - t->liver_c[1]) / t->liver_r[1],
         lz = (z - t->liver_c[2]) / t->liver_r[2];
  if (lx * lx + ly * ly + lz * lz <= 1.0) return x < t->split_x ? TC_LIVER_P : TC_LIVER_NP;
  for (int i = 0; i < 2; i++) {
    double ux = (x - t->lung_c[i][0]) / t->lung_r[0], uy = (y - t->lung_c[i][1]) / t->lung_r[1],
           uz = (z - t->lung_c[i][2]) / t->lung_r[2];
    if (ux * ux + uy * uy + uz * uz <= 1.0) return TC_LUNG;
  }
  return TC_BODY;
}

/* Every tumour 3 mm inside the liver and the perfused territory: checked, not assumed, so that editing the
 * table above cannot silently make a tumour straddle two compartments. */
static int check_subject(const tare_subject *t, rcy_error *err) {
  for (int i = 0; i < t->n_t; i++) {
    if (t->t_c[i][0] + t->t_r[i] + 3 > t->split_x)
      return rcy_error_set(err, RCY_EINTERNAL, "%s: tumour T%d reaches outside the perfused territory", t->id,
                           i + 1);
    for (int k = 0; k < 2000; k++) {
      double z = 1 - 2 * (k + 0.5) / 2000, q = sqrt(1 - z * z), ph = k * 2.399963229728653;
      double p[3] = {t->t_c[i][0] + (t->t_r[i] + 3) * q * cos(ph),
                     t->t_c[i][1] + (t->t_r[i] + 3) * q * sin(ph), t->t_c[i][2] + (t->t_r[i] + 3) * z};
      double v = 0;
      for (int a = 0; a < 3; a++)
        v += (p[a] - t->liver_c[a]) * (p[a] - t->liver_c[a]) / (t->liver_r[a] * t->liver_r[a]);
      if (v > 1)
        return rcy_error_set(err, RCY_EINTERNAL, "%s: tumour T%d reaches outside the liver", t->id, i + 1);
    }
    for (int j = 0; j < i; j++) {
      double d = sqrt(pow(t->t_c[i][0] - t->t_c[j][0], 2) + pow(t->t_c[i][1] - t->t_c[j][1], 2) +
                      pow(t->t_c[i][2] - t->t_c[j][2], 2));
      if (d < t->t_r[i] + t->t_r[j] + 5)
        return rcy_error_set(err, RCY_EINTERNAL, "%s: tumours T%d and T%d touch", t->id, j + 1, i + 1);
    }
  }
  return RCY_OK;
}

static void grid_point(double p[3], const tare_grid *g, int i, int j, int k) {
  p[0] = g->o_mm[0] + i * g->d_mm[0];
  p[1] = g->o_mm[1] + j * g->d_mm[1];
  p[2] = g->o_mm[2] + k * g->d_mm[2];
}

static void label_volume(uint8_t *out, const tare_subject *t, const double shift[3], const tare_grid *g) {
  size_t at = 0;
  for (int k = 0; k < g->n[2]; k++)
    for (int j = 0; j < g->n[1]; j++)
      for (int i = 0; i < g->n[0]; i++) {
        double p[3];
        grid_point(p, g, i, j, k);
        out[at++] = (uint8_t)label_at(t, shift, p[0], p[1], p[2]);
      }
}

/* Separable Gaussian blur (sigma in voxels per axis), zero outside the volume. The kernel is normalised to
 * sum 1, so activity away from the edges is conserved. */
static int blur(float *v, const int n[3], const double sigma[3], rcy_error *err) {
  int longest = n[0] > n[1] ? n[0] : n[1];
  if (n[2] > longest) longest = n[2];
  double *line = malloc(sizeof(double) * (size_t)longest), *out = malloc(sizeof(double) * (size_t)longest);
  if (!line || !out) {
    free(line);
    free(out);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory blurring an emission image");
  }
  size_t stride[3] = {1, (size_t)n[0], (size_t)n[0] * n[1]};
  for (int a = 0; a < 3; a++) {
    int rad = (int)ceil(4 * sigma[a]);
    double kern[64];
    if (rad > 31) rad = 31;
    double sum = 0;
    for (int q = -rad; q <= rad; q++)
      sum += kern[q + rad] = exp(-0.5 * q * q / (sigma[a] * sigma[a]));
    for (int q = 0; q <= 2 * rad; q++)
      kern[q] /= sum;
    int b = (a + 1) % 3, c = (a + 2) % 3;
    for (int ic = 0; ic < n[c]; ic++)
      for (int ib = 0; ib < n[b]; ib++) {
        float *base = v + ic * stride[c] + ib * stride[b];
        int any = 0;
        for (int x = 0; x < n[a]; x++)
          any |= (line[x] = base[x * stride[a]]) != 0;
        if (!any) continue; /* most lines of a field of view wider than the body are empty */
        for (int x = 0; x < n[a]; x++) {
          double acc = 0;
          int lo = x - rad < 0 ? -x : -rad, hi = x + rad >= n[a] ? n[a] - 1 - x : rad;
          for (int q = lo; q <= hi; q++)
            acc += kern[q + rad] * line[x + q];
          out[x] = acc;
        }
        for (int x = 0; x < n[a]; x++)
          base[x * stride[a]] = (float)out[x];
      }
  }
  free(line);
  free(out);
  return RCY_OK;
}

/* An emission image on g: value[compartment] per voxel (no blur: the compartment of the voxel centre; with
 * blur: the mean over the voxel of the blurred fine image), then multiplicative Gaussian noise. */
static int emission_image(float *out, const tare_subject *t, const double shift[3], const tare_grid *g,
                          double fwhm_mm, const double value[TC_COUNT], double noise, uint64_t seed,
                          const char *key, rcy_error *err) {
  size_t n = tare_grid_voxels(g);
  if (fwhm_mm <= 0) {
    size_t at = 0;
    for (int k = 0; k < g->n[2]; k++)
      for (int j = 0; j < g->n[1]; j++)
        for (int i = 0; i < g->n[0]; i++) {
          double p[3];
          grid_point(p, g, i, j, k);
          out[at++] = (float)value[label_at(t, shift, p[0], p[1], p[2])];
        }
  } else {
    tare_grid f;
    for (int a = 0; a < 3; a++) {
      f.n[a] = g->n[a] * SUB;
      f.d_mm[a] = g->d_mm[a] / SUB;
      f.o_mm[a] = g->o_mm[a] - g->d_mm[a] / 2 + f.d_mm[a] / 2;
    }
    float *fine = malloc(sizeof(float) * tare_grid_voxels(&f));
    if (!fine) return rcy_error_set(err, RCY_ENOMEM, "out of memory making the emission image of %s", t->id);
    size_t at = 0;
    for (int k = 0; k < f.n[2]; k++)
      for (int j = 0; j < f.n[1]; j++)
        for (int i = 0; i < f.n[0]; i++) {
          double p[3];
          grid_point(p, &f, i, j, k);
          fine[at++] = (float)value[label_at(t, shift, p[0], p[1], p[2])];
        }
    double sigma[3];
    for (int a = 0; a < 3; a++)
      sigma[a] = fwhm_mm / (2 * sqrt(2 * log(2))) / f.d_mm[a];
    int rc = blur(fine, f.n, sigma, err);
    if (rc) {
      free(fine);
      return rc;
    }
    memset(out, 0, sizeof(float) * n);
    for (int k = 0; k < f.n[2]; k++)
      for (int j = 0; j < f.n[1]; j++)
        for (int i = 0; i < f.n[0]; i++)
          out[((size_t)(k / SUB) * g->n[1] + j / SUB) * g->n[0] + i / SUB] +=
              fine[((size_t)k * f.n[1] + j) * f.n[0] + i] / (SUB * SUB * SUB);
    free(fine);
  }
  if (noise > 0) {
    size_t plane = (size_t)g->n[0] * g->n[1];
    for (int k = 0; k < g->n[2]; k++) {
      char slice_key[200];
      snprintf(slice_key, sizeof slice_key, "%s/%d", key, k);
      prng r;
      prng_init(&r, seed, slice_key);
      for (size_t i = 0; i < plane; i++) {
        double gauss = prng_gauss(&r); /* drawn for every voxel, so the stream does not depend on values */
        float *v = out + plane * k + i;
        if (*v > 0) *v = (float)(*v * (1.0 + noise * gauss));
        if (*v < 0) *v = 0;
      }
    }
  }
  return RCY_OK;
}

/* ---- per study: labels, compartment table, budgets ---- */

typedef struct {
  tare_grid ct;
  uint8_t *labels; /* CT grid */
  size_t voxels[TC_COUNT];
  double volume_ml[TC_COUNT], mass_g[TC_COUNT];
} study_geom;

static int study_geom_make(study_geom *sg, const tare_subject *t, int study, rcy_error *err) {
  static const double zero[3] = {0, 0, 0};
  memset(sg, 0, sizeof *sg);
  sg->ct = t->ct;
  sg->labels = malloc(tare_grid_voxels(&sg->ct));
  if (!sg->labels) return rcy_error_set(err, RCY_ENOMEM, "out of memory labelling %s", t->id);
  label_volume(sg->labels, t, study == TARE_MAA ? t->maa_shift : zero, &sg->ct);
  size_t n = tare_grid_voxels(&sg->ct);
  for (size_t i = 0; i < n; i++)
    sg->voxels[sg->labels[i]]++;
  double vml = tare_grid_voxel_ml(&sg->ct);
  for (int c = 0; c < TC_COUNT; c++) {
    sg->volume_ml[c] = sg->voxels[c] * vml;
    sg->mass_g[c] = sg->volume_ml[c] * density_g_per_ml(comp_hu[c]);
  }
  return RCY_OK;
}

/* Splits `total` (Bq or counts) over the compartments of a study: the lungs get lsf * total; the rest goes to
 * tumours, perfused and non-perfused liver and body in proportion to (relative concentration x volume).
 * out[c]: concentration per mL. */
static void budget(double out[TC_COUNT], const tare_subject *t, const study_geom *sg, double total,
                   double tnr) {
  double rel[TC_COUNT] = {0};
  rel[TC_BODY] = t->body_ratio;
  rel[TC_LIVER_NP] = t->np_ratio;
  rel[TC_LIVER_P] = 1.0;
  for (int i = 0; i < t->n_t; i++)
    rel[TC_T0 + i] = tnr;
  double w = 0;
  for (int c = 0; c < TC_COUNT; c++)
    w += rel[c] * sg->volume_ml[c];
  double cp = (1.0 - t->lsf) * total / w;
  for (int c = 0; c < TC_COUNT; c++)
    out[c] = rel[c] * cp;
  out[TC_LUNG] = sg->volume_ml[TC_LUNG] > 0 ? t->lsf * total / sg->volume_ml[TC_LUNG] : 0;
  out[TC_AIR] = 0;
}

/* ---- output ---- */

static json_t *num(double v, double quantum) {
  return json_real(round(v / quantum) * quantum);
}

static json_t *grid_json(const tare_grid *g) {
  return json_pack("{s:[iii], s:[fff], s:[fff], s:s}", "size", g->n[0], g->n[1], g->n[2], "spacing_mm",
                   g->d_mm[0], g->d_mm[1], g->d_mm[2], "origin_mm", g->o_mm[0], g->o_mm[1], g->o_mm[2],
                   "direction", "identity (i +x left, j +y posterior, k +z superior; k = 0 most inferior)");
}

static void iso_datetime(char out[24], int64_t epoch_s) {
  char d[11];
  int64_t day = epoch_s / 86400;
  unsigned t = (unsigned)(epoch_s % 86400);
  format_iso_date(d, day);
  snprintf(out, 24, "%.10sT%02u:%02u:%02u", d, (t / 3600) % 24, (t / 60) % 60, t % 60);
}

/* One row of the truth: a compartment or a VOI (a union of compartments, given as a mask of them). conc:
 * Bq/mL at administration per compartment (Y90) or counts/mL (MAA), pred: predicted 90Y Bq/mL (MAA) or NULL.
 */
static json_t *entry_json(const char *name, const char *kind, const int *member, const study_geom *sg,
                          const double *conc, const double *pred, int y90) {
  size_t vox = 0;
  double vol = 0, mass = 0, act = 0, pact = 0, dose_sum = 0, pdose_sum = 0;
  for (int c = 0; c < TC_COUNT; c++) {
    if (!member[c]) continue;
    double rho = density_g_per_ml(comp_hu[c]);
    vox += sg->voxels[c];
    vol += sg->volume_ml[c];
    mass += sg->mass_g[c];
    act += conc[c] * sg->volume_ml[c];
    dose_sum += sg->voxels[c] * GY_KG_PER_GBQ * 1e-6 * conc[c] / rho;
    if (pred) {
      pact += pred[c] * sg->volume_ml[c];
      pdose_sum += sg->voxels[c] * GY_KG_PER_GBQ * 1e-6 * pred[c] / rho;
    }
  }
  json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "name", name, "kind", kind, "voxels",
                        (json_int_t)vox, "volume_ml", num(vol, 1e-6), "density_g_per_ml",
                        num(vox ? mass / vol : 0, 1e-9), "mass_g", num(mass, 1e-6));
  if (y90) {
    json_object_set_new(j, "concentration_admin_bq_per_ml", num(vox ? act / vol : 0, 1e-3));
    json_object_set_new(j, "activity_gbq", num(act / 1e9, 1e-12));
    json_object_set_new(j, "ldm_mean_gy", num(vox ? dose_sum / vox : 0, 1e-9));
    /* energy / mass: the mass-weighted mean, equal to ldm_mean_gy for a uniform compartment */
    json_object_set_new(j, "ldm_energy_over_mass_gy",
                        num(mass > 0 ? GY_KG_PER_GBQ * act / 1e9 / (mass / 1000) : 0, 1e-9));
  } else {
    json_object_set_new(j, "counts_per_ml", num(vox ? act / vol : 0, 1e-6));
    json_object_set_new(j, "counts", num(act, 1e-3));
    json_object_set_new(j, "predicted_concentration_bq_per_ml", num(vox ? pact / vol : 0, 1e-3));
    json_object_set_new(j, "predicted_activity_gbq", num(pact / 1e9, 1e-12));
    json_object_set_new(j, "predicted_ldm_mean_gy", num(vox ? pdose_sum / vox : 0, 1e-9));
  }
  return j;
}

/* VOIs: the label maps written for the study. */
typedef struct {
  char name[16];
  int member[TC_COUNT];
} voi;

static int vois_for(voi *v, const tare_subject *t) {
  int n = 0;
  memset(v, 0, sizeof(voi) * (3 + TARE_MAX_TUMOURS));
  snprintf(v[n].name, sizeof v[n].name, "liver");
  v[n].member[TC_LIVER_NP] = v[n].member[TC_LIVER_P] = 1;
  for (int i = 0; i < t->n_t; i++)
    v[n].member[TC_T0 + i] = 1;
  n++;
  snprintf(v[n].name, sizeof v[n].name, "perfused_liver");
  v[n].member[TC_LIVER_P] = 1;
  for (int i = 0; i < t->n_t; i++)
    v[n].member[TC_T0 + i] = 1;
  n++;
  snprintf(v[n].name, sizeof v[n].name, "lungs");
  v[n].member[TC_LUNG] = 1;
  n++;
  for (int i = 0; i < t->n_t; i++, n++) {
    snprintf(v[n].name, sizeof v[n].name, "T%d", i + 1);
    v[n].member[TC_T0 + i] = 1;
  }
  return n;
}

static const char *voi_kind(const char *name) {
  if (name[0] == 'T') return "tumour";
  if (strcmp(name, "liver") == 0) return "liver";
  if (strcmp(name, "perfused_liver") == 0) return "perfused_liver";
  return "lung";
}

static int write_vois(const char *out_dir, const tare_subject *t, int study, const study_geom *sg,
                      const voi *v, int nv, json_t *files, rcy_error *err) {
  char dir[4096], path[4400];
  snprintf(dir, sizeof dir, "%s/tare/%s/%s", out_dir, t->id, study_name[study]);
  int rc = make_dirs(dir, err);
  size_t n = tare_grid_voxels(&sg->ct);
  uint8_t *mask = rc ? NULL : malloc(n);
  if (!rc && !mask) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory writing the VOIs of %s", t->id);
  static const double direction[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int q = 0; q < nv && !rc; q++) {
    for (size_t i = 0; i < n; i++)
      mask[i] = v[q].member[sg->labels[i]] ? 1 : 0;
    snprintf(path, sizeof path, "%s/%s.nrrd", dir, v[q].name);
    rc = rcy_imaging_mask_write_nrrd(path, mask, sg->ct.n, sg->ct.o_mm, sg->ct.d_mm, direction, err);
    char rel[320];
    snprintf(rel, sizeof rel, "tare/%.64s/%s/%.16s.nrrd", t->id, study_name[study], v[q].name);
    if (!rc) json_object_set_new(files, v[q].name, json_string(rel));
  }
  free(mask);
  return rc;
}

/* The CT of a study from its labels: HU + 1024 stored, noise in the body only. */
static int write_study_ct(const tare_series *ser, const tare_subject *t, int study, const study_geom *sg,
                          uint64_t seed, rcy_sample_stats *stats, rcy_error *err) {
  size_t plane = (size_t)sg->ct.n[0] * sg->ct.n[1], n = tare_grid_voxels(&sg->ct);
  int16_t *px = malloc(n * sizeof *px);
  if (!px) return rcy_error_set(err, RCY_ENOMEM, "out of memory making the CT of %s", t->id);
  for (int k = 0; k < sg->ct.n[2]; k++) {
    char key[128];
    snprintf(key, sizeof key, "tare/%s/%s/ct-noise/%d", t->id, study_name[study], k);
    prng r;
    prng_init(&r, seed, key);
    for (size_t i = 0; i < plane; i++) {
      int lab = sg->labels[plane * k + i];
      double hu = comp_hu[lab], gauss = prng_gauss(&r);
      if (lab != TC_AIR) hu += t->ct_noise_hu * gauss;
      long v = lround(hu) + 1024;
      px[plane * k + i] = (int16_t)(v < 0 ? 0 : v > 4095 ? 4095 : v);
    }
  }
  int rc = tare_write_ct(ser, px, stats, err);
  free(px);
  return rc;
}

static void series_base(tare_series *s, const tare_subject *t, int study, uint64_t seed, int64_t study_epoch,
                        const char *dir) {
  memset(s, 0, sizeof *s);
  s->subject_id = t->id;
  s->site = "S014";
  s->sex = t->sex;
  s->timepoint = study_name[study];
  s->timepoint_desc = study == TARE_MAA ? "TARE work-up (99mTc-MAA)" : "TARE post-treatment (90Y)";
  s->study_description =
      study == TARE_MAA ? "CIREL TARE work-up 99mTc-MAA SPECT/CT" : "CIREL TARE 90Y PET/CT";
  sample_uid(s->study_uid, seed, "tare/%s/%s/study", t->id, study_name[study]);
  sample_uid(s->frame_uid, seed, "tare/%s/%s/frame", t->id, study_name[study]);
  s->seed = seed;
  s->study_epoch_s = study_epoch;
  s->out_dir = dir;
}

static double models_json_add(json_t *models, const char *name, const char *what, double a_gbq, double lsf,
                              double tnr, const study_geom *sg, const tare_subject *t) {
  double m_t = 0, m_n = sg->mass_g[TC_LIVER_P], m_l = sg->mass_g[TC_LUNG];
  for (int i = 0; i < t->n_t; i++)
    m_t += sg->mass_g[TC_T0 + i];
  double m_p = m_t + m_n;
  double mird = GY_KG_PER_GBQ * a_gbq * (1 - lsf) / (m_p / 1000);
  double dn = GY_KG_PER_GBQ * a_gbq * (1 - lsf) / ((m_n + tnr * m_t) / 1000);
  double lung = GY_KG_PER_GBQ * a_gbq * lsf / (m_l / 1000);
  json_object_set_new(models, name,
                      json_pack("{s:s, s:f, s:f, s:f, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "what",
                                what, "activity_gbq", a_gbq, "lung_shunt_fraction", lsf, "residual_fraction",
                                0.0, "tnr", tnr, "perfused_liver_mass_g", num(m_p, 1e-6), "tumour_mass_g",
                                num(m_t, 1e-6), "perfused_normal_mass_g", num(m_n, 1e-6), "lung_mass_g",
                                num(m_l, 1e-6), "mird_liver_gy", num(mird, 1e-9), "partition_tumour_gy",
                                num(tnr * dn, 1e-9), "partition_normal_gy", num(dn, 1e-9), "lung_gy",
                                num(lung, 1e-9)));
  return mird;
}

static int decay_mode(const char **mode, const char *opt, rcy_error *err) {
  static const char *const modes[] = {"START", "ADMIN", "NONE"};
  if (!opt || !*opt) {
    *mode = modes[0];
    return RCY_OK;
  }
  for (int m = 0; m < 3; m++) {
    size_t i = 0;
    while (opt[i] && modes[m][i] && toupper((unsigned char)opt[i]) == modes[m][i])
      i++;
    if (!opt[i] && !modes[m][i]) {
      *mode = modes[m];
      return RCY_OK;
    }
  }
  return rcy_error_set(err, RCY_EINVAL, "tare-decay must be start, admin or none, got \"%s\"", opt);
}

static int subject_write(const rcy_sample_options *o, const tare_subject *t, const char *mode,
                         rcy_sample_stats *stats, rcy_error *err) {
  int rc = check_subject(t, err);
  if (rc) return rc;
  const double lambda = log(2.0) / TARE_Y90_HALF_LIFE_S, frame_s = 900.0;
  int64_t treat_day = days_from_civil(t->year, t->month, t->day);
  int64_t inj = treat_day * 86400 + t->injection_s;
  int64_t pet_start = inj + t->scan_delay_s;
  int64_t maa_inj = (treat_day - t->maa_days_before) * 86400 + 10 * 3600;
  int64_t study_epoch[TARE_STUDIES] = {maa_inj + 45 * 60, pet_start - 15 * 60};
  static const double zero[3] = {0, 0, 0};
  study_geom sg[TARE_STUDIES];
  memset(sg, 0, sizeof sg);
  json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:I}", "subject", t->id, "site", "S014", "kind", t->kind,
                           "description", t->description, "seed", (json_int_t)o->seed);
  json_t *studies = json_object(), *models = json_object();
  voi v[3 + TARE_MAX_TUMOURS];
  int nv = vois_for(v, t);
  double conc_y90[TC_COUNT] = {0}, counts_maa[TC_COUNT] = {0}, pred_maa[TC_COUNT] = {0};
  char dir[4096], cbuf[8], dt[24];
  for (int st = 0; st < TARE_STUDIES && !rc; st++)
    rc = study_geom_make(&sg[st], t, st, err);
  if (!rc) {
    budget(conc_y90, t, &sg[TARE_Y90], t->injected_gbq * 1e9, t->tnr_y90);
    budget(counts_maa, t, &sg[TARE_MAA], t->maa_counts, t->tnr_maa);
    for (int c = 0; c < TC_COUNT; c++)
      pred_maa[c] = counts_maa[c] * t->planned_gbq * 1e9 / t->maa_counts;
  }
  /* the PET's values: concentration at the series start (START), at the injection (ADMIN), or the mean over
   * the frame starting at the acquisition time without any decay correction (NONE) */
  double delay_s = (double)(pet_start - inj), lt = lambda * frame_s;
  double to_start = exp(-lambda * delay_s), frame_mean = (1 - exp(-lt)) / lt;
  double image_over_admin = strcmp(mode, "ADMIN") == 0   ? 1.0
                            : strcmp(mode, "START") == 0 ? to_start
                                                         : to_start * frame_mean;
  for (int st = 0; st < TARE_STUDIES && !rc; st++) {
    snprintf(dir, sizeof dir, "%s/S014/%s/%s", o->out_dir, t->id, study_name[st]);
    rc = make_dirs(dir, err);
    if (rc) break;
    tare_series ct;
    series_base(&ct, t, st, o->seed, study_epoch[st], dir);
    sample_uid(ct.series_uid, o->seed, "tare/%s/%s/CT/series", t->id, study_name[st]);
    snprintf(ct.uid_key, sizeof ct.uid_key, "tare/%s/%s/CT/image", t->id, study_name[st]);
    ct.series_epoch_s = ct.content_epoch_s = study_epoch[st] + 5 * 60;
    ct.series_number = 1;
    ct.g = sg[st].ct;
    rc = write_study_ct(&ct, t, st, &sg[st], o->seed, stats, err);
    if (rc) break;
    const double *shift = st == TARE_MAA ? t->maa_shift : zero;
    char rel[256];
    snprintf(rel, sizeof rel, "S014/%s/%s", t->id, study_name[st]);
    json_t *s = json_pack("{s:s, s:s, s:s, s:[fff]}", "study_uid", ct.study_uid, "frame_of_reference_uid",
                          ct.frame_uid, "series_dir", rel, "patient_shift_mm", shift[0], shift[1], shift[2]);
    iso_datetime(dt, study_epoch[st]);
    json_object_set_new(s, "study_datetime", json_string(dt));
    json_object_set_new(s, "ct",
                        json_pack("{s:s, s:s, s:o, s:f}", "series_uid", ct.series_uid, "files", "CT_nnnn.dcm",
                                  "grid", grid_json(&ct.g), "noise_hu", t->ct_noise_hu));
    tare_series em = ct;
    em.series_number = 2;
    if (st == TARE_Y90) {
      em.g = t->pet.n[0] ? t->pet : sg[st].ct;
      em.series_epoch_s = pet_start;
      em.content_epoch_s = pet_start + 30 * 60;
      sample_uid(em.series_uid, o->seed, "tare/%s/Y90/PT/%s/series", t->id, mode);
      snprintf(em.uid_key, sizeof em.uid_key, "tare/%s/Y90/PT/%s/image", t->id, mode);
      float *img = malloc(sizeof(float) * tare_grid_voxels(&em.g));
      if (!img) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory making the PET of %s", t->id);
      double value[TC_COUNT];
      for (int c = 0; c < TC_COUNT; c++)
        value[c] = conc_y90[c] * image_over_admin;
      char key[128];
      snprintf(key, sizeof key, "tare/%s/Y90/pet-noise", t->id);
      if (!rc)
        rc = emission_image(img, t, shift, &em.g, t->pet.n[0] ? t->pet_fwhm_mm : 0, value, t->pet_noise,
                            o->seed, key, err);
      /* Decay Factor (0054,1321): what the scanner multiplied the frame's mean by to reach the reference time
       */
      double decay_factor = (strcmp(mode, "ADMIN") == 0 ? exp(lambda * delay_s) : 1.0) / frame_mean;
      tare_emission e = {.injection_epoch_s = inj,
                         .total_dose_bq = t->injected_gbq * 1e9,
                         .half_life_s = TARE_Y90_HALF_LIFE_S,
                         .nuclide_code = "14691008",
                         .nuclide_meaning = "^90^Yttrium",
                         .pharmaceutical = "Y-90 glass microspheres",
                         .decay_correction = mode,
                         .frame_duration_ms = frame_s * 1000,
                         .decay_factor = decay_factor,
                         .frame_reference_ms = -log(frame_mean) / lambda * 1000,
                         .kernel = t->pet.n[0] ? "GAUSSIAN 8MM" : "NONE"};
      if (!rc) rc = tare_write_pet(&em, &e, img, stats, err);
      double total = 0;
      if (!rc)
        for (size_t i = 0; i < tare_grid_voxels(&em.g); i++)
          total += img[i];
      free(img);
      if (rc) break;
      iso_datetime(dt, pet_start);
      json_t *pet = json_pack(
          "{s:s, s:s, s:o, s:f, s:f, s:s, s:s, s:f, s:f, s:o, s:o, s:s}", "series_uid", em.series_uid,
          "files", "PT_nnnn.dcm", "grid", grid_json(&em.g), "fwhm_mm", t->pet.n[0] ? t->pet_fwhm_mm : 0.0,
          "noise_relative", t->pet_noise, "decay_correction", mode, "series_datetime", dt, "scan_delay_s",
          delay_s, "frame_duration_s", frame_s, "image_over_admin", num(image_over_admin, 1e-12),
          "value_to_admin_factor", num(1.0 / image_over_admin, 1e-12), "value_note",
          strcmp(mode, "START") == 0 ? "START: value = C_admin * exp(-lambda * scan_delay_s), "
                                       "decay-corrected to Series Date/Time (the "
                                       "frame's own decay corrected too)"
          : strcmp(mode, "ADMIN") == 0
              ? "ADMIN: value = C_admin, decay-corrected to the Radiopharmaceutical Start DateTime"
              : "NONE: value = C_admin * exp(-lambda * scan_delay_s) * (1 - exp(-lambda T)) / (lambda T), "
                "the mean "
                "over the frame (T = Actual Frame Duration) that starts at the Acquisition Date/Time, which "
                "every "
                "slice shares with the Series Date/Time");
      json_object_set_new(pet, "lambda_per_s", json_real(lambda));
      json_object_set_new(pet, "activity_in_image_admin_gbq",
                          num(total * tare_grid_voxel_ml(&em.g) / image_over_admin / 1e9, 1e-9));
      json_object_set_new(s, "pet", pet);
    } else {
      em.g = t->spect.n[0] ? t->spect : sg[st].ct;
      em.series_epoch_s = maa_inj + 60 * 60;
      em.content_epoch_s = em.series_epoch_s + 40 * 60;
      sample_uid(em.series_uid, o->seed, "tare/%s/MAA/NM/series", t->id);
      snprintf(em.uid_key, sizeof em.uid_key, "tare/%s/MAA/NM/image", t->id);
      size_t n = tare_grid_voxels(&em.g);
      float *img = malloc(sizeof(float) * n);
      uint16_t *counts = malloc(sizeof(uint16_t) * n);
      if (!img || !counts) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory making the SPECT of %s", t->id);
      double value[TC_COUNT];
      for (int c = 0; c < TC_COUNT; c++)
        value[c] = counts_maa[c] * tare_grid_voxel_ml(&em.g); /* counts per voxel */
      char key[128];
      snprintf(key, sizeof key, "tare/%s/MAA/spect-noise", t->id);
      if (!rc)
        rc = emission_image(img, t, shift, &em.g, t->spect.n[0] ? t->spect_fwhm_mm : 0, value, t->spect_noise,
                            o->seed, key, err);
      double total = 0;
      for (size_t i = 0; i < n && !rc; i++) {
        double q = floor(img[i] + 0.5);
        counts[i] = (uint16_t)(q > 65535 ? 65535 : q < 0 ? 0 : q);
        total += counts[i];
      }
      tare_emission e = {.injection_epoch_s = maa_inj,
                         .total_dose_bq = t->maa_mbq * 1e6,
                         .half_life_s = TARE_TC99M_HALF_LIFE_S,
                         .nuclide_code = "72454006",
                         .nuclide_meaning = "^99m^Technetium",
                         .pharmaceutical = "Tc-99m MAA",
                         .pharmaceutical_code = "85693008",
                         .pharmaceutical_meaning = "Technetium Tc^99m^ aggregated albumin",
                         .kernel = t->spect.n[0] ? "BUTTERWORTH" : "NONE"};
      if (!rc) rc = tare_write_spect(&em, &e, counts, stats, err);
      free(img);
      free(counts);
      if (rc) break;
      iso_datetime(dt, em.series_epoch_s);
      json_object_set_new(
          s, "spect",
          json_pack(
              "{s:s, s:s, s:o, s:f, s:f, s:s, s:s, s:f, s:s}", "series_uid", em.series_uid, "file",
              "NM_0001.dcm", "grid", grid_json(&em.g), "fwhm_mm", t->spect.n[0] ? t->spect_fwhm_mm : 0.0,
              "noise_relative", t->spect_noise, "units", "CNTS", "series_datetime", dt, "counts_in_image",
              total, "frames",
              "frame f (1-based) is slice k = f - 1 of the grid: from the Detector Information Sequence's "
              "Image Position along +z (row x column), Spacing Between Slices apart"));
    }
    /* compartments and VOIs of this study */
    json_t *comps = json_array(), *vj = json_array(), *files = json_object();
    for (int c = TC_BODY; c < TC_T0 + t->n_t; c++) {
      int member[TC_COUNT] = {0};
      member[c] = 1;
      const char *kind = c >= TC_T0     ? "tumour"
                         : c == TC_LUNG ? "lung"
                         : c == TC_BODY ? "other"
                                        : "liver_part";
      json_t *e =
          entry_json(comp_name(c, cbuf), kind, member, &sg[st], st == TARE_Y90 ? conc_y90 : counts_maa,
                     st == TARE_Y90 ? NULL : pred_maa, st == TARE_Y90);
      json_object_set_new(e, "hu", json_real(comp_hu[c]));
      json_array_append_new(comps, e);
    }
    for (int q = 0; q < nv; q++)
      json_array_append_new(vj, entry_json(v[q].name, voi_kind(v[q].name), v[q].member, &sg[st],
                                           st == TARE_Y90 ? conc_y90 : counts_maa,
                                           st == TARE_Y90 ? NULL : pred_maa, st == TARE_Y90));
    { /* liver minus tumours, perfused liver minus tumours: what dose/ derives */
      int normal[TC_COUNT] = {0};
      normal[TC_LIVER_NP] = normal[TC_LIVER_P] = 1;
      json_array_append_new(vj, entry_json("normal_liver", "normal_liver", normal, &sg[st],
                                           st == TARE_Y90 ? conc_y90 : counts_maa,
                                           st == TARE_Y90 ? NULL : pred_maa, st == TARE_Y90));
      normal[TC_LIVER_NP] = 0;
      json_array_append_new(vj, entry_json("perfused_normal", "perfused_normal", normal, &sg[st],
                                           st == TARE_Y90 ? conc_y90 : counts_maa,
                                           st == TARE_Y90 ? NULL : pred_maa, st == TARE_Y90));
    }
    rc = write_vois(o->out_dir, t, st, &sg[st], v, nv, files, err);
    json_object_set_new(s, "compartments", comps);
    json_object_set_new(s, "vois", vj);
    json_object_set_new(s, "voi_files", files);
    json_object_set_new(studies, study_name[st], s);
    if (!rc) stats->studies++;
  }
  if (!rc) {
    json_t *geo = json_pack(
        "{s:s, s:{s:[ff], s:[ff]}, s:{s:[fff], s:[fff]}, s:f, s:s}", "rule",
        "a voxel is in the compartment whose shape contains its centre: outside the body (air) first, then "
        "tumours, liver, lungs, body; coordinates of the Y90 study (the MAA study adds patient_shift_mm)",
        "body", "semi_axes_mm", t->body_r[0], t->body_r[1], "z_range_mm", t->body_z[0], t->body_z[1], "liver",
        "center_mm", t->liver_c[0], t->liver_c[1], t->liver_c[2], "semi_axes_mm", t->liver_r[0],
        t->liver_r[1], t->liver_r[2], "perfused_split_x_mm", t->split_x, "perfused_rule",
        "perfused territory = liver with x < perfused_split_x_mm (the patient's right)");
    json_t *lungs = json_array(), *tum = json_array();
    for (int i = 0; i < 2; i++)
      json_array_append_new(lungs, json_pack("{s:[fff], s:[fff]}", "center_mm", t->lung_c[i][0],
                                             t->lung_c[i][1], t->lung_c[i][2], "semi_axes_mm", t->lung_r[0],
                                             t->lung_r[1], t->lung_r[2]));
    for (int i = 0; i < t->n_t; i++) {
      char id[8];
      snprintf(id, sizeof id, "T%d", i + 1);
      json_array_append_new(tum, json_pack("{s:s, s:[fff], s:f}", "id", id, "center_mm", t->t_c[i][0],
                                           t->t_c[i][1], t->t_c[i][2], "diameter_mm", 2 * t->t_r[i]));
    }
    json_object_set_new(geo, "lungs", lungs);
    json_object_set_new(geo, "tumours", tum);
    json_t *hu = json_object();
    for (int c = TC_AIR; c < TC_T0 + 1; c++)
      json_object_set_new(hu, c == TC_T0 ? "tumour" : comp_name(c, cbuf), json_real(comp_hu[c]));
    json_object_set_new(geo, "hu", hu);
    json_object_set_new(root, "geometry", geo);
    char inj_s[24], maa_s[24];
    iso_datetime(inj_s, inj);
    iso_datetime(maa_s, maa_inj);
    json_object_set_new(root, "treatment",
                        json_pack("{s:s, s:f, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:s}", "radiopharmaceutical",
                                  "Y-90 glass microspheres", "injected_activity_gbq", t->injected_gbq,
                                  "injection_datetime", inj_s, "scan_delay_h", t->scan_delay_s / 3600.0,
                                  "half_life_s", TARE_Y90_HALF_LIFE_S, "lung_shunt_fraction", t->lsf, "tnr",
                                  t->tnr_y90, "nonperfused_to_perfused_ratio", t->np_ratio,
                                  "body_to_perfused_ratio", t->body_ratio, "decay_correction", mode));
    json_object_set_new(
        root, "maa",
        json_pack(
            "{s:f, s:f, s:f, s:f, s:s, s:f, s:s}", "planned_activity_gbq", t->planned_gbq, "tnr", t->tnr_maa,
            "lung_shunt_fraction", t->lsf, "tc99m_activity_mbq", t->maa_mbq, "injection_datetime", maa_s,
            "total_counts", t->maa_counts, "predicted_note",
            "predicted_* = planned activity x (counts / total counts): the MAA distribution scaled to the "
            "planned 90Y activity"));
    json_object_set_new(
        root, "density_table",
        json_pack("{s:[[ff][ff][ff]], s:s}", "hu_g_per_ml", -1000.0, 0.0012, 0.0, 1.0, 1000.0, 1.6, "note",
                  "density_g_per_ml of a compartment is the table's at its noiseless HU (the CT has noise)"));
    json_object_set_new(
        models, "formulas",
        json_string("MIRD D = 49.67 * A(GBq) * (1 - LSF) / M_perfused(kg); partition D_N = 49.67 * A "
                    "* (1 - LSF) / (M_N + TNR * M_T) (kg), D_T = TNR * D_N; lung D = 49.67 * A * "
                    "LSF / M_lung(kg); masses of the study's VOIs (perfused_liver, tumours, "
                    "perfused_normal, lungs)"));
    models_json_add(models, "y90", "90Y injected activity, MAA TNR (what dose/ computes), Y90 study masses",
                    t->injected_gbq, t->lsf, t->tnr_maa, &sg[TARE_Y90], t);
    models_json_add(models, "y90_true_tnr", "90Y injected activity, the 90Y distribution's own TNR",
                    t->injected_gbq, t->lsf, t->tnr_y90, &sg[TARE_Y90], t);
    models_json_add(models, "maa_planned", "planned activity, MAA TNR, MAA study masses", t->planned_gbq,
                    t->lsf, t->tnr_maa, &sg[TARE_MAA], t);
    json_object_set_new(root, "models", models);
    models = NULL;
    json_object_set_new(root, "studies", studies);
    studies = NULL;
    snprintf(dir, sizeof dir, "%s/tare/%s.json", o->out_dir, t->id);
    if (json_dump_file(root, dir, DUMP_FLAGS) != 0) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", dir);
  }
  json_decref(models);
  json_decref(studies);
  json_decref(root);
  for (int st = 0; st < TARE_STUDIES; st++)
    free(sg[st].labels);
  return rc;
}

static int selected(const rcy_sample_options *o, const tare_subject *t) {
  return !o->phantom || strcmp(o->phantom, t->kind) == 0 || strcmp(o->phantom, t->id) == 0;
}

int tare_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err) {
  const char *mode = "START";
  int rc = decay_mode(&mode, o->tare_decay, err);
  if (rc) return rc;
  int any = 0; /* refuse an unknown --phantom before anything is written */
  for (int i = 0; i < N_SUBJECTS; i++)
    any |= selected(o, &subjects[i]);
  if (!any)
    return rcy_error_set(err, RCY_EINVAL,
                         "no TARE phantom named \"%s\" (accuracy, realistic, cohort or a subject ID)",
                         o->phantom);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tare", o->out_dir);
  rc = make_dirs(dir, err);
  for (int i = 0; i < N_SUBJECTS && !rc; i++) {
    if (!selected(o, &subjects[i])) continue;
    rc = subject_write(o, &subjects[i], mode, stats, err);
    if (!rc) stats->subjects++;
  }
  return rc;
}
