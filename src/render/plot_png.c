/* One plot alone as a PNG file (rcy_plot_png): the drawing of the reports' plots (rcy_pdf_plot, plot.c) on a
 * cairo image surface instead of a PDF page, for callers that write plots as files (`recistry dose-response
 * --plots`). The plot's height depends on its legend and risk table, which plot.c lays out: it is drawn once
 * onto an unbounded recording surface to measure it, then replayed onto an image of that size. */
#include "recistry/render.h"

#include <cairo.h>
#include <string.h>

#include "render_internal.h"

int rcy_plot_png(const char *path, const rcy_plot *plot, double width_pt, double height_pt, double scale,
                 rcy_error *err) {
  if (!(width_pt > 100) || !(height_pt > 60) || !(scale > 0) || scale > 10)
    return rcy_error_set(err, RCY_EINVAL, "plot PNG: width %g pt, height %g pt, scale %g out of range",
                         width_pt, height_pt, scale);
  const double margin = 10;
  cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
  rcy_pdf page;
  memset(&page, 0, sizeof page);
  page.surface = rec;
  page.cr = cairo_create(rec);
  page.page_w = width_pt;
  page.page_h = 1e6;
  page.margin = margin;
  page.top = margin;
  page.bottom = 1e6; /* one page: rcy_pdf_need never breaks */
  page.y = margin;
  page.row_x = -1;
  page.page = 1;
  rcy_pdf_plot(&page, plot, height_pt);
  double used_h = page.y + margin;
  cairo_destroy(page.cr);
  int w = (int)(width_pt * scale + 0.5), h = (int)(used_h * scale + 0.5);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(img);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, rec, 0, 0);
  cairo_paint(cr);
  cairo_destroy(cr);
  cairo_surface_flush(img);
  cairo_status_t st = cairo_surface_status(img);
  if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_write_to_png(img, path);
  cairo_surface_destroy(img);
  cairo_surface_destroy(rec);
  if (st != CAIRO_STATUS_SUCCESS)
    return rcy_error_set(err, RCY_EIO, "cannot write the plot %s: %s", path, cairo_status_to_string(st));
  return RCY_OK;
}
