/* Logging to stderr, one line per event: time, level, component, message.
 *
 * Rule for callers: log identifiers the archive owns (site ID, AE title, SOP Instance UID, subject ID
 * of the trial, counts) and never a DICOM value that may carry identity (names, dates of birth,
 * institution, free text). rcy_log is thread-safe. */
#ifndef RECISTRY_LOG_H
#define RECISTRY_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RCY_LOG_DEBUG = 0, RCY_LOG_INFO = 1, RCY_LOG_WARN = 2, RCY_LOG_ERROR = 3 } rcy_log_level;

/* Messages below this level are dropped (default INFO; RECISTRY_LOG=debug|info|warn|error overrides). */
void rcy_log_set_level(rcy_log_level level);
void rcy_log(rcy_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
