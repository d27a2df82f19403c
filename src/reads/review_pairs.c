/* The archive's reads chosen and paired for concordance and endpoints: the site read, the final central read
 * (src/reads/review.c decides which), or each subject's first or second central reader. Only signed
 * timepoints count: a reader's unsigned work in progress is never compared or reported. */
#include "recistry/reads.h"

#include <stdlib.h>
#include <string.h>

typedef struct pick_ctx {
  rcy_store *store;
  const rcy_review_settings *s;
  const char *which;
  json_t *out;
} pick_ctx;

/* The engine input of one stored read restricted to its signed timepoints; NULL when its baseline is not
 * signed (or it has none). */
static json_t *signed_input(rcy_store *store, const char *subject, const char *role, const char *reader,
                            rcy_error *err) {
  char *text = NULL;
  if (rcy_store_read_get(&text, store, subject, role, reader, err)) return NULL;
  json_t *doc = json_loads(text, 0, NULL);
  free(text);
  rcy_timepoint_list tps = {0};
  json_t *in = NULL;
  if (doc && rcy_reads_timepoints_load(&tps, store, subject, err) == RCY_OK)
    in = rcy_reads_engine_input_timed(NULL, store, subject, doc, &tps, NULL);
  json_t *signoffs = json_object_get(doc, "signoffs");
  json_t *as = json_object_get(in, "assessments");
  for (size_t i = 0; in && i < json_array_size(as);) {
    const char *tp = json_string_value(json_object_get(json_array_get(as, i), "timepoint"));
    if (tp && json_object_get(signoffs, tp)) {
      i++;
      continue;
    }
    if (i == 0) { /* an unsigned baseline: nothing of this read counts */
      json_decref(in);
      in = NULL;
      break;
    }
    json_array_remove(as, i);
  }
  if (in) {
    json_object_set_new(in, "role", json_string(role));
    json_object_set_new(in, "reader", json_string(reader));
  }
  rcy_reads_timepoints_free(&tps);
  json_decref(doc);
  return in;
}

static int pick(void *ctx, const json_t *state, rcy_error *err) {
  pick_ctx *c = ctx;
  const char *subject = json_string_value(json_object_get(state, "subject_id"));
  const char *role = "central", *reader = NULL, *basis = NULL;
  if (strcmp(c->which, "site") == 0) {
    role = reader = "site";
  } else if (strcmp(c->which, "central") == 0) {
    json_t *f = json_object_get(state, "final");
    if (!json_is_object(f)) return 0;
    role = json_string_value(json_object_get(f, "role"));
    reader = json_string_value(json_object_get(f, "reader"));
    basis = json_string_value(json_object_get(f, "basis"));
  } else {
    json_t *names = json_object_get(state, "central_readers");
    reader = json_string_value(json_array_get(names, strcmp(c->which, "r1") == 0 ? 0 : 1));
    if (!reader || json_array_size(names) < 2) return 0; /* a pair needs both */
  }
  rcy_error e = {0};
  json_t *in = signed_input(c->store, subject, role, reader, &e);
  if (!in) return e.code && e.code != RCY_ENOTFOUND ? (*err = e, e.code) : 0;
  if (basis) json_object_set_new(in, "acceptance", json_string(basis));
  json_array_append_new(c->out, in);
  return 0;
}

int rcy_review_reads(json_t **out, rcy_store *store, const rcy_review_settings *s, const char *which, rcy_error *err) {
  if (strcmp(which, "site") && strcmp(which, "central") && strcmp(which, "r1") && strcmp(which, "r2"))
    return rcy_error_set(err, RCY_EINVAL, "reads must be site, central, r1 or r2, not '%s'", which);
  pick_ctx c = {store, s, which, json_array()};
  int rc = rcy_review_each(store, s, pick, &c, err);
  if (rc) {
    json_decref(c.out);
    return rc;
  }
  *out = c.out;
  return RCY_OK;
}

int rcy_review_concordance(char **out_text, rcy_store *store, const char *pair, bool unrounded, bool pretty,
                           rcy_error *err) {
  *out_text = NULL;
  const char *first, *second;
  if (pair && strcmp(pair, "site:central") == 0) first = "site", second = "central";
  else if (pair && strcmp(pair, "r1:r2") == 0) first = "r1", second = "r2";
  else return rcy_error_set(err, RCY_EINVAL, "--pair must be site:central or r1:r2");
  rcy_review_settings s;
  json_t *a = NULL, *b = NULL;
  int rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&a, store, &s, first, err);
  if (!rc) rc = rcy_review_reads(&b, store, &s, second, err);
  char *ta = rc ? NULL : json_dumps(a, JSON_COMPACT), *tb = rc ? NULL : json_dumps(b, JSON_COMPACT);
  char *report = NULL;
  if (!rc && (!ta || !tb)) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  rcy_recist_json_flags flags = {.unrounded = unrounded};
  if (!rc) rc = rcy_recist_json_concordance(&report, ta, strlen(ta), tb, strlen(tb), &flags, false, err);
  if (!rc) {
    json_t *r = json_loads(report, 0, NULL);
    if (!r) rc = rcy_error_set(err, RCY_EINTERNAL, "the concordance report is not JSON");
    else {
      json_object_set_new(r, "pair", json_string(pair));
      json_object_set_new(r, "paradigm", json_string(s.paradigm));
      *out_text = json_dumps(r, pretty ? JSON_INDENT(2) : JSON_COMPACT);
      if (!*out_text) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
      json_decref(r);
    }
  }
  free(report);
  free(ta);
  free(tb);
  json_decref(a);
  json_decref(b);
  return rc;
}
