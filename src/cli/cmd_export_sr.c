/* `recistry export sr`: DICOM SR Measurement Reports (TID 1500) of the site reads or the final central reads,
 * optionally sent to a PACS by C-STORE. Thin: src/qa/sr_export.c selects and builds, src/dicom/ writes and
 * sends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_args.h"
#include "commands.h"
#include "export.h"
#include "options.h"
#include "recistry/dicom.h"
#include "recistry/qa.h"
#include "recistry/store.h"

static const char usage[] =
    "usage: recistry export sr --archive DIR|--config FILE --reader site|central --out DIR\n"
    "                         [--send HOST:PORT:AET]\n"
    "  One DICOM SR Imaging Measurement Report (TID 1500) per read and signed timepoint, written to DIR as\n"
    "  <subject>_<role>_<reader>_<timepoint>.dcm; with --send also stored to that node (C-STORE, calling AE\n"
    "  RECISTRY). Exit: 0 ok, 1 failure, 2 usage.\n";

/* HOST:PORT:AET; host may not contain ':' (use a name or an IPv4 address). */
static int parse_send(char *host, size_t hlen, int *port, char *aet, size_t alen, const char *s) {
  const char *a = strchr(s, ':'), *b = a ? strchr(a + 1, ':') : NULL;
  if (!a || !b || a == s || (size_t)(a - s) >= hlen || !b[1] || strlen(b + 1) >= alen || strlen(b + 1) > 16)
    return -1;
  char *end;
  long p = strtol(a + 1, &end, 10);
  if (end != b || p <= 0 || p > 65535) return -1;
  memcpy(host, s, (size_t)(a - s));
  host[a - s] = 0;
  strcpy(aet, b + 1);
  *port = (int)p;
  return 0;
}

int rcy_export_sr(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *reader = NULL, *out = NULL, *send = NULL;
  const rcy_cli_option options[] = {
      RCY_CLI_ARCHIVE_OPTIONS(&a),
      {"--reader", "site|central", 1, &reader, NULL},
      {"--out", "DIR", 1, &out, NULL},
      {"--send", "HOST:PORT:AET", 0, &send, NULL},
  };
  int ex = rcy_cli_parse("export sr", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (ex >= 0) return ex;
  char host[256], aet[32];
  int port = 0;
  if (strcmp(reader, "site") != 0 && strcmp(reader, "central") != 0) {
    fprintf(stderr, "recistry export sr: --reader must be site or central\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  if (send && parse_send(host, sizeof host, &port, aet, sizeof aet, send)) {
    fprintf(stderr, "recistry export sr: --send wants HOST:PORT:AET (AE title at most 16 characters)\n%s",
            usage);
    return RCY_EXIT_USAGE;
  }
  rcy_store *store = NULL;
  if ((ex = rcy_cli_archive_open(&store, &a, "export sr", usage)) >= 0) return ex;
  if (mkdir(out, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "recistry export sr: cannot create %s: %s\n", out, strerror(errno));
    rcy_store_close(store);
    return RCY_EXIT_FAIL;
  }
  rcy_error err = {0};
  char **paths = NULL;
  size_t n = 0, sent = 0;
  int rc = rcy_qa_sr_export(&paths, &n, store, reader, out, &err);
  if (!rc) {
    for (size_t i = 0; i < n; i++)
      printf("%s\n", paths[i]);
    fprintf(stderr, "recistry export sr: %zu report(s) in %s\n", n, out);
  }
  if (!rc && send && n) {
    rc = rcy_dicom_store_files(&sent, host, port, aet, "RECISTRY", (const char *const *)paths, n, &err);
    fprintf(stderr, "recistry export sr: %zu of %zu sent to %s\n", sent, n, send);
  }
  rcy_qa_sr_paths_free(paths, n);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry export sr: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}
