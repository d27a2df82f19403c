/* Window/level and PNG encoding of stored frames: what /api/instances/{sop}/render.png and thumbnails serve. */
#include "recistry/render.h"
#include "render_internal.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void rcy_render_window(uint8_t *out, const rcy_dicom_frame *f, double wc, double ww) {
  if (ww < 1) ww = 1;
  /* PS3.3 C.11.2.1.2.1: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clamped. */
  const float lo = (float)(wc - 0.5 - (ww - 1) / 2), scale = (float)(ww > 1 ? 255.0 / (ww - 1) : 255.0);
  const size_t n = (size_t)f->rows * (size_t)f->columns;
  const float *v = f->values;
  for (size_t i = 0; i < n; i++) {
    float y = (v[i] - lo) * scale;
    uint8_t b = y <= 0 ? 0 : (y >= 255 ? 255 : (uint8_t)(y + 0.5f));
    out[i] = f->monochrome1 ? (uint8_t)(255 - b) : b;
  }
}

typedef struct {
  unsigned char *p;
  size_t len, cap;
  int oom;
} membuf;

static void write_mem(png_structp png, png_bytep data, png_size_t n) {
  membuf *b = png_get_io_ptr(png);
  if (b->oom) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 65536;
    while (cap < b->len + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void flush_mem(png_structp png) { (void)png; }

int rcy_render_png_gray(unsigned char **png_out, size_t *len_out, const uint8_t *gray, int width, int height,
                        rcy_error *err) {
  *png_out = NULL;
  *len_out = 0;
  if (width <= 0 || height <= 0) return rcy_error_set(err, RCY_EINVAL, "empty image (%dx%d)", width, height);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  membuf b = {0};
  png_bytep *rows = NULL;
  if (!png || !info) goto oom;
  rows = malloc(sizeof *rows * (size_t)height);
  if (!rows) goto oom;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(b.p);
    return rcy_error_set(err, RCY_EINTERNAL, "PNG encoding failed");
  }
  png_set_write_fn(png, &b, write_mem, flush_mem);
  /* Speed over size: Sub filter + zlib level 1 keeps a 512x512 CT slice at a few ms (scripts/bench/reader). */
  png_set_compression_level(png, Z_BEST_SPEED);
  png_set_filter(png, 0, PNG_FILTER_SUB);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  for (int r = 0; r < height; r++) rows[r] = (png_bytep)(gray + (size_t)r * (size_t)width);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
  png_destroy_write_struct(&png, &info);
  free(rows);
  if (b.oom) {
    free(b.p);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory encoding PNG");
  }
  *png_out = b.p;
  *len_out = b.len;
  return RCY_OK;
oom:
  png_destroy_write_struct(&png, info ? &info : NULL);
  free(rows);
  return rcy_error_set(err, RCY_ENOMEM, "out of memory encoding PNG");
}

void rcy_render_pick_window(double *wc, double *ww, const rcy_dicom_frame *f) {
  if (*ww > 0) return;
  if (f->window_width >= 1) {
    *wc = f->window_center;
    *ww = f->window_width;
  } else {
    *wc = RCY_RENDER_DEFAULT_WC;
    *ww = RCY_RENDER_DEFAULT_WW;
  }
}

int rcy_render_frame_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                         rcy_error *err) {
  rcy_dicom_frame *f;
  int rc = rcy_dicom_frame_load(&f, path, err);
  if (rc) return rc;
  uint8_t *gray = malloc((size_t)f->rows * (size_t)f->columns);
  if (!gray) {
    rcy_dicom_frame_free(f);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  rcy_render_pick_window(&wc, &ww, f);
  rcy_render_window(gray, f, wc, ww);
  rc = rcy_render_png_gray(png_out, len_out, gray, f->columns, f->rows, err);
  free(gray);
  rcy_dicom_frame_free(f);
  return rc;
}

int rcy_render_thumbnail_png(unsigned char **png_out, size_t *len_out, const char *path, int max_side,
                             rcy_error *err) {
  if (max_side < 1) return rcy_error_set(err, RCY_EINVAL, "thumbnail size must be >= 1");
  rcy_dicom_frame *f;
  int rc = rcy_dicom_frame_load(&f, path, err);
  if (rc) return rc;
  double wc = 0, ww = 0;
  rcy_render_pick_window(&wc, &ww, f);
  size_t n = (size_t)f->rows * (size_t)f->columns;
  int side = f->rows > f->columns ? f->rows : f->columns;
  int step = (side + max_side - 1) / max_side;
  if (step < 1) step = 1;
  int tw = f->columns / step, th = f->rows / step;
  if (tw < 1) tw = 1;
  if (th < 1) th = 1;
  uint8_t *gray = malloc(n), *small = malloc((size_t)tw * (size_t)th);
  if (!gray || !small) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  rcy_render_window(gray, f, wc, ww);
  /* Area average of step x step blocks: no aliasing from plain subsampling. */
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++) {
      unsigned sum = 0, cnt = 0;
      for (int dy = 0; dy < step && y * step + dy < f->rows; dy++)
        for (int dx = 0; dx < step && x * step + dx < f->columns; dx++, cnt++)
          sum += gray[(size_t)(y * step + dy) * (size_t)f->columns + (size_t)(x * step + dx)];
      small[(size_t)y * (size_t)tw + (size_t)x] = (uint8_t)(cnt ? (sum + cnt / 2) / cnt : 0);
    }
  rc = rcy_render_png_gray(png_out, len_out, small, tw, th, err);
out:
  free(gray);
  free(small);
  rcy_dicom_frame_free(f);
  return rc;
}

void rcy_render_free(void *png) { free(png); }
