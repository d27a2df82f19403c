/* `recistry serve --config FILE`: the reader workstation over HTTP ([archive] path and database, [http]
 * bind/port). */
#include "commands.h"

#include "recistry/segment.h"
#include "options.h"

#include "readers.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: recistry serve --config FILE\n"
    "Serves the reader workstation (web UI + HTTP API, docs/api.md) until SIGINT/SIGTERM.\n"
    "FILE (INI, shared with `recistry ingest`):\n"
    "  [archive] path = DIR   database = postgresql://... (optional; default DIR/recistry.db)\n"
    "  [http]    bind = 127.0.0.1   port = 8080 (0: any free port)   web_root = DIR (built UI)\n"
    "            session_ttl_s = 28800   threads = 4\n";

int rcy_cmd_serve(int argc, char **argv) {
  const char *config = NULL;
  const rcy_cli_option options[] = {{"--config", "FILE", 1, &config, NULL}};
  int parsed = rcy_cli_parse("serve", usage, options, 1, argc, argv);
  if (parsed >= 0) return parsed;
  rcy_segment_process_setup(); /* one-click measurement: buffers stay in the heap between clicks */
  rcy_readers_config cfg;
  rcy_error err = {0};
  if (rcy_readers_config_load(&cfg, config, &err)) {
    fprintf(stderr, "recistry serve: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int rc = rcy_readers_serve(&cfg, &err);
  rcy_readers_config_free(&cfg);
  if (rc) {
    fprintf(stderr, "recistry serve: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}
