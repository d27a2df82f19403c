// Pixels: decode the first frame of a stored instance into modality values (HU for CT), for rendering
// (window/level, PNG, key images). Compressed transfer syntaxes are decompressed in memory with DCMTK's
// JPEG, JPEG-LS and RLE decoders, registered once per process. The decoder (rcy_dicom_pixels::decode, any
// number of frames) is shared with volume_read.cc, which reads whole series for dosimetry.
#include "recistry/dicom.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "pixels_internal.h"

namespace rcy_dicom_pixels {

void register_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

int read_format(format *fmt, DcmDataset *ds, const char *path, rcy_error *err) {
  Uint16 rows = 0, cols = 0, spp = 1, alloc = 0, stored = 0, repr = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_SamplesPerPixel, spp);
  ds->findAndGetUint16(DCM_BitsAllocated, alloc);
  ds->findAndGetUint16(DCM_BitsStored, stored);
  ds->findAndGetUint16(DCM_PixelRepresentation, repr);
  if (rows == 0 || cols == 0) return rcy_error_set(err, RCY_EDICOM, "%s: no Rows/Columns", path);
  if (spp != 1) return rcy_error_set(err, RCY_EDICOM, "%s: colour images (%u samples/pixel) are not supported", path, spp);
  if (alloc != 8 && alloc != 16)
    return rcy_error_set(err, RCY_EDICOM, "%s: Bits Allocated %u is not supported (8 or 16)", path, alloc);
  if (stored == 0 || stored > alloc) stored = alloc;
  OFString photo;
  ds->findAndGetOFString(DCM_PhotometricInterpretation, photo);
  fmt->rows = rows;
  fmt->columns = cols;
  fmt->bits_allocated = alloc;
  fmt->bits_stored = stored;
  fmt->is_signed = repr == 1;
  fmt->monochrome1 = photo == "MONOCHROME1";
  return RCY_OK;
}

int decode(float *out, DcmDataset *ds, const format &fmt, size_t n_frames, double slope, double intercept,
           const char *path, rcy_error *err) {
  E_TransferSyntax xfer = ds->getOriginalXfer();
  if (DcmXfer(xfer).isEncapsulated()) {
    if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !ds->canWriteXfer(EXS_LittleEndianExplicit))
      return rcy_error_set(err, RCY_EDICOM, "%s: cannot decompress transfer syntax %s", path, DcmXfer(xfer).getXferID());
  }
  const size_t n = (size_t)fmt.rows * fmt.columns * n_frames;
  const unsigned stored = fmt.bits_stored;
  const uint32_t mask = stored >= 32 ? 0xffffffffu : ((1u << stored) - 1u);
  const int32_t sign_bit = (int32_t)(1u << (stored - 1));
  const bool is_signed = fmt.is_signed;
  // Stored value → masked to Bits Stored → sign-extended → Rescale Slope/Intercept.
  auto convert = [&](const auto *px, unsigned long count) {
    if (!px) return rcy_error_set(err, RCY_EDICOM, "%s: no Pixel Data", path);
    if (count < n)
      return rcy_error_set(err, RCY_EDICOM, "%s: Pixel Data shorter than %zu frame(s) of Rows x Columns", path,
                           n_frames);
    for (size_t i = 0; i < n; i++) {
      int32_t v = (int32_t)(px[i] & mask);
      if (is_signed && (v & sign_bit)) v -= 2 * sign_bit;
      out[i] = (float)(v * slope + intercept);
    }
    return (int)RCY_OK;
  };
  unsigned long count = 0;
  if (fmt.bits_allocated == 16) {
    const Uint16 *px = nullptr;
    if (ds->findAndGetUint16Array(DCM_PixelData, px, &count).bad()) px = nullptr;
    return convert(px, count);
  }
  const Uint8 *px = nullptr;
  if (ds->findAndGetUint8Array(DCM_PixelData, px, &count).bad()) px = nullptr;
  return convert(px, count);
}

}  // namespace rcy_dicom_pixels

namespace {

double get_double(DcmItem *ds, const DcmTagKey &tag, unsigned long pos, double fallback) {
  Float64 v;
  return ds->findAndGetFloat64(tag, v, pos).good() ? v : fallback;
}

int decode(rcy_dicom_frame *f, DcmDataset *ds, const char *path, rcy_error *err) {
  rcy_dicom_pixels::format fmt;
  int rc = rcy_dicom_pixels::read_format(&fmt, ds, path, err);
  if (rc) return rc;
  f->monochrome1 = fmt.monochrome1;
  f->rows = (int)fmt.rows;
  f->columns = (int)fmt.columns;
  f->pixel_spacing_row_mm = get_double(ds, DCM_PixelSpacing, 0, 0);
  f->pixel_spacing_col_mm = get_double(ds, DCM_PixelSpacing, 1, 0);
  f->window_center = get_double(ds, DCM_WindowCenter, 0, 0);
  f->window_width = get_double(ds, DCM_WindowWidth, 0, 0);
  double slope = get_double(ds, DCM_RescaleSlope, 0, 1), intercept = get_double(ds, DCM_RescaleIntercept, 0, 0);
  f->values = static_cast<float *>(std::malloc((size_t)fmt.rows * fmt.columns * sizeof(float)));
  if (!f->values) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  return rcy_dicom_pixels::decode(f->values, ds, fmt, 1, slope, intercept, path, err);
}

} // namespace

extern "C" int rcy_dicom_frame_load(rcy_dicom_frame **out, const char *path, rcy_error *err) {
  *out = nullptr;
  rcy_dicom_frame *f = static_cast<rcy_dicom_frame *>(std::calloc(1, sizeof *f));
  if (!f) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  int rc;
  try {
    rcy_dicom_pixels::register_codecs();
    DcmFileFormat file;
    OFCondition c = file.loadFile(path);
    if (c.bad()) rc = rcy_error_set(err, RCY_EDICOM, "%s: cannot read DICOM: %s", path, c.text());
    else rc = decode(f, file.getDataset(), path, err);
  } catch (const std::bad_alloc &) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory decoding %s", path);
  } catch (...) {
    rc = rcy_error_set(err, RCY_EDICOM, "%s: unexpected failure decoding pixels", path);
  }
  if (rc) {
    rcy_dicom_frame_free(f);
    return rc;
  }
  *out = f;
  return RCY_OK;
}

extern "C" void rcy_dicom_frame_free(rcy_dicom_frame *frame) {
  if (!frame) return;
  std::free(frame->values);
  std::free(frame);
}
