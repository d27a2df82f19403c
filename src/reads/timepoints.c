/* A subject's timepoints as the archive index holds them (first study of each timepoint, by date: the first
 * is the baseline), and which read a user's role makes their own. */
#include "recistry/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rcy_reads_own_read(const rcy_user *u, const char **role, const char **reader) {
  if (strcmp(u->role, "central") == 0 || strcmp(u->role, "adjudicator") == 0) {
    *role = u->role;
    *reader = u->name;
    return 1;
  }
  if (strcmp(u->role, "site") == 0) {
    *role = "site";
    *reader = "site";
    return 1;
  }
  return 0;
}

/* ---- timepoints of a subject ---- */

typedef struct {
  rcy_timepoint_list *list;
  const char *subject;
  int oom;
} tp_ctx;

static int add_tp(void *ctx, const rcy_store_study *s) {
  tp_ctx *c = ctx;
  if (strcmp(s->subject_id, c->subject) != 0) return 0;
  for (size_t i = 0; i < c->list->n; i++)
    if (strcmp(c->list->items[i].timepoint, s->timepoint) == 0) return 0; /* first study of a timepoint */
  rcy_timepoint *items = realloc(c->list->items, (c->list->n + 1) * sizeof *items);
  if (!items) {
    c->oom = 1;
    return 1;
  }
  c->list->items = items;
  rcy_timepoint *t = &items[c->list->n++];
  snprintf(t->timepoint, sizeof t->timepoint, "%s", s->timepoint);
  snprintf(t->date, sizeof t->date, "%s", s->study_date);
  snprintf(t->study_uid, sizeof t->study_uid, "%s", s->study_uid);
  snprintf(t->modality, sizeof t->modality, "%s", s->modality);
  snprintf(t->site_id, sizeof t->site_id, "%s", s->site_id);
  return 0;
}

int rcy_reads_timepoints_load(rcy_timepoint_list *out, rcy_store *store, const char *subject_id, rcy_error *err) {
  out->items = NULL;
  out->n = 0;
  tp_ctx c = {out, subject_id, 0};
  /* Studies come ordered by date: the first one is the baseline. */
  int rc = rcy_store_subject_studies_each(store, subject_id, add_tp, &c, err);
  if (c.oom) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc) rcy_reads_timepoints_free(out);
  return rc;
}

void rcy_reads_timepoints_free(rcy_timepoint_list *l) {
  free(l->items);
  l->items = NULL;
  l->n = 0;
}

const rcy_timepoint *rcy_reads_timepoint_find(const rcy_timepoint_list *l, const char *timepoint) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->items[i].timepoint, timepoint) == 0) return &l->items[i];
  return NULL;
}

