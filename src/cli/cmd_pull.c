/* `recistry pull`: one poll of a site's node by hand (C-FIND of the site's registry subjects, then C-GET or
 * C-MOVE of what the archive lacks), one study by its UID, or `pull status`: the daemon's polling per site.
 * The rules are src/ingest/poll.c's and pull.c's. */
#include "commands.h"
#include "options.h"

#include "recistry/ingest.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void print_line(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
}

static int pull_status(int argc, char **argv) {
  static const char usage[] =
      "usage: recistry pull status --config FILE\n"
      "Per site: polling on/off, interval, last successful poll, last outcome, next attempt, failures in a row.\n";
  const char *config = NULL;
  const rcy_cli_option options[] = {{"--config", "FILE", 1, &config, NULL}};
  int parsed = rcy_cli_parse("pull status", usage, options, 1, argc, argv);
  if (parsed >= 0) return parsed;
  rcy_error err = {0};
  rcy_ingest_config *cfg;
  if (rcy_ingest_config_load(&cfg, config, &err)) {
    fprintf(stderr, "recistry pull status: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int rc = rcy_ingest_poll_status(cfg, print_line, NULL, &err);
  rcy_ingest_config_free(cfg);
  if (rc) {
    fprintf(stderr, "recistry pull status: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}

int rcy_cmd_pull(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "status") == 0) return pull_status(argc - 1, argv + 1);
  static const char usage[] =
      "usage: recistry pull --config FILE --site ID [--subject ID] [--since YYYY-MM-DD] [--study UID]\n"
      "       recistry pull status --config FILE\n"
      "Without --study: one poll of the site's node ([site:ID] pacs = host:port:AE), as the daemon does every\n"
      "poll_interval: C-FIND of the site's registry subjects (Patient ID from subject_pattern's prefix) since the\n"
      "last successful poll, then retrieval of the studies the archive lacks. --subject ID: that subject only\n"
      "(it must match subject_pattern); --since DATE: the window's start. Either leaves the site's polling state\n"
      "as it was. --study UID: that one study.\n"
      "Retrieval is C-GET, or C-MOVE to our AE when the site has retrieve = move (the daemon must then be running).\n"
      "`pull status`: the polling state of every site.\n";
  const char *config = NULL, *site = NULL, *study = NULL, *subject = NULL, *since = NULL;
  const rcy_cli_option options[] = {{"--config", "FILE", 1, &config, NULL},
                                    {"--site", "ID", 1, &site, NULL},
                                    {"--study", "UID", 0, &study, NULL},
                                    {"--subject", "ID", 0, &subject, NULL},
                                    {"--since", "YYYY-MM-DD", 0, &since, NULL}};
  int parsed = rcy_cli_parse("pull", usage, options, 5, argc, argv);
  if (parsed >= 0) return parsed;
  if (study && (subject || since)) {
    fprintf(stderr, "recistry pull: --study cannot be combined with --subject or --since\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  rcy_ingest_config *cfg;
  if (rcy_ingest_config_load(&cfg, config, &err)) {
    fprintf(stderr, "recistry pull: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  signal(SIGPIPE, SIG_IGN); /* a node closing its socket is an error to report, not a reason to die */
  int rc;
  int failed = 0;
  if (study) {
    int stored = 0, refused = 0;
    rc = rcy_ingest_pull(&stored, &refused, cfg, site, study, &err);
    printf("site %s study %s: %d instance(s) stored, %d refused\n", site, study, stored, refused);
    failed = refused != 0;
  } else {
    rcy_ingest_poll_result r;
    rcy_ingest_poll_options o = {subject, since, NULL};
    rc = rcy_ingest_poll_site(&r, cfg, site, &o, &err);
    if (!rc) {
      printf("site %s: poll %s: %d matched, %d skipped (complete), %d retrieved (%d instances), %d refused (not a"
             " registry subject), %d failed\n",
             site, r.outcome, r.n_matches, r.n_skipped, r.n_retrieved, r.n_instances, r.n_refused, r.n_failed);
      if (r.error[0]) fprintf(stderr, "recistry pull: %s\n", r.error);
      failed = strcmp(r.outcome, "ok") != 0;
    }
  }
  rcy_ingest_config_free(cfg);
  if (rc) {
    fprintf(stderr, "recistry pull: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  return failed ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
