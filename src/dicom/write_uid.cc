// Deterministic "2.25." UIDs for synthetic data (PS3.5 B.2: a UUID written as one decimal integer).
// The 128 bits come from two independent 64-bit FNV-1a hashes of the key, each passed through a
// MurmurHash3 finaliser so nearby keys ("...-slice-1", "...-slice-2") spread over the whole range;
// the version/variant bits are then set as for a random (version 4) UUID.
#include "recistry/dicom.h"

#include <cstring>

namespace {
uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

uint64_t fnv1a(const char *s, uint64_t basis) {
  uint64_t h = basis;
  for (; *s; s++) {
    h ^= static_cast<unsigned char>(*s);
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

extern "C" void rcy_dicom_uid_from_key(char uid[RCY_DICOM_UID_SIZE], const char *key) {
  if (!key) key = "";
  uint64_t hi = fmix64(fnv1a(key, 0xcbf29ce484222325ULL));
  uint64_t lo = fmix64(fnv1a(key, 0x84222325cbf29ce4ULL) ^ 0x9e3779b97f4a7c15ULL);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                              // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;      // variant 10
  unsigned __int128 v = (static_cast<unsigned __int128>(hi) << 64) | lo;
  char digits[40];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v);
  std::memcpy(uid, "2.25.", 5);
  for (int i = 0; i < n; i++) uid[5 + i] = digits[n - 1 - i];
  uid[5 + n] = '\0';
}
