/* The shared option parser of the subcommands (see options.h). */
#include "options.h"

#include "commands.h"

#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

static int usage_error(const char *command, const char *usage, const char *what, const char *arg) {
  fprintf(stderr, "recistry %s: %s%s%s%s\n%s", command, what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "",
          usage);
  return RCY_EXIT_USAGE;
}

int rcy_cli_parse(const char *command, const char *usage, const rcy_cli_option *options, size_t n_options,
                  int argc, char **argv) {
  size_t next_positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage, stdout);
      return RCY_EXIT_OK;
    }
    const rcy_cli_option *match = NULL;
    if (arg[0] == '-' && arg[1] != '\0') {
      for (size_t k = 0; k < n_options && !match; k++)
        if (options[k].name && strcmp(options[k].name, arg) == 0) match = &options[k];
      if (!match) return usage_error(command, usage, "unknown option", arg);
      if (!match->metavar) {
        *match->flag = 1;
        continue;
      }
      if (i + 1 >= argc) return usage_error(command, usage, "missing value after", arg);
      *match->value = argv[++i];
      continue;
    }
    /* a positional argument: the next option without a name */
    while (next_positional < n_options && options[next_positional].name) next_positional++;
    if (next_positional >= n_options) return usage_error(command, usage, "unexpected argument", arg);
    *options[next_positional++].value = arg;
  }
  for (size_t k = 0; k < n_options; k++) {
    if (!options[k].required || (options[k].value && *options[k].value)) continue;
    char what[96];
    if (options[k].name)
      snprintf(what, sizeof what, "%s %s is required", options[k].name, options[k].metavar);
    else
      snprintf(what, sizeof what, "%s is required", options[k].metavar);
    return usage_error(command, usage, what, NULL);
  }
  return -1;
}

void rcy_cli_actor(char *buf, size_t size) {
  struct passwd *pw = getpwuid(geteuid());
  snprintf(buf, size, "os:%.64s", pw && pw->pw_name ? pw->pw_name : "unknown");
}
