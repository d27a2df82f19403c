/* `recistry audit verify --archive DIR`: recompute the audit log's hash chain; exit 1 naming the first
 * broken row. */
#include "commands.h"
#include "options.h"

#include "recistry/store.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "usage: recistry audit verify --archive DIR\n"
                            "Recomputes the SHA-256 chain of the audit log. Exit 0 intact, 1 broken (first bad row named).\n";

int rcy_cmd_audit(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
    fputs(usage, stdout);
    return RCY_EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "verify") != 0) {
    fprintf(stderr, "recistry audit: expected the action 'verify'\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  const char *archive = NULL;
  const rcy_cli_option options[] = {{"--archive", "DIR", 1, &archive, NULL}};
  int parsed = rcy_cli_parse("audit verify", usage, options, 1, argc - 1, argv + 1);
  if (parsed >= 0) return parsed;
  rcy_store *store;
  rcy_error err = {0};
  if (rcy_store_open(&store, archive, &err)) {
    fprintf(stderr, "recistry audit: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  long long n = 0, bad = 0;
  int rc = rcy_store_audit_verify(&n, &bad, store, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry audit verify: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  printf("audit log intact: %lld row(s)\n", n);
  return RCY_EXIT_OK;
}
