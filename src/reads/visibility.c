/* Who may see what: a site user only their own site's subjects; a reader with a read of their own (central,
 * adjudicator, site) only that read, never another reader's (blinding); QA and admin every read. One exception
 * opens the blinding, and only after both central reads are complete: an adjudicator sees the central reads of
 * a subject that waits for adjudication or has been adjudicated (src/reads/review.c). Every image, read and
 * key image the workstation serves goes through these two rules. */
#include "recistry/reads.h"

#include <string.h>

int rcy_reads_subject_visible(rcy_store *store, const rcy_user *user, const char *subject_id) {
  rcy_timepoint_list l;
  rcy_error err = {0};
  if (rcy_reads_timepoints_load(&l, store, subject_id, &err)) return 0;
  int ok = l.n > 0 && (strcmp(user->role, "site") != 0 || strcmp(l.items[0].site_id, user->site_id) == 0);
  rcy_reads_timepoints_free(&l);
  return ok;
}

/* Whether the subject's central reads are open to adjudicators (triggered, stale or adjudicated). */
static int open_to_adjudicator(rcy_store *store, const char *subject, const char *reader) {
  rcy_review_settings s;
  json_t *state = NULL;
  rcy_error err = {0};
  if (rcy_review_settings_load(&s, store, &err) || strcmp(s.paradigm, "double") != 0 ||
      rcy_review_subject(&state, store, &s, subject, &err))
    return 0;
  const char *status = json_string_value(json_object_get(state, "status"));
  json_t *readers = json_object_get(state, "readers");
  const char *r1 = json_string_value(json_object_get(readers, "r1")), *r2 = json_string_value(json_object_get(readers, "r2"));
  int ok = status && (strcmp(status, "triggered") == 0 || strcmp(status, "stale") == 0 || strcmp(status, "adjudicated") == 0) &&
           ((r1 && strcmp(r1, reader) == 0) || (r2 && strcmp(r2, reader) == 0));
  json_decref(state);
  return ok;
}

int rcy_reads_read_visible(rcy_store *store, const rcy_user *user, const char *subject, const char *role,
                           const char *reader) {
  const char *own_role, *own_reader;
  if (strcmp(user->role, "adjudicator") == 0 && strcmp(role, "central") == 0)
    return open_to_adjudicator(store, subject, reader) && rcy_reads_subject_visible(store, user, subject);
  if (rcy_reads_own_read(user, &own_role, &own_reader) &&
      (strcmp(role, own_role) != 0 || strcmp(reader, own_reader) != 0))
    return 0;
  return rcy_reads_subject_visible(store, user, subject);
}
