/* Login, logout and the session behind each request. The session cookie is HttpOnly and SameSite=Strict;
 * a per-session CSRF token (returned by login and /api/me) must come back in X-CSRF-Token on every mutating
 * request. Failed logins are limited per (name, peer): 5 within 5 minutes, then 429 until the window passes. */
#include "server_internal.h"

#include "recistry/log.h"

#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RATE_MAX_FAILURES 5
#define RATE_WINDOW_S 300
#define RATE_SLOTS 512

typedef struct {
  char key[RCY_NAME_MAX + 70]; /* name \n peer */
  time_t failures[RATE_MAX_FAILURES];
  int n;
  time_t last;
} rate_slot;

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static rate_slot rate[RATE_SLOTS];

static rate_slot *slot_for(const char *key, int create) {
  rate_slot *oldest = &rate[0];
  for (int i = 0; i < RATE_SLOTS; i++) {
    if (rate[i].key[0] && strcmp(rate[i].key, key) == 0) return &rate[i];
    if (rate[i].last < oldest->last) oldest = &rate[i];
  }
  if (!create) return NULL;
  memset(oldest, 0, sizeof *oldest);
  snprintf(oldest->key, sizeof oldest->key, "%s", key);
  return oldest;
}

/* Recent failures for key within the window. */
static int recent_failures(const char *key, time_t now) {
  pthread_mutex_lock(&rate_lock);
  rate_slot *s = slot_for(key, 0);
  int n = 0;
  for (int i = 0; s && i < s->n; i++)
    if (now - s->failures[i] < RATE_WINDOW_S) n++;
  pthread_mutex_unlock(&rate_lock);
  return n;
}

static void record_failure(const char *key, time_t now) {
  pthread_mutex_lock(&rate_lock);
  rate_slot *s = slot_for(key, 1);
  if (s->n == RATE_MAX_FAILURES) {
    memmove(s->failures, s->failures + 1, sizeof s->failures[0] * (RATE_MAX_FAILURES - 1));
    s->n--;
  }
  s->failures[s->n++] = now;
  s->last = now;
  pthread_mutex_unlock(&rate_lock);
}

static void clear_failures(const char *key) {
  pthread_mutex_lock(&rate_lock);
  rate_slot *s = slot_for(key, 0);
  if (s) memset(s, 0, sizeof *s);
  pthread_mutex_unlock(&rate_lock);
}

void rcy_auth_rate_reset(void) {
  pthread_mutex_lock(&rate_lock);
  memset(rate, 0, sizeof rate);
  pthread_mutex_unlock(&rate_lock);
}

static json_t *user_json(const rcy_user *u) {
  return json_pack("{s:s,s:s,s:s?}", "name", u->name, "role", u->role, "site", u->site_id[0] ? u->site_id : NULL);
}

int rcy_auth_load_session(rcy_req *r) {
  const char *tok = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "rcy_session");
  r->authed = 0;
  if (!tok || strlen(tok) != RCY_TOKEN_HEX) return 0;
  rcy_error err = {0};
  if (rcy_store_session_find(&r->user, r->csrf, r->store, tok, &err) == RCY_OK) {
    r->authed = 1;
    snprintf(r->token, sizeof r->token, "%s", tok);
  }
  return r->authed;
}

int rcy_auth_require(rcy_req *r) {
  if (r->authed) return 1;
  rcy_reply_error(r, 401, "not logged in (or the session expired): POST /api/login");
  return 0;
}

int rcy_auth_check_csrf(rcy_req *r) {
  const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
  if (t && strlen(t) == RCY_TOKEN_HEX && sodium_memcmp(t, r->csrf, RCY_TOKEN_HEX) == 0) return 1;
  rcy_reply_error(r, 403, t ? "X-CSRF-Token does not match this session" : "X-CSRF-Token header missing");
  return 0;
}

int rcy_handle_login(rcy_req *r) {
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  const char *name = json_string_value(json_object_get(body, "name"));
  const char *password = json_string_value(json_object_get(body, "password"));
  if (!name || !password) {
    json_decref(body);
    return rcy_reply_error(r, 400, "login needs \"name\" and \"password\" (strings)");
  }
  char key[sizeof rate[0].key];
  snprintf(key, sizeof key, "%.64s\n%s", name, r->peer);
  time_t now = time(NULL);
  if (recent_failures(key, now) >= RATE_MAX_FAILURES) {
    json_decref(body);
    rcy_reply_error(r, 429, "too many failed logins for this name; wait 5 minutes");
    rcy_reply_header(r, "Retry-After", "300");
    return 0;
  }
  rcy_user user;
  rcy_error err = {0};
  int rc = rcy_store_user_check(&user, r->store, name, password, &err);
  json_decref(body);
  if (rc == RCY_EDENIED) {
    record_failure(key, now);
    rcy_log(RCY_LOG_WARN, "serve", "failed login from %s", r->peer);
    return rcy_reply_error(r, 401, "wrong name or password");
  }
  if (rc) return rcy_reply_rcy_error(r, &err);
  clear_failures(key);
  char token[RCY_TOKEN_HEX + 1], csrf[RCY_TOKEN_HEX + 1];
  if ((rc = rcy_store_session_create(token, csrf, r->store, user.name, r->srv->cfg->session_ttl_s, &err)))
    return rcy_reply_rcy_error(r, &err);
  rcy_reply_json(r, 200, json_pack("{s:o,s:s}", "user", user_json(&user), "csrf_token", csrf));
  char cookie[200];
  snprintf(cookie, sizeof cookie, "rcy_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d", token,
           r->srv->cfg->session_ttl_s);
  rcy_reply_header(r, "Set-Cookie", cookie);
  sodium_memzero(token, sizeof token);
  rcy_log(RCY_LOG_INFO, "serve", "login: %s (%s)", user.name, user.role);
  return 0;
}

int rcy_handle_logout(rcy_req *r) {
  rcy_error err = {0};
  if (rcy_store_session_delete(r->store, r->token, &err)) return rcy_reply_rcy_error(r, &err);
  rcy_reply_empty(r, 204);
  rcy_reply_header(r, "Set-Cookie", "rcy_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  return 0;
}

int rcy_handle_me(rcy_req *r) {
  return rcy_reply_json(r, 200, json_pack("{s:o,s:s}", "user", user_json(&r->user), "csrf_token", r->csrf));
}
