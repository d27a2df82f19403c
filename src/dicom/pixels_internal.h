// Shared by pixels.cc (one frame for rendering) and volume_read.cc (whole series for dosimetry): the one
// place that turns stored pixel values (native or compressed) into modality values.
#ifndef RCY_DICOM_PIXELS_INTERNAL_H
#define RCY_DICOM_PIXELS_INTERNAL_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include <cstddef>

#include "recistry/error.h"

namespace rcy_dicom_pixels {

// The Image Pixel module as far as decoding needs it.
struct format {
  unsigned rows = 0, columns = 0;
  unsigned bits_allocated = 0, bits_stored = 0;
  bool is_signed = false;
  bool monochrome1 = false;
};

// Registers DCMTK's JPEG, JPEG-LS and RLE decoders once per process (thread-safe).
void register_codecs();

// Reads and checks the pixel format of ds: monochrome (1 sample), 8 or 16 bits allocated, Rows/Columns set.
// RCY_EDICOM naming path otherwise.
int read_format(format *fmt, DcmDataset *ds, const char *path, rcy_error *err);

// Decodes the first n_frames frames of ds (rows x columns each, one after the other in Pixel Data) into out
// (n_frames * rows * columns floats): stored value masked to Bits Stored, sign-extended, then
// value * slope + intercept. Compressed transfer syntaxes are decompressed in memory first. RCY_EDICOM naming
// path when there is no Pixel Data, it is shorter than n_frames frames, or it cannot be decompressed.
int decode(float *out, DcmDataset *ds, const format &fmt, size_t n_frames, double slope, double intercept,
           const char *path, rcy_error *err);

} // namespace rcy_dicom_pixels

#endif
