/* The options `recistry recist` and `recistry concordance` share (--lenient, --no-confirmation, operands). */
#include "recist_args.h"

#include <stdio.h>
#include <string.h>

int rcy_recist_json_cli_args(rcy_recist_json_flags *flags, const char **operands, size_t max_operands,
                             size_t *n_operands, int argc, char **argv, bool unrounded_ok,
                             const char *usage) {
  memset(flags, 0, sizeof *flags);
  *n_operands = 0;
  bool only_operands = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_operands && strcmp(a, "--") == 0) {
      only_operands = true;
    } else if (!only_operands && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      fputs(usage, stdout);
      return 1;
    } else if (!only_operands && strcmp(a, "--lenient") == 0) {
      flags->lenient = true;
    } else if (!only_operands && strcmp(a, "--no-confirmation") == 0) {
      flags->no_confirmation = true;
    } else if (!only_operands && unrounded_ok && strcmp(a, "--unrounded") == 0) {
      flags->unrounded = true;
    } else if (!only_operands && a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "recistry %s: unknown option '%s'\n%s", argv[0], a, usage);
      return 2;
    } else if (*n_operands == max_operands) {
      fprintf(stderr, "recistry %s: too many operands ('%s')\n%s", argv[0], a, usage);
      return 2;
    } else {
      operands[(*n_operands)++] = a;
    }
  }
  return 0;
}
