/* The CSV reader: RFC 4180 quoting (commas, doubled quotes and newlines inside quotes), a UTF-8 byte-order
 * mark, CRLF, the line each row starts on, and refusals (not UTF-8, NUL bytes, unclosed quotes, empty). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "recistry/csv.h"

typedef struct {
  char text[1024];
  int rows;
} collected;

/* Each row as "line:field|field|...;" so that a test compares one string. */
static int collect(void *ctx, long line, size_t n, char *const *fields) {
  collected *c = ctx;
  size_t at = strlen(c->text);
  at += (size_t)snprintf(c->text + at, sizeof c->text - at, "%ld:", line);
  for (size_t i = 0; i < n; i++)
    at += (size_t)snprintf(c->text + at, sizeof c->text - at, "%s%s", i ? "|" : "", fields[i]);
  snprintf(c->text + at, sizeof c->text - at, ";");
  c->rows++;
  return 0;
}

static int read_text(collected *c, const char *data, rcy_error *err) {
  memset(c, 0, sizeof *c);
  return rcy_csv_read_buffer("t.csv", data, strlen(data), collect, c, err);
}

static void quoted_fields_and_lines(void **state) {
  (void)state;
  collected c;
  rcy_error err = {0};
  assert_int_equal(read_text(&c, "\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",z\r\n\r\n\"two\nlines\",2,3\n4,5,6", &err), 0);
  assert_string_equal(c.text, "1:a|b|c;2:x, y|say \"hi\"|z;4:two\nlines|2|3;6:4|5|6;");
}

static void empty_fields_kept(void **state) {
  (void)state;
  collected c;
  rcy_error err = {0};
  assert_int_equal(read_text(&c, "a,,c\n,,\n", &err), 0);
  assert_string_equal(c.text, "1:a||c;2:||;");
}

static void refusals_name_the_line(void **state) {
  (void)state;
  collected c;
  rcy_error err = {0};
  assert_int_equal(read_text(&c, "a,b\n1,\"open\n", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "line 2: a quoted field is not closed"));
  assert_int_equal(read_text(&c, "a,b\n1,2\nx\"y\",3\n", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "line 3: malformed CSV"));
  assert_int_equal(read_text(&c, "a,b\n\xC3\x28,1\n", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "line 2: not UTF-8"));
  assert_int_equal(read_text(&c, "a,b\n\xC0\xAF,1\n", &err), RCY_EINVAL); /* overlong '/' */
  assert_int_equal(read_text(&c, "   \r\n\n", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "empty"));
  assert_int_equal(rcy_csv_read_buffer("t.csv", "a\0b\n", 4, collect, &c, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "NUL"));
  assert_int_equal(rcy_csv_read_file("/nonexistent/x.csv", collect, &c, &err), RCY_ENOTFOUND);
}

static int stop_at_two(void *ctx, long line, size_t n, char *const *fields) {
  (void)line, (void)n, (void)fields;
  return ++*(int *)ctx == 2 ? 7 : 0;
}

static void callback_stops_the_read(void **state) {
  (void)state;
  int seen = 0;
  rcy_error err = {0};
  assert_int_equal(rcy_csv_read_buffer("t.csv", "a\nb\nc\n", 6, stop_at_two, &seen, &err), 7);
  assert_int_equal(seen, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(quoted_fields_and_lines),
      cmocka_unit_test(empty_fields_kept),
      cmocka_unit_test(refusals_name_the_line),
      cmocka_unit_test(callback_stops_the_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
