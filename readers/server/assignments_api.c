/* GET/PUT /api/assignments: which central reader or adjudicator reads which subject (admin only). A PUT
 * replaces one subject's readers and is audited (assignment.set, readers before and after) in one
 * transaction. The worklist rule that uses them is in src/reads/assignments.c. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

static int admin_only(rcy_req *r) {
  if (strcmp(r->user.role, "admin") == 0) return 1;
  rcy_reply_error(r, 403, "only an admin manages reader assignments");
  return 0;
}

static int add_row(void *ctx, const rcy_store_assignment *a) {
  json_array_append_new(ctx, json_pack("{s:s,s:s,s:s,s:s}", "subject_id", a->subject_id, "reader", a->reader,
                                       "assigned_by", a->assigned_by, "assigned_at", a->assigned_at));
  return 0;
}

static int add_reader(void *ctx, const rcy_store_assignment *a) {
  void **c = ctx; /* {subject, array} */
  if (strcmp(a->subject_id, c[0]) == 0) json_array_append_new(c[1], json_string(a->reader));
  return 0;
}

static int reply_all(rcy_req *r, unsigned status) {
  json_t *rows = json_array();
  rcy_error err = {0};
  if (rcy_store_assignments_each(r->store, NULL, add_row, rows, &err)) {
    json_decref(rows);
    return rcy_reply_rcy_error(r, &err);
  }
  return rcy_reply_json(r, status, json_pack("{s:o}", "assignments", rows));
}

int rcy_handle_assignments_get(rcy_req *r) {
  if (!admin_only(r)) return 0;
  return reply_all(r, 200);
}

int rcy_handle_assignments_put(rcy_req *r) {
  if (!admin_only(r)) return 0;
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  const char *subject = json_string_value(json_object_get(body, "subject_id"));
  json_t *list = json_object_get(body, "readers");
  const char *names[32];
  size_t n = json_array_size(list), i;
  json_t *v;
  if (!subject || !*subject || strlen(subject) > 64) {
    rcy_reply_error(r, 400, "\"subject_id\" is required");
    goto out;
  }
  if (!json_is_array(list) || n > 32) {
    rcy_reply_error(r, 400, "\"readers\" must be an array of at most 32 account names ([] unassigns)");
    goto out;
  }
  json_array_foreach(list, i, v) {
    if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 64) {
      rcy_reply_error(r, 400, "\"readers\" must hold account names");
      goto out;
    }
    names[i] = json_string_value(v);
  }
  if (!rcy_subject_visible(r, subject)) {
    rcy_reply_error(r, 404, "no subject %s in the archive", subject);
    goto out;
  }
  rcy_error err = {0};
  if (rcy_store_begin(r->store, &err)) {
    rcy_reply_rcy_error(r, &err);
    goto out;
  }
  json_t *before = json_array();
  void *ctx[2] = {(void *)subject, before};
  int rc = rcy_store_assignments_each(r->store, NULL, add_reader, ctx, &err);
  json_t *bo = json_pack("{s:o}", "readers", before), *ao = json_pack("{s:O}", "readers", list);
  char *b = json_dumps(bo, JSON_COMPACT), *a = json_dumps(ao, JSON_COMPACT);
  json_decref(bo);
  json_decref(ao);
  rcy_audit_entry e = {r->user.name, "assignment.set", subject, NULL, NULL, NULL, NULL, b, a, NULL};
  if (!rc) rc = rcy_store_assignments_set(r->store, subject, names, n, r->user.name, &e, &err);
  if (!rc) rc = rcy_store_commit(r->store, &err);
  free(b);
  free(a);
  if (rc) {
    rcy_store_rollback(r->store);
    if (rc == RCY_ENOTFOUND)
      rcy_reply_error(r, 422, "%s", err.message);
    else
      rcy_reply_rcy_error(r, &err);
    goto out;
  }
  reply_all(r, 200);
out:
  json_decref(body);
  return 0;
}

/* POST /api/assignments/round-robin {"readers": [names], "per_subject": 1|2}: every unassigned subject to the
 * readers in turn (the rule: rcy_reads_assign_round_robin). */
int rcy_handle_assignments_round_robin(rcy_req *r) {
  if (!admin_only(r)) return 0;
  json_t *body = rcy_req_json_body(r);
  if (!body) return 0;
  json_t *list = json_object_get(body, "readers"), *per = json_object_get(body, "per_subject"), *v;
  const char *names[32];
  size_t n = json_array_size(list), i;
  if (!json_is_array(list) || n == 0 || n > 32) {
    rcy_reply_error(r, 400, "\"readers\" must be an array of 1-32 account names");
    goto out;
  }
  json_array_foreach(list, i, v) {
    if (!json_is_string(v) || !*json_string_value(v) || strlen(json_string_value(v)) > 64) {
      rcy_reply_error(r, 400, "\"readers\" must hold account names");
      goto out;
    }
    names[i] = json_string_value(v);
  }
  if (per && !json_is_integer(per)) {
    rcy_reply_error(r, 400, "\"per_subject\" must be 1 or 2");
    goto out;
  }
  json_t *done = NULL;
  rcy_error err = {0};
  int rc = rcy_reads_assign_round_robin(&done, r->store, names, n, per ? (int)json_integer_value(per) : 1,
                                        r->user.name, &err);
  if (rc == RCY_EINVAL || rc == RCY_ENOTFOUND) rcy_reply_error(r, rc == RCY_EINVAL ? 400 : 422, "%s", err.message);
  else if (rc) rcy_reply_rcy_error(r, &err);
  else rcy_reply_json(r, 200, json_pack("{s:o}", "assigned", done));
out:
  json_decref(body);
  return 0;
}
