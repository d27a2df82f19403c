/* Small helpers for the reading side of the store: clock, hashing, randomness (libsodium). */
#include "reads_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <time.h>

void rcy_reads_now_iso(char *buf, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

void rcy_reads_sha256_hex(char *out, const void *data, size_t len) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, data, len);
  sodium_bin2hex(out, 65, h, sizeof h);
}

int rcy_reads_random_hex(char *out, size_t n) {
  if (sodium_init() < 0) return -1;
  unsigned char buf[64];
  if (n > sizeof buf) return -1;
  randombytes_buf(buf, n);
  sodium_bin2hex(out, 2 * n + 1, buf, n);
  sodium_memzero(buf, sizeof buf);
  return 0;
}
