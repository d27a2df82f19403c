/* `recistry init --archive DIR`: create an empty archive. */
#include "commands.h"

#include "recistry/store.h"

#include <stdio.h>
#include <string.h>

int rcy_cmd_init(int argc, char **argv) {
  const char *archive = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc) archive = argv[++i];
    else if (strcmp(argv[i], "--help") == 0) {
      printf("usage: recistry init --archive DIR\n"
             "Creates DIR/recistry.db (SQLite, WAL) and DIR/storage/. Refuses an existing archive.\n");
      return RCY_EXIT_OK;
    } else {
      fprintf(stderr, "recistry init: unexpected argument '%s'\nusage: recistry init --archive DIR\n", argv[i]);
      return RCY_EXIT_USAGE;
    }
  }
  if (!archive) {
    fprintf(stderr, "recistry init: --archive DIR is required\n");
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  if (rcy_store_init(archive, &err)) {
    fprintf(stderr, "recistry init: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  printf("archive created at %s\n", archive);
  return RCY_EXIT_OK;
}
