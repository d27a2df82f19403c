// The nesting guard: bounds how deep sequences nest in bytes received from the network, before DCMTK parses
// them (not public).
//
// Why it exists: DCMTK 3.6.7 parses sequences and items recursively with no depth limit, so a data set (or a
// DIMSE command set) of a few hundred KB holding thousands of nested sequences overflows the parsing
// thread's stack and kills the whole process (upstream DCMTK added a limit of 64 in 2026, bug #1191; Debian's
// 3.6.7 does not have it). The scanner walks the element structure (tags and lengths only; values are
// skipped) as the bytes stream in, with an explicit stack instead of recursion, and refuses a data set whose
// sequences nest deeper than the limit or whose sequence/item structure is inconsistent (an element longer
// than its item, an item outside a sequence, a delimiter where none can be), because past such a point its
// depth can no longer be known. Depth counts sequences, as DCMTK does: a sequence inside an item of a
// top-level sequence is depth 2. Which elements are sequences follows DCMTK's reader: VR SQ; UN or an
// unknown VR with undefined length (read as implicit VR little endian, CP-246); in implicit VR, what the data
// dictionary calls SQ; and, over-approximating, a private or UN element whose value starts with an item tag.
// Undefined-length Pixel Data (and overlay / private OB or OW) holds fragments, which do not nest.
//
// Push-style: feed() the data set's bytes in any fragments; deflated transfer syntaxes are inflated on the
// way (zlib, raw deflate). Memory is constant.
#ifndef RECISTRY_DICOM_NESTING_GUARD_H
#define RECISTRY_DICOM_NESTING_GUARD_H

#include <cstddef>
#include <cstdint>

#include <zlib.h>

namespace rcy_net {

// Deepest sequence nesting accepted (the same as upstream DCMTK's default). Real data needs far less: CT/MR
// 1-3, enhanced multi-frame and SEG 3-4, SR content trees one level per tree level (TID 1500: about 6).
constexpr int kMaxSequenceNesting = 64;

class NestingScanner {
 public:
  enum Encoding { kImplicitLE, kExplicitLE, kExplicitBE };

  // For the data set of a C-STORE in transfer syntax ts_uid (DcmXfer decides encoding and compression).
  static NestingScanner for_transfer_syntax(const char *ts_uid, int max_depth = kMaxSequenceNesting);
  NestingScanner(Encoding enc, bool deflated, int max_depth = kMaxSequenceNesting);
  ~NestingScanner();
  NestingScanner(NestingScanner &&other) noexcept;
  NestingScanner(const NestingScanner &) = delete;
  NestingScanner &operator=(const NestingScanner &) = delete;

  // The next bytes of the data set. Returns false once the data set is refused; later bytes are ignored.
  bool feed(const void *data, size_t len);
  bool refused() const { return refused_; }
  bool too_deep() const { return too_deep_; }
  // Why it was refused, for the log (no value of the data set in it): "sequences nested deeper than 64
  // (byte 1234)" or "malformed sequence/item structure at byte 1234: ...".
  const char *reason() const { return reason_; }
  int deepest() const { return deepest_; }  // deepest nesting seen so far

 private:
  enum Kind : uint8_t { kDataSet, kItem, kSequence, kFragments };
  struct Frame {
    Kind kind;
    Encoding enc;  // how the elements inside are encoded
    uint64_t end;  // absolute offset where the frame ends; UINT64_MAX when its length is undefined
    uint64_t limit;  // min(end, parent's limit): nothing inside may cross it
  };
  enum State : uint8_t { kHeader, kSkip, kPeek, kDone };

  void scan(const unsigned char *p, size_t n);
  void on_header();
  void on_peek();
  bool push(Kind kind, Encoding enc, uint64_t len);
  void close_finished();
  void refuse(bool too_deep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
  uint16_t u16(const unsigned char *b, Encoding enc) const;
  uint32_t u32(const unsigned char *b, Encoding enc) const;

  static const int kStack = 2 * kMaxSequenceNesting + 8;
  Frame stack_[kStack];
  int top_ = 0;
  int depth_ = 0;
  int deepest_ = 0;
  int max_depth_;
  uint64_t pos_ = 0;
  State state_ = kHeader;
  unsigned char hdr_[12];
  size_t hdr_len_ = 0, hdr_need_ = 4;
  uint64_t skip_ = 0;
  uint64_t peek_len_ = 0;  // length of the element being peeked at
  uint64_t header_at_ = 0;
  bool refused_ = false, too_deep_ = false;
  char reason_[160] = "";
  z_stream *z_ = nullptr;  // deflated transfer syntax
};

}  // namespace rcy_net

#endif
