/* Registry endpoints over HTTP, for QA and admin only (they pool every subject's reads and registry data):
 * GET /api/endpoints?reader=site|central&by=indication|none — the document of `recistry endpoints --archive
 * DIR --reader R [--by indication] --json` (the same src/qa run) — and GET /api/endpoints/subjects?reader=…,
 * each analysed subject's plot data (waterfall, spider, swimmer; src/qa/endpoint_subjects.c). Thin: parse,
 * call src/qa, reply. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"

static int qa_or_admin(rcy_req *r) {
  if (strcmp(r->user.role, "qa") == 0 || strcmp(r->user.role, "admin") == 0) return 1;
  rcy_reply_error(r, 403, "registry endpoints are for QA and admin accounts");
  return 0;
}

/* reader= (default central); 0 after replying 400. */
static const char *reader_param(rcy_req *r) {
  const char *reader = rcy_req_query(r, "reader");
  if (!reader || !reader[0]) return "central";
  if (strcmp(reader, "site") == 0 || strcmp(reader, "central") == 0) return reader;
  rcy_reply_error(r, 400, "reader must be site or central");
  return NULL;
}

/* An endpoints run that fails on the archive's data (a read without a registry row…) is the data's
 * problem, not the request's: 409 with the message naming the subject. */
static int reply_failure(rcy_req *r, const rcy_error *err) {
  if (err->code == RCY_EINVAL) return rcy_reply_error(r, 409, "%s", err->message);
  return rcy_reply_rcy_error(r, err);
}

int rcy_handle_endpoints(rcy_req *r) {
  if (!qa_or_admin(r)) return 0;
  const char *reader = reader_param(r);
  if (!reader) return 0;
  const char *by = rcy_req_query(r, "by");
  if (by && by[0] && strcmp(by, "indication") != 0 && strcmp(by, "none") != 0)
    return rcy_reply_error(r, 400, "by must be indication or none");
  const bool by_indication = by && strcmp(by, "indication") == 0;
  rcy_error err = {0};
  char *text = NULL;
  if (rcy_qa_endpoints_archive_json(&text, r->store, reader, by_indication, false, NULL, NULL, &err))
    return reply_failure(r, &err);
  json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);
  free(text);
  if (!body) return rcy_reply_error(r, 500, "the endpoints document is not JSON");
  return rcy_reply_json(r, 200, body);
}

int rcy_handle_endpoint_subjects(rcy_req *r) {
  if (!qa_or_admin(r)) return 0;
  const char *reader = reader_param(r);
  if (!reader) return 0;
  rcy_error err = {0};
  json_t *subjects = NULL;
  size_t n_unread = 0;
  if (rcy_qa_endpoints_archive(NULL, &n_unread, &subjects, r->store, reader, false, NULL, NULL, &err))
    return reply_failure(r, &err);
  return rcy_reply_json(
      r, 200,
      json_pack("{sssosI}", "reader", reader, "subjects", subjects, "n_unread", (json_int_t)n_unread));
}
