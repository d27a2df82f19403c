/* Reader assignments in the worklist: an admin assigns subjects to central readers and adjudicators
 * (store: table assignments). The rule: a reader with at least one assignment sees only their assigned
 * subjects; a reader with none sees every subject (as before assignments existed), so that a registry which
 * does not assign keeps working. Each subject of a reader's worklist says whether it is assigned to them;
 * QA and admin see every subject with the names of its readers. Site users are not affected. Who may open a
 * subject is not changed by this (rcy_reads_subject_visible): assignments organise work, they do not blind.
 */
#include "recistry/reads.h"

#include <stdlib.h>
#include <string.h>

static int collect(void *ctx, const rcy_store_assignment *a) {
  json_t *by_subject = ctx;
  json_t *list = json_object_get(by_subject, a->subject_id);
  if (!list) json_object_set_new(by_subject, a->subject_id, list = json_array());
  json_array_append_new(list, json_string(a->reader));
  return 0;
}

int rcy_reads_worklist_scope(json_t *subjects, rcy_store *store, const rcy_user *user, rcy_error *err) {
  int reader = strcmp(user->role, "central") == 0 || strcmp(user->role, "adjudicator") == 0;
  int overseer = strcmp(user->role, "qa") == 0 || strcmp(user->role, "admin") == 0;
  if (!reader && !overseer) return RCY_OK;
  json_t *by_subject = json_object();
  int rc = rcy_store_assignments_each(store, reader ? user->name : NULL, collect, by_subject, err);
  if (rc) {
    json_decref(by_subject);
    return rc;
  }
  int mine = reader && json_object_size(by_subject) > 0;
  for (size_t i = 0; i < json_array_size(subjects);) {
    json_t *s = json_array_get(subjects, i);
    json_t *readers = json_object_get(by_subject, json_string_value(json_object_get(s, "subject_id")));
    if (mine && !readers) {
      json_array_remove(subjects, i);
      continue;
    }
    if (reader)
      json_object_set_new(s, "assigned", json_boolean(readers != NULL));
    else
      json_object_set_new(s, "readers", readers ? json_incref(readers) : json_array());
    i++;
  }
  json_decref(by_subject);
  return RCY_OK;
}

/* ---- round-robin assignment ---- */

typedef struct {
  json_t *subjects; /* every subject with studies, in order */
  json_t *assigned; /* subject -> true */
} rr_ctx;

static int rr_subject(void *ctx, const rcy_store_study *s) {
  rr_ctx *c = ctx;
  size_t n = json_array_size(c->subjects);
  const char *last = n ? json_string_value(json_array_get(c->subjects, n - 1)) : NULL;
  if (!last || strcmp(last, s->subject_id) != 0) json_array_append_new(c->subjects, json_string(s->subject_id));
  return 0;
}

static int rr_assigned(void *ctx, const rcy_store_assignment *a) {
  json_object_set_new(((rr_ctx *)ctx)->assigned, a->subject_id, json_true());
  return 0;
}

int rcy_reads_assign_round_robin(json_t **out, rcy_store *store, const char *const *readers, size_t n,
                                 int per_subject, const char *actor, rcy_error *err) {
  *out = NULL;
  if (per_subject != 1 && per_subject != 2)
    return rcy_error_set(err, RCY_EINVAL, "per_subject must be 1 (single reading) or 2 (double reading: R1, R2)");
  if (n < (size_t)per_subject)
    return rcy_error_set(err, RCY_EINVAL, "%d reader%s per subject need%s at least %d names", per_subject,
                         per_subject > 1 ? "s" : "", per_subject > 1 ? "" : "s", per_subject);
  for (size_t i = 0; i < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (strcmp(readers[i], readers[k]) == 0) return rcy_error_set(err, RCY_EINVAL, "%s is listed twice", readers[i]);
  rr_ctx c = {json_array(), json_object()};
  json_t *done = json_array();
  int rc = rcy_store_begin(store, err);
  if (rc) goto out;
  rc = rcy_store_studies_each(store, NULL, rr_subject, &c, err);
  if (!rc) rc = rcy_store_assignments_each(store, NULL, rr_assigned, &c, err);
  size_t next = 0, i;
  json_t *sv;
  json_array_foreach(c.subjects, i, sv) {
    if (rc) break;
    const char *subject = json_string_value(sv);
    if (json_object_get(c.assigned, subject)) continue; /* the admin's earlier choice stands */
    const char *names[2];
    json_t *list = json_array();
    /* The j-th subject: R1 = reader j mod n; R2 the reader 1 + ((j / n) mod (n - 1)) places on. Over n(n-1)
     * subjects every ordered pair of readers occurs once, so each reader is R1 and R2 equally often (a reader
     * is never R1 throughout, which would tie the final-read rule to one person). */
    size_t j = next++;
    names[0] = readers[j % n];
    if (per_subject == 2) names[1] = readers[(j % n + 1 + (j / n) % (n - 1)) % n];
    for (int k = 0; k < per_subject; k++) json_array_append_new(list, json_string(names[k]));
    json_t *after = json_pack("{s:O}", "readers", list);
    char *a = json_dumps(after, JSON_COMPACT);
    json_decref(after);
    rcy_audit_entry e = {actor, "assignment.set", subject, NULL, NULL, NULL, NULL, "{\"readers\":[]}", a,
                         "round-robin assignment"};
    rc = rcy_store_assignments_set(store, subject, names, (size_t)per_subject, actor, &e, err);
    free(a);
    json_array_append_new(done, json_pack("{s:s,s:o}", "subject_id", subject, "readers", list));
  }
  if (!rc) rc = rcy_store_commit(store, err);
  else rcy_store_rollback(store);
out:
  json_decref(c.subjects);
  json_decref(c.assigned);
  if (rc) json_decref(done);
  else *out = done;
  return rc;
}
