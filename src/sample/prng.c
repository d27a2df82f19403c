/* Seeded pseudo-random numbers (splitmix64) and calendar arithmetic for the phantom generator.
 * Each stream is keyed by (seed, text key), so a subject, a slice or a read always gets the same numbers
 * whatever else is generated, which is what makes the sample set byte-reproducible. */
#include "sample_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void prng_init(prng *r, uint64_t seed, const char *key) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (const char *p = key; p && *p; p++) {
    h ^= (unsigned char)*p;
    h *= 0x100000001b3ULL;
  }
  r->state = h;
  (void)splitmix(&r->state);
}

double prng_uniform(prng *r, double lo, double hi) {
  return lo + (hi - lo) * ((double)(prng_next(r) >> 11) / 9007199254740992.0);
}

int prng_int(prng *r, int lo, int hi_inclusive) {
  return lo + (int)(prng_next(r) % (uint64_t)(hi_inclusive - lo + 1));
}

/* Howard Hinnant's days_from_civil. */
int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void format_date(char *out, size_t size, const char *fmt, int64_t days) {
  int y, m, d;
  char buf[40];
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, sizeof buf, fmt, y % 10000, m, d);
  memcpy(out, buf, size - 1);
  out[size - 1] = '\0';
}

void format_iso_date(char out[11], int64_t days) { format_date(out, 11, "%04d-%02d-%02d", days); }

void format_dicom_date(char out[9], int64_t days) { format_date(out, 9, "%04d%02d%02d", days); }

double round1(double v) { return round(v * 10.0) / 10.0; }
