/* The checks every instance passes before it is stored: it is what the request says it is, it belongs to the
 * sending site (Clinical Trial Site ID), its subject ID follows the site's pattern, and it is anonymised
 * (Patient Identity Removed = YES, no burned-in annotation, identity-bearing attributes empty). Verdicts name
 * attributes, never their values. */
#include "ingest_internal.h"

#include <stdio.h>
#include <string.h>

/* Identity-bearing attributes that must be absent or empty (PS3.15 Basic Profile, the subset a site's
 * de-identification must blank; docs/ingest.md lists them). Patient Name and Patient ID are checked apart:
 * they may carry the trial subject ID. */
static const uint32_t phi_tags[] = {
    0x00100030, /* PatientBirthDate */
    0x00100032, /* PatientBirthTime */
    0x00101040, /* PatientAddress */
    0x00102154, /* PatientTelephoneNumbers */
    0x00101000, /* OtherPatientIDs */
    0x00101001, /* OtherPatientNames */
    0x00101002, /* OtherPatientIDsSequence */
    0x00101005, /* PatientBirthName */
    0x00101060, /* PatientMotherBirthName */
    0x00101090, /* MedicalRecordLocator */
    0x00102150, /* CountryOfResidence */
    0x00102152, /* RegionOfResidence */
    0x00102297, /* ResponsiblePerson */
    0x00104000, /* PatientComments */
    0x00080080, /* InstitutionName */
    0x00080081, /* InstitutionAddress */
    0x00081040, /* InstitutionalDepartmentName */
    0x00080090, /* ReferringPhysicianName */
    0x00080092, /* ReferringPhysicianAddress */
    0x00080094, /* ReferringPhysicianTelephoneNumbers */
    0x00081048, /* PhysiciansOfRecord */
    0x00081050, /* PerformingPhysicianName */
    0x00081060, /* NameOfPhysiciansReadingStudy */
    0x00081070, /* OperatorsName */
    0x00321032, /* RequestingPhysician */
};

size_t rcy_ingest_phi_tags(const uint32_t **tags) {
  *tags = phi_tags;
  return sizeof phi_tags / sizeof phi_tags[0];
}

int rcy_ingest_valid_uid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.') return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return 0;
    } else if (s[i] < '0' || s[i] > '9') {
      return 0;
    }
  }
  return 1;
}

static void refuse(rcy_verdict *v, rcy_verdict_kind kind, unsigned status, const char *comment, const char *reason) {
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

void rcy_ingest_check(rcy_verdict *v, const rcy_dicom_attrs *a, const int *present, const rcy_ingest_site *site,
                      const regex_t *subject_re, const char *sop_class_uid, const char *sop_instance_uid) {
  memset(v, 0, sizeof *v);
  v->kind = RCY_VERDICT_ACCEPT;
  v->status = RCY_DICOM_STATUS_SUCCESS;
  if (strcmp(a->sop_instance_uid, sop_instance_uid) != 0 || strcmp(a->sop_class_uid, sop_class_uid) != 0) {
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_DATASET_MISMATCH, "SOP Class/Instance UID differ from request",
           NULL);
    return;
  }
  if (!rcy_ingest_valid_uid(a->sop_instance_uid) || !rcy_ingest_valid_uid(a->study_uid) ||
      !rcy_ingest_valid_uid(a->series_uid)) {
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_DATASET_MISMATCH, "missing or invalid Study/Series/SOP UID",
           NULL);
    return;
  }
  if (!a->site_id[0]) {
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_NOT_AUTHORIZED, "Clinical Trial Site ID missing", NULL);
    return;
  }
  if (strcmp(a->site_id, site->id) != 0) {
    char reason[256];
    snprintf(reason, sizeof reason, "Clinical Trial Site ID %.64s is not the sending site %s", a->site_id, site->id);
    refuse(v, RCY_VERDICT_REFUSE, RCY_DICOM_STATUS_NOT_AUTHORIZED, "Clinical Trial Site ID is not the sending site",
           reason);
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
    refuse(v, RCY_VERDICT_NOT_ANONYMISED, RCY_DICOM_STATUS_NOT_ANONYMISED, "subject ID does not match site pattern",
           "subject ID does not match the site's subject_pattern");
    return;
  }
  v->subject_id = subject;
  char names[200] = "";
  if (strcmp(a->patient_identity_removed, "YES") != 0) add_name(names, sizeof names, "PatientIdentityRemoved!=YES");
  if (strcmp(a->burned_in_annotation, "YES") == 0) add_name(names, sizeof names, "BurnedInAnnotation=YES");
  if (a->patient_name[0] && strcmp(a->patient_name, subject) != 0) add_name(names, sizeof names, "PatientName");
  if (a->patient_id[0] && strcmp(a->patient_id, subject) != 0) add_name(names, sizeof names, "PatientID");
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  for (size_t i = 0; i < n; i++) {
    if (!present[i]) continue;
    char name[64];
    rcy_dicom_tag_name(name, sizeof name, tags[i]);
    add_name(names, sizeof names, name);
  }
  if (names[0]) {
    /* Error Comment is an LO (64 chars): a long list is cut there on purpose; the audit reason keeps more. */
    char comment[RCY_DICOM_COMMENT_MAX];
    if (snprintf(comment, sizeof comment, "not anonymised: %s", names) >= (int)sizeof comment)
      comment[sizeof comment - 1] = '\0';
    char reason[256];
    if (snprintf(reason, sizeof reason, "not anonymised: %s", names) >= (int)sizeof reason)
      reason[sizeof reason - 1] = '\0';
    refuse(v, RCY_VERDICT_NOT_ANONYMISED, RCY_DICOM_STATUS_NOT_ANONYMISED, comment, reason);
  }
}
