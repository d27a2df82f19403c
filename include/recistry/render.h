/* Render: stored frames to pictures for the reader workstation — window/level to 8 bits, PNG encoding
 * (libpng), thumbnails, and key images with the reader's calipers drawn on them (cairo).
 * Every PNG is returned as a malloc'ed buffer the caller releases with rcy_render_free. */
#ifndef RECISTRY_RENDER_H
#define RECISTRY_RENDER_H

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

void rcy_render_free(void *png);

/* Releases the process-wide font and cairo caches that key-image labels fill (fontconfig). Call once at
 * exit, when no thread renders any more; rendering after it is not allowed. */
void rcy_render_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
