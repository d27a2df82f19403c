/* `recistry verify --archive DIR`: every index row against its file and every file against the index. */
#include "commands.h"

#include "recistry/ingest.h"

#include <stdio.h>
#include <string.h>

static void print_line(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
}

int rcy_cmd_verify(int argc, char **argv) {
  const char *archive = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc) archive = argv[++i];
    else if (strcmp(argv[i], "--help") == 0) {
      printf("usage: recistry verify --archive DIR\n"
             "Checks every indexed instance against its file (size, SHA-256) and every file under\n"
             "DIR/storage against the index. Prints each mismatch; exit 1 if there is any.\n");
      return RCY_EXIT_OK;
    } else {
      fprintf(stderr, "recistry verify: unexpected argument '%s'\nusage: recistry verify --archive DIR\n", argv[i]);
      return RCY_EXIT_USAGE;
    }
  }
  if (!archive) {
    fprintf(stderr, "recistry verify: --archive DIR is required\n");
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  int n = 0;
  if (rcy_ingest_verify(&n, archive, print_line, NULL, &err)) {
    fprintf(stderr, "recistry verify: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  if (n) {
    fprintf(stderr, "recistry verify: %d mismatch(es)\n", n);
    return RCY_EXIT_FAIL;
  }
  printf("archive %s: index and storage agree\n", archive);
  return RCY_EXIT_OK;
}
