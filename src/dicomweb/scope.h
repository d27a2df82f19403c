/* Who sees which subject over DICOMweb (not public): the workstation's rules in one place for QIDO and
 * WADO — src/reads' subject visibility (a site account: its own site), and the worklist's narrowing of a
 * central reader or adjudicator with assignments to their assigned subjects (rcy_reads_worklist_scope). */
#ifndef RECISTRY_DICOMWEB_SCOPE_H
#define RECISTRY_DICOMWEB_SCOPE_H

#include "recistry/store.h"

typedef struct rcy_dicomweb_scope {
  rcy_store *store;
  const rcy_user *user;
  char **assigned; /* the reader's assigned subjects, sorted; NULL when not narrowed */
  size_t n_assigned;
  char last[65]; /* rows come grouped by subject: the last answer is kept */
  int last_visible;
} rcy_dicomweb_scope;

int rcy_dicomweb_scope_init(rcy_dicomweb_scope *s, rcy_store *store, const rcy_user *user, rcy_error *err);
int rcy_dicomweb_scope_visible(rcy_dicomweb_scope *s, const char *subject_id);
void rcy_dicomweb_scope_clear(rcy_dicomweb_scope *s);

#endif
