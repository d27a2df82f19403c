/* `recistry init --archive DIR [--database URI]` or `recistry init --config FILE`: create an empty archive —
 * the folder and the index's schema, in DIR/recistry.db or in the PostgreSQL database named. */
#include "commands.h"

#include "archive_args.h"
#include "options.h"
#include "recistry/store.h"

#include <stdio.h>

static const char usage[] =
    "usage: recistry init --archive DIR [--database URI]\n"
    "       recistry init --config FILE\n"
    "Creates the archive: DIR/storage/ and the index, DIR/recistry.db (SQLite, WAL) or, with a database\n"
    "(--database postgresql://... or the config's [archive] database), the schema in that empty PostgreSQL\n"
    "database and DIR/database.url. With --config, DIR is the config's [archive] path. Refuses an existing\n"
    "archive.\n";

int rcy_cmd_init(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *database = NULL;
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a), {"--database", "URI", 0, &database, NULL}};
  int rc = rcy_cli_parse("init", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (rc >= 0) return rc;
  if (database && a.config) {
    fprintf(stderr, "recistry init: --database goes with --archive; with --config the database is the config's "
                    "[archive] database\n%s", usage);
    return RCY_EXIT_USAGE;
  }
  rcy_store_location where;
  if ((rc = rcy_cli_archive_location(&where, &a, "init", usage)) >= 0) return rc;
  if (database) where.database = database;
  rcy_error err = {0};
  rc = rcy_store_init_at(&where, &err);
  if (database) where.database = NULL; /* not ours to free */
  if (rc) fprintf(stderr, "recistry init: %s\n", err.message);
  else printf("archive created at %s\n", where.archive_dir);
  rcy_store_location_free(&where);
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
