// Reading the attributes of a stored instance for the ingest checks and the index: identifiers, trial
// attributes, geometry, and one bounded walk over every element at every depth for the anonymisation check
// (which identity-bearing attributes hold a value, which private blocks carry data). Pixel data is left on
// disk (DCMTK loads values above 4 KB lazily); a file cut short is still reported, because DCMTK checks every
// element's length against the bytes left in the file. No value is cut to fit a field: it is reported.
#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvr.h>

#include <cstdio>
#include <cstring>
#include <exception>

namespace {

// Trims DICOM padding (spaces, NULs) at both ends. Returns 0 when the value does not fit in out_len.
int copy_trimmed(char *out, size_t out_len, const OFString &v) {
  size_t b = 0, e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\0')) b++;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\0')) e--;
  size_t n = e - b;
  if (n >= out_len) {
    out[0] = '\0';
    return 0;
  }
  memcpy(out, v.data() + b, n);
  out[n] = '\0';
  return 1;
}

void note_overlong(rcy_dicom_attrs *a, const DcmTagKey &key) {
  if (a->overlong[0]) return;
  DcmTag t(key);
  const char *name = t.getTagName();
  if (name && strcmp(name, DcmTag_ERROR_TagName) != 0)
    snprintf(a->overlong, sizeof a->overlong, "%s", name);
  else
    snprintf(a->overlong, sizeof a->overlong, "(%04x,%04x)", key.getGroup(), key.getElement());
}

// The value of key in item (all values, backslash-separated); "" when absent. Returns 1 when present.
int get_string(rcy_dicom_attrs *a, DcmItem *item, const DcmTagKey &key, char *out, size_t out_len) {
  OFString v;
  out[0] = '\0';
  DcmElement *el = NULL;
  if (item->findAndGetElement(key, el).bad() || !el) return 0;
  if (el->getOFStringArray(v).good() && !copy_trimmed(out, out_len, v)) note_overlong(a, key);
  return 1;
}

int get_int(DcmItem *item, const DcmTagKey &key, int *out) {
  Sint32 v = 0;
  if (item->findAndGetSint32(key, v).bad()) return 0;
  *out = (int)v;
  return 1;
}

int get_u16(DcmItem *item, const DcmTagKey &key, int *out) {
  Uint16 v = 0;
  if (item->findAndGetUint16(key, v).bad()) return 0;
  *out = (int)v;
  return 1;
}

int get_doubles(DcmItem *item, const DcmTagKey &key, double *out, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) {
    Float64 v = 0;
    if (item->findAndGetFloat64(key, v, i).bad()) return 0;
    out[i] = v;
  }
  return 1;
}

// DA "YYYYMMDD" -> "YYYY-MM-DD"; anything else -> "".
void iso_date(char *out, const char *da) {
  out[0] = '\0';
  if (strlen(da) != 8) return;
  for (int i = 0; i < 8; i++)
    if (da[i] < '0' || da[i] > '9') return;
  snprintf(out, 11, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
}

// A value that says something: not only padding or empty values between backslashes.
int has_value(DcmElement *el) {
  if (el->ident() == EVR_SQ) return static_cast<DcmSequenceOfItems *>(el)->card() > 0;
  if (!DcmVR(el->ident()).isaString()) return el->getLength() > 0; /* binary: never converted to text */
  OFString v;
  if (el->getOFStringArray(v).bad()) return el->getLength() > 0;
  for (char c : v)
    if (c != ' ' && c != '\\' && c != '\0') return 1;
  return 0;
}

int trimmed_equal(const OFString &v, const char *s) {
  char buf[RCY_DICOM_LO_MAX];
  return s[0] && copy_trimmed(buf, sizeof buf, v) && strcmp(buf, s) == 0;
}

struct walk {
  rcy_dicom_attrs *a;
  int *present;
  const rcy_dicom_tag *check;
  size_t n_check;
  DcmDataset *top;
};

int find_check(const walk &w, rcy_dicom_tag t) {
  for (size_t i = 0; i < w.n_check; i++)
    if (w.check[i] == t) return (int)i;
  return -1;
}

// A nested value the same as the top level's (a Patient Name repeated in a referenced-patient item) or the
// trial subject ID tells nothing new; any other value is reported.
int nested_differs(const walk &w, DcmElement *el) {
  if (el->ident() == EVR_SQ) return 1;
  OFString v, top;
  if (el->getOFStringArray(v).bad()) return 1;
  if (w.top->findAndGetOFStringArray(el->getTag(), top).good() && v == top) return 0;
  return !trimmed_equal(v, w.a->subject_id);
}

void note_private(const walk &w, DcmItem *item, DcmElement *el) {
  rcy_dicom_attrs *a = w.a;
  Uint16 g = el->getGTag(), e = el->getETag();
  char creator[RCY_DICOM_LO_MAX] = "";
  OFString c;
  if (item->findAndGetOFString(DcmTagKey(g, (Uint16)(e >> 8)), c).good() && !copy_trimmed(creator, sizeof creator, c)) {
    a->private_more = 1; /* a creator too long to be a valid LO: never on an allow-list */
    return;
  }
  for (size_t i = 0; i < a->n_private_blocks; i++)
    if (a->private_blocks[i].group == g && strcmp(a->private_blocks[i].creator, creator) == 0) return;
  if (a->n_private_blocks == RCY_DICOM_PRIVATE_MAX) {
    a->private_more = 1;
    return;
  }
  a->private_blocks[a->n_private_blocks].group = g;
  memcpy(a->private_blocks[a->n_private_blocks].creator, creator, sizeof creator);
  a->n_private_blocks++;
}

// Every element of item at depth (0: the data set), recursively into sequence items. Returns 0 when the
// nesting is deeper than RCY_DICOM_MAX_DEPTH.
int walk_item(const walk &w, DcmItem *item, int depth) {
  if (depth > RCY_DICOM_MAX_DEPTH) return 0;
  for (unsigned long i = 0, n = item->card(); i < n; i++) {
    DcmElement *el = item->getElement(i);
    if (!el) continue;
    Uint16 g = el->getGTag(), e = el->getETag();
    rcy_dicom_tag t = RCY_DICOM_TAG(g, e);
    if (g == 0x7fe0 && e == 0x0010) continue; /* Pixel Data: never loaded */
    int k = find_check(w, t);
    if (k >= 0 && has_value(el)) {
      if (depth == 0) w.present[k] |= RCY_DICOM_FOUND_TOP;
      else if (nested_differs(w, el)) w.present[k] |= RCY_DICOM_FOUND_NESTED;
    }
    if ((g & 1) && e >= 0x1000 && has_value(el)) note_private(w, item, el);
    if (el->ident() == EVR_SQ) {
      DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(el);
      for (unsigned long j = 0; j < sq->card(); j++)
        if (!walk_item(w, sq->getItem(j), depth + 1)) return 0;
    }
  }
  return 1;
}

int read_attrs(rcy_dicom_attrs *a, int *present, const char *path, const rcy_dicom_tag *check, size_t n_check,
               rcy_error *err) {
  memset(a, 0, sizeof *a);
  for (size_t i = 0; i < n_check; i++) present[i] = 0;
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "not a readable DICOM file: %s", c.text());
  DcmMetaInfo *meta = ff.getMetaInfo();
  DcmDataset *ds = ff.getDataset();
  get_string(a, meta, DCM_TransferSyntaxUID, a->transfer_syntax_uid, sizeof a->transfer_syntax_uid);
  get_string(a, ds, DCM_SOPClassUID, a->sop_class_uid, sizeof a->sop_class_uid);
  get_string(a, ds, DCM_SOPInstanceUID, a->sop_instance_uid, sizeof a->sop_instance_uid);
  get_string(a, ds, DCM_StudyInstanceUID, a->study_uid, sizeof a->study_uid);
  get_string(a, ds, DCM_SeriesInstanceUID, a->series_uid, sizeof a->series_uid);
  get_string(a, ds, DCM_FrameOfReferenceUID, a->frame_of_reference_uid, sizeof a->frame_of_reference_uid);
  get_string(a, ds, DCM_Modality, a->modality, sizeof a->modality);
  char da[17];
  get_string(a, ds, DCM_StudyDate, da, sizeof da);
  iso_date(a->study_date, da);
  get_string(a, ds, DCM_SeriesDescription, a->series_description, sizeof a->series_description);
  get_string(a, ds, DCM_ClinicalTrialSiteID, a->site_id, sizeof a->site_id);
  get_string(a, ds, DCM_ClinicalTrialSubjectID, a->subject_id, sizeof a->subject_id);
  get_string(a, ds, DCM_ClinicalTrialTimePointID, a->timepoint, sizeof a->timepoint);
  get_string(a, ds, DCM_PatientID, a->patient_id, sizeof a->patient_id);
  get_string(a, ds, DCM_PatientName, a->patient_name, sizeof a->patient_name);
  get_string(a, ds, DCM_StudyID, a->study_id, sizeof a->study_id);
  get_string(a, ds, DCM_PatientIdentityRemoved, a->patient_identity_removed, sizeof a->patient_identity_removed);
  a->has_burned_in_annotation =
      get_string(a, ds, DCM_BurnedInAnnotation, a->burned_in_annotation, sizeof a->burned_in_annotation);
  a->has_series_number = get_int(ds, DCM_SeriesNumber, &a->series_number);
  a->has_instance_number = get_int(ds, DCM_InstanceNumber, &a->instance_number);
  a->has_rows = get_u16(ds, DCM_Rows, &a->rows) && get_u16(ds, DCM_Columns, &a->columns);
  double ps[2];
  if ((a->has_pixel_spacing = get_doubles(ds, DCM_PixelSpacing, ps, 2))) {
    a->pixel_spacing_row_mm = ps[0];
    a->pixel_spacing_col_mm = ps[1];
  }
  a->has_slice_thickness = get_doubles(ds, DCM_SliceThickness, &a->slice_thickness_mm, 1);
  a->has_position = get_doubles(ds, DCM_ImagePositionPatient, a->position_mm, 3);
  a->has_orientation = get_doubles(ds, DCM_ImageOrientationPatient, a->orientation, 6);
  a->has_window = get_doubles(ds, DCM_WindowCenter, &a->window_center, 1) &&
                  get_doubles(ds, DCM_WindowWidth, &a->window_width, 1);
  walk w = {a, present, check, n_check, ds};
  if (!walk_item(w, ds, 0))
    return rcy_error_set(err, RCY_EDICOM, "sequences nested deeper than %d levels", RCY_DICOM_MAX_DEPTH);
  return RCY_OK;
}

}  // namespace

extern "C" int rcy_dicom_read_attrs(rcy_dicom_attrs *out, int *present, const char *path,
                                    const rcy_dicom_tag *check, size_t n_check, rcy_error *err) {
  try {
    return read_attrs(out, present, path, check, n_check, err);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "reading %s: %s", path, e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "reading %s: unknown exception", path);
  }
}

extern "C" void rcy_dicom_tag_name(char *out, size_t out_len, rcy_dicom_tag tag) {
  try {
    DcmTag t((Uint16)(tag >> 16), (Uint16)(tag & 0xffff));
    const char *name = t.getTagName();
    if (name && strcmp(name, DcmTag_ERROR_TagName) != 0)
      snprintf(out, out_len, "%s", name);
    else
      snprintf(out, out_len, "(%04x,%04x)", (unsigned)(tag >> 16), (unsigned)(tag & 0xffff));
  } catch (...) {
    snprintf(out, out_len, "(%04x,%04x)", (unsigned)(tag >> 16), (unsigned)(tag & 0xffff));
  }
}
