// Every extern "C" entry point of this module turns exceptions into an error code and message (DESIGN.md,
// C conventions): guarded(err, "what", [&] { ... }) runs the body and does that translation.
#ifndef RECISTRY_DICOM_GUARDED_H
#define RECISTRY_DICOM_GUARDED_H

#include "recistry/error.h"

#include <exception>
#include <new>

namespace rcy_dicom_guard {
template <typename F> int guarded(rcy_error *err, const char *what, F &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: %s", what, e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "%s: unknown exception", what);
  }
}
} // namespace rcy_dicom_guard

#endif
