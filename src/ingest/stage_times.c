/* Where the time between a data set's last byte and its Success goes, stage by stage (issue 15: the single
 * association's critical path). Off unless RECISTRY_STAGE_TIMES is set in the daemon's environment: then
 * each stage's duration is kept per instance in memory and the medians are logged once, when the pipeline
 * closes (nothing per instance in the log). The means of the association's log line hide what a median
 * shows: a checkpoint or a slow flush now and then moves a mean by more than a whole stage. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/log.h"

#define SAMPLES_MAX 65536

static const char *const NAMES[RCY_STAGE_N] = {
    [RCY_STAGE_PARSE] = "last byte -> parsed",
    [RCY_STAGE_CHECKS] = "parsed -> checked, queued",
    [RCY_STAGE_QUEUE] = "queued -> batch started (leader)",
    [RCY_STAGE_DECIDE] = "batch started -> duplicates/ownership decided",
    [RCY_STAGE_FLUSH_WAIT] = "decided -> own fdatasync returned",
    [RCY_STAGE_RENAME] = "fdatasync returned -> renamed",
    [RCY_STAGE_INSERT] = "renamed -> rows inserted",
    [RCY_STAGE_DIR_WAIT] = "rows inserted -> directory fsync returned",
    [RCY_STAGE_COMMIT] = "directory fsync returned -> commit returned",
    [RCY_STAGE_AFTER_COMMIT] = "commit and directory fsync returned -> back in SCP",
    [RCY_STAGE_TOTAL] = "last byte -> back in the SCP (total)",
    [RCY_STAGE_FDATASYNC] = "fdatasync itself (on whichever thread)",
    [RCY_STAGE_FDATASYNC_HANDOFF] = "fdatasync: queued -> started by a flusher",
    [RCY_STAGE_DIRSYNC] = "directory fsync itself",
    [RCY_STAGE_DIRSYNC_HANDOFF] = "directory fsync: queued -> started by a flusher",
    [RCY_STAGE_DIRSYNC_LATE] = "directory fsync returned, after rows inserted, by",
    [RCY_STAGE_EARLY_COMMIT] = "rows inserted -> commit returned (dir fsync runs)",
    [RCY_STAGE_EARLY_DIR_WAIT] = "commit returned -> directory fsync returned",
    /* The daemon's own part of the total, whatever the disk's speed: the total less the time this instance's
     * fdatasync and directory fsync themselves took (the disk's part, which the ceiling counts). */
    [RCY_STAGE_NOT_FLUSHING] = "total less its own fdatasync and directory fsync",
};

static struct {
  int enabled; /* -1 not read yet */
  pthread_mutex_t mu;
  double *samples[RCY_STAGE_N];
  size_t n[RCY_STAGE_N];
  long by_owner[2]; /* flushes the owner ran itself because no flusher had started them: file, directory */
} S = {-1, PTHREAD_MUTEX_INITIALIZER, {0}, {0}, {0}};

int rcy_stage_on(void) {
  if (S.enabled < 0) S.enabled = getenv("RECISTRY_STAGE_TIMES") != NULL;
  return S.enabled;
}

double rcy_stage_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

void rcy_stage_add(rcy_stage stage, double ms) {
  if (!rcy_stage_on() || stage < 0 || stage >= RCY_STAGE_N) return;
  pthread_mutex_lock(&S.mu);
  if (!S.samples[stage]) S.samples[stage] = malloc(SAMPLES_MAX * sizeof(double));
  if (S.samples[stage] && S.n[stage] < SAMPLES_MAX) S.samples[stage][S.n[stage]++] = ms;
  pthread_mutex_unlock(&S.mu);
}

void rcy_stage_by_owner(int dir) {
  if (!rcy_stage_on()) return;
  pthread_mutex_lock(&S.mu);
  S.by_owner[dir ? 1 : 0]++;
  pthread_mutex_unlock(&S.mu);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void rcy_stage_report(void) {
  if (!rcy_stage_on()) return;
  pthread_mutex_lock(&S.mu);
  for (int s = 0; s < RCY_STAGE_N; s++) {
    if (!S.n[s]) continue;
    qsort(S.samples[s], S.n[s], sizeof(double), cmp);
    double sum = 0;
    for (size_t i = 0; i < S.n[s]; i++) sum += S.samples[s][i];
    rcy_log(RCY_LOG_INFO, "ingest", "stage times: %-48s median %.3f ms, p90 %.3f ms, mean %.3f ms (n %zu)",
            NAMES[s], S.samples[s][S.n[s] / 2], S.samples[s][S.n[s] * 9 / 10], sum / (double)S.n[s], S.n[s]);
    free(S.samples[s]);
    S.samples[s] = NULL;
    S.n[s] = 0;
  }
  rcy_log(RCY_LOG_INFO, "ingest", "stage times: flushes run by their owner (no flusher had started them): "
          "%ld fdatasync, %ld directory fsync", S.by_owner[0], S.by_owner[1]);
  S.by_owner[0] = S.by_owner[1] = 0;
  pthread_mutex_unlock(&S.mu);
}
