/* PDF reports over HTTP (docs/reports.md, docs/api.md): GET /api/reports/subject/{id}.pdf and
 * GET /api/reports/cohort.pdf?reader=site|central[&by=indication]. The cohort report pools every reader's reads:
 * QA and admin only. The subject report: QA and admin, or a user who may see the subject, with only the reads
 * that user may see (rcy_reads_read_visible: blinded central readers get their own read, site users the site
 * read). The PDF is written to a temporary file, read back and removed. */
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recistry/qa.h"
#include "recistry/reads.h"

typedef struct {
  rcy_req *r;
  const char *subject;
} visible_ctx;

static int read_visible(void *ctx, const char *role, const char *reader) {
  visible_ctx *v = ctx;
  return rcy_reads_read_visible(v->r->store, &v->r->user, v->subject, role, reader);
}

/* Writes the report with make() into a temporary file and replies with its bytes. */
static int reply_pdf(rcy_req *r, int (*make)(void *ctx, const char *path, rcy_error *err), void *ctx,
                     const char *filename) {
  char path[] = "/tmp/recistry-report-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return rcy_reply_error(r, 500, "cannot create a temporary file");
  close(fd);
  rcy_error err = {0};
  int rc = make(ctx, path, &err);
  char *data = NULL;
  size_t len = 0;
  if (!rc) {
    FILE *f = fopen(path, "rb");
    if (f && !fseek(f, 0, SEEK_END)) {
      long n = ftell(f);
      if (n > 0 && !fseek(f, 0, SEEK_SET) && (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) == (size_t)n)
        len = (size_t)n;
    }
    if (f) fclose(f);
  }
  unlink(path);
  if (rc) {
    free(data);
    return rcy_reply_rcy_error(r, &err);
  }
  if (!len) {
    free(data);
    return rcy_reply_error(r, 500, "the report could not be read back");
  }
  rcy_reply_bytes(r, 200, "application/pdf", data, len, 1);
  char disp[160];
  snprintf(disp, sizeof disp, "inline; filename=\"%s\"", filename);
  rcy_reply_header(r, "Content-Disposition", disp);
  rcy_reply_header(r, "Cache-Control", "no-store");
  return 0;
}

typedef struct {
  rcy_req *r;
  char subject[RCY_NAME_MAX + 1];
  int all_reads;
} subject_job;

static int make_subject(void *ctx, const char *path, rcy_error *err) {
  subject_job *j = ctx;
  visible_ctx v = {j->r, j->subject};
  return rcy_qa_report_subject(j->r->store, j->r->srv->cfg->archive_dir, j->subject, path,
                               j->all_reads ? NULL : read_visible, &v, err);
}

int rcy_handle_report_subject(rcy_req *r, const char *file) {
  size_t n = strlen(file);
  subject_job j = {.r = r};
  if (n < 5 || strcmp(file + n - 4, ".pdf") != 0 || n - 4 > RCY_NAME_MAX)
    return rcy_reply_error(r, 404, "no such report");
  memcpy(j.subject, file, n - 4);
  j.subject[n - 4] = '\0';
  if (!rcy_reads_valid_name(j.subject)) return rcy_reply_error(r, 404, "no such report");
  j.all_reads = strcmp(r->user.role, "qa") == 0 || strcmp(r->user.role, "admin") == 0;
  if (!j.all_reads && !rcy_reads_subject_visible(r->store, &r->user, j.subject))
    return rcy_reply_error(r, 404, "no such subject");
  char name[RCY_NAME_MAX + 16];
  snprintf(name, sizeof name, "%s.pdf", j.subject);
  return reply_pdf(r, make_subject, &j, name);
}

typedef struct {
  rcy_req *r;
  const char *reader;
  int by;
} cohort_job;

static int make_cohort(void *ctx, const char *path, rcy_error *err) {
  cohort_job *j = ctx;
  return rcy_qa_report_cohort(j->r->store, j->reader, j->by, path, NULL, err);
}

int rcy_handle_report_cohort(rcy_req *r) {
  if (strcmp(r->user.role, "qa") != 0 && strcmp(r->user.role, "admin") != 0)
    return rcy_reply_error(r, 403, "the cohort report is for QA and admin accounts");
  cohort_job j = {.r = r, .reader = rcy_req_query(r, "reader")};
  const char *by = rcy_req_query(r, "by");
  if (!j.reader) j.reader = "central";
  if (strcmp(j.reader, "site") != 0 && strcmp(j.reader, "central") != 0)
    return rcy_reply_error(r, 400, "reader must be site or central");
  if (by && *by && strcmp(by, "indication") != 0) return rcy_reply_error(r, 400, "by accepts only indication");
  j.by = by && *by;
  return reply_pdf(r, make_cohort, &j, "cohort.pdf");
}
