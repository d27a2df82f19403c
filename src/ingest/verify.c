/* `recistry verify`: the index and storage/ must agree. Every row's file must exist with the recorded size
 * and SHA-256; every file under storage/ (temporary files aside) must have its row; and every instance must
 * sit where its index hierarchy says (site/subject/study/series/sop.dcm, the path the daemon wrote after its
 * checks): an instance indexed under another site's series, or a series under another study, is reported. */
#include "ingest_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *storage;
  rcy_store *db;
  void (*fn)(void *, const char *);
  void *ctx;
  int n;
  rcy_error *err;
  int failed;
} verify_ctx;

static void report(verify_ctx *v, const char *fmt, const char *a, const char *b) {
  char line[1024];
  snprintf(line, sizeof line, fmt, a, b);
  v->n++;
  if (v->fn) v->fn(v->ctx, line);
}

static int check_row(void *ctx, const char *sop, const char *path, uint64_t size, const char *sha) {
  verify_ctx *v = ctx;
  char full[4096], hex[65];
  uint64_t actual = 0;
  snprintf(full, sizeof full, "%s/%s", v->storage, path);
  rcy_error e = {0};
  int rc = rcy_files_sha256(hex, &actual, full, &e);
  if (rc == RCY_ENOTFOUND) report(v, "missing file: %s (SOP Instance %s)", path, sop);
  else if (rc) report(v, "unreadable file: %s: %s", path, e.message);
  else if (actual != size) report(v, "size differs from the index: %s (SOP Instance %s)", path, sop);
  else if (strcmp(hex, sha) != 0) report(v, "SHA-256 differs from the index: %s (SOP Instance %s)", path, sop);
  return 0;
}

static int check_placement(void *ctx, const char *sop, const char *path, const char *series, const char *study,
                           const char *site, const char *subject) {
  verify_ctx *v = ctx;
  if (!study || !site || !subject) {
    report(v, "instance without its series or study row: %s (Series %s)", path, series ? series : "?");
    return 0;
  }
  char s_site[RCY_DICOM_LO_MAX], s_subject[RCY_DICOM_LO_MAX], expected[1024];
  rcy_ingest_safe_component(s_site, sizeof s_site, site);
  rcy_ingest_safe_component(s_subject, sizeof s_subject, subject);
  int w = snprintf(expected, sizeof expected, "%s/%s/%s/%s/%s.dcm", s_site, s_subject, study, series, sop);
  if (w < 0 || (size_t)w >= sizeof expected || strcmp(expected, path) != 0) {
    char what[512];
    snprintf(what, sizeof what, "Series %.64s indexed under Study %.64s of site %.64s", series, study, site);
    report(v, "instance not where its index hierarchy places it: %s (%s)", path, what);
  }
  return 0;
}

static int check_file(void *ctx, const char *rel) {
  verify_ctx *v = ctx;
  int found = 0;
  if (rcy_archive_has_path(&found, v->db, rel, v->err)) {
    v->failed = 1;
    return 1;
  }
  if (!found) report(v, "file not in the index: %s%s", rel, "");
  return 0;
}

int rcy_ingest_verify(int *n_mismatches, const rcy_store_location *archive, void (*fn)(void *ctx, const char *line),
                      void *ctx, rcy_error *err) {
  *n_mismatches = 0;
  rcy_store *db;
  int rc = rcy_store_open_at(&db, archive, err);
  if (rc) return rc;
  verify_ctx v = {rcy_store_storage_dir(db), db, fn, ctx, 0, err, 0};
  rc = rcy_archive_each_instance(db, check_row, &v, err);
  if (!rc) rc = rcy_archive_each_placement(db, check_placement, &v, err);
  if (!rc) rc = rcy_files_walk(v.storage, check_file, &v, err);
  if (!rc && v.failed) rc = err ? err->code : RCY_ESTORE;
  *n_mismatches = v.n;
  rcy_store_close(db);
  return rc;
}
