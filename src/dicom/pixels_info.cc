// The index-row attributes of an instance file on disk (UIDs, trial identifiers, geometry, window), read
// without its pixel data, so that files that did not come through the ingest daemon (demo and test archives)
// can be indexed the same way. Reads no PHI attribute.
#include "recistry/dicom.h"

#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <cstring>
#include <new>

namespace {

void get_string(DcmItem *ds, const DcmTagKey &tag, char *dst, size_t size) {
  OFString v;
  dst[0] = '\0';
  if (ds->findAndGetOFStringArray(tag, v).good()) std::snprintf(dst, size, "%s", v.c_str());
}

double get_double(DcmItem *ds, const DcmTagKey &tag, unsigned long pos) {
  Float64 v;
  return ds->findAndGetFloat64(tag, v, pos).good() ? v : 0.0;
}

int get_int(DcmItem *ds, const DcmTagKey &tag) {
  Sint32 v;
  if (ds->findAndGetSint32(tag, v).good()) return (int)v;
  Uint16 u;
  return ds->findAndGetUint16(tag, u).good() ? (int)u : 0;
}

} // namespace

extern "C" int rcy_dicom_index_info_read(rcy_dicom_index_info *out, const char *path, rcy_error *err) {
  std::memset(out, 0, sizeof *out);
  try {
    DcmFileFormat file;
    // Pixel data is not needed: stop loading large elements into memory.
    OFCondition c = file.loadFile(path, EXS_Unknown, EGL_noChange, 4096);
    if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "%s: cannot read DICOM: %s", path, c.text());
    DcmDataset *ds = file.getDataset();
    DcmMetaInfo *meta = file.getMetaInfo();
    get_string(ds, DCM_StudyInstanceUID, out->study_uid, sizeof out->study_uid);
    get_string(ds, DCM_SeriesInstanceUID, out->series_uid, sizeof out->series_uid);
    get_string(ds, DCM_SOPInstanceUID, out->sop_instance_uid, sizeof out->sop_instance_uid);
    get_string(ds, DCM_SOPClassUID, out->sop_class_uid, sizeof out->sop_class_uid);
    get_string(meta, DCM_TransferSyntaxUID, out->transfer_syntax_uid, sizeof out->transfer_syntax_uid);
    get_string(ds, DCM_FrameOfReferenceUID, out->frame_of_reference_uid, sizeof out->frame_of_reference_uid);
    get_string(ds, DCM_ClinicalTrialSiteID, out->site_id, sizeof out->site_id);
    get_string(ds, DCM_ClinicalTrialSubjectID, out->subject_id, sizeof out->subject_id);
    get_string(ds, DCM_ClinicalTrialTimePointID, out->timepoint, sizeof out->timepoint);
    get_string(ds, DCM_Modality, out->modality, sizeof out->modality);
    get_string(ds, DCM_SeriesDescription, out->series_description, sizeof out->series_description);
    get_string(ds, DCM_ImageOrientationPatient, out->orientation, sizeof out->orientation);
    char da[16];
    get_string(ds, DCM_StudyDate, da, sizeof da);
    if (std::strlen(da) == 8)
      std::snprintf(out->study_date, sizeof out->study_date, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
    out->series_number = get_int(ds, DCM_SeriesNumber);
    out->instance_number = get_int(ds, DCM_InstanceNumber);
    out->rows = get_int(ds, DCM_Rows);
    out->columns = get_int(ds, DCM_Columns);
    out->pixel_spacing_row_mm = get_double(ds, DCM_PixelSpacing, 0);
    out->pixel_spacing_col_mm = get_double(ds, DCM_PixelSpacing, 1);
    out->slice_thickness_mm = get_double(ds, DCM_SliceThickness, 0);
    for (int i = 0; i < 3; i++) out->position_mm[i] = get_double(ds, DCM_ImagePositionPatient, (unsigned long)i);
    out->window_center = get_double(ds, DCM_WindowCenter, 0);
    out->window_width = get_double(ds, DCM_WindowWidth, 0);
    if (!out->sop_instance_uid[0] || !out->series_uid[0] || !out->study_uid[0])
      return rcy_error_set(err, RCY_EDICOM, "%s: missing Study, Series or SOP Instance UID", path);
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", path);
  } catch (...) {
    return rcy_error_set(err, RCY_EDICOM, "%s: unexpected failure reading attributes", path);
  }
}
