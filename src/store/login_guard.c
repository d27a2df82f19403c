/* Login throttling: failed logins per account name and per peer address, kept in table login_failures so
 * that a restart, or a flood of failures on other names, frees nobody (an in-memory table of fixed size could
 * be flushed). The policy is in include/recistry/store.h and docs/api.md. Each attempt is counted as a
 * failure before the password is checked, in one IMMEDIATE transaction with the lock check, so parallel
 * attempts cannot slip past the limit; a success takes its count back. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define ACCOUNT_LOCK_S 300 /* first lock; doubled per further failure */
#define ACCOUNT_LOCK_MAX_S 3600
#define ACCOUNT_RESET_S 86400 /* a day without a failure forgets them */
#define PEER_LOCK_S 900
#define PEER_RESET_S 900

typedef struct {
  const char *kind, *key;
  int max, lock_s, lock_max_s, reset_s;
  long long failures, locked_until;
} guard;

static int account_name_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > RCY_NAME_MAX) return 0;
  return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Reads the guard's row, forgetting failures older than its reset period. */
static int load(guard *g, rcy_store *store, long long now, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT failures, last_at, locked_until FROM login_failures"
                         " WHERE kind = ? AND key = ?"))
    return rcy_store_fail(store, "reading login failures", err);
  rcy_db_bind_text(st, 1, g->kind);
  rcy_db_bind_text(st, 2, g->key);
  g->failures = g->locked_until = 0;
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW && now - rcy_db_column_int64(st, 1) < g->reset_s) {
    g->failures = rcy_db_column_int64(st, 0);
    g->locked_until = rcy_db_column_int64(st, 2);
  }
  rcy_db_finalize(st);
  if (rc != RCY_DB_ROW && rc != RCY_DB_DONE) return rcy_store_fail(store, "reading login failures", err);
  return RCY_OK;
}

static int save(const guard *g, rcy_store *store, long long now, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO login_failures(kind, key, failures, last_at, locked_until)"
          " VALUES(?,?,?,?,?) ON CONFLICT(kind, key) DO UPDATE SET failures = excluded.failures,"
          " last_at = excluded.last_at, locked_until = excluded.locked_until"))
    return rcy_store_fail(store, "recording a login failure", err);
  rcy_db_bind_text(st, 1, g->kind);
  rcy_db_bind_text(st, 2, g->key);
  rcy_db_bind_int64(st, 3, g->failures);
  rcy_db_bind_int64(st, 4, now);
  rcy_db_bind_int64(st, 5, g->locked_until);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  return rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "recording a login failure", err);
}

/* The lock after `failures` consecutive failures (0: none). */
static long long lock_after(const guard *g, long long failures, long long now) {
  if (failures < g->max) return 0;
  long long s = g->lock_s;
  for (long long i = g->max; i < failures && s < g->lock_max_s; i++)
    s *= 2;
  return now + (s < g->lock_max_s ? s : g->lock_max_s);
}

static int guards(guard out[2], const char *name, const char *peer) {
  int n = 0;
  if (account_name_ok(name))
    out[n++] = (guard){
        "account", name, RCY_LOGIN_ACCOUNT_MAX_FAILURES, ACCOUNT_LOCK_S, ACCOUNT_LOCK_MAX_S, ACCOUNT_RESET_S,
        0,         0};
  out[n++] = (guard){
      "peer", peer ? peer : "", RCY_LOGIN_PEER_MAX_FAILURES, PEER_LOCK_S, PEER_LOCK_S, PEER_RESET_S, 0, 0};
  return n;
}

int rcy_store_login_attempt(int *retry_after_s, rcy_store *store, const char *name, const char *peer,
                            rcy_error *err) {
  *retry_after_s = 0;
  long long now = (long long)time(NULL);
  guard g[2];
  int n = guards(g, name, peer);
  int rc = rcy_store_begin(store, err);
  if (rc) return rc;
  long long until = 0;
  for (int i = 0; i < n && !rc; i++) {
    rc = load(&g[i], store, now, err);
    if (g[i].locked_until > until) until = g[i].locked_until;
  }
  if (!rc && until > now) {
    rcy_store_rollback(store);
    *retry_after_s = (int)(until - now);
    return rcy_error_set(err, RCY_EDENIED, "too many failed logins: try again in %d s", *retry_after_s);
  }
  for (int i = 0; i < n && !rc; i++) {
    g[i].failures++;
    g[i].locked_until = lock_after(&g[i], g[i].failures, now);
    rc = save(&g[i], store, now, err);
  }
  /* Rows nobody failed on for a day are forgotten (they would be reset anyway). */
  if (!rc) {
    char sql[120];
    snprintf(sql, sizeof sql, "DELETE FROM login_failures WHERE last_at < %lld AND locked_until < %lld",
             now - ACCOUNT_RESET_S, now);
    rc = rcy_store_exec(store, sql, "forgetting old login failures", err);
  }
  if (rc) {
    rcy_store_rollback(store);
    return rc;
  }
  return rcy_store_commit(store, err);
}

int rcy_store_login_succeeded(rcy_store *store, const char *name, const char *peer, rcy_error *err) {
  long long now = (long long)time(NULL);
  guard g[2];
  int n = guards(g, name, peer);
  int rc = rcy_store_begin(store, err);
  if (rc) return rc;
  for (int i = 0; i < n && !rc; i++) {
    rc = load(&g[i], store, now, err);
    if (rc) break;
    /* The account starts afresh; the peer only gets this attempt back (a valid login must not wash out a
     * spray of failures from the same address). */
    g[i].failures = strcmp(g[i].kind, "account") == 0 ? 0 : (g[i].failures > 0 ? g[i].failures - 1 : 0);
    g[i].locked_until = lock_after(&g[i], g[i].failures, now);
    rc = save(&g[i], store, now, err);
  }
  if (rc) {
    rcy_store_rollback(store);
    return rc;
  }
  return rcy_store_commit(store, err);
}

int rcy_store_login_locked(int *retry_after_s, rcy_store *store, const char *name, const char *peer,
                           rcy_error *err) {
  *retry_after_s = 0;
  long long now = (long long)time(NULL);
  guard g[2];
  int n = guards(g, name, peer);
  long long until = 0;
  for (int i = 0; i < n; i++) {
    int rc = load(&g[i], store, now, err);
    if (rc) return rc;
    if (g[i].locked_until > until) until = g[i].locked_until;
  }
  if (until <= now) return RCY_OK;
  *retry_after_s = (int)(until - now);
  return rcy_error_set(err, RCY_EDENIED, "too many failed logins: try again in %d s", *retry_after_s);
}
