// DICOM SR Imaging Measurement Report (TID 1500) for one read at one timepoint, built with DCMTK's dcmsr/cmr
// template classes (TID1500_MeasurementReport, TID 1501 measurement groups, TID 300 measurements) rather than
// a hand-assembled content tree, so the template's structure and value constraints are DCMTK's. The Patient
// and Study modules come from a referenced instance (the archive's anonymised copy), never from the caller.
// Coding choices are explained in docs/exports.md ("DICOM SR (TID 1500)").
#include "recistry/dicom.h"

#include "organ_codes.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmsr/cmr/cid100.h>
#include <dcmtk/dcmsr/cmr/cid5000.h>
#include <dcmtk/dcmsr/cmr/cid7021.h>
#include <dcmtk/dcmsr/cmr/cid7181.h>
#include <dcmtk/dcmsr/cmr/cid7469.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/codes/dcm.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <string>

namespace {

struct sr_fail {
  int code;
  std::string msg;
};

void check(const OFCondition &c, const std::string &what) {
  if (c.bad()) throw sr_fail{RCY_EDICOM, what + ": " + c.text()};
}

// SNOMED CT code of a recistry organ name (organ_codes.h); "Body structure" when it has none.
DSRCodedEntryValue organ_code(const char *organ) {
  if (const rcy_dicom::organ_code *o = rcy_dicom::find_organ_code(organ))
    return DSRCodedEntryValue(o->code, "SCT", o->meaning);
  return DSRCodedEntryValue("123037004", "SCT", "Body structure");
}

std::string ds_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s(buf); // trailing zeros off: "29.687500" -> "29.6875"
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s.size() > 16) s.resize(16);
  return s;
}

// Referenced images, loaded once each.
struct image {
  std::unique_ptr<DcmFileFormat> file;
  OFString sop_class, sop_instance, study, series;
};

class images {
public:
  image &get(const char *path) {
    auto it = loaded_.find(path);
    if (it != loaded_.end()) return *it->second;
    auto img = std::make_unique<image>();
    img->file = std::make_unique<DcmFileFormat>();
    check(img->file->loadFile(path), std::string("reading referenced image ") + path);
    DcmDataset *ds = img->file->getDataset();
    ds->findAndGetOFString(DCM_SOPClassUID, img->sop_class);
    ds->findAndGetOFString(DCM_SOPInstanceUID, img->sop_instance);
    ds->findAndGetOFString(DCM_StudyInstanceUID, img->study);
    ds->findAndGetOFString(DCM_SeriesInstanceUID, img->series);
    if (img->sop_class.empty() || img->sop_instance.empty())
      throw sr_fail{RCY_EDICOM, std::string("referenced image ") + path + " has no SOP Class/Instance UID"};
    order_.push_back(img.get());
    image &ref = *img;
    loaded_[path] = std::move(img);
    return ref;
  }
  const std::vector<image *> &all() const {
    return order_;
  }

private:
  std::map<std::string, std::unique_ptr<image>> loaded_;
  std::vector<image *> order_;
};

DSRCodedEntryValue present_code(bool present) {
  return present ? DSRCodedEntryValue("52101004", "SCT", "Present")
                 : DSRCodedEntryValue("2667000", "SCT", "Absent");
}

// The reader's response words (engine output) as RECIST codes of DCM where one exists.
void add_response(TID1500_MeasurementReport &report, const char *which, const char *value) {
  if (!value || !*value) return;
  const DSRCodedEntryValue concept_name = CODE_DCM_ResponseEvaluation;
  if (strcmp(which, "target") == 0) {
    const DSRBasicCodedEntry *code = nullptr;
    static const DSRBasicCodedEntry cr = CODE_DCM_TargetLesionCompleteResponse,
                                    pr = CODE_DCM_TargetLesionPartialResponse,
                                    sd = CODE_DCM_TargetLesionStableDisease,
                                    pd = CODE_DCM_TargetLesionProgressiveDisease;
    if (strcmp(value, "CR") == 0) code = &cr;
    if (strcmp(value, "PR") == 0) code = &pr;
    if (strcmp(value, "SD") == 0) code = &sd;
    if (strcmp(value, "PD") == 0) code = &pd;
    if (code) {
      check(report.addQualitativeEvaluation(concept_name, DSRCodedEntryValue(*code)), "target response");
      return;
    }
  } else if (strcmp(which, "non-target") == 0) {
    const DSRBasicCodedEntry *code = nullptr;
    static const DSRBasicCodedEntry cr = CODE_DCM_NonTargetLesionCompleteResponse,
                                    nn = CODE_DCM_NonTargetLesionIncompleteResponseOrStableDisease,
                                    pd = CODE_DCM_NonTargetLesionProgressiveDisease;
    if (strcmp(value, "CR") == 0) code = &cr;
    if (strcmp(value, "NON_CR_NON_PD") == 0) code = &nn;
    if (strcmp(value, "PD") == 0) code = &pd;
    if (code) {
      check(report.addQualitativeEvaluation(concept_name, DSRCodedEntryValue(*code)), "non-target response");
      return;
    }
  }
  // No code for it (overall response, NE): text "<which> response: <value>" under the same concept.
  check(report.addQualitativeEvaluation(concept_name, std::string(which) + " response: " + value),
        std::string(which) + " response");
}

DSRSpatialCoordinatesValue polyline(const double p[4]) {
  DSRSpatialCoordinatesValue v(DSRTypes::GT_Polyline);
  v.getGraphicDataList().addItem(static_cast<Float32>(p[0]), static_cast<Float32>(p[1]));
  v.getGraphicDataList().addItem(static_cast<Float32>(p[2]), static_cast<Float32>(p[3]));
  return v;
}

void add_lesion(TID1500_MeasurementReport &report, images &imgs, const rcy_dicom_sr_lesion &l, const char *tp,
                bool first) {
  check(report.addIndividualMeasurements(first ? OFTrue : OFFalse), "measurement group");
  CMR_TID1501_in_TID1500 &group = report.getIndividualMeasurements();
  std::string id = std::string("lesion ") + (l.tracking_id ? l.tracking_id : "?");
  check(group.setTrackingIdentifier(l.tracking_id ? l.tracking_id : ""), id + ": tracking identifier");
  check(group.setTrackingUniqueIdentifier(l.tracking_uid ? l.tracking_uid : ""), id + ": tracking UID");
  check(group.setFinding(DSRCodedEntryValue("52988006", "SCT", "Lesion")), id + ": finding");
  check(group.addFindingSite(organ_code(l.organ)), id + ": finding site");
  if (tp && *tp) check(group.setTimePoint(tp), id + ": time point");
  const DSRCodedEntryValue region = CODE_DCM_ImageRegion;
  if (l.has_long) {
    if (!l.image_path) throw sr_fail{RCY_EINVAL, id + ": a measurement without its image"};
    image &img = imgs.get(l.image_path);
    DSRImageReferenceValue ref(img.sop_class, img.sop_instance);
    check(
        group.addMeasurement(
            CID7469_GenericIntensityAndSizeMeasurements(DSRCodedEntryValue("103339001", "SCT", "Long Axis")),
            CMR_TID1501_in_TID1500::MeasurementValue(ds_value(l.long_mm).c_str(), CMR_CID7181::Millimeter)),
        id + ": long axis");
    check(group.getMeasurement().addSpatialCoordinates(region, polyline(l.long_p), ref),
          id + ": long axis SCOORD");
    if (l.has_short) {
      check(group.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(
                                     DSRCodedEntryValue("103340004", "SCT", "Short Axis")),
                                 CMR_TID1501_in_TID1500::MeasurementValue(ds_value(l.short_mm).c_str(),
                                                                          CMR_CID7181::Millimeter)),
            id + ": short axis");
      check(group.getMeasurement().addSpatialCoordinates(region, polyline(l.short_p), ref),
            id + ": short axis SCOORD");
    }
  }
  if (l.state && *l.state) {
    bool absent = strcmp(l.state, "absent") == 0 || strcmp(l.state, "disappeared") == 0;
    if (strcmp(l.kind, "target") != 0)
      check(group.addQualitativeEvaluation(CODE_DCM_PresenceOfProperty, present_code(!absent)),
            id + ": presence");
    check(group.addQualitativeEvaluation(CODE_DCM_ResponseEvaluation, std::string(l.kind) + ": " + l.state),
          id + ": state");
  }
  if (l.has_point && l.point_image_path) {
    // A located non-target or new lesion: TID 1501 has no SCOORD row of its own, so the point goes in the
    // template's extension point as an Image Region SCOORD selected from the image (TID 320 pattern).
    image &img = imgs.get(l.point_image_path);
    check(group.addExtraContentItem(DSRTypes::RT_contains, DSRTypes::VT_SCoord), id + ": point");
    check(group.getCurrentContentItem().setConceptName(region), id + ": point");
    DSRSpatialCoordinatesValue pt(DSRTypes::GT_Point);
    pt.getGraphicDataList().addItem(static_cast<Float32>(l.point[0]), static_cast<Float32>(l.point[1]));
    check(group.getCurrentContentItem().setSpatialCoordinates(pt), id + ": point value");
    check(group.addExtraContentItem(DSRTypes::RT_selectedFrom, DSRTypes::VT_Image, DSRTypes::AM_belowCurrent),
          id + ": point image");
    check(group.getCurrentContentItem().setImageReference(
              DSRImageReferenceValue(img.sop_class, img.sop_instance)),
          id + ": point image reference");
  }
}

// Patient, study, clinical trial and de-identification attributes of the referenced instance.
const DcmTagKey copied[] = {
    DCM_PatientName,
    DCM_PatientID,
    DCM_PatientBirthDate,
    DCM_PatientSex,
    DCM_PatientIdentityRemoved,
    DCM_DeidentificationMethod,
    DCM_DeidentificationMethodCodeSequence,
    DCM_StudyInstanceUID,
    DCM_StudyDate,
    DCM_StudyTime,
    DCM_StudyID,
    DCM_AccessionNumber,
    DCM_ReferringPhysicianName,
    DCM_StudyDescription,
    DCM_ClinicalTrialSponsorName,
    DCM_ClinicalTrialProtocolID,
    DCM_ClinicalTrialProtocolName,
    DCM_ClinicalTrialSiteID,
    DCM_ClinicalTrialSiteName,
    DCM_ClinicalTrialSubjectID,
    DCM_ClinicalTrialTimePointID,
    DCM_SpecificCharacterSet,
};

int build(const rcy_dicom_sr_report *r, const char *path, rcy_error *err) {
  if (!r || !path || !r->header_image_path || !r->sop_instance_uid || !r->series_uid || !r->observer)
    return rcy_error_set(err, RCY_EINVAL, "SR report: header image, UIDs and observer are required");
  images imgs;
  image &header = imgs.get(r->header_image_path);

  TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
  check(report.setLanguage(CID5000_Languages::English), "language");
  check(
      report.getObservationContext().addPersonObserver(r->observer, r->observer_role ? r->observer_role : ""),
      "observer");
  check(report.addProcedureReported(CMR_CID100::ImagingProcedure), "procedure reported");
  check(report.getImageLibrary().createNewImageLibrary(), "image library");
  for (size_t i = 0; i < r->n_lesions; i++) {
    const rcy_dicom_sr_lesion &l = r->lesions[i];
    if (l.has_long && l.image_path) imgs.get(l.image_path);
    if (l.has_point && l.point_image_path) imgs.get(l.point_image_path);
  }
  check(report.getImageLibrary().addImageGroup(), "image library group");
  for (image *img : imgs.all())
    check(report.getImageLibrary().addImageEntry(*img->file->getDataset(),
                                                 TID1600_ImageLibrary::withAllDescriptors),
          std::string("image library entry ") + img->sop_instance.c_str());
  for (size_t i = 0; i < r->n_lesions; i++)
    add_lesion(report, imgs, r->lesions[i], r->timepoint, i == 0);
  add_response(report, "target", r->target_response);
  add_response(report, "non-target", r->non_target_response);
  add_response(report, "overall", r->overall_response);
  if (r->n_lesions == 0 && !r->target_response && !r->non_target_response && !r->overall_response)
    return rcy_error_set(err, RCY_EINVAL, "SR report of %s: nothing to report",
                         r->timepoint ? r->timepoint : "?");

  DSRDocument doc;
  check(doc.setTreeFromRootTemplate(report, OFTrue /*expandTree*/), "content tree from TID 1500");
  OFString study;
  header.file->getDataset()->findAndGetOFString(DCM_StudyInstanceUID, study);
  check(doc.createNewSeriesInStudy(study), "series in study");
  doc.setSeriesDescription(r->series_description ? r->series_description : "RECIST 1.1 measurements");
  doc.setManufacturer("recistry");
  for (image *img : imgs.all())
    check(doc.getCurrentRequestedProcedureEvidence().addItem(img->study, img->series, img->sop_class,
                                                             img->sop_instance),
          "evidence");
  doc.completeDocument();
  doc.verifyDocument(r->observer, r->observer_role ? r->observer_role : "");

  DcmFileFormat out;
  DcmDataset *ds = out.getDataset();
  check(doc.write(*ds), "SR document");
  DcmDataset *src = header.file->getDataset();
  for (const DcmTagKey &t : copied) {
    ds->findAndDeleteElement(t);
    src->findAndInsertCopyOfElement(t, ds);
  }
  if (r->timepoint) check(ds->putAndInsertString(DCM_ClinicalTrialTimePointID, r->timepoint), "time point");
  check(ds->putAndInsertString(DCM_SeriesInstanceUID, r->series_uid), "series UID");
  check(ds->putAndInsertString(DCM_SOPInstanceUID, r->sop_instance_uid), "SOP Instance UID");
  check(ds->putAndInsertString(DCM_SeriesNumber, "9901"), "series number");
  check(ds->putAndInsertString(DCM_InstanceNumber, "1"), "instance number");

  std::string tmp = std::string(path) + ".tmp";
  check(out.saveFile(tmp.c_str(), EXS_LittleEndianExplicit), std::string("writing ") + tmp);
  if (std::rename(tmp.c_str(), path) != 0) {
    std::remove(tmp.c_str());
    return rcy_error_set(err, RCY_EIO, "renaming %s: %s", tmp.c_str(), strerror(errno));
  }
  return RCY_OK;
}

} // namespace

extern "C" int rcy_dicom_sr_tid1500_write(const rcy_dicom_sr_report *report, const char *path,
                                          rcy_error *err) {
  try {
    return build(report, path, err);
  } catch (const sr_fail &f) {
    return rcy_error_set(err, f.code, "%s", f.msg.c_str());
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "SR report: out of memory");
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "SR report: %s", e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "SR report: unknown exception");
  }
}
