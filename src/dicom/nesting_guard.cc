// The nesting guard's scanner (see nesting_guard.h for why): a non-recursive walk over the element structure
// of received bytes, bounding sequence depth before DCMTK's recursive parser sees them.
#include "nesting_guard.h"

#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

namespace rcy_net {
namespace {

const uint64_t kUndefined = UINT64_MAX;
const uint32_t kUndefinedLength = 0xFFFFFFFFu;

bool is_item(uint16_t g, uint16_t e) { return g == 0xFFFE && e == 0xE000; }
bool is_item_end(uint16_t g, uint16_t e) { return g == 0xFFFE && e == 0xE00D; }
bool is_seq_end(uint16_t g, uint16_t e) { return g == 0xFFFE && e == 0xE0DD; }
bool is_delimiter(uint16_t g, uint16_t e) { return is_item(g, e) || is_item_end(g, e) || is_seq_end(g, e); }

// Where DCMTK reads an undefined-length OB/OW element as a fragment sequence (no nesting inside).
bool holds_fragments(uint16_t g, uint16_t e) {
  return (g == 0x7FE0 && e == 0x0010) || ((g & 0xFF00) == 0x6000 && e == 0x3000) || (g & 1);
}

DcmEVR dictionary_vr(uint16_t g, uint16_t e) { return DcmTag(g, e).getEVR(); }

}  // namespace

NestingScanner NestingScanner::for_transfer_syntax(const char *ts_uid, int max_depth) {
  DcmXfer x(ts_uid);
  Encoding enc = !x.isExplicitVR() ? kImplicitLE : x.getByteOrder() == EBO_BigEndian ? kExplicitBE : kExplicitLE;
  return NestingScanner(enc, x.getStreamCompression() == ESC_zlib, max_depth);
}

NestingScanner::NestingScanner(Encoding enc, bool deflated, int max_depth) : max_depth_(max_depth) {
  stack_[0] = Frame{kDataSet, enc, kUndefined, kUndefined};
  if (deflated) {
    z_ = new z_stream;
    memset(z_, 0, sizeof *z_);
    if (inflateInit2(z_, -MAX_WBITS) != Z_OK) {
      delete z_;
      z_ = nullptr;
      refuse(false, "cannot start inflating the deflated data set");
    }
  }
}

NestingScanner::NestingScanner(NestingScanner &&o) noexcept {
  memcpy(stack_, o.stack_, sizeof stack_);
  top_ = o.top_;
  depth_ = o.depth_;
  deepest_ = o.deepest_;
  max_depth_ = o.max_depth_;
  pos_ = o.pos_;
  state_ = o.state_;
  memcpy(hdr_, o.hdr_, sizeof hdr_);
  hdr_len_ = o.hdr_len_;
  hdr_need_ = o.hdr_need_;
  skip_ = o.skip_;
  peek_len_ = o.peek_len_;
  header_at_ = o.header_at_;
  refused_ = o.refused_;
  too_deep_ = o.too_deep_;
  memcpy(reason_, o.reason_, sizeof reason_);
  z_ = std::exchange(o.z_, nullptr);
}

NestingScanner::~NestingScanner() {
  if (z_) {
    inflateEnd(z_);
    delete z_;
  }
}

void NestingScanner::refuse(bool too_deep, const char *fmt, ...) {
  if (refused_) return;
  refused_ = true;
  too_deep_ = too_deep;
  state_ = kDone;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason_, sizeof reason_, fmt, ap);
  va_end(ap);
}

uint16_t NestingScanner::u16(const unsigned char *b, Encoding enc) const {
  return enc == kExplicitBE ? (uint16_t)(b[0] << 8 | b[1]) : (uint16_t)(b[1] << 8 | b[0]);
}

uint32_t NestingScanner::u32(const unsigned char *b, Encoding enc) const {
  return enc == kExplicitBE ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                            : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

bool NestingScanner::feed(const void *data, size_t len) {
  if (refused_ || state_ == kDone) return !refused_;
  if (!z_) {
    scan(static_cast<const unsigned char *>(data), len);
    return !refused_;
  }
  unsigned char out[16384];
  z_->next_in = (Bytef *)data;
  z_->avail_in = (uInt)len;  // callers feed network fragments, far below 4 GB
  for (;;) {
    z_->next_out = out;
    z_->avail_out = sizeof out;
    int r = inflate(z_, Z_NO_FLUSH);
    scan(out, sizeof out - z_->avail_out);
    if (refused_ || r == Z_STREAM_END) break;
    if (r != Z_OK && r != Z_BUF_ERROR) {
      refuse(false, "deflated data set cannot be inflated at byte %llu", (unsigned long long)pos_);
      break;
    }
    // A full output buffer may leave output pending inside zlib even with no input left: go on until
    // inflate stops short of filling it, so every inflated byte is scanned before DCMTK sees it.
    if (z_->avail_out != 0) break;
  }
  return !refused_;
}

bool NestingScanner::push(Kind kind, Encoding enc, uint64_t len) {
  const Frame &parent = stack_[top_];
  uint64_t end = len == kUndefinedLength ? kUndefined : pos_ + len;
  if (end != kUndefined && end > parent.limit) {
    refuse(false, "malformed sequence/item structure at byte %llu: length %llu crosses the end of its container",
           (unsigned long long)header_at_, (unsigned long long)len);
    return false;
  }
  if (kind == kSequence || kind == kFragments) {
    if (++depth_ > deepest_) deepest_ = depth_;
    if (depth_ > max_depth_) {
      refuse(true, "sequences nested deeper than %d (byte %llu)", max_depth_, (unsigned long long)header_at_);
      return false;
    }
  }
  if (top_ + 1 >= kStack) {  // items alternate with sequences, so the depth check fires first
    refuse(true, "sequences nested deeper than %d (byte %llu)", max_depth_, (unsigned long long)header_at_);
    return false;
  }
  stack_[++top_] = Frame{kind, enc, end, end < parent.limit ? end : parent.limit};
  return true;
}

void NestingScanner::close_finished() {
  while (top_ > 0 && stack_[top_].end == pos_) {
    if (stack_[top_].kind == kSequence || stack_[top_].kind == kFragments) depth_--;
    top_--;
  }
}

// A complete header is in hdr_ (hdr_len_ bytes); pos_ is just past it.
void NestingScanner::on_header() {
  Frame &f = stack_[top_];
  Encoding enc = f.enc;
  uint16_t g = u16(hdr_, enc), e = u16(hdr_ + 2, enc);
  hdr_len_ = 0;
  hdr_need_ = 4;
  if (pos_ > f.limit) {
    refuse(false, "malformed sequence/item structure at byte %llu: element header crosses the end of its item",
           (unsigned long long)header_at_);
    return;
  }
  if (f.kind == kSequence || f.kind == kFragments) {
    uint32_t len = u32(hdr_ + 4, enc);
    if (is_seq_end(g, e) && f.end == kUndefined) {
      depth_--;
      top_--;
    } else if (is_item(g, e) && f.kind == kSequence) {
      push(kItem, enc, len);
    } else if (is_item(g, e) && len != kUndefinedLength) {
      skip_ = len;  // a fragment
      if (pos_ + len > f.limit) {
        refuse(false, "malformed sequence/item structure at byte %llu: fragment longer than its sequence",
               (unsigned long long)header_at_);
        return;
      }
      state_ = kSkip;
    } else {
      refuse(false, "malformed sequence/item structure at byte %llu: (%04X,%04X) where an item was expected",
             (unsigned long long)header_at_, g, e);
    }
    return;
  }
  // In a data set or an item.
  if (is_item_end(g, e)) {
    if (f.kind == kItem && f.end == kUndefined) {
      top_--;
      return;
    }
    refuse(false, "malformed sequence/item structure at byte %llu: item delimiter outside an undefined-length item",
           (unsigned long long)header_at_);
    return;
  }
  if (is_delimiter(g, e)) {
    refuse(false, "malformed sequence/item structure at byte %llu: (%04X,%04X) inside an item",
           (unsigned long long)header_at_, g, e);
    return;
  }
  uint32_t len;
  DcmEVR vr;
  bool explicit_vr = enc != kImplicitLE;
  if (explicit_vr) {
    // Exactly DCMTK's reading of the VR and of the length field's size (DcmVR: unknown upper-case VRs are
    // "future" VRs with a 4-byte length, anything else a 2-byte one; "OX" on Pixel Data is taken as OW).
    char s[3] = {(char)hdr_[4], (char)hdr_[5], 0};
    DcmVR v(s);
    if (g == 0x7FE0 && e == 0x0010 && s[0] == 'O' && s[1] == 'X') v.setVR(EVR_OW);
    vr = v.getEVR();
    len = v.usesExtendedLengthEncoding() ? u32(hdr_ + 8, enc) : u16(hdr_ + 6, enc);
  } else {
    len = u32(hdr_ + 4, enc);
    vr = (g & 1) ? EVR_UNKNOWN : dictionary_vr(g, e);
  }
  if (len == kUndefinedLength) {
    if (vr == EVR_SQ) {
      push(kSequence, enc, len);
    } else if (vr == EVR_UN || vr == EVR_UNKNOWN || vr == EVR_UNKNOWN2B) {
      // DCMTK reads UN / unknown with undefined length as a sequence in implicit VR little endian (CP-246);
      // a private element in implicit VR may also be pixel data, whose fragments the scanner then sees as
      // items of a sequence: that over-approximates, never under-.
      push(kSequence, kImplicitLE, len);
    } else if ((vr == EVR_OB || vr == EVR_OW || vr == EVR_ox || vr == EVR_px) && holds_fragments(g, e)) {
      push(kFragments, enc, len);
    } else {
      refuse(false, "malformed sequence/item structure at byte %llu: undefined length for (%04X,%04X)",
             (unsigned long long)header_at_, g, e);
    }
    return;
  }
  if (pos_ + len > f.limit) {
    refuse(false, "malformed sequence/item structure at byte %llu: (%04X,%04X) longer than its item",
           (unsigned long long)header_at_, g, e);
    return;
  }
  if (vr == EVR_SQ) {
    push(kSequence, enc, len);
    return;
  }
  // Private elements in implicit VR (a private dictionary may call them SQ): a sequence if the value starts
  // with an item tag. (Defined-length UN in explicit VR stays opaque: dcmEnableUnknownVRConversion is off.)
  if (len >= 8 && !explicit_vr && (g & 1)) {
    peek_len_ = len;
    state_ = kPeek;
    return;
  }
  skip_ = len;
  state_ = kSkip;
}

// The first 4 bytes of a private / UN value are in hdr_; pos_ is just past them.
void NestingScanner::on_peek() {
  hdr_len_ = 0;
  if (hdr_[0] == 0xFE && hdr_[1] == 0xFF && hdr_[2] == 0x00 && hdr_[3] == 0xE0) {
    pos_ -= 4;  // the frame starts with these 4 bytes: they are the first item's tag
    if (!push(kSequence, kImplicitLE, peek_len_)) return;
    pos_ += 4;
    header_at_ = pos_ - 4;
    hdr_[0] = 0xFE, hdr_[1] = 0xFF, hdr_[2] = 0x00, hdr_[3] = 0xE0;
    hdr_len_ = 4;
    hdr_need_ = 8;
    state_ = kHeader;
    return;
  }
  skip_ = peek_len_ - 4;
  state_ = kSkip;
  hdr_need_ = 4;
}

void NestingScanner::scan(const unsigned char *p, size_t n) {
  while (!refused_ && state_ != kDone) {
    if (state_ == kSkip) {
      uint64_t k = skip_ < n ? skip_ : n;
      skip_ -= k;
      pos_ += k;
      p += k;
      n -= k;
      if (skip_ > 0) return;
      state_ = kHeader;
      hdr_need_ = 4;
      close_finished();
      continue;
    }
    if (n == 0) return;
    if (hdr_len_ == 0) header_at_ = pos_;
    size_t k = hdr_need_ - hdr_len_;
    if (k > n) k = n;
    memcpy(hdr_ + hdr_len_, p, k);
    hdr_len_ += k;
    pos_ += k;
    p += k;
    n -= k;
    if (hdr_len_ < hdr_need_) return;
    if (state_ == kPeek) {
      on_peek();
      continue;
    }
    const Frame &f = stack_[top_];
    if (hdr_need_ == 4) {
      uint16_t g = u16(hdr_, f.enc), e = u16(hdr_ + 2, f.enc);
      if (f.kind == kSequence || f.kind == kFragments || is_delimiter(g, e) || f.enc == kImplicitLE) {
        hdr_need_ = 8;
        continue;
      }
      hdr_need_ = 6;  // explicit VR: the VR decides the length field's size
      continue;
    }
    if (hdr_need_ == 6) {
      char s[3] = {(char)hdr_[4], (char)hdr_[5], 0};
      DcmVR v(s);
      if (s[0] == 'O' && s[1] == 'X') v.setVR(EVR_OW);  // as on_header(): same size either way
      hdr_need_ = v.usesExtendedLengthEncoding() ? 12 : 8;
      continue;
    }
    on_header();
    if (state_ == kHeader) close_finished();
  }
}

}  // namespace rcy_net
