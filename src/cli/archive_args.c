/* The archive named on a command line, by folder or by config (see archive_args.h). */
#include "archive_args.h"

#include "commands.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rcy_cli_archive_given(const rcy_cli_archive *a) { return a->dir || a->config; }

/* Two spellings of one folder ("A", "./A/", a symlink) are the same archive; a folder that does not exist
 * yet can only be compared by its spelling. */
static int same_folder(const char *x, const char *y) {
  char rx[PATH_MAX], ry[PATH_MAX];
  if (realpath(x, rx) && realpath(y, ry)) return strcmp(rx, ry) == 0;
  return strcmp(x, y) == 0;
}

int rcy_cli_archive_location(rcy_store_location *out, const rcy_cli_archive *a, const char *command,
                             const char *usage) {
  memset(out, 0, sizeof *out);
  if (!a->dir && !a->config) {
    fprintf(stderr, "recistry %s: --archive DIR or --config FILE is required\n%s", command, usage);
    return RCY_EXIT_USAGE;
  }
  if (!a->config) {
    if (!(out->archive_dir = strdup(a->dir))) {
      fprintf(stderr, "recistry %s: out of memory\n", command);
      return RCY_EXIT_FAIL;
    }
    return -1;
  }
  rcy_error err = {0};
  if (rcy_store_location_from_config(out, a->config, &err)) {
    fprintf(stderr, "recistry %s: %s\n", command, err.message);
    return RCY_EXIT_FAIL;
  }
  if (a->dir && !same_folder(a->dir, out->archive_dir)) {
    fprintf(stderr,
            "recistry %s: --archive %s and --config %s name different archives (its [archive] path is %s): "
            "give one of them\n%s",
            command, a->dir, a->config, out->archive_dir, usage);
    rcy_store_location_free(out);
    return RCY_EXIT_USAGE;
  }
  return -1;
}

int rcy_cli_archive_open(rcy_store **out, const rcy_cli_archive *a, const char *command, const char *usage) {
  *out = NULL;
  rcy_store_location where;
  int ex = rcy_cli_archive_location(&where, a, command, usage);
  if (ex >= 0) return ex;
  rcy_error err = {0};
  rcy_store *store;
  if (rcy_store_open_at(&store, &where, &err)) {
    fprintf(stderr, "recistry %s: %s\n", command, err.message);
    ex = RCY_EXIT_FAIL;
  } else {
    *out = store;
  }
  rcy_store_location_free(&where);
  return ex;
}
