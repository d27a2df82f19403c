/* PDF reports (cairo's PDF surface): A4 pages filled top to bottom with headings, wrapped paragraphs,
 * tables and pictures; a block that does not fit starts a new page. The text is cairo's toy API with DejaVu
 * Sans: the build has no pango, and the reports need left-to-right Latin text only. Reproducible: the creation
 * date is SOURCE_DATE_EPOCH's when that is set, everything else follows from the data. */
#include "recistry/render.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render_internal.h"

#define A4_W 595.276
#define A4_H 841.89
#define BODY_PT 9.5
#define LINE 1.3 /* line height as a multiple of the font size */

void rcy_pdf_font(cairo_t *cr, double size, int bold) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double rcy_pdf_text_width(cairo_t *cr, const char *text) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text, &e);
  return e.x_advance;
}

void rcy_pdf_text_at(cairo_t *cr, double x, double y, double align, const char *text) {
  if (!text || !*text) return;
  cairo_move_to(cr, x - align * rcy_pdf_text_width(cr, text), y);
  cairo_show_text(cr, text);
}

double rcy_pdf_width(const rcy_pdf *pdf) { return pdf->page_w - 2 * pdf->margin; }

static void draw_footer(rcy_pdf *pdf) {
  cairo_t *cr = pdf->cr;
  cairo_save(cr);
  rcy_pdf_font(cr, 7.5, 0);
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
  char num[32];
  snprintf(num, sizeof num, "page %d", pdf->page);
  double y = pdf->page_h - pdf->margin / 2;
  if (pdf->footer) rcy_pdf_text_at(cr, pdf->margin, y, 0, pdf->footer);
  rcy_pdf_text_at(cr, pdf->page_w - pdf->margin, y, 1, num);
  cairo_restore(cr);
}

int rcy_pdf_open(rcy_pdf **out, const char *path, const char *title, const char *footer, rcy_error *err) {
  *out = NULL;
  rcy_pdf *pdf = calloc(1, sizeof *pdf);
  if (!pdf) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  pdf->surface = cairo_pdf_surface_create(path, A4_W, A4_H);
  if (cairo_surface_status(pdf->surface) != CAIRO_STATUS_SUCCESS) {
    int rc = rcy_error_set(err, RCY_EIO, "cannot write %s: %s", path,
                           cairo_status_to_string(cairo_surface_status(pdf->surface)));
    cairo_surface_destroy(pdf->surface);
    free(pdf);
    return rc;
  }
  cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_TITLE, title ? title : "");
  cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_CREATOR, "recistry");
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde && *sde) {
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (!errno && !*end && v >= 0) {
      time_t t = (time_t)v;
      struct tm tm;
      char iso[32];
      gmtime_r(&t, &tm);
      strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
      cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_CREATE_DATE, iso);
      cairo_pdf_surface_set_metadata(pdf->surface, CAIRO_PDF_METADATA_MOD_DATE, iso);
    }
  }
  pdf->cr = cairo_create(pdf->surface);
  pdf->page_w = A4_W;
  pdf->page_h = A4_H;
  pdf->margin = 42;
  pdf->top = 46;
  pdf->bottom = A4_H - 40;
  pdf->y = pdf->top;
  pdf->page = 1;
  pdf->footer = footer ? strdup(footer) : NULL;
  pdf->row_x = -1;
  *out = pdf;
  return RCY_OK;
}

void rcy_pdf_new_page(rcy_pdf *pdf) {
  rcy_pdf_picture_row_end(pdf);
  draw_footer(pdf);
  cairo_show_page(pdf->cr);
  pdf->page++;
  pdf->y = pdf->top;
  pdf->started = 0;
}

void rcy_pdf_need(rcy_pdf *pdf, double height) {
  if (pdf->started && pdf->y + height > pdf->bottom) rcy_pdf_new_page(pdf);
  pdf->started = 1;
}

int rcy_pdf_close(rcy_pdf *pdf, rcy_error *err) {
  if (!pdf) return RCY_OK;
  rcy_pdf_picture_row_end(pdf);
  draw_footer(pdf);
  cairo_show_page(pdf->cr);
  cairo_destroy(pdf->cr);
  cairo_surface_finish(pdf->surface);
  cairo_status_t st = cairo_surface_status(pdf->surface);
  cairo_surface_destroy(pdf->surface);
  free(pdf->footer);
  free(pdf);
  if (st != CAIRO_STATUS_SUCCESS) return rcy_error_set(err, RCY_EIO, "writing the PDF: %s", cairo_status_to_string(st));
  return RCY_OK;
}

void rcy_pdf_space(rcy_pdf *pdf, double points) {
  rcy_pdf_picture_row_end(pdf);
  pdf->y += points;
}

/* The lines of text wrapped at width (at the current font), as offsets into a copy the caller frees:
 * breaks at spaces, at '\n', and inside a word only when the word alone is wider than the line. */
typedef struct {
  char *buf;
  char **lines;
  size_t n;
} wrapped;

static void wrap_free(wrapped *w) {
  free(w->buf);
  free(w->lines);
}

static int wrap(wrapped *w, cairo_t *cr, const char *text, double width) {
  memset(w, 0, sizeof *w);
  size_t len = strlen(text);
  /* each line ends in a NUL written over a space or newline, or inserted: at most 2 × len + 1 bytes */
  w->buf = malloc(2 * len + 2);
  w->lines = malloc((len + 1) * sizeof *w->lines);
  if (!w->buf || !w->lines) return -1;
  char *o = w->buf;
  const char *p = text;
  while (1) {
    char *line = o;
    size_t fit = 0; /* bytes of p that fit on this line, ending at a word boundary */
    const char *q = p;
    while (*q && *q != '\n') {
      const char *e = q;
      while (*e == ' ') e++;
      while (*e && *e != ' ' && *e != '\n') e++;
      memcpy(line, p, (size_t)(e - p));
      line[e - p] = 0;
      if (rcy_pdf_text_width(cr, line) > width && fit > 0) break;
      if (rcy_pdf_text_width(cr, line) > width) { /* one long word: cut by UTF-8 characters */
        size_t k = 0, last = 0;
        while (p + k < e) {
          size_t c = 1;
          while (p + k + c < e && ((unsigned char)p[k + c] & 0xC0) == 0x80) c++;
          memcpy(line, p, k + c);
          line[k + c] = 0;
          if (rcy_pdf_text_width(cr, line) > width && last > 0) break;
          k += c;
          last = k;
        }
        fit = last;
        break;
      }
      fit = (size_t)(e - p);
      q = e;
    }
    memcpy(line, p, fit);
    line[fit] = 0;
    w->lines[w->n++] = line;
    o = line + fit + 1;
    p += fit;
    while (*p == ' ') p++;
    if (*p == '\n') p++;
    else if (!*p) break;
    if (!*p) break;
  }
  return 0;
}

/* Draws wrapped text at (x, baseline of the first line y); returns the height used. */
static double draw_wrapped(cairo_t *cr, double x, double y, double width, double size, const char *text) {
  wrapped w;
  if (wrap(&w, cr, text, width)) {
    wrap_free(&w);
    return 0;
  }
  for (size_t i = 0; i < w.n; i++) rcy_pdf_text_at(cr, x, y + i * size * LINE, 0, w.lines[i]);
  double h = w.n * size * LINE;
  wrap_free(&w);
  return h;
}

static size_t count_lines(cairo_t *cr, double width, const char *text) {
  wrapped w;
  size_t n = 0;
  if (!wrap(&w, cr, text, width)) n = w.n;
  wrap_free(&w);
  return n;
}

void rcy_pdf_heading(rcy_pdf *pdf, int level, const char *text) {
  rcy_pdf_picture_row_end(pdf);
  double size = level == 1 ? 18 : level == 2 ? 13 : 11;
  cairo_t *cr = pdf->cr;
  rcy_pdf_font(cr, size, 1);
  double h = count_lines(cr, rcy_pdf_width(pdf), text) * size * LINE;
  /* a heading keeps at least a few lines of what follows on its page */
  rcy_pdf_need(pdf, h + size * 0.6 + 60);
  if (pdf->y > pdf->top) pdf->y += size * 0.6;
  cairo_set_source_rgb(cr, level == 1 ? 0.05 : 0.1, level == 1 ? 0.2 : 0.25, level == 1 ? 0.4 : 0.45);
  draw_wrapped(cr, pdf->margin, pdf->y + size, rcy_pdf_width(pdf), size, text);
  pdf->y += h + size * 0.3;
  if (level <= 2) {
    cairo_set_line_width(cr, level == 1 ? 1.0 : 0.5);
    cairo_move_to(cr, pdf->margin, pdf->y);
    cairo_line_to(cr, pdf->page_w - pdf->margin, pdf->y);
    cairo_stroke(cr);
    pdf->y += 5;
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
}

void rcy_pdf_paragraph(rcy_pdf *pdf, const char *text) {
  rcy_pdf_picture_row_end(pdf);
  cairo_t *cr = pdf->cr;
  rcy_pdf_font(cr, BODY_PT, 0);
  wrapped w;
  if (wrap(&w, cr, text, rcy_pdf_width(pdf))) {
    wrap_free(&w);
    return;
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  for (size_t i = 0; i < w.n; i++) {
    rcy_pdf_need(pdf, BODY_PT * LINE);
    rcy_pdf_font(cr, BODY_PT, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    rcy_pdf_text_at(cr, pdf->margin, pdf->y + BODY_PT, 0, w.lines[i]);
    pdf->y += BODY_PT * LINE;
  }
  pdf->y += BODY_PT * 0.4;
  wrap_free(&w);
}

#define CELL_PT 8.0
#define PAD 3.0

static double row_height(cairo_t *cr, const char *const *cells, size_t n_cols, const double *colw, int header) {
  size_t lines = 1;
  rcy_pdf_font(cr, CELL_PT, header);
  for (size_t c = 0; c < n_cols; c++) {
    if (!cells[c] || !*cells[c]) continue;
    size_t k = count_lines(cr, colw[c] - 2 * PAD, cells[c]);
    if (k > lines) lines = k;
  }
  return lines * CELL_PT * LINE + 2 * PAD;
}

static void draw_row(rcy_pdf *pdf, const char *const *cells, size_t n_cols, const double *colw, double h, int header,
                     const rcy_rgb *fill) {
  cairo_t *cr = pdf->cr;
  double x = pdf->margin, w = rcy_pdf_width(pdf);
  if (header || fill) {
    if (header) cairo_set_source_rgb(cr, 0.86, 0.9, 0.95);
    else cairo_set_source_rgb(cr, fill->r, fill->g, fill->b);
    cairo_rectangle(cr, x, pdf->y, w, h);
    cairo_fill(cr);
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  rcy_pdf_font(cr, CELL_PT, header);
  for (size_t c = 0; c < n_cols; c++) {
    if (cells[c] && *cells[c]) draw_wrapped(cr, x + PAD, pdf->y + PAD + CELL_PT, colw[c] - 2 * PAD, CELL_PT, cells[c]);
    x += colw[c];
  }
  cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
  cairo_set_line_width(cr, 0.4);
  cairo_move_to(cr, pdf->margin, pdf->y + h);
  cairo_line_to(cr, pdf->margin + w, pdf->y + h);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  pdf->y += h;
}

void rcy_pdf_table(rcy_pdf *pdf, const char *const *cells, size_t n_rows, size_t n_cols, const double *widths,
                   const rcy_rgb *const *fills) {
  if (!n_rows || !n_cols) return;
  rcy_pdf_picture_row_end(pdf);
  double *colw = malloc(n_cols * sizeof *colw);
  if (!colw) return;
  double total = 0;
  for (size_t c = 0; c < n_cols; c++) total += widths ? widths[c] : 1;
  for (size_t c = 0; c < n_cols; c++) colw[c] = (widths ? widths[c] : 1) / total * rcy_pdf_width(pdf);
  cairo_t *cr = pdf->cr;
  double hh = row_height(cr, cells, n_cols, colw, 1);
  rcy_pdf_need(pdf, hh + (n_rows > 1 ? row_height(cr, cells + n_cols, n_cols, colw, 0) : 0));
  int page = pdf->page;
  draw_row(pdf, cells, n_cols, colw, hh, 1, NULL);
  for (size_t r = 1; r < n_rows; r++) {
    double h = row_height(cr, cells + r * n_cols, n_cols, colw, 0);
    rcy_pdf_need(pdf, h);
    if (pdf->page != page) { /* repeat the header on the new page */
      page = pdf->page;
      draw_row(pdf, cells, n_cols, colw, hh, 1, NULL);
    }
    draw_row(pdf, cells + r * n_cols, n_cols, colw, h, 0, fills ? fills[r] : NULL);
  }
  pdf->y += 6;
  free(colw);
}

void rcy_pdf_picture_row_end(rcy_pdf *pdf) {
  if (pdf->row_x < 0) return;
  pdf->y += pdf->row_h + 6;
  pdf->row_x = -1;
  pdf->row_h = 0;
}

int rcy_pdf_picture(rcy_pdf *pdf, const char *png_path, double max_w, double max_h, const char *caption,
                    rcy_error *err) {
  cairo_surface_t *img = cairo_image_surface_create_from_png(png_path);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return rcy_error_set(err, RCY_EIO, "cannot read the PNG %s", png_path);
  }
  double iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
  double s = fmin(max_w / iw, max_h / ih);
  double w = iw * s, h = ih * s;
  cairo_t *cr = pdf->cr;
  rcy_pdf_font(cr, 7, 0);
  double cap_h = caption ? count_lines(cr, max_w, caption) * 7 * LINE + 3 : 0;
  if (pdf->row_x >= 0 && pdf->row_x + w > pdf->page_w - pdf->margin + 0.5) rcy_pdf_picture_row_end(pdf);
  if (pdf->row_x < 0) {
    rcy_pdf_need(pdf, h + cap_h);
    pdf->row_x = pdf->margin;
    pdf->row_h = 0;
  }
  double x = pdf->row_x, y = pdf->y;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, s, s);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
  if (caption) {
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    rcy_pdf_font(cr, 7, 0);
    draw_wrapped(cr, x, y + h + 3 + 7, fmax(w, 80), 7, caption);
    cairo_set_source_rgb(cr, 0, 0, 0);
  }
  pdf->row_x = x + fmax(w, 80) + 8;
  if (h + cap_h > pdf->row_h) pdf->row_h = h + cap_h;
  return RCY_OK;
}
