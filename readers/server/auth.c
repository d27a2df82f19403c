/* Login, logout and the session behind each request. The session cookie is HttpOnly and SameSite=Strict;
 * a per-session CSRF token (returned by login and /api/me) must come back in X-CSRF-Token on every mutating
 * request. Failed logins are limited per account name and per peer address by the store (login_guard.c:
 * durable, policy in docs/api.md); an unknown name costs the same argon2id check as a wrong password. */
#include "server_internal.h"

#include "recistry/log.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
  rcy_error err = {0};
  int retry_after = 0;
  int rc = rcy_store_login_attempt(&retry_after, r->store, name, r->peer, &err);
  if (rc == RCY_EDENIED) {
    json_decref(body);
    char secs[24];
    snprintf(secs, sizeof secs, "%d", retry_after);
    rcy_log(RCY_LOG_WARN, "serve", "login refused (too many failures) from %s", r->peer);
    rcy_reply_error(r, 429, "too many failed logins: try again in %d s", retry_after);
    rcy_reply_header(r, "Retry-After", secs);
    return 0;
  }
  if (rc) {
    json_decref(body);
    return rcy_reply_rcy_error(r, &err);
  }
  rcy_user user;
  rc = rcy_store_user_check(&user, r->store, name, password, &err);
  json_decref(body);
  if (rc == RCY_EDENIED) {
    rcy_log(RCY_LOG_WARN, "serve", "failed login from %s", r->peer);
    return rcy_reply_error(r, 401, "wrong name or password");
  }
  if (rc) return rcy_reply_rcy_error(r, &err);
  if ((rc = rcy_store_login_succeeded(r->store, user.name, r->peer, &err))) return rcy_reply_rcy_error(r, &err);
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
  /* Images and reads viewed in this session leave the browser's cache with it. */
  rcy_reply_header(r, "Clear-Site-Data", "\"cache\"");
  return 0;
}

int rcy_handle_me(rcy_req *r) {
  return rcy_reply_json(r, 200, json_pack("{s:o,s:s}", "user", user_json(&r->user), "csrf_token", r->csrf));
}

/* The signer's password, checked as a login of r->user would be (the same throttling and lock-out): 0, or
 * replies 403 (wrong) or 429 (locked, with Retry-After). Shared by every electronic signature. */
int rcy_auth_check_password(rcy_req *r, const char *password, const char *action, const char *not_done) {
  rcy_error err = {0};
  int retry_after = 0;
  int rc = rcy_store_login_attempt(&retry_after, r->store, r->user.name, r->peer, &err);
  if (rc == RCY_EDENIED) {
    char secs[24];
    snprintf(secs, sizeof secs, "%d", retry_after);
    rcy_log(RCY_LOG_WARN, "serve", "%s refused (account locked): %s from %s", action, r->user.name, r->peer);
    rcy_reply_error(r, 429, "too many wrong passwords: signing and login are blocked for %d s", retry_after);
    rcy_reply_header(r, "Retry-After", secs);
    return 429;
  }
  if (rc) return rcy_reply_rcy_error(r, &err), 500;
  rcy_user who;
  rc = rcy_store_user_check(&who, r->store, r->user.name, password, &err);
  if (rc == RCY_EDENIED) {
    rcy_log(RCY_LOG_WARN, "serve", "%s with a wrong password: %s from %s", action, r->user.name, r->peer);
    /* 403, not 401: the session is valid; it is the signature that is refused. */
    rcy_reply_error(r, 403, "wrong password: %s", not_done);
    return 403;
  }
  if (rc) return rcy_reply_rcy_error(r, &err), 500;
  if ((rc = rcy_store_login_succeeded(r->store, r->user.name, r->peer, &err))) return rcy_reply_rcy_error(r, &err), 500;
  return 0;
}
