/* `recistry recist [--lenient] [--no-confirmation] [FILE|-]`: RECIST 1.1 responses of one subject or an
 * array of subjects, JSON in (shared/spec/recist-engine.md), JSON out on stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "recist_args.h"

static const char usage[] =
    "usage: recistry recist [--lenient] [--no-confirmation] [FILE|-]\n"
    "  Reads one subject (JSON object) or an array of subjects from FILE (default: stdin) and prints\n"
    "  each subject's per-timepoint responses, best overall response, early tumour shrinkage, depth of\n"
    "  response and progression (docs/recist.md).\n"
    "  --lenient          baseline-rule violations become warnings instead of errors\n"
    "  --no-confirmation  best overall response without confirmation of CR/PR\n"
    "  Exit: 0 ok, 1 invalid input (message names subject, timepoint, lesion), 2 usage.\n";

int rcy_cmd_recist(int argc, char **argv) {
  rcy_recist_json_flags flags;
  const char *files[1];
  size_t n_files;
  int rc = rcy_recist_json_cli_args(&flags, files, 1, &n_files, argc, argv, false, usage);
  if (rc == 1) return RCY_EXIT_OK;
  if (rc) return RCY_EXIT_USAGE;
  const char *path = n_files ? files[0] : "-";
  rcy_error err = {0};
  char *text = NULL, *out = NULL;
  size_t len;
  if (rcy_recist_json_read_file(&text, &len, path, &err) ||
      rcy_recist_json_evaluate(&out, text, len, &flags, true, &err)) {
    fprintf(stderr, "recistry recist: %s\n", err.message);
    free(text);
    return RCY_EXIT_FAIL;
  }
  fputs(out, stdout);
  fputc('\n', stdout);
  free(text);
  free(out);
  return fflush(stdout) == 0 ? RCY_EXIT_OK : RCY_EXIT_FAIL;
}
