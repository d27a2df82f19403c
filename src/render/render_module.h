/* The table of the render module (recistry-render.so, include/recistry/module.h): everything that draws with
 * cairo, libpng and fontconfig — include/recistry/render.h (but the palette, which is data) and the dose
 * pictures of src/dose/render_fused.c (rcy_dose_render_fused_png, rcy_dose_render_colour_bar_png), which use
 * cairo too and are only ever drawn beside the others. */
#ifndef RECISTRY_RENDER_MODULE_H
#define RECISTRY_RENDER_MODULE_H

#include "recistry/dose.h"
#include "recistry/module.h"
#include "recistry/render.h"

typedef struct rcy_render_module_table {
  rcy_module_header header;
  void (*window)(uint8_t *out, const rcy_dicom_frame *frame, double wc, double ww);
  int (*png_gray)(unsigned char **png_out, size_t *len_out, const uint8_t *gray, int width, int height,
                  rcy_error *err);
  int (*frame_png)(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww, rcy_error *err);
  int (*thumbnail_png)(unsigned char **png_out, size_t *len_out, const char *path, int max_side, rcy_error *err);
  int (*key_image_png)(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                       const rcy_render_caliper *calipers, size_t n_calipers, rcy_error *err);
  int (*key_image_banner_png)(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                              const rcy_render_caliper *calipers, size_t n_calipers,
                              const rcy_render_key_banner *banner, rcy_error *err);
  int (*pdf_open)(rcy_pdf **out, const char *path, const char *title, const char *footer, rcy_error *err);
  int (*pdf_close)(rcy_pdf *pdf, rcy_error *err);
  void (*pdf_new_page)(rcy_pdf *pdf);
  void (*pdf_need)(rcy_pdf *pdf, double height);
  double (*pdf_width)(const rcy_pdf *pdf);
  void (*pdf_heading)(rcy_pdf *pdf, int level, const char *text);
  void (*pdf_paragraph)(rcy_pdf *pdf, const char *text);
  void (*pdf_space)(rcy_pdf *pdf, double points);
  void (*pdf_table)(rcy_pdf *pdf, const char *const *cells, size_t n_rows, size_t n_cols, const double *widths,
                    const rcy_rgb *const *fills);
  int (*pdf_picture)(rcy_pdf *pdf, const char *png_path, double max_w, double max_h, const char *caption,
                     rcy_error *err);
  void (*pdf_picture_row_end)(rcy_pdf *pdf);
  void (*pdf_plot)(rcy_pdf *pdf, const rcy_plot *plot, double height);
  int (*plot_png)(const char *path, const rcy_plot *plot, double width_pt, double height_pt, double scale,
                  rcy_error *err);
  void (*free)(void *png);
  void (*shutdown)(void);
  int (*dose_fused_png)(unsigned char **png, size_t *len, const rcy_dose_run *run, int slice, double ct_wc,
                        double ct_ww, double dose_max_gy, double opacity, int with_vois, rcy_error *err);
  int (*dose_colour_bar_png)(unsigned char **png, size_t *len, double dose_max_gy, int height_px, rcy_error *err);
} rcy_render_module_table;

#endif
