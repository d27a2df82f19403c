/* Reader assignments in the worklist: an admin assigns subjects to central readers and adjudicators
 * (store: table assignments). The rule: a reader with at least one assignment sees only their assigned
 * subjects; a reader with none sees every subject (as before assignments existed), so that a registry which
 * does not assign keeps working. Each subject of a reader's worklist says whether it is assigned to them;
 * QA and admin see every subject with the names of its readers. Site users are not affected. Who may open a
 * subject is not changed by this (rcy_reads_subject_visible): assignments organise work, they do not blind.
 */
#include "recistry/reads.h"

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
