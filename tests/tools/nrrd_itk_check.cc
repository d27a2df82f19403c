// ITK's own NRRD reader on a lesion phantom label volume (tests/integration/sample_lesions.sh): prints
// "size X Y Z", "origin ...", "spacing ...", "direction ..." (row-major) and "label L N" per label value,
// so the test can compare ITK's view with the DICOM series and python's reading.
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageRegionConstIterator.h>
#include <itkNrrdImageIOFactory.h>

#include <cstdio>
#include <map>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: rcy_nrrd_itk_check FILE.nrrd\n");
    return 2;
  }
  itk::NrrdImageIOFactory::RegisterOneFactory();
  using Image = itk::Image<unsigned char, 3>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetFileName(argv[1]);
  try {
    reader->Update();
  } catch (const itk::ExceptionObject &e) {
    std::fprintf(stderr, "ITK cannot read %s: %s\n", argv[1], e.GetDescription());
    return 1;
  }
  Image::Pointer img = reader->GetOutput();
  auto size = img->GetLargestPossibleRegion().GetSize();
  auto origin = img->GetOrigin();
  auto spacing = img->GetSpacing();
  auto dir = img->GetDirection();
  std::printf("size %lu %lu %lu\n", (unsigned long)size[0], (unsigned long)size[1], (unsigned long)size[2]);
  std::printf("origin %.6f %.6f %.6f\n", origin[0], origin[1], origin[2]);
  std::printf("spacing %.6f %.6f %.6f\n", spacing[0], spacing[1], spacing[2]);
  std::printf("direction");
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      std::printf(" %.6f", dir[r][c]);
  std::printf("\n");
  std::map<int, unsigned long> count;
  itk::ImageRegionConstIterator<Image> it(img, img->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
    count[it.Get()]++;
  for (const auto &kv : count)
    std::printf("label %d %lu\n", kv.first, kv.second);
  return 0;
}
