/* STOW-RS's request and reply (PS3.18 10.5): splitting a multipart/related body into its DICOM parts, and
 * the DICOM JSON reply that names every instance stored (ReferencedSOPSequence) or refused with the DIMSE
 * status a C-STORE would have got (FailedSOPSequence / FailureReason). What is stored, and how, is the
 * ingest pipeline's (rcy_ingest_receive_file). */
#include "recistry/dicomweb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A parameter of a Content-Type ("boundary", "type"), quotes removed, into out; 0 when absent. */
static int ct_param(char *out, size_t cap, const char *ct, const char *name) {
  size_t nlen = strlen(name);
  for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
    const char *q = p + 1;
    while (*q == ' ' || *q == '\t')
      q++;
    if (strncasecmp(q, name, nlen) != 0 || q[nlen] != '=') continue;
    q += nlen + 1;
    size_t i = 0;
    if (*q == '"') {
      for (q++; *q && *q != '"' && i + 1 < cap; q++)
        out[i++] = *q;
    } else {
      for (; *q && *q != ';' && *q != ' ' && i + 1 < cap; q++)
        out[i++] = *q;
    }
    out[i] = '\0';
    return i > 0;
  }
  return 0;
}

static const char *find(const char *hay, size_t len, const char *needle, size_t nlen) {
  if (nlen == 0 || len < nlen) return NULL;
  for (const char *p = hay; p + nlen <= hay + len; p++) {
    p = memchr(p, needle[0], (size_t)(hay + len - p));
    if (!p || p + nlen > hay + len) return NULL;
    if (memcmp(p, needle, nlen) == 0) return p;
  }
  return NULL;
}

/* The Content-Type header among a part's headers (the text between start and end), or "". */
static void part_type(char *out, size_t cap, const char *start, const char *end) {
  out[0] = '\0';
  for (const char *line = start; line < end;) {
    const char *eol = find(line, (size_t)(end - line), "\r\n", 2);
    if (!eol) eol = end;
    if ((size_t)(eol - line) > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
      const char *v = line + 13;
      while (v < eol && (*v == ' ' || *v == '\t'))
        v++;
      snprintf(out, cap, "%.*s", (int)(eol - v), v);
    }
    line = eol + 2;
  }
}

int rcy_dicomweb_multipart_split(rcy_dicomweb_part **parts, size_t *n, const char *ct, const char *body,
                                 size_t len, rcy_error *err) {
  *parts = NULL;
  *n = 0;
  if (!ct || strncasecmp(ct, "multipart/related", 17) != 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "Content-Type must be multipart/related; type=\"application/dicom\"");
  char boundary[200], type[100] = "";
  if (!ct_param(boundary, sizeof boundary, ct, "boundary"))
    return rcy_error_set(err, RCY_EINVAL, "multipart/related without a boundary");
  ct_param(type, sizeof type, ct, "type");
  if (type[0] && strcasecmp(type, "application/dicom") != 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "type=\"%s\": only application/dicom parts are accepted (no JSON + bulk data)",
                         type);
  char delim[210];
  int dlen = snprintf(delim, sizeof delim, "--%s", boundary);
  size_t cap = 0;
  rcy_dicomweb_part *list = NULL;
  const char *p = find(body, len, delim, (size_t)dlen);
  if (!p) return rcy_error_set(err, RCY_EINVAL, "the body holds no part (boundary not found)");
  for (;;) {
    p += dlen;
    if ((size_t)(body + len - p) >= 2 && p[0] == '-' && p[1] == '-') break; /* closing delimiter */
    const char *eol = find(p, (size_t)(body + len - p), "\r\n", 2);
    if (!eol) break;
    const char *hdr_end = find(eol, (size_t)(body + len - eol), "\r\n\r\n", 4);
    if (!hdr_end) {
      free(list);
      return rcy_error_set(err, RCY_EINVAL, "part %zu: headers not terminated", *n + 1);
    }
    char ptype[100];
    part_type(ptype, sizeof ptype, eol + 2, hdr_end + 2);
    if (ptype[0] && strncasecmp(ptype, "application/dicom", 17) != 0) {
      free(list);
      return rcy_error_set(err, RCY_EINVAL, "part %zu is %s: only application/dicom parts are accepted",
                           *n + 1, ptype);
    }
    if (!type[0] && !ptype[0]) {
      free(list);
      return rcy_error_set(err, RCY_EINVAL, "part %zu has no Content-Type and the request no type parameter",
                           *n + 1);
    }
    const char *data = hdr_end + 4;
    char close_delim[214];
    int clen = snprintf(close_delim, sizeof close_delim, "\r\n%s", delim);
    const char *next = find(data, (size_t)(body + len - data), close_delim, (size_t)clen);
    if (!next) {
      free(list);
      return rcy_error_set(err, RCY_EINVAL, "part %zu is not closed by the boundary", *n + 1);
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 8;
      rcy_dicomweb_part *l = realloc(list, cap * sizeof *l);
      if (!l) {
        free(list);
        return rcy_error_set(err, RCY_ENOMEM, "out of memory");
      }
      list = l;
    }
    list[*n].data = data;
    list[*n].len = (size_t)(next - data);
    (*n)++;
    p = next + 2;
  }
  if (*n == 0) {
    free(list);
    return rcy_error_set(err, RCY_EINVAL, "the body holds no part");
  }
  *parts = list;
  return RCY_OK;
}

int rcy_dicomweb_stow_site(const char **site_id, const rcy_user *user, rcy_error *err) {
  *site_id = NULL;
  if (strcmp(user->role, "site") == 0) {
    *site_id = user->site_id;
    return RCY_OK;
  }
  if (strcmp(user->role, "admin") == 0) return RCY_OK;
  return rcy_error_set(err, RCY_EDENIED,
                       "only a site account (for its own site) or an administrator may store");
}

struct rcy_stow_reply {
  json_t *referenced, *failed;
  char base[512];
  char study[65];
};

int rcy_dicomweb_stow_reply_new(rcy_stow_reply **out, const char *base_url, const char *study_uid) {
  rcy_stow_reply *r = calloc(1, sizeof *r);
  if (!r) return RCY_ENOMEM;
  r->referenced = json_array();
  r->failed = json_array();
  snprintf(r->base, sizeof r->base, "%s", base_url);
  snprintf(r->study, sizeof r->study, "%s", study_uid ? study_uid : "");
  *out = r;
  return RCY_OK;
}

static json_t *ui(const char *v) {
  return v && *v ? json_pack("{s:s,s:[s]}", "vr", "UI", "Value", v) : json_pack("{s:s}", "vr", "UI");
}

void rcy_dicomweb_stow_reply_add(rcy_stow_reply *r, const char *sop_class_uid, const char *sop_instance_uid,
                                 const char *study_uid, unsigned status) {
  json_t *item = json_pack("{s:o,s:o}", "00081150", ui(sop_class_uid), "00081155", ui(sop_instance_uid));
  if (status == 0) {
    char url[1024];
    snprintf(url, sizeof url, "%s/studies/%s/instances/%s", r->base, study_uid, sop_instance_uid);
    json_object_set_new(item, "00081190", json_pack("{s:s,s:[s]}", "vr", "UR", "Value", url));
    json_array_append_new(r->referenced, item);
    if (!r->study[0]) snprintf(r->study, sizeof r->study, "%s", study_uid);
  } else {
    json_object_set_new(item, "00081197", json_pack("{s:s,s:[i]}", "vr", "US", "Value", (int)status));
    json_array_append_new(r->failed, item);
  }
}

json_t *rcy_dicomweb_stow_reply_finish(rcy_stow_reply *r, unsigned *http_status) {
  size_t ok = json_array_size(r->referenced), bad = json_array_size(r->failed);
  *http_status = bad == 0 ? 200 : ok == 0 ? 409 : 202;
  json_t *o = json_object();
  if (r->study[0]) {
    char url[1024];
    snprintf(url, sizeof url, "%s/studies/%s", r->base, r->study);
    json_object_set_new(o, "00081190", json_pack("{s:s,s:[s]}", "vr", "UR", "Value", url));
  }
  json_t *seq = json_object();
  json_object_set_new(seq, "vr", json_string("SQ"));
  if (ok) json_object_set(seq, "Value", r->referenced);
  json_object_set_new(o, "00081199", seq);
  if (bad) json_object_set_new(o, "00081198", json_pack("{s:s,s:O}", "vr", "SQ", "Value", r->failed));
  return o;
}

void rcy_dicomweb_stow_reply_free(rcy_stow_reply *r) {
  if (!r) return;
  json_decref(r->referenced);
  json_decref(r->failed);
  free(r);
}
