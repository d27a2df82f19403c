/* The checks every instance passes before it is stored: its values fit their VRs (nothing is ever cut to
 * fit), its UIDs are valid, it is what the request says it is, it belongs to the sending site (Clinical Trial
 * Site ID), its subject ID follows the site's pattern, and it is anonymised: Patient Identity Removed = YES,
 * Burned In Annotation a clear NO (or absent), the PS3.15 profile of deid_profile.c at every depth, and
 * private data elements only as [policy] private_tags allows. Verdicts name attributes, never their values.
 */
#include "ingest_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int rcy_ingest_valid_uid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  size_t start = 0; /* first character of the current component */
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      if (i == start) return 0;                       /* empty component: leading, trailing or double dot */
      if (s[start] == '0' && i - start > 1) return 0; /* leading zero */
      start = i + 1;
    } else if (s[i] < '0' || s[i] > '9') {
      return 0;
    }
  }
  return 1;
}

static void refuse(rcy_verdict *v, rcy_verdict_kind kind, unsigned status, const char *comment,
                   const char *reason) {
  v->kind = kind;
  v->status = status;
  snprintf(v->comment, sizeof v->comment, "%s", comment);
  snprintf(v->reason, sizeof v->reason, "%s", reason ? reason : comment);
}

/* Appends a name to a comma-separated list, keeping it within cap. */
static void add_name(char *list, size_t cap, const char *name) {
  size_t n = strlen(list);
  snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* Burned In Annotation: only one value, "NO" after trimming the padding, is a clear no. Absent is accepted
 * (Type 1C/3 in the IODs we store; docs/ingest.md); present but empty, YES in any case or among several
 * values, and anything unrecognised are not a clear no. */
/* 1 when name is one of the comma-separated names of list. */
static int has_name(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *s = list; (s = strstr(s, name)) != NULL; s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == '\0' || s[n] == ',')) return 1;
  return 0;
}

static int burned_in_clear(const rcy_dicom_attrs *a) {
  if (!a->has_burned_in_annotation) return 1;
  return strcmp(a->burned_in_annotation, "NO") == 0;
}

static int burned_in_says_yes(const rcy_dicom_attrs *a) {
  const char *s = a->burned_in_annotation;
  while (*s) {
    while (*s == ' ')
      s++;
    if (toupper((unsigned char)s[0]) == 'Y' && toupper((unsigned char)s[1]) == 'E' &&
        toupper((unsigned char)s[2]) == 'S') {
      const char *e = s + 3;
      while (*e == ' ')
        e++;
      if (*e == '\0' || *e == '\\') return 1;
    }
    const char *next = strchr(s, '\\');
    if (!next) break;
    s = next + 1;
  }
  return 0;
}

static int private_allowed(const rcy_ingest_config *cfg, unsigned group, const char *creator) {
  if (!cfg) return 0;
  for (size_t i = 0; i < cfg->n_private_allow; i++)
    if (cfg->private_allow[i].group == group &&
        (!cfg->private_allow[i].creator ||
         (creator[0] && strcmp(cfg->private_allow[i].creator, creator) == 0)))
      return 1;
  return 0;
}

void rcy_ingest_check(rcy_verdict *v, const rcy_dicom_attrs *a, const int *present,
                      const rcy_ingest_site *site, const regex_t *subject_re, const rcy_ingest_config *cfg,
                      const char *sop_class_uid, const char *sop_instance_uid) {
  memset(v, 0, sizeof *v);
  v->kind = RCY_VERDICT_ACCEPT;
  v->status = RCY_DICOM_STATUS_SUCCESS;
  char comment[RCY_DICOM_COMMENT_MAX], reason[256];
  if (a->overlong[0]) {
    snprintf(comment, sizeof comment, "%.36s longer than its VR allows", a->overlong);
    snprintf(reason, sizeof reason, "%s is longer than its VR allows (never truncated)", a->overlong);
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_DATASET_MISMATCH, comment, reason);
    return;
  }
  static const struct {
    size_t offset;
    const char *name;
    int optional;
  } uids[] = {
      {offsetof(rcy_dicom_attrs, study_uid), "StudyInstanceUID", 0},
      {offsetof(rcy_dicom_attrs, series_uid), "SeriesInstanceUID", 0},
      {offsetof(rcy_dicom_attrs, sop_instance_uid), "SOPInstanceUID", 0},
      {offsetof(rcy_dicom_attrs, sop_class_uid), "SOPClassUID", 0},
      {offsetof(rcy_dicom_attrs, frame_of_reference_uid), "FrameOfReferenceUID", 1},
  };
  for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++) {
    const char *uid = (const char *)a + uids[i].offset;
    if (uids[i].optional && !uid[0]) continue;
    if (!rcy_ingest_valid_uid(uid)) {
      snprintf(comment, sizeof comment, "%s %s (PS3.5 9.1)", uid[0] ? "invalid" : "missing", uids[i].name);
      snprintf(reason, sizeof reason,
               "%s %s: a UID is 1-64 digits and single dots, no leading zero (PS3.5 9.1)",
               uid[0] ? "invalid" : "missing", uids[i].name);
      refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_DATASET_MISMATCH, comment, reason);
      return;
    }
  }
  if (strcmp(a->sop_instance_uid, sop_instance_uid) != 0 || strcmp(a->sop_class_uid, sop_class_uid) != 0) {
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_DATASET_MISMATCH,
           "SOP Class/Instance UID differ from request", NULL);
    return;
  }
  if (!a->site_id[0]) {
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_NOT_AUTHORIZED, "Clinical Trial Site ID missing", NULL);
    return;
  }
  if (strcmp(a->site_id, site->id) != 0) {
    snprintf(reason, sizeof reason, "Clinical Trial Site ID %.64s is not the sending site %s", a->site_id,
             site->id);
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_NOT_AUTHORIZED,
           "Clinical Trial Site ID is not the sending site", reason);
    return;
  }
  /* The subject: Clinical Trial Subject ID, or Patient ID when the site carries it there. */
  const char *subject = a->subject_id[0] ? a->subject_id : a->patient_id;
  if (!subject[0]) {
    refuse(v, RCY_VERDICT_NOT_ANONYMISED, RCY_DICOM_STATUS_NOT_ANONYMISED, "subject ID missing",
           "Clinical Trial Subject ID and Patient ID empty");
    return;
  }
  if (regexec(subject_re, subject, 0, NULL, 0) != 0) {
    /* Not logged: a subject ID outside the pattern may be a real patient identifier. */
    refuse(v, RCY_VERDICT_NOT_ANONYMISED, RCY_DICOM_STATUS_NOT_ANONYMISED,
           "subject ID does not match site pattern", "subject ID does not match the site's subject_pattern");
    return;
  }
  v->subject_id = subject;
  char names[200] = "";
  if (strcmp(a->patient_identity_removed, "YES") != 0)
    add_name(names, sizeof names, "PatientIdentityRemoved!=YES");
  if (!burned_in_clear(a))
    add_name(names, sizeof names,
             burned_in_says_yes(a) ? "BurnedInAnnotation=YES" : "BurnedInAnnotation!=NO");
  if (a->patient_name[0] && strcmp(a->patient_name, subject) != 0)
    add_name(names, sizeof names, "PatientName");
  if (a->patient_id[0] && strcmp(a->patient_id, subject) != 0) add_name(names, sizeof names, "PatientID");
  if (a->study_id[0] && strcmp(a->study_id, subject) != 0 && strcmp(a->study_id, a->timepoint) != 0)
    add_name(names, sizeof names, "StudyID");
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  for (size_t i = 0; i < n; i++) {
    const rcy_deid_entry *e = rcy_ingest_phi_entry(i);
    /* Patient Name/ID and Study ID at the top level were compared above; nested, any other value counts. */
    int hit = e->rule == RCY_DEID_EMPTY ? present[i] != 0 : (present[i] & RCY_DICOM_FOUND_NESTED) != 0;
    if (!hit || has_name(names, e->keyword)) continue;
    add_name(names, sizeof names, e->keyword);
  }
  int private_hit = 0;
  if (!cfg || cfg->private_tags != RCY_PRIVATE_ALLOW) {
    char groups[80] = "";
    for (size_t i = 0; i < a->n_private_blocks; i++) {
      if (private_allowed(cfg, a->private_blocks[i].group, a->private_blocks[i].creator)) continue;
      char g[16];
      snprintf(g, sizeof g, "%04x", a->private_blocks[i].group);
      if (!strstr(groups, g)) add_name(groups, sizeof groups, g);
      private_hit = 1;
    }
    if (a->private_more) {
      add_name(groups, sizeof groups, "...");
      private_hit = 1;
    }
    if (private_hit) {
      /* the group only: a Private Creator is a string the site wrote */
      char what[100];
      snprintf(what, sizeof what, "private(%s)", groups);
      add_name(names, sizeof names, what);
    }
  }
  if (names[0]) {
    /* the Error Comment is an LO (64 characters): the first names; the full list goes to the reason */
    snprintf(comment, sizeof comment, "not anonymised: %.48s", names);
    snprintf(reason, sizeof reason, "not anonymised: %s", names);
    refuse(v, RCY_VERDICT_NOT_ANONYMISED, RCY_DICOM_STATUS_NOT_ANONYMISED, comment, reason);
    if (private_hit && (!cfg || cfg->private_tags == RCY_PRIVATE_REFUSE))
      v->keep = RCY_KEEP_REFUSE;
    else if (private_hit && strcmp(names, strstr(names, "private(")) == 0)
      v->keep = RCY_KEEP_QUARANTINE;
    else
      v->keep = RCY_KEEP_PER_PHI;
  }
}
