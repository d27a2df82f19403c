/* The registry data of one subject in the workstation: GET for QA and admin (404 for everyone else, as for
 * an invisible subject), PUT for admin only, with a reason (the rules and the audit row are in
 * src/reads/registry_edit.c). */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

static int may_view(const rcy_req *r) {
  return strcmp(r->user.role, "qa") == 0 || strcmp(r->user.role, "admin") == 0;
}

static int reply_row(rcy_req *r, const rcy_registry_subject *s, int found, const char *subject) {
  json_t *row = NULL;
  if (found) {
    char *text = rcy_registry_subject_to_json(s);
    row = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!row) return rcy_reply_error(r, 500, "out of memory");
  }
  json_t *ind = json_array();
  for (size_t i = 0; i < rcy_registry_n_indications; i++)
    json_array_append_new(ind, json_string(rcy_registry_indications[i]));
  return rcy_reply_json(r, 200, json_pack("{s:s,s:o,s:o,s:b}", "subject_id", subject, "registry",
                                          row ? row : json_null(), "indications", ind, "editable",
                                          strcmp(r->user.role, "admin") == 0));
}

int rcy_handle_registry_get(rcy_req *r, const char *subject) {
  if (!may_view(r)) return rcy_reply_error(r, 403, "registry data are for QA and administrators");
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  rcy_registry_subject s;
  rcy_error err = {0};
  int rc = rcy_store_registry_get(&s, r->store, subject, &err);
  if (rc && rc != RCY_ENOTFOUND) return rcy_reply_rcy_error(r, &err);
  return reply_row(r, &s, rc == 0, subject);
}

int rcy_handle_registry_put(rcy_req *r, const char *subject) {
  if (strcmp(r->user.role, "admin") != 0)
    return rcy_reply_error(r, 403, "only an administrator may change registry data");
  if (!rcy_subject_visible(r, subject)) return rcy_reply_error(r, 404, "no subject %s visible to you", subject);
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  rcy_registry_subject s;
  rcy_error err = {0};
  int rc = rcy_registry_edit(&s, r->store, subject, body,
                             r->user.name, json_string_value(json_object_get(body, "reason")), &err);
  json_decref(body);
  if (rc == RCY_EINVAL) return rcy_reply_error(r, 422, "%s", err.message);
  if (rc) return rcy_reply_rcy_error(r, &err);
  return reply_row(r, &s, 1, subject);
}
