/* The program's drawing (include/recistry/render.h and dose.h's two pictures) without cairo, libpng or
 * fontconfig: each call loads recistry-render.so on first use and forwards to it (include/recistry/module.h), so
 * that commands that draw nothing never map those libraries (nor the X, freetype and pixman ones cairo brings).
 * A pdf or a png exists only once the module is loaded, so the functions without an error object that take one
 * need no check; freeing NULL and shutting down an unused module load nothing. */
#include "recistry/log.h"
#include "render_module.h"

RCY_MODULE_GETTER(render, "render", rcy_render_module_table)

static const rcy_render_module_table *loaded(void) { return render(NULL); }

#define FORWARD(call)                                          \
  do {                                                         \
    const rcy_render_module_table *m = render(err);            \
    return m ? m->call : render_slot.error.code;               \
  } while (0)

/* No error object: window/level into a caller's buffer is drawn only by the module's own code today; should a
 * caller outside it come, a missing module is logged and out left as it was. */
void rcy_render_window(uint8_t *out, const rcy_dicom_frame *frame, double wc, double ww) {
  const rcy_render_module_table *m = loaded();
  if (m) m->window(out, frame, wc, ww);
  else rcy_log(RCY_LOG_ERROR, "render", "%s", render_slot.error.message);
}

int rcy_render_png_gray(unsigned char **png_out, size_t *len_out, const uint8_t *gray, int width, int height,
                        rcy_error *err) {
  FORWARD(png_gray(png_out, len_out, gray, width, height, err));
}
int rcy_render_frame_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                         rcy_error *err) {
  FORWARD(frame_png(png_out, len_out, path, wc, ww, err));
}
int rcy_render_thumbnail_png(unsigned char **png_out, size_t *len_out, const char *path, int max_side,
                             rcy_error *err) {
  FORWARD(thumbnail_png(png_out, len_out, path, max_side, err));
}
int rcy_render_key_image_png(unsigned char **png_out, size_t *len_out, const char *path, double wc, double ww,
                             const rcy_render_caliper *calipers, size_t n_calipers, rcy_error *err) {
  FORWARD(key_image_png(png_out, len_out, path, wc, ww, calipers, n_calipers, err));
}
int rcy_render_key_image_banner_png(unsigned char **png_out, size_t *len_out, const char *path, double wc,
                                    double ww, const rcy_render_caliper *calipers, size_t n_calipers,
                                    const rcy_render_key_banner *banner, rcy_error *err) {
  FORWARD(key_image_banner_png(png_out, len_out, path, wc, ww, calipers, n_calipers, banner, err));
}

int rcy_pdf_open(rcy_pdf **out, const char *path, const char *title, const char *footer, rcy_error *err) {
  *out = NULL;
  FORWARD(pdf_open(out, path, title, footer, err));
}
int rcy_pdf_close(rcy_pdf *pdf, rcy_error *err) {
  if (!pdf) return RCY_OK;
  FORWARD(pdf_close(pdf, err));
}
void rcy_pdf_new_page(rcy_pdf *pdf) { loaded()->pdf_new_page(pdf); }
void rcy_pdf_need(rcy_pdf *pdf, double height) { loaded()->pdf_need(pdf, height); }
double rcy_pdf_width(const rcy_pdf *pdf) { return loaded()->pdf_width(pdf); }
void rcy_pdf_heading(rcy_pdf *pdf, int level, const char *text) { loaded()->pdf_heading(pdf, level, text); }
void rcy_pdf_paragraph(rcy_pdf *pdf, const char *text) { loaded()->pdf_paragraph(pdf, text); }
void rcy_pdf_space(rcy_pdf *pdf, double points) { loaded()->pdf_space(pdf, points); }
void rcy_pdf_table(rcy_pdf *pdf, const char *const *cells, size_t n_rows, size_t n_cols, const double *widths,
                   const rcy_rgb *const *fills) {
  loaded()->pdf_table(pdf, cells, n_rows, n_cols, widths, fills);
}
int rcy_pdf_picture(rcy_pdf *pdf, const char *png_path, double max_w, double max_h, const char *caption,
                    rcy_error *err) {
  FORWARD(pdf_picture(pdf, png_path, max_w, max_h, caption, err));
}
void rcy_pdf_picture_row_end(rcy_pdf *pdf) { loaded()->pdf_picture_row_end(pdf); }
void rcy_pdf_plot(rcy_pdf *pdf, const rcy_plot *plot, double height) { loaded()->pdf_plot(pdf, plot, height); }
int rcy_plot_png(const char *path, const rcy_plot *plot, double width_pt, double height_pt, double scale,
                 rcy_error *err) {
  FORWARD(plot_png(path, plot, width_pt, height_pt, scale, err));
}

void rcy_render_free(void *png) {
  if (png) loaded()->free(png);
}

/* Only a module that was loaded has caches to release: shutting down must not load cairo to do nothing. */
void rcy_render_shutdown(void) {
  const rcy_render_module_table *m = rcy_module_loaded(&render_slot);
  if (m) m->shutdown();
}

int rcy_dose_render_fused_png(unsigned char **png, size_t *len, const rcy_dose_run *run, int slice, double ct_wc,
                              double ct_ww, double dose_max_gy, double opacity, int with_vois, rcy_error *err) {
  *png = NULL;
  FORWARD(dose_fused_png(png, len, run, slice, ct_wc, ct_ww, dose_max_gy, opacity, with_vois, err));
}
int rcy_dose_render_colour_bar_png(unsigned char **png, size_t *len, double dose_max_gy, int height_px,
                                   rcy_error *err) {
  *png = NULL;
  FORWARD(dose_colour_bar_png(png, len, dose_max_gy, height_px, err));
}
