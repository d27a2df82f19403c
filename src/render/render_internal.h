/* Shared by the render module's files. Not public. */
#ifndef RECISTRY_RENDER_INTERNAL_H
#define RECISTRY_RENDER_INTERNAL_H

#include "recistry/dicom.h"

/* The window to use when *ww <= 0: the instance's own, else RCY_RENDER_DEFAULT_WC/WW. */
void rcy_render_pick_window(double *wc, double *ww, const rcy_dicom_frame *f);


#include <cairo.h>

/* A PDF report being written (pdf_report.c); plot.c draws into its context. */
struct rcy_pdf {
  cairo_surface_t *surface;
  cairo_t *cr;
  double page_w, page_h, margin, top, bottom; /* text area: margin .. page_w − margin, top .. bottom */
  double y;                                   /* next free line */
  double row_x, row_h;                        /* pictures: x of the next slot in the row, tallest so far */
  int page;
  char *footer;
  int started; /* a page has content */
};

/* The report font (DejaVu Sans, via fontconfig's "DejaVu Sans" family name). */
void rcy_pdf_font(cairo_t *cr, double size, int bold);
/* Width of text at the current font. */
double rcy_pdf_text_width(cairo_t *cr, const char *text);
/* Draws text with its left (align 0), centre (0.5) or right (1) at x, baseline y. */
void rcy_pdf_text_at(cairo_t *cr, double x, double y, double align, const char *text);

#endif
