// DICOM Segmentation (SEG) objects for lesion masks, built with DCMTK's dcmseg/dcmfg/dcmiod classes
// (DcmSegmentation, DcmSegment, functional groups) rather than a hand-assembled data set: one BINARY segment
// per object, one frame per mask slice that has a pixel set, each frame referencing its source image. The
// patient, study, Frame of Reference, clinical trial and de-identification attributes come from the source
// images, never from the caller. Reading back walks the stored data set directly (not dcmseg), so the
// round-trip test checks what is in the file rather than dcmseg's view of it. Coding choices:
// docs/conformance.md.
#include "recistry/dicom.h"

#include "organ_codes.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>
#include <dcmtk/dcmdata/dcvrtm.h>
#include <dcmtk/dcmdata/dcvrui.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/iodmacro.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#ifndef RCY_VERSION
#define RCY_VERSION "0"
#endif

struct rcy_dicom_seg {
  int rows = 0, columns = 0;
  std::string label;
  std::vector<std::string> sources;
  std::vector<std::vector<uint8_t>> masks;
};

namespace {

struct seg_fail {
  int code;
  std::string msg;
};

void check(const OFCondition &c, const std::string &what) {
  if (c.bad()) throw seg_fail{RCY_EDICOM, what + ": " + c.text()};
}

// A value the caller gave that DCMTK's VR check refuses (too long, bad characters, malformed UID): invalid
// input.
void check_input(const OFCondition &c, const std::string &what) {
  if (c.bad()) throw seg_fail{RCY_EINVAL, "SEG: invalid " + what + ": " + c.text()};
}

[[noreturn]] void refuse(int code, const std::string &msg) {
  throw seg_fail{code, msg};
}

std::string ds_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s(buf); // trailing zeros off: "0.781250" -> "0.78125"
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  if (s.size() > 16) s.resize(16);
  return s;
}

// One source image: its data set (kept for the references) and what the SEG needs from it.
struct source {
  std::unique_ptr<DcmFileFormat> file;
  std::string path;
  OFString sop_class, sop_instance, study, series, frame_of_reference;
  long rows = 0, columns = 0;
  double position[3] = {0, 0, 0};
  double orientation[6] = {0, 0, 0, 0, 0, 0};
  double spacing[2] = {0, 0};
  OFString spacing_str, thickness_str, spacing_between_str, lossy;
};

bool get_doubles(DcmItem *ds, const DcmTagKey &tag, double *out, int n) {
  for (int i = 0; i < n; i++) {
    Float64 v;
    if (ds->findAndGetFloat64(tag, v, static_cast<unsigned long>(i)).bad()) return false;
    out[i] = v;
  }
  return true;
}

source load_source(const char *path, size_t i) {
  source s;
  s.path = path;
  std::string who = "source image " + std::to_string(i) + " (" + path + ")";
  s.file = std::make_unique<DcmFileFormat>();
  OFCondition c = s.file->loadFile(path);
  if (c.bad()) refuse(RCY_EDICOM, who + ": not a readable DICOM file: " + c.text());
  DcmDataset *ds = s.file->getDataset();
  ds->findAndGetOFString(DCM_SOPClassUID, s.sop_class);
  ds->findAndGetOFString(DCM_SOPInstanceUID, s.sop_instance);
  ds->findAndGetOFString(DCM_StudyInstanceUID, s.study);
  ds->findAndGetOFString(DCM_SeriesInstanceUID, s.series);
  ds->findAndGetOFString(DCM_FrameOfReferenceUID, s.frame_of_reference);
  Uint16 r = 0, cl = 0;
  if (!ds->tagExists(DCM_PixelData) || ds->findAndGetUint16(DCM_Rows, r).bad() ||
      ds->findAndGetUint16(DCM_Columns, cl).bad())
    refuse(RCY_EDICOM, who + ": not an image (no Pixel Data, Rows or Columns)");
  s.rows = r;
  s.columns = cl;
  if (s.sop_class.empty() || s.sop_instance.empty() || s.study.empty() || s.series.empty())
    refuse(RCY_EDICOM, who + ": no SOP Class/Instance, Study or Series Instance UID");
  if (s.frame_of_reference.empty()) refuse(RCY_EDICOM, who + ": no Frame of Reference UID");
  if (!get_doubles(ds, DCM_ImagePositionPatient, s.position, 3) ||
      !get_doubles(ds, DCM_ImageOrientationPatient, s.orientation, 6) ||
      !get_doubles(ds, DCM_PixelSpacing, s.spacing, 2))
    refuse(RCY_EDICOM, who + ": no Image Position/Orientation (Patient) or Pixel Spacing");
  ds->findAndGetOFStringArray(DCM_PixelSpacing, s.spacing_str);
  ds->findAndGetOFString(DCM_SliceThickness, s.thickness_str);
  ds->findAndGetOFString(DCM_SpacingBetweenSlices, s.spacing_between_str);
  ds->findAndGetOFString(DCM_LossyImageCompression, s.lossy);
  return s;
}

// Clinical trial (subject, study, series-independent) and de-identification attributes of the source, as
// the archive holds them: the SEG belongs to the same anonymised subject and time point.
const DcmTagKey trial_copied[] = {
    DCM_ClinicalTrialSponsorName,
    DCM_ClinicalTrialProtocolID,
    DCM_ClinicalTrialProtocolName,
    DCM_ClinicalTrialSiteID,
    DCM_ClinicalTrialSiteName,
    DCM_ClinicalTrialSubjectID,
    DCM_ClinicalTrialSubjectReadingID,
    DCM_ClinicalTrialTimePointID,
    DCM_ClinicalTrialTimePointDescription,
    DCM_ClinicalTrialCoordinatingCenterName,
    DCM_ClinicalTrialProtocolEthicsCommitteeName,
    DCM_ClinicalTrialProtocolEthicsCommitteeApprovalNumber,
    DCM_PatientIdentityRemoved,
    DCM_DeidentificationMethod,
    DCM_DeidentificationMethodCodeSequence,
    DCM_LongitudinalTemporalInformationModified,
    DCM_BodyPartExamined,
};

bool frame_has_pixel(const uint8_t *m, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (m[i]) return true;
  return false;
}

bool close(double a, double b, double tol) {
  return std::fabs(a - b) <= tol;
}

int write_seg(const char *path, const rcy_dicom_seg_input *in, char sop_uid_out[RCY_DICOM_UID_SIZE],
              rcy_error *err) {
  if (!path || !in || !in->source_paths || !in->mask)
    return rcy_error_set(err, RCY_EINVAL, "SEG: path, source images and mask are required");
  if (in->n_frames == 0) return rcy_error_set(err, RCY_EINVAL, "SEG: no frames");
  if (in->rows <= 0 || in->columns <= 0 || in->rows > 65535 || in->columns > 65535)
    return rcy_error_set(err, RCY_EINVAL, "SEG: invalid mask size %dx%d", in->rows, in->columns);
  auto empty = [](const char *s) { return !s || !*s; };
  if (empty(in->segment_label)) return rcy_error_set(err, RCY_EINVAL, "SEG: a segment label is required");
  if (empty(in->algorithm_name) || empty(in->algorithm_version))
    return rcy_error_set(err, RCY_EINVAL, "SEG: the algorithm name and version are required (SEMIAUTOMATIC)");
  if (empty(in->content_creator))
    return rcy_error_set(err, RCY_EINVAL, "SEG: the content creator is required");
  if (empty(in->tracking_id) != empty(in->tracking_uid))
    return rcy_error_set(err, RCY_EINVAL, "SEG: tracking ID and tracking UID go together");
  if (in->series_number < 0 || in->instance_number < 0)
    return rcy_error_set(err, RCY_EINVAL, "SEG: negative series or instance number");
  // Lengths of the VRs (DCMTK 3.6.7's setters check the characters but not the length) and UID syntax.
  const struct {
    const char *value, *name;
    size_t max;
  } lengths[] = {
      {in->segment_label, "Segment Label", 64},
      {in->segment_description, "Segment Description", 1000},
      {in->algorithm_name, "Algorithm Name", 64},
      {in->algorithm_version, "Algorithm Version", 64},
      {in->content_creator, "Content Creator's Name", 64},
      {in->series_description, "Series Description", 64},
      {in->tracking_id, "Tracking ID", 64},
  };
  for (const auto &l : lengths)
    if (l.value && std::strlen(l.value) > l.max)
      return rcy_error_set(err, RCY_EINVAL, "SEG: invalid %s: longer than %zu characters", l.name, l.max);
  const struct {
    const char *value, *name;
  } uids[] = {{in->sop_instance_uid, "SOP Instance UID"},
              {in->series_uid, "Series Instance UID"},
              {in->tracking_uid, "Tracking UID"}};
  for (const auto &u : uids)
    if (u.value && (std::strlen(u.value) > 64 || DcmUniqueIdentifier::checkStringValue(u.value, "1").bad()))
      return rcy_error_set(err, RCY_EINVAL, "SEG: invalid %s \"%s\"", u.name, u.value);

  const size_t frame_px = static_cast<size_t>(in->rows) * static_cast<size_t>(in->columns);
  std::vector<size_t> kept; // mask frames with a pixel set, in mask order
  for (size_t f = 0; f < in->n_frames; f++)
    if (frame_has_pixel(in->mask + f * frame_px, frame_px)) kept.push_back(f);
  if (kept.empty())
    return rcy_error_set(err, RCY_EINVAL,
                         "SEG: the mask has no pixel set on any of its %zu frames: nothing to store",
                         in->n_frames);

  // Every source is read and checked before anything is built or written.
  std::vector<source> src;
  src.reserve(in->n_frames);
  std::map<std::string, size_t> seen;
  for (size_t f = 0; f < in->n_frames; f++) {
    if (!in->source_paths[f]) return rcy_error_set(err, RCY_EINVAL, "SEG: source image %zu: no path", f);
    src.push_back(load_source(in->source_paths[f], f));
    const source &s = src.back();
    std::string who = "SEG: source image " + std::to_string(f) + " (" + s.path + ")";
    if (s.rows != in->rows || s.columns != in->columns)
      refuse(RCY_EINVAL, who + " is " + std::to_string(s.rows) + "x" + std::to_string(s.columns) +
                             " (rows x columns), the mask is " + std::to_string(in->rows) + "x" +
                             std::to_string(in->columns));
    auto dup = seen.emplace(s.sop_instance.c_str(), f);
    if (!dup.second)
      refuse(RCY_EINVAL, who + " is the same instance as source image " + std::to_string(dup.first->second));
    const source &s0 = src.front();
    if (s.study != s0.study) refuse(RCY_EINVAL, who + " belongs to another study than source image 0");
    if (s.frame_of_reference != s0.frame_of_reference)
      refuse(RCY_EINVAL, who + " has another Frame of Reference than source image 0");
    for (int k = 0; k < 6; k++)
      if (!close(s.orientation[k], s0.orientation[k], 1e-4))
        refuse(RCY_EINVAL, who + " has another Image Orientation (Patient) than source image 0");
    for (int k = 0; k < 2; k++)
      if (!close(s.spacing[k], s0.spacing[k], 1e-4))
        refuse(RCY_EINVAL, who + " has another Pixel Spacing than source image 0");
  }
  const source &s0 = src.front();

  // Spacing Between Slices: the sources' own value, else the distance between consecutive source planes
  // along the normal when it is the same for every pair (else left out: the slices are not evenly spaced).
  std::string spacing_between = s0.spacing_between_str.c_str();
  if (spacing_between.empty() && src.size() >= 2) {
    const double *o = s0.orientation;
    const double nrm[3] = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
    double first = -1;
    bool even = true;
    for (size_t f = 1; f < src.size() && even; f++) {
      double d = 0;
      for (int k = 0; k < 3; k++)
        d += (src[f].position[k] - src[f - 1].position[k]) * nrm[k];
      d = std::fabs(d);
      if (first < 0) first = d;
      even = d > 1e-3 && close(d, first, 1e-3);
    }
    if (even) spacing_between = ds_value(first);
  }

  OFString sop_uid, series_uid;
  char buf[128];
  sop_uid =
      in->sop_instance_uid ? in->sop_instance_uid : dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
  series_uid = in->series_uid ? in->series_uid : dcmGenerateUniqueIdentifier(buf, SITE_SERIES_UID_ROOT);

  IODGeneralEquipmentModule::EquipmentInfo equipment("recistry", "recistry", "recistry", RCY_VERSION);
  ContentIdentificationMacro ident;
  check(ident.setInstanceNumber(std::to_string(in->instance_number).c_str()), "Instance Number");
  check(ident.setContentLabel("LESION"), "Content Label");
  check_input(
      ident.setContentDescription(in->series_description ? in->series_description : "Lesion segmentation"),
      "Content Description");
  check_input(ident.setContentCreatorName(in->content_creator), "Content Creator's Name");

  DcmSegmentation *raw = nullptr;
  check(DcmSegmentation::createBinarySegmentation(raw, static_cast<Uint16>(in->rows),
                                                  static_cast<Uint16>(in->columns), equipment, ident),
        "creating the segmentation");
  std::unique_ptr<DcmSegmentation> seg(raw);
  // dcmseg's own dimension check runs before the per-frame groups exist in 3.6.7 and only logs that it
  // cannot check; the dimensions are checked by dciodvfy in tests/unit/test_dicom_seg.c instead.
  seg->setCheckDimensionsOnWrite(OFFalse);

  // Patient, study and Frame of Reference of the source; not its series (the SEG is a series of its own).
  check(seg->importHierarchy(*s0.file->getDataset(), OFTrue, OFTrue, OFTrue, OFFalse),
        "importing the source's patient/study");
  check_input(seg->getSeries().setSeriesInstanceUID(series_uid), "Series Instance UID");
  check(seg->getSeries().setSeriesNumber(std::to_string(in->series_number).c_str()), "Series Number");
  check_input(seg->getSeries().setSeriesDescription(in->series_description ? in->series_description
                                                                           : "Lesion segmentation"),
              "Series Description");
  check_input(seg->getSOPCommon().setSOPInstanceUID(sop_uid), "SOP Instance UID");
  OFString today, now;
  DcmDate::getCurrentDate(today);
  DcmTime::getCurrentTime(now);
  check(seg->getGeneralImage().setContentDate(today), "Content Date");
  check(seg->getGeneralImage().setContentTime(now), "Content Time");
  for (const source &s : src)
    if (s.lossy == "01") {
      OFString ratio, method;
      s.file->getDataset()->findAndGetOFStringArray(DCM_LossyImageCompressionRatio, ratio);
      s.file->getDataset()->findAndGetOFStringArray(DCM_LossyImageCompressionMethod, method);
      check(seg->setLossyImageCompressionFlag(ratio, method, OFFalse), "Lossy Image Compression");
      break;
    }

  // Shared functional groups: pixel measures and orientation (the same for every source, checked above).
  FGPixelMeasures measures;
  check(measures.setPixelSpacing(s0.spacing_str), "Pixel Spacing");
  if (!s0.thickness_str.empty()) check(measures.setSliceThickness(s0.thickness_str), "Slice Thickness");
  if (!spacing_between.empty())
    check(measures.setSpacingBetweenSlices(spacing_between.c_str()), "Spacing Between Slices");
  check(seg->addForAllFrames(measures), "Pixel Measures");
  FGPlaneOrientationPatient orient;
  {
    OFString o[6];
    for (int k = 0; k < 6; k++)
      s0.file->getDataset()->findAndGetOFString(DCM_ImageOrientationPatient, o[k],
                                                static_cast<unsigned long>(k));
    check(orient.setImageOrientationPatient(o[0], o[1], o[2], o[3], o[4], o[5]),
          "Image Orientation (Patient)");
  }
  check(seg->addForAllFrames(orient), "Plane Orientation");

  // Dimensions: segment, then position (the dimension organization UID derives from the SOP Instance UID so
  // the output stays deterministic).
  char dim_uid[RCY_DICOM_UID_SIZE];
  rcy_dicom_uid_from_key(dim_uid, (std::string("seg-dimension-organization/") + sop_uid.c_str()).c_str());
  IODMultiframeDimensionModule &dims = seg->getDimensions();
  check(dims.addDimensionIndex(DCM_ReferencedSegmentNumber, dim_uid, DCM_SegmentIdentificationSequence,
                               "ReferencedSegmentNumber"),
        "dimension index (segment)");
  check(dims.addDimensionIndex(DCM_ImagePositionPatient, dim_uid, DCM_PlanePositionSequence,
                               "ImagePositionPatient"),
        "dimension index (position)");

  // The segment: a lesion (Morphologically Altered Structure / Mass), SEMIAUTOMATIC.
  DcmSegment *segment = nullptr;
  check_input(DcmSegment::create(segment, in->segment_label,
                                 CodeSequenceMacro("49755003", "SCT", "Morphologically Altered Structure"),
                                 CodeSequenceMacro("4147007", "SCT", "Mass"), DcmSegTypes::SAT_SEMIAUTOMATIC,
                                 in->algorithm_name),
              "Segment Label or Segment Algorithm Name");
  std::unique_ptr<DcmSegment> segment_owner(segment);
  std::string description = in->segment_description ? in->segment_description : "";
  if (in->semiautomatic_edited)
    description += description.empty() ? "Semi-automatic, edited by the reader" : " (edited by the reader)";
  if (!description.empty())
    check_input(segment->setSegmentDescription(description.c_str()), "Segment Description");
  AlgorithmIdentificationMacro algorithm;
  // CID 7162 Surface Processing Algorithm Families: seeded region growing is a neighbourhood analysis.
  algorithm.getAlgorithmFamilyCode().set("123101", "DCM", "Neighborhood Analysis");
  check_input(algorithm.setAlgorithmName(in->algorithm_name), "Algorithm Name");
  check_input(algorithm.setAlgorithmVersion(in->algorithm_version), "Algorithm Version");
  check(segment->setSegmentationAlgorithmIdentification(algorithm), "Segmentation Algorithm Identification");
  if (const rcy_dicom::organ_code *o = rcy_dicom::find_organ_code(in->organ))
    check(segment->getGeneralAnatomyCode().getAnatomicRegion().set(o->code, "SCT", o->meaning),
          "Anatomic Region");
  if (!empty(in->tracking_id)) {
    check_input(segment->setTrackingID(in->tracking_id), "Tracking ID");
    check_input(segment->setTrackingUID(in->tracking_uid), "Tracking UID");
  }
  Uint16 segment_number = 0;
  check(seg->addSegment(segment, segment_number), "adding the segment");
  segment_owner.release(); // owned by seg from here

  // Frames: the mask slices with a pixel set, each with its position and its source image.
  const CodeSequenceMacro derivation_code("113076", "DCM", "Segmentation");
  const CodeSequenceMacro purpose_code("121322", "DCM", "Source image for image processing operation");
  std::vector<Uint8> pixels(frame_px);
  Uint32 position_index = 0;
  for (size_t f : kept) {
    const source &s = src[f];
    std::string who = "frame " + std::to_string(f);
    OFString p[3];
    for (int k = 0; k < 3; k++)
      s.file->getDataset()->findAndGetOFString(DCM_ImagePositionPatient, p[k], static_cast<unsigned long>(k));
    FGPlanePosPatient position;
    check(position.setImagePositionPatient(p[0], p[1], p[2]), who + ": Image Position (Patient)");
    FGFrameContent content;
    check(content.setDimensionIndexValues(segment_number, 0), who + ": dimension index");
    check(content.setDimensionIndexValues(++position_index, 1), who + ": dimension index");
    FGDerivationImage derivation;
    DerivationImageItem *item = nullptr;
    check(derivation.addDerivationImageItem(derivation_code, "", item), who + ": derivation image");
    SourceImageItem *source_item = nullptr;
    check(item->addSourceImageItem(s.file->getDataset(), purpose_code, source_item), who + ": source image");
    OFVector<FGBase *> groups;
    groups.push_back(&position);
    groups.push_back(&content);
    groups.push_back(&derivation);
    const uint8_t *m = in->mask + f * frame_px;
    for (size_t i = 0; i < frame_px; i++)
      pixels[i] = m[i] ? 1 : 0;
    check(seg->addFrame(pixels.data(), segment_number, groups), who + ": adding the frame");
  }

  // Referenced Series Sequence: the source instances the frames reference, by series.
  auto &ref_series = seg->getCommonInstanceReference().getReferencedSeriesItems();
  std::map<std::string, IODSeriesAndInstanceReferenceMacro::ReferencedSeriesItem *> by_series;
  for (size_t f : kept) {
    const source &s = src[f];
    auto it = by_series.find(s.series.c_str());
    if (it == by_series.end()) {
      auto *item = new IODSeriesAndInstanceReferenceMacro::ReferencedSeriesItem();
      ref_series.push_back(item);
      check(item->setSeriesInstanceUID(s.series), "Referenced Series");
      it = by_series.emplace(s.series.c_str(), item).first;
    }
    auto *inst = new SOPInstanceReferenceMacro();
    it->second->getReferencedInstanceItems().push_back(inst);
    check(inst->setReferencedSOPClassUID(s.sop_class), "Referenced SOP Class UID");
    check(inst->setReferencedSOPInstanceUID(s.sop_instance), "Referenced SOP Instance UID");
  }

  DcmFileFormat out;
  DcmDataset *ds = out.getDataset();
  check(seg->writeDataset(*ds), "SEG data set");
  // The clinical trial and de-identification attributes dcmiod does not manage.
  DcmDataset *sds = s0.file->getDataset();
  for (const DcmTagKey &t : trial_copied) {
    if (!sds->tagExists(t)) continue;
    ds->findAndDeleteElement(t);
    check(sds->findAndInsertCopyOfElement(t, ds), "copying " + std::string(DcmTag(t).getTagName()));
  }
  // Only Content Date/Time come from the clock: no instance creation stamp.
  ds->findAndDeleteElement(DCM_InstanceCreationDate);
  ds->findAndDeleteElement(DCM_InstanceCreationTime);

  std::string tmp = std::string(path) + ".tmp";
  OFCondition c = out.saveFile(tmp.c_str(), EXS_LittleEndianExplicit);
  if (c.bad()) {
    std::remove(tmp.c_str());
    refuse(RCY_EIO, "SEG: writing " + tmp + ": " + c.text());
  }
  if (std::rename(tmp.c_str(), path) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return rcy_error_set(err, RCY_EIO, "SEG: renaming %s: %s", tmp.c_str(), strerror(e));
  }
  if (sop_uid_out) rcy_copy_exact(sop_uid_out, RCY_DICOM_UID_SIZE, sop_uid.c_str());
  return RCY_OK;
}

// ---- reading ----

int read_seg(rcy_dicom_seg **out, const char *path, rcy_error *err) {
  if (!out || !path) return rcy_error_set(err, RCY_EINVAL, "SEG read: no path");
  *out = nullptr;
  DcmFileFormat file;
  OFCondition c = file.loadFile(path);
  if (c.bad()) refuse(RCY_EDICOM, std::string("SEG ") + path + ": not a readable DICOM file: " + c.text());
  DcmDataset *ds = file.getDataset();
  std::string who = std::string("SEG ") + path;
  OFString sop_class, type;
  ds->findAndGetOFString(DCM_SOPClassUID, sop_class);
  if (sop_class != UID_SegmentationStorage)
    refuse(RCY_EDICOM, who + ": not a Segmentation (SOP Class " + sop_class.c_str() + ")");
  ds->findAndGetOFString(DCM_SegmentationType, type);
  Uint16 rows = 0, cols = 0, bits = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_BitsAllocated, bits);
  if (type != "BINARY" || bits != 1) refuse(RCY_EDICOM, who + ": not a BINARY segmentation");
  if (rows == 0 || cols == 0) refuse(RCY_EDICOM, who + ": no Rows/Columns");
  Sint32 n_frames = 0;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, n_frames).bad() || n_frames <= 0)
    refuse(RCY_EDICOM, who + ": no Number of Frames");
  const size_t frame_px = static_cast<size_t>(rows) * cols;
  const Uint8 *data = nullptr;
  unsigned long length = 0;
  if (ds->findAndGetUint8Array(DCM_PixelData, data, &length).bad() || !data)
    refuse(RCY_EDICOM, who + ": no Pixel Data");
  const size_t need_bits = frame_px * static_cast<size_t>(n_frames);
  if (static_cast<size_t>(length) * 8 < need_bits)
    refuse(RCY_EDICOM, who + ": Pixel Data shorter than its frames");

  auto seg = std::make_unique<rcy_dicom_seg>();
  seg->rows = rows;
  seg->columns = cols;
  DcmItem *segment_item = nullptr;
  if (ds->findAndGetSequenceItem(DCM_SegmentSequence, segment_item, 0).good() && segment_item) {
    OFString label;
    segment_item->findAndGetOFString(DCM_SegmentLabel, label);
    seg->label = label.c_str();
  }
  DcmSequenceOfItems *per_frame = nullptr;
  if (ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, per_frame).bad() || !per_frame ||
      per_frame->card() != static_cast<unsigned long>(n_frames))
    refuse(RCY_EDICOM, who + ": the Per-frame Functional Groups Sequence does not have one item per frame");
  for (Sint32 f = 0; f < n_frames; f++) {
    std::string source_uid;
    DcmItem *fg = per_frame->getItem(static_cast<unsigned long>(f));
    DcmItem *der = nullptr, *srci = nullptr;
    if (fg && fg->findAndGetSequenceItem(DCM_DerivationImageSequence, der, 0).good() && der &&
        der->findAndGetSequenceItem(DCM_SourceImageSequence, srci, 0).good() && srci) {
      OFString uid;
      srci->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid);
      source_uid = uid.c_str();
    }
    seg->sources.push_back(source_uid);
    // Binary frames are packed continuously across frames, least significant bit first (PS3.5 8.1.1).
    std::vector<uint8_t> mask(frame_px);
    size_t bit = static_cast<size_t>(f) * frame_px;
    for (size_t i = 0; i < frame_px; i++, bit++)
      mask[i] = (data[bit >> 3] >> (bit & 7)) & 1;
    seg->masks.push_back(std::move(mask));
  }
  *out = seg.release();
  return RCY_OK;
}

template <typename F> int guarded(const char *what, rcy_error *err, F &&fn) {
  try {
    return fn();
  } catch (const seg_fail &f) {
    return rcy_error_set(err, f.code, "%s", f.msg.c_str());
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", what, e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: unknown exception", what);
  }
}

} // namespace

extern "C" int rcy_dicom_seg_write(const char *path, const rcy_dicom_seg_input *in,
                                   char sop_uid_out[RCY_DICOM_UID_SIZE], rcy_error *err) {
  return guarded("SEG", err, [&] { return write_seg(path, in, sop_uid_out, err); });
}

extern "C" int rcy_dicom_seg_read(rcy_dicom_seg **out, const char *path, rcy_error *err) {
  return guarded("SEG read", err, [&] { return read_seg(out, path, err); });
}

extern "C" size_t rcy_dicom_seg_n_frames(const rcy_dicom_seg *seg) {
  return seg ? seg->masks.size() : 0;
}

extern "C" const char *rcy_dicom_seg_frame_source(const rcy_dicom_seg *seg, size_t f) {
  return seg && f < seg->sources.size() ? seg->sources[f].c_str() : nullptr;
}

extern "C" const uint8_t *rcy_dicom_seg_frame_mask(const rcy_dicom_seg *seg, size_t f) {
  return seg && f < seg->masks.size() ? seg->masks[f].data() : nullptr;
}

extern "C" void rcy_dicom_seg_geometry(const rcy_dicom_seg *seg, int *rows, int *columns) {
  if (rows) *rows = seg ? seg->rows : 0;
  if (columns) *columns = seg ? seg->columns : 0;
}

extern "C" const char *rcy_dicom_seg_segment_label(const rcy_dicom_seg *seg) {
  return seg ? seg->label.c_str() : "";
}

extern "C" void rcy_dicom_seg_free(rcy_dicom_seg *seg) {
  delete seg;
}
