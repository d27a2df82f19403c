// SNOMED CT codes of the organs the workstation offers (readers/web organ list), shared by the SR export
// (finding site) and the SEG writer (anatomic region).
#ifndef RCY_DICOM_ORGAN_CODES_H
#define RCY_DICOM_ORGAN_CODES_H

#include <strings.h>

namespace rcy_dicom {

struct organ_code {
  const char *name, *code, *meaning;
};

// The SCT code of a recistry organ name (case-insensitive), or nullptr when it has none ("other", NULL).
inline const organ_code *find_organ_code(const char *organ) {
  static const organ_code organs[] = {
      {"liver", "10200004", "Liver"},           {"lung", "39607008", "Lung"},
      {"lymph node", "59441001", "Lymph node"}, {"peritoneum", "15425007", "Peritoneum"},
      {"adrenal", "23451007", "Adrenal gland"}, {"bone", "272673000", "Bone"},
      {"kidney", "64033007", "Kidney"},         {"pancreas", "15776009", "Pancreas"},
      {"spleen", "78961009", "Spleen"},         {"pleura", "3120008", "Pleural membrane"},
  };
  if (!organ) return nullptr;
  for (const auto &o : organs)
    if (strcasecmp(organ, o.name) == 0) return &o;
  return nullptr;
}

} // namespace rcy_dicom

#endif
