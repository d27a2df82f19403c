// Shared by the lesion segmentation (lesion_segment.cc) and the mask measurement (lesion_measure.cc).
#ifndef RECISTRY_IMAGING_LESION_INTERNAL_H
#define RECISTRY_IMAGING_LESION_INTERNAL_H

#include "recistry/imaging.h"

namespace rcy_lesion {
// Fills contours, diameters, volume, first/last slice of out from mask (slab-sized, 0/1) and level (may be
// NULL). Throws std::bad_alloc; RCY_ENOTFOUND for an empty mask.
int measure(rcy_imaging_lesion *out, const rcy_imaging_slab *slab, const uint8_t *mask, const float *level,
            rcy_error *err);
}  // namespace rcy_lesion

#endif
