/* The reading side of the store: accounts (argon2id), sessions (hashed tokens, expiry), read documents
 * saved with their audit row in one transaction, the hash-chained audit log and its tamper detection, and
 * the archive-index queries the workstation uses. */
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
/* The archive file is changed behind the API through the store's own SQLite driver. */
#include "../../src/store/db.h"

typedef test_archive fixture;

static int setup(void **state) {
  *state = test_archive_new("reads");
  return 0;
}

static int teardown(void **state) {
  test_archive_free(*state);
  return 0;
}

static void exec_sql(fixture *f, const char *sql, int expect_ok) {
  rcy_db *db = test_index_open(f->db_path);
  /* PostgreSQL names a trigger with its table (all the triggers dropped here are audit_log's) */
  char pg_sql[512];
  const char *drop = strstr(sql, "DROP TRIGGER ");
  if (test_pg_uri() && drop) {
    const char *semi = strchr(drop, ';');
    assert_non_null(semi);
    snprintf(pg_sql, sizeof pg_sql, "%.*s ON audit_log%s", (int)(semi - sql), sql, semi);
    sql = pg_sql;
  }
  int rc = rcy_db_exec(db, sql);
  if (expect_ok && rc) fail_msg("%s: %s", sql, rcy_db_errmsg(db));
  if (!expect_ok) assert_int_not_equal(rc, RCY_OK);
  rcy_db_close(db);
}

static int count(fixture *f, const char *sql) {
  rcy_db *db = test_index_open(f->db_path);
  rcy_db_stmt *st;
  assert_int_equal(rcy_db_prepare(&st, db, sql), RCY_OK);
  assert_int_equal(rcy_db_step(st), RCY_DB_ROW);
  int n = rcy_db_column_int(st, 0);
  rcy_db_finalize(st);
  rcy_db_close(db);
  return n;
}

static void users(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  assert_int_equal(rcy_store_user_add(f->store, "alice", "central", NULL, "correct horse", &err), 0);
  assert_int_equal(rcy_store_user_add(f->store, "alice", "central", NULL, "correct horse", &err), RCY_EEXIST);
  assert_int_equal(rcy_store_user_add(f->store, "bob", "reader", NULL, "correct horse", &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "role 'reader'"));
  assert_int_equal(rcy_store_user_add(f->store, "sam", "site", NULL, "correct horse", &err), RCY_EINVAL);
  assert_int_equal(rcy_store_user_add(f->store, "sam", "site", "S014", "short", &err), RCY_EINVAL);
  assert_int_equal(rcy_store_user_add(f->store, "a b", "qa", NULL, "correct horse", &err), RCY_EINVAL);
  assert_int_equal(rcy_store_user_add(f->store, "sam", "site", "S014", "correct horse", &err), 0);
  rcy_user u;
  assert_int_equal(rcy_store_user_check(&u, f->store, "sam", "correct horse", &err), 0);
  assert_string_equal(u.role, "site");
  assert_string_equal(u.site_id, "S014");
  assert_int_equal(rcy_store_user_check(&u, f->store, "sam", "correct horsE", &err), RCY_EDENIED);
  assert_int_equal(rcy_store_user_check(&u, f->store, "nobody", "correct horse", &err), RCY_EDENIED);
  /* Only an argon2id string is stored, never the password. */
  assert_int_equal(count(f, "SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'"
                            " AND password_hash NOT LIKE '%correct%'"), 2);
}

static void sessions(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  assert_int_equal(rcy_store_user_add(f->store, "alice", "central", NULL, "correct horse", &err), 0);
  char token[RCY_TOKEN_HEX + 1], csrf[RCY_TOKEN_HEX + 1], csrf2[RCY_TOKEN_HEX + 1];
  assert_int_equal(rcy_store_session_create(token, csrf, f->store, "alice", 3600, &err), 0);
  assert_int_equal(strlen(token), 64);
  assert_string_not_equal(token, csrf);
  rcy_user u;
  assert_int_equal(rcy_store_session_find(&u, csrf2, f->store, token, &err), 0);
  assert_string_equal(u.name, "alice");
  assert_string_equal(csrf, csrf2);
  /* The stored key is the token's hash: the token itself is nowhere in the database. */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sessions WHERE token_sha256 = '%s' OR csrf_token = '%s'", token, token);
  assert_int_equal(count(f, sql), 0);
  assert_int_equal(count(f, "SELECT COUNT(*) FROM sessions"), 1);
  char first = token[0]; /* flipping twice with a ? b : a would not restore a 'c' */
  token[0] = first == 'a' ? 'b' : 'a';
  assert_int_equal(rcy_store_session_find(&u, csrf2, f->store, token, &err), RCY_ENOTFOUND);
  assert_int_equal(rcy_store_session_find(&u, csrf2, f->store, "short", &err), RCY_ENOTFOUND);
  token[0] = first;
  assert_int_equal(rcy_store_session_delete(f->store, token, &err), 0);
  assert_int_equal(rcy_store_session_find(&u, csrf2, f->store, token, &err), RCY_ENOTFOUND);
  /* Expired: a session with no lifetime left is never found. */
  assert_int_equal(rcy_store_session_create(token, csrf, f->store, "alice", 0, &err), 0);
  assert_int_equal(rcy_store_session_find(&u, csrf2, f->store, token, &err), RCY_ENOTFOUND);
  /* ... and the refused lookup swept it from the table. */
  assert_int_equal(count(f, "SELECT COUNT(*) FROM sessions"), 0);
}

/* Durable login throttling: per account (5 failures, then 5 min doubling to 60 min; a success resets) and
 * per peer (50 failures: 15 min); names that are not accounts count alike. */
static void login_guard(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  int retry = 0;
  for (int i = 0; i < 5; i++) assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.1", &err), 0);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.2", &err), RCY_EDENIED);
  assert_in_range(retry, 290, 300);
  /* Held in the archive, not in a process: a new connection sees it; 600 other names do not evict it. */
  rcy_store_close(f->store);
  assert_int_equal(rcy_store_open(&f->store, f->archive, &err), 0);
  for (int i = 0; i < 600; i++) {
    char name[32], peer[32];
    snprintf(name, sizeof name, "ghost%d", i);
    snprintf(peer, sizeof peer, "10.1.%d.%d", i / 256, i % 256);
    assert_int_equal(rcy_store_login_attempt(&retry, f->store, name, peer, &err), 0);
  }
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), RCY_EDENIED);
  /* The lock ends; the next failure locks twice as long, then 4x, ... capped at an hour. */
  exec_sql(f, "UPDATE login_failures SET locked_until = 0 WHERE key = 'victim'", 1);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), 0);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), RCY_EDENIED);
  assert_in_range(retry, 590, 600);
  exec_sql(f, "UPDATE login_failures SET locked_until = 0, failures = 20 WHERE key = 'victim'", 1);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), 0);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), RCY_EDENIED);
  assert_in_range(retry, 3590, 3600);
  /* A success resets the account. */
  exec_sql(f, "UPDATE login_failures SET locked_until = 0 WHERE key = 'victim'", 1);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "victim", "10.0.0.3", &err), 0);
  assert_int_equal(rcy_store_login_succeeded(f->store, "victim", "10.0.0.3", &err), 0);
  assert_int_equal(count(f, "SELECT failures FROM login_failures WHERE kind = 'account' AND key = 'victim'"), 0);
  /* One peer spraying names: the 50th failure locks the address for 15 min, for every name. */
  for (int i = 0; i < 50; i++) {
    char name[32];
    snprintf(name, sizeof name, "spray%d", i);
    assert_int_equal(rcy_store_login_attempt(&retry, f->store, name, "10.9.9.9", &err), 0);
  }
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "alice", "10.9.9.9", &err), RCY_EDENIED);
  assert_in_range(retry, 890, 900);
  assert_int_equal(rcy_store_login_attempt(&retry, f->store, "alice", "10.9.9.8", &err), 0);
}

/* Unknown names take as long as wrong passwords (a dummy argon2id check). */
static void unknown_name_timing(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  assert_int_equal(rcy_store_user_add(f->store, "alice", "central", NULL, "correct horse", &err), 0);
  rcy_user u;
  assert_int_equal(rcy_store_user_check(&u, f->store, "nobody", "x", &err), RCY_EDENIED); /* warms the dummy */
  /* The fastest of three each: load on the machine only ever slows a run down. */
  double known = 1e9, unknown = 1e9;
  for (int i = 0; i < 3; i++) {
    struct timespec a, b, c;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(rcy_store_user_check(&u, f->store, "alice", "wrong password", &err), RCY_EDENIED);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_int_equal(rcy_store_user_check(&u, f->store, "nobody", "wrong password", &err), RCY_EDENIED);
    clock_gettime(CLOCK_MONOTONIC, &c);
    double k = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    double n = (double)(c.tv_sec - b.tv_sec) + (double)(c.tv_nsec - b.tv_nsec) / 1e9;
    if (k < known) known = k;
    if (n < unknown) unknown = n;
  }
  assert_true(unknown > 0.5 * known);
}

/* A key image belongs to one read; the reads table is compared with the audit log. */
static void key_images_and_read_hashes(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  assert_int_equal(rcy_store_begin(f->store, &err), 0);
  assert_int_equal(rcy_store_key_image_add(f->store, "0123456789abcdef0123456789abcdef", "S1", "central", "alice", &err), 0);
  assert_int_equal(rcy_store_commit(f->store, &err), 0);
  rcy_store_read_key k;
  assert_int_equal(rcy_store_key_image_owner(&k, f->store, "0123456789abcdef0123456789abcdef", &err), 0);
  assert_string_equal(k.subject_id, "S1");
  assert_string_equal(k.reader, "alice");
  assert_int_equal(rcy_store_key_image_owner(&k, f->store, "ffffffffffffffffffffffffffffffff", &err), RCY_ENOTFOUND);

  rcy_audit_entry e = {"alice", "lesion.add", NULL, NULL, NULL, "BL", "T1", NULL, "{}", NULL};
  assert_int_equal(rcy_store_read_put(f->store, "S1", "central", "alice", "{\"v\":1}", &e, &err), 0);
  long long n = 0, bad = 0;
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), 0);
  exec_sql(f, "UPDATE reads SET doc = '{\"v\":2}'", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), RCY_ECONFLICT);
  assert_non_null(strstr(err.message, "read of subject S1 (central, reader alice)"));
  exec_sql(f, "UPDATE reads SET doc = '{\"v\":1}'", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), 0);
  exec_sql(f, "INSERT INTO reads(subject_id, role, reader, doc, updated_at) VALUES('S2', 'site', 'site', '{}', 'x')", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), RCY_ECONFLICT);
  assert_non_null(strstr(err.message, "no audit row"));
  /* The document hash is part of the chain: clearing it breaks the row. */
  exec_sql(f, "DELETE FROM reads WHERE subject_id = 'S2'; DROP TRIGGER audit_log_no_update;"
              " UPDATE audit_log SET doc_sha256 = NULL", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad, f->store, &err), RCY_ECONFLICT);
  assert_int_equal(bad, 1);
}

static int collect(void *ctx, const char *subject, const char *role, const char *reader, const char *doc) {
  char *out = ctx;
  (void)role;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%s/%s=%s;", subject, reader, doc);
  return 0;
}

static void reads_and_audit(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  char *doc = NULL;
  assert_int_equal(rcy_store_read_get(&doc, f->store, "S1", "central", "alice", &err), RCY_ENOTFOUND);
  rcy_audit_entry e = {"alice", "lesion.add", "S1", "central", "alice", "BL", "T1", NULL, "{\"a\":1}", NULL};
  assert_int_equal(rcy_store_read_put(f->store, "S1", "central", "alice", "{\"v\":1}", &e, &err), 0);
  e.before_json = "{\"a\":1}";
  e.after_json = "{\"a\":2}";
  e.reason = "typo";
  assert_int_equal(rcy_store_read_put(f->store, "S1", "central", "alice", "{\"v\":2}", &e, &err), 0);
  assert_int_equal(rcy_store_read_put(f->store, "S2", "central", "bob", "{\"v\":3}", &e, &err), 0);
  /* A change whose audit row cannot be written does not land either. */
  rcy_audit_entry bad = {NULL, "x", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  assert_int_equal(rcy_store_read_put(f->store, "S1", "central", "alice", "{\"v\":9}", &bad, &err), RCY_EINVAL);
  assert_int_equal(rcy_store_read_get(&doc, f->store, "S1", "central", "alice", &err), 0);
  assert_string_equal(doc, "{\"v\":2}");
  free(doc);
  char all[256] = "";
  assert_int_equal(rcy_store_read_each(f->store, "central", NULL, collect, all, &err), 0);
  assert_string_equal(all, "S1/alice={\"v\":2};S2/bob={\"v\":3};");
  all[0] = '\0';
  assert_int_equal(rcy_store_read_each(f->store, "central", "bob", collect, all, &err), 0);
  assert_string_equal(all, "S2/bob={\"v\":3};");

  long long n = 0, bad_seq = 0;
  assert_int_equal(rcy_store_audit_verify(&n, &bad_seq, f->store, &err), 0);
  assert_int_equal(n, 3);
  exec_sql(f, "UPDATE audit_log SET reason = 'other' WHERE seq = 2", 0);
  exec_sql(f, "DELETE FROM audit_log WHERE seq = 2", 0);
  exec_sql(f, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'other' WHERE seq = 2", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad_seq, f->store, &err), RCY_ECONFLICT);
  assert_int_equal(bad_seq, 2);
  assert_non_null(strstr(err.message, "seq=2"));
  exec_sql(f, "UPDATE audit_log SET reason = 'typo' WHERE seq = 2", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad_seq, f->store, &err), 0);
  exec_sql(f, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2", 1);
  assert_int_equal(rcy_store_audit_verify(&n, &bad_seq, f->store, &err), RCY_ECONFLICT);
  assert_int_equal(bad_seq, 3);
}

static int keep_sop(void *ctx, const rcy_store_instance *in) {
  char *out = ctx;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%s@%g;", in->sop_instance_uid, in->position_mm[2]);
  return 0;
}

static int keep_study(void *ctx, const rcy_store_study *s) {
  char *out = ctx;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%s/%s;", s->subject_id, s->timepoint);
  return 0;
}

static void index_queries(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  rcy_archive_instance r = {.study_uid = "1.2.1", .series_uid = "1.2.1.1", .sop_instance_uid = "1.2.1.1.2",
                            .sop_class_uid = "1.2.840.10008.5.1.4.1.1.2", .transfer_syntax_uid = "1.2.840.10008.1.2.1",
                            .site_id = "S014", .subject_id = "C-1", .timepoint = "FU1", .modality = "CT",
                            .study_date = "2025-03-01", .path = "a/2.dcm", .sha256 = "00", .size_bytes = 10,
                            .has_rows = 1, .rows = 512, .columns = 512, .has_pixel_spacing = 1,
                            .pixel_spacing_row_mm = 0.7, .pixel_spacing_col_mm = 0.8, .has_position = 1,
                            .position_mm = {0, 0, 5}, .received_at = "2026-01-01T00:00:00Z"};
  assert_int_equal(rcy_store_begin(f->store, &err), 0);
  assert_int_equal(rcy_archive_add_instance(f->store, &r, &err), 0);
  r.sop_instance_uid = "1.2.1.1.1";
  r.path = "a/1.dcm";
  r.position_mm[2] = -5;
  assert_int_equal(rcy_archive_add_instance(f->store, &r, &err), 0);
  rcy_archive_instance bl = r;
  bl.study_uid = "1.2.0";
  bl.series_uid = "1.2.0.1";
  bl.sop_instance_uid = "1.2.0.1.1";
  bl.path = "b/1.dcm";
  bl.timepoint = "BL";
  bl.study_date = "2025-01-01";
  assert_int_equal(rcy_archive_add_instance(f->store, &bl, &err), 0);
  assert_int_equal(rcy_store_commit(f->store, &err), 0);
  char out[256] = "";
  assert_int_equal(rcy_store_instances_each(f->store, "1.2.1.1", keep_sop, out, &err), 0);
  assert_string_equal(out, "1.2.1.1.1@-5;1.2.1.1.2@5;");
  out[0] = '\0';
  assert_int_equal(rcy_store_studies_each(f->store, NULL, keep_study, out, &err), 0);
  assert_string_equal(out, "C-1/BL;C-1/FU1;");
  out[0] = '\0';
  assert_int_equal(rcy_store_studies_each(f->store, "S999", keep_study, out, &err), 0);
  assert_string_equal(out, "");
  out[0] = '\0';
  assert_int_equal(rcy_store_instance_find(f->store, "1.2.1.1.2", keep_sop, out, &err), 0);
  assert_string_equal(out, "1.2.1.1.2@5;");
  assert_int_equal(rcy_store_instance_find(f->store, "9.9", keep_sop, out, &err), RCY_ENOTFOUND);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(users, setup, teardown),
      cmocka_unit_test_setup_teardown(sessions, setup, teardown),
      cmocka_unit_test_setup_teardown(login_guard, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_name_timing, setup, teardown),
      cmocka_unit_test_setup_teardown(key_images_and_read_hashes, setup, teardown),
      cmocka_unit_test_setup_teardown(reads_and_audit, setup, teardown),
      cmocka_unit_test_setup_teardown(index_queries, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
