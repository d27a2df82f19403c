// DICOMweb representations of a stored instance: its DICOM JSON (DCMTK's writeJson, with bulk data as
// BulkDataURI so that metadata replies stay small) and its frames uncompressed (WADO-RS frames and bulk
// data). The file is opened with a read limit, so pixel data is never loaded for metadata.
#include "recistry/dicom.h"

#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "guarded.h"
#include "pixels_internal.h"

using rcy_dicom_guard::guarded;

namespace {

// Values above this many bytes stay on disk until asked for (pixel data, mostly).
const Uint32 kLazyValueBytes = 4096;

bool is_bulk(const DcmTagKey &t) {
  return t == DCM_PixelData || t == DCM_FloatPixelData || t == DCM_DoubleFloatPixelData ||
         t == DCM_WaveformData ||
         (t.getGroup() >= 0x6000 && t.getGroup() <= 0x601e && t.getElement() == 0x3000);
}

struct BulkFormat : DcmJsonFormatCompact {
  std::string base; // empty: bulk data left out (the writer still needs a URI: an empty one)
  explicit BulkFormat(const char *b) : DcmJsonFormatCompact(OFFalse), base(b ? b : "") {}
  OFBool asBulkDataURI(const DcmTagKey &tag, OFString &uri) override {
    if (!is_bulk(tag)) return OFFalse;
    char hex[9];
    std::snprintf(hex, sizeof hex, "%04X%04X", tag.getGroup(), tag.getElement());
    uri = (base + "/" + hex).c_str();
    return OFTrue;
  }
};

int load(DcmFileFormat &ff, const char *path, Uint32 max_read, rcy_error *err) {
  OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, max_read);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "cannot read %s: %s", path, c.text());
  return RCY_OK;
}

} // namespace

extern "C" int rcy_dicom_json(char **json_out, const char *path, const char *bulk_uri_base, rcy_error *err) {
  *json_out = nullptr;
  return guarded(err, "DICOM JSON", [&]() -> int {
    DcmFileFormat ff;
    int rc = load(ff, path, kLazyValueBytes, err);
    if (rc) return rc;
    DcmDataset *ds = ff.getDataset();
    if (!bulk_uri_base) {
      delete ds->remove(DCM_PixelData);
      delete ds->remove(DCM_FloatPixelData);
      delete ds->remove(DCM_DoubleFloatPixelData);
    }
    BulkFormat fmt(bulk_uri_base);
    std::ostringstream out;
    out << '{'; // the data set writes its members only: the enclosing object is the caller's (as in dcm2json)
    OFCondition c = ds->writeJson(out, fmt);
    out << '}';
    if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "%s: cannot write DICOM JSON: %s", path, c.text());
    std::string s = out.str();
    *json_out = static_cast<char *>(std::malloc(s.size() + 1));
    if (!*json_out) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    std::memcpy(*json_out, s.c_str(), s.size() + 1);
    return RCY_OK;
  });
}

namespace {

int pixel_info(DcmPixelData **pd, DcmDataset *ds, unsigned *n_frames, Uint32 *frame_bytes, const char *path,
               rcy_error *err) {
  DcmElement *e = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, e).bad() || !e)
    return rcy_error_set(err, RCY_ENOTFOUND, "%s has no pixel data", path);
  *pd = OFstatic_cast(DcmPixelData *, e);
  Sint32 frames = 1;
  ds->findAndGetSint32(DCM_NumberOfFrames, frames);
  if (frames < 1) frames = 1;
  *n_frames = (unsigned)frames;
  if ((*pd)->getUncompressedFrameSize(ds, *frame_bytes).bad() || *frame_bytes == 0)
    return rcy_error_set(err, RCY_EDICOM, "%s: cannot size a frame (Rows, Columns, Bits Allocated?)", path);
  return RCY_OK;
}

} // namespace

extern "C" int rcy_dicom_frame_info(unsigned *n_frames, size_t *frame_bytes, const char *path,
                                    rcy_error *err) {
  *n_frames = 0;
  *frame_bytes = 0;
  return guarded(err, "frame info", [&]() -> int {
    DcmFileFormat ff;
    int rc = load(ff, path, kLazyValueBytes, err);
    if (rc) return rc;
    DcmPixelData *pd = nullptr;
    Uint32 fb = 0;
    rc = pixel_info(&pd, ff.getDataset(), n_frames, &fb, path, err);
    *frame_bytes = fb;
    return rc;
  });
}

extern "C" int rcy_dicom_frames_read(void **bytes_out, size_t *len_out, const char *path, unsigned first,
                                     unsigned n, rcy_error *err) {
  *bytes_out = nullptr;
  *len_out = 0;
  return guarded(err, "frames", [&]() -> int {
    rcy_dicom_pixels::register_codecs();
    DcmFileFormat ff;
    int rc = load(ff, path, kLazyValueBytes, err);
    if (rc) return rc;
    DcmDataset *ds = ff.getDataset();
    DcmPixelData *pd = nullptr;
    unsigned total = 0;
    Uint32 fb = 0;
    if ((rc = pixel_info(&pd, ds, &total, &fb, path, err))) return rc;
    if (first < 1 || n < 1 || first > total || n > total - first + 1)
      return rcy_error_set(err, RCY_ENOTFOUND, "frames %u..%u: the instance has %u", first, first + n - 1,
                           total);
    // getUncompressedFrame wants an even buffer; a frame of odd size (8-bit, odd rows x columns) gets a pad
    // byte.
    size_t stride = fb, buf_size = fb + (fb & 1);
    unsigned char *buf = static_cast<unsigned char *>(std::malloc(stride * n + 1));
    unsigned char *tmp = static_cast<unsigned char *>(std::malloc(buf_size));
    if (!buf || !tmp) {
      std::free(buf);
      std::free(tmp);
      return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    }
    Uint32 start_fragment = 0;
    for (unsigned i = 0; i < n; i++) {
      OFString colour;
      OFCondition c =
          pd->getUncompressedFrame(ds, first - 1 + i, start_fragment, tmp, (Uint32)buf_size, colour);
      if (c.bad()) {
        std::free(buf);
        std::free(tmp);
        return rcy_error_set(err, RCY_EDICOM, "%s: cannot decode frame %u (transfer syntax %s): %s", path,
                             first + i, DcmXfer(ds->getOriginalXfer()).getXferID(), c.text());
      }
      std::memcpy(buf + stride * i, tmp, stride);
    }
    std::free(tmp);
    *bytes_out = buf;
    *len_out = stride * n;
    return RCY_OK;
  });
}

extern "C" int rcy_dicom_tag_parse(rcy_dicom_tag *tag, const char *s) {
  *tag = 0;
  size_t n = std::strlen(s);
  if (n == 8 && std::strspn(s, "0123456789abcdefABCDEF") == 8) {
    *tag = (rcy_dicom_tag)std::strtoul(s, nullptr, 16);
    return RCY_OK;
  }
  rcy_error ignored = {};
  return guarded(&ignored, "tag lookup", [&]() -> int {
    DcmTag t;
    if (DcmTag::findTagFromName(s, t).bad()) return (int)RCY_ENOTFOUND;
    *tag = RCY_DICOM_TAG(t.getGroup(), t.getElement());
    return (int)RCY_OK;
  });
}
