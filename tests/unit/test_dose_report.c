/* The dose report and the fused dose-over-CT pictures, on a run built by hand (no DICOM, no dose engine): a
 * 48×40×24 CT of 4×4×5 mm with a body, a liver, a hot tumour sphere inside it and two lungs; the dose 250 Gy
 * in the tumour, 80 Gy in the rest of the liver, 5 Gy in a patch of the body, 0 elsewhere. Checks the PDF
 * (header, size, its text through poppler's pdftotext when installed), the fused PNG pixel by pixel against
 * the DICOM window and matplotlib's "turbo" colours (values written here from matplotlib 3.6, not from the
 * code under test), the colour bar, the scale maximum and the refusals. The PDF and PNGs are left in
 * RCY_BUILD_DIR/test-tmp/dose_report/ to be looked at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recistry/dose.h"
#include "recistry/render.h"

enum { NX = 48, NY = 40, NZ = 24, SLICE = 9 };
#define TUMOUR_GY 250.0
#define LIVER_GY 80.0
#define LOW_GY 5.0

static char outdir[4096];

static int in_body(int i, int j) { return pow((i - 23.5) / 22, 2) + pow((j - 19.5) / 17, 2) <= 1; }
static int in_liver(int i, int j, int k) { return pow((i - 16) / 10.0, 2) + pow((j - 18) / 9.0, 2) + pow((k - 9) / 7.0, 2) <= 1; }
static int in_tumour(int i, int j, int k) { return pow(i - 14, 2) + pow(j - 18, 2) + pow(k - 9, 2) <= 3.2 * 3.2; }
static int in_lung(int i, int j, int k) {
  return k >= 17 && (pow((i - 13) / 8.0, 2) + pow((j - 18) / 10.0, 2) <= 1 || pow((i - 34) / 8.0, 2) + pow((j - 18) / 10.0, 2) <= 1);
}
static int in_low(int i, int j, int k) { return k == SLICE && i >= 30 && i <= 34 && j >= 17 && j <= 21; }

/* Metrics and DVH of the dose inside a mask, computed the plain way (not the dose module's). */
static void fill_compartment(rcy_dose_compartment *c, const char *name, rcy_dose_kind kind, const rcy_dose_grid *g,
                             const uint8_t *m) {
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  c->kind = kind;
  size_t n = rcy_dose_grid_voxels(g);
  double sum = 0, mx = 0, mn = INFINITY;
  for (size_t v = 0; v < n; v++)
    if (m[v]) {
      c->voxels++;
      sum += g->values[v];
      mx = fmax(mx, g->values[v]), mn = fmin(mn, g->values[v]);
    }
  c->volume_ml = c->voxels * rcy_dose_grid_voxel_ml(g);
  c->mass_g = c->volume_ml * 1.05;
  c->mean_gy = sum / c->voxels, c->max_gy = mx, c->min_gy = mn;
  c->n_dvh = (size_t)mx + 2;
  c->dvh = calloc(c->n_dvh, sizeof *c->dvh);
  assert_non_null(c->dvh);
  for (size_t d = 0; d < c->n_dvh; d++) {
    size_t at = 0;
    for (size_t v = 0; v < n; v++) at += m[v] && g->values[v] >= (double)d;
    c->dvh[d] = (rcy_dose_dvh_point){(double)d, 100.0 * at / c->voxels};
    if (c->dvh[d].volume_pct >= 50) c->d50_gy = d;
    if (c->dvh[d].volume_pct >= 70) c->d70_gy = d;
    if (c->dvh[d].volume_pct >= 90) c->d90_gy = d;
    if (d == 100) c->v100_pct = c->dvh[d].volume_pct;
    if (d == 150) c->v150_pct = c->dvh[d].volume_pct;
    if (d == 205) c->v205_pct = c->dvh[d].volume_pct;
  }
  c->activity_gbq = c->mass_g / 1000 * c->mean_gy / RCY_DOSE_Y90_GY_KG_PER_GBQ;
}

typedef struct {
  rcy_dose_run run;
  rcy_dicom_volume pet, ct, maa;
  char *voi_names[3];
  uint8_t *voi_masks[3];
  rcy_dose_threshold thr[2];
  rcy_dose_flag flag;
  rcy_dose_compartment comp[2], pred[2];
} fixture;

static void build(fixture *f) {
  memset(f, 0, sizeof *f);
  const int size[3] = {NX, NY, NZ};
  const double origin[3] = {-94, -78, -57.5}, sp[3] = {4, 4, 5}, dir[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  rcy_error err = {0};
  rcy_dose_run *r = &f->run;
  snprintf(r->subject, sizeof r->subject, "CIREL-T-0001");
  /* PET: only its attributes are reported (no voxels needed) */
  rcy_dicom_volume *p = &f->pet;
  snprintf(p->modality, sizeof p->modality, "PT");
  snprintf(p->units, sizeof p->units, "BQML");
  p->decay_correction = RCY_DICOM_DECAY_START;
  snprintf(p->radionuclide, sizeof p->radionuclide, "^90^Yttrium");
  p->half_life_s = RCY_DOSE_Y90_HALF_LIFE_S;
  p->total_dose_bq = 3.0e9;
  p->injection_epoch_s = 1790000000; /* 2026-09-21 14:13:20 */
  p->series_epoch_s = p->acquisition_epoch_s = 1790000000 + 18 * 3600;
  p->frame_duration_s = 1200;
  snprintf(p->series_uid, sizeof p->series_uid, "1.2.826.0.1.3680043.10.999.1");
  p->size[0] = 128, p->size[1] = 128, p->size[2] = 48;
  p->spacing_mm[0] = p->spacing_mm[1] = 4.07, p->spacing_mm[2] = 3;
  memcpy(p->direction, dir, sizeof dir);
  /* CT */
  rcy_dicom_volume *ct = &f->ct;
  snprintf(ct->modality, sizeof ct->modality, "CT");
  snprintf(ct->units, sizeof ct->units, "HU");
  snprintf(ct->series_uid, sizeof ct->series_uid, "1.2.826.0.1.3680043.10.999.2");
  memcpy(ct->size, size, sizeof size), memcpy(ct->origin_mm, origin, sizeof origin);
  memcpy(ct->spacing_mm, sp, sizeof sp), memcpy(ct->direction, dir, sizeof dir);
  ct->values = calloc((size_t)NX * NY * NZ, sizeof *ct->values);
  assert_non_null(ct->values);
  snprintf(f->maa.modality, sizeof f->maa.modality, "NM");
  snprintf(f->maa.series_uid, sizeof f->maa.series_uid, "1.2.826.0.1.3680043.10.999.3");
  r->pet = &f->pet, r->ct = &f->ct, r->maa = &f->maa;
  /* dose and masks */
  rcy_dose_result *res = &r->result;
  assert_int_equal(rcy_dose_grid_alloc(&res->dose, size, origin, sp, dir, &err), 0);
  uint8_t *mt = calloc((size_t)NX * NY * NZ, 1), *ml = calloc((size_t)NX * NY * NZ, 1),
          *mu = calloc((size_t)NX * NY * NZ, 1);
  assert_true(mt && ml && mu);
  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < NY; j++)
      for (int i = 0; i < NX; i++) {
        size_t v = (size_t)i + NX * ((size_t)j + NY * (size_t)k);
        float hu = -1000, d = 0;
        if (in_body(i, j)) hu = 40;
        if (in_low(i, j, k)) d = LOW_GY;
        if (in_liver(i, j, k)) hu = 60, d = LIVER_GY, ml[v] = 1;
        if (in_tumour(i, j, k)) hu = 45, d = TUMOUR_GY, mt[v] = 1;
        if (in_lung(i, j, k)) hu = -800, mu[v] = 1;
        ct->values[v] = hu;
        res->dose.values[v] = d;
      }
  /* the kinds follow from the names (rcy_dose_kind_from_name), as in a real run */
  f->voi_names[0] = "T1", f->voi_names[1] = "liver", f->voi_names[2] = "lungs";
  f->voi_masks[0] = mt, f->voi_masks[1] = ml, f->voi_masks[2] = mu;
  r->voi_names = f->voi_names, r->voi_masks = f->voi_masks, r->n_vois = 3;
  snprintf(res->method, sizeof res->method, "ldm");
  res->decay_factor = exp(log(2) / RCY_DOSE_Y90_HALF_LIFE_S * 18 * 3600);
  res->injected_gbq = 3.0;
  res->activity_in_fov_gbq = 2.87;
  fill_compartment(&f->comp[0], "T1", RCY_DOSE_KIND_TUMOUR, &res->dose, mt);
  fill_compartment(&f->comp[1], "liver", RCY_DOSE_KIND_LIVER, &res->dose, ml);
  res->compartments = f->comp, res->n_compartments = 2;
  res->models = (rcy_dose_models){.injected_gbq = 3.0, .lung_shunt_fraction = 0.06, .residual_fraction = 0.02,
                                  .mird_liver_gy = 104.3, .tnr = 2.8, .partition_tumour_gy = 262.1,
                                  .partition_normal_gy = 93.6, .lung_gy = 11.2};
  /* two thresholds, one flagged: the whole liver above the safety limit */
  f->thr[0] = (rcy_dose_threshold){.name = "tumour_efficacy", .kind = RCY_DOSE_KIND_TUMOUR, .metric = "mean_gy",
                                   .comparison = ">=", .limit = 189, .severity = "info",
                                   .reference = "EANM 2022 (Weber et al., EJNMMI 49:1682), glass, mCRC: tumour mean "
                                                ">= 189 Gy"};
  f->thr[1] = (rcy_dose_threshold){.name = "liver_safety", .kind = RCY_DOSE_KIND_LIVER, .metric = "mean_gy",
                                   .comparison = "<", .limit = 75, .severity = "warning",
                                   .reference = "EANM 2022 (Weber et al., EJNMMI 49:1682): whole normal liver mean "
                                                "< 75 Gy"};
  r->thresholds = f->thr, r->n_thresholds = 2;
  f->flag = (rcy_dose_flag){"liver_safety", "liver", "mean_gy", "<", f->comp[1].mean_gy, 75, "warning", ""};
  snprintf(f->flag.message, sizeof f->flag.message, "liver: mean %.0f Gy >= 75 Gy", f->comp[1].mean_gy);
  res->flags = &f->flag, res->n_flags = 1;
  snprintf(r->density_source, sizeof r->density_source, "CT series (HU -> g/mL, default table)");
  /* the MAA prediction: 10 % less than delivered, no DVH */
  r->has_predicted = 1;
  for (int c = 0; c < 2; c++) {
    f->pred[c] = f->comp[c];
    f->pred[c].dvh = NULL, f->pred[c].n_dvh = 0;
    f->pred[c].mean_gy *= 0.9, f->pred[c].d70_gy *= 0.9;
  }
  r->predicted.compartments = f->pred, r->predicted.n_compartments = 2;
  r->predicted.injected_gbq = 3.2;
  r->predicted.models = res->models;
  r->predicted.models.injected_gbq = 3.2;
}

static void teardown_fixture(fixture *f) {
  free(f->ct.values);
  for (int v = 0; v < 3; v++) free(f->voi_masks[v]);
  for (int c = 0; c < 2; c++) free(f->comp[c].dvh);
  rcy_dose_grid_free(&f->run.result.dose);
}

static void out_path(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", outdir, name); }

static void save(const char *name, const unsigned char *p, size_t n) {
  char path[4200];
  out_path(path, sizeof path, name);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(p, 1, n, fp), n);
  fclose(fp);
}

/* Decodes a PNG to RGB bytes (libpng's simplified API). */
static unsigned char *decode(const unsigned char *png, size_t len, int *w, int *h) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  assert_true(png_image_begin_read_from_memory(&im, png, len));
  im.format = PNG_FORMAT_RGB;
  unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
  assert_non_null(buf);
  assert_true(png_image_finish_read(&im, NULL, buf, 0, NULL));
  *w = (int)im.width, *h = (int)im.height;
  return buf;
}

static const unsigned char *px(const unsigned char *rgb, int w, int x, int y) { return rgb + 3 * ((size_t)y * w + x); }

/* DICOM linear window (PS3.3 C.11.2.1.2.1), computed here. */
static int window(double hu, double wc, double ww) {
  double y = ((hu - (wc - 0.5)) / (ww - 1) + 0.5) * 255;
  return y <= 0 ? 0 : y >= 255 ? 255 : (int)floor(y + 0.5);
}

static void assert_near(int got, double want, double tol, const char *what) {
  if (fabs(got - want) > tol) fail_msg("%s: %d, expected %.1f ± %.1f", what, got, want, tol);
}

static void fused_pixels(void **state) {
  (void)state;
  fixture f;
  build(&f);
  rcy_error err = {0};
  unsigned char *png = NULL;
  size_t len = 0;
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, SLICE, 40, 400, 300, 0.5, 1, &err), 0);
  save("fused_slice9.png", png, len);
  int w, h;
  unsigned char *rgb = decode(png, len, &w, &h);
  const int s = 256 / NX; /* the documented magnification: 5 */
  assert_int_equal(w, NX * s);
  assert_int_equal(h, NY * s);
  /* the tumour centre: half the CT grey of 45 HU, half matplotlib turbo(250/300) = (227.7, 68.8, 10.2) */
  const unsigned char *t = px(rgb, w, 14 * s + 2, 18 * s + 2);
  double g45 = window(45, 40, 400);
  assert_near(t[0], 0.5 * g45 + 0.5 * 227.7, 3, "tumour R");
  assert_near(t[1], 0.5 * g45 + 0.5 * 68.8, 3, "tumour G");
  assert_near(t[2], 0.5 * g45 + 0.5 * 10.2, 3, "tumour B");
  /* the liver (80 Gy): turbo(80/300) = (33.9, 196.8, 225.9) over 60 HU */
  const unsigned char *l = px(rgb, w, 10 * s + 2, 18 * s + 2);
  double g60 = window(60, 40, 400);
  assert_near(l[0], 0.5 * g60 + 0.5 * 33.9, 3, "liver R");
  assert_near(l[1], 0.5 * g60 + 0.5 * 196.8, 3, "liver G");
  assert_near(l[2], 0.5 * g60 + 0.5 * 225.9, 3, "liver B");
  /* zero dose in the body: exactly the windowed CT, untinted */
  const unsigned char *z = px(rgb, w, 38 * s + 2, 10 * s + 2);
  int g40 = window(40, 40, 400);
  assert_int_equal(g40, 128);
  assert_int_equal(z[0], g40), assert_int_equal(z[1], g40), assert_int_equal(z[2], g40);
  /* 5 Gy is under the floor (5 % of 300 Gy = 15 Gy): the CT shows through untinted */
  const unsigned char *lo = px(rgb, w, 32 * s + 2, 19 * s + 2);
  assert_int_equal(lo[0], g40), assert_int_equal(lo[1], g40), assert_int_equal(lo[2], g40);
  /* air: black */
  const unsigned char *a = px(rgb, w, 1, 1);
  assert_int_equal(a[0] + a[1] + a[2], 0);
  /* the liver's outline: white at the left edge of its first voxel on row 18 */
  int first = -1;
  for (int i = 0; i < NX && first < 0; i++)
    if (in_liver(i, 18, SLICE)) first = i;
  assert_true(first > 0);
  const unsigned char *o = px(rgb, w, first * s, 18 * s + 2);
  assert_int_equal(o[0], 255), assert_int_equal(o[1], 255), assert_int_equal(o[2], 255);
  free(rgb);
  rcy_render_free(png);
  /* without the VOIs the same pixel is the dose colour, not white */
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, SLICE, 40, 400, 300, 0.5, 0, &err), 0);
  rgb = decode(png, len, &w, &h);
  o = px(rgb, w, first * s, 18 * s + 2);
  assert_false(o[0] == 255 && o[1] == 255 && o[2] == 255);
  assert_near(o[1], 0.5 * g60 + 0.5 * 196.8, 3, "liver edge G without outline");
  free(rgb);
  rcy_render_free(png);
  /* opacity 0: the CT alone, even where the dose is highest */
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, SLICE, 40, 400, 300, 0, 0, &err), 0);
  rgb = decode(png, len, &w, &h);
  t = px(rgb, w, 14 * s + 2, 18 * s + 2);
  assert_int_equal(t[0], (int)g45), assert_int_equal(t[1], (int)g45), assert_int_equal(t[2], (int)g45);
  free(rgb);
  rcy_render_free(png);
  /* refusals */
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, NZ, 40, 400, 300, 0.5, 1, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "slice"));
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, 0, 40, 400, 300, 1.5, 1, &err), RCY_EINVAL);
  assert_int_equal(rcy_dose_render_fused_png(&png, &len, &f.run, 0, 40, 0, 300, 0.5, 1, &err), RCY_EINVAL);
  assert_null(png);
  teardown_fixture(&f);
}

static void colour_bar(void **state) {
  (void)state;
  rcy_error err = {0};
  unsigned char *png = NULL;
  size_t len = 0;
  assert_int_equal(rcy_dose_render_colour_bar_png(&png, &len, 300, 300, &err), 0);
  save("colour_bar.png", png, len);
  int w, h;
  unsigned char *rgb = decode(png, len, &w, &h);
  assert_int_equal(h, 300);
  assert_int_equal(w, 120);
  /* the bar: x 9.6 .. 45.6 px, y from 15 % of the height (the "Gy" title above) to 96 % */
  const double fs = 300 * 0.05, top = fs * 2.2, bottom = 300 - fs * 0.8;
  const unsigned char *hi = px(rgb, w, 27, (int)top + 1), *mid = px(rgb, w, 27, (int)((top + bottom) / 2)),
                      *under = px(rgb, w, 27, (int)bottom - 3);
  /* the second row: turbo((288 - 34.5) / 255.6) = (129.2, 6.0, 2.2); middle: turbo(0.5) = (164.1, 252.4, 59.6)
   * (matplotlib) */
  assert_near(hi[0], 129.2, 4, "bar top R"), assert_near(hi[1], 6.0, 4, "bar top G");
  assert_near(mid[0], 164.1, 8, "bar middle R"), assert_near(mid[1], 252.4, 8, "bar middle G");
  assert_near(mid[2], 59.6, 8, "bar middle B");
  /* under the floor: grey hatching, no colour */
  assert_true(abs(under[0] - under[1]) < 3 && abs(under[1] - under[2]) < 3);
  free(rgb);
  rcy_render_free(png);
  assert_int_equal(rcy_dose_render_colour_bar_png(&png, &len, 300, 50, &err), RCY_EINVAL);
  assert_int_equal(rcy_dose_render_colour_bar_png(&png, &len, 0, 300, &err), RCY_EINVAL);
}

static void auto_max(void **state) {
  (void)state;
  rcy_error err = {0};
  rcy_dose_grid g;
  const int size[3] = {1001, 1, 1};
  const double o[3] = {0, 0, 0}, sp[3] = {1, 1, 1}, d[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  assert_int_equal(rcy_dose_grid_alloc(&g, size, o, sp, d, &err), 0);
  assert_true(fabs(rcy_dose_render_auto_max_gy(&g) - 1) <= 0); /* no dose */
  /* 1000 voxels of 100 Gy and one noise voxel of 100 kGy: the scale is the plateau's, not the outlier's */
  for (int i = 0; i < 1000; i++) g.values[i] = 100;
  g.values[1000] = 1e5;
  assert_true(fabs(rcy_dose_render_auto_max_gy(&g) - 100) <= 1e-9);
  /* 1..1001 Gy: the 99th percentile is 991 Gy, rounded up to the 200 Gy tick: 1000 */
  for (int i = 0; i < 1001; i++) g.values[i] = (float)(i + 1);
  assert_true(fabs(rcy_dose_render_auto_max_gy(&g) - 1000) <= 1e-9);
  /* 173 Gy: a tick of 20 Gy (173 / 5 = 34.6 -> 20) -> 180 */
  for (int i = 0; i < 1001; i++) g.values[i] = 173;
  assert_true(fabs(rcy_dose_render_auto_max_gy(&g) - 180) <= 1e-9);
  rcy_dose_grid_free(&g);
}

static char *pdf_text(const char *pdf) {
  if (access("/usr/bin/pdftotext", X_OK) != 0) return NULL;
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "/usr/bin/pdftotext -layout '%s' -", pdf);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t k;
  while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
    n += k;
    if (n + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  buf[n] = 0;
  assert_int_equal(pclose(p), 0);
  return buf;
}

static void check_pdf_file(const char *path) {
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  char head[8] = {0};
  assert_int_equal(fread(head, 1, 5, fp), 5);
  assert_memory_equal(head, "%PDF-", 5);
  fclose(fp);
}

static void report(void **state) {
  (void)state;
  fixture f;
  build(&f);
  rcy_error err = {0};
  char path[4200];
  out_path(path, sizeof path, "dose_report.pdf");
  assert_int_equal(rcy_dose_report_write(&f.run, path, "dr. physicist (test)", &err), 0);
  check_pdf_file(path);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size > 30000); /* three pictures and a plot */
  char *text = pdf_text(path);
  if (text) {
    const char *want[] = {"Dose report: CIREL-T-0001", "SAFETY LIMIT", "Weber et al.",
                          "T1", "250.0 Gy", "3.000 GBq", "18.00 h", "START (image at the series start)", "189 Gy tumour target",
                          "MAA-predicted vs delivered", "dr. physicist (test)", "Largest tumour (T1)",
                          "Liver centre (liver)", "Lung base (lungs)", "104.3 Gy", "2 thresholds checked"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
      if (!strstr(text, want[i])) fail_msg("the report lacks \"%s\"", want[i]);
    /* only the safety flag: no amber row */
    assert_null(strstr(text, "Efficacy target missed"));
    /* two pages at least: the DVHs and maps start page 2 */
    assert_non_null(strchr(text, '\f'));
    free(text);
  }
  /* a bare run: no CT, no VOIs, no thresholds, no MAA: still a report, saying what is missing */
  f.run.ct = NULL, f.run.maa = NULL, f.run.n_vois = 0, f.run.density_source[0] = 0, f.run.n_thresholds = 0, f.run.result.n_flags = 0;
  f.run.has_predicted = 0;
  out_path(path, sizeof path, "dose_report_bare.pdf");
  assert_int_equal(rcy_dose_report_write(&f.run, path, NULL, &err), 0);
  check_pdf_file(path);
  text = pdf_text(path);
  if (text) {
    const char *want[] = {"No threshold table was given", "no CT: the dose is on the PET grid", "not recorded",
                          "Most dose (no tumour VOI)", "Middle of the grid (no liver VOI)", "(not given)"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
      if (!strstr(text, want[i])) fail_msg("the bare report lacks \"%s\"", want[i]);
    assert_null(strstr(text, "MAA-predicted"));
    free(text);
  }
  f.run.n_vois = 3; /* teardown frees the masks from the fixture itself */
  /* refusals: no output path, a folder that does not exist */
  assert_int_equal(rcy_dose_report_write(&f.run, "", NULL, &err), RCY_EINVAL);
  assert_int_not_equal(rcy_dose_report_write(&f.run, "/nonexistent-dir/x.pdf", NULL, &err), 0);
  teardown_fixture(&f);
}

int main(void) {
  const char *b = getenv("RCY_BUILD_DIR");
  if (b && *b) {
    snprintf(outdir, sizeof outdir, "%s/test-tmp", b);
    mkdir(outdir, 0755);
    snprintf(outdir, sizeof outdir, "%s/test-tmp/dose_report", b);
  } else {
    snprintf(outdir, sizeof outdir, "/tmp/rcy-dose-report-test-%d", (int)getpid());
  }
  mkdir(outdir, 0755);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(auto_max),
      cmocka_unit_test(colour_bar),
      cmocka_unit_test(fused_pixels),
      cmocka_unit_test(report),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  rcy_render_shutdown(); /* fontconfig's and cairo's caches: a leak checker sees only the code's own */
  return rc;
}
