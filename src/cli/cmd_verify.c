/* `recistry verify --archive DIR|--config FILE`: every index row against its file and every file against the index. */
#include "commands.h"
#include "archive_args.h"
#include "options.h"

#include "recistry/ingest.h"

#include <stdio.h>
#include <string.h>

static void print_line(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
}

static const char usage[] = "usage: recistry verify --archive DIR|--config FILE\n"
                            "Checks every indexed instance against its file (size, SHA-256) and every file under\n"
                            "DIR/storage against the index. Prints each mismatch; exit 1 if there is any.\n";

int rcy_cmd_verify(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a)};
  int parsed = rcy_cli_parse("verify", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_store_location where;
  if ((parsed = rcy_cli_archive_location(&where, &a, "verify", usage)) >= 0) return parsed;
  rcy_error err = {0};
  int n = 0, ex = RCY_EXIT_OK;
  if (rcy_ingest_verify(&n, &where, print_line, NULL, &err)) {
    fprintf(stderr, "recistry verify: %s\n", err.message);
    ex = RCY_EXIT_FAIL;
  } else if (n) {
    fprintf(stderr, "recistry verify: %d mismatch(es)\n", n);
    ex = RCY_EXIT_FAIL;
  } else {
    printf("archive %s: index and storage agree\n", where.archive_dir);
  }
  rcy_store_location_free(&where);
  return ex;
}
