// Label volumes to NRRD through ITK's NRRD image IO (gzip), with the patient geometry they lie in.
#include "recistry/imaging.h"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIO.h>
#include <itkNrrdImageIOFactory.h>
#include <itkMetaImageIOFactory.h>

#include <mutex>

#include <algorithm>
#include <exception>
#include <new>

extern "C" int rcy_imaging_mask_write_nrrd(const char *path, const uint8_t *mask, const int size[3],
                                           const double origin_mm[3], const double spacing_mm[3],
                                           const double direction[9], rcy_error *err) {
  if (!path || !mask || !size || size[0] <= 0 || size[1] <= 0 || size[2] <= 0)
    return rcy_error_set(err, RCY_EINVAL, "write mask: no mask or an empty size");
  try {
    using Mask = itk::Image<uint8_t, 3>;
    auto img = Mask::New();
    Mask::RegionType region;
    Mask::SizeType sz = {{(itk::SizeValueType)size[0], (itk::SizeValueType)size[1], (itk::SizeValueType)size[2]}};
    region.SetSize(sz);
    img->SetRegions(region);
    img->SetOrigin(origin_mm);
    img->SetSpacing(spacing_mm);
    Mask::DirectionType d;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) d[r][c] = direction[r * 3 + c];
    img->SetDirection(d);
    img->Allocate();
    std::copy(mask, mask + (size_t)size[0] * size[1] * size[2], img->GetBufferPointer());
    auto writer = itk::ImageFileWriter<Mask>::New();
    writer->SetImageIO(itk::NrrdImageIO::New());
    writer->SetFileName(path);
    writer->SetInput(img);
    writer->SetUseCompression(true);
    writer->Update();
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory writing the mask", path);
  } catch (const itk::ExceptionObject &e) {
    return rcy_error_set(err, RCY_EIO, "%s: cannot write the mask: %s", path, e.GetDescription());
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", path, e.what());
  }
}

// The formats label maps and dose maps come in (3D Slicer exports NRRD or NIfTI; plastimatch reads MHA too).
static void register_formats() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::NrrdImageIOFactory::RegisterOneFactory();
    itk::NiftiImageIOFactory::RegisterOneFactory();
    itk::MetaImageIOFactory::RegisterOneFactory();
  });
}

// A float volume (a dose map) in whatever format the extension names (.nrrd, .nii.gz, .mha): ITK picks the
// writer, so 3D Slicer and plastimatch read the same geometry back.
extern "C" int rcy_imaging_float_write(const char *path, const float *values, const int size[3],
                                       const double origin_mm[3], const double spacing_mm[3],
                                       const double direction[9], rcy_error *err) {
  if (!path || !values || !size || size[0] <= 0 || size[1] <= 0 || size[2] <= 0)
    return rcy_error_set(err, RCY_EINVAL, "write volume: no values or an empty size");
  try {
    using Volume = itk::Image<float, 3>;
    auto img = Volume::New();
    Volume::RegionType region;
    Volume::SizeType sz = {{(itk::SizeValueType)size[0], (itk::SizeValueType)size[1], (itk::SizeValueType)size[2]}};
    region.SetSize(sz);
    img->SetRegions(region);
    img->SetOrigin(origin_mm);
    img->SetSpacing(spacing_mm);
    Volume::DirectionType d;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++) d[r][c] = direction[r * 3 + c];
    img->SetDirection(d);
    img->Allocate();
    std::copy(values, values + (size_t)size[0] * size[1] * size[2], img->GetBufferPointer());
    register_formats();
    auto writer = itk::ImageFileWriter<Volume>::New();
    writer->SetFileName(path);
    writer->SetInput(img);
    writer->SetUseCompression(true);
    writer->Update();
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory writing the volume", path);
  } catch (const itk::ExceptionObject &e) {
    return rcy_error_set(err, RCY_EIO, "%s: cannot write the volume: %s", path, e.GetDescription());
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", path, e.what());
  }
}

extern "C" int rcy_imaging_mask_read(uint8_t **mask, int size[3], double origin_mm[3], double spacing_mm[3],
                                     double direction[9], const char *path, rcy_error *err) {
  *mask = nullptr;
  try {
    using Mask = itk::Image<uint8_t, 3>;
    register_formats();
    auto reader = itk::ImageFileReader<Mask>::New();
    reader->SetFileName(path);
    reader->Update();
    Mask::Pointer img = reader->GetOutput();
    auto sz = img->GetLargestPossibleRegion().GetSize();
    size_t n = 1;
    for (int a = 0; a < 3; a++) {
      size[a] = (int)sz[a];
      n *= sz[a];
      origin_mm[a] = img->GetOrigin()[a];
      spacing_mm[a] = img->GetSpacing()[a];
      for (int b = 0; b < 3; b++) direction[a * 3 + b] = img->GetDirection()[a][b];
    }
    *mask = (uint8_t *)malloc(n ? n : 1);
    if (!*mask) throw std::bad_alloc();
    std::copy(img->GetBufferPointer(), img->GetBufferPointer() + n, *mask);
    return RCY_OK;
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory reading the mask", path);
  } catch (const itk::ExceptionObject &e) {
    return rcy_error_set(err, RCY_EINVAL, "%s: cannot read a label volume: %s", path, e.GetDescription());
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", path, e.what());
  }
}
