/* Error codes and the error object every fallible recistry function fills.
 *
 * Functions return 0 on success or a negative RCY_E* code; when the caller passes an rcy_error,
 * it receives the code and a human-readable message that names what was wrong (subject, lesion,
 * file, attribute...). Messages never contain PHI: only identifiers the archive itself holds. */
#ifndef RECISTRY_ERROR_H
#define RECISTRY_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  RCY_OK = 0,
  RCY_EINVAL = -1,    /* invalid input (bad JSON, out-of-range value, rule violation) */
  RCY_ENOMEM = -2,    /* allocation failed */
  RCY_EIO = -3,       /* read/write/fsync failed */
  RCY_ENOTFOUND = -4, /* no such file, row, subject, lesion */
  RCY_EEXIST = -5,    /* already exists */
  RCY_EDICOM = -6,    /* DICOM parse/encode/network failure */
  RCY_ESTORE = -7,    /* database failure */
  RCY_EDENIED = -8,   /* policy refused (unknown AE, wrong site, PHI, role) */
  RCY_ECONFLICT = -9, /* same identifier, different content */
  RCY_ENOSPC = -10,   /* storage full */
  RCY_EINTERNAL = -11, /* a bug: an invariant did not hold */
  RCY_EBUSY = -12      /* the database is locked or a transaction lost a race: retry it */
};

#define RCY_ERROR_MESSAGE_MAX 512

typedef struct rcy_error {
  int code;
  char message[RCY_ERROR_MESSAGE_MAX];
} rcy_error;

/* Sets *err (when non-NULL) and returns code, so callers can write `return rcy_error_set(...)`. */
int rcy_error_set(rcy_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rcy_error_setv(rcy_error *err, int code, const char *fmt, va_list ap);
void rcy_error_clear(rcy_error *err);
/* Copies src into dst whole or not at all: 0 when it fits (NUL included), otherwise RCY_EINVAL with dst
 * emptied. For identifiers (UIDs, subject IDs, paths), which must never be silently cut. */
int rcy_copy_exact(char *dst, size_t size, const char *src);
/* Short name of a code ("invalid input", "I/O error"...). */
const char *rcy_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
