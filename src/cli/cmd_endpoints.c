/* `recistry endpoints`: registry endpoints (OS, PFS, hepatic PFS, ORR, DCR, ETS, DpR) from reads and the
 * registry — shared/spec/registry-endpoints.md, docs/endpoints.md. Thin: the reads are parsed and evaluated
 * by the engine's JSON codec (recist_json.c), matched with the registry and computed by src/qa/. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "recistry/qa.h"
#include "recistry/reads.h"
#include "recistry/recist.h"

static const char usage[] =
    "usage: recistry endpoints --archive DIR --reader site|central [--by indication] [--json]\n"
    "       recistry endpoints --registry FILE.csv --reads READS.json [--by indication] [--json]\n"
    "  OS, PFS and hepatic PFS (Kaplan-Meier, median and 95% CI, survival at 6/12/24 months), ORR, DCR,\n"
    "  ETS20/ETS30 (Clopper-Pearson 95% CI), depth of response; with --by indication per indication and the\n"
    "  log-rank test across them (docs/endpoints.md). READS.json: an array of subjects in the engine's input\n"
    "  format; the registry's treatment start replaces each read's (warning where they differ).\n"
    "  Exit: 0 ok, 1 invalid input (message names the subject), 2 usage.\n";

/* The reads of one role in the engine's input format, as text. The export lives in readers/server today and
 * moves to src/reads/ later: this is the one place to re-point. */
/* The reads endpoints are computed on, as engine input text: the site reads, or each subject's final central
 * read (src/reads/review.c: in double reading, after both reads and any adjudication), signed timepoints only. */
static int archive_reads(char **text, size_t *len, rcy_store *store, const char *reader, rcy_error *err) {
  *text = NULL;
  *len = 0;
  rcy_review_settings s;
  json_t *reads = NULL;
  int rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&reads, store, &s, reader, err);
  if (!rc && !(*text = json_dumps(reads, JSON_COMPACT))) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (!rc) *len = strlen(*text);
  json_decref(reads);
  return rc;
}

typedef struct {
  rcy_registry_subject *rows;
  size_t n, cap;
} row_list;

static int collect_row(void *ctx, const rcy_registry_subject *s) {
  row_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    rcy_registry_subject *r = realloc(l->rows, cap * sizeof *r);
    if (!r) return RCY_ENOMEM;
    l->rows = r;
    l->cap = cap;
  }
  l->rows[l->n++] = *s;
  return 0;
}

static int prepare(void *ctx, rcy_recist_subject *subject, rcy_error *err) {
  int32_t start;
  bool differs;
  int rc = rcy_qa_cohort_treatment_start(&start, &differs, ctx, subject->subject_id, subject->has_treatment_start,
                                         subject->treatment_start_days, err);
  if (rc) return rc;
  if (differs) {
    char a[11], b[11];
    rcy_recist_date_format(a, subject->treatment_start_days);
    rcy_recist_date_format(b, start);
    fprintf(stderr, "recistry endpoints: warning: subject %s: the read's treatment_start %s replaced by the registry's %s\n",
            subject->subject_id, a, b);
  }
  subject->has_treatment_start = true;
  subject->treatment_start_days = start;
  return 0;
}

static int visit(void *ctx, const rcy_recist_subject *subject, const rcy_recist_result *result, rcy_error *err) {
  (void)subject;
  return rcy_qa_cohort_add(ctx, result, err);
}

int rcy_cmd_endpoints(int argc, char **argv) {
  const char *archive = NULL, *reader = NULL, *registry = NULL, *reads = NULL, *by = NULL;
  int json = 0;
  const rcy_cli_option options[] = {
      {"--archive", "DIR", 0, &archive, NULL}, {"--reader", "ROLE", 0, &reader, NULL},
      {"--registry", "FILE.csv", 0, &registry, NULL}, {"--reads", "READS.json", 0, &reads, NULL},
      {"--by", "indication", 0, &by, NULL},         {"--json", NULL, 0, NULL, &json},
  };
  int ex = rcy_cli_parse("endpoints", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (ex >= 0) return ex;
  const bool archive_form = archive || reader, file_form = registry || reads;
  const char *problem = NULL;
  if (archive_form == file_form) problem = "give either --archive and --reader, or --registry and --reads";
  else if (archive_form && (!archive || !reader)) problem = "--archive needs --reader (and --reader --archive)";
  else if (archive_form && strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0)
    problem = "--reader must be site or central";
  else if (file_form && (!registry || !reads)) problem = "--registry needs --reads (and --reads --registry)";
  else if (by && strcmp(by, "indication") != 0) problem = "--by accepts only 'indication'";
  if (problem) {
    fprintf(stderr, "recistry endpoints: %s\n%s", problem, usage);
    return RCY_EXIT_USAGE;
  }

  rcy_error err = {0};
  rcy_store *store = NULL;
  row_list rows = {0};
  char *text = NULL, *out = NULL;
  size_t len = 0;
  rcy_qa_cohort *cohort = NULL;
  rcy_qa_endpoints *result = NULL;
  int rc;
  if (file_form) {
    rc = rcy_registry_read_file(&rows.rows, &rows.n, registry, stderr, &err);
    if (!rc) rc = rcy_recist_json_read_file(&text, &len, reads, &err);
  } else {
    rc = rcy_store_open(&store, archive, &err);
    if (!rc) rc = rcy_store_registry_each(store, collect_row, &rows, &err);
    if (rc == RCY_ENOMEM && !err.message[0]) rcy_error_set(&err, rc, "out of memory");
    if (!rc) rc = archive_reads(&text, &len, store, reader, &err);
  }
  rcy_recist_json_flags flags = {0};
  if (!rc) rc = rcy_qa_cohort_new(&cohort, rows.rows, rows.n, &err);
  if (!rc) rc = rcy_recist_json_each(text, len, &flags, prepare, visit, cohort, &err);
  if (!rc) rc = rcy_qa_cohort_endpoints(&result, cohort, by != NULL, &err);
  if (!rc && rcy_qa_cohort_n_unread(cohort))
    fprintf(stderr, "recistry endpoints: note: %zu registry subject(s) without a %s are not in the endpoints%s\n",
            rcy_qa_cohort_n_unread(cohort), archive_form && strcmp(reader, "central") == 0 ? "final central read" : "read",
            archive_form && strcmp(reader, "central") == 0
                ? " (not read yet, or waiting for a second read or adjudication: recistry adjudication list)"
                : "");
  if (!rc && json) {
    rc = rcy_qa_endpoints_to_json(&out, result, archive_form ? reader : NULL, true, &err);
    if (!rc) {
      fputs(out, stdout);
      fputc('\n', stdout);
      if (fflush(stdout)) rc = rcy_error_set(&err, RCY_EIO, "cannot write the output");
    }
  } else if (!rc) {
    rc = rcy_qa_endpoints_print(stdout, result, archive_form ? reader : NULL, &err);
  }
  if (rc) fprintf(stderr, "recistry endpoints: %s\n", err.message[0] ? err.message : rcy_error_name(rc));
  rcy_qa_endpoints_free(result);
  rcy_qa_cohort_free(cohort);
  free(out);
  free(text);
  free(rows.rows);
  if (store) rcy_store_close(store);
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
