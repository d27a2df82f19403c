/* `recistry pull --config FILE --site ID --study UID`: fetch a study from the site's node (C-GET, or C-MOVE
 * to our AE when the site says retrieve = move) through the same checks as the daemon. */
#include "commands.h"
#include "options.h"

#include "recistry/ingest.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int rcy_cmd_pull(int argc, char **argv) {
  static const char usage[] =
      "usage: recistry pull --config FILE --site ID --study UID\n"
      "Retrieves the study from the site's node ([site:ID] pacs = host:port:AE) with C-GET, or C-MOVE\n"
      "to our AE when the site has retrieve = move (the daemon must then be running).\n";
  const char *config = NULL, *site = NULL, *study = NULL;
  const rcy_cli_option options[] = {{"--config", "FILE", 1, &config, NULL},
                                    {"--site", "ID", 1, &site, NULL},
                                    {"--study", "UID", 1, &study, NULL}};
  int parsed = rcy_cli_parse("pull", usage, options, 3, argc, argv);
  if (parsed >= 0) return parsed;
  rcy_error err = {0};
  rcy_ingest_config *cfg;
  if (rcy_ingest_config_load(&cfg, config, &err)) {
    fprintf(stderr, "recistry pull: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int stored = 0, refused = 0;
  signal(SIGPIPE, SIG_IGN); /* a node closing its socket is an error to report, not a reason to die */
  int rc = rcy_ingest_pull(&stored, &refused, cfg, site, study, &err);
  rcy_ingest_config_free(cfg);
  printf("site %s study %s: %d instance(s) stored, %d refused\n", site, study, stored, refused);
  if (rc) {
    fprintf(stderr, "recistry pull: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  return refused ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
