/* A request's body: small ones stay in memory; past RCY_BODY_IN_MEMORY_BYTES (a large STOW-RS) the body goes to
 * a nameless file in the spool folder and comes back as one read-only mapping with the same bytes. A spool that
 * cannot be written is a named error, and the size limit holds either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_internal.h"

static size_t entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static void small_stays_in_memory(void **state) {
  (void)state;
  rcy_request_body b;
  rcy_request_body_init(&b, RCY_MAX_BODY_BYTES);
  rcy_error err = {0};
  assert_int_equal(rcy_request_body_append(&b, "{\"a\":", 5, "/nonexistent", &err), 0);
  assert_int_equal(rcy_request_body_append(&b, "1}", 2, "/nonexistent", &err), 0);
  const char *data;
  size_t len;
  assert_int_equal(rcy_request_body_finish(&b, &data, &len, &err), 0);
  assert_int_equal(b.fd, -1);
  assert_int_equal(len, 7);
  assert_string_equal(data, "{\"a\":1}");
  /* over the limit: refused, nothing kept by the caller's choice */
  assert_int_equal(rcy_request_body_append(&b, data, RCY_MAX_BODY_BYTES, "/nonexistent", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "larger than"));
  rcy_request_body_release(&b);
}

static void large_is_spooled_and_mapped(void **state) {
  (void)state;
  char dir[] = "/tmp/rcy-body-XXXXXX";
  assert_non_null(mkdtemp(dir));
  rcy_request_body b;
  rcy_request_body_init(&b, RCY_MAX_STOW_BYTES);
  rcy_error err = {0};
  enum { CHUNK = 65536 };
  static char chunk[CHUNK];
  size_t total = 0, n_chunks = RCY_BODY_IN_MEMORY_BYTES / CHUNK + 3;
  for (size_t i = 0; i < n_chunks; i++) {
    memset(chunk, (int)('a' + i % 26), CHUNK);
    assert_int_equal(rcy_request_body_append(&b, chunk, CHUNK, dir, &err), 0);
    total += CHUNK;
    if (total <= RCY_BODY_IN_MEMORY_BYTES) assert_int_equal(b.fd, -1);
  }
  assert_true(b.fd >= 0);
  assert_null(b.mem);
  assert_int_equal(entries(dir), 0); /* the spool file has no name */
  const char *data;
  size_t len;
  assert_int_equal(rcy_request_body_finish(&b, &data, &len, &err), 0);
  assert_int_equal(len, total);
  for (size_t i = 0; i < n_chunks; i++) {
    assert_int_equal(data[i * CHUNK], 'a' + i % 26);
    assert_int_equal(data[i * CHUNK + CHUNK - 1], 'a' + i % 26);
  }
  assert_int_equal(data[len], '\0');
  rcy_request_body_release(&b);
  assert_int_equal(b.fd, -1);
  assert_int_equal(rmdir(dir), 0);
}

static void unwritable_spool_is_named(void **state) {
  (void)state;
  rcy_request_body b;
  rcy_request_body_init(&b, RCY_MAX_STOW_BYTES);
  rcy_error err = {0};
  static char big[RCY_BODY_IN_MEMORY_BYTES + 1];
  assert_int_equal(rcy_request_body_append(&b, big, sizeof big, "/nonexistent/archive", &err), RCY_EIO);
  assert_non_null(strstr(err.message, "cannot spool the request body"));
  rcy_request_body_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(small_stays_in_memory),
      cmocka_unit_test(large_is_spooled_and_mapped),
      cmocka_unit_test(unwritable_spool_is_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
