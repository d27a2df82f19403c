/* The archive index at scale (issue 15): fills an index with instance rows through the store API, in large
 * transactions and with realistic UIDs (no files: only the index is measured), and times the queries the
 * readers run on it. scripts/bench/scale drives it (and measures the ingest daemon on the filled index).
 *
 *   bench_scale fill DIR SUBJECTS [SEED]   SUBJECTS x 5 timepoints x 2 series x 50 instances (2000 = 10^6)
 *   bench_scale query DIR [RUNS]           latency of each query, RUNS times with keys drawn from the index
 *
 * DIR is an archive made by `recistry init` (SQLite), or, with RCY_BENCH_POSTGRES=URI in the environment,
 * the folder of an archive whose index is that PostgreSQL database. The date-range query (what QIDO-RS
 * StudyDate=A-B and C-FIND run) has no store function yet: on SQLite it runs as SQL on DIR/recistry.db. */
#include "recistry/store.h"

#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static unsigned long long rng_state = 88172645463325252ULL;
static unsigned long long rnd(void) { /* xorshift64: deterministic for a seed, spread like real UID digits */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* A UID as the sites' systems make them: an org root then long random digits (2.25-like), 50-64 chars. */
static void make_uid(char out[65], const char *root) {
  snprintf(out, 65, "%s.%llu.%llu", root, rnd() % 10000000000000ULL, rnd() % 1000000000000000000ULL);
}

static int open_store(rcy_store **s, const char *dir, rcy_error *err) {
  const char *pg = getenv("RCY_BENCH_POSTGRES");
  rcy_store_location where = {dir, pg && *pg ? pg : NULL};
  return rcy_store_open_at(s, &where, err);
}

static int fill(const char *dir, int subjects, unsigned long long seed) {
  rcy_error err = {0};
  rcy_store *s;
  if (open_store(&s, dir, &err)) return fprintf(stderr, "bench_scale: %s\n", err.message), 1;
  rng_state ^= seed * 0x9E3779B97F4A7C15ULL;
  static const char *const tps[5] = {"BL", "FU1", "FU2", "FU3", "FU4"};
  const int per_tx = 50000; /* rows per transaction: large, as an import would */
  char now[21];
  rcy_archive_timestamp(now, -1);
  double t0 = now_ms();
  long n = 0;
  int rc = rcy_store_begin(s, &err);
  for (int subj = 0; subj < subjects && !rc; subj++) {
    int site = subj % 20 + 1;
    char site_id[16], subject_id[32], s_site[16];
    snprintf(site_id, sizeof site_id, "S%03d", site);
    snprintf(s_site, sizeof s_site, "S%03d", site);
    snprintf(subject_id, sizeof subject_id, "CIREL-%03d-%04d", site, subj / 20 + 1);
    int base_day = (int)(rnd() % 1500); /* days after 2020-01-01 */
    for (int tp = 0; tp < 5 && !rc; tp++) {
      char study[65], date[16];
      make_uid(study, "1.2.826.0.1.3680043.10.543");
      time_t t = (time_t)(1577836800LL + (long long)(base_day + tp * 60) * 86400);
      struct tm tm;
      gmtime_r(&t, &tm);
      strftime(date, sizeof date, "%Y-%m-%d", &tm);
      for (int se = 0; se < 2 && !rc; se++) {
        char series[65], frame[65];
        make_uid(series, "1.2.826.0.1.3680043.10.543");
        make_uid(frame, "1.2.826.0.1.3680043.10.543");
        for (int in = 0; in < 50 && !rc; in++) {
          char sop[65], path[400], sha[65];
          make_uid(sop, "1.2.826.0.1.3680043.10.543");
          snprintf(path, sizeof path, "%s/%s/%s/%s/%s.dcm", s_site, subject_id, study, series, sop);
          for (int k = 0; k < 4; k++) snprintf(sha + 16 * k, 17, "%016llx", rnd());
          rcy_archive_instance r;
          memset(&r, 0, sizeof r);
          r.site_id = site_id;
          r.subject_id = subject_id;
          r.timepoint = tps[tp];
          r.study_date = date;
          r.study_uid = study;
          r.series_uid = series;
          r.sop_instance_uid = sop;
          r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
          r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
          r.modality = "CT";
          r.series_description = se ? "PORTAL VENOUS" : "ARTERIAL";
          r.frame_of_reference_uid = frame;
          r.has_series_number = 1;
          r.series_number = se + 2;
          r.has_instance_number = 1;
          r.instance_number = in + 1;
          r.has_rows = 1;
          r.rows = r.columns = 512;
          r.has_pixel_spacing = 1;
          r.pixel_spacing_row_mm = r.pixel_spacing_col_mm = 0.78125;
          r.has_slice_thickness = 1;
          r.slice_thickness_mm = 5;
          r.has_position = 1;
          r.position_mm[0] = -200;
          r.position_mm[1] = -200;
          r.position_mm[2] = -5.0 * in;
          r.orientation = "1\\0\\0\\0\\1\\0";
          r.has_window = 1;
          r.window_center = 40;
          r.window_width = 400;
          r.path = path;
          r.size_bytes = 526336;
          r.sha256 = sha;
          r.received_at = now;
          rc = rcy_archive_add_instance(s, &r, &err);
          if (!rc && ++n % per_tx == 0) {
            rc = rcy_store_commit(s, &err);
            if (!rc) rc = rcy_store_begin(s, &err);
          }
        }
      }
    }
  }
  if (!rc) rc = rcy_store_commit(s, &err);
  else rcy_store_rollback(s);
  double ms = now_ms() - t0;
  rcy_store_close(s);
  if (rc) return fprintf(stderr, "bench_scale: filling: %s\n", err.message), 1;
  printf("filled %ld instance rows in %.1f s (%.0f rows/s, %s)\n", n, ms / 1e3, n / (ms / 1e3),
         getenv("RCY_BENCH_POSTGRES") ? "postgresql" : "sqlite");
  return 0;
}

/* ---- queries ---- */

typedef struct {
  char **uids, **subjects, **dates;
  size_t n, cap;
} keys;

static int collect_study(void *ctx, const rcy_store_study *st) {
  keys *k = ctx;
  if (k->n == k->cap) {
    size_t c = k->cap ? 2 * k->cap : 1024;
    char **a = realloc(k->uids, c * sizeof *a), **b = a ? realloc(k->subjects, c * sizeof *b) : NULL;
    char **d = b ? realloc(k->dates, c * sizeof *d) : NULL;
    if (a) k->uids = a;
    if (b) k->subjects = b;
    if (d) k->dates = d;
    if (!a || !b || !d) return 1;
    k->cap = c;
  }
  k->uids[k->n] = strdup(st->study_uid);
  k->subjects[k->n] = strdup(st->subject_id);
  k->dates[k->n] = strdup(st->study_date ? st->study_date : "2022-01-01");
  k->n++;
  return 0;
}

static int count_study(void *ctx, const rcy_store_study *st) {
  (void)st;
  ++*(long *)ctx;
  return 0;
}
static char first_series[65];
static int count_series(void *ctx, const rcy_store_series *se) {
  if (!first_series[0]) snprintf(first_series, sizeof first_series, "%s", se->series_uid);
  ++*(long *)ctx;
  return 0;
}
static char first_sop[65];
static int count_instance(void *ctx, const rcy_store_instance *in) {
  if (!first_sop[0]) snprintf(first_sop, sizeof first_sop, "%s", in->sop_instance_uid);
  ++*(long *)ctx;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void row(const char *what, double *ms, int runs, long rows) {
  qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
  printf("  %-46s %9.2f %9.2f %9.1f\n", what, ms[runs / 2], ms[runs - 1], (double)rows / runs);
}

static int query(const char *dir, int runs) {
  rcy_error err = {0};
  rcy_store *s;
  if (open_store(&s, dir, &err)) return fprintf(stderr, "bench_scale: %s\n", err.message), 1;
  keys k = {0};
  double t0 = now_ms();
  if (rcy_store_studies_each(s, NULL, collect_study, &k, &err) || k.n == 0)
    return fprintf(stderr, "bench_scale: no studies: %s\n", err.message), 1;
  double all_ms = now_ms() - t0;
  double *ms = calloc((size_t)runs, sizeof *ms);
  if (!ms) return 1;
  const int all_runs = runs;
  rng_state = 12345;
  printf("  %-46s %9s %9s %9s\n", "query (store level)", "median ms", "max ms", "rows");
  long rows = 0;
  for (int r = 0; r < runs; r++) {
    rcy_archive_study *list;
    size_t n;
    t0 = now_ms();
    if (rcy_archive_list_studies(&list, &n, s, &err)) return fprintf(stderr, "bench_scale: %s\n", err.message), 1;
    ms[r] = now_ms() - t0;
    rows += (long)n;
    rcy_archive_studies_free(list, n);
    if (r == 2 && ms[0] + ms[1] + ms[2] > 20000) { /* slow: three runs say enough */
      runs = 3;
      break;
    }
  }
  row("all studies with counts (`recistry studies`)", ms, runs, rows);
  runs = all_runs;
  printf("  %-46s %9.2f %9s %9zu\n", "all studies (workstation list, 1 run)", all_ms, "", k.n);
  rows = 0;
  for (int r = 0; r < runs; r++) {
    size_t i = (size_t)(rnd() % k.n);
    t0 = now_ms();
    char site[8];
    snprintf(site, sizeof site, "S%03zu", i % 20 + 1);
    if (rcy_store_studies_each(s, site, count_study, &rows, &err)) return 1;
    ms[r] = now_ms() - t0;
  }
  row("studies of one site (of 20)", ms, runs, rows);
  rows = 0;
  for (int r = 0; r < runs; r++) {
    size_t i = (size_t)(rnd() % k.n);
    t0 = now_ms();
    if (rcy_store_subject_studies_each(s, k.subjects[i], count_study, &rows, &err)) return 1;
    ms[r] = now_ms() - t0;
  }
  row("studies of a PatientID (subject)", ms, runs, rows);
  rows = 0;
  for (int r = 0; r < runs; r++) {
    size_t i = (size_t)(rnd() % k.n);
    first_series[0] = '\0';
    t0 = now_ms();
    if (rcy_store_series_each(s, k.uids[i], count_series, &rows, &err)) return 1;
    ms[r] = now_ms() - t0;
  }
  row("series of a study (with instance counts)", ms, runs, rows);
  rows = 0;
  for (int r = 0; r < runs; r++) {
    size_t i = (size_t)(rnd() % k.n);
    long dummy = 0;
    first_series[0] = first_sop[0] = '\0';
    if (rcy_store_series_each(s, k.uids[i], count_series, &dummy, &err)) return 1;
    t0 = now_ms();
    if (rcy_store_instances_each(s, first_series, count_instance, &rows, &err)) return 1;
    ms[r] = now_ms() - t0;
  }
  row("instances of a series", ms, runs, rows);
  rows = 0;
  for (int r = 0; r < runs; r++) {
    int found = 0;
    char sha[65];
    uint64_t size;
    char sop[65];
    make_uid(sop, "1.2.826.0.1.3680043.10.999"); /* absent, as for every new instance the daemon gets */
    t0 = now_ms();
    if (rcy_archive_find_instance(&found, NULL, 0, &size, sha, s, r % 2 ? first_sop : sop, &err)) return 1;
    ms[r] = now_ms() - t0;
    rows += found;
  }
  row("one instance by SOP Instance UID (ingest)", ms, runs, rows);
  rcy_store_close(s);
  if (!getenv("RCY_BENCH_POSTGRES")) {
    char db_path[4200];
    snprintf(db_path, sizeof db_path, "%s/recistry.db", dir);
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return 1;
    sqlite3_stmt *st;
    const char *sql = "SELECT study_uid, site_id, subject_id, timepoint, study_date FROM studies"
                      " WHERE study_date BETWEEN ? AND ? ORDER BY study_date, study_uid";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return 1;
    rows = 0;
    for (int r = 0; r < runs; r++) {
      size_t i = (size_t)(rnd() % k.n);
      char hi[16];
      snprintf(hi, sizeof hi, "%s", k.dates[i]);
      hi[9] = hi[9] == '9' ? '9' : (char)(hi[9] + 1); /* a range of a few days */
      t0 = now_ms();
      sqlite3_bind_text(st, 1, k.dates[i], -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
      while (sqlite3_step(st) == SQLITE_ROW) rows++;
      sqlite3_reset(st);
      ms[r] = now_ms() - t0;
    }
    row("studies in a date range (SQL, as QIDO)", ms, runs, rows);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  for (size_t i = 0; i < k.n; i++) {
    free(k.uids[i]);
    free(k.subjects[i]);
    free(k.dates[i]);
  }
  free(k.uids);
  free(k.subjects);
  free(k.dates);
  free(ms);
  return 0;
}

int main(int argc, char **argv) {
  /* SQLite's page cache churns the top of the heap: without these glibc trims and regrows it on nearly every
   * row, and each trim's TLB shootdown cost half the fill's CPU on the VM (perf). */
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  if (argc >= 4 && strcmp(argv[1], "fill") == 0)
    return fill(argv[2], atoi(argv[3]), argc > 4 ? strtoull(argv[4], NULL, 10) : 1);
  if (argc >= 3 && strcmp(argv[1], "query") == 0) return query(argv[2], argc > 3 ? atoi(argv[3]) : 20);
  fprintf(stderr, "usage: bench_scale fill DIR SUBJECTS [SEED] | bench_scale query DIR [RUNS]\n");
  return 2;
}
