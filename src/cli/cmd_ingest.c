/* `recistry ingest --config FILE`: run the DICOM receiving daemon in the foreground until SIGTERM/SIGINT. */
#include "commands.h"
#include "options.h"

#include "recistry/ingest.h"
#include "recistry/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile int stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

int rcy_cmd_ingest(int argc, char **argv) {
  static const char usage[] = "usage: recistry ingest --config FILE\n"
                              "Runs the DICOM receiving daemon (C-ECHO, C-STORE) in the foreground, logging to stderr.\n"
                              "SIGTERM or SIGINT: stop accepting, finish the associations in flight, exit 0.\n"
                              "The INI file is described in docs/ingest.md ([archive] path = DIR, and database =\n"
                              "postgresql://... for an index on PostgreSQL; default DIR/recistry.db).\n";
  const char *config = NULL;
  const rcy_cli_option options[] = {{"--config", "FILE", 1, &config, NULL}};
  int parsed = rcy_cli_parse("ingest", usage, options, 1, argc, argv);
  if (parsed >= 0) return parsed;
  rcy_error err = {0};
  rcy_ingest_config *cfg;
  if (rcy_ingest_config_load(&cfg, config, &err)) {
    fprintf(stderr, "recistry ingest: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  int rc = rcy_ingest_run(cfg, &stop_flag, &err);
  rcy_ingest_config_free(cfg);
  if (rc) {
    fprintf(stderr, "recistry ingest: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  rcy_log(RCY_LOG_INFO, "ingest", "stopped");
  return RCY_EXIT_OK;
}
