/* Routing: which handler answers a method and path, and the checks every route shares — a session for
 * /api (except login), the CSRF token on every mutating request, a JSON content type on every request body
 * (and always on login, whose only CSRF defence it is: a cross-site form cannot send application/json),
 * 404 for unknown paths and 405 for known paths with the wrong method. /dicomweb has rules of its own (HTTP
 * Basic as well as the session, DICOM media types): dicomweb_api.c. */
#include "server_internal.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

typedef struct {
  const char *method;
  const char *pattern[RCY_MAX_SEGMENTS]; /* "*" matches one segment, captured in order */
  int (*h0)(rcy_req *);
  int (*h1)(rcy_req *, const char *);
  int (*h2)(rcy_req *, const char *, const char *);
  int (*h3)(rcy_req *, const char *, const char *, const char *);
  int auth; /* needs a session */
} route;

static int sign(rcy_req *r, const char *s, const char *tp) { return rcy_handle_sign(r, s, tp, 1); }
static int unsign(rcy_req *r, const char *s, const char *tp) { return rcy_handle_sign(r, s, tp, 0); }

static const route routes[] = {
    {"POST", {"api", "login"}, rcy_handle_login, NULL, NULL, NULL, 0},
    {"POST", {"api", "logout"}, rcy_handle_logout, NULL, NULL, NULL, 1},
    {"GET", {"api", "me"}, rcy_handle_me, NULL, NULL, NULL, 1},
    {"GET", {"api", "worklist"}, rcy_handle_worklist, NULL, NULL, NULL, 1},
    {"GET", {"api", "assignments"}, rcy_handle_assignments_get, NULL, NULL, NULL, 1},
    {"GET", {"api", "audit"}, rcy_handle_audit, NULL, NULL, NULL, 1},
    {"PUT", {"api", "assignments"}, rcy_handle_assignments_put, NULL, NULL, NULL, 1},
    {"POST", {"api", "assignments", "round-robin"}, rcy_handle_assignments_round_robin, NULL, NULL, NULL, 1},
    {"GET", {"api", "review", "settings"}, rcy_handle_review_settings_get, NULL, NULL, NULL, 1},
    {"PUT", {"api", "review", "settings"}, rcy_handle_review_settings_put, NULL, NULL, NULL, 1},
    {"GET", {"api", "adjudication"}, rcy_handle_adjudication_queue, NULL, NULL, NULL, 1},
    {"GET", {"api", "adjudication", "*"}, NULL, rcy_handle_adjudication_get, NULL, NULL, 1},
    {"POST", {"api", "adjudication", "*"}, NULL, rcy_handle_adjudication_post, NULL, NULL, 1},
    {"GET", {"api", "studies", "*", "series"}, NULL, rcy_handle_series, NULL, NULL, 1},
    {"GET", {"wado", "instances", "*"}, NULL, rcy_handle_wado, NULL, NULL, 1},
    {"GET", {"api", "instances", "*", "render.png"}, NULL, rcy_handle_render, NULL, NULL, 1},
    {"GET", {"api", "series", "*", "thumbnail.png"}, NULL, rcy_handle_thumbnail, NULL, NULL, 1},
    {"GET", {"api", "key-images", "*"}, NULL, rcy_handle_key_image, NULL, NULL, 1},
    {"GET", {"api", "reads", "*"}, NULL, rcy_handle_read_get, NULL, NULL, 1},
    {"GET", {"api", "reads", "*", "readers"}, NULL, rcy_handle_read_list, NULL, NULL, 1},
    {"GET", {"api", "concordance"}, rcy_handle_concordance, NULL, NULL, NULL, 1},
    {"GET", {"api", "reader-qc"}, rcy_handle_reader_qc, NULL, NULL, NULL, 1},
    {"GET", {"api", "reports", "cohort.pdf"}, rcy_handle_report_cohort, NULL, NULL, NULL, 1},
    {"GET", {"api", "reports", "subject", "*"}, NULL, rcy_handle_report_subject, NULL, NULL, 1},
    {"GET", {"api", "endpoints"}, rcy_handle_endpoints, NULL, NULL, NULL, 1},
    {"GET", {"api", "endpoints", "subjects"}, rcy_handle_endpoint_subjects, NULL, NULL, NULL, 1},
    {"GET", {"api", "registry", "*"}, NULL, rcy_handle_registry_get, NULL, NULL, 1},
    {"PUT", {"api", "registry", "*"}, NULL, rcy_handle_registry_put, NULL, NULL, 1},
    {"GET", {"api", "dose-response"}, rcy_handle_dose_response, NULL, NULL, NULL, 1},
    {"GET", {"api", "dose", "*"}, NULL, rcy_handle_dose_get, NULL, NULL, 1},
    {"GET", {"api", "dose", "*", "volume"}, NULL, rcy_handle_dose_volume, NULL, NULL, 1},
    {"GET", {"api", "dose", "*", "ct"}, NULL, rcy_handle_dose_ct, NULL, NULL, 1},
    {"POST", {"api", "segment"}, rcy_handle_segment, NULL, NULL, NULL, 1},
    {"POST", {"api", "segment", "propagate"}, rcy_handle_segment_propagate, NULL, NULL, NULL, 1},
    {"GET", {"api", "segmentations", "*"}, NULL, rcy_handle_segmentation_get, NULL, NULL, 1},
    {"POST", {"api", "reads", "*", "lesions"}, NULL, rcy_handle_lesion_add, NULL, NULL, 1},
    {"DELETE", {"api", "reads", "*", "lesions", "*"}, NULL, NULL, rcy_handle_lesion_delete, NULL, 1},
    {"PUT", {"api", "reads", "*", "timepoints", "*", "lesions", "*"}, NULL, NULL, NULL,
     rcy_handle_observation_put, 1},
    {"POST", {"api", "reads", "*", "timepoints", "*", "sign"}, NULL, NULL, sign, NULL, 1},
    {"POST", {"api", "reads", "*", "timepoints", "*", "unsign"}, NULL, NULL, unsign, NULL, 1},
};

/* 1 when the path matches the pattern, with the "*" segments in args. */
static int match(const rcy_req *r, const route *rt, const char **args) {
  int n = 0, i = 0;
  for (; i < RCY_MAX_SEGMENTS && rt->pattern[i]; i++) {
    if (i >= r->n_seg) return 0;
    if (strcmp(rt->pattern[i], "*") == 0) args[n++] = r->seg[i];
    else if (strcmp(rt->pattern[i], r->seg[i]) != 0) return 0;
  }
  return i == r->n_seg;
}

static int mutating(const char *method) {
  return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "OPTIONS") != 0;
}

/* application/json, any case, optionally followed by parameters ("; charset=utf-8"). */
static int json_content_type(rcy_req *r) {
  const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
  if (!ct) return 0;
  while (*ct == ' ' || *ct == '\t') ct++;
  static const char json[] = "application/json";
  if (strncasecmp(ct, json, sizeof json - 1) != 0) return 0;
  ct += sizeof json - 1;
  while (*ct == ' ' || *ct == '\t') ct++;
  return *ct == '\0' || *ct == ';';
}

int rcy_route(rcy_req *r) {
  if (r->n_seg > 0 && strcmp(r->seg[0], "dicomweb") == 0) return rcy_dicomweb_route(r); /* its own rules */
  int is_api = r->n_seg > 0 && (strcmp(r->seg[0], "api") == 0 || strcmp(r->seg[0], "wado") == 0);
  if (!is_api) {
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
      return rcy_reply_error(r, 405, "method %s not allowed here", r->method);
    return rcy_handle_static(r);
  }
  int path_known = 0;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    const route *rt = &routes[i];
    const char *a[3] = {0};
    if (!match(r, rt, a)) continue;
    path_known = 1;
    if (strcmp(rt->method, r->method) != 0) continue;
    if (rt->auth) {
      rcy_auth_load_session(r);
      if (!rcy_auth_require(r)) return 0;
      if (mutating(r->method) && !rcy_auth_check_csrf(r)) return 0;
    }
    if (mutating(r->method) && (r->body_len > 0 || rt->h0 == rcy_handle_login) && !json_content_type(r))
      return rcy_reply_error(r, 415, "request bodies must be JSON (Content-Type: application/json)");
    if (rt->h0) return rt->h0(r);
    if (rt->h1) return rt->h1(r, a[0]);
    if (rt->h2) return rt->h2(r, a[0], a[1]);
    return rt->h3(r, a[0], a[1], a[2]);
  }
  if (path_known) return rcy_reply_error(r, 405, "method %s not allowed on %s", r->method, r->path);
  return rcy_reply_error(r, 404, "no such endpoint");
}
