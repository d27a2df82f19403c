/* Who may see what: a site user only their own site's subjects; a reader with a read of their own (central,
 * adjudicator, site) only that read, never another reader's (blinding); QA and admin every read. Every image,
 * read and key image the workstation serves goes through these two rules. */
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

int rcy_reads_read_visible(rcy_store *store, const rcy_user *user, const char *subject, const char *role,
                           const char *reader) {
  const char *own_role, *own_reader;
  if (rcy_reads_own_read(user, &own_role, &own_reader) &&
      (strcmp(role, own_role) != 0 || strcmp(reader, own_reader) != 0))
    return 0;
  return rcy_reads_subject_visible(store, user, subject);
}
