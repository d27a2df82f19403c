/* Response names and calendar dates: the small conversions every caller of the engine needs.
 * Dates are counted in whole days since 1970-01-01 (proleptic Gregorian) so that intervals such as
 * "≥ 28 days after" are plain integer subtractions. */
#include "recistry/recist.h"

#include <string.h>

static const char *const response_names[RCY_RECIST_RESPONSE_COUNT] = {
    NULL, "CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE", "NONE"};

const char *rcy_recist_response_name(rcy_recist_response response) {
  if ((int)response < 0 || (int)response >= RCY_RECIST_RESPONSE_COUNT) return NULL;
  return response_names[response];
}

int rcy_recist_response_parse(rcy_recist_response *out, const char *name) {
  for (int i = 1; name && i < RCY_RECIST_RESPONSE_COUNT; i++) {
    if (strcmp(name, response_names[i]) == 0) {
      *out = (rcy_recist_response)i;
      return 0;
    }
  }
  return RCY_EINVAL;
}

/* Howard Hinnant's days_from_civil / civil_from_days: exact over the whole proleptic calendar. */
static int32_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dim[m - 1];
}

int rcy_recist_date_parse(int32_t *out_days, const char *iso, rcy_error *err) {
  if (!iso) return rcy_error_set(err, RCY_EINVAL, "missing date (expected YYYY-MM-DD)");
  int v[3] = {0, 0, 0};
  static const int len[3] = {4, 2, 2};
  const char *p = iso;
  for (int f = 0; f < 3; f++) {
    for (int i = 0; i < len[f]; i++, p++) {
      if (*p < '0' || *p > '9') goto bad;
      v[f] = v[f] * 10 + (*p - '0');
    }
    if (f < 2 && *p++ != '-') goto bad;
  }
  if (*p != '\0' || v[0] < 1 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > days_in_month(v[0], v[1]))
    goto bad;
  *out_days = days_from_civil(v[0], v[1], v[2]);
  return 0;
bad:
  return rcy_error_set(err, RCY_EINVAL, "invalid date '%.40s' (expected a real day as YYYY-MM-DD)", iso);
}

void rcy_recist_date_format(char buf[11], int32_t days) {
  const int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  int y = yoe + era * 400 + (m <= 2);
  if (y < 0) y = 0;
  if (y > 9999) y = 9999;
  buf[0] = (char)('0' + y / 1000);
  buf[1] = (char)('0' + y / 100 % 10);
  buf[2] = (char)('0' + y / 10 % 10);
  buf[3] = (char)('0' + y % 10);
  buf[4] = '-';
  buf[5] = (char)('0' + m / 10);
  buf[6] = (char)('0' + m % 10);
  buf[7] = '-';
  buf[8] = (char)('0' + d / 10);
  buf[9] = (char)('0' + d % 10);
  buf[10] = '\0';
}
