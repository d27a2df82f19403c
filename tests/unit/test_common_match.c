/* DICOM wildcard matching (src/common/match.c), the one C-FIND and QIDO-RS share: PS3.4 C.2.2.2.4's cases,
 * and patterns that make a recursive matcher take exponential time (a peer's query must not hang a thread:
 * before, src/ingest/qr.c recursed on every '*'). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recistry/match.h"

static void dicom_cases(void **state) {
  (void)state;
  assert_true(rcy_wildcard_match("CIREL-014-*", "CIREL-014-0001"));
  assert_false(rcy_wildcard_match("CIREL-014-*", "CIREL-027-0001"));
  assert_true(rcy_wildcard_match("*", ""));
  assert_true(rcy_wildcard_match("*", "anything"));
  assert_true(rcy_wildcard_match("C?", "CT"));
  assert_false(rcy_wildcard_match("C?", "C"));
  assert_false(rcy_wildcard_match("C?", "CTA"));
  assert_true(rcy_wildcard_match("*0001", "CIREL-014-0001"));
  assert_true(rcy_wildcard_match("C*-*-0?01", "CIREL-014-0001"));
  assert_false(rcy_wildcard_match("ct", "CT")); /* case-sensitive (PS3.4: except PN, not matched here) */
  assert_true(rcy_wildcard_match("", ""));
  assert_false(rcy_wildcard_match("", "CT"));
  assert_true(rcy_wildcard_match("**T", "CT"));
  assert_true(rcy_wildcard_match("a*b*c", "axxbyyc"));
  assert_false(rcy_wildcard_match("a*b*c", "axxbyy"));
}

static void no_exponential_backtracking(void **state) {
  (void)state;
  char s[201];
  memset(s, 'a', 200);
  s[200] = '\0';
  /* 40 stars against 200 characters: ~10^40 paths for a recursive matcher; no match. */
  char pat[128] = "";
  for (int i = 0; i < 40; i++) strcat(pat, "*a");
  strcat(pat, "b");
  assert_false(rcy_wildcard_match(pat, s));
  s[199] = 'b';
  assert_true(rcy_wildcard_match(pat, s));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(dicom_cases), cmocka_unit_test(no_exponential_backtracking)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
