/* How every archive command names its archive: `--archive DIR` (the folder; its index is DIR/recistry.db or
 * the PostgreSQL database DIR/database.url records) or `--config FILE` (the INI file ingest and serve read:
 * [archive] path and [archive] database). Exactly one is required; both are accepted only when they name the
 * same folder (then the config's database applies), because `reads import` has long taken the ingest config
 * next to --archive for the sites' subject patterns, and a config pointing elsewhere would be a silent
 * mix-up of two archives. */
#ifndef RECISTRY_CLI_ARCHIVE_ARGS_H
#define RECISTRY_CLI_ARCHIVE_ARGS_H

#include "recistry/store.h"

typedef struct {
  const char *dir;    /* --archive DIR */
  const char *config; /* --config FILE */
} rcy_cli_archive;

/* The two entries of an rcy_cli_option table (neither marked required: rcy_cli_archive_location checks). */
#define RCY_CLI_ARCHIVE_OPTIONS(a)                                                                            \
  {"--archive", "DIR", 0, &(a)->dir, NULL}, {"--config", "FILE", 0, &(a)->config, NULL}

/* The wording usage texts use for the pair. */
#define RCY_CLI_ARCHIVE_USAGE "--archive DIR|--config FILE"

/* 1 when --archive or --config was given (for commands with an archive form and a file form). */
int rcy_cli_archive_given(const rcy_cli_archive *a);

/* Resolves the location (free it with rcy_store_location_free). Returns -1 to go on, or the exit code after
 * printing "recistry COMMAND: ..." on stderr (with the usage for a usage error: neither or two archives). */
int rcy_cli_archive_location(rcy_store_location *out, const rcy_cli_archive *a, const char *command,
                             const char *usage);

/* Resolves the location and opens the store. Same return convention; *out is set only on -1. */
int rcy_cli_archive_open(rcy_store **out, const rcy_cli_archive *a, const char *command, const char *usage);

#endif
