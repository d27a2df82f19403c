/* The subjects a DICOMweb user may see: the workstation's visibility (src/reads) and, for a central reader or
 * adjudicator with assignments, only the assigned subjects, as the worklist shows them. */
#include "scope.h"

#include "recistry/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rcy_dicomweb_scope *s;
  size_t cap;
  int oom;
} collect_ctx;

static int collect(void *ctx, const rcy_store_assignment *a) {
  collect_ctx *c = ctx;
  if (c->s->n_assigned == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    char **p = realloc(c->s->assigned, cap * sizeof *p);
    if (!p) return c->oom = 1;
    c->s->assigned = p;
    c->cap = cap;
  }
  if (!(c->s->assigned[c->s->n_assigned] = strdup(a->subject_id))) return c->oom = 1;
  c->s->n_assigned++;
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int rcy_dicomweb_scope_init(rcy_dicomweb_scope *s, rcy_store *store, const rcy_user *user, rcy_error *err) {
  memset(s, 0, sizeof *s);
  s->store = store;
  s->user = user;
  if (strcmp(user->role, "central") != 0 && strcmp(user->role, "adjudicator") != 0) return RCY_OK;
  collect_ctx c = {s, 0, 0};
  int rc = rcy_store_assignments_each(store, user->name, collect, &c, err);
  if (c.oom) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc) {
    rcy_dicomweb_scope_clear(s);
    return rc;
  }
  if (s->n_assigned) qsort(s->assigned, s->n_assigned, sizeof *s->assigned, by_name);
  return RCY_OK;
}

int rcy_dicomweb_scope_visible(rcy_dicomweb_scope *s, const char *subject_id) {
  if (strcmp(s->last, subject_id) == 0) return s->last_visible;
  snprintf(s->last, sizeof s->last, "%s", subject_id);
  s->last_visible =
      (!s->n_assigned || bsearch(&subject_id, s->assigned, s->n_assigned, sizeof *s->assigned, by_name)) &&
      rcy_reads_subject_visible(s->store, s->user, subject_id);
  return s->last_visible;
}

void rcy_dicomweb_scope_clear(rcy_dicomweb_scope *s) {
  for (size_t i = 0; i < s->n_assigned; i++)
    free(s->assigned[i]);
  free(s->assigned);
  s->assigned = NULL;
  s->n_assigned = 0;
}
