// The DCMTK version this build links, for `recistry --version` and the conformance statement.
#include "recistry/dicom.h"

#include <dcmtk/dcmdata/dcuid.h>

extern "C" const char *rcy_dicom_toolkit_version(void) { return "DCMTK " OFFIS_DCMTK_VERSION_STRING; }
