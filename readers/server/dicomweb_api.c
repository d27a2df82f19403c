/* /dicomweb: QIDO-RS, WADO-RS and STOW-RS (PS3.18) for OHIF, 3D Slicer, a PACS or a script. HTTP only: the
 * matching, the DICOM JSON and the storing are src/dicomweb's, src/dicom's and src/ingest's.
 *
 * Who: the workstation's session cookie, or HTTP Basic with the same accounts (a tool has no login form),
 * checked and throttled exactly as a login (src/store/login_password.c, which also remembers a credential
 * once verified, so that Argon2id runs once per tool, not per request); a wrong or missing credential gets 401
 * with WWW-Authenticate. What: the workstation's rule (src/reads visibility): a site account sees its site's
 * subjects only, unknown and not-yours both answer 404. STOW-RS: a site account for its own site, admin for
 * any configured site. A cross-site page cannot forge a STOW: its body must be multipart/related, which no
 * HTML form sends and which a script can only send after a CORS preflight this server never grants; a cookie
 * session must also send its CSRF token, as every mutating workstation request does.
 * Every request is logged with the account, the method, the path (UIDs only) and the status; never a query
 * string (a PatientName key would be identifying). */
#include "server_internal.h"

#include "recistry/dicom.h"
#include "recistry/dicomweb.h"
#include "recistry/ingest.h"
#include "recistry/log.h"
#include "recistry/render.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOUNDARY "rcy-dicomweb-boundary-7f3a9c"

/* ---- authentication ---- */

static int challenge(rcy_req *r, const char *why) {
  rcy_reply_error(r, 401, "%s", why);
  rcy_reply_header(r, "WWW-Authenticate", "Basic realm=\"recistry DICOMweb\", charset=\"UTF-8\"");
  return 0;
}

/* 1 when the request is authenticated (session cookie or Basic), else replies 401/429 and returns 0. */
static int authenticate(rcy_req *r) {
  if (rcy_auth_load_session(r)) return 1;
  const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
  if (!h) return challenge(r, "log in: the workstation's session, or HTTP Basic with your account");
  if (strncasecmp(h, "Basic ", 6) != 0) return challenge(r, "only HTTP Basic is accepted");
  unsigned char cred[512];
  size_t n = 0;
  const char *b64 = h + 6;
  while (*b64 == ' ')
    b64++;
  if (sodium_base642bin(cred, sizeof cred - 1, b64, strlen(b64), NULL, &n, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return challenge(r, "malformed Basic credentials");
  cred[n] = '\0';
  char *colon = memchr(cred, ':', n);
  if (!colon || memchr(cred, '\0', n)) {
    sodium_memzero(cred, sizeof cred);
    return challenge(r, "malformed Basic credentials");
  }
  *colon = '\0';
  const char *name = (const char *)cred, *password = colon + 1;
  rcy_error err = {0};
  int retry_after = 0;
  int rc = rcy_store_login_password(&r->user, &retry_after, NULL, r->store, r->srv->credentials, name, password,
                                    r->peer, &err);
  sodium_memzero(cred, sizeof cred);
  if (rc == RCY_EDENIED && retry_after > 0) {
    char secs[24];
    snprintf(secs, sizeof secs, "%d", retry_after);
    rcy_log(RCY_LOG_WARN, "serve", "DICOMweb login refused (too many failures) from %s", r->peer);
    rcy_reply_error(r, 429, "too many failed logins: try again in %d s", retry_after);
    rcy_reply_header(r, "Retry-After", secs);
    return 0;
  }
  if (rc == RCY_EDENIED) {
    rcy_log(RCY_LOG_WARN, "serve", "failed DICOMweb login from %s", r->peer);
    return challenge(r, "wrong name or password");
  }
  if (rc) return rcy_reply_rcy_error(r, &err), 0;
  r->authed = 2; /* Basic: no session, no CSRF token */
  return 1;
}

/* ---- helpers ---- */

/* What RetrieveURLs and BulkDataURIs start with: this server as the client reached it. */
static void base_url(rcy_req *r, char *out, size_t size) {
  const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
  const char *proto = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
  int https = proto && strcasecmp(proto, "https") == 0;
  /* A Host header is echoed into URLs: only host[:port] characters. */
  if (!host || !*host ||
      strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != strlen(host))
    host = "localhost";
  snprintf(out, size, "%s://%s/dicomweb", https ? "https" : "http", host);
}

/* 1 when the Accept header allows type: absent, any type, type/ any subtype, or the type itself. */
static int accepts(rcy_req *r, const char *type, const char *alt) {
  const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
  if (!a || !*a) return 1;
  if (strstr(a, "*/*") || strstr(a, type) || (alt && strstr(a, alt))) return 1;
  char major[64];
  const char *slash = strchr(type, '/');
  snprintf(major, sizeof major, "%.*s/*", (int)(slash - type), type);
  return strstr(a, major) != NULL;
}

static int reply_dicom_json(rcy_req *r, unsigned status, json_t *body) {
  char *s = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!s) return rcy_reply_error(r, 500, "out of memory");
  rcy_reply_bytes(r, status, "application/dicom+json", s, strlen(s), 1);
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

/* ---- QIDO-RS ---- */

typedef struct {
  const char *keys[64], *values[64];
  size_t n;
  int too_many;
} args;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind;
  args *a = cls;
  if (a->n == 64) {
    a->too_many = 1;
    return MHD_NO;
  }
  a->keys[a->n] = key;
  a->values[a->n++] = value;
  return MHD_YES;
}

static int qido(rcy_req *r, rcy_qido_level level, const char *study, const char *series) {
  if (!accepts(r, "application/dicom+json", "application/json"))
    return rcy_reply_error(r, 406, "QIDO-RS answers application/dicom+json");
  args a = {0};
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect, &a);
  if (a.too_many) return rcy_reply_error(r, 400, "more than 64 query parameters");
  rcy_qido_query *q;
  rcy_error err = {0};
  if (rcy_dicomweb_qido_parse(&q, level, study, series, a.keys, a.values, a.n, &err))
    return rcy_reply_rcy_error(r, &err);
  char base[600];
  base_url(r, base, sizeof base);
  json_t *out;
  int truncated;
  int rc = rcy_dicomweb_qido_run(&out, &truncated, r->store, &r->user, q, base, &err);
  rcy_dicomweb_qido_free(q);
  if (rc) return rcy_reply_rcy_error(r, &err);
  reply_dicom_json(r, 200, out);
  if (truncated)
    rcy_reply_header(r, "Warning",
                     "299 recistry \"The number of results exceeded the maximum supported by the server. "
                     "Additional results can be requested.\"");
  return 0;
}

/* ---- WADO-RS: instances in bulk, streamed ---- */

typedef struct {
  rcy_dicomweb_instance *list;
  size_t n, i;
  int fd;         /* the current file, -1 between files */
  char head[512]; /* the current part's header (or the closing delimiter) */
  size_t head_len, head_at;
  int closed; /* closing delimiter queued */
} stream;

static void stream_free(void *cls) {
  stream *s = cls;
  if (s->fd >= 0) close(s->fd);
  rcy_dicomweb_instances_free(s->list, s->n);
  free(s);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  stream *s = cls;
  size_t out = 0;
  while (out < max) {
    if (s->head_at < s->head_len) {
      size_t k = s->head_len - s->head_at < max - out ? s->head_len - s->head_at : max - out;
      memcpy(buf + out, s->head + s->head_at, k);
      s->head_at += k;
      out += k;
      continue;
    }
    if (s->fd >= 0) {
      ssize_t k = read(s->fd, buf + out, max - out);
      if (k < 0) return MHD_CONTENT_READER_END_WITH_ERROR;
      if (k > 0) {
        out += (size_t)k;
        continue;
      }
      close(s->fd);
      s->fd = -1;
      s->i++;
    }
    if (s->i < s->n) {
      s->fd = open(s->list[s->i].path, O_RDONLY | O_CLOEXEC);
      if (s->fd < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the reply is cut: the client sees an error */
      int w = snprintf(s->head, sizeof s->head,
                       "%s--" BOUNDARY "\r\nContent-Type: application/dicom; transfer-syntax=%s\r\n\r\n",
                       s->i ? "\r\n" : "", s->list[s->i].transfer_syntax_uid);
      s->head_len = (size_t)w;
      s->head_at = 0;
      continue;
    }
    if (!s->closed) {
      s->head_len = (size_t)snprintf(s->head, sizeof s->head, "\r\n--" BOUNDARY "--\r\n");
      s->head_at = 0;
      s->closed = 1;
      continue;
    }
    break;
  }
  if (out == 0) return MHD_CONTENT_READER_END_OF_STREAM;
  return (ssize_t)out;
}

static int retrieve(rcy_req *r, const char *study, const char *series, const char *sop) {
  if (!accepts(r, "multipart/related", "application/dicom"))
    return rcy_reply_error(r, 406,
                           "WADO-RS instances are sent as multipart/related; type=\"application/dicom\"");
  rcy_dicomweb_instance *list;
  size_t n;
  rcy_error err = {0};
  if (rcy_dicomweb_instances(&list, &n, r->store, &r->user, study, series, sop, &err))
    return rcy_reply_rcy_error(r, &err);
  stream *s = calloc(1, sizeof *s);
  if (!s) {
    rcy_dicomweb_instances_free(list, n);
    return rcy_reply_error(r, 500, "out of memory");
  }
  s->list = list;
  s->n = n;
  s->fd = -1;
  struct MHD_Response *resp =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256 * 1024, stream_read, s, stream_free);
  if (!resp) {
    stream_free(s);
    return rcy_reply_error(r, 500, "out of memory");
  }
  /* The stored bytes, untouched: each part is the file as it was received. */
  MHD_add_response_header(resp, "Content-Type",
                          "multipart/related; type=\"application/dicom\"; boundary=" BOUNDARY);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  if (r->response) MHD_destroy_response(r->response);
  r->response = resp;
  r->status = 200;
  return 0;
}

static int metadata(rcy_req *r, const char *study, const char *series, const char *sop) {
  if (!accepts(r, "application/dicom+json", "application/json"))
    return rcy_reply_error(r, 406, "metadata is application/dicom+json");
  rcy_dicomweb_instance *list;
  size_t n;
  rcy_error err = {0};
  if (rcy_dicomweb_instances(&list, &n, r->store, &r->user, study, series, sop, &err))
    return rcy_reply_rcy_error(r, &err);
  char base[600];
  base_url(r, base, sizeof base);
  json_t *out;
  int rc = rcy_dicomweb_metadata(&out, list, n, base, &err);
  rcy_dicomweb_instances_free(list, n);
  if (rc) return rcy_reply_rcy_error(r, &err);
  return reply_dicom_json(r, 200, out);
}

/* One instance's frames (or all of them: bulk data of the pixel data) as multipart/related octet-stream. */
static int frames(rcy_req *r, const char *study, const char *series, const char *sop, const char *list_text) {
  if (!accepts(r, "multipart/related", "application/octet-stream"))
    return rcy_reply_error(r, 406, "frames are sent as multipart/related; type=\"application/octet-stream\"");
  rcy_error err = {0};
  unsigned *want = NULL;
  size_t n_want = 0;
  if (list_text && rcy_dicomweb_frame_list(&want, &n_want, list_text, &err))
    return rcy_reply_rcy_error(r, &err);
  rcy_dicomweb_instance *list;
  size_t n;
  if (rcy_dicomweb_instances(&list, &n, r->store, &r->user, study, series, sop, &err)) {
    free(want);
    return rcy_reply_rcy_error(r, &err);
  }
  unsigned total = 0;
  size_t frame_bytes = 0;
  int rc = rcy_dicom_frame_info(&total, &frame_bytes, list[0].path, &err);
  if (!rc && !want) { /* bulk data: every frame, one part */
    n_want = 1;
    if (!(want = malloc(sizeof *want)))
      rc = rcy_error_set(&err, RCY_ENOMEM, "out of memory");
    else
      want[0] = 0;
  }
  size_t cap = 0, len = 0;
  char *body = NULL;
  for (size_t i = 0; !rc && i < n_want; i++) {
    void *bytes = NULL;
    size_t blen = 0;
    rc = want[i] ? rcy_dicom_frames_read(&bytes, &blen, list[0].path, want[i], 1, &err)
                 : rcy_dicom_frames_read(&bytes, &blen, list[0].path, 1, total, &err);
    if (rc) break;
    char head[200];
    int hl =
        snprintf(head, sizeof head,
                 "%s--" BOUNDARY
                 "\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\n",
                 i ? "\r\n" : "");
    if (len + (size_t)hl + blen + 64 > cap) {
      cap = (len + (size_t)hl + blen + 64) * 2;
      char *b = realloc(body, cap);
      if (!b) {
        free(bytes);
        rc = rcy_error_set(&err, RCY_ENOMEM, "out of memory");
        break;
      }
      body = b;
    }
    memcpy(body + len, head, (size_t)hl);
    len += (size_t)hl;
    memcpy(body + len, bytes, blen);
    len += blen;
    free(bytes);
  }
  rcy_dicomweb_instances_free(list, n);
  free(want);
  if (rc) {
    free(body);
    return rcy_reply_rcy_error(r, &err);
  }
  len += (size_t)snprintf(body + len, cap - len, "\r\n--" BOUNDARY "--\r\n");
  rcy_reply_bytes(r, 200, "multipart/related; type=\"application/octet-stream\"; boundary=" BOUNDARY, body,
                  len, 1);
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

static int rendered(rcy_req *r, const char *study, const char *series, const char *sop, const char *frame) {
  if (!accepts(r, "image/png", NULL)) return rcy_reply_error(r, 406, "rendered images are image/png");
  if (frame && strcmp(frame, "1") != 0)
    return rcy_reply_error(r, 400, "only frame 1 is rendered (the archive holds single-frame images)");
  rcy_dicomweb_instance *list;
  size_t n;
  rcy_error err = {0};
  if (rcy_dicomweb_instances(&list, &n, r->store, &r->user, study, series, sop, &err))
    return rcy_reply_rcy_error(r, &err);
  unsigned char *png = NULL;
  size_t len = 0;
  int rc = rcy_render_frame_png(&png, &len, list[0].path, 0, 0, &err); /* the file's own window */
  rcy_dicomweb_instances_free(list, n);
  if (rc) return rcy_reply_rcy_error(r, &err);
  rcy_reply_bytes(r, 200, "image/png", png, len, 1);
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

/* ---- STOW-RS ---- */

static int stow(rcy_req *r, const char *study) {
  const char *site = NULL;
  rcy_error err = {0};
  if (rcy_dicomweb_stow_site(&site, &r->user, &err)) return rcy_reply_rcy_error(r, &err);
  if (r->authed == 1 && !rcy_auth_check_csrf(r)) return 0;
  if (!r->srv->receiver)
    return rcy_reply_error(
        r, 503, "STOW-RS is off: the server's config has no ingest sections ([dicom], [site:...])");
  const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
  rcy_dicomweb_part *parts;
  size_t n;
  if (rcy_dicomweb_multipart_split(&parts, &n, ct, r->body, r->body_len, &err)) {
    if (!ct || strncasecmp(ct, "multipart/related", 17) != 0)
      return rcy_reply_error(r, 415, "%s", err.message);
    return rcy_reply_rcy_error(r, &err);
  }
  char base[600];
  base_url(r, base, sizeof base);
  rcy_stow_reply *reply;
  if (rcy_dicomweb_stow_reply_new(&reply, base, study)) {
    free(parts);
    return rcy_reply_error(r, 500, "out of memory");
  }
  int n_ok = 0, n_bad = 0;
  for (size_t i = 0; i < n; i++) {
    rcy_ingest_file_result res;
    if (rcy_ingest_receive_file(&res, r->srv->receiver, site, study, parts[i].data, parts[i].len, &err)) {
      res.status = RCY_DICOM_STATUS_OUT_OF_RESOURCES;
      res.stored = 0;
      rcy_log(RCY_LOG_ERROR, "serve", "STOW-RS: %s", err.message);
    }
    rcy_dicomweb_stow_reply_add(reply, res.sop_class_uid, res.sop_instance_uid, res.study_uid,
                                res.stored ? 0
                                           : (res.status ? res.status : RCY_DICOM_STATUS_CANNOT_UNDERSTAND));
    if (res.stored)
      n_ok++;
    else {
      n_bad++;
      /* UIDs and the comment only: the comment never carries a value of the data set. */
      rcy_log(RCY_LOG_WARN, "serve", "STOW-RS by %s: %s refused (0x%04x %s)", r->user.name,
              res.sop_instance_uid[0] ? res.sop_instance_uid : "(unreadable)", res.status, res.comment);
    }
  }
  free(parts);
  unsigned status;
  json_t *body = rcy_dicomweb_stow_reply_finish(reply, &status);
  rcy_dicomweb_stow_reply_free(reply);
  rcy_log(RCY_LOG_INFO, "serve", "STOW-RS by %s: %d stored, %d refused", r->user.name, n_ok, n_bad);
  return reply_dicom_json(r, status, body);
}

/* ---- routing ---- */

static int is(const rcy_req *r, int i, const char *s) {
  return i < r->n_seg && strcmp(r->seg[i], s) == 0;
}

static int dispatch(rcy_req *r) {
  int n = r->n_seg;
  const char *m = r->method;
  int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
  /* seg[0] is "dicomweb" */
  if (n == 2 && (is(r, 1, "studies") || is(r, 1, "series") || is(r, 1, "instances"))) {
    if (post && is(r, 1, "studies")) return stow(r, NULL);
    if (!get) return rcy_reply_error(r, 405, "method %s not allowed on %s", m, r->path);
    return qido(r,
                is(r, 1, "studies")  ? RCY_QIDO_STUDY
                : is(r, 1, "series") ? RCY_QIDO_SERIES
                                     : RCY_QIDO_INSTANCE,
                NULL, NULL);
  }
  if (n < 3 || !is(r, 1, "studies")) return rcy_reply_error(r, 404, "no such DICOMweb resource");
  const char *study = r->seg[2];
  if (n == 3) {
    if (post) return stow(r, study);
    if (!get) return rcy_reply_error(r, 405, "method %s not allowed on %s", m, r->path);
    return retrieve(r, study, NULL, NULL);
  }
  if (!get) return rcy_reply_error(r, 405, "method %s not allowed on %s", m, r->path);
  if (n == 4 && is(r, 3, "metadata")) return metadata(r, study, NULL, NULL);
  if (n == 4 && is(r, 3, "series")) return qido(r, RCY_QIDO_SERIES, study, NULL);
  if (n == 4 && is(r, 3, "instances")) return qido(r, RCY_QIDO_INSTANCE, study, NULL);
  if (n < 5 || !is(r, 3, "series")) return rcy_reply_error(r, 404, "no such DICOMweb resource");
  const char *series = r->seg[4];
  if (n == 5) return retrieve(r, study, series, NULL);
  if (n == 6 && is(r, 5, "metadata")) return metadata(r, study, series, NULL);
  if (n == 6 && is(r, 5, "instances")) return qido(r, RCY_QIDO_INSTANCE, study, series);
  if (n < 7 || !is(r, 5, "instances")) return rcy_reply_error(r, 404, "no such DICOMweb resource");
  const char *sop = r->seg[6];
  if (n == 7) return retrieve(r, study, series, sop);
  if (n == 8 && is(r, 7, "metadata")) return metadata(r, study, series, sop);
  if (n == 8 && is(r, 7, "rendered")) return rendered(r, study, series, sop, NULL);
  if (n == 9 && is(r, 7, "frames")) return frames(r, study, series, sop, r->seg[8]);
  if (n == 10 && is(r, 7, "frames") && is(r, 9, "rendered"))
    return rendered(r, study, series, sop, r->seg[8]);
  if (n == 9 && is(r, 7, "bulkdata") && strcasecmp(r->seg[8], "7FE00010") == 0)
    return frames(r, study, series, sop, NULL);
  return rcy_reply_error(r, 404, "no such DICOMweb resource");
}

int rcy_dicomweb_route(rcy_req *r) {
  if (strcmp(r->method, "OPTIONS") == 0) { /* no CORS: OHIF is served from this origin or through a proxy */
    rcy_reply_empty(r, 204);
    rcy_reply_header(r, "Allow", "GET, POST, OPTIONS");
    return 0;
  }
  if (!authenticate(r)) return 0;
  dispatch(r);
  rcy_log(RCY_LOG_INFO, "serve", "DICOMweb %s %s by %s (%s) -> %u", r->method, r->path, r->user.name,
          r->user.role, r->status);
  return 0;
}
