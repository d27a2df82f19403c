/* One subject's registry data edited by an administrator in the workstation (GET/PUT /api/registry/{subject}):
 * the same rules as `recistry registry import` (rcy_registry_check), the site taken from the archive's images
 * (a registry row never moves a subject to another site), a reason required, and one audit row
 * (registry.edit, before and after) in the store's transaction. */
#include "recistry/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a JSON date field ("YYYY-MM-DD", null or absent = not given) into dst. */
static int get_date(char *dst, size_t size, const json_t *body, const char *key, rcy_error *err) {
  json_t *v = json_object_get(body, key);
  dst[0] = '\0';
  if (!v || json_is_null(v)) return 0;
  const char *s = json_string_value(v);
  if (!s || strlen(s) >= size) return rcy_error_set(err, RCY_EINVAL, "%s: give a date as YYYY-MM-DD, or null", key);
  snprintf(dst, size, "%s", s);
  return 0;
}

int rcy_registry_edit(rcy_registry_subject *out, rcy_store *store, const char *subject_id, const json_t *body,
                      const char *actor, const char *reason, rcy_error *err) {
  static const char *const keys[] = {"treatment_start", "indication", "liver_only", "death_date",
                                     "last_contact_date", "secondary_resection_date", "reason", NULL};
  if (!json_is_object(body)) return rcy_error_set(err, RCY_EINVAL, "the body must be a JSON object");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)body, k, v) {
    int known = 0;
    for (const char *const *p = keys; *p; p++) known |= strcmp(*p, k) == 0;
    if (!known) return rcy_error_set(err, RCY_EINVAL, "unknown field '%s'", k);
  }
  char why[RCY_REASON_MAX + 1];
  int ok = rcy_reads_reason(why, sizeof why, reason);
  if (ok < 0) return rcy_error_set(err, RCY_EINVAL, "reason: at most %d bytes of text", RCY_REASON_MAX);
  if (!ok) return rcy_error_set(err, RCY_EINVAL, "a reason is required: say why the registry data change");
  int found = 0;
  rcy_registry_subject s;
  memset(&s, 0, sizeof s);
  int rc = rcy_store_subject_site(&found, s.site_id, store, subject_id, err);
  if (rc) return rc;
  if (!found) return rcy_error_set(err, RCY_ENOTFOUND, "the archive holds no images of subject %s", subject_id);
  if (strlen(subject_id) >= sizeof s.subject_id) return rcy_error_set(err, RCY_EINVAL, "subject_id: too long");
  snprintf(s.subject_id, sizeof s.subject_id, "%s", subject_id);
  if ((rc = get_date(s.treatment_start, sizeof s.treatment_start, body, "treatment_start", err)) ||
      (rc = get_date(s.death_date, sizeof s.death_date, body, "death_date", err)) ||
      (rc = get_date(s.last_contact_date, sizeof s.last_contact_date, body, "last_contact_date", err)) ||
      (rc = get_date(s.secondary_resection_date, sizeof s.secondary_resection_date, body, "secondary_resection_date",
                     err)))
    return rc;
  json_t *ind = json_object_get(body, "indication"), *lo = json_object_get(body, "liver_only");
  if (ind && !json_is_null(ind)) {
    const char *i = json_string_value(ind);
    if (!i || strlen(i) >= sizeof s.indication)
      return rcy_error_set(err, RCY_EINVAL, "indication: '%s' is not a known indication", i ? i : "(not text)");
    snprintf(s.indication, sizeof s.indication, "%s", i);
  }
  if (lo && !json_is_null(lo) && !json_is_boolean(lo))
    return rcy_error_set(err, RCY_EINVAL, "liver_only: true, false or null");
  s.liver_only = !lo || json_is_null(lo) ? -1 : json_is_true(lo);
  if ((rc = rcy_registry_check(&s, NULL, err))) return rc;
  rcy_registry_subject before;
  rcy_error e = {0};
  int had = rcy_store_registry_get(&before, store, subject_id, &e);
  if (had && had != RCY_ENOTFOUND) return *err = e, had;
  char *before_text = had == 0 ? rcy_registry_subject_to_json(&before) : NULL;
  char *after_text = rcy_registry_subject_to_json(&s);
  rcy_audit_entry a = {.actor = actor, .action = "registry.edit", .subject_id = subject_id,
                       .before_json = before_text, .after_json = after_text, .reason = why};
  rc = after_text ? rcy_store_registry_put(store, &s, &a, err) : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  free(before_text);
  free(after_text);
  if (rc) return rc;
  return rcy_store_registry_get(out, store, subject_id, err);
}
