// Reading the attributes of a stored instance for the ingest checks and the index: identifiers, trial
// attributes, geometry. Pixel data is left on disk (DCMTK loads values above 4 KB lazily); a file cut short
// is still reported, because DCMTK checks every element's length against the bytes left in the file.
#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dctag.h>

#include <cstdio>
#include <cstring>
#include <exception>

namespace {

void copy_trimmed(char *out, size_t out_len, const OFString &v) {
  size_t b = 0, e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\0')) b++;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\0')) e--;
  size_t n = e - b;
  if (n >= out_len) n = out_len - 1;
  memcpy(out, v.data() + b, n);
  out[n] = '\0';
}

void get_string(DcmItem *item, const DcmTagKey &key, char *out, size_t out_len) {
  OFString v;
  out[0] = '\0';
  if (item->findAndGetOFStringArray(key, v).good()) copy_trimmed(out, out_len, v);
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

int non_empty(DcmItem *item, rcy_dicom_tag t) {
  DcmElement *el = NULL;
  if (item->findAndGetElement(DcmTagKey((Uint16)(t >> 16), (Uint16)(t & 0xffff)), el).bad() || !el) return 0;
  if (el->ident() == EVR_SQ) return static_cast<DcmSequenceOfItems *>(el)->card() > 0;
  OFString v;
  if (el->getOFStringArray(v).bad()) return el->getLength() > 0;
  for (char c : v)
    if (c != ' ' && c != '\\' && c != '\0') return 1;
  return 0;
}

int read_attrs(rcy_dicom_attrs *a, int *present, const char *path, const rcy_dicom_tag *check, size_t n_check,
               rcy_error *err) {
  memset(a, 0, sizeof *a);
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "not a readable DICOM file: %s", c.text());
  DcmMetaInfo *meta = ff.getMetaInfo();
  DcmDataset *ds = ff.getDataset();
  get_string(meta, DCM_TransferSyntaxUID, a->transfer_syntax_uid, sizeof a->transfer_syntax_uid);
  get_string(ds, DCM_SOPClassUID, a->sop_class_uid, sizeof a->sop_class_uid);
  get_string(ds, DCM_SOPInstanceUID, a->sop_instance_uid, sizeof a->sop_instance_uid);
  get_string(ds, DCM_StudyInstanceUID, a->study_uid, sizeof a->study_uid);
  get_string(ds, DCM_SeriesInstanceUID, a->series_uid, sizeof a->series_uid);
  get_string(ds, DCM_FrameOfReferenceUID, a->frame_of_reference_uid, sizeof a->frame_of_reference_uid);
  get_string(ds, DCM_Modality, a->modality, sizeof a->modality);
  char da[17];
  get_string(ds, DCM_StudyDate, da, sizeof da);
  iso_date(a->study_date, da);
  get_string(ds, DCM_SeriesDescription, a->series_description, sizeof a->series_description);
  get_string(ds, DCM_ClinicalTrialSiteID, a->site_id, sizeof a->site_id);
  get_string(ds, DCM_ClinicalTrialSubjectID, a->subject_id, sizeof a->subject_id);
  get_string(ds, DCM_ClinicalTrialTimePointID, a->timepoint, sizeof a->timepoint);
  get_string(ds, DCM_PatientID, a->patient_id, sizeof a->patient_id);
  get_string(ds, DCM_PatientName, a->patient_name, sizeof a->patient_name);
  get_string(ds, DCM_PatientIdentityRemoved, a->patient_identity_removed, sizeof a->patient_identity_removed);
  get_string(ds, DCM_BurnedInAnnotation, a->burned_in_annotation, sizeof a->burned_in_annotation);
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
  for (size_t i = 0; i < n_check; i++) present[i] = non_empty(ds, check[i]);
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
