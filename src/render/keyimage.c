/* Key images: the measured slice with the reader's calipers drawn on it (cairo), so that the archived
 * measurement can be checked by eye later (QA, adjudication) without a viewer. */
#include "recistry/render.h"
#include "render_internal.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned char *p;
  size_t len, cap;
} membuf;

static cairo_status_t write_mem(void *closure, const unsigned char *data, unsigned int n) {
  membuf *b = closure;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 262144;
    while (cap < b->len + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return CAIRO_STATUS_NO_MEMORY;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return CAIRO_STATUS_SUCCESS;
}

static void draw_caliper(cairo_t *cr, const rcy_render_caliper *c, double r, double g, double b) {
  /* Image coordinates name pixel centres; cairo's pixel (x, y) spans [x, x+1): shift by half a pixel. */
  double x1 = c->p1[0] + 0.5, y1 = c->p1[1] + 0.5, x2 = c->p2[0] + 0.5, y2 = c->p2[1] + 0.5;
  double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
  double nx = len > 0 ? -dy / len : 0, ny = len > 0 ? dx / len : 1, tick = 4;
  cairo_set_source_rgb(cr, r, g, b);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, x1, y1);
  cairo_line_to(cr, x2, y2);
  cairo_move_to(cr, x1 - nx * tick, y1 - ny * tick);
  cairo_line_to(cr, x1 + nx * tick, y1 + ny * tick);
  cairo_move_to(cr, x2 - nx * tick, y2 - ny * tick);
  cairo_line_to(cr, x2 + nx * tick, y2 + ny * tick);
  cairo_stroke(cr);
  if (c->label && *c->label) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 13);
    double lx = (x1 > x2 ? x1 : x2) + 6, ly = (y1 > y2 ? y1 : y2) + 4;
    cairo_move_to(cr, lx, ly);
    cairo_show_text(cr, c->label);
  }
}

/* Two lines of text on a dark band: who and what (subject, timepoint, lesion), then the value, the read and
 * the date. cairo's toy text API is enough for one short line of ASCII and UTF-8 each. */
static void draw_banner(cairo_t *cr, const rcy_render_key_banner *b, int width) {
  cairo_set_source_rgb(cr, 0.12, 0.14, 0.18);
  cairo_rectangle(cr, 0, 0, width, RCY_RENDER_BANNER_HEIGHT);
  cairo_fill(cr);
  char l1[400], l2[400];
  const char *sep = " \xc2\xb7 "; /* U+00B7 middle dot, UTF-8 */
  snprintf(l1, sizeof l1, "%s%s%s%s%s", b->subject ? b->subject : "", b->timepoint ? sep : "",
           b->timepoint ? b->timepoint : "", b->lesion ? sep : "", b->lesion ? b->lesion : "");
  snprintf(l2, sizeof l2, "%s%s%s%s%s", b->diameter ? b->diameter : "", b->reader ? sep : "",
           b->reader ? b->reader : "", b->date ? sep : "", b->date ? b->date : "");
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 13);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_move_to(cr, 6, 15);
  cairo_show_text(cr, l1);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);
  cairo_set_source_rgb(cr, 1, 0.85, 0);
  cairo_move_to(cr, 6, 31);
  cairo_show_text(cr, l2);
}

int rcy_render_key_image_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                             const rcy_render_caliper *calipers, size_t n_calipers, rcy_error *err) {
  return rcy_render_key_image_banner_png(png_out, len_out, path, wc, ww, calipers, n_calipers, NULL, err);
}

int rcy_render_key_image_banner_png(unsigned char **png_out, size_t *len_out, const char *path, double wc,
                                    double ww, const rcy_render_caliper *calipers, size_t n_calipers,
                                    const rcy_render_key_banner *banner, rcy_error *err) {
  *png_out = NULL;
  *len_out = 0;
  rcy_dicom_frame *f;
  int rc = rcy_dicom_frame_load(&f, path, err);
  if (rc) return rc;
  rcy_render_pick_window(&wc, &ww, f);
  uint8_t *gray = malloc((size_t)f->rows * (size_t)f->columns);
  int top = banner ? RCY_RENDER_BANNER_HEIGHT : 0;
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, f->columns, f->rows + top);
  membuf b = {0};
  if (!gray || cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory drawing a key image");
    goto out;
  }
  rcy_render_window(gray, f, wc, ww);
  cairo_surface_flush(surf);
  unsigned char *data = cairo_image_surface_get_data(surf);
  int stride = cairo_image_surface_get_stride(surf);
  for (int y = 0; y < f->rows; y++) {
    uint32_t *row = (uint32_t *)(void *)(data + (size_t)(y + top) * (size_t)stride);
    for (int x = 0; x < f->columns; x++) {
      uint32_t v = gray[(size_t)y * (size_t)f->columns + (size_t)x];
      row[x] = 0xff000000u | (v << 16) | (v << 8) | v;
    }
  }
  cairo_surface_mark_dirty(surf);
  cairo_t *cr = cairo_create(surf);
  if (banner) draw_banner(cr, banner, f->columns);
  cairo_translate(cr, 0, top);
  static const double colours[][3] = {{1, 0.85, 0}, {0, 0.9, 1}, {1, 0.3, 0.9}};
  for (size_t i = 0; i < n_calipers; i++) {
    const double *c = colours[i % 3];
    draw_caliper(cr, &calipers[i], c[0], c[1], c[2]);
  }
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png_stream(surf, write_mem, &b);
  if (st != CAIRO_STATUS_SUCCESS) {
    free(b.p);
    rc = rcy_error_set(err, RCY_EINTERNAL, "drawing the key image failed: %s", cairo_status_to_string(st));
    goto out;
  }
  *png_out = b.p;
  *len_out = b.len;
out:
  if (surf) cairo_surface_destroy(surf);
  free(gray);
  rcy_dicom_frame_free(f);
  return rc;
}

void rcy_render_shutdown(void) {
  cairo_debug_reset_static_data();
  FcFini();
}
