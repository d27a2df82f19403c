/* The rcy_error object: formatting, clearing, naming codes. */
#include "recistry/error.h"

#include <stdio.h>
#include <string.h>

int rcy_error_setv(rcy_error *err, int code, const char *fmt, va_list ap) {
  if (err) {
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
  }
  return code;
}

int rcy_error_set(rcy_error *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rcy_error_setv(err, code, fmt, ap);
  va_end(ap);
  return code;
}

void rcy_error_clear(rcy_error *err) {
  if (err) {
    err->code = RCY_OK;
    err->message[0] = '\0';
  }
}

const char *rcy_error_name(int code) {
  switch (code) {
  case RCY_OK: return "ok";
  case RCY_EINVAL: return "invalid input";
  case RCY_ENOMEM: return "out of memory";
  case RCY_EIO: return "I/O error";
  case RCY_ENOTFOUND: return "not found";
  case RCY_EEXIST: return "already exists";
  case RCY_EDICOM: return "DICOM error";
  case RCY_ESTORE: return "database error";
  case RCY_EDENIED: return "refused";
  case RCY_ECONFLICT: return "conflict";
  case RCY_ENOSPC: return "storage full";
  case RCY_EBUSY: return "busy";
  default: return "internal error";
  }
}

int rcy_copy_exact(char *dst, size_t size, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (size == 0) return RCY_EINVAL;
  if (n >= size) {
    dst[0] = '\0';
    return RCY_EINVAL;
  }
  memcpy(dst, src ? src : "", n + 1);
  return RCY_OK;
}
