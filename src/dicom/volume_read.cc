// Volumes: a whole PET (PT), SPECT (NM) or CT series read as one float volume in patient coordinates, with
// the attributes quantitative dosimetry needs (units, decay correction, radiopharmaceutical, dates and
// times), for src/dose/. PT and CT are one instance per slice, sorted along the slice normal and checked for
// one series, one orientation, one size and uniform spacing; NM is one multi-frame reconstructed tomogram.
// Pixels go through the decoder pixels.cc uses (rcy_dicom_pixels::decode: native and compressed syntaxes),
// each slice with its own Rescale Slope/Intercept, on a few threads. Headers are parsed first (DCMTK leaves
// values longer than DCM_MaxReadLength, i.e. Pixel Data, on disk until they are asked for), so the files are
// parsed once and only sorted slices' pixels are decoded, straight into their place in the volume.
#include "guarded.h"
#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>

#include "pixels_internal.h"

namespace {

// At most this many decoding threads: decoding is memory-bound beyond a few cores.
constexpr unsigned kMaxThreads = 4;
// Slice spacing is uniform when every gap is within max(1 % of the median gap, 0.01 mm) of the median gap.
constexpr double kSpacingRelTol = 0.01, kSpacingAbsTolMm = 0.01;
// Direction cosines and pixel spacings of two slices are the same within these.
constexpr double kCosineTol = 1e-4, kPixelSpacingRelTol = 1e-4;

// ---- Dates and times (DA, TM, DT) -> seconds since 1970 as if UTC ----

bool all_digits(const std::string &s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; i++)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int num(const std::string &s, size_t from, size_t n) {
  return std::atoi(s.substr(from, n).c_str());
}

std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(" \0", std::string::npos, 2);
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Seconds since 1970-01-01T00:00 UTC of a civil date and time; false when a field is out of range
// (31 February).
bool civil_epoch(double *out, int y, int mo, int d, int h, int mi, double sec) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec >= 61)
    return false;
  struct tm t = {};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  time_t days = timegm(&t);
  if (t.tm_mday != d || t.tm_mon != mo - 1) return false; // timegm normalised an impossible day
  *out = (double)days + h * 3600.0 + mi * 60.0 + sec;
  return true;
}

// DA: YYYYMMDD.
bool parse_da(const std::string &v, int *y, int *mo, int *d) {
  std::string s = trim(v);
  if (s.size() != 8 || !all_digits(s, 0, 8)) return false;
  *y = num(s, 0, 4);
  *mo = num(s, 4, 2);
  *d = num(s, 6, 2);
  double unused;
  return civil_epoch(&unused, *y, *mo, *d, 0, 0, 0);
}

// HH[MM[SS[.F{1,6}]]] from position `from` of s to its end; false when malformed.
bool parse_clock(const std::string &s, size_t from, int *h, int *mi, double *sec) {
  size_t n = s.size() - from;
  *h = 0;
  *mi = 0;
  *sec = 0;
  if (n < 2 || !all_digits(s, from, 2)) return false;
  *h = num(s, from, 2);
  if (n == 2) return *h <= 23;
  if (n < 4 || !all_digits(s, from + 2, 2)) return false;
  *mi = num(s, from + 2, 2);
  if (n == 4) return *h <= 23 && *mi <= 59;
  if (n < 6 || !all_digits(s, from + 4, 2)) return false;
  *sec = num(s, from + 4, 2);
  if (n > 6) {
    size_t f = n - 7; // digits after the point
    if (s[from + 6] != '.' || f < 1 || f > 6 || !all_digits(s, from + 7, f)) return false;
    *sec += std::atof(s.substr(from + 6).c_str());
  }
  return *h <= 23 && *mi <= 59 && *sec < 61;
}

// TM -> seconds since midnight. The ACR-NEMA form HH:MM:SS is accepted too (older PET systems write it).
bool parse_tm(const std::string &v, double *seconds) {
  std::string s = trim(v);
  if (s.size() >= 5 && s[2] == ':') {
    std::string c;
    for (char ch : s)
      if (ch != ':') c += ch;
    s = c;
  }
  int h, mi;
  double sec;
  if (!parse_clock(s, 0, &h, &mi, &sec)) return false;
  *seconds = h * 3600.0 + mi * 60.0 + sec;
  return true;
}

// DT: YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]. *offset_s receives the UTC offset when one is given.
bool parse_dt(const std::string &v, double *epoch, bool *has_offset, int *offset_s) {
  std::string s = trim(v);
  *has_offset = false;
  size_t z = s.find_first_of("+-", 4);
  if (z != std::string::npos) {
    if (s.size() - z != 5 || !all_digits(s, z + 1, 4)) return false;
    int hh = num(s, z + 1, 2), mm = num(s, z + 3, 2);
    if (hh > 14 || mm > 59) return false;
    *offset_s = (s[z] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    *has_offset = true;
    s = s.substr(0, z);
  }
  if (s.size() < 4 || !all_digits(s, 0, 4)) return false;
  int y = num(s, 0, 4), mo = 1, d = 1, h = 0, mi = 0;
  double sec = 0;
  if (s.size() > 4) {
    if (s.size() < 6 || !all_digits(s, 4, 2)) return false;
    mo = num(s, 4, 2);
  }
  if (s.size() > 6) {
    if (s.size() < 8 || !all_digits(s, 6, 2)) return false;
    d = num(s, 6, 2);
  }
  if (s.size() > 8 && !parse_clock(s, 8, &h, &mi, &sec)) return false;
  return civil_epoch(epoch, y, mo, d, h, mi, sec);
}

// ---- Attribute access ----

std::string get_string(DcmItem *it, const DcmTagKey &tag) {
  OFString v;
  if (!it || it->findAndGetOFStringArray(tag, v).bad()) return std::string();
  return trim(std::string(v.c_str()));
}

bool get_double(DcmItem *it, const DcmTagKey &tag, unsigned long pos, double *out) {
  Float64 v;
  if (!it || it->findAndGetFloat64(tag, v, pos).bad() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool get_doubles(DcmItem *it, const DcmTagKey &tag, double *out, int n) {
  for (int i = 0; i < n; i++)
    if (!get_double(it, tag, (unsigned long)i, &out[i])) return false;
  return true;
}

DcmItem *first_item(DcmItem *it, const DcmTagKey &seq) {
  DcmItem *item = nullptr;
  if (!it || it->findAndGetSequenceItem(seq, item, 0).bad()) return nullptr;
  return item;
}

std::string tag_keyword(const DcmTagKey &tag) {
  char buf[64];
  rcy_dicom_tag_name(buf, sizeof buf, RCY_DICOM_TAG(tag.getGroup(), tag.getElement()));
  return buf;
}

// Date (DA) + time (TM) attributes -> epoch; -1 when either is absent; RCY_EDICOM naming the malformed one.
// date_fallback (may be null): the date attribute used when date_tag is absent.
int date_time_epoch(double *out, DcmItem *it, const DcmTagKey &date_tag, const DcmTagKey *date_fallback,
                    const DcmTagKey &time_tag, const std::string &path, rcy_error *err) {
  *out = -1;
  DcmTagKey date_used = date_tag;
  std::string da = get_string(it, date_tag), tm = get_string(it, time_tag);
  if (da.empty() && date_fallback) {
    date_used = *date_fallback;
    da = get_string(it, date_used);
  }
  int y = 0, mo = 0, d = 0;
  double sec = 0;
  if (!da.empty() && !parse_da(da, &y, &mo, &d))
    return rcy_error_set(err, RCY_EDICOM, "%s: malformed %s '%s' (expected YYYYMMDD)", path.c_str(),
                         tag_keyword(date_used).c_str(), da.c_str());
  if (!tm.empty() && !parse_tm(tm, &sec))
    return rcy_error_set(err, RCY_EDICOM, "%s: malformed %s '%s' (expected HHMMSS.FFFFFF)", path.c_str(),
                         tag_keyword(time_tag).c_str(), tm.c_str());
  if (da.empty() || tm.empty()) return RCY_OK;
  civil_epoch(out, y, mo, d, 0, 0, 0);
  *out += sec;
  return RCY_OK;
}

// DT attribute -> epoch on the scanner's clock: a UTC offset in the value is converted to the instance's own
// Timezone Offset From UTC (0008,0201) when it has one (otherwise ignored: every other time in the instance
// is on that local clock, and only differences are used).
int date_time_dt(double *out, DcmItem *it, const DcmTagKey &tag, DcmItem *top, const std::string &path,
                 rcy_error *err) {
  *out = -1;
  std::string dt = get_string(it, tag);
  if (dt.empty()) return RCY_OK;
  bool has_offset;
  int offset_s = 0;
  if (!parse_dt(dt, out, &has_offset, &offset_s)) {
    *out = -1;
    return rcy_error_set(err, RCY_EDICOM, "%s: malformed %s '%s' (expected YYYYMMDDHHMMSS.FFFFFF&ZZXX)",
                         path.c_str(), tag_keyword(tag).c_str(), dt.c_str());
  }
  std::string local = get_string(top, DCM_TimezoneOffsetFromUTC);
  double local_epoch;
  bool local_has;
  int local_s;
  if (has_offset && !local.empty() && parse_dt("19700101" + local, &local_epoch, &local_has, &local_s) &&
      local_has)
    *out += local_s - offset_s;
  return RCY_OK;
}

// ---- One instance's header ----

struct Instance {
  std::string path;
  std::unique_ptr<DcmFileFormat> file; // Pixel Data still on disk until decoded; released after
  std::string modality, series_uid, study_uid, for_uid, sop_uid, image_type;
  rcy_dicom_pixels::format fmt;
  bool has_spacing = false, has_orientation = false, has_position = false;
  double pixel_spacing[2] = {0, 0}; // row spacing, column spacing (Pixel Spacing [0], [1])
  double orientation[6] = {0, 0, 0, 0, 0, 0};
  double position[3] = {0, 0, 0};
  double slope = 1, intercept = 0;
  long frames = 1;
  double acquisition_epoch = -1;
  double along_mm = 0; // position along the slice normal
  bool parsed = false; // the file is DICOM (its header parsed), whatever load_header then found wrong
};

DcmDataset *dataset(const Instance &in) {
  return in.file->getDataset();
}

// Parses the file's header (Pixel Data stays on disk). RCY_EDICOM naming the file: not DICOM, no pixel data.
int load_header(Instance *in, rcy_error *err) {
  const char *path = in->path.c_str();
  in->file = std::make_unique<DcmFileFormat>();
  OFCondition c =
      in->file->loadFile(in->path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "%s: not a readable DICOM file: %s", path, c.text());
  in->parsed = true;
  DcmDataset *ds = dataset(*in);
  in->modality = get_string(ds, DCM_Modality);
  in->series_uid = get_string(ds, DCM_SeriesInstanceUID);
  in->study_uid = get_string(ds, DCM_StudyInstanceUID);
  in->for_uid = get_string(ds, DCM_FrameOfReferenceUID);
  in->sop_uid = get_string(ds, DCM_SOPInstanceUID);
  in->image_type = get_string(ds, DCM_ImageType);
  in->has_spacing = get_doubles(ds, DCM_PixelSpacing, in->pixel_spacing, 2);
  in->has_orientation = get_doubles(ds, DCM_ImageOrientationPatient, in->orientation, 6);
  in->has_position = get_doubles(ds, DCM_ImagePositionPatient, in->position, 3);
  if (!get_double(ds, DCM_RescaleSlope, 0, &in->slope)) in->slope = 1;
  if (!get_double(ds, DCM_RescaleIntercept, 0, &in->intercept)) in->intercept = 0;
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  in->frames = frames;
  // Acquisition Date + Time (the time on the Series Date when the date is absent), else Acquisition DateTime.
  const DcmTagKey series_date = DCM_SeriesDate;
  int rc = date_time_epoch(&in->acquisition_epoch, ds, DCM_AcquisitionDate, &series_date, DCM_AcquisitionTime,
                           in->path, err);
  if (rc) return rc;
  if (in->acquisition_epoch < 0) {
    rc = date_time_dt(&in->acquisition_epoch, ds, DCM_AcquisitionDateTime, ds, in->path, err);
    if (rc) return rc;
  }
  if (!ds->tagExistsWithValue(DCM_PixelData))
    return rcy_error_set(err, RCY_EDICOM, "%s: no Pixel Data", path);
  return rcy_dicom_pixels::read_format(&in->fmt, ds, path, err);
}

// ---- A few threads over an index range ----

// Runs fn(i, err) for i in [0, n) on up to kMaxThreads threads (the caller's included). Every index runs; the
// error of the lowest failing index is reported, so the message does not depend on scheduling.
template <typename F> int parallel_for(size_t n, F &&fn, rcy_error *err) {
  unsigned hw = std::thread::hardware_concurrency();
  size_t n_threads = std::min<size_t>({n, (size_t)kMaxThreads, (size_t)(hw ? hw : 2)});
  std::atomic<size_t> next{0};
  std::mutex m;
  size_t bad = n;
  int bad_rc = RCY_OK;
  rcy_error bad_err = {};
  auto worker = [&]() {
    for (;;) {
      size_t i = next++;
      if (i >= n) return;
      rcy_error e = {};
      int rc;
      try {
        rc = fn(i, &e);
      } catch (const std::bad_alloc &) {
        rc = rcy_error_set(&e, RCY_ENOMEM, "out of memory reading the series");
      } catch (const std::exception &ex) {
        rc = rcy_error_set(&e, RCY_EINTERNAL, "reading the series: %s", ex.what());
      } catch (...) {
        rc = rcy_error_set(&e, RCY_EINTERNAL, "reading the series: unknown exception");
      }
      if (rc) {
        std::lock_guard<std::mutex> lock(m);
        if (i < bad) {
          bad = i;
          bad_rc = rc;
          bad_err = e;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n_threads; t++) {
    try {
      threads.emplace_back(worker);
    } catch (...) {
      break; // no more threads: the others (and this one) share the work
    }
  }
  worker();
  for (std::thread &t : threads)
    t.join();
  if (bad_rc) {
    if (err) *err = bad_err;
    return bad_rc;
  }
  return RCY_OK;
}

// ---- The volume ----

struct VolumeDeleter {
  void operator()(rcy_dicom_volume *v) const {
    rcy_dicom_volume_free(v);
  }
};
using VolumePtr = std::unique_ptr<rcy_dicom_volume, VolumeDeleter>;

void copy_field(char *dst, size_t size, const std::string &src) {
  // Identifiers never cut: a value too long for its field leaves it empty (rcy_copy_exact).
  rcy_copy_exact(dst, size, src.c_str());
}

void cross(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

double dot(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

// Row cosine, column cosine and their normal as the direction matrix's columns; false when degenerate.
bool set_direction(rcy_dicom_volume *v, const double iop[6], double normal_sign, double normal[3]) {
  cross(iop, iop + 3, normal);
  double len = std::sqrt(dot(normal, normal));
  if (!(len > 0.5)) return false; // cosines not unit or parallel
  for (int r = 0; r < 3; r++) {
    normal[r] /= len;
    v->direction[r * 3 + 0] = iop[r];
    v->direction[r * 3 + 1] = iop[3 + r];
    v->direction[r * 3 + 2] = normal_sign * normal[r];
  }
  return true;
}

// Quantitative attributes of the series, from one of its instances.
int read_quantitative(rcy_dicom_volume *v, Instance &in, rcy_error *err) {
  DcmDataset *ds = dataset(in);
  const std::string &path = in.path;
  copy_field(v->modality, sizeof v->modality, in.modality);
  copy_field(v->series_uid, sizeof v->series_uid, in.series_uid);
  copy_field(v->study_uid, sizeof v->study_uid, in.study_uid);
  copy_field(v->frame_of_reference_uid, sizeof v->frame_of_reference_uid, in.for_uid);
  copy_field(v->units, sizeof v->units, in.modality == "CT" ? std::string("HU") : get_string(ds, DCM_Units));
  std::string decay = get_string(ds, DCM_DecayCorrection);
  v->decay_correction = decay == "NONE"    ? RCY_DICOM_DECAY_NONE
                        : decay == "START" ? RCY_DICOM_DECAY_START
                        : decay == "ADMIN" ? RCY_DICOM_DECAY_ADMIN
                                           : -1;
  std::string series_date = get_string(ds, DCM_SeriesDate);
  int rc = date_time_epoch(&v->series_epoch_s, ds, DCM_SeriesDate, nullptr, DCM_SeriesTime, path, err);
  if (rc) return rc;
  Sint32 duration_ms;
  if (ds->findAndGetSint32(DCM_ActualFrameDuration, duration_ms).good() && duration_ms >= 0)
    v->frame_duration_s = duration_ms / 1000.0;
  DcmItem *rp = first_item(ds, DCM_RadiopharmaceuticalInformationSequence);
  if (rp) {
    if (!get_double(rp, DCM_RadionuclideTotalDose, 0, &v->total_dose_bq)) v->total_dose_bq = -1;
    if (!get_double(rp, DCM_RadionuclideHalfLife, 0, &v->half_life_s)) v->half_life_s = -1;
    rc = date_time_dt(&v->injection_epoch_s, rp, DCM_RadiopharmaceuticalStartDateTime, ds, path, err);
    if (rc) return rc;
    if (v->injection_epoch_s < 0) {
      // Start Time alone is on the Series Date: an injection the day before the scan cannot be told apart.
      double start;
      std::string tm = get_string(rp, DCM_RadiopharmaceuticalStartTime);
      if (!tm.empty()) {
        if (!parse_tm(tm, &start))
          return rcy_error_set(err, RCY_EDICOM, "%s: malformed RadiopharmaceuticalStartTime '%s'",
                               path.c_str(), tm.c_str());
        int y = 0, mo = 0, d = 0;
        if (!series_date.empty()) {
          if (!parse_da(series_date, &y, &mo, &d))
            return rcy_error_set(err, RCY_EDICOM, "%s: malformed SeriesDate '%s'", path.c_str(),
                                 series_date.c_str());
          civil_epoch(&v->injection_epoch_s, y, mo, d, 0, 0, 0);
          v->injection_epoch_s += start;
        }
      }
    }
    std::string nuclide = get_string(first_item(rp, DCM_RadionuclideCodeSequence), DCM_CodeMeaning);
    if (nuclide.empty()) nuclide = get_string(rp, DCM_RETIRED_Radionuclide);
    if (nuclide.empty()) nuclide = get_string(ds, DCM_RETIRED_Radionuclide);
    copy_field(v->radionuclide, sizeof v->radionuclide, nuclide);
  }
  return RCY_OK;
}

// A 512x512x300 float volume is 300 MB: touching it 4 KiB page by page cost more than decoding it (page
// faults took most of the reading time in a VM). Large volumes are aligned to and advised for 2 MiB
// transparent huge pages; still one block for free().
float *alloc_values(size_t n) {
  const size_t bytes = n * sizeof(float), huge = size_t(2) << 20;
  if (bytes < 4 * huge) return static_cast<float *>(std::malloc(bytes ? bytes : 1));
  const size_t rounded = (bytes + huge - 1) / huge * huge;
  void *p = std::aligned_alloc(huge, rounded);
  if (p) madvise(p, rounded, MADV_HUGEPAGE); // advice only: without huge pages it is just slower
  return static_cast<float *>(p);
}

int alloc_volume(rcy_dicom_volume *v, rcy_error *err) {
  size_t n = (size_t)v->size[0] * v->size[1] * v->size[2];
  v->values = alloc_values(n);
  v->slice_sop_uids = static_cast<char(*)[65]>(std::calloc((size_t)v->size[2], sizeof *v->slice_sop_uids));
  if (!v->values || !v->slice_sop_uids)
    return rcy_error_set(err, RCY_ENOMEM, "out of memory for a %dx%dx%d volume", v->size[0], v->size[1],
                         v->size[2]);
  return RCY_OK;
}

// NM: one multi-frame reconstructed tomogram.
int read_nm(VolumePtr &v, Instance &in, rcy_error *err) {
  const char *path = in.path.c_str();
  DcmDataset *ds = dataset(in);
  if (in.image_type.find("RECON TOMO") == std::string::npos)
    return rcy_error_set(
        err, RCY_EDICOM,
        "%s: NM Image Type '%s' is not a reconstructed tomogram (RECON TOMO): planar and raw "
        "projections are not volumes",
        path, in.image_type.c_str());
  // Position and orientation of the first frame are in the Detector Information Sequence (NM Image IOD).
  DcmItem *det = first_item(ds, DCM_DetectorInformationSequence);
  double ipp[3], iop[6];
  if (!get_doubles(det, DCM_ImagePositionPatient, ipp, 3))
    return rcy_error_set(err, RCY_EDICOM,
                         "%s: no Image Position (Patient) in Detector Information Sequence item 1", path);
  if (!get_doubles(det, DCM_ImageOrientationPatient, iop, 6))
    return rcy_error_set(err, RCY_EDICOM,
                         "%s: no Image Orientation (Patient) in Detector Information Sequence item 1", path);
  double sbs;
  if (!get_double(ds, DCM_SpacingBetweenSlices, 0, &sbs) || sbs == 0)
    return rcy_error_set(err, RCY_EDICOM, "%s: no Spacing Between Slices (0018,0088)", path);
  if (!in.has_spacing || in.pixel_spacing[0] <= 0 || in.pixel_spacing[1] <= 0)
    return rcy_error_set(err, RCY_EDICOM, "%s: no Pixel Spacing", path);
  double normal[3];
  // Frame k lies at position + k * spacing * normal: a negative spacing runs the frames against the normal.
  if (!set_direction(v.get(), iop, sbs < 0 ? -1 : 1, normal))
    return rcy_error_set(err, RCY_EDICOM,
                         "%s: Image Orientation (Patient) is not two orthogonal unit vectors", path);
  v->size[0] = (int)in.fmt.columns;
  v->size[1] = (int)in.fmt.rows;
  v->size[2] = (int)in.frames;
  v->spacing_mm[0] = in.pixel_spacing[1];
  v->spacing_mm[1] = in.pixel_spacing[0];
  v->spacing_mm[2] = std::fabs(sbs);
  std::memcpy(v->origin_mm, ipp, sizeof ipp);
  v->acquisition_epoch_s = in.acquisition_epoch;
  int rc = alloc_volume(v.get(), err);
  if (rc) return rc;
  for (int k = 0; k < v->size[2]; k++)
    copy_field(v->slice_sop_uids[k], 65, in.sop_uid);
  rc = rcy_dicom_pixels::decode(v->values, ds, in.fmt, (size_t)in.frames, in.slope, in.intercept, path, err);
  in.file.reset();
  return rc;
}

// PT and CT: one instance per slice.
int read_slices(VolumePtr &v, std::vector<Instance> &ins, rcy_error *err) {
  const Instance &first = ins[0];
  for (const Instance &in : ins) {
    const char *path = in.path.c_str();
    if (in.frames > 1)
      return rcy_error_set(err, RCY_EDICOM, "%s: %s with %ld frames: only one instance per slice is read",
                           path, in.modality.c_str(), in.frames);
    if (!in.has_position) return rcy_error_set(err, RCY_EDICOM, "%s: no Image Position (Patient)", path);
    if (!in.has_orientation)
      return rcy_error_set(err, RCY_EDICOM, "%s: no Image Orientation (Patient)", path);
    if (!in.has_spacing || in.pixel_spacing[0] <= 0 || in.pixel_spacing[1] <= 0)
      return rcy_error_set(err, RCY_EDICOM, "%s: no Pixel Spacing", path);
    if (in.fmt.rows != first.fmt.rows || in.fmt.columns != first.fmt.columns)
      return rcy_error_set(err, RCY_EDICOM, "%s: %ux%u pixels where %s has %ux%u", path, in.fmt.columns,
                           in.fmt.rows, first.path.c_str(), first.fmt.columns, first.fmt.rows);
    for (int a = 0; a < 2; a++)
      if (std::fabs(in.pixel_spacing[a] - first.pixel_spacing[a]) >
          kPixelSpacingRelTol * first.pixel_spacing[a])
        return rcy_error_set(err, RCY_EDICOM, "%s: Pixel Spacing %g\\%g differs from %s's %g\\%g", path,
                             in.pixel_spacing[0], in.pixel_spacing[1], first.path.c_str(),
                             first.pixel_spacing[0], first.pixel_spacing[1]);
    for (int a = 0; a < 6; a++)
      if (std::fabs(in.orientation[a] - first.orientation[a]) > kCosineTol)
        return rcy_error_set(err, RCY_EDICOM, "%s: Image Orientation (Patient) differs from %s's", path,
                             first.path.c_str());
  }
  double normal[3];
  if (!set_direction(v.get(), first.orientation, 1, normal))
    return rcy_error_set(err, RCY_EDICOM,
                         "%s: Image Orientation (Patient) is not two orthogonal unit vectors",
                         first.path.c_str());
  for (Instance &in : ins)
    in.along_mm = dot(in.position, normal);
  std::stable_sort(ins.begin(), ins.end(),
                   [](const Instance &a, const Instance &b) { return a.along_mm < b.along_mm; });
  const size_t n = ins.size();
  double spacing;
  if (n == 1) {
    // One slice: its thickness is the only extent there is.
    DcmDataset *ds = dataset(ins[0]);
    if (!get_double(ds, DCM_SpacingBetweenSlices, 0, &spacing) &&
        !get_double(ds, DCM_SliceThickness, 0, &spacing))
      return rcy_error_set(err, RCY_EDICOM, "%s: a single slice without Slice Thickness",
                           ins[0].path.c_str());
    spacing = std::fabs(spacing);
  } else {
    // Gaps are judged against the median gap, so the message names the odd one (a missing slice) rather than
    // whichever gap first strays from a mean it has itself shifted.
    std::vector<double> gaps(n - 1);
    for (size_t k = 0; k + 1 < n; k++)
      gaps[k] = ins[k + 1].along_mm - ins[k].along_mm;
    std::nth_element(gaps.begin(), gaps.begin() + (n - 1) / 2, gaps.end());
    const double median = gaps[(n - 1) / 2];
    const double tol = std::max(kSpacingRelTol * median, kSpacingAbsTolMm);
    for (size_t k = 0; k + 1 < n; k++) {
      double gap = ins[k + 1].along_mm - ins[k].along_mm;
      if (gap < kSpacingAbsTolMm)
        return rcy_error_set(err, RCY_EDICOM,
                             "%s and %s: two slices at the same position (%.3f mm along the normal)",
                             ins[k].path.c_str(), ins[k + 1].path.c_str(), ins[k].along_mm);
      if (std::fabs(gap - median) > tol)
        return rcy_error_set(
            err, RCY_EDICOM,
            "unequal slice spacing: slices at %.3f mm (%s) and %.3f mm (%s) along the normal are "
            "%.3f mm apart, the others about %.3f mm (a missing or extra slice?)",
            ins[k].along_mm, ins[k].path.c_str(), ins[k + 1].along_mm, ins[k + 1].path.c_str(), gap, median);
    }
    // The distance between slice centres as measured over the whole stack.
    spacing = (ins[n - 1].along_mm - ins[0].along_mm) / (double)(n - 1);
    // Slices must stack along the normal (no gantry tilt: that volume would be sheared).
    for (size_t k = 1; k < n; k++) {
      double d[3], off = 0;
      for (int a = 0; a < 3; a++)
        d[a] = ins[k].position[a] - ins[0].position[a];
      double t = dot(d, normal);
      for (int a = 0; a < 3; a++)
        off += (d[a] - t * normal[a]) * (d[a] - t * normal[a]);
      if (std::sqrt(off) > std::max(kSpacingAbsTolMm, kSpacingRelTol * spacing))
        return rcy_error_set(
            err, RCY_EDICOM,
            "%s: Image Position (Patient) is %.3f mm off the line through %s along the slice normal "
            "(gantry tilt?): the slices do not form a rectilinear volume",
            ins[k].path.c_str(), std::sqrt(off), ins[0].path.c_str());
    }
  }
  v->size[0] = (int)first.fmt.columns;
  v->size[1] = (int)first.fmt.rows;
  v->size[2] = (int)n;
  v->spacing_mm[0] = ins[0].pixel_spacing[1];
  v->spacing_mm[1] = ins[0].pixel_spacing[0];
  v->spacing_mm[2] = spacing;
  std::memcpy(v->origin_mm, ins[0].position, sizeof v->origin_mm);
  // The series' quantitative attributes come from its first slice.
  int rc = read_quantitative(v.get(), ins[0], err);
  if (rc) return rc;
  v->acquisition_epoch_s = -1;
  for (const Instance &in : ins)
    if (in.acquisition_epoch >= 0 &&
        (v->acquisition_epoch_s < 0 || in.acquisition_epoch < v->acquisition_epoch_s))
      v->acquisition_epoch_s = in.acquisition_epoch;
  rc = alloc_volume(v.get(), err);
  if (rc) return rc;
  const size_t plane = (size_t)v->size[0] * v->size[1];
  float *values = v->values;
  char(*uids)[65] = v->slice_sop_uids;
  return parallel_for(
      n,
      [&](size_t k, rcy_error *e) -> int {
        Instance &in = ins[k];
        copy_field(uids[k], 65, in.sop_uid);
        int r = rcy_dicom_pixels::decode(values + k * plane, dataset(in), in.fmt, 1, in.slope, in.intercept,
                                         in.path.c_str(), e);
        in.file.reset(); // the decoded Pixel Data is not needed twice
        return r;
      },
      err);
}

// The instances, headers loaded, all of one series: checks and reads them into a volume.
int read_instances(rcy_dicom_volume **out, std::vector<Instance> &ins, rcy_error *err) {
  if (ins.empty()) return rcy_error_set(err, RCY_EINVAL, "read volume: no files");
  const Instance &first = ins[0];
  for (const Instance &in : ins) {
    if (in.modality != "PT" && in.modality != "NM" && in.modality != "CT")
      return rcy_error_set(err, RCY_EDICOM, "%s: Modality '%s' is not PT, NM or CT", in.path.c_str(),
                           in.modality.c_str());
    if (in.series_uid.empty())
      return rcy_error_set(err, RCY_EDICOM, "%s: no Series Instance UID", in.path.c_str());
    if (in.series_uid != first.series_uid)
      return rcy_error_set(err, RCY_EDICOM, "files of several series: %s (series %s) and %s (series %s)",
                           first.path.c_str(), first.series_uid.c_str(), in.path.c_str(),
                           in.series_uid.c_str());
    if (in.modality != first.modality)
      return rcy_error_set(err, RCY_EDICOM, "one series, two modalities: %s is %s, %s is %s",
                           first.path.c_str(), first.modality.c_str(), in.path.c_str(), in.modality.c_str());
  }
  VolumePtr v(static_cast<rcy_dicom_volume *>(std::calloc(1, sizeof(rcy_dicom_volume))));
  if (!v) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  v->decay_correction = -1;
  v->half_life_s = v->total_dose_bq = v->injection_epoch_s = v->series_epoch_s = -1;
  v->acquisition_epoch_s = v->frame_duration_s = -1;
  int rc;
  if (first.modality == "NM") {
    if (ins.size() != 1)
      return rcy_error_set(
          err, RCY_EDICOM,
          "NM series %s has %zu files: a reconstructed tomogram is one multi-frame instance (%s, %s)",
          first.series_uid.c_str(), ins.size(), ins[0].path.c_str(), ins[1].path.c_str());
    rc = read_quantitative(v.get(), ins[0], err);
    if (!rc) rc = read_nm(v, ins[0], err);
  } else {
    rc = read_slices(v, ins, err);
  }
  if (rc) return rc;
  *out = v.release();
  return RCY_OK;
}

int load_headers(std::vector<Instance> &ins, rcy_error *err) {
  rcy_dicom_pixels::register_codecs();
  return parallel_for(
      ins.size(), [&](size_t i, rcy_error *e) { return load_header(&ins[i], e); }, err);
}

using rcy_dicom_guard::guarded;

} // namespace

extern "C" int rcy_dicom_volume_read_files(rcy_dicom_volume **out, const char *const *paths, size_t n,
                                           rcy_error *err) {
  if (!out) return rcy_error_set(err, RCY_EINVAL, "read volume: no output");
  *out = nullptr;
  if (!paths || n == 0) return rcy_error_set(err, RCY_EINVAL, "read volume: no files");
  return guarded(err, "read volume", [&]() -> int {
    std::vector<Instance> ins(n);
    for (size_t i = 0; i < n; i++) {
      if (!paths[i]) return rcy_error_set(err, RCY_EINVAL, "read volume: file %zu is NULL", i);
      ins[i].path = paths[i];
    }
    int rc = load_headers(ins, err);
    if (rc) return rc;
    return read_instances(out, ins, err);
  });
}

extern "C" int rcy_dicom_volume_read_dir(rcy_dicom_volume **out, const char *dir, const char *modality,
                                         const char *series_uid, rcy_error *err) {
  if (!out) return rcy_error_set(err, RCY_EINVAL, "read volume: no output");
  *out = nullptr;
  if (!dir || !*dir) return rcy_error_set(err, RCY_EINVAL, "read volume: no folder");
  if (modality && strcmp(modality, "PT") && strcmp(modality, "NM") && strcmp(modality, "CT"))
    return rcy_error_set(err, RCY_EINVAL, "read volume: modality '%s' is not PT, NM or CT", modality);
  return guarded(err, "read volume", [&]() -> int {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    if (ec)
      return rcy_error_set(err, ec == std::errc::no_such_file_or_directory ? RCY_ENOTFOUND : RCY_EIO,
                           "%s: cannot list the folder: %s", dir, ec.message().c_str());
    std::vector<std::string> names;
    for (; it != end; it.increment(ec)) {
      if (ec) return rcy_error_set(err, RCY_EIO, "%s: cannot list the folder: %s", dir, ec.message().c_str());
      std::error_code ec2;
      if (it->is_regular_file(ec2)) names.push_back(it->path().string());
    }
    std::sort(names.begin(), names.end()); // deterministic order, whatever the file system lists
    std::vector<Instance> all(names.size());
    for (size_t i = 0; i < names.size(); i++)
      all[i].path = names[i];
    rcy_dicom_pixels::register_codecs();
    // Files that are not DICOM (notes, thumbnails) are not ours to judge: skipped. A DICOM file of the wanted
    // modality and series that is unusable (no Pixel Data, a malformed date) fails the read, with its error:
    // skipping it would leave a hole in the volume.
    std::vector<int> rcs(all.size(), 0);
    std::vector<std::string> messages(all.size());
    parallel_for(
        all.size(),
        [&](size_t i, rcy_error *e) {
          rcs[i] = load_header(&all[i], e);
          if (rcs[i]) {
            messages[i] = e->message;
            all[i].file.reset();
          }
          return (int)RCY_OK;
        },
        nullptr);
    std::map<std::string, std::vector<Instance>> series;
    std::map<std::string, size_t> broken; // series UID -> first unusable file of it
    for (size_t i = 0; i < all.size(); i++) {
      Instance &in = all[i];
      if (!in.parsed) continue;
      bool wanted = modality ? in.modality == modality
                             : (in.modality == "PT" || in.modality == "NM" || in.modality == "CT");
      if (!wanted || (series_uid && in.series_uid != series_uid)) continue;
      if (rcs[i]) {
        if (!broken.count(in.series_uid)) broken[in.series_uid] = i;
        series[in.series_uid]; // the series exists even if this is its only file
        continue;
      }
      series[in.series_uid].push_back(std::move(in));
    }
    // A series of nothing but unusable files (a PT raw data object, say) is not a candidate volume, unless it
    // is the one asked for.
    for (auto s = series.begin(); s != series.end();) {
      if (s->second.empty() && !series_uid)
        s = series.erase(s);
      else
        ++s;
    }
    const char *what = modality ? modality : "PT, NM or CT";
    if (series.empty()) {
      if (series_uid) return rcy_error_set(err, RCY_ENOTFOUND, "%s: no %s series %s", dir, what, series_uid);
      return rcy_error_set(err, RCY_ENOTFOUND, "%s: no %s series", dir, what);
    }
    if (series.size() > 1) {
      std::string list;
      for (const auto &s : series) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%s%s %s (%zu files)", list.empty() ? "" : ", ",
                      s.second[0].modality.c_str(), s.first.c_str(), s.second.size());
        list += buf;
      }
      return rcy_error_set(err, RCY_EINVAL, "%s holds %zu %s series, name one: %s", dir, series.size(), what,
                           list.c_str());
    }
    auto bad = broken.find(series.begin()->first);
    if (bad != broken.end()) return rcy_error_set(err, rcs[bad->second], "%s", messages[bad->second].c_str());
    return read_instances(out, series.begin()->second, err);
  });
}

extern "C" void rcy_dicom_volume_free(rcy_dicom_volume *v) {
  if (!v) return;
  std::free(v->values);
  std::free(v->slice_sop_uids);
  std::free(v);
}
