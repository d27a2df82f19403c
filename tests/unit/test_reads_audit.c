/* The audit viewer's rules (src/reads/audit_view.c): the fields that changed between a row's before and
 * after, the checks of each user-given parameter (the message names it), and who may read the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "recistry/reads.h"

static json_t *changes_of(const char *before, const char *after, int *truncated) {
  json_t *b = before ? json_loads(before, JSON_DECODE_ANY, NULL) : NULL;
  json_t *a = after ? json_loads(after, JSON_DECODE_ANY, NULL) : NULL;
  json_t *c = rcy_reads_audit_changes(b, a, truncated);
  json_decref(b);
  json_decref(a);
  return c;
}

static void assert_changes(const char *before, const char *after, const char *want) {
  json_t *c = changes_of(before, after, NULL), *w = json_loads(want, 0, NULL);
  char *got = json_dumps(c, JSON_COMPACT);
  if (!json_equal(c, w)) fail_msg("changes of %s -> %s: %s, want %s", before, after, got, want);
  free(got);
  json_decref(c);
  json_decref(w);
}

static void changes_list_only_the_fields_that_differ(void **state) {
  (void)state;
  /* nested objects key by key; points as one value; an unchanged field is left out */
  assert_changes("{\"diameter_mm\":30,\"measurement\":{\"p1\":[1,2],\"p2\":[3,4],\"sop\":\"x\"}}",
                 "{\"diameter_mm\":28.5,\"measurement\":{\"p1\":[1,2],\"p2\":[3,5],\"sop\":\"x\"}}",
                 "[{\"path\":[\"diameter_mm\"],\"before\":30,\"after\":28.5},"
                 "{\"path\":[\"measurement\",\"p2\"],\"before\":[3,4],\"after\":[3,5]}]");
  /* absent and null are the same; a key on one side only is null on the other */
  assert_changes("{\"state\":null,\"a\":1}", "{\"a\":1,\"b\":\"x\"}",
                 "[{\"path\":[\"b\"],\"before\":null,\"after\":\"x\"}]");
  /* no before: every field of after, sorted by key */
  assert_changes(NULL, "{\"z\":1,\"a\":{\"k\":true}}",
                 "[{\"path\":[\"a\",\"k\"],\"before\":null,\"after\":true},{\"path\":[\"z\"],\"before\":null,"
                 "\"after\":1}]");
  /* no after */
  assert_changes("{\"signed_by\":\"alice\"}", NULL,
                 "[{\"path\":[\"signed_by\"],\"before\":\"alice\",\"after\":null}]");
  /* arrays holding objects element by element (the index in the path); arrays of scalars as one value */
  assert_changes("{\"readers\":[\"a\"],\"l\":[{\"d\":1},{\"d\":2}]}",
                 "{\"readers\":[\"a\",\"b\"],\"l\":[{\"d\":1},{\"d\":3},{\"d\":4}]}",
                 "[{\"path\":[\"l\",1,\"d\"],\"before\":2,\"after\":3},{\"path\":[\"l\",2,\"d\"],\"before\":"
                 "null,\"after\":4},"
                 "{\"path\":[\"readers\"],\"before\":[\"a\"],\"after\":[\"a\",\"b\"]}]");
  /* scalars, and an object replaced by a scalar, as one value with an empty path */
  assert_changes("1", "2", "[{\"path\":[],\"before\":1,\"after\":2}]");
  assert_changes("{\"a\":1}", "{\"a\":1}", "[]");
  assert_changes(NULL, NULL, "[]");
}

static void changes_stop_at_the_maximum(void **state) {
  (void)state;
  json_t *big = json_object();
  char key[16];
  for (int i = 0; i < RCY_AUDIT_CHANGES_MAX + 5; i++) {
    snprintf(key, sizeof key, "k%04d", i);
    json_object_set_new(big, key, json_integer(i));
  }
  int truncated = 0;
  json_t *c = rcy_reads_audit_changes(NULL, big, &truncated);
  assert_int_equal(json_array_size(c), RCY_AUDIT_CHANGES_MAX);
  assert_true(truncated);
  json_decref(c);
  json_decref(big);
}

static void expect_bad(const char *name, const char *value) {
  rcy_reads_audit_query q;
  rcy_reads_audit_query_init(&q);
  rcy_error err = {0};
  if (rcy_reads_audit_query_set(&q, name, value, &err) != RCY_EINVAL) fail_msg("%s=%s accepted", name, value);
  size_t n = strlen(name);
  if (strncmp(err.message, name, n) != 0 || err.message[n] != ':')
    fail_msg("%s=%s: message does not name it: %s", name, value, err.message);
}

static void parameters_are_checked_and_named(void **state) {
  (void)state;
  rcy_reads_audit_query q;
  rcy_reads_audit_query_init(&q);
  rcy_error err = {0};
  assert_int_equal(q.filter.limit, RCY_AUDIT_LIMIT_DEFAULT);
  assert_int_equal(rcy_reads_audit_query_set(&q, "subject", "CIREL-014-0001", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "reader", "os:root", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "action", "timepoint.", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "from", "2024-02-28", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "to", "2024-02-29", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "before", "17", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "limit", "500", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "limit", "", &err), 0); /* empty: unchanged */
  assert_string_equal(q.filter.subject_id, "CIREL-014-0001");
  assert_string_equal(q.filter.at_from, "2024-02-28");
  assert_string_equal(q.filter.at_before, "2024-03-01"); /* the day after `to`: the leap day is included */
  assert_int_equal(q.filter.before_seq, 17);
  assert_int_equal(q.filter.limit, 500);
  expect_bad("subject", "../x");
  expect_bad("reader", "a b");
  expect_bad("reader", "x'--");
  expect_bad("action", "Timepoint.sign");
  expect_bad("action", "1abc");
  expect_bad("from", "2023-02-29");
  expect_bad("from", "2024-2-1");
  expect_bad("to", "2024-02-29T00:00");
  expect_bad("before", "0");
  expect_bad("before", "+3");
  expect_bad("before", "1234567890123456789012");
  expect_bad("limit", "0");
  expect_bad("limit", "501");
  expect_bad("limit", " 5");
  expect_bad("sort", "seq");
  /* from after to, in either order of setting */
  rcy_reads_audit_query_init(&q);
  assert_int_equal(rcy_reads_audit_query_set(&q, "to", "2024-01-01", &err), 0);
  assert_int_equal(rcy_reads_audit_query_set(&q, "from", "2024-01-02", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "from: 2024-01-02 is after to"));
}

static void only_qa_and_admin_read_the_log(void **state) {
  (void)state;
  const char *roles[] = {"central", "adjudicator", "site", "qa", "admin", ""};
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
    rcy_user u = {0};
    snprintf(u.role, sizeof u.role, "%s", roles[i]);
    assert_int_equal(rcy_reads_audit_may_view(&u),
                     strcmp(roles[i], "qa") == 0 || strcmp(roles[i], "admin") == 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(changes_list_only_the_fields_that_differ),
      cmocka_unit_test(changes_stop_at_the_maximum),
      cmocka_unit_test(parameters_are_checked_and_named),
      cmocka_unit_test(only_qa_and_admin_read_the_log),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
