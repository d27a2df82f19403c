/* rcy_sample_generate: the cohort, one study per subject and assessment, then the truth and reads, then
 * the dirty cases. Sequential and single-threaded: the machine's cores belong to the daemon and readers,
 * and a 300-slice series already writes in about a second. */
#include "sample_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void rcy_sample_options_init(rcy_sample_options *o) {
  memset(o, 0, sizeof *o);
  o->subjects = 6;
  o->seed = 1;
  o->slices = 60;
  o->max_timepoints = 0;
  o->noise_hu = 10.0;
  o->dirty = 1;
}

int make_dirs(const char *path, rcy_error *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return rcy_error_set(err, RCY_EINVAL, "path too long");
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return rcy_error_set(err, RCY_EIO, "cannot create folder %s: %s", buf, strerror(errno));
      *p = c;
      if (!c) break;
    }
  }
  return RCY_OK;
}

static int check_options(const rcy_sample_options *o, rcy_error *err) {
  if (!o || !o->out_dir || !*o->out_dir) return rcy_error_set(err, RCY_EINVAL, "an output folder is required");
  if (o->subjects < 1 || o->subjects > 2997)
    return rcy_error_set(err, RCY_EINVAL, "subjects must be 1..2997 (999 per site), got %d", o->subjects);
  if (o->slices < 8 || o->slices > 1000) /* fewer slices leave too little lung for its lesions */
    return rcy_error_set(err, RCY_EINVAL, "slices must be 8..1000, got %d", o->slices);
  if (o->max_timepoints != 0 && (o->max_timepoints < 2 || o->max_timepoints > MAX_TP))
    return rcy_error_set(err, RCY_EINVAL, "timepoints must be 2..%d (baseline included), got %d", MAX_TP,
                         o->max_timepoints);
  if (o->tare && o->lesion_phantoms)
    return rcy_error_set(err, RCY_EINVAL, "--tare and --lesion-phantoms write different sets: choose one");
  if (o->tare_decay && !o->tare) return rcy_error_set(err, RCY_EINVAL, "--tare-decay applies only with --tare");
  if (!(o->noise_hu >= 0 && o->noise_hu <= 200))
    return rcy_error_set(err, RCY_EINVAL, "noise must be 0..200 HU, got %g", o->noise_hu);
  return RCY_OK;
}

static int subject_write(const rcy_sample_options *o, const subject *s, rcy_sample_stats *stats, rcy_error *err) {
  for (int t = 0; t < s->n_tp; t++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s/%s/%s", o->out_dir, s->site, s->subject_id, s->tp[t]);
    int rc = make_dirs(dir, err);
    if (rc) return rc;
    series_job job = {.s = s, .tp = t, .seed = o->seed, .noise_hu = o->noise_hu, .out_dir = dir};
    series_uids_for(&job.uids, o->seed, s, t);
    rc = series_write(&job, stats, err);
    if (rc) return rc;
    stats->studies++;
  }
  return RCY_OK;
}

int rcy_sample_generate(rcy_sample_stats *out_stats, const rcy_sample_options *o, rcy_error *err) {
  /* The TARE cohort tables: CSV only, none of the imaging options applies. */
  if (o && o->tare_cohort > 0) {
    if (!o->out_dir || !*o->out_dir) return rcy_error_set(err, RCY_EINVAL, "an output folder is required");
    if (o->tare || o->lesion_phantoms)
      return rcy_error_set(err, RCY_EINVAL, "--tare-cohort writes only the cohort tables: not with --%s",
                           o->tare ? "tare" : "lesion-phantoms");
    rcy_sample_stats tare = {0};
    int trc = tare_cohort_write(o, &tare, err);
    if (out_stats) *out_stats = tare;
    return trc;
  }
  int rc = check_options(o, err);
  if (rc) return rc;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  rcy_sample_stats stats = {0};
  if (o->lesion_phantoms || o->tare) { /* only the lesion or TARE phantoms: no cohort, reads or dirty cases */
    rc = o->tare ? tare_write(o, &stats, err) : lesion_phantoms_write(o, &stats, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stats.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (out_stats) *out_stats = stats;
    return rc;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/truth", o->out_dir);
  rc = make_dirs(dir, err);
  snprintf(dir, sizeof dir, "%s/reads", o->out_dir);
  if (!rc) rc = make_dirs(dir, err);
  if (rc) return rc;
  json_t *central = json_array(), *site = json_array();
  int missed = 0, larger = 0;
  subject *s = malloc(sizeof *s);
  if (!s) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  char registry_path[4096];
  snprintf(registry_path, sizeof registry_path, "%s/registry.csv", o->out_dir);
  FILE *registry = rc ? NULL : fopen(registry_path, "w");
  if (!rc && !registry) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", registry_path);
  if (registry) registry_header(registry);
  for (int i = 0; i < o->subjects && !rc; i++) {
    rc = cohort_subject(s, o, i, err);
    if (!rc) rc = subject_write(o, s, &stats, err);
    /* the first subject of each kind gets the site read's deliberate discordance */
    int variant = 0;
    if (!missed && s->sc == SC_NEW_LESION) variant = missed = 1;
    else if (!larger && s->sc == SC_PARTIAL_RESPONSE && s->n_tp > 1) variant = 2, larger = 1;
    void *c = NULL, *st = NULL;
    if (!rc) rc = truth_write(&c, &st, o, s, variant, err);
    if (!rc) {
      registry_row(registry, o, s);
      json_array_append_new(central, c);
      json_array_append_new(site, st);
      stats.subjects++;
    }
  }
  free(s);
  if (registry && fclose(registry) && !rc) rc = rcy_error_set(err, RCY_EIO, "cannot write %s", registry_path);
  if (!rc) rc = reads_write(o->out_dir, central, site, err);
  json_decref(central);
  json_decref(site);
  if (!rc && o->dirty) rc = dirty_write(o, &stats, err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  stats.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (out_stats) *out_stats = stats;
  return rc;
}
