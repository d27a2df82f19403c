/* Rendering: DICOM linear window/level, frame decoding with rescale (stored values → HU), PNG encoding,
 * thumbnails and key images, on a small CT written through the dicom module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/dicom.h"
#include "recistry/render.h"

#include <png.h>

#define T(g, e) RCY_DICOM_TAG(g, e)

static char path[64];

/* 40 rows x 60 columns; stored value = HU + 1024 (intercept -1024); HU = 10 * column - 200. */
static int write_ct(void **state) {
  (void)state;
  snprintf(path, sizeof path, "/tmp/rcy-render-%d.dcm", (int)getpid());
  rcy_error err = {0};
  rcy_dicom_dataset *ds;
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.2", &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, T(0x0008, 0x0018), "1.2.3.4.5", &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, T(0x0008, 0x0060), "CT", &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, T(0x0028, 0x0004), "MONOCHROME2", &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, T(0x0028, 0x0030), "0.5\\0.75", &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x1052), -1024, &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x1053), 1, &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x1050), 50, &err), 0);
  assert_int_equal(rcy_dicom_dataset_set_number(ds, T(0x0028, 0x1051), 350, &err), 0);
  int16_t px[40 * 60];
  for (int r = 0; r < 40; r++)
    for (int c = 0; c < 60; c++) px[r * 60 + c] = (int16_t)(10 * c - 200 + 1024);
  assert_int_equal(rcy_dicom_dataset_set_pixels_int16(ds, px, 40, 60, &err), 0);
  assert_int_equal(rcy_dicom_dataset_write_file(ds, path, &err), 0);
  rcy_dicom_dataset_free(ds);
  return 0;
}

static int remove_ct(void **state) {
  (void)state;
  unlink(path);
  rcy_render_shutdown();
  return 0;
}

static void frame_decodes_to_hu(void **state) {
  (void)state;
  rcy_dicom_frame *f;
  rcy_error err = {0};
  assert_int_equal(rcy_dicom_frame_load(&f, path, &err), 0);
  assert_int_equal(f->rows, 40);
  assert_int_equal(f->columns, 60);
  assert_true(f->pixel_spacing_row_mm == 0.5 && f->pixel_spacing_col_mm == 0.75);
  assert_true(f->window_center == 50 && f->window_width == 350);
  assert_true(f->values[0] == -200.0f);
  assert_true(f->values[5 * 60 + 59] == 390.0f);
  rcy_dicom_frame_free(f);
  assert_int_equal(rcy_dicom_frame_load(&f, "/nonexistent.dcm", &err), RCY_EDICOM);
  assert_null(f);
  assert_non_null(strstr(err.message, "/nonexistent.dcm"));
}

static void window_is_dicom_linear(void **state) {
  (void)state;
  float v[6] = {-1000, -161, 40, 239.5f, 240, 3000};
  rcy_dicom_frame f = {.rows = 1, .columns = 6, .values = v};
  uint8_t out[6];
  rcy_render_window(out, &f, 40, 400); /* [-160.5 .. 239.5] → [0 .. 255] */
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 0);
  assert_in_range(out[2], 127, 128);
  assert_int_equal(out[3], 255);
  assert_int_equal(out[4], 255);
  assert_int_equal(out[5], 255);
  f.monochrome1 = 1;
  rcy_render_window(out, &f, 40, 400);
  assert_int_equal(out[0], 255);
  assert_int_equal(out[5], 0);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void assert_png(const unsigned char *png, size_t len, uint32_t w, uint32_t h, int colour_type) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  assert_true(len > 33);
  assert_memory_equal(png, sig, 8);
  assert_memory_equal(png + 12, "IHDR", 4);
  assert_int_equal(be32(png + 16), w);
  assert_int_equal(be32(png + 20), h);
  assert_int_equal(png[25], colour_type);
}

static void png_thumbnail_key_image(void **state) {
  (void)state;
  rcy_error err = {0};
  unsigned char *png;
  size_t len;
  assert_int_equal(rcy_render_frame_png(&png, &len, path, 40, 400, &err), 0);
  assert_png(png, len, 60, 40, 0 /* grayscale */);
  rcy_render_free(png);
  assert_int_equal(rcy_render_thumbnail_png(&png, &len, path, 16, &err), 0);
  assert_png(png, len, 15, 10, 0); /* 60x40 in 4x4 blocks */
  rcy_render_free(png);
  assert_int_equal(rcy_render_thumbnail_png(&png, &len, path, 0, &err), RCY_EINVAL);
  rcy_render_caliper c[2] = {{{5, 20}, {55, 20}, "37.5 mm"}, {{30, 5}, {30, 35}, "15.0 mm"}};
  assert_int_equal(rcy_render_key_image_png(&png, &len, path, 0, 0, c, 2, &err), 0);
  assert_png(png, len, 60, 40, 2 /* RGB: coloured calipers */);
  rcy_render_free(png);
  uint8_t gray[4] = {0, 85, 170, 255};
  assert_int_equal(rcy_render_png_gray(&png, &len, gray, 2, 2, &err), 0);
  assert_png(png, len, 2, 2, 0);
  rcy_render_free(png);
  assert_int_equal(rcy_render_png_gray(&png, &len, gray, 0, 2, &err), RCY_EINVAL);
  assert_int_equal(rcy_render_frame_png(&png, &len, "/nonexistent.dcm", 0, 0, &err), RCY_EDICOM);
}

/* RGBA pixels of a PNG (libpng's simplified API); *w, *h set. */
static uint8_t *decode(const unsigned char *png, size_t len, int *w, int *h) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  assert_true(png_image_begin_read_from_memory(&im, png, len));
  im.format = PNG_FORMAT_RGBA;
  uint8_t *px = malloc(PNG_IMAGE_SIZE(im));
  assert_non_null(px);
  assert_true(png_image_finish_read(&im, NULL, px, 0, NULL));
  *w = (int)im.width;
  *h = (int)im.height;
  return px;
}

/* Issue 10 defect 13: a key image opened alone says what it shows — a band above the image with subject,
 * timepoint, lesion, value, reader and date; the image and calipers below it are the plain key image. */
static void key_image_banner(void **state) {
  (void)state;
  rcy_error err = {0};
  unsigned char *plain, *with;
  size_t plain_len, with_len;
  rcy_render_caliper c[1] = {{{5, 20}, {55, 20}, "37.5 mm"}};
  assert_int_equal(rcy_render_key_image_png(&plain, &plain_len, path, 0, 0, c, 1, &err), 0);
  rcy_render_key_banner b = {"CIREL-014-0001", "FU1", "T1 liver", "37.5 mm longest diameter", "central read: alice",
                             "2026-11-29 10:00 UTC"};
  assert_int_equal(rcy_render_key_image_banner_png(&with, &with_len, path, 0, 0, c, 1, &b, &err), 0);
  int pw, ph, ww, wh;
  uint8_t *p = decode(plain, plain_len, &pw, &ph), *q = decode(with, with_len, &ww, &wh);
  assert_int_equal(ww, pw);
  assert_int_equal(wh, ph + RCY_RENDER_BANNER_HEIGHT);
  /* Below the band: the same picture, calipers included. */
  assert_memory_equal(q + (size_t)RCY_RENDER_BANNER_HEIGHT * (size_t)ww * 4, p, (size_t)pw * (size_t)ph * 4);
  /* In the band: the background and text in more than one colour (white and yellow glyphs, antialiased). */
  size_t differ = 0;
  for (int i = 0; i < ww * RCY_RENDER_BANNER_HEIGHT; i++)
    if (memcmp(q + (size_t)i * 4, q, 4) != 0) differ++;
  assert_true(differ > 100);
  const char *dir = getenv("RCY_BUILD_DIR");
  if (dir) {
    char out[4096];
    snprintf(out, sizeof out, "%s/test-artifacts/test_render_key_banner.png", dir);
    FILE *f = fopen(out, "wb");
    if (f) {
      fwrite(with, 1, with_len, f);
      fclose(f);
    }
  }
  free(p);
  free(q);
  rcy_render_free(plain);
  rcy_render_free(with);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_decodes_to_hu),
      cmocka_unit_test(window_is_dicom_linear),
      cmocka_unit_test(png_thumbnail_key_image),
      cmocka_unit_test(key_image_banner),
  };
  return cmocka_run_group_tests(tests, write_ct, remove_ct);
}
