/* JSON ⇄ engine structs for `recistry recist` and `recistry concordance` (and their fuzz target and
 * benchmark): the input and output formats of shared/spec/recist-engine.md, parsed and printed with jansson.
 * The engine itself (rcy_recist) never sees JSON. */
#ifndef RECISTRY_CLI_RECIST_JSON_H
#define RECISTRY_CLI_RECIST_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "recistry/error.h"

typedef struct rcy_recist_json_flags {
  bool lenient;         /* --lenient: baseline-rule violations become warnings */
  bool no_confirmation; /* --no-confirmation: overrides every subject's options.confirmation */
} rcy_recist_json_flags;

/* text: one subject (object) or an array of subjects. *out_text (malloc'ed, caller frees) is the result
 * object or array, pretty-printed when `pretty`. RCY_EINVAL with a message naming subject, timepoint and
 * lesion for any invalid input. */
int rcy_recist_json_evaluate(char **out_text, const char *text, size_t len,
                             const rcy_recist_json_flags *flags, bool pretty, rcy_error *err);

/* Two reads (each an object or an array of subjects) → the concordance report. */
int rcy_recist_json_concordance(char **out_text, const char *first, size_t first_len, const char *second,
                                size_t second_len, const rcy_recist_json_flags *flags, bool pretty,
                                rcy_error *err);

typedef struct rcy_recist_subject rcy_recist_subject;
typedef struct rcy_recist_result rcy_recist_result;

/* Parses text (one subject or an array) and evaluates each subject in turn into one reused result, for a
 * caller that needs the results and not their JSON (`recistry endpoints`). Before a subject is evaluated,
 * prepare (when non-NULL) may change it (e.g. set the registry's treatment start); after, visit sees the
 * result. A non-zero return from either stops the walk and is returned (err set by the callback).
 * Invalid input: RCY_EINVAL naming subject, timepoint and lesion, as rcy_recist_json_evaluate. */
int rcy_recist_json_each(const char *text, size_t len, const rcy_recist_json_flags *flags,
                         int (*prepare)(void *ctx, rcy_recist_subject *subject, rcy_error *err),
                         int (*visit)(void *ctx, const rcy_recist_subject *subject,
                                      const rcy_recist_result *result, rcy_error *err),
                         void *ctx, rcy_error *err);

/* Reads a whole file ("-" = stdin) into a NUL-terminated buffer the caller frees. */
int rcy_recist_json_read_file(char **out, size_t *out_len, const char *path, rcy_error *err);

/* Shared option parsing of both commands: --lenient, --no-confirmation, --help; the rest are operands.
 * Returns 0 and the operands, 1 after printing --help, or 2 (usage error, message printed). */
int rcy_recist_json_cli_args(rcy_recist_json_flags *flags, const char **operands, size_t max_operands,
                             size_t *n_operands, int argc, char **argv, const char *usage);

#endif
