/* Command-line options of the engine's commands (recist, concordance). */
#ifndef RECISTRY_CLI_RECIST_ARGS_H
#define RECISTRY_CLI_RECIST_ARGS_H

#include <stddef.h>

#include "recistry/reads.h"

/* Shared option parsing of both commands: --lenient, --no-confirmation, --help, and --unrounded when
 * unrounded_ok (concordance); the rest are operands.
 * Returns 0 and the operands, 1 after printing --help, or 2 (usage error, message printed). */
int rcy_recist_json_cli_args(rcy_recist_json_flags *flags, const char **operands, size_t max_operands,
                             size_t *n_operands, int argc, char **argv, bool unrounded_ok, const char *usage);

#endif
