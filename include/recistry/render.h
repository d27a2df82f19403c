/* Render: stored frames to pictures for the reader workstation — window/level to 8 bits, PNG encoding
 * (libpng), thumbnails, and key images with the reader's calipers drawn on them (cairo).
 * Every PNG is returned as a malloc'ed buffer the caller releases with rcy_render_free. */
#ifndef RECISTRY_RENDER_H
#define RECISTRY_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recistry/dicom.h"
#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Window used when neither the request nor the instance gives one: CT soft tissue (abdomen). */
#define RCY_RENDER_DEFAULT_WC 40.0
#define RCY_RENDER_DEFAULT_WW 400.0

/* DICOM linear VOI (PS3.3 C.11.2.1.2) of frame into out (rows * columns bytes); MONOCHROME1 inverted.
 * ww must be >= 1. */
void rcy_render_window(uint8_t *out, const rcy_dicom_frame *frame, double wc, double ww);

/* 8-bit grayscale image to PNG (fast zlib level: these are sent once over loopback/LAN, not archived). */
int rcy_render_png_gray(unsigned char **png_out, size_t *len_out, const uint8_t *gray, int width, int height,
                        rcy_error *err);

/* The instance file at path, windowed (wc, ww; ww <= 0 means: the instance's own window, else the default),
 * as a PNG of the full frame. */
int rcy_render_frame_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                         rcy_error *err);

/* A thumbnail no larger than max_side pixels on either side (area-averaged), instance window. */
int rcy_render_thumbnail_png(unsigned char **png_out, size_t *len_out, const char *path, int max_side,
                             rcy_error *err);

/* A caliper in image coordinates (column, row; pixel centres at integers) with its label ("42.1 mm"). */
typedef struct rcy_render_caliper {
  double p1[2], p2[2];
  const char *label;
} rcy_render_caliper;

/* The frame at path windowed like rcy_render_frame_png, with the calipers drawn (coloured lines with end
 * ticks and labels), as a PNG. */
int rcy_render_key_image_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                             const rcy_render_caliper *calipers, size_t n_calipers, rcy_error *err);

/* What a key image says about itself, burnt into a band above the image so that the PNG, opened alone,
 * tells what it shows. Trial identifiers only: callers never pass a patient's name, ID or birth date. Any
 * field may be NULL. */
typedef struct rcy_render_key_banner {
  const char *subject;   /* Clinical Trial Subject ID, e.g. CIREL-014-0001 */
  const char *timepoint; /* BL, FU1, ... */
  const char *lesion;    /* e.g. "T1 liver" */
  const char *diameter;  /* e.g. "28.9 mm longest diameter" */
  const char *reader;    /* e.g. "central read: alice" */
  const char *date;      /* when it was measured, e.g. "2026-11-29 18:47 UTC" */
} rcy_render_key_banner;

/* Height in pixels of the band rcy_render_key_image_banner_png adds above the image. */
#define RCY_RENDER_BANNER_HEIGHT 36

/* rcy_render_key_image_png with the banner (when non-NULL) in a band of RCY_RENDER_BANNER_HEIGHT pixels
 * above the image: the PNG is rows + that band high; the calipers stay on the image below it. */
int rcy_render_key_image_banner_png(unsigned char **png_out, size_t *len_out, const char *path, double wc,
                                    double ww, const rcy_render_caliper *calipers, size_t n_calipers,
                                    const rcy_render_key_banner *banner, rcy_error *err);

/* ---- Section: plots and PDF reports (src/render/plot.c, pdf_report.c; docs/reports.md) ----------------
 * Data in, drawing out: a report is a sequence of blocks (headings, paragraphs, tables, plots, pictures)
 * laid out top to bottom on A4 pages, a new page started when a block does not fit. Nothing here knows what
 * a response or an endpoint is; src/qa/report.c decides what is drawn. Text is cairo's toy API with DejaVu
 * Sans (no pango in the build). Sizes are PDF points (1/72 in). */

typedef struct rcy_pdf rcy_pdf;

typedef struct rcy_rgb {
  double r, g, b; /* 0..1 */
} rcy_rgb;

/* Opens a PDF report at path (A4 portrait) with its metadata: title, author (may be NULL), creator
 * "recistry", and the creation date fixed to SOURCE_DATE_EPOCH when that is set (reproducible output).
 * footer (may be NULL) is printed at the bottom of every page with the page number. */
int rcy_pdf_open(rcy_pdf **out, const char *path, const char *title, const char *footer, rcy_error *err);
/* Finishes and writes the file; frees pdf in every case. */
int rcy_pdf_close(rcy_pdf *pdf, rcy_error *err);
void rcy_pdf_new_page(rcy_pdf *pdf);
/* Starts a new page when less than height points are left on this one. */
void rcy_pdf_need(rcy_pdf *pdf, double height);
/* Width of the text area in points. */
double rcy_pdf_width(const rcy_pdf *pdf);

/* level 1: report title (18 pt), 2: section (13 pt), 3: sub-section (11 pt, bold). */
void rcy_pdf_heading(rcy_pdf *pdf, int level, const char *text);
/* A paragraph wrapped at the text width (9.5 pt); '\n' breaks a line. */
void rcy_pdf_paragraph(rcy_pdf *pdf, const char *text);
/* Vertical space. */
void rcy_pdf_space(rcy_pdf *pdf, double points);

/* A table: cells row-major (n_rows × n_cols, NULL = empty), the first row the header (repeated after a page
 * break). widths: relative column widths (NULL = equal). Cells wrap within their column. fills (may be NULL):
 * one background per row (NULL entry = none). */
void rcy_pdf_table(rcy_pdf *pdf, const char *const *cells, size_t n_rows, size_t n_cols, const double *widths,
                   const rcy_rgb *const *fills);

/* A PNG file scaled to fit max_w × max_h points (keeping its aspect), placed at the next free slot of a row
 * of pictures, with a caption under it. RCY_EIO when the file cannot be read as PNG (nothing drawn). */
int rcy_pdf_picture(rcy_pdf *pdf, const char *png_path, double max_w, double max_h, const char *caption,
                    rcy_error *err);
/* Ends a row of pictures (the next block starts below the tallest). */
void rcy_pdf_picture_row_end(rcy_pdf *pdf);

/* A plot: series of one kind each, drawn on shared axes. */
typedef enum rcy_plot_kind {
  RCY_PLOT_LINE,   /* polyline through (x, y), with point markers */
  RCY_PLOT_STEP,   /* right-continuous step function from (x[0], y[0]) (Kaplan–Meier) */
  RCY_PLOT_POINTS, /* markers only */
  RCY_PLOT_BARS,   /* vertical bars from 0 to y, centred on x, width 0.8 of the x spacing */
  RCY_PLOT_SPANS   /* horizontal bars from x0[i] to x[i] at height y[i] (swimmer lanes) */
} rcy_plot_kind;

typedef struct rcy_plot_series {
  rcy_plot_kind kind;
  const double *x, *y, *x0; /* x0: RCY_PLOT_SPANS only */
  size_t n;
  rcy_rgb color;
  const rcy_rgb *colors;      /* may be NULL: per point colours (bars, points) */
  const char *const *labels;  /* may be NULL: a text label beside each point (NULL entry = none) */
  const bool *marks;          /* may be NULL: a '+' mark at points where true (censored, STEP) */
  bool dashed;
  double width;               /* line width, 0 = 1.2 */
} rcy_plot_series;

typedef struct rcy_plot_rule {
  bool vertical; /* false: horizontal line at value */
  double value;
  const char *label;
  rcy_rgb color;
} rcy_plot_rule;

typedef struct rcy_plot_legend {
  const char *label;
  rcy_rgb color;
} rcy_plot_legend;

/* A number-at-risk table under the x axis: one row per curve, counts at the x ticks. */
typedef struct rcy_plot_risk_row {
  const char *label;
  rcy_rgb color;
  const double *t; /* the curve's times (increasing) */
  const size_t *n_at; /* n at risk at each t (number with time ≥ t) */
  size_t n;
  size_t n_start; /* at risk at time 0 */
} rcy_plot_risk_row;

typedef struct rcy_plot {
  const char *title, *x_label, *y_label;
  double x_min, x_max, y_min, y_max; /* NAN: from the data (with a margin) */
  double x_step;                     /* tick spacing; 0 = automatic */
  const rcy_plot_series *series;
  size_t n_series;
  const rcy_plot_rule *rules;
  size_t n_rules;
  const rcy_plot_legend *legend;
  size_t n_legend;
  const rcy_plot_risk_row *risk; /* may be NULL */
  size_t n_risk;
  bool no_x_ticks;        /* categorical x (waterfall): no tick labels */
  bool no_y_ticks;        /* y carries no quantity (timeline) */
  const char *empty_note; /* printed in the frame when no series has a point ("no data") */
} rcy_plot;

/* Draws plot in a box of the text width × height points (plus the risk table below it). */
void rcy_pdf_plot(rcy_pdf *pdf, const rcy_plot *plot, double height);
/* The same plot alone as a PNG file (src/render/plot_png.c): width_pt wide, the plot box height_pt high plus
 * its title, legend and risk table, at scale pixels per point, on white. RCY_EIO when it cannot be written. */
int rcy_plot_png(const char *path, const rcy_plot *plot, double width_pt, double height_pt, double scale,
                 rcy_error *err);

/* The plot palette: colours for categories that read apart in print and for colour-blind readers (Okabe–Ito). */
extern const rcy_rgb rcy_plot_palette[8];

void rcy_render_free(void *png);

/* Releases the process-wide font and cairo caches that key-image labels fill (fontconfig). Call once at
 * exit, when no thread renders any more; rendering after it is not allowed. */
void rcy_render_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
