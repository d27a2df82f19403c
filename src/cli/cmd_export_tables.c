/* `recistry export sdtm|csv`: the archive's reads as CDISC SDTM TU/TR/RS datasets or as one flat CSV for
 * statisticians. Thin: src/qa/sdtm.c and src/qa/flat_csv.c build the files (docs/exports.md). */
#include "commands.h"
#include "export.h"

#include <stdio.h>
#include <string.h>

#include "archive_args.h"
#include "options.h"
#include "recistry/qa.h"
#include "recistry/store.h"

static const char usage[] =
    "usage: recistry export sdtm --archive DIR|--config FILE --reader site|central --out DIR [--study CIREL]\n"
    "       recistry export csv --archive DIR|--config FILE --out FILE.csv [--reader site|central|all]\n"
    "  sdtm: CDISC SDTM TU, TR, RS (tu.csv, tr.csv, rs.csv) with define_variables.csv, define_codelists.csv "
    "and\n"
    "  define_provenance.csv. site: the site reads; central: every central read, the final central read "
    "flagged\n"
    "  ACPTFL = Y. csv: one row per subject, read, timepoint and lesion (default --reader all).\n"
    "  Signed timepoints only. Columns and terms: docs/exports.md. Exit: 0 ok, 1 failure, 2 usage.\n";

int rcy_export_tables(int argc, char **argv) {
  const char *what = argv[1];
  if (strcmp(what, "sdtm") && strcmp(what, "csv")) {
    fprintf(stderr, "recistry export: unknown format '%s' (sdtm or csv)\n%s", what, usage);
    return RCY_EXIT_USAGE;
  }
  rcy_cli_archive a = {0};
  const char *reader = NULL, *out = NULL, *study = NULL;
  const rcy_cli_option options[] = {
      RCY_CLI_ARCHIVE_OPTIONS(&a),
      {"--reader", "ROLE", 0, &reader, NULL},
      {"--out", "PATH", 1, &out, NULL},
      {"--study", "STUDYID", 0, &study, NULL},
  };
  const char *command = !strcmp(what, "sdtm") ? "export sdtm" : "export csv";
  int ex = rcy_cli_parse(command, usage, options, sizeof options / sizeof options[0], argc - 1, argv + 1);
  if (ex >= 0) return ex;
  const char *problem = NULL;
  if (!strcmp(what, "sdtm")) {
    if (!reader || (strcmp(reader, "site") && strcmp(reader, "central")))
      problem = "--reader must be site or central";
  } else {
    if (study)
      problem = "--study is for export sdtm";
    else if (reader && strcmp(reader, "site") && strcmp(reader, "central") && strcmp(reader, "all"))
      problem = "--reader must be site, central or all";
  }
  if (problem) {
    fprintf(stderr, "recistry %s: %s\n%s", command, problem, usage);
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  rcy_store *store = NULL;
  rcy_qa_export_counts n = {0};
  if ((ex = rcy_cli_archive_open(&store, &a, command, usage)) >= 0) return ex;
  int rc = RCY_OK;
  if (!strcmp(what, "sdtm")) {
    rcy_qa_sdtm_options o = {reader, study ? study : "CIREL", out, rcy_store_archive_dir(store), NULL};
    rc = rcy_qa_sdtm_export(&n, store, &o, &err);
    if (!rc)
      fprintf(stderr, "%s: %zu subjects, %zu reads: TU %zu, TR %zu, RS %zu records\n", out, n.subjects,
              n.reads, n.tu, n.tr, n.rs);
  } else if (!rc) {
    rc = rcy_qa_flat_csv_export(&n, store, reader ? reader : "all", out, &err);
    if (!rc) fprintf(stderr, "%s: %zu subjects, %zu reads, %zu rows\n", out, n.subjects, n.reads, n.tr);
  }
  if (store) rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry %s: %s\n", command, err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}
