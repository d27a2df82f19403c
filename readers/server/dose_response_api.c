/* The workstation's TARE cohort page (docs/api.md "Cohort analyses", docs/dosimetry.md "In the workstation:
 * the cohort page"): GET /api/dose-response answers `recistry dose-response --json` over the cohort tables of
 * [dose] cohort_dir. Thin: the same calls as the CLI (src/cli/cmd_dose_response.c): rcy_dose_cohort_read,
 * rcy_dose_analysis_run, rcy_dose_analysis_json. Optional query: threshold_gy (a dose >= 0 or "youden"),
 * bootstrap (0..5000: the server's time is shared, 5000 replicates take about a second on a few hundred
 * patients) and seed.
 *
 * QA and admin only. The statistics pool every subject's central response and dose: they are not a blinded
 * read, and a central reader or site user would learn the central results of subjects they do not read.
 *
 * The answer is cached per (size and mtime of each CSV, parameters): a few parameter sets, least recently
 * used out, so reloading the page or switching back to the default threshold costs nothing, and a table
 * rewritten in place is seen on the next request. */
#include "server_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recistry/dose.h"

#define COHORT_CACHE_ENTRIES 4
#define COHORT_BOOTSTRAP_MAX 5000

static const char *const tables[] = {"patients.csv", "tumours.csv", "toxicity.csv", "concordance.csv"};
#define N_TABLES (sizeof tables / sizeof tables[0])

typedef struct cohort_entry {
  char key[1024]; /* the cohort folder, each table's size and mtime, the parameters */
  char *json;
  unsigned long used;
} cohort_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* one analysis at a time */
static cohort_entry cache[COHORT_CACHE_ENTRIES];
static unsigned long cache_clock;

/* A copy of the cached answer for key (its LRU clock advanced), or NULL. */
static char *cache_get(const char *key) {
  char *out = NULL;
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < COHORT_CACHE_ENTRIES; i++)
    if (cache[i].json && strcmp(cache[i].key, key) == 0) {
      cache[i].used = ++cache_clock;
      out = strdup(cache[i].json);
      break;
    }
  pthread_mutex_unlock(&cache_lock);
  return out;
}

static void cache_put(const char *key, const char *json) {
  char *copy = strdup(json);
  if (!copy) return; /* not cached: computed again next time */
  pthread_mutex_lock(&cache_lock);
  int slot = 0;
  for (int i = 0; i < COHORT_CACHE_ENTRIES; i++) {
    if (!cache[i].json) {
      slot = i;
      break;
    }
    if (cache[i].used < cache[slot].used) slot = i;
  }
  free(cache[slot].json);
  snprintf(cache[slot].key, sizeof cache[slot].key, "%s", key);
  cache[slot].json = copy;
  cache[slot].used = ++cache_clock;
  pthread_mutex_unlock(&cache_lock);
}

/* The query's options, as the CLI parses its flags; 0, or replies 400 naming the parameter and returns -1. */
static int parse_options(rcy_req *r, rcy_dose_analysis_options *o) {
  rcy_dose_analysis_options_init(o);
  const char *boot = rcy_req_query(r, "bootstrap"), *seed = rcy_req_query(r, "seed"),
             *thr = rcy_req_query(r, "threshold_gy");
  char *end;
  if (boot) {
    errno = 0;
    unsigned long long v = strtoull(boot, &end, 10);
    if (errno || end == boot || *end || *boot == '-' || v > COHORT_BOOTSTRAP_MAX) {
      rcy_reply_error(r, 400, "bootstrap must be a whole number 0..%d", COHORT_BOOTSTRAP_MAX);
      return -1;
    }
    o->bootstrap = (size_t)v;
  }
  if (seed) {
    errno = 0;
    unsigned long long v = strtoull(seed, &end, 10);
    if (errno || end == seed || *end || *seed == '-') {
      rcy_reply_error(r, 400, "seed must be a whole number >= 0");
      return -1;
    }
    o->seed = (uint64_t)v;
  }
  if (thr) {
    if (strcmp(thr, "youden") == 0) {
      o->use_youden = 1;
      o->threshold_gy = NAN;
    } else {
      errno = 0;
      double v = strtod(thr, &end);
      if (errno || end == thr || *end || !isfinite(v) || v < 0 || v > 100000) {
        rcy_reply_error(r, 400, "threshold_gy must be a dose in Gy (0..100000) or 'youden'");
        return -1;
      }
      o->threshold_gy = v;
    }
  }
  return 0;
}

int rcy_handle_dose_response(rcy_req *r) {
  if (strcmp(r->user.role, "qa") != 0 && strcmp(r->user.role, "admin") != 0)
    return rcy_reply_error(r, 403,
                           "the cohort analyses are for QA and admin accounts (they pool every subject's "
                           "central response)");
  const char *dir = r->srv->cfg->dose_cohort_dir;
  if (!dir)
    return rcy_reply_error(r, 404,
                           "no cohort configured: set [dose] cohort_dir = DIR (the folder of patients.csv, "
                           "tumours.csv, toxicity.csv, concordance.csv) in the server's configuration");
  rcy_dose_analysis_options o;
  if (parse_options(r, &o)) return 0;

  /* The key: a table that is absent has size and mtime -1 (the reader then says which is missing). */
  char key[1024];
  int len = snprintf(key, sizeof key, "%s|%zu|%llu|%d|%.17g", dir, o.bootstrap, (unsigned long long)o.seed,
                     o.use_youden, o.threshold_gy);
  for (size_t i = 0; i < N_TABLES && len > 0 && (size_t)len < sizeof key; i++) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, tables[i]);
    if (stat(path, &st) == 0)
      len += snprintf(key + len, sizeof key - (size_t)len, "|%lld:%lld.%09ld", (long long)st.st_size,
                      (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    else
      len += snprintf(key + len, sizeof key - (size_t)len, "|-1");
  }
  int cacheable = len > 0 && (size_t)len < sizeof key;

  char *json = cacheable ? cache_get(key) : NULL;
  if (!json) {
    pthread_mutex_lock(&run_lock);
    json = cacheable ? cache_get(key) : NULL; /* computed by the request we waited for */
    rcy_error err = {0};
    int rc = RCY_OK;
    if (!json) {
      rcy_dose_cohort *c = NULL;
      rcy_dose_analysis *a = NULL;
      rc = rcy_dose_cohort_read(&c, dir, &err);
      if (!rc) rc = rcy_dose_analysis_run(&a, c, &o, &err);
      if (!rc) {
        json = rcy_dose_analysis_json(a);
        if (!json) rc = rcy_error_set(&err, RCY_ENOMEM, "cannot format the cohort analyses");
      }
      if (!rc && cacheable) cache_put(key, json);
      rcy_dose_analysis_free(a);
      rcy_dose_cohort_free(c);
    }
    pthread_mutex_unlock(&run_lock);
    /* A table that is refused is the configuration's problem, not the request's: 422 with the reader's
     * message (file, line, column). */
    if (rc == RCY_EINVAL) return rcy_reply_error(r, 422, "cohort %s: %s", dir, err.message);
    if (rc == RCY_ENOTFOUND || rc == RCY_EIO)
      return rcy_reply_error(r, 404, "cohort %s: %s", dir, err.message);
    if (rc) return rcy_reply_rcy_error(r, &err);
  }
  rcy_reply_bytes(r, 200, "application/json", json, strlen(json), 1);
  if (r->status == 200) rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}
