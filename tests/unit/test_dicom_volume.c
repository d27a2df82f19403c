/* Whole-series volumes (rcy_dicom_volume_*): a PT series written slice by slice with the datasets API, in
 * shuffled file order and with a different Rescale Slope on every slice, reads back sorted along the normal
 * with its exact values, geometry, quantitative attributes and per-slice SOP Instance UIDs; an NM multi-frame
 * tomogram reads its geometry from the Detector Information Sequence and its injection time from Start Time
 * on the Series Date; a CT's geometry and values match ITK's series reader (rcy_imaging) on the same files;
 * the errors (unequal spacing, mixed series, a non-DICOM file, no Pixel Data, a malformed date, several
 * series in a folder) name what is wrong. With RCY_VOLUME_BENCH=1 it also times a 512x512x300 CT against ITK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recistry/dicom.h"
#include "recistry/imaging.h"

#define T RCY_DICOM_TAG

/* 2024-03-12T00:00:00Z and 2024-03-11T00:00:00Z (python3 calendar.timegm). */
#define DAY_0312 1710201600.0
#define DAY_0311 1710115200.0

static char g_root[64];

static void set(rcy_dicom_dataset *ds, uint32_t tag, const char *v) {
  rcy_error err = {0};
  if (rcy_dicom_dataset_set_string(ds, tag, v, &err)) fail_msg("%s", err.message);
}

static void path_in(char *out, size_t len, const char *dir, const char *name) {
  snprintf(out, len, "%s/%s", dir, name);
}

static void make_dir(char *out, size_t len, const char *name) {
  path_in(out, len, g_root, name);
  assert_int_equal(mkdir(out, 0700), 0);
}

static int16_t ct_stored(int k, int j, int i);
static void write_ct_slice(const char *path, int k, int rows, int cols, int16_t (*value)(int, int, int));

/* ITK's series reader (GDCM) on the same folder gives the same size, origin, spacing and direction. */
static void expect_itk_geometry(const rcy_dicom_volume *v, const char *dir, const char *series_uid) {
  rcy_imaging_volume *iv = NULL;
  rcy_error err = {0};
  if (rcy_imaging_volume_read_series(&iv, dir, series_uid, &err)) fail_msg("ITK: %s", err.message);
  size_t size[3];
  double origin[3], spacing[3], direction[9];
  rcy_imaging_volume_size(iv, size);
  rcy_imaging_volume_origin_mm(iv, origin);
  rcy_imaging_volume_spacing_mm(iv, spacing);
  rcy_imaging_volume_direction(iv, direction);
  for (int a = 0; a < 3; a++) {
    assert_int_equal((size_t)v->size[a], size[a]);
    if (fabs(v->origin_mm[a] - origin[a]) > 1e-6)
      fail_msg("origin[%d]: %g, ITK %g", a, v->origin_mm[a], origin[a]);
    if (fabs(v->spacing_mm[a] - spacing[a]) > 1e-6)
      fail_msg("spacing[%d]: %g, ITK %g", a, v->spacing_mm[a], spacing[a]);
  }
  for (int a = 0; a < 9; a++)
    if (fabs(v->direction[a] - direction[a]) > 1e-9)
      fail_msg("direction[%d]: %g, ITK %g", a, v->direction[a], direction[a]);
  rcy_imaging_volume_free(iv);
}

/* ---- PT ---- */

#define PT_COLS 5
#define PT_ROWS 4
#define PT_SLICES 6

/* Each slice its own slope (as DS strings, parsed by both sides the same way). The PET IOD wants Rescale
 * Intercept 0; the CT below checks a non-zero one. */
static const char *const pt_slope[PT_SLICES] = {"0.001", "0.0025", "123.456", "1e-3", "0.5", "7.25"};
static const char *const pt_intercept[PT_SLICES] = {"0", "0", "0", "0", "0", "0"};
/* File k holds slice pt_order[k]: files are written out of position order. */
static const int pt_order[PT_SLICES] = {3, 0, 5, 1, 4, 2};
/* Acquisition Time per slice: the earliest is slice 4's (10:15:05.25). */
static const char *const pt_acq_time[PT_SLICES] = {"101510", "101520",    "101530",
                                                   "101540", "101505.25", "101550"};

#define PT_IOP "1\\0\\0\\0\\0\\-1"
static const char *g_pt_iop = PT_IOP;

static uint16_t pt_stored(int k, int j, int i) {
  return (uint16_t)(k * 10000 + j * 100 + i * 7 + 1);
}

static void pt_sop_uid(char *out, const char *series, int k) {
  sprintf(out, "%s.%d", series, 100 + k);
}

/* PT slice k of series `series`, at y = y0 + k * dy (coronal: rows run along -z, normal +y). */
static void write_pt_slice(const char *path, const char *series, int k, double y_mm, int with_pixels,
                           const char *series_date) {
  rcy_dicom_dataset *ds, *rp, *code;
  rcy_error err = {0};
  char buf[128];
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  set(ds, T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.128");
  pt_sop_uid(buf, series, k);
  set(ds, T(0x0008, 0x0018), buf);
  set(ds, T(0x0008, 0x0008), "ORIGINAL\\PRIMARY");
  set(ds, T(0x0008, 0x0020), "20240312");
  set(ds, T(0x0008, 0x0021), series_date);
  set(ds, T(0x0008, 0x0031), "101500");
  set(ds, T(0x0008, 0x0022), "20240312");
  set(ds, T(0x0008, 0x0032), pt_acq_time[k]);
  set(ds, T(0x0008, 0x0060), "PT");
  set(ds, T(0x0020, 0x000d), "1.2.826.0.1.3680043.10.1.1");
  set(ds, T(0x0020, 0x000e), series);
  set(ds, T(0x0020, 0x0052), "1.2.826.0.1.3680043.10.1.3");
  snprintf(buf, sizeof buf, "%d", k + 1);
  set(ds, T(0x0020, 0x0013), buf);
  snprintf(buf, sizeof buf, "-12.5\\%.2f\\40", y_mm);
  set(ds, T(0x0020, 0x0032), buf);
  set(ds, T(0x0020, 0x0037), g_pt_iop);
  set(ds, T(0x0028, 0x0030), "4\\3.5"); /* row spacing 4, column spacing 3.5 */
  set(ds, T(0x0028, 0x0004), "MONOCHROME2");
  set(ds, T(0x0028, 0x1053), pt_slope[k]);
  set(ds, T(0x0028, 0x1052), pt_intercept[k]);
  set(ds, T(0x0054, 0x1001), "BQML");
  set(ds, T(0x0054, 0x1102), "START");
  set(ds, T(0x0018, 0x1242), "300000");
  /* The rest of the PET Image IOD's type 1 and 2 attributes (dciodvfy), none of which the reader needs. */
  set(ds, T(0x0008, 0x0030), "100000");
  set(ds, T(0x0008, 0x0050), "");
  set(ds, T(0x0008, 0x0070), "");
  set(ds, T(0x0008, 0x0090), "");
  set(ds, T(0x0010, 0x0010), "");
  set(ds, T(0x0010, 0x0020), "TARE-0001");
  set(ds, T(0x0010, 0x0030), "");
  set(ds, T(0x0010, 0x0040), "");
  set(ds, T(0x0018, 0x0050), "3.27");
  set(ds, T(0x0018, 0x1181), "NONE");
  set(ds, T(0x0020, 0x0010), "1");
  set(ds, T(0x0020, 0x0011), "2");
  set(ds, T(0x0020, 0x1040), "");
  set(ds, T(0x0028, 0x0051), "DECY\\ATTN");
  set(ds, T(0x0054, 0x1000), "STATIC\\IMAGE");
  set(ds, T(0x0054, 0x1002), "EMISSION");
  set(ds, T(0x0054, 0x0081), "6");
  set(ds, T(0x0054, 0x1300), "0");
  set(ds, T(0x0054, 0x1321), "1");
  snprintf(buf, sizeof buf, "%d", k + 1);
  set(ds, T(0x0054, 0x1330), buf);
  assert_int_equal(rcy_dicom_dataset_set_empty(ds, T(0x0054, 0x0410), &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_empty(ds, T(0x0054, 0x0414), &err), 0);
  assert_int_equal(rcy_dicom_dataset_add_item(&rp, ds, T(0x0054, 0x0016), &err), 0);
  set(rp, T(0x0018, 0x1078), "20240312083000.5");
  set(rp, T(0x0018, 0x1072), "070000"); /* ignored: the DateTime wins */
  set(rp, T(0x0018, 0x1074), "2.5e9");
  set(rp, T(0x0018, 0x1075), "230590.8");
  assert_int_equal(rcy_dicom_dataset_add_item(&code, rp, T(0x0054, 0x0300), &err), 0);
  set(code, T(0x0008, 0x0100), "C-162A3");
  set(code, T(0x0008, 0x0102), "SRT");
  set(code, T(0x0008, 0x0104), "^90^Yttrium");
  if (with_pixels) {
    uint16_t px[PT_ROWS * PT_COLS];
    for (int j = 0; j < PT_ROWS; j++)
      for (int i = 0; i < PT_COLS; i++)
        px[j * PT_COLS + i] = pt_stored(k, j, i);
    assert_int_equal(rcy_dicom_dataset_set_pixels_uint16(ds, px, PT_ROWS, PT_COLS, &err), 0);
  } else {
    /* The Image Pixel module without its Pixel Data. */
    assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x0010), PT_ROWS, &err), 0);
    assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x0011), PT_COLS, &err), 0);
    assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x0100), 16, &err), 0);
  }
  if (rcy_dicom_dataset_write_file(ds, path, &err)) fail_msg("%s", err.message);
  rcy_dicom_dataset_free(ds);
}

/* A PT series in dir: slice k at y = 20 + 3.27 k mm, written in pt_order. */
static void write_pt_series(const char *dir, const char *series, const char *series_date) {
  for (int f = 0; f < PT_SLICES; f++) {
    char name[64], path[256];
    snprintf(name, sizeof name, "pt%02d.dcm", f);
    path_in(path, sizeof path, dir, name);
    int k = pt_order[f];
    write_pt_slice(path, series, k, 20 + 3.27 * k, 1, series_date);
  }
}

static void test_pt_series(void **state) {
  (void)state;
  char dir[128];
  make_dir(dir, sizeof dir, "pt");
  const char *series = "1.2.826.0.1.3680043.10.1.2";
  write_pt_series(dir, series, "20240312");
  /* A CT file in the same folder: the modality filter leaves it out. */
  {
    char ct[256];
    path_in(ct, sizeof ct, dir, "zz-ct.dcm");
    write_ct_slice(ct, 0, 6, 8, ct_stored);
  }
  rcy_dicom_volume *v = NULL;
  rcy_error err = {0};
  if (rcy_dicom_volume_read_dir(&v, dir, "PT", NULL, &err)) fail_msg("%s", err.message);
  assert_string_equal(v->modality, "PT");
  assert_string_equal(v->units, "BQML");
  assert_int_equal(v->decay_correction, RCY_DICOM_DECAY_START);
  assert_string_equal(v->radionuclide, "^90^Yttrium");
  assert_true(v->half_life_s == 230590.8);
  assert_true(v->total_dose_bq == 2.5e9);
  assert_true(v->injection_epoch_s == DAY_0312 + 8 * 3600 + 30 * 60 + 0.5);
  assert_true(v->series_epoch_s == DAY_0312 + 10 * 3600 + 15 * 60);
  assert_true(v->acquisition_epoch_s == DAY_0312 + 10 * 3600 + 15 * 60 + 5.25);
  assert_true(v->frame_duration_s == 300.0);
  assert_string_equal(v->series_uid, series);
  assert_string_equal(v->study_uid, "1.2.826.0.1.3680043.10.1.1");
  assert_string_equal(v->frame_of_reference_uid, "1.2.826.0.1.3680043.10.1.3");
  assert_int_equal(v->size[0], PT_COLS);
  assert_int_equal(v->size[1], PT_ROWS);
  assert_int_equal(v->size[2], PT_SLICES);
  assert_true(v->spacing_mm[0] == 3.5 && v->spacing_mm[1] == 4.0);
  /* Measured between slice centres: 20 + 3.27 k written with two decimals. */
  assert_true(fabs(v->spacing_mm[2] - 3.27) < 1e-9);
  assert_true(v->origin_mm[0] == -12.5 && v->origin_mm[1] == 20.0 && v->origin_mm[2] == 40.0);
  /* Columns: row cosine (1,0,0), column cosine (0,0,-1), normal (0,1,0). */
  const double dir_expected[9] = {1, 0, 0, 0, 0, 1, 0, -1, 0};
  for (int a = 0; a < 9; a++)
    assert_true(v->direction[a] == dir_expected[a]);
  for (int k = 0; k < PT_SLICES; k++) {
    char uid[80];
    pt_sop_uid(uid, series, k);
    assert_string_equal(v->slice_sop_uids[k], uid);
    double slope = strtod(pt_slope[k], NULL), intercept = strtod(pt_intercept[k], NULL);
    for (int j = 0; j < PT_ROWS; j++)
      for (int i = 0; i < PT_COLS; i++) {
        float expected = (float)(pt_stored(k, j, i) * slope + intercept);
        float got = v->values[((size_t)k * PT_ROWS + j) * PT_COLS + i];
        if (got != expected) fail_msg("voxel %d,%d,%d: %.9g, expected %.9g", i, j, k, got, expected);
      }
  }
  /* Large values survive (slope 123.456 on slice 2). */
  assert_true(v->values[(size_t)2 * PT_ROWS * PT_COLS] > 2.4e6f);
  /* ITK sees the same geometry for this coronal series (its int16 voxels cannot hold these values). */
  expect_itk_geometry(v, dir, series);
  rcy_dicom_volume_free(v);

  /* The same from an explicit file list in another order. */
  char paths[PT_SLICES][256];
  const char *list[PT_SLICES];
  for (int f = 0; f < PT_SLICES; f++) {
    char name[64];
    snprintf(name, sizeof name, "pt%02d.dcm", PT_SLICES - 1 - f);
    path_in(paths[f], sizeof paths[f], dir, name);
    list[f] = paths[f];
  }
  if (rcy_dicom_volume_read_files(&v, list, PT_SLICES, &err)) fail_msg("%s", err.message);
  assert_int_equal(v->size[2], PT_SLICES);
  assert_true(v->origin_mm[1] == 20.0);
  rcy_dicom_volume_free(v);

  /* No NM there. */
  assert_int_equal(rcy_dicom_volume_read_dir(&v, dir, "NM", NULL, &err), RCY_ENOTFOUND);
  assert_null(v);
}

/* Overwrites the first occurrence of `from` in the file with `to` (same length). */
static void patch_file(const char *path, const char *from, const char *to) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  size_t len = strlen(from);
  assert_int_equal(len, strlen(to));
  for (size_t i = 0; i + len <= n; i++)
    if (memcmp(buf + i, from, len) == 0) {
      assert_int_equal(fseek(f, (long)i, SEEK_SET), 0);
      assert_int_equal(fwrite(to, 1, len, f), len);
      fclose(f);
      return;
    }
  fail_msg("%s: '%s' not found", path, from);
}

/* ---- NM ---- */

#define NM_COLS 6
#define NM_ROWS 5
#define NM_FRAMES 4

static void write_nm(const char *path, const char *start_time) {
  rcy_dicom_dataset *ds, *det, *rp, *energy, *range;
  rcy_error err = {0};
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  set(ds, T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.20");
  set(ds, T(0x0008, 0x0018), "1.2.826.0.1.3680043.10.2.9");
  set(ds, T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\RECON TOMO\\EMISSION");
  set(ds, T(0x0008, 0x0020), "20240311");
  set(ds, T(0x0008, 0x0030), "140000");
  set(ds, T(0x0008, 0x0021), "20240311");
  set(ds, T(0x0008, 0x0031), "141000");
  set(ds, T(0x0008, 0x0022), "20240311");
  set(ds, T(0x0008, 0x0032), "140500");
  set(ds, T(0x0008, 0x0023), "20240311");
  set(ds, T(0x0008, 0x0033), "141000");
  set(ds, T(0x0008, 0x0050), "");
  set(ds, T(0x0008, 0x0060), "NM");
  set(ds, T(0x0008, 0x0070), "recistry test");
  set(ds, T(0x0008, 0x0090), "");
  set(ds, T(0x0010, 0x0010), "TARE^PHANTOM");
  set(ds, T(0x0010, 0x0020), "TARE-0001");
  set(ds, T(0x0010, 0x0030), "");
  set(ds, T(0x0010, 0x0040), "");
  set(ds, T(0x0018, 0x0088), "4.42");
  set(ds, T(0x0018, 0x0050), "4.42");
  set(ds, T(0x0018, 0x0071), "TIME");
  set(ds, T(0x0020, 0x000d), "1.2.826.0.1.3680043.10.2.1");
  set(ds, T(0x0020, 0x000e), "1.2.826.0.1.3680043.10.2.2");
  set(ds, T(0x0020, 0x0052), "1.2.826.0.1.3680043.10.2.3");
  set(ds, T(0x0020, 0x0010), "");
  set(ds, T(0x0020, 0x0011), "3");
  set(ds, T(0x0020, 0x0013), "1");
  set(ds, T(0x0020, 0x0020), "L\\P");
  set(ds, T(0x0020, 0x1040), "");
  set(ds, T(0x0028, 0x0004), "MONOCHROME2");
  set(ds, T(0x0028, 0x0030), "4.42\\4.42");
  set(ds, T(0x0028, 0x0009), "(0054,0080)"); /* Frame Increment Pointer: Slice Vector */
  set(ds, T(0x0018, 0x0070), "");
  set(ds, T(0x0054, 0x0051), "1");
  assert_int_equal(rcy_dicom_dataset_set_empty(ds, T(0x0054, 0x0052), &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_empty(ds, T(0x0054, 0x0410), &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_empty(ds, T(0x0054, 0x0414), &err), 0);
  set(ds, T(0x0054, 0x0081), "4");
  set(ds, T(0x0054, 0x0011), "1");
  set(ds, T(0x0054, 0x0021), "1");
  {
    char v[64] = "";
    for (int f = 1; f <= NM_FRAMES; f++)
      snprintf(v + strlen(v), sizeof v - strlen(v), "%s%d", f > 1 ? "\\" : "", f);
    set(ds, T(0x0054, 0x0080), v); /* Slice Vector */
  }
  assert_int_equal(rcy_dicom_dataset_add_item(&energy, ds, T(0x0054, 0x0012), &err), 0);
  assert_int_equal(rcy_dicom_dataset_add_item(&range, energy, T(0x0054, 0x0013), &err), 0);
  set(range, T(0x0054, 0x0014), "126");
  set(range, T(0x0054, 0x0015), "154");
  assert_int_equal(rcy_dicom_dataset_add_item(&det, ds, T(0x0054, 0x0022), &err), 0);
  set(det, T(0x0020, 0x0032), "-200\\-150.5\\-80");
  set(det, T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0");
  set(det, T(0x0018, 0x1181), "PARA");
  assert_int_equal(rcy_dicom_dataset_add_item(&rp, ds, T(0x0054, 0x0016), &err), 0);
  set(rp, T(0x0018, 0x1072), start_time);
  set(rp, T(0x0018, 0x1074), "1.5e8");
  set(rp, T(0x0018, 0x1075), "21624.12");
  set(rp, T(0x0018, 0x0030), "^99m^Technetium"); /* retired, but older NM writes it: the fallback */
  assert_int_equal(rcy_dicom_dataset_set_empty(rp, T(0x0054, 0x0300), &err), 0);
  uint16_t px[NM_FRAMES * NM_ROWS * NM_COLS];
  for (int n = 0; n < NM_FRAMES * NM_ROWS * NM_COLS; n++)
    px[n] = (uint16_t)(n * 37 % 65536);
  assert_int_equal(rcy_dicom_dataset_set_pixels_uint16_frames(ds, px, NM_ROWS, NM_COLS, 0, &err), RCY_EINVAL);
  if (rcy_dicom_dataset_set_pixels_uint16_frames(ds, px, NM_ROWS, NM_COLS, NM_FRAMES, &err))
    fail_msg("%s", err.message);
  if (rcy_dicom_dataset_write_file(ds, path, &err)) fail_msg("%s", err.message);
  rcy_dicom_dataset_free(ds);
}

static void test_nm_tomo(void **state) {
  (void)state;
  char dir[128], path[256];
  make_dir(dir, sizeof dir, "nm");
  path_in(path, sizeof path, dir, "nm.dcm");
  write_nm(path, "123000.25");
  rcy_dicom_volume *v = NULL;
  rcy_error err = {0};
  if (rcy_dicom_volume_read_dir(&v, dir, NULL, NULL, &err)) fail_msg("%s", err.message);
  assert_string_equal(v->modality, "NM");
  /* Units and Decay Correction are not in the NM Image IOD: absent. */
  assert_string_equal(v->units, "");
  assert_int_equal(v->decay_correction, -1);
  assert_string_equal(v->radionuclide, "^99m^Technetium");
  assert_true(v->total_dose_bq == 1.5e8 && v->half_life_s == 21624.12);
  /* Start Time only: on the Series Date. */
  assert_true(v->injection_epoch_s == DAY_0311 + 12 * 3600 + 30 * 60 + 0.25);
  assert_true(v->series_epoch_s == DAY_0311 + 14 * 3600 + 10 * 60);
  assert_true(v->acquisition_epoch_s == DAY_0311 + 14 * 3600 + 5 * 60);
  assert_true(v->frame_duration_s == -1);
  assert_int_equal(v->size[0], NM_COLS);
  assert_int_equal(v->size[1], NM_ROWS);
  assert_int_equal(v->size[2], NM_FRAMES);
  assert_true(v->spacing_mm[0] == 4.42 && v->spacing_mm[1] == 4.42 && v->spacing_mm[2] == 4.42);
  assert_true(v->origin_mm[0] == -200 && v->origin_mm[1] == -150.5 && v->origin_mm[2] == -80);
  const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int a = 0; a < 9; a++)
    assert_true(v->direction[a] == identity[a]);
  for (int n = 0; n < NM_FRAMES * NM_ROWS * NM_COLS; n++)
    if (v->values[n] != (float)(n * 37 % 65536)) fail_msg("NM value %d: %g", n, v->values[n]);
  for (int k = 0; k < NM_FRAMES; k++)
    assert_string_equal(v->slice_sop_uids[k], "1.2.826.0.1.3680043.10.2.9");
  rcy_dicom_volume_free(v);

  /* A malformed Start Time is refused, naming the attribute (the datasets API refuses to write one: the
   * written file is patched). */
  make_dir(dir, sizeof dir, "nm-bad");
  path_in(path, sizeof path, dir, "nm.dcm");
  write_nm(path, "123000.25");
  patch_file(path, "123000.25", "1230x0.25");
  assert_int_equal(rcy_dicom_volume_read_dir(&v, dir, "NM", NULL, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "RadiopharmaceuticalStartTime"));
  assert_null(v);
}

/* ---- CT, against ITK ---- */

#define CT_COLS 8
#define CT_ROWS 6
#define CT_SLICES 5

static int16_t ct_stored(int k, int j, int i) {
  return (int16_t)(-1000 + k * 300 + j * 11 + i);
}

/* CT slice k at z = 100 - 2.5 k (files written head first); rows x cols of size rows x cols. */
static void write_ct_slice(const char *path, int k, int rows, int cols, int16_t (*value)(int, int, int)) {
  rcy_dicom_dataset *ds;
  rcy_error err = {0};
  char buf[128];
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  set(ds, T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.2");
  snprintf(buf, sizeof buf, "1.2.826.0.1.3680043.10.3.2.%d", 100 + k);
  set(ds, T(0x0008, 0x0018), buf);
  set(ds, T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\AXIAL");
  set(ds, T(0x0008, 0x0020), "20240310");
  set(ds, T(0x0008, 0x0021), "20240310");
  set(ds, T(0x0008, 0x0031), "090000");
  set(ds, T(0x0008, 0x0060), "CT");
  set(ds, T(0x0020, 0x000d), "1.2.826.0.1.3680043.10.3.1");
  set(ds, T(0x0020, 0x000e), "1.2.826.0.1.3680043.10.3.2");
  set(ds, T(0x0020, 0x0052), "1.2.826.0.1.3680043.10.3.3");
  snprintf(buf, sizeof buf, "%d", k + 1);
  set(ds, T(0x0020, 0x0013), buf);
  snprintf(buf, sizeof buf, "-150.25\\-170.75\\%.2f", 100 - 2.5 * k);
  set(ds, T(0x0020, 0x0032), buf);
  set(ds, T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0");
  set(ds, T(0x0028, 0x0030), "0.8\\0.75");
  set(ds, T(0x0018, 0x0050), "3");
  set(ds, T(0x0028, 0x0004), "MONOCHROME2");
  set(ds, T(0x0028, 0x1053), "1");
  set(ds, T(0x0028, 0x1052), "-1024");
  int16_t *px = malloc((size_t)rows * cols * sizeof *px);
  assert_non_null(px);
  for (int j = 0; j < rows; j++)
    for (int i = 0; i < cols; i++)
      px[(size_t)j * cols + i] = value(k, j, i);
  assert_int_equal(rcy_dicom_dataset_set_pixels_int16(ds, px, (uint16_t)rows, (uint16_t)cols, &err), 0);
  free(px);
  if (rcy_dicom_dataset_write_file(ds, path, &err)) fail_msg("%s", err.message);
  rcy_dicom_dataset_free(ds);
}

static void test_ct_against_itk(void **state) {
  (void)state;
  char dir[128];
  make_dir(dir, sizeof dir, "ct");
  for (int k = 0; k < CT_SLICES; k++) {
    char name[64], path[256];
    snprintf(name, sizeof name, "ct%02d.dcm", k);
    path_in(path, sizeof path, dir, name);
    write_ct_slice(path, k, CT_ROWS, CT_COLS, ct_stored);
  }
  rcy_dicom_volume *v = NULL;
  rcy_imaging_volume *iv = NULL;
  rcy_error err = {0};
  if (rcy_dicom_volume_read_dir(&v, dir, "CT", NULL, &err)) fail_msg("%s", err.message);
  if (rcy_imaging_volume_read_series(&iv, dir, NULL, &err)) fail_msg("%s", err.message);
  assert_string_equal(v->units, "HU");
  assert_int_equal(v->decay_correction, -1);
  assert_true(v->injection_epoch_s == -1 && v->half_life_s == -1 && v->total_dose_bq == -1);
  expect_itk_geometry(v, dir, NULL);
  /* Sorted along +z: the last file written (lowest z) is slice 0. */
  assert_true(v->origin_mm[2] == 100 - 2.5 * (CT_SLICES - 1));
  assert_string_equal(v->slice_sop_uids[0], "1.2.826.0.1.3680043.10.3.2.104");
  const int16_t *voxels = rcy_imaging_volume_voxels(iv);
  for (size_t n = 0; n < (size_t)CT_COLS * CT_ROWS * CT_SLICES; n++)
    if (v->values[n] != (float)voxels[n]) fail_msg("CT voxel %zu: %g, ITK %d", n, v->values[n], voxels[n]);
  /* And the HU are the stored values - 1024. */
  assert_true(v->values[0] == ct_stored(CT_SLICES - 1, 0, 0) - 1024.0f);
  rcy_imaging_volume_free(iv);
  rcy_dicom_volume_free(v);
}

/* The CT compressed by DCMTK's own tools (JPEG-LS lossless, RLE) reads to the same volume. */
static void test_compressed(void **state) {
  (void)state;
  if (system("command -v dcmcjpls >/dev/null 2>&1 && command -v dcmcrle >/dev/null 2>&1") != 0) skip();
  char plain[128], jls[128], rle[128];
  make_dir(plain, sizeof plain, "ct-plain");
  make_dir(jls, sizeof jls, "ct-jls");
  make_dir(rle, sizeof rle, "ct-rle");
  for (int k = 0; k < CT_SLICES; k++) {
    char name[64], path[256], cmd[1024];
    snprintf(name, sizeof name, "ct%02d.dcm", k);
    path_in(path, sizeof path, plain, name);
    write_ct_slice(path, k, CT_ROWS, CT_COLS, ct_stored);
    snprintf(cmd, sizeof cmd, "dcmcjpls '%s' '%s/%s' && dcmcrle '%s' '%s/%s'", path, jls, name, path, rle,
             name);
    assert_int_equal(system(cmd), 0);
  }
  rcy_dicom_volume *a = NULL, *b = NULL, *c = NULL;
  rcy_error err = {0};
  if (rcy_dicom_volume_read_dir(&a, plain, "CT", NULL, &err)) fail_msg("%s", err.message);
  if (rcy_dicom_volume_read_dir(&b, jls, "CT", NULL, &err)) fail_msg("JPEG-LS: %s", err.message);
  if (rcy_dicom_volume_read_dir(&c, rle, "CT", NULL, &err)) fail_msg("RLE: %s", err.message);
  for (size_t n = 0; n < (size_t)CT_COLS * CT_ROWS * CT_SLICES; n++) {
    if (a->values[n] != b->values[n])
      fail_msg("JPEG-LS voxel %zu: %g, uncompressed %g", n, b->values[n], a->values[n]);
    if (a->values[n] != c->values[n])
      fail_msg("RLE voxel %zu: %g, uncompressed %g", n, c->values[n], a->values[n]);
  }
  rcy_dicom_volume_free(a);
  rcy_dicom_volume_free(b);
  rcy_dicom_volume_free(c);
}

/* ---- Errors ---- */

static void test_errors(void **state) {
  (void)state;
  char dir[128], p[8][256];
  const char *list[8];
  rcy_dicom_volume *v = NULL;
  rcy_error err = {0};
  make_dir(dir, sizeof dir, "err");
  for (int i = 0; i < 8; i++)
    list[i] = p[i];

  /* Unequal spacing: slices at 0, 2, 4, 7 mm. */
  const double ys[4] = {0, 2, 4, 7};
  for (int k = 0; k < 4; k++) {
    char name[32];
    snprintf(name, sizeof name, "gap%d.dcm", k);
    path_in(p[k], sizeof p[k], dir, name);
    write_pt_slice(p[k], "1.2.826.0.1.3680043.10.4.1", k, ys[k], 1, "20240312");
  }
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_null(v);
  assert_non_null(strstr(err.message, "unequal slice spacing"));
  assert_non_null(strstr(err.message, "4.000 mm"));
  assert_non_null(strstr(err.message, "7.000 mm"));
  assert_non_null(strstr(err.message, "gap3.dcm"));
  /* Within 1 %: accepted (0, 2, 4.01, 6). */
  path_in(p[2], sizeof p[2], dir, "near.dcm");
  write_pt_slice(p[2], "1.2.826.0.1.3680043.10.4.1", 2, 4.01, 1, "20240312");
  path_in(p[3], sizeof p[3], dir, "six.dcm");
  write_pt_slice(p[3], "1.2.826.0.1.3680043.10.4.1", 3, 6, 1, "20240312");
  if (rcy_dicom_volume_read_files(&v, list, 4, &err)) fail_msg("%s", err.message);
  assert_true(v->spacing_mm[2] == 2.0);
  rcy_dicom_volume_free(v);
  v = NULL;

  /* Mixed series. */
  path_in(p[3], sizeof p[3], dir, "other.dcm");
  write_pt_slice(p[3], "1.2.826.0.1.3680043.10.4.2", 3, 6, 1, "20240312");
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "several series"));
  assert_non_null(strstr(err.message, "other.dcm"));

  /* A file that is not DICOM. */
  path_in(p[3], sizeof p[3], dir, "notes.txt");
  FILE *f = fopen(p[3], "w");
  assert_non_null(f);
  fputs(
      "not a DICOM file, only some text that is long enough to have a preamble's length and more of it......"
      "..................................................................................................",
      f);
  fclose(f);
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "notes.txt"));
  assert_non_null(strstr(err.message, "not a readable DICOM file"));

  /* No Pixel Data. */
  path_in(p[3], sizeof p[3], dir, "nopixels.dcm");
  write_pt_slice(p[3], "1.2.826.0.1.3680043.10.4.1", 3, 6, 0, "20240312");
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "nopixels.dcm: no Pixel Data"));

  /* A malformed Series Date (on the first slice, where the series' attributes are read) names the attribute.
   */
  path_in(p[3], sizeof p[3], dir, "six.dcm");
  path_in(p[0], sizeof p[0], dir, "baddate.dcm");
  write_pt_slice(p[0], "1.2.826.0.1.3680043.10.4.1", 0, 0, 1, "20240231");
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "SeriesDate"));
  assert_non_null(strstr(err.message, "baddate.dcm"));

  /* Orientation differs: an axial slice among coronal ones. */
  path_in(p[0], sizeof p[0], dir, "gap0.dcm");
  path_in(p[3], sizeof p[3], dir, "axial.dcm");
  g_pt_iop = "1\\0\\0\\0\\1\\0";
  write_pt_slice(p[3], "1.2.826.0.1.3680043.10.4.1", 3, 6, 1, "20240312");
  g_pt_iop = PT_IOP;
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 4, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "axial.dcm: Image Orientation (Patient) differs"));
  assert_null(v);

  /* Two PT series in one folder: refused without a series UID, read with one. */
  char two[128];
  make_dir(two, sizeof two, "two");
  write_pt_series(two, "1.2.826.0.1.3680043.10.5.1", "20240312");
  for (int k = 0; k < 3; k++) {
    char name[32], path[256];
    snprintf(name, sizeof name, "b%d.dcm", k);
    path_in(path, sizeof path, two, name);
    write_pt_slice(path, "1.2.826.0.1.3680043.10.5.2", k, 2.0 * k, 1, "20240312");
  }
  path_in(p[0], sizeof p[0], two, "README");
  f = fopen(p[0], "w");
  assert_non_null(f);
  fputs("other files in the folder are skipped\n", f);
  fclose(f);
  assert_int_equal(rcy_dicom_volume_read_dir(&v, two, "PT", NULL, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "1.2.826.0.1.3680043.10.5.1 (6 files)"));
  assert_non_null(strstr(err.message, "1.2.826.0.1.3680043.10.5.2 (3 files)"));
  if (rcy_dicom_volume_read_dir(&v, two, "PT", "1.2.826.0.1.3680043.10.5.2", &err))
    fail_msg("%s", err.message);
  assert_int_equal(v->size[2], 3);
  rcy_dicom_volume_free(v);
  v = NULL;
  assert_int_equal(rcy_dicom_volume_read_dir(&v, two, "PT", "1.2.3.4", &err), RCY_ENOTFOUND);
  /* A slice of the series without Pixel Data fails the read (not skipped: it would leave a hole). */
  {
    char path[256];
    path_in(path, sizeof path, two, "b3.dcm");
    write_pt_slice(path, "1.2.826.0.1.3680043.10.5.2", 3, 6.0, 0, "20240312");
  }
  assert_int_equal(rcy_dicom_volume_read_dir(&v, two, "PT", "1.2.826.0.1.3680043.10.5.2", &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "b3.dcm: no Pixel Data"));
  assert_null(v);
  assert_int_equal(rcy_dicom_volume_read_dir(&v, two, "CT", NULL, &err), RCY_ENOTFOUND);
}

static void test_size_differs(void **state) {
  (void)state;
  /* A CT slice with another size is refused naming the file. */
  char dir[128], p[3][256];
  const char *list[3] = {p[0], p[1], p[2]};
  rcy_dicom_volume *v = NULL;
  rcy_error err = {0};
  make_dir(dir, sizeof dir, "size");
  for (int k = 0; k < 3; k++) {
    char name[32];
    snprintf(name, sizeof name, "s%d.dcm", k);
    path_in(p[k], sizeof p[k], dir, name);
    write_ct_slice(p[k], k, CT_ROWS, k == 2 ? CT_COLS + 1 : CT_COLS, ct_stored);
  }
  assert_int_equal(rcy_dicom_volume_read_files(&v, list, 3, &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "s2.dcm"));
  assert_null(v);
}

/* ---- Timing against ITK (RCY_VOLUME_BENCH=1) ---- */

static int16_t bench_value(int k, int j, int i) {
  return (int16_t)((k * 7 + j * 3 + i) % 2000);
}

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void test_bench(void **state) {
  (void)state;
  if (!getenv("RCY_VOLUME_BENCH")) skip();
  const char *dir = "/tmp/rcy-volume-bench";
  struct stat st;
  if (stat(dir, &st) != 0) {
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int k = 0; k < 300; k++) {
      char path[256];
      snprintf(path, sizeof path, "%s/ct%03d.dcm", dir, k);
      write_ct_slice(path, k, 512, 512, bench_value);
    }
  }
  rcy_error err = {0};
  /* RCY_VOLUME_BENCH=dicom: our reader only (for a profiler). */
  const int only_ours = strcmp(getenv("RCY_VOLUME_BENCH"), "dicom") == 0;
  for (int r = 0; r < 3; r++) {
    rcy_dicom_volume *v = NULL;
    /* Wall clock and CPU time of the process (all threads): on a loaded machine the CPU time says more. */
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (rcy_dicom_volume_read_dir(&v, dir, "CT", NULL, &err)) fail_msg("%s", err.message);
    double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    rcy_imaging_volume *iv = NULL;
    if (only_ours) {
      printf("512x512x300 CT: rcy_dicom_volume_read_dir %.3f s (CPU %.3f s)\n", w1 - w0, c1 - c0);
      rcy_dicom_volume_free(v);
      continue;
    }
    if (rcy_imaging_volume_read_series(&iv, dir, NULL, &err)) fail_msg("%s", err.message);
    double w2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    printf(
        "512x512x300 CT: rcy_dicom_volume_read_dir %.3f s (CPU %.3f s), ITK rcy_imaging_volume_read_series "
        "%.3f s (CPU %.3f s)\n",
        w1 - w0, c1 - c0, w2 - w1, c2 - c1);
    const int16_t *vox = rcy_imaging_volume_voxels(iv);
    for (size_t n = 0; n < (size_t)512 * 512 * 300; n += 4099)
      if (v->values[n] != (float)vox[n]) fail_msg("bench voxel %zu differs", n);
    rcy_imaging_volume_free(iv);
    rcy_dicom_volume_free(v);
  }
}

/* RCY_VOLUME_KEEP=1 leaves the written files in /tmp/rcy-volume-* (to validate them with dciodvfy). */
static int setup(void **state) {
  (void)state;
  snprintf(g_root, sizeof g_root, "/tmp/rcy-volume-XXXXXX");
  return mkdtemp(g_root) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  if (getenv("RCY_VOLUME_KEEP")) {
    printf("files kept in %s\n", g_root);
    return 0;
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pt_series),      cmocka_unit_test(test_nm_tomo),
      cmocka_unit_test(test_ct_against_itk), cmocka_unit_test(test_compressed),
      cmocka_unit_test(test_errors),         cmocka_unit_test(test_size_differs),
      cmocka_unit_test(test_bench),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
