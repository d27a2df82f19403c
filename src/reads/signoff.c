/* Sign-off of a timepoint as an electronic signature (21 CFR Part 11 style): what must be true before a
 * reader may sign (the timepoint's read is complete, the baseline signed first), and the signature record
 * itself — who, when and what the signature means. The HTTP handler only checks the password and calls
 * these; the rules are the read model's, so that any other way of signing obeys the same ones. */
#include "recistry/reads.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int kind_is(const json_t *l, const char *kind) {
  const char *k = json_string_value(json_object_get(l, "kind"));
  return k && strcmp(k, kind) == 0;
}

/* Appends "; item" (or the first item) to msg, keeping it NUL-terminated within size. */
static void add_item(char *msg, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_item(char *msg, size_t size, size_t *n, const char *fmt, ...) {
  size_t len = strlen(msg);
  if (len + 8 >= size) return;
  if (*n) len += (size_t)snprintf(msg + len, size - len, "; ");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + len, size - len, fmt, ap);
  va_end(ap);
  (*n)++;
}

/* Whether a target's observation counts as assessed: measured (a diameter), or a state, fragments or merge
 * (follow-ups only; at baseline a target is measured). */
static int target_assessed(const json_t *obs, int at_baseline) {
  if (json_is_number(json_object_get(obs, "diameter_mm"))) return 1;
  if (at_baseline) return 0;
  return json_is_string(json_object_get(obs, "state")) ||
         json_is_array(json_object_get(obs, "fragments_mm")) ||
         json_is_string(json_object_get(obs, "merged_into"));
}

int rcy_reads_sign_check(const json_t *doc, const rcy_timepoint_list *tps, const char *tp, char *msg,
                         size_t size) {
  msg[0] = '\0';
  if (!tps->n || !rcy_reads_timepoint_find(tps, tp)) {
    snprintf(msg, size, "there is no timepoint %s to sign", tp);
    return 404;
  }
  const char *bl = tps->items[0].timepoint;
  int at_baseline = strcmp(tp, bl) == 0;
  if (!at_baseline && !json_object_get(json_object_get(doc, "signoffs"), bl)) {
    snprintf(msg, size, "%s cannot be signed before the baseline: sign %s first", tp, bl);
    return 422;
  }
  char list[900] = "";
  size_t n = 0, n_lesions = 0;
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(doc, "lesions"), i, l) {
    const char *id = json_string_value(json_object_get(l, "lesion_id"));
    const char *added = json_string_value(json_object_get(l, "timepoint"));
    json_t *obs = json_object_get(json_object_get(l, "observations"), tp);
    if (!id) continue;
    if (kind_is(l, "target")) {
      n_lesions++;
      if (!target_assessed(obs, at_baseline))
        add_item(list, sizeof list, &n,
                 at_baseline ? "target %s is not measured"
                             : "target %s is neither measured "
                               "nor given a state",
                 id);
    } else if (kind_is(l, "non_target")) {
      n_lesions++;
      if (!json_is_string(json_object_get(obs, "state")))
        add_item(list, sizeof list, &n, "non-target %s has no state", id);
    } else if (kind_is(l, "new")) {
      /* A new lesion is assessed where it was recorded; later follow-ups may restate it but need not. */
      if (added && strcmp(added, tp) == 0 && !json_is_string(json_object_get(obs, "state")))
        add_item(list, sizeof list, &n, "new lesion %s has no state (equivocal or unequivocal)", id);
    }
  }
  if (at_baseline && n_lesions == 0) {
    snprintf(msg, size, "%s cannot be signed yet: no target or non-target lesion is recorded at baseline",
             tp);
    return 422;
  }
  if (n) {
    snprintf(msg, size, "%s cannot be signed yet: %s", tp, list);
    return 422;
  }
  return 0;
}

json_t *rcy_reads_signoff_new(const char *signed_by, const char *signed_at, const char *meaning) {
  return json_pack("{s:s,s:s,s:s}", "signed_by", signed_by, "signed_at", signed_at, "meaning", meaning);
}
