/* DICOMweb requests (src/dicomweb): splitting STOW-RS bodies (boundaries, part types, truncation), the STOW
 * reply (sequences, FailureReason, HTTP status), frame lists, and which QIDO parameters are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "recistry/dicomweb.h"

static const char *CT = "multipart/related; type=\"application/dicom\"; boundary=XyZ";

static void split_two_parts(void **state) {
  (void)state;
  const char body[] =
      "--XyZ\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n--XyZ\r\n\r\nB\r\nB\r\n--XyZ--\r\n";
  rcy_dicomweb_part *p;
  size_t n;
  rcy_error err = {0};
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, CT, body, sizeof body - 1, &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(p[0].len, 3);
  assert_memory_equal(p[0].data, "AAA", 3);
  assert_int_equal(p[1].len, 4); /* a CRLF inside a part is data */
  assert_memory_equal(p[1].data, "B\r\nB", 4);
  free(p);
}

static void split_refusals(void **state) {
  (void)state;
  rcy_dicomweb_part *p = NULL;
  size_t n;
  rcy_error err = {0};
  const char ok[] = "--XyZ\r\n\r\nA\r\n--XyZ--";
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, "application/dicom", ok, sizeof ok - 1, &err),
                   RCY_EINVAL);
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, "multipart/related; type=\"application/dicom\"", ok,
                                                sizeof ok - 1, &err),
                   RCY_EINVAL);
  assert_non_null(strstr(err.message, "boundary"));
  assert_int_equal(
      rcy_dicomweb_multipart_split(&p, &n, "multipart/related; type=\"application/dicom+json\"; boundary=XyZ",
                                   ok, sizeof ok - 1, &err),
      RCY_EINVAL);
  const char unclosed[] = "--XyZ\r\n\r\nAAAA";
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, CT, unclosed, sizeof unclosed - 1, &err), RCY_EINVAL);
  const char json_part[] = "--XyZ\r\nContent-Type: application/json\r\n\r\n{}\r\n--XyZ--";
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, CT, json_part, sizeof json_part - 1, &err),
                   RCY_EINVAL);
  const char none[] = "nothing here";
  assert_int_equal(rcy_dicomweb_multipart_split(&p, &n, CT, none, sizeof none - 1, &err), RCY_EINVAL);
  assert_null(p);
}

static unsigned finish(rcy_stow_reply *r, json_t **body) {
  unsigned status = 0;
  *body = rcy_dicomweb_stow_reply_finish(r, &status);
  rcy_dicomweb_stow_reply_free(r);
  return status;
}

static void stow_reply(void **state) {
  (void)state;
  rcy_stow_reply *r;
  json_t *b;
  assert_int_equal(rcy_dicomweb_stow_reply_new(&r, "http://h/dicomweb", NULL), 0);
  rcy_dicomweb_stow_reply_add(r, "1.2.3", "1.2.3.4", "1.2.9", 0);
  assert_int_equal(finish(r, &b), 200);
  json_t *item = json_array_get(json_object_get(json_object_get(b, "00081199"), "Value"), 0);
  assert_string_equal(
      json_string_value(json_array_get(json_object_get(json_object_get(item, "00081155"), "Value"), 0)),
      "1.2.3.4");
  assert_string_equal(
      json_string_value(json_array_get(json_object_get(json_object_get(item, "00081190"), "Value"), 0)),
      "http://h/dicomweb/studies/1.2.9/instances/1.2.3.4");
  assert_null(json_object_get(b, "00081198"));
  json_decref(b);

  assert_int_equal(rcy_dicomweb_stow_reply_new(&r, "http://h/dicomweb", NULL), 0);
  rcy_dicomweb_stow_reply_add(r, "1.2.3", "1.2.3.4", "1.2.9", 0);
  rcy_dicomweb_stow_reply_add(r, "1.2.3", "1.2.3.5", "1.2.9", 0xC001);
  assert_int_equal(finish(r, &b), 202);
  item = json_array_get(json_object_get(json_object_get(b, "00081198"), "Value"), 0);
  assert_int_equal(
      json_integer_value(json_array_get(json_object_get(json_object_get(item, "00081197"), "Value"), 0)),
      0xC001);
  json_decref(b);

  assert_int_equal(rcy_dicomweb_stow_reply_new(&r, "http://h/dicomweb", NULL), 0);
  rcy_dicomweb_stow_reply_add(r, "", "", "", 0xC000);
  assert_int_equal(finish(r, &b), 409);
  json_decref(b);
}

static void frame_lists(void **state) {
  (void)state;
  unsigned *f;
  size_t n;
  rcy_error err = {0};
  assert_int_equal(rcy_dicomweb_frame_list(&f, &n, "1,3,17", &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(f[2], 17);
  free(f);
  const char *bad[] = {"", "0", "1,", ",1", "-1", "1;2", "a", "1,,2", "+1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (rcy_dicomweb_frame_list(&f, &n, bad[i], &err) != RCY_EINVAL)
      fail_msg("frame list '%s' accepted", bad[i]);
}

static int parse(const char *key, const char *value) {
  rcy_qido_query *q = NULL;
  rcy_error err = {0};
  const char *k[] = {key}, *v[] = {value};
  int rc = rcy_dicomweb_qido_parse(&q, RCY_QIDO_STUDY, NULL, NULL, k, v, 1, &err);
  rcy_dicomweb_qido_free(q);
  return rc;
}

static void qido_parameters(void **state) {
  (void)state;
  assert_int_equal(parse("PatientID", "CIREL-*"), 0);
  assert_int_equal(parse("00100020", "X"), 0);
  assert_int_equal(parse("StudyDate", "20240101-20240301"), 0);
  assert_int_equal(parse("StudyDate", "-20240301"), 0);
  assert_int_equal(parse("StudyDate", "2024"), RCY_EINVAL);
  assert_int_equal(parse("StudyDate", "20240101-2024"), RCY_EINVAL);
  assert_int_equal(parse("limit", "-1"), RCY_EINVAL);
  assert_int_equal(parse("limit", "10"), 0);
  assert_int_equal(parse("fuzzymatching", "true"), 0);
  assert_int_equal(parse("includefield", "all"), 0);
  assert_int_equal(parse("includefield", "PatientName,00081030"), 0);
  assert_int_equal(parse("includefield", "NoSuchKeyword"), RCY_EINVAL);
  assert_int_equal(parse("NoSuchKeyword", "1"), RCY_EINVAL);
  assert_int_equal(parse("ReferencedSeriesSequence.SeriesInstanceUID", "1.2"), RCY_EINVAL);
  assert_int_equal(parse("SeriesNumber", "x"), RCY_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(split_two_parts), cmocka_unit_test(split_refusals),  cmocka_unit_test(stow_reply),
      cmocka_unit_test(frame_lists),     cmocka_unit_test(qido_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
