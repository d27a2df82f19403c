/* libFuzzer target for `recistry reads import` (scripts/fuzz-reads-import.sh builds and runs it): the input
 * is a file as a site would send it, CSV or JSON, fed to the import's parse + validate on a temporary
 * archive seeded with one subject (CIREL-014-0001, site S014: BL 2025-01-06, FU1 2025-03-03; and
 * CIREL-014-0002: BL 2025-01-07). The input length's low bit picks whether the site's subject_pattern is
 * known (as with --config).
 *
 * Findings: any crash, leak or sanitizer report; a return other than 0, RCY_EINVAL or RCY_ENOMEM; a success
 * without a subject, or a failure without a message. And the import's promise: when the check passes, the
 * file is really imported, and its export must pass the engine strictly (`recistry recist` without
 * --lenient); the archive is then put back as it was, so every input sees the same archive. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/reads.h"
#include "recistry/reads.h"
#include "recistry/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char archive[256];
static char *pristine; /* the seeded recistry.db, to put back after a real import */
static size_t pristine_len;
static rcy_store *store;

static void die(const char *what, const rcy_error *e) {
  fprintf(stderr, "reads_import_fuzz: %s: %s\n", what, e ? e->message : "");
  abort();
}

static void seed_study(const char *subject, const char *tp, const char *date, const char *uid) {
  rcy_error e = {0};
  char series[80], sop[80];
  snprintf(series, sizeof series, "%s.1", uid);
  snprintf(sop, sizeof sop, "%s.1.1", uid);
  rcy_archive_instance in = {0};
  in.site_id = "S014";
  in.subject_id = subject;
  in.timepoint = tp;
  in.study_date = date;
  in.study_uid = uid;
  in.series_uid = series;
  in.sop_instance_uid = sop;
  in.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  in.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  in.modality = "CT";
  in.path = sop;
  in.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
  in.received_at = "2025-01-01T00:00:00Z";
  if (rcy_store_begin(store, &e) || rcy_archive_add_instance(store, &in, &e) || rcy_store_commit(store, &e))
    die("seeding the archive", &e);
}

static void db_path(char *out, size_t n, const char *suffix) {
  snprintf(out, n, "%s/recistry.db%s", archive, suffix);
}

static void open_store(void) {
  rcy_error e = {0};
  if (rcy_store_open(&store, archive, &e)) die("opening the archive", &e);
}

static void setup(void) {
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(archive, sizeof archive, "%s/reads-import-fuzz.XXXXXX", tmp);
  if (!mkdtemp(archive)) die("mkdtemp", NULL);
  strncat(archive, "/a", sizeof archive - strlen(archive) - 1);
  rcy_error e = {0};
  if (rcy_store_init(archive, &e)) die("init", &e);
  open_store();
  seed_study("CIREL-014-0001", "BL", "2025-01-06", "1.2.826.0.1.3680043.9.7133.1");
  seed_study("CIREL-014-0001", "FU1", "2025-03-03", "1.2.826.0.1.3680043.9.7133.2");
  seed_study("CIREL-014-0002", "BL", "2025-01-07", "1.2.826.0.1.3680043.9.7133.3");
  rcy_store_close(store); /* checkpoints the WAL into the file */
  char p[300];
  db_path(p, sizeof p, "");
  FILE *f = fopen(p, "rb");
  if (!f) die("reading the seeded archive", NULL);
  fseek(f, 0, SEEK_END);
  pristine_len = (size_t)ftell(f);
  rewind(f);
  pristine = malloc(pristine_len);
  if (!pristine || fread(pristine, 1, pristine_len, f) != pristine_len) die("reading the seeded archive", NULL);
  fclose(f);
  open_store();
}

static void restore(void) {
  rcy_store_close(store);
  char p[300];
  db_path(p, sizeof p, "-wal");
  unlink(p);
  db_path(p, sizeof p, "-shm");
  unlink(p);
  db_path(p, sizeof p, "");
  FILE *f = fopen(p, "wb");
  if (!f || fwrite(pristine, 1, pristine_len, f) != pristine_len || fclose(f)) die("restoring the archive", NULL);
  open_store();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!store) setup();
  static const rcy_reads_site_pattern sites[] = {{"S014", "^CIREL-014-[0-9]{4}$"}};
  rcy_reads_import_options o = {"site", "site", "fuzz", 1, (size & 1) ? sites : NULL, (size & 1) ? 1 : 0};
  /* RCY_FUZZ_VERBOSE=1 shows the import's report (to see why a reproduced input is refused). */
  FILE *devnull = getenv("RCY_FUZZ_VERBOSE") ? stderr : fopen("/dev/null", "w");
  rcy_error err = {0, ""};
  size_t n = 0;
  int rc = rcy_reads_import_buffer(&n, store, "fuzz", (const char *)data, size, &o, devnull, &err);
  if (rc != 0 && rc != RCY_EINVAL && rc != RCY_ENOMEM) die("unexpected return", &err);
  if (rc != 0 && !err.message[0]) die("failure without a message", NULL);
  if (rc == 0 && n == 0) die("success without a subject", NULL);
  if (rc == 0) {
    /* The promise: what passes the check imports, and its export passes the engine without --lenient. */
    o.dry_run = 0;
    if (rcy_reads_import_buffer(&n, store, "fuzz", (const char *)data, size, &o, devnull, &err))
      die("a checked file did not import", &err);
    char *text = NULL, *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem || rcy_reads_export(mem, store, "site", "site", &err)) die("export", &err);
    fclose(mem);
    rcy_recist_json_flags strict = {false, false, false};
    if (rcy_recist_json_evaluate(&out, text, len, &strict, false, &err)) {
      fprintf(stderr, "export:\n%s\n", text);
      die("the export of an import fails the engine", &err);
    }
    free(out);
    free(text);
    restore();
  }
  if (rc == 0 && getenv("RCY_FUZZ_VERBOSE")) fprintf(stderr, "reads_import_fuzz: imported %zu subject(s)\n", n);
  if (devnull != stderr) fclose(devnull);
  return 0;
}
