/* GET /api/audit: the audit-log viewer of QA and admin. Parses the query parameters into the read model's
 * audit query (each checked there, 400 naming the parameter) and replies with the page it builds; who may
 * read the log is the read model's rule (rcy_reads_audit_may_view), so the command line applies the same. */
#include "server_internal.h"

static const char *const params[] = {"subject", "reader", "action", "from", "to", "before", "limit"};

int rcy_handle_audit(rcy_req *r) {
  if (!rcy_reads_audit_may_view(&r->user))
    return rcy_reply_error(r, 403, "the audit log is for QA and administrators");
  rcy_reads_audit_query q;
  rcy_reads_audit_query_init(&q);
  rcy_error err = {0};
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
    if (rcy_reads_audit_query_set(&q, params[i], rcy_req_query(r, params[i]), &err))
      return rcy_reply_error(r, 400, "%s", err.message);
  json_t *page;
  if (rcy_reads_audit_page(&page, r->store, &q, &err)) return rcy_reply_rcy_error(r, &err);
  return rcy_reply_json(r, 200, page);
}
