/* Reader accounts and login sessions. Passwords are stored as argon2id strings (libsodium crypto_pwhash_str);
 * a session token is 256 random bits given to the browser once, of which only the SHA-256 is stored, so a
 * copy of the database cannot be replayed as a login. */
#include "reads_internal.h"
#include "store_internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int valid_name(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > RCY_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return 0;
  }
  return 1;
}

static int valid_role(const char *r) {
  static const char *const roles[] = {"central", "adjudicator", "site", "qa", "admin"};
  for (size_t i = 0; r && i < sizeof roles / sizeof roles[0]; i++)
    if (strcmp(r, roles[i]) == 0) return 1;
  return 0;
}

int rcy_store_user_add(rcy_store *store, const char *name, const char *role, const char *site_id,
                       const char *password, rcy_error *err) {
  if (!valid_name(name))
    return rcy_error_set(err, RCY_EINVAL, "user name must be 1-%d characters of A-Z a-z 0-9 . _ -", RCY_NAME_MAX);
  if (!valid_role(role))
    return rcy_error_set(err, RCY_EINVAL, "role '%s' is not one of central, adjudicator, site, qa, admin",
                         role ? role : "");
  if (strcmp(role, "site") == 0 && !valid_name(site_id))
    return rcy_error_set(err, RCY_EINVAL, "a site user needs --site SITE_ID (e.g. S014)");
  if (strcmp(role, "site") != 0 && site_id && *site_id)
    return rcy_error_set(err, RCY_EINVAL, "--site applies to role site only, not %s", role);
  if (!password || strlen(password) < 8)
    return rcy_error_set(err, RCY_EINVAL, "password must have at least 8 characters");
  if (sodium_init() < 0) return rcy_error_set(err, RCY_EINTERNAL, "libsodium failed to initialise");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return rcy_error_set(err, RCY_ENOMEM, "out of memory hashing the password");
  char now[32];
  rcy_reads_now_iso(now, sizeof now);
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO users(name, role, site_id, password_hash, created_at) VALUES(?,?,?,?,?)"))
    return rcy_store_fail(store, "adding a user", err);
  rcy_db_bind_text(st, 1, name);
  rcy_db_bind_text(st, 2, role);
  if (strcmp(role, "site") == 0) rcy_db_bind_text(st, 3, site_id);
  rcy_db_bind_text(st, 4, hash);
  rcy_db_bind_text(st, 5, now);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  if (rc == RCY_ECONFLICT) return rcy_error_set(err, RCY_EEXIST, "user '%s' already exists", name);
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "adding a user", err);
  return RCY_OK;
}

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

/* A hash of a random password with the cost of real ones: checked for names that are not accounts, so that
 * an unknown name takes as long to refuse as a wrong password (no user enumeration by timing). */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void) {
  char pw[33];
  if (rcy_reads_random_hex(pw, 16) ||
      crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    dummy_hash[0] = '\0';
}

static int deny_like_a_user(const char *password, rcy_error *err) {
  pthread_once(&dummy_once, make_dummy);
  if (dummy_hash[0] && password) {
    int matched = crypto_pwhash_str_verify(dummy_hash, password, strlen(password)); /* only the time counts */
    (void)matched;
  }
  return rcy_error_set(err, RCY_EDENIED, "wrong name or password");
}

int rcy_store_user_load(rcy_user *out, char *stored_hash, rcy_store *store, const char *name,
                        rcy_error *err) {
  if (!valid_name(name)) return rcy_error_set(err, RCY_ENOTFOUND, "no such user");
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT name, role, site_id, password_hash FROM users WHERE name = ?"))
    return rcy_store_fail(store, "looking a user up", err);
  rcy_db_bind_text(st, 1, name);
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) {
    copy(out->name, sizeof out->name, rcy_db_column_text(st, 0));
    copy(out->role, sizeof out->role, rcy_db_column_text(st, 1));
    copy(out->site_id, sizeof out->site_id, rcy_db_column_text(st, 2));
    copy(stored_hash, crypto_pwhash_STRBYTES, rcy_db_column_text(st, 3));
  }
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return RCY_OK;
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "looking a user up", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no such user");
}

int rcy_store_user_verify(rcy_user *out, char *stored_hash, rcy_store *store, const char *name,
                          const char *password, rcy_error *err) {
  if (stored_hash) stored_hash[0] = '\0';
  if (sodium_init() < 0) return rcy_error_set(err, RCY_EINTERNAL, "libsodium failed to initialise");
  if (!valid_name(name) || !password) return deny_like_a_user(password ? password : "", err);
  rcy_user user;
  char hash[crypto_pwhash_STRBYTES];
  int rc = rcy_store_user_load(&user, hash, store, name, err);
  if (rc == RCY_ENOTFOUND) return deny_like_a_user(password, err);
  if (rc) return rc;
  int ok = hash[0] && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
  if (ok) {
    *out = user;
    if (stored_hash) copy(stored_hash, crypto_pwhash_STRBYTES, hash);
  }
  sodium_memzero(hash, sizeof hash);
  return ok ? RCY_OK : rcy_error_set(err, RCY_EDENIED, "wrong name or password");
}

int rcy_store_user_check(rcy_user *out, rcy_store *store, const char *name, const char *password,
                         rcy_error *err) {
  return rcy_store_user_verify(out, NULL, store, name, password, err);
}

int rcy_store_session_create(char *token_out, char *csrf_out, rcy_store *store, const char *name, int ttl_s,
                             rcy_error *err) {
  if (rcy_reads_random_hex(token_out, 32) || rcy_reads_random_hex(csrf_out, 32))
    return rcy_error_set(err, RCY_EINTERNAL, "libsodium failed to initialise");
  char token_hash[65];
  rcy_reads_sha256_hex(token_hash, token_out, strlen(token_out));
  long long now = (long long)time(NULL);
  int rc = rcy_store_sessions_purge(store, err);
  if (rc) return rc;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO sessions(token_sha256, user_name, csrf_token, created_at, expires_at) "
                         "VALUES(?,?,?,?,?)"))
    return rcy_store_fail(store, "creating a session", err);
  rcy_db_bind_text(st, 1, token_hash);
  rcy_db_bind_text(st, 2, name);
  rcy_db_bind_text(st, 3, csrf_out);
  rcy_db_bind_int64(st, 4, now);
  rcy_db_bind_int64(st, 5, now + ttl_s);
  rc = rcy_db_step(st);
  rcy_db_finalize(st);
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "creating a session", err);
  return RCY_OK;
}

static int token_ok(const char *token) {
  if (!token || strlen(token) != RCY_TOKEN_HEX) return 0;
  for (const char *p = token; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
  return 1;
}

int rcy_store_session_find(rcy_user *user_out, char *csrf_out, rcy_store *store, const char *token,
                           rcy_error *err) {
  if (!token_ok(token)) return rcy_error_set(err, RCY_ENOTFOUND, "no such session");
  char token_hash[65];
  rcy_reads_sha256_hex(token_hash, token, strlen(token));
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT u.name, u.role, u.site_id, s.csrf_token FROM sessions s JOIN users u "
                         "ON u.name = s.user_name WHERE s.token_sha256 = ? AND s.expires_at > ?"))
    return rcy_store_fail(store, "looking a session up", err);
  rcy_db_bind_text(st, 1, token_hash);
  rcy_db_bind_int64(st, 2, (long long)time(NULL));
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) {
    copy(user_out->name, sizeof user_out->name, rcy_db_column_text(st, 0));
    copy(user_out->role, sizeof user_out->role, rcy_db_column_text(st, 1));
    copy(user_out->site_id, sizeof user_out->site_id, rcy_db_column_text(st, 2));
    copy(csrf_out, RCY_TOKEN_HEX + 1, rcy_db_column_text(st, 3));
  }
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return RCY_OK;
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "looking a session up", err);
  /* A well-formed token that is not live: if it expired, sweep it (and every other expired one) now rather
   * than at the next login. */
  if (rcy_db_prepare(&st, store->db, "SELECT 1 FROM sessions WHERE token_sha256 = ?") == RCY_OK) {
    rcy_db_bind_text(st, 1, token_hash);
    int expired = rcy_db_step(st) == RCY_DB_ROW;
    rcy_db_finalize(st);
    if (expired) rcy_store_sessions_purge(store, NULL);
  }
  return rcy_error_set(err, RCY_ENOTFOUND, "no such session (expired or logged out)");
}

int rcy_store_sessions_purge(rcy_store *store, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "DELETE FROM sessions WHERE expires_at <= ?"))
    return rcy_store_fail(store, "purging expired sessions", err);
  rcy_db_bind_int64(st, 1, (long long)time(NULL));
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  return rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "purging expired sessions", err);
}

int rcy_store_session_delete(rcy_store *store, const char *token, rcy_error *err) {
  if (!token_ok(token)) return RCY_OK;
  char token_hash[65];
  rcy_reads_sha256_hex(token_hash, token, strlen(token));
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "DELETE FROM sessions WHERE token_sha256 = ?"))
    return rcy_store_fail(store, "ending a session", err);
  rcy_db_bind_text(st, 1, token_hash);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "ending a session", err);
  return rcy_store_sessions_purge(store, err);
}

int rcy_store_user_role(char **role, rcy_store *store, const char *name) {
  *role = NULL;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT role FROM users WHERE name = ?")) return RCY_ESTORE;
  rcy_db_bind_text(st, 1, name);
  int step = rcy_db_step(st);
  if (step == RCY_DB_ROW) *role = strdup(rcy_db_column_text(st, 0));
  rcy_db_finalize(st);
  if (step == RCY_DB_ROW) return *role ? RCY_OK : RCY_ENOMEM;
  return step == RCY_DB_DONE ? RCY_ENOTFOUND : RCY_ESTORE;
}
