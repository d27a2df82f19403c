/* Command-line options of the subcommands: one table-driven parser, so that every command answers --help,
 * an option without its value, an unknown argument and a missing required option the same way:
 * exit 2 with a message naming the argument, then the command's usage on stderr. */
#ifndef RECISTRY_CLI_OPTIONS_H
#define RECISTRY_CLI_OPTIONS_H

#include <stddef.h>

typedef struct {
  const char *name;    /* "--archive"; NULL for the next positional argument */
  const char *metavar; /* "DIR" for an option that takes a value; NULL for a flag */
  int required;
  const char **value;  /* receives the value (options with a metavar, positionals) */
  int *flag;           /* set to 1 when a flag is present */
} rcy_cli_option;

/* Parses argv[1..argc-1] against options. `command` names the command in messages ("user add");
 * `usage` is its help text (first line: the usage line), printed to stdout for --help.
 * Returns -1 when the command should go on, otherwise the exit code to return at once. */
int rcy_cli_parse(const char *command, const char *usage, const rcy_cli_option *options, size_t n_options,
                  int argc, char **argv);

/* The audit log's name for whoever runs a command on the archive directly: "os:<account>" (as imports). */
void rcy_cli_actor(char *buf, size_t size);

#endif
