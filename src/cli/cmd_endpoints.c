/* `recistry endpoints`: registry endpoints (OS, PFS, hepatic PFS, ORR, DCR, ETS, DpR) from reads and the
 * registry — shared/spec/registry-endpoints.md, docs/endpoints.md. Thin: one run of src/qa/endpoints_run.c
 * (the same as GET /api/endpoints), printed as JSON or a table. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_args.h"
#include "options.h"
#include "recistry/qa.h"
#include "recistry/reads.h"
#include "recistry/recist.h"

static const char usage[] =
    "usage: recistry endpoints --archive DIR|--config FILE --reader site|central [--by indication] [--json]\n"
    "       recistry endpoints --registry FILE.csv --reads READS.json [--by indication] [--json]\n"
    "  OS, PFS and hepatic PFS (Kaplan-Meier, median and 95% CI, survival at 6/12/24 months), ORR, DCR,\n"
    "  ETS20/ETS30 (Clopper-Pearson 95% CI), depth of response; with --by indication per indication and the\n"
    "  log-rank test across them (docs/endpoints.md). READS.json: an array of subjects in the engine's "
    "input\n"
    "  format; the registry's treatment start replaces each read's (warning where they differ).\n"
    "  Exit: 0 ok, 1 invalid input (message names the subject), 2 usage.\n";

static void warn(void *ctx, const char *message) {
  (void)ctx;
  fprintf(stderr, "recistry endpoints: warning: %s\n", message);
}

int rcy_cmd_endpoints(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *reader = NULL, *registry = NULL, *reads = NULL, *by = NULL;
  int json = 0;
  const rcy_cli_option options[] = {
      RCY_CLI_ARCHIVE_OPTIONS(&a),                   {"--reader", "ROLE", 0, &reader, NULL},
      {"--registry", "FILE.csv", 0, &registry, NULL}, {"--reads", "READS.json", 0, &reads, NULL},
      {"--by", "indication", 0, &by, NULL},           {"--json", NULL, 0, NULL, &json},
  };
  int ex = rcy_cli_parse("endpoints", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (ex >= 0) return ex;
  const bool archive = rcy_cli_archive_given(&a);
  const bool archive_form = archive || reader, file_form = registry || reads;
  const char *problem = NULL;
  if (archive_form == file_form)
    problem = "give either --archive (or --config) and --reader, or --registry and --reads";
  else if (archive_form && (!archive || !reader))
    problem = "--archive needs --reader (and --reader --archive or --config)";
  else if (archive_form && strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0)
    problem = "--reader must be site or central";
  else if (file_form && (!registry || !reads))
    problem = "--registry needs --reads (and --reads --registry)";
  else if (by && strcmp(by, "indication") != 0)
    problem = "--by accepts only 'indication'";
  if (problem) {
    fprintf(stderr, "recistry endpoints: %s\n%s", problem, usage);
    return RCY_EXIT_USAGE;
  }

  rcy_error err = {0};
  rcy_store *store = NULL;
  if (archive_form && (ex = rcy_cli_archive_open(&store, &a, "endpoints", usage)) >= 0) return ex;
  rcy_registry_subject *rows = NULL;
  size_t n_rows = 0, n_unread = 0, len = 0;
  char *text = NULL, *out = NULL;
  rcy_qa_endpoints *result = NULL;
  int rc;
  if (file_form) {
    rc = rcy_registry_read_file(&rows, &n_rows, registry, stderr, &err);
    if (!rc) rc = rcy_recist_json_read_file(&text, &len, reads, &err);
    if (!rc)
      rc = rcy_qa_endpoints_run(&result, &n_unread, NULL, rows, n_rows, text, len, by != NULL, warn, NULL,
                                &err);
  } else {
    rc = rcy_qa_endpoints_archive(&result, &n_unread, NULL, store, reader, by != NULL, warn, NULL, &err);
  }
  if (!rc && n_unread)
    fprintf(stderr,
            "recistry endpoints: note: %zu registry subject(s) without a %s are not in the endpoints%s\n",
            n_unread, archive_form && strcmp(reader, "central") == 0 ? "final central read" : "read",
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
  free(out);
  free(text);
  free(rows);
  if (store) rcy_store_close(store);
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
