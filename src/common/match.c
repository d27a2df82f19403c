/* DICOM wildcard matching (PS3.4 C.2.2.2.4), shared by C-FIND and QIDO-RS. Greedy with one backtrack point
 * (the last '*'): a pattern cannot make it explode the way a recursive matcher does on "*a*a*a...b". */
#include "recistry/match.h"

int rcy_wildcard_match(const char *pat, const char *s) {
  const char *star = 0, *back = 0;
  while (*s) {
    if (*pat == '?' || (*pat && *pat != '*' && *pat == *s)) {
      pat++;
      s++;
    } else if (*pat == '*') {
      star = pat++;
      back = s;
    } else if (star) {
      pat = star + 1;
      s = ++back;
    } else {
      return 0;
    }
  }
  while (*pat == '*') pat++;
  return *pat == '\0';
}
