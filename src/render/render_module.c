/* The render module's one export: its table (render_module.h), pointing at rcy_render's functions and dose's
 * render_fused.c, linked into recistry-render.so with cairo, libpng and fontconfig. */
#include "render_module.h"

const rcy_render_module_table rcy_render_module = {
    RCY_MODULE_HEADER("render", rcy_render_module_table),
    rcy_render_window,
    rcy_render_png_gray,
    rcy_render_frame_png,
    rcy_render_thumbnail_png,
    rcy_render_key_image_png,
    rcy_render_key_image_banner_png,
    rcy_pdf_open,
    rcy_pdf_close,
    rcy_pdf_new_page,
    rcy_pdf_need,
    rcy_pdf_width,
    rcy_pdf_heading,
    rcy_pdf_paragraph,
    rcy_pdf_space,
    rcy_pdf_table,
    rcy_pdf_picture,
    rcy_pdf_picture_row_end,
    rcy_pdf_plot,
    rcy_plot_png,
    rcy_render_free,
    rcy_render_shutdown,
    rcy_dose_render_fused_png,
    rcy_dose_render_colour_bar_png,
};
