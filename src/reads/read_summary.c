/* What the workstation tells a reader about a read beyond its lesions, derived here so that no screen
 * re-implements a rule: which states each lesion may take at each timepoint (the one state rule,
 * rcy_reads_state_rule), which CR/PR of the engine's output are not confirmed, which reads a subject has
 * (for QA's read picker) and each read's status per timepoint (for QA's worklist). Nothing here computes a
 * response: confirmation compares two runs of the engine (with and without confirmation). */
#include "recistry/reads.h"

#include <stdlib.h>
#include <string.h>

/* Every state of every kind, in the order menus list them. The rule decides which one applies where. */
static const char *const all_states[] = {"too_small", "disappeared",   "present",   "absent",
                                         "unequivocal_progression", "not_evaluable", "equivocal", "unequivocal",
                                         NULL};

json_t *rcy_reads_allowed_states(const char *kind, int at_baseline) {
  json_t *out = json_array();
  char why[200];
  for (const char *const *s = all_states; *s; s++)
    if (kind && rcy_reads_state_rule(kind, *s, at_baseline, why, sizeof why) == 0)
      json_array_append_new(out, json_string(*s));
  return out;
}

void rcy_reads_view_add_allowed_states(json_t *lesions, const rcy_timepoint_list *tps) {
  size_t i;
  json_t *l;
  json_array_foreach(lesions, i, l) {
    const char *kind = json_string_value(json_object_get(l, "kind"));
    const char *added = json_string_value(json_object_get(l, "timepoint"));
    const rcy_timepoint *first = added && !strcmp(kind ? kind : "", "new") ? rcy_reads_timepoint_find(tps, added) : NULL;
    json_t *by_tp = json_object();
    for (size_t t = 0; t < tps->n; t++) {
      /* A new lesion has no state before the timepoint it was first seen at. */
      json_object_set_new(by_tp, tps->items[t].timepoint,
                          first && &tps->items[t] < first ? json_array() : rcy_reads_allowed_states(kind, t == 0));
    }
    json_object_set_new(l, "allowed_states", by_tp);
  }
}

static int rank(const char *r) {
  if (!r) return 0;
  return strcmp(r, "CR") == 0 ? 2 : strcmp(r, "PR") == 0 ? 1 : 0;
}

json_t *rcy_reads_confirmation(const json_t *input, const json_t *engine) {
  json_t *min_days = json_object_get(json_object_get(input, "options"), "confirmation_min_days");
  json_t *out = json_pack("{s:b,s:I}", "required", 1, "min_days", min_days ? json_integer_value(min_days) : 28);
  const char *bor = json_string_value(json_object_get(engine, "best_overall_response"));
  json_t *unconfirmed = json_array();
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(engine, "timepoints"), i, t) {
    const char *o = json_string_value(json_object_get(t, "overall_response"));
    /* A CR or PR better than the confirmed best response was not confirmed (RECIST 1.1: a CR/PR needs a
     * second assessment at least min_days later). */
    if (rank(o) > rank(bor)) json_array_append(unconfirmed, json_object_get(t, "timepoint"));
  }
  json_object_set_new(out, "unconfirmed_timepoints", unconfirmed);
  /* The best response the engine finds without confirmation: what the read reaches once it is confirmed. */
  json_t *copy = json_deep_copy(input), *plain = NULL;
  char *error = NULL;
  json_t *opts = json_object_get(copy, "options");
  if (!opts) json_object_set_new(copy, "options", opts = json_object());
  json_object_set_new(opts, "confirmation", json_false());
  if (rcy_reads_engine_run(&plain, &error, copy) == 0)
    json_object_set(out, "best_overall_response_unconfirmed", json_object_get(plain, "best_overall_response"));
  else
    json_object_set_new(out, "best_overall_response_unconfirmed", json_null());
  json_decref(plain);
  json_decref(copy);
  free(error);
  return out;
}

/* ---- the reads of a subject ---- */

typedef struct {
  const char *subject;
  json_t *out; /* subject given: array; else object subject -> array */
} list_ctx;

static int collect(void *ctx, const char *subject_id, const char *role, const char *reader, const char *doc) {
  list_ctx *c = ctx;
  if (c->subject && strcmp(c->subject, subject_id) != 0) return 0;
  json_t *d = json_loads(doc, 0, NULL);
  json_t *entry = json_pack("{s:s,s:s,s:o}", "role", role, "reader", reader, "doc", d ? d : json_object());
  json_t *list = c->out;
  if (!c->subject) {
    list = json_object_get(c->out, subject_id);
    if (!list) json_object_set_new(c->out, subject_id, list = json_array());
  }
  json_array_append_new(list, entry);
  return 0;
}

int rcy_reads_of_subjects(json_t **out, rcy_store *store, const char *subject, rcy_error *err) {
  static const char *const roles[] = {"site", "central", "adjudicator"};
  list_ctx c = {subject, subject ? json_array() : json_object()};
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
    int rc = rcy_store_read_each(store, roles[i], NULL, collect, &c, err);
    if (rc) {
      json_decref(c.out);
      *out = NULL;
      return rc;
    }
  }
  *out = c.out;
  return RCY_OK;
}

json_t *rcy_reads_statuses(const json_t *reads, const char *timepoint) {
  json_t *out = json_array();
  size_t i;
  json_t *r;
  json_array_foreach(reads, i, r) {
    json_array_append_new(out, json_pack("{s:O,s:O,s:s}", "role", json_object_get(r, "role"), "reader",
                                         json_object_get(r, "reader"), "status",
                                         rcy_reads_tp_status(json_object_get(r, "doc"), timepoint)));
  }
  return out;
}

const char *rcy_reads_overall_status(const json_t *statuses) {
  size_t i, n_signed = 0, n_started = 0;
  json_t *s;
  json_array_foreach(statuses, i, s) {
    const char *st = json_string_value(json_object_get(s, "status"));
    if (st && strcmp(st, "signed") == 0) n_signed++;
    if (st && strcmp(st, "to_read") != 0) n_started++;
  }
  size_t n = json_array_size(statuses);
  if (n && n_signed == n) return "signed";
  return n_started ? "in_progress" : "to_read";
}
