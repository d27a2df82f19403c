/* `recistry concordance [--lenient] [--no-confirmation] [--unrounded] FIRST.json SECOND.json`: agreement
 * between two reads of the same subjects (first = site investigator, second = central reader), JSON on
 * stdout. `recistry concordance --archive DIR|--config FILE --pair site:central|r1:r2 [--unrounded]
 * [--json]`: the same report on the archive's signed reads (src/reads/review_pairs.c chooses them). */
#include <stdio.h>
#include <stdlib.h>

#include "archive_args.h"
#include "commands.h"
#include "options.h"
#include "recist_args.h"

#include <string.h>

#include "recistry/reads.h"

static const char usage[] =
    "usage: recistry concordance [--lenient] [--no-confirmation] [--unrounded] SITE.json CENTRAL.json\n"
    "       recistry concordance --archive DIR|--config FILE --pair site:central|r1:r2 [--unrounded] [--json]\n"
    "  Evaluates both reads with the RECIST engine, pairs subjects by subject_id and timepoints by label,\n"
    "  and prints confusion matrices, percent agreement, Cohen's kappa with its 95% CI, progression\n"
    "  agreement, the early and late discrepancy rates (Amit et al. 2011; the first read is the\n"
    "  investigator's), Bland-Altman of the sums of diameters and of their % change from baseline, and the\n"
    "  discordant subjects (docs/recist.md, docs/qa.md).\n"
    "  With --archive: the archive's signed reads — the site read against the final central read\n"
    "  (site:central), or each subject's first central reader against the second (r1:r2); the report is\n"
    "  JSON either way (--json is accepted for symmetry with other archive commands; docs/qa.md).\n"
    "  --unrounded  print every statistic as computed (default: rounded for reading)\n"
    "  Exit: 0 ok, 1 invalid input, 2 usage.\n";

static int archive_form(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *pair = NULL;
  int json = 0, unrounded = 0;
  const rcy_cli_option o[] = {RCY_CLI_ARCHIVE_OPTIONS(&a),
                              {"--pair", "site:central|r1:r2", 1, &pair, NULL},
                              {"--json", NULL, 0, NULL, &json},
                              {"--unrounded", NULL, 0, NULL, &unrounded}};
  int parsed = rcy_cli_parse("concordance", usage, o, sizeof o / sizeof o[0], argc, argv);
  if (parsed >= 0) return parsed;
  if (strcmp(pair, "site:central") && strcmp(pair, "r1:r2")) {
    fprintf(stderr, "recistry concordance: --pair must be site:central or r1:r2, not '%s'\n%s", pair, usage);
    return RCY_EXIT_USAGE;
  }
  rcy_store *store;
  rcy_error err = {0};
  char *out = NULL;
  if ((parsed = rcy_cli_archive_open(&store, &a, "concordance", usage)) >= 0) return parsed;
  int rc = rcy_review_concordance(&out, store, pair, unrounded, true, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry concordance: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  puts(out);
  free(out);
  return fflush(stdout) ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}

int rcy_cmd_concordance(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--archive") == 0 || strcmp(argv[i], "--config") == 0)
      return archive_form(argc, argv);
  rcy_recist_json_flags flags;
  const char *files[2];
  size_t n_files;
  int rc = rcy_recist_json_cli_args(&flags, files, 2, &n_files, argc, argv, true, usage);
  if (rc == 1) return RCY_EXIT_OK;
  if (rc) return RCY_EXIT_USAGE;
  if (n_files != 2) {
    fprintf(stderr, "recistry concordance: need two files (the site read and the central read)\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  char *a = NULL, *b = NULL, *out = NULL;
  size_t la, lb;
  int status = RCY_EXIT_OK;
  if (rcy_recist_json_read_file(&a, &la, files[0], &err) ||
      rcy_recist_json_read_file(&b, &lb, files[1], &err) ||
      rcy_recist_json_concordance(&out, a, la, b, lb, &flags, true, &err)) {
    fprintf(stderr, "recistry concordance: %s\n", err.message);
    status = RCY_EXIT_FAIL;
  } else {
    fputs(out, stdout);
    fputc('\n', stdout);
    if (fflush(stdout) != 0) status = RCY_EXIT_FAIL;
  }
  free(a);
  free(b);
  free(out);
  return status;
}
