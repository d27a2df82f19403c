/* "Dirty" studies: each folder under DIR/dirty/ holds one short CT series (or file) with exactly one
 * defect that the ingest daemon must refuse or flag, and DIR/dirty/manifest.json says what each one is.
 * Every case is its own trial subject (CIREL-014-09NN) so that one case's refusal never hides another's. */
#include "sample_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T RCY_DICOM_TAG

typedef struct {
  const char *name;
  const char *defect;
  const char *expect; /* "reject" or "flag" */
} dirty_case;

static const dirty_case cases[] = {
    {"phi_name", "Patient's Name holds a real-looking name instead of the trial subject ID", "reject"},
    {"phi_birthdate", "Patient's Birth Date is present", "reject"},
    {"phi_institution", "Institution Name and Institution Address are present", "reject"},
    {"burned_in", "Burned In Annotation is YES (and text-like marks are drawn into the pixels)", "reject"},
    {"slice_gap", "one slice is missing from the series (positions jump by twice the spacing)", "flag"},
    {"thick_slices", "slice thickness and spacing are 7.5 mm (protocol allows at most 5 mm)", "flag"},
    {"mixed_orientation", "one image of the axial series is sagittal", "flag"},
    {"truncated", "the file is cut in the middle of its Pixel Data", "reject"},
    {"not_dicom", "the file is plain text, not DICOM", "reject"},
    {"wrong_sop_class", "Encapsulated PDF Storage: not an image storage class the registry accepts", "reject"},
    {"duplicate_instances",
     "the same SOP Instance UID three times: once, then an identical copy, then different content", "flag"},
    {"wrong_site", "Clinical Trial Site ID S027 (subject CIREL-027-0901) although sent by site S014", "reject"},
    {"identity_not_removed", "Patient Identity Removed is NO and no de-identification method is given", "reject"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static void dirty_subject(subject *s, int idx, const char *site) {
  memset(s, 0, sizeof *s);
  s->index = 100 + idx;
  snprintf(s->site, sizeof s->site, "%s", site);
  snprintf(s->subject_id, sizeof s->subject_id, "CIREL-%s-09%02d", site + 1, idx + 1);
  s->sex[0] = 'F';
  s->fov_mm = 380;
  anatomy_build(&s->body, 1.0);
  s->slices = 2;
  s->thickness_mm = 5.0;
  s->kvp = 120;
  s->n_tp = 1;
  snprintf(s->tp[0], sizeof s->tp[0], "BL");
  s->treatment_day = days_from_civil(2020, 2, 3);
  s->tp_day[0] = s->treatment_day - 7;
}

static int write_text(const char *path, const void *data, size_t n, rcy_error *err) {
  FILE *f = fopen(path, "wb");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot create %s", path);
  size_t w = fwrite(data, 1, n, f);
  if (fclose(f) != 0 || w != n) return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  return RCY_OK;
}

/* Text-like marks in the top-left corner, as a modality's burned-in patient banner would leave. */
static void burn_banner(void *pixels, int columns) {
  int16_t *px = pixels;
  for (int j = 12; j < 24; j++)
    for (int i = 12; i < 200; i++)
      if ((i / 3) % 4 != 0 && (j - 12) % 6 < 4 && ((i / 12) % 5 != 4)) px[(size_t)j * columns + i] = 3000 + 1024;
}

static int pdf_instance(const series_job *job, const rcy_dicom_dataset *tmpl, rcy_sample_stats *stats,
                        rcy_error *err) {
  static const char pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                            "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                            "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
                            "trailer<</Root 1 0 R>>\n%%EOF\n";
  static const uint32_t image_only[] = {
      T(0x0008, 0x0008), T(0x0018, 0x0050), T(0x0018, 0x0060), T(0x0018, 0x0090), T(0x0018, 0x1100),
      T(0x0018, 0x1210), T(0x0018, 0x5100), T(0x0020, 0x0037), T(0x0020, 0x0052), T(0x0020, 0x1040),
      T(0x0028, 0x0004), T(0x0028, 0x0030), T(0x0028, 0x1050), T(0x0028, 0x1051), T(0x0028, 0x1052),
      T(0x0028, 0x1053), T(0x0028, 0x1054), T(0x0028, 0x1055), T(0x0008, 0x0022), T(0x0008, 0x0032)};
  rcy_dicom_dataset *doc;
  char uid[RCY_DICOM_UID_SIZE], path[4096];
  int rc = rcy_dicom_dataset_clone(&doc, tmpl, err);
  if (rc) return rc;
  for (size_t i = 0; i < sizeof image_only / sizeof image_only[0] && !rc; i++)
    rc = rcy_dicom_dataset_remove(doc, image_only[i], err);
  instance_uid_for(uid, job->seed, job->s, 0, 1);
  const struct {
    uint32_t tag;
    const char *v;
  } doc_attrs[] = {{T(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.104.1"},
                   {T(0x0008, 0x0018), uid},
                   {T(0x0008, 0x0060), "DOC"},
                   {T(0x0008, 0x0064), "WSD"},
                   {T(0x0020, 0x0013), "1"},
                   {T(0x0008, 0x002a), ""},
                   {T(0x0042, 0x0010), "Site imaging report"},
                   {T(0x0042, 0x0012), "application/pdf"}};
  for (size_t i = 0; i < sizeof doc_attrs / sizeof doc_attrs[0] && !rc; i++)
    rc = rcy_dicom_dataset_set_string(doc, doc_attrs[i].tag, doc_attrs[i].v, err);
  if (!rc) rc = rcy_dicom_dataset_set_empty(doc, T(0x0040, 0xa043), err);
  if (!rc) rc = rcy_dicom_dataset_set_bytes(doc, T(0x0042, 0x0011), pdf, sizeof pdf - 1 + ((sizeof pdf - 1) & 1), err);
  if (!rc) {
    snprintf(path, sizeof path, "%s/DOC_0001.dcm", job->out_dir);
    rc = write_dataset(doc, path, stats, err);
  }
  rcy_dicom_dataset_free(doc);
  return rc;
}

static int truncate_file(const char *path, rcy_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  /* the pixel data is the last ~512 KB: cutting 200 KB lands in its middle */
  if (size < 300000 || truncate(path, size - 200000) != 0) return rcy_error_set(err, RCY_EIO, "cannot truncate %s", path);
  return RCY_OK;
}

static int dirty_case_write(const rcy_sample_options *o, int idx, json_t *manifest, rcy_sample_stats *stats,
                            rcy_error *err) {
  const dirty_case *c = &cases[idx];
  const char *n = c->name;
  char dir[3072], path[4096];
  snprintf(dir, sizeof dir, "%s/dirty/%s", o->out_dir, n);
  int rc = make_dirs(dir, err);
  if (rc) return rc;
  subject s;
  dirty_subject(&s, idx, strcmp(n, "wrong_site") == 0 ? "S027" : "S014");
  if (strcmp(n, "slice_gap") == 0) s.slices = 4;
  if (strcmp(n, "thick_slices") == 0) s.thickness_mm = 7.5;
  /* The defects are in headers and files, not in image content: noiseless pixels keep these cheap to commit. */
  series_job job = {.s = &s, .tp = 0, .seed = o->seed, .noise_hu = 0, .out_dir = dir};
  series_uids_for(&job.uids, o->seed, &s, 0);
  rcy_dicom_dataset *tmpl;
  rc = series_template(&tmpl, &job, err);
  if (rc) return rc;

  /* header defects, on the series template */
  if (strcmp(n, "phi_name") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0010, 0x0010), "DUPONT^MARIE^CLAIRE", err);
  } else if (strcmp(n, "phi_birthdate") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0010, 0x0030), "19580412", err);
  } else if (strcmp(n, "phi_institution") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0008, 0x0080), "Hopital Saint-Antoine", err);
    if (!rc)
      rc = rcy_dicom_dataset_set_string(tmpl, T(0x0008, 0x0081), "184 rue du Faubourg Saint-Antoine, 75012 Paris", err);
  } else if (strcmp(n, "burned_in") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0028, 0x0301), "YES", err);
  } else if (strcmp(n, "thick_slices") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0018, 0x0050), "7.5", err);
  } else if (strcmp(n, "identity_not_removed") == 0) {
    rc = rcy_dicom_dataset_set_string(tmpl, T(0x0012, 0x0062), "NO", err);
    if (!rc) rc = rcy_dicom_dataset_remove(tmpl, T(0x0012, 0x0063), err);
    if (!rc) rc = rcy_dicom_dataset_remove(tmpl, T(0x0012, 0x0064), err);
  }
  if (rc) goto done;

  /* file and series defects */
  if (strcmp(n, "not_dicom") == 0) {
    static const char text[] = "Site imaging report for CIREL: this is a plain text file, not a DICOM instance.\n";
    snprintf(path, sizeof path, "%s/REPORT_0001.dcm", dir);
    rc = write_text(path, text, sizeof text - 1, err);
  } else if (strcmp(n, "wrong_sop_class") == 0) {
    rc = pdf_instance(&job, tmpl, stats, err);
  } else if (strcmp(n, "slice_gap") == 0) {
    rc = series_write_with(&job, tmpl, 1, stats, err);
  } else if (strcmp(n, "truncated") == 0) {
    rc = series_write_slice(&job, tmpl, 0, NULL, NULL, NULL, stats, err);
    snprintf(path, sizeof path, "%s/CT_0002.dcm", dir);
    if (!rc) rc = truncate_file(path, err);
  } else if (strcmp(n, "mixed_orientation") == 0) {
    rc = series_write_with(&job, tmpl, -1, stats, err); /* two axial slices ... */
    /* ... and a third instance, sagittal: rows along +y, columns along -z */
    if (!rc) {
      s.slices = 3;
      rc = series_write_slice(&job, tmpl, 0, NULL, NULL, "0\\1\\0\\0\\0\\-1", stats, err);
    }
  } else if (strcmp(n, "duplicate_instances") == 0) {
    rc = series_write_slice(&job, tmpl, 1, "CT_0002.dcm", NULL, NULL, stats, err);
    if (!rc) rc = series_write_slice(&job, tmpl, 1, "CT_0002_copy.dcm", NULL, NULL, stats, err);
    if (!rc) { /* same UID (same seed and slice), other pixels: the altered copy has image noise */
      series_job noisy = job;
      noisy.noise_hu = 10;
      rc = series_write_slice(&noisy, tmpl, 1, "CT_0002_altered.dcm", NULL, NULL, stats, err);
    }
  } else if (strcmp(n, "burned_in") == 0) {
    for (int k = 0; k < s.slices && !rc; k++) rc = series_write_slice(&job, tmpl, k, NULL, burn_banner, NULL, stats, err);
  } else {
    rc = series_write_with(&job, tmpl, -1, stats, err);
  }
  if (!rc)
    json_array_append_new(manifest, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "case", n, "folder", n, "subject_id",
                                              s.subject_id, "sending_site", "S014", "defect", c->defect, "expected",
                                              c->expect));
done:
  rcy_dicom_dataset_free(tmpl);
  return rc;
}

int dirty_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err) {
  json_t *manifest = json_array();
  int rc = RCY_OK;
  for (size_t i = 0; i < N_CASES && !rc; i++) rc = dirty_case_write(o, (int)i, manifest, stats, err);
  if (!rc) {
    char path[4096];
    snprintf(path, sizeof path, "%s/dirty/manifest.json", o->out_dir);
    if (json_dump_file(manifest, path, JSON_INDENT(2))) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  }
  json_decref(manifest);
  return rc;
}
