// Building and writing DICOM instances through DCMTK for the C side of recistry (the phantom generator).
// A dataset handle wraps either a root DcmFileFormat (owned) or an item inside a sequence of its root
// (borrowed; the root keeps the wrappers alive). Every extern "C" function catches all exceptions.
#include "guarded.h"
#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct rcy_dicom_dataset {
  std::unique_ptr<DcmFileFormat> file;  // set for a root dataset only
  DcmItem *item = nullptr;              // the root's DcmDataset, or a sequence item
  rcy_dicom_dataset *root = nullptr;    // self for a root
  std::vector<std::unique_ptr<rcy_dicom_dataset>> items;  // item handles handed out (root only)
};

namespace {

DcmTag make_tag(uint32_t tag) { return DcmTag(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xffff)); }

std::string tag_text(uint32_t tag) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", tag >> 16, tag & 0xffff);
  return buf;
}

int check_cond(const OFCondition &cond, uint32_t tag, const char *what, rcy_error *err) {
  if (cond.good()) return RCY_OK;
  return rcy_error_set(err, RCY_EDICOM, "%s %s: %s", what, tag_text(tag).c_str(), cond.text());
}

// Checks that the tag is in the dictionary (its VR must be known to build the element).
int known_vr(DcmEVR *vr, uint32_t tag, rcy_error *err) {
  DcmTag t = make_tag(tag);
  if (t.getEVR() == EVR_UNKNOWN || t.getEVR() == EVR_UNKNOWN2B)
    return rcy_error_set(err, RCY_EINVAL, "attribute %s is not in the DICOM dictionary", tag_text(tag).c_str());
  *vr = t.getEVR();
  return RCY_OK;
}

// DS holds at most 16 characters: use the most significant digits that fit.
int format_ds(char out[17], double v) {
  for (int prec = 10; prec >= 1; prec--) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strlen(buf) <= 16) {
      std::memcpy(out, buf, std::strlen(buf) + 1);
      return 0;
    }
  }
  return -1;
}

using rcy_dicom_guard::guarded;

int new_root(rcy_dicom_dataset **out, std::unique_ptr<DcmFileFormat> file) {
  auto ds = std::make_unique<rcy_dicom_dataset>();
  ds->file = std::move(file);
  ds->item = ds->file->getDataset();
  ds->root = ds.get();
  *out = ds.release();
  return RCY_OK;
}

int check_args(const rcy_dicom_dataset *ds, rcy_error *err) {
  if (!ds) return rcy_error_set(err, RCY_EINVAL, "no dataset");
  return RCY_OK;
}

int put_integer(DcmItem *item, const DcmTag &t, DcmEVR vr, double v, uint32_t tag, rcy_error *err) {
  if (v != std::floor(v)) return rcy_error_set(err, RCY_EINVAL, "attribute %s needs an integer, got %g", tag_text(tag).c_str(), v);
  struct range { DcmEVR vr; double lo, hi; };
  static const range ranges[] = {{EVR_US, 0, 65535}, {EVR_SS, -32768, 32767}, {EVR_UL, 0, 4294967295.0},
                                 {EVR_SL, -2147483648.0, 2147483647.0}, {EVR_IS, -2147483648.0, 2147483647.0}};
  for (const range &r : ranges)
    if (r.vr == vr && (v < r.lo || v > r.hi))
      return rcy_error_set(err, RCY_EINVAL, "attribute %s: %g out of range", tag_text(tag).c_str(), v);
  OFCondition c;
  switch (vr) {
    case EVR_US: c = item->putAndInsertUint16(t, static_cast<Uint16>(v)); break;
    case EVR_SS: c = item->putAndInsertSint16(t, static_cast<Sint16>(v)); break;
    case EVR_UL: c = item->putAndInsertUint32(t, static_cast<Uint32>(v)); break;
    case EVR_SL: c = item->putAndInsertSint32(t, static_cast<Sint32>(v)); break;
    default: {
      char buf[24];
      std::snprintf(buf, sizeof buf, "%.0f", v);
      c = item->putAndInsertString(t, buf);
    }
  }
  return check_cond(c, tag, "cannot set", err);
}

}  // namespace

extern "C" int rcy_dicom_dataset_new(rcy_dicom_dataset **out, rcy_error *err) {
  return guarded(err, "new dataset", [&]() -> int { return new_root(out, std::make_unique<DcmFileFormat>()); });
}

extern "C" int rcy_dicom_dataset_clone(rcy_dicom_dataset **out, const rcy_dicom_dataset *src, rcy_error *err) {
  if (check_args(src, err)) return RCY_EINVAL;
  return guarded(err, "clone dataset", [&]() -> int {
    auto file = std::make_unique<DcmFileFormat>();
    // Items clone as a dataset too: copy the attributes into the new root's dataset.
    DcmDataset *dst = file->getDataset();
    for (unsigned long i = 0; i < src->item->card(); i++) {
      DcmElement *e = src->item->getElement(i);
      DcmElement *copy = OFstatic_cast(DcmElement *, e->clone());
      OFCondition c = dst->insert(copy, OFTrue);
      if (c.bad()) {
        delete copy;
        return rcy_error_set(err, RCY_EDICOM, "clone dataset: %s", c.text());
      }
    }
    return new_root(out, std::move(file));
  });
}

extern "C" void rcy_dicom_dataset_free(rcy_dicom_dataset *ds) {
  if (!ds || ds->root != ds) return;
  delete ds;
}

extern "C" int rcy_dicom_dataset_set_string(rcy_dicom_dataset *ds, uint32_t tag, const char *value, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  if (!value) return rcy_error_set(err, RCY_EINVAL, "attribute %s: no value", tag_text(tag).c_str());
  return guarded(err, "set string", [&]() -> int {
    DcmEVR vr;
    if (int rc = known_vr(&vr, tag, err)) return rc;
    DcmTag t = make_tag(tag);
    OFCondition c = ds->item->putAndInsertString(t, value);
    if (c.good() && *value) {
      DcmElement *e = nullptr;
      if (ds->item->findAndGetElement(t, e).good() && e) {
        c = e->checkValue("1-n");
        if (c.bad())
          return rcy_error_set(err, RCY_EINVAL, "attribute %s: value does not conform to VR %s: %s",
                               tag_text(tag).c_str(), t.getVRName(), c.text());
      }
    }
    return check_cond(c, tag, "cannot set", err);
  });
}

extern "C" int rcy_dicom_dataset_set_number(rcy_dicom_dataset *ds, uint32_t tag, double value, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  if (!std::isfinite(value))
    return rcy_error_set(err, RCY_EINVAL, "attribute %s: value is not finite", tag_text(tag).c_str());
  return guarded(err, "set number", [&]() -> int {
    DcmEVR vr;
    if (int rc = known_vr(&vr, tag, err)) return rc;
    DcmTag t = make_tag(tag);
    switch (vr) {
      case EVR_US: case EVR_SS: case EVR_UL: case EVR_SL: case EVR_IS:
        return put_integer(ds->item, t, vr, value, tag, err);
      case EVR_FD: return check_cond(ds->item->putAndInsertFloat64(t, value), tag, "cannot set", err);
      case EVR_FL:
        return check_cond(ds->item->putAndInsertFloat32(t, static_cast<Float32>(value)), tag, "cannot set", err);
      case EVR_DS: {
        char buf[17];
        if (format_ds(buf, value))
          return rcy_error_set(err, RCY_EINVAL, "attribute %s: %g does not fit a DS", tag_text(tag).c_str(), value);
        return check_cond(ds->item->putAndInsertString(t, buf), tag, "cannot set", err);
      }
      default:
        return rcy_error_set(err, RCY_EINVAL, "attribute %s has VR %s, not a number", tag_text(tag).c_str(),
                             t.getVRName());
    }
  });
}

extern "C" int rcy_dicom_dataset_set_bytes(rcy_dicom_dataset *ds, uint32_t tag, const void *bytes, size_t size,
                                           rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  if (!bytes && size) return rcy_error_set(err, RCY_EINVAL, "attribute %s: no bytes", tag_text(tag).c_str());
  return guarded(err, "set bytes", [&]() -> int {
    DcmEVR vr;
    if (int rc = known_vr(&vr, tag, err)) return rc;
    if (vr != EVR_OB && vr != EVR_UN && vr != EVR_ox && vr != EVR_OW)
      return rcy_error_set(err, RCY_EINVAL, "attribute %s is not OB/OW", tag_text(tag).c_str());
    if (size > 0xfffffffeUL) return rcy_error_set(err, RCY_EINVAL, "attribute %s: too many bytes", tag_text(tag).c_str());
    DcmTag t = make_tag(tag);
    t.setVR(EVR_OB);
    return check_cond(ds->item->putAndInsertUint8Array(t, static_cast<const Uint8 *>(bytes),
                                                       static_cast<unsigned long>(size)),
                      tag, "cannot set", err);
  });
}

extern "C" int rcy_dicom_dataset_set_empty(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  return guarded(err, "set empty", [&]() -> int {
    DcmEVR vr;
    if (int rc = known_vr(&vr, tag, err)) return rc;
    return check_cond(ds->item->insertEmptyElement(make_tag(tag), OFTrue), tag, "cannot insert", err);
  });
}

extern "C" int rcy_dicom_dataset_remove(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  return guarded(err, "remove", [&]() -> int {
    OFCondition c = ds->item->findAndDeleteElement(make_tag(tag));
    if (c.bad() && c != EC_TagNotFound) return check_cond(c, tag, "cannot remove", err);
    return RCY_OK;
  });
}

extern "C" int rcy_dicom_dataset_add_item(rcy_dicom_dataset **item, rcy_dicom_dataset *ds, uint32_t seq_tag,
                                          rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  return guarded(err, "add item", [&]() -> int {
    DcmItem *it = nullptr;
    // Position -2 appends a new item (DcmItem::findOrCreateSequenceItem).
    OFCondition c = ds->item->findOrCreateSequenceItem(make_tag(seq_tag), it, -2);
    if (c.bad() || !it) return check_cond(c.bad() ? c : EC_IllegalCall, seq_tag, "cannot add item to", err);
    auto h = std::make_unique<rcy_dicom_dataset>();
    h->item = it;
    h->root = ds->root;
    *item = h.get();
    ds->root->items.push_back(std::move(h));
    return RCY_OK;
  });
}

namespace {
// frames == 0: a single-frame instance (no Number of Frames); otherwise Number of Frames is set and the frames
// follow each other in Pixel Data.
int set_pixels(rcy_dicom_dataset *ds, const Uint16 *words, uint16_t rows, uint16_t columns, uint32_t frames,
               bool is_signed, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  if (!words || !rows || !columns) return rcy_error_set(err, RCY_EINVAL, "pixel data: empty frame");
  const unsigned long long words_total =
      static_cast<unsigned long long>(rows) * columns * (frames ? frames : 1);
  // Pixel Data's 32-bit length (0xFFFFFFFF is the undefined length) bounds the native size.
  if (words_total * 2 >= 0xFFFFFFFFull)
    return rcy_error_set(err, RCY_EINVAL, "pixel data: %u frames of %ux%u exceed the 4 GiB element limit",
                         frames, static_cast<unsigned>(rows), static_cast<unsigned>(columns));
  return guarded(err, "set pixels", [&]() -> int {
    DcmItem *it = ds->item;
    OFCondition c = it->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    if (c.good() && frames) c = it->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    if (c.good()) c = it->putAndInsertUint16(DCM_Rows, rows);
    if (c.good()) c = it->putAndInsertUint16(DCM_Columns, columns);
    if (c.good()) c = it->putAndInsertUint16(DCM_BitsAllocated, 16);
    if (c.good()) c = it->putAndInsertUint16(DCM_BitsStored, 16);
    if (c.good()) c = it->putAndInsertUint16(DCM_HighBit, 15);
    if (c.good()) c = it->putAndInsertUint16(DCM_PixelRepresentation, is_signed ? 1 : 0);
    if (c.good()) {
      DcmTag t(DCM_PixelData);
      t.setVR(EVR_OW);
      c = it->putAndInsertUint16Array(t, words, static_cast<unsigned long>(words_total));
    }
    return check_cond(c, RCY_DICOM_TAG(0x7fe0, 0x0010), "cannot set", err);
  });
}
}  // namespace

extern "C" int rcy_dicom_dataset_set_pixels_int16(rcy_dicom_dataset *ds, const int16_t *pixels, uint16_t rows,
                                                  uint16_t columns, rcy_error *err) {
  // Same bits, OW storage: Pixel Representation 1 tells readers they are two's complement.
  return set_pixels(ds, reinterpret_cast<const Uint16 *>(pixels), rows, columns, 0, true, err);
}

extern "C" int rcy_dicom_dataset_set_pixels_uint16(rcy_dicom_dataset *ds, const uint16_t *pixels, uint16_t rows,
                                                   uint16_t columns, rcy_error *err) {
  return set_pixels(ds, pixels, rows, columns, 0, false, err);
}

extern "C" int rcy_dicom_dataset_set_pixels_uint16_frames(rcy_dicom_dataset *ds, const uint16_t *pixels,
                                                          uint16_t rows, uint16_t columns, uint32_t frames,
                                                          rcy_error *err) {
  if (!frames) return rcy_error_set(err, RCY_EINVAL, "pixel data: zero frames");
  return set_pixels(ds, pixels, rows, columns, frames, false, err);
}

extern "C" int rcy_dicom_dataset_write_file(rcy_dicom_dataset *ds, const char *path, rcy_error *err) {
  if (check_args(ds, err)) return RCY_EINVAL;
  if (ds->root != ds) return rcy_error_set(err, RCY_EINVAL, "write: a sequence item is not a file");
  if (!path || !*path) return rcy_error_set(err, RCY_EINVAL, "write: no path");
  return guarded(err, "write", [&]() -> int {
    OFString cls, inst;
    DcmDataset *d = ds->file->getDataset();
    if (d->findAndGetOFString(DCM_SOPClassUID, cls).bad() || cls.empty() ||
        d->findAndGetOFString(DCM_SOPInstanceUID, inst).bad() || inst.empty())
      return rcy_error_set(err, RCY_EINVAL, "write %s: SOP Class UID and SOP Instance UID must be set", path);
    std::string tmp = std::string(path) + ".tmp";
    // EWM_fileformat (re)builds the File Meta Information from the dataset: media storage SOP class and
    // instance, transfer syntax, DCMTK's implementation class UID and version name (all deterministic).
    OFCondition c = ds->file->saveFile(tmp.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_withoutGL,
                                       EPD_noChange, 0, 0, EWM_fileformat);
    if (c.bad()) {
      std::remove(tmp.c_str());
      return rcy_error_set(err, RCY_EIO, "write %s: %s", path, c.text());
    }
    if (std::rename(tmp.c_str(), path) != 0) {
      std::remove(tmp.c_str());
      return rcy_error_set(err, RCY_EIO, "write %s: rename failed", path);
    }
    return RCY_OK;
  });
}
