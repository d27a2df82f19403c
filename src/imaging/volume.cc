// Reading a DICOM series into a volume with ITK (GDCM image IO), copied out into plain arrays so that
// no ITK type crosses the C API. The series is ordered by ITK's GDCMSeriesFileNames (position along the
// slice normal), which is how ITK-based QC tools see it.
#include "recistry/imaging.h"

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

struct rcy_imaging_volume {
  size_t size[3];
  double origin[3];
  double spacing[3];
  double direction[9];
  std::vector<int16_t> voxels;
};

namespace {
using ImageType = itk::Image<int16_t, 3>;

int read_series(rcy_imaging_volume **out, const char *dir, const char *series_uid, rcy_error *err) {
  auto names = itk::GDCMSeriesFileNames::New();
  names->SetUseSeriesDetails(false);  // group by Series Instance UID only
  names->SetDirectory(dir);
  const std::vector<std::string> &uids = names->GetSeriesUIDs();
  if (uids.empty()) return rcy_error_set(err, RCY_ENOTFOUND, "%s: no DICOM series found", dir);
  std::string uid;
  if (series_uid) {
    for (const std::string &u : uids)
      if (u == series_uid) uid = u;
    if (uid.empty()) return rcy_error_set(err, RCY_ENOTFOUND, "%s: no series %s", dir, series_uid);
  } else {
    if (uids.size() != 1)
      return rcy_error_set(err, RCY_EINVAL, "%s holds %zu series: name one", dir, uids.size());
    uid = uids[0];
  }
  std::vector<std::string> files = names->GetFileNames(uid);
  auto reader = itk::ImageSeriesReader<ImageType>::New();
  reader->SetImageIO(itk::GDCMImageIO::New());
  reader->SetFileNames(files);
  reader->Update();
  ImageType::Pointer img = reader->GetOutput();
  auto vol = new rcy_imaging_volume();
  ImageType::SizeType sz = img->GetLargestPossibleRegion().GetSize();
  for (int a = 0; a < 3; a++) {
    vol->size[a] = sz[a];
    vol->origin[a] = img->GetOrigin()[a];
    vol->spacing[a] = img->GetSpacing()[a];
    for (int b = 0; b < 3; b++) vol->direction[a * 3 + b] = img->GetDirection()[a][b];
  }
  size_t n = vol->size[0] * vol->size[1] * vol->size[2];
  vol->voxels.assign(img->GetBufferPointer(), img->GetBufferPointer() + n);
  *out = vol;
  return RCY_OK;
}
}  // namespace

extern "C" int rcy_imaging_volume_read_series(rcy_imaging_volume **out, const char *dir, const char *series_uid,
                                              rcy_error *err) {
  if (!out || !dir) return rcy_error_set(err, RCY_EINVAL, "read series: no folder");
  *out = nullptr;
  try {
    return read_series(out, dir, series_uid, err);
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory reading the series", dir);
  } catch (const itk::ExceptionObject &e) {
    return rcy_error_set(err, RCY_EDICOM, "%s: ITK cannot read the series: %s", dir, e.GetDescription());
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", dir, e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: unknown exception", dir);
  }
}

extern "C" void rcy_imaging_volume_free(rcy_imaging_volume *vol) { delete vol; }

extern "C" void rcy_imaging_volume_size(const rcy_imaging_volume *vol, size_t size[3]) {
  std::memcpy(size, vol->size, sizeof vol->size);
}
extern "C" void rcy_imaging_volume_origin_mm(const rcy_imaging_volume *vol, double origin_mm[3]) {
  std::memcpy(origin_mm, vol->origin, sizeof vol->origin);
}
extern "C" void rcy_imaging_volume_spacing_mm(const rcy_imaging_volume *vol, double spacing_mm[3]) {
  std::memcpy(spacing_mm, vol->spacing, sizeof vol->spacing);
}
extern "C" void rcy_imaging_volume_direction(const rcy_imaging_volume *vol, double direction[9]) {
  std::memcpy(direction, vol->direction, sizeof vol->direction);
}
extern "C" const int16_t *rcy_imaging_volume_voxels(const rcy_imaging_volume *vol) { return vol->voxels.data(); }

extern "C" void rcy_imaging_volume_index_to_mm(const rcy_imaging_volume *vol, const double index[3],
                                               double point_mm[3]) {
  for (int r = 0; r < 3; r++) {
    point_mm[r] = vol->origin[r];
    for (int c = 0; c < 3; c++) point_mm[r] += vol->direction[r * 3 + c] * vol->spacing[c] * index[c];
  }
}
