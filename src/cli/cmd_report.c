/* `recistry report subject|cohort`: the PDF reports (docs/reports.md). Thin: src/qa/report_*.c decides what
 * a report holds, src/render draws it. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "archive_args.h"
#include "options.h"
#include "recistry/qa.h"
#include "recistry/render.h"
#include "recistry/store.h"

static const char usage[] =
    "usage: recistry report subject --archive DIR|--config FILE --subject ID --out FILE.pdf\n"
    "       recistry report cohort --archive DIR|--config FILE --reader site|central --out FILE.pdf\n"
    "                              [--by indication]\n"
    "       recistry report cohort --registry FILE.csv --reads READS.json --out FILE.pdf [--by indication]\n"
    "  subject: registry header, timeline, sum of diameters over time, responses per timepoint of every read,\n"
    "  key images and signatures. cohort: the endpoint tables of `recistry endpoints` with Kaplan-Meier,\n"
    "  waterfall, spider and swimmer plots (and R1-R2 Bland-Altman in double reading). SOURCE_DATE_EPOCH fixes\n"
    "  the PDF's creation date. Exit: 0 ok, 1 failure, 2 usage.\n";

int rcy_cmd_report(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *subject = NULL, *out = NULL, *reader = NULL, *registry = NULL, *reads = NULL,
             *by = NULL;
  const char *kind = argc > 1 ? argv[1] : "";
  int is_subject = strcmp(kind, "subject") == 0, is_cohort = strcmp(kind, "cohort") == 0;
  if (!is_subject && !is_cohort) {
    if (argc > 1 && (strcmp(kind, "--help") == 0 || strcmp(kind, "-h") == 0)) {
      fputs(usage, stdout);
      return RCY_EXIT_OK;
    }
    fprintf(stderr, "recistry report: give subject or cohort\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  const rcy_cli_option options[] = {
      RCY_CLI_ARCHIVE_OPTIONS(&a),                     {"--subject", "ID", 0, &subject, NULL},
      {"--out", "FILE.pdf", 0, &out, NULL},            {"--reader", "ROLE", 0, &reader, NULL},
      {"--registry", "FILE.csv", 0, &registry, NULL}, {"--reads", "READS.json", 0, &reads, NULL},
      {"--by", "indication", 0, &by, NULL},
  };
  int ex = rcy_cli_parse("report", usage, options, sizeof options / sizeof options[0], argc - 1, argv + 1);
  if (ex >= 0) return ex;
  const int archive = rcy_cli_archive_given(&a);
  const char *problem = NULL;
  if (!out) problem = "--out is required";
  else if (is_subject && (!archive || !subject)) problem = "report subject needs --archive and --subject";
  else if (is_subject && (reader || registry || reads || by)) problem = "report subject takes --archive, --subject, --out";
  else if (is_cohort && !!(archive || reader) == !!(registry || reads))
    problem = "give either --archive and --reader, or --registry and --reads";
  else if (is_cohort && (archive || reader) && (!archive || !reader)) problem = "--archive needs --reader";
  else if (is_cohort && reader && strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0)
    problem = "--reader must be site or central";
  else if (is_cohort && (registry || reads) && (!registry || !reads)) problem = "--registry needs --reads";
  else if (is_cohort && subject) problem = "report cohort takes no --subject";
  else if (by && strcmp(by, "indication") != 0) problem = "--by accepts only 'indication'";
  if (problem) {
    fprintf(stderr, "recistry report: %s\n%s", problem, usage);
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  rcy_store *store = NULL;
  int rc = 0;
  if (archive && (ex = rcy_cli_archive_open(&store, &a, "report", usage)) >= 0) return ex;
  if (is_subject) rc = rcy_qa_report_subject(store, rcy_store_archive_dir(store), subject, out, NULL, NULL, &err);
  else if (archive) rc = rcy_qa_report_cohort(store, reader, by != NULL, out, stderr, &err);
  else rc = rcy_qa_report_cohort_files(registry, reads, by != NULL, out, stderr, &err);
  if (rc) fprintf(stderr, "recistry report: %s\n", err.message[0] ? err.message : rcy_error_name(rc));
  if (store) rcy_store_close(store);
  rcy_render_shutdown();
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
