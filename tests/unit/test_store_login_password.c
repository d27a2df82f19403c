/* The login of a request that carries its password (HTTP Basic): a credential verified once is remembered, so
 * Argon2id runs once per tool and not per request, but the cache must never let through what the plain check
 * would refuse: a wrong password, a locked name or peer, an account whose password or role changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recistry/store.h"
#include "store_engine.h"

#define PEER "192.0.2.7"

typedef struct {
  test_archive *arc;
  rcy_credential_cache *cache;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->arc = test_archive_new("login");
  rcy_error err = {0};
  assert_int_equal(rcy_store_user_add(f->arc->store, "tool", "site", "S014", "tool password", &err), 0);
  assert_int_equal(rcy_credential_cache_new(&f->cache, 300, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rcy_credential_cache_free(f->cache);
  test_archive_free(f->arc);
  free(f);
  return 0;
}

static void exec_sql(fixture *f, const char *sql) {
  rcy_db *db = test_index_open(f->arc->db_path);
  if (rcy_db_exec(db, sql)) fail_msg("%s: %s", sql, rcy_db_errmsg(db));
  rcy_db_close(db);
}

static long long failures(fixture *f, const char *kind, const char *key) {
  rcy_db *db = test_index_open(f->arc->db_path);
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, db, "SELECT failures FROM login_failures WHERE kind = ? AND key = ?"), 0);
  rcy_db_bind_text(st, 1, kind);
  rcy_db_bind_text(st, 2, key);
  long long n = rcy_db_step(st) == RCY_DB_ROW ? rcy_db_column_int64(st, 0) : 0;
  rcy_db_finalize(st);
  rcy_db_close(db);
  return n;
}

/* Logs in; returns the status, with *cached telling whether Argon2id was skipped. */
static int login(fixture *f, const char *name, const char *password, rcy_user *user, int *retry, int *cached) {
  rcy_error err = {0};
  memset(user, 0, sizeof *user);
  return rcy_store_login_password(user, retry, cached, f->arc->store, f->cache, name, password, PEER, &err);
}

/* A remembered credential is still refused while the name or the peer is locked. */
static void a_lock_holds_for_a_remembered_credential(fixture *f) {
  rcy_user u;
  int retry, cached;
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 1);
  char sql[256];
  long long now = (long long)time(NULL);
  snprintf(sql, sizeof sql, "DELETE FROM login_failures; INSERT INTO login_failures(kind, key, failures, last_at, "
                            "locked_until) VALUES('account', 'tool', 5, %lld, %lld)", now, now + 600);
  exec_sql(f, sql);
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), RCY_EDENIED);
  assert_true(retry > 500 && retry <= 600);
  exec_sql(f, "DELETE FROM login_failures");
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 1);
  /* The peer's lock (a spray of names from one address) as well. */
  snprintf(sql, sizeof sql, "DELETE FROM login_failures; INSERT INTO login_failures(kind, key, failures, last_at, "
                            "locked_until) VALUES('peer', '%s', 50, %lld, %lld)", PEER, now, now + 900);
  exec_sql(f, sql);
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), RCY_EDENIED);
  assert_true(retry > 800);
}

static void verified_once_then_remembered(void **state) {
  fixture *f = *state;
  rcy_user u;
  int retry = -1, cached = -1;
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 0);
  assert_int_equal(retry, 0);
  assert_string_equal(u.name, "tool");
  assert_string_equal(u.role, "site");
  assert_string_equal(u.site_id, "S014");
  for (int i = 0; i < 3; i++) {
    assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
    assert_int_equal(cached, 1);
    assert_string_equal(u.name, "tool");
    assert_string_equal(u.site_id, "S014");
  }
  /* A lifetime of 0: every request checks the password (Argon2id under ASan is dear: one check is enough). */
  rcy_error err = {0};
  rcy_credential_cache *off;
  assert_int_equal(rcy_credential_cache_new(&off, 0, &err), 0);
  assert_int_equal(rcy_store_login_password(&u, &retry, &cached, f->arc->store, off, "tool", "tool password", PEER, &err), 0);
  assert_int_equal(cached, 0);
  rcy_credential_cache_free(off);
  assert_int_equal(rcy_credential_cache_new(&off, 3601, &err), RCY_EINVAL);
  a_lock_holds_for_a_remembered_credential(f); /* on the credential remembered above (Argon2id is dear) */
}

static void a_wrong_password_is_checked_and_counted(void **state) {
  fixture *f = *state;
  rcy_user u;
  int retry, cached;
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(failures(f, "account", "tool"), 0);
  /* A password that differs from the cached one by its last character: a miss, a failure. */
  assert_int_equal(login(f, "tool", "tool passwore", &u, &retry, &cached), RCY_EDENIED);
  assert_int_equal(cached, 0);
  assert_int_equal(retry, 0);
  assert_string_equal(u.name, "");
  assert_int_equal(failures(f, "account", "tool"), 1);
  /* A hit takes no failure back: only a full login resets the account's count. */
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 1);
  assert_int_equal(failures(f, "account", "tool"), 1);
}

static void the_account_is_read_afresh(void **state) {
  fixture *f = *state;
  rcy_user u;
  int retry, cached;
  rcy_error err = {0};
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  /* A new role shows at once. */
  exec_sql(f, "UPDATE users SET role = 'qa', site_id = NULL WHERE name = 'tool'");
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 1);
  assert_string_equal(u.role, "qa");
  assert_string_equal(u.site_id, "");
  /* A new password: the remembered one stops working, the new one works. */
  assert_int_equal(rcy_store_user_add(f->arc->store, "other", "central", NULL, "another password", &err), 0);
  exec_sql(f, "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE name = 'other') "
              "WHERE name = 'tool'");
  assert_int_equal(login(f, "tool", "tool password", &u, &retry, &cached), RCY_EDENIED);
  assert_int_equal(cached, 0);
  assert_int_equal(login(f, "tool", "another password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 0);
  assert_int_equal(login(f, "tool", "another password", &u, &retry, &cached), 0);
  assert_int_equal(cached, 1);
  /* A removed account. */
  exec_sql(f, "DELETE FROM users WHERE name = 'tool'");
  assert_int_equal(login(f, "tool", "another password", &u, &retry, &cached), RCY_EDENIED);
  assert_int_equal(cached, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(verified_once_then_remembered, setup, teardown),
      cmocka_unit_test_setup_teardown(a_wrong_password_is_checked_and_counted, setup, teardown),
      cmocka_unit_test_setup_teardown(the_account_is_read_afresh, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
