/* Shared by the render module's files. Not public. */
#ifndef RECISTRY_RENDER_INTERNAL_H
#define RECISTRY_RENDER_INTERNAL_H

#include "recistry/dicom.h"

/* The window to use when *ww <= 0: the instance's own, else RCY_RENDER_DEFAULT_WC/WW. */
void rcy_render_pick_window(double *wc, double *ww, const rcy_dicom_frame *f);

#endif
