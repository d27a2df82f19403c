/* `recistry init --archive DIR`: create an empty archive. */
#include "commands.h"

#include "options.h"
#include "recistry/store.h"

#include <stdio.h>

static const char usage[] = "usage: recistry init --archive DIR\n"
                            "Creates DIR/recistry.db (SQLite, WAL) and DIR/storage/. Refuses an existing archive.\n";

int rcy_cmd_init(int argc, char **argv) {
  const char *archive = NULL;
  const rcy_cli_option options[] = {{"--archive", "DIR", 1, &archive, NULL}};
  int rc = rcy_cli_parse("init", usage, options, 1, argc, argv);
  if (rc >= 0) return rc;
  rcy_error err = {0};
  if (rcy_store_init(archive, &err)) {
    fprintf(stderr, "recistry init: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  printf("archive created at %s\n", archive);
  return RCY_EXIT_OK;
}
