// The nesting guard for whole Part 10 files (STOW-RS bodies): the network SCP scans a C-STORE data set as it
// streams in (nesting_guard.h says why DCMTK must not see deeper nesting); a file posted over HTTP arrives
// with its file meta header, so the header is walked here (explicit VR little endian, PS3.10 7.1) to find the
// transfer syntax, and the data set after it goes through the same scanner.
#include "recistry/dicom.h"

#include <cstring>
#include <string>

#include "guarded.h"
#include "nesting_guard.h"

using rcy_dicom_guard::guarded;

extern "C" int rcy_dicom_part10_guard(const void *bytes, size_t len, rcy_error *err) {
  return guarded(err, "Part 10 check", [&]() -> int {
    const unsigned char *p = static_cast<const unsigned char *>(bytes);
    if (len < 132 || std::memcmp(p + 128, "DICM", 4) != 0)
      return rcy_error_set(err, RCY_EDICOM, "not a DICOM Part 10 file (no preamble and DICM prefix)");
    size_t at = 132;
    std::string ts;
    while (at + 8 <= len && p[at] == 0x02 && p[at + 1] == 0x00) {
      unsigned element = p[at + 2] | (p[at + 3] << 8);
      char vr[3] = {(char)p[at + 4], (char)p[at + 5], 0};
      size_t value_len, head;
      bool long_form = !std::strcmp(vr, "OB") || !std::strcmp(vr, "OW") || !std::strcmp(vr, "SQ") ||
                       !std::strcmp(vr, "UN") || !std::strcmp(vr, "UT") || !std::strcmp(vr, "UC") ||
                       !std::strcmp(vr, "UR") || !std::strcmp(vr, "OF") || !std::strcmp(vr, "OD") ||
                       !std::strcmp(vr, "OL") || !std::strcmp(vr, "OV");
      if (long_form) {
        if (at + 12 > len) break;
        value_len = (size_t)p[at + 8] | ((size_t)p[at + 9] << 8) | ((size_t)p[at + 10] << 16) |
                    ((size_t)p[at + 11] << 24);
        head = 12;
      } else {
        value_len = p[at + 6] | (p[at + 7] << 8);
        head = 8;
      }
      if (value_len > len - at - head) return rcy_error_set(err, RCY_EDICOM, "file meta header truncated");
      if (element == 0x0010) {
        ts.assign(reinterpret_cast<const char *>(p + at + head), value_len);
        while (!ts.empty() && (ts.back() == '\0' || ts.back() == ' '))
          ts.pop_back();
      }
      at += head + value_len;
    }
    if (ts.empty()) return rcy_error_set(err, RCY_EDICOM, "file meta header without a Transfer Syntax UID");
    rcy_net::NestingScanner scan = rcy_net::NestingScanner::for_transfer_syntax(ts.c_str());
    if (!scan.feed(p + at, len - at) || scan.refused())
      return rcy_error_set(err, RCY_EDICOM, "data set refused: %s", scan.reason());
    return RCY_OK;
  });
}
