/* QA's figures over HTTP: GET /api/concordance?pair=site:central|r1:r2 (the report of `recistry concordance
 * --archive --pair`, src/reads/review_pairs.c) and GET /api/reader-qc (src/qa/reader_qc.c). Only QA and admin
 * accounts: these figures pool every reader's reads, so a central reader reaching them would learn the other
 * reader's results, and a site user the central ones. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

#include "recistry/qa.h"

static int qa_or_admin(rcy_req *r) {
  if (strcmp(r->user.role, "qa") == 0 || strcmp(r->user.role, "admin") == 0) return 1;
  rcy_reply_error(r, 403, "concordance and reader QC are for QA and admin accounts");
  return 0;
}

int rcy_handle_concordance(rcy_req *r) {
  if (!qa_or_admin(r)) return 0;
  const char *pair = rcy_req_query(r, "pair");
  if (!pair) pair = "site:central";
  if (strcmp(pair, "site:central") != 0 && strcmp(pair, "r1:r2") != 0)
    return rcy_reply_error(r, 400, "pair must be site:central or r1:r2");
  rcy_error err = {0};
  char *text = NULL;
  if (rcy_review_concordance(&text, r->store, pair, false, false, &err)) return rcy_reply_rcy_error(r, &err);
  json_t *body = json_loads(text, 0, NULL);
  free(text);
  if (!body) return rcy_reply_error(r, 500, "the concordance report is not JSON");
  return rcy_reply_json(r, 200, body);
}

int rcy_handle_reader_qc(rcy_req *r) {
  if (!qa_or_admin(r)) return 0;
  rcy_error err = {0};
  json_t *qc = NULL;
  if (rcy_qa_reader_qc(&qc, r->store, &err)) return rcy_reply_rcy_error(r, &err);
  return rcy_reply_json(r, 200, qc);
}
