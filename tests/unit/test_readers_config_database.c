/* The serve configuration's [archive] database (readers/server/config.c): read with path into the location
 * the server opens its stores at; absent, the location has no database (DIR/recistry.db). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"

static char *write_ini(const char *text) {
  char *path = strdup("/tmp/rcy_readers_db_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

static void database_read(void **state) {
  (void)state;
  char *p = write_ini("[archive]\npath = /srv/a\ndatabase = postgresql://db.example/registry\nsync = portable\n"
                      "[http]\nport = 0\n");
  rcy_readers_config cfg;
  rcy_error err = {0};
  assert_int_equal(rcy_readers_config_load(&cfg, p, &err), 0);
  rcy_store_location where = rcy_readers_config_location(&cfg);
  assert_string_equal(where.archive_dir, "/srv/a");
  assert_string_equal(where.database, "postgresql://db.example/registry");
  rcy_readers_config_free(&cfg);
  assert_null(cfg.database);
  unlink(p);
  free(p);
}

static void database_absent(void **state) {
  (void)state;
  char *p = write_ini("[archive]\npath = /srv/a\n");
  rcy_readers_config cfg;
  rcy_error err = {0};
  assert_int_equal(rcy_readers_config_load(&cfg, p, &err), 0);
  rcy_store_location where = rcy_readers_config_location(&cfg);
  assert_string_equal(where.archive_dir, "/srv/a");
  assert_null(where.database);
  rcy_readers_config_free(&cfg);
  unlink(p);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(database_read), cmocka_unit_test(database_absent)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
