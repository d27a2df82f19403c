/* The dose over the CT as pictures: one axial slice of the CT at a window with the absorbed dose blended over
 * it in a rainbow (Turbo) colour wash, the VOI outlines with their names, and the matching colour bar in Gy.
 * What the dose report (report.c) and the workstation's dose view show. Drawn into cairo image surfaces and
 * written as PNG by cairo (the render module's libpng writer is grey only). */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dose_internal.h"
#include "recistry/render.h"

typedef struct {
  unsigned char *p;
  size_t len, cap;
  int oom;
} membuf;

static cairo_status_t write_mem(void *closure, const unsigned char *data, unsigned int n) {
  membuf *b = closure;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 65536;
    while (cap < b->len + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return CAIRO_STATUS_NO_MEMORY;
    }
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return CAIRO_STATUS_SUCCESS;
}

static int surface_to_png(unsigned char **png, size_t *len, cairo_surface_t *s, rcy_error *err) {
  membuf b = {0};
  cairo_surface_flush(s);
  cairo_status_t st = cairo_surface_write_to_png_stream(s, write_mem, &b);
  if (st != CAIRO_STATUS_SUCCESS) {
    free(b.p);
    return rcy_error_set(err, b.oom ? RCY_ENOMEM : RCY_EINTERNAL, "PNG encoding: %s", cairo_status_to_string(st));
  }
  *png = b.p, *len = b.len;
  return RCY_OK;
}

/* Patient position (mm) of voxel index (i, j, k) of a geometry; and back (nearest voxel, -1 outside). The
 * direction matrices of DICOM series are orthonormal: the inverse is the transpose. */
static void to_patient(double p[3], const double o[3], const double s[3], const double d[9], double i, double j,
                       double k) {
  for (int r = 0; r < 3; r++) p[r] = o[r] + d[3 * r] * i * s[0] + d[3 * r + 1] * j * s[1] + d[3 * r + 2] * k * s[2];
}

static long to_index(const double p[3], const int size[3], const double o[3], const double s[3], const double d[9]) {
  long idx[3];
  for (int c = 0; c < 3; c++) {
    double v = 0;
    for (int r = 0; r < 3; r++) v += d[3 * r + c] * (p[r] - o[r]);
    double f = v / s[c];
    long q = lround(f);
    if (q < 0 || q >= size[c]) return -1;
    idx[c] = q;
  }
  return idx[0] + (long)size[0] * (idx[1] + (long)size[1] * idx[2]);
}

static inline uint32_t pack(double r, double g, double b) {
  return (uint32_t)lround(r * 255) << 16 | (uint32_t)lround(g * 255) << 8 | (uint32_t)lround(b * 255);
}

/* Text with a dark halo so that it reads over any colour of the wash. */
static void halo_text(cairo_t *cr, double x, double y, const char *text) {
  cairo_move_to(cr, x, y);
  cairo_text_path(cr, text);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 3);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke(cr);
  cairo_move_to(cr, x, y);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_show_text(cr, text);
}

int rcy_dose_render_fused_png(unsigned char **png, size_t *len, const rcy_dose_run *run, int slice, double ct_wc,
                              double ct_ww, double dose_max_gy, double opacity, int with_vois, rcy_error *err) {
  *png = NULL, *len = 0;
  if (!run || !run->result.dose.values) return rcy_error_set(err, RCY_EINVAL, "the run has no dose grid");
  const rcy_dose_grid *g = &run->result.dose;
  const int W = g->size[0], H = g->size[1];
  if (W <= 0 || H <= 0 || slice < 0 || slice >= g->size[2])
    return rcy_error_set(err, RCY_EINVAL, "slice %d is outside the dose grid (0..%d)", slice, g->size[2] - 1);
  if (!(ct_ww >= 1)) return rcy_error_set(err, RCY_EINVAL, "CT window width %g HU: must be >= 1", ct_ww);
  if (!(opacity >= 0 && opacity <= 1)) return rcy_error_set(err, RCY_EINVAL, "opacity %g: must be in 0..1", opacity);
  if (!(dose_max_gy > 0)) dose_max_gy = rcy_dose_render_auto_max_gy(g);
  const int f = (W > H ? W : H) >= 256 ? 1 : 256 / (W > H ? W : H);
  const int OW = W * f, OH = H * f;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, OW, OH);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return rcy_error_set(err, RCY_ENOMEM, "cannot allocate a %dx%d image", OW, OH);
  }
  unsigned char *data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  const rcy_dicom_volume *ct = run->ct && run->ct->values ? run->ct : NULL;
  const int direct = ct && rcy_dose_same_geometry(g, ct->size, ct->origin_mm, ct->spacing_mm, ct->direction);
  /* PS3.3 C.11.2.1.2.1 as rcy_render_window: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clamped */
  const double lo = ct_wc - 0.5 - (ct_ww - 1) / 2, scale = ct_ww > 1 ? 255.0 / (ct_ww - 1) : 255.0;
  const double floor_gy = RCY_DOSE_RENDER_FLOOR_FRACTION * dose_max_gy;
  const size_t plane = (size_t)W * (size_t)H, base = plane * (size_t)slice;
  for (int j = 0; j < H; j++)
    for (int i = 0; i < W; i++) {
      size_t v = base + (size_t)j * (size_t)W + (size_t)i;
      double grey = 0;
      if (ct) {
        long ci = -1;
        if (direct) ci = (long)v;
        else {
          double p[3];
          to_patient(p, g->origin_mm, g->spacing_mm, g->direction, i, j, slice);
          ci = to_index(p, ct->size, ct->origin_mm, ct->spacing_mm, ct->direction);
        }
        if (ci >= 0) {
          double y = (ct->values[ci] - lo) * scale;
          grey = (y <= 0 ? 0 : y >= 255 ? 255 : floor(y + 0.5)) / 255.0;
        }
      }
      double r = grey, gg = grey, b = grey, d = g->values[v];
      if (d >= floor_gy && d > 0) {
        double c[3];
        rcy_dose_render_colour(c, d, dose_max_gy);
        r = (1 - opacity) * grey + opacity * c[0];
        gg = (1 - opacity) * grey + opacity * c[1];
        b = (1 - opacity) * grey + opacity * c[2];
      }
      uint32_t px = pack(r, gg, b);
      for (int y = 0; y < f; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)(j * f + y) * (size_t)stride);
        for (int x = 0; x < f; x++) row[i * f + x] = px;
      }
    }
  if (with_vois) {
    /* outlines at the PNG's resolution: a pixel inside the VOI with a pixel outside it (or the image's edge)
     * within t pixels along a row or column; t = OW / 256 (at least 1) keeps the line about as thick on a
     * 512-pixel CT as on a magnified small grid once the report scales both to the same width */
    const int t = OW / 256 > 1 ? OW / 256 : 1;
#define INSIDE(xx, yy) ((xx) >= 0 && (yy) >= 0 && (xx) < OW && (yy) < OH && m[(size_t)((yy) / f) * (size_t)W + (size_t)((xx) / f)])
    for (size_t n = 0; n < run->n_vois; n++) {
      const uint8_t *m = run->voi_masks ? run->voi_masks[n] : NULL;
      if (!m) continue;
      m += base;
      for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++) {
          if (!INSIDE(x, y)) continue;
          int edge = 0;
          for (int d = 1; d <= t && !edge; d++)
            edge = !INSIDE(x - d, y) || !INSIDE(x + d, y) || !INSIDE(x, y - d) || !INSIDE(x, y + d);
          if (edge) ((uint32_t *)(data + (size_t)y * (size_t)stride))[x] = 0xFFFFFF;
        }
    }
#undef INSIDE
    cairo_surface_mark_dirty(s);
    /* names above each VOI's topmost voxel in this slice, else below its lowest, else inside its top: the
     * first place that overlaps no name already drawn (a perfused liver and its liver share a top edge) */
    cairo_t *cr = cairo_create(s);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    double fs = OW / 22.0 < 11 ? 11 : OW / 22.0; /* about 6 pt once the report scales the map to 140 pt */
    cairo_set_font_size(cr, fs);
    double (*boxes)[4] = calloc(run->n_vois + 1, sizeof *boxes); /* x0, y0, x1, y1 of the names drawn */
    size_t n_boxes = 0;
    for (size_t n = 0; boxes && n < run->n_vois; n++) {
      const uint8_t *m = run->voi_masks ? run->voi_masks[n] : NULL;
      if (!m || !run->voi_names || !run->voi_names[n]) continue;
      m += base;
      int top = -1, bottom = -1, tl = 0, tr = 0, bl = 0, br = 0;
      for (int j = 0; j < H; j++)
        for (int i = 0; i < W; i++)
          if (m[(size_t)j * (size_t)W + (size_t)i]) {
            if (top < 0) top = j, tl = i;
            if (top == j) tr = i;
            if (bottom != j) bottom = j, bl = i;
            br = i;
          }
      if (top < 0) continue;
      cairo_text_extents_t e;
      cairo_text_extents(cr, run->voi_names[n], &e);
      const double tw = e.x_advance;
      /* candidate baselines and centres */
      double cand[3][2] = {{(tl + tr + 1) * f / 2.0, top * f - 4},
                           {(bl + br + 1) * f / 2.0, (bottom + 1) * f + fs + 2},
                           {(tl + tr + 1) * f / 2.0, top * f + fs + 4}};
      double x = 0, y = 0;
      for (int c = 0; c < 3; c++) {
        x = cand[c][0] - tw / 2, y = cand[c][1];
        if (x < 2) x = 2;
        if (x + tw > OW - 2) x = OW - 2 - tw;
        if (y - fs < 0 || y + 3 > OH) continue;
        int clash = 0;
        for (size_t b = 0; b < n_boxes && !clash; b++)
          clash = x < boxes[b][2] && x + tw > boxes[b][0] && y - fs < boxes[b][3] && y + 3 > boxes[b][1];
        if (!clash) break;
        if (c == 2) x = cand[0][0] - tw / 2, y = cand[0][1] < fs ? cand[2][1] : cand[0][1]; /* no free place */
      }
      boxes[n_boxes][0] = x, boxes[n_boxes][1] = y - fs, boxes[n_boxes][2] = x + tw, boxes[n_boxes][3] = y + 3;
      n_boxes++;
      halo_text(cr, x, y, run->voi_names[n]);
    }
    free(boxes);
    cairo_destroy(cr);
  }
  int rc = surface_to_png(png, len, s, err);
  cairo_surface_destroy(s);
  return rc;
}

int rcy_dose_render_colour_bar_png(unsigned char **png, size_t *len, double dose_max_gy, int height_px,
                                   rcy_error *err) {
  *png = NULL, *len = 0;
  if (!(dose_max_gy > 0)) return rcy_error_set(err, RCY_EINVAL, "colour bar: dose maximum %g Gy must be > 0", dose_max_gy);
  if (height_px < 100 || height_px > 10000)
    return rcy_error_set(err, RCY_EINVAL, "colour bar: height %d px must be in 100..10000", height_px);
  const int H = height_px, W = (int)lround(H * 0.4);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return rcy_error_set(err, RCY_ENOMEM, "cannot allocate a %dx%d image", W, H);
  }
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const double fs = H * 0.05, top = fs * 2.2, bottom = H - fs * 0.8, bx = W * 0.08, bw = W * 0.3;
  const double bh = bottom - top;
  /* the colours, one line per pixel row, top = dose_max_gy */
  for (int y = (int)floor(top); y < (int)ceil(bottom); y++) {
    double d = (bottom - (y + 0.5)) / bh * dose_max_gy, c[3];
    rcy_dose_render_colour(c, d, dose_max_gy);
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_rectangle(cr, bx, y, bw, 1);
    cairo_fill(cr);
  }
  /* below the floor: not drawn on the map, so hatched here */
  double fy = bottom - RCY_DOSE_RENDER_FLOOR_FRACTION * bh;
  cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
  cairo_rectangle(cr, bx, fy, bw, bottom - fy);
  cairo_fill(cr);
  cairo_save(cr);
  cairo_rectangle(cr, bx, fy, bw, bottom - fy);
  cairo_clip(cr);
  cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
  cairo_set_line_width(cr, 1);
  for (double x = bx - (bottom - fy); x < bx + bw; x += 5) {
    cairo_move_to(cr, x, bottom);
    cairo_line_to(cr, x + (bottom - fy), fy);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, bx + 0.5, top + 0.5, bw - 1, bh - 1);
  cairo_stroke(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, fs);
  double step = rcy_dose_render_step(dose_max_gy, 5);
  char buf[32];
  for (double v = 0; v <= dose_max_gy * (1 + 1e-9); v += step) {
    double y = bottom - v / dose_max_gy * bh;
    cairo_move_to(cr, bx + bw, y);
    cairo_line_to(cr, bx + bw + fs * 0.4, y);
    cairo_stroke(cr);
    if (step >= 1) snprintf(buf, sizeof buf, "%.0f", v);
    else snprintf(buf, sizeof buf, "%.2g", v);
    cairo_move_to(cr, bx + bw + fs * 0.6, y + fs * 0.35);
    cairo_show_text(cr, buf);
  }
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_move_to(cr, bx, fs * 1.3);
  cairo_show_text(cr, "Gy");
  cairo_destroy(cr);
  int rc = surface_to_png(png, len, s, err);
  cairo_surface_destroy(s);
  return rc;
}
