/* stderr logger shared by the daemon, the HTTP server and the CLI. One fprintf per line under a mutex
 * so that lines from concurrent associations never interleave. */
#include "recistry/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int threshold = -1; /* -1: not yet read from the environment */

static const char *level_names[] = {"debug", "info", "warn", "error"};

static int level_from_env(void) {
  const char *v = getenv("RECISTRY_LOG");
  if (v)
    for (int i = 0; i < 4; i++)
      if (strcmp(v, level_names[i]) == 0) return i;
  return RCY_LOG_INFO;
}

void rcy_log_set_level(rcy_log_level level) {
  pthread_mutex_lock(&lock);
  threshold = (int)level;
  pthread_mutex_unlock(&lock);
}

void rcy_log(rcy_log_level level, const char *component, const char *fmt, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);

  pthread_mutex_lock(&lock);
  if (threshold < 0) threshold = level_from_env();
  if ((int)level >= threshold)
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_names[level < 0 || level > 3 ? 3 : level], component, line);
  pthread_mutex_unlock(&lock);
}
