/* An archive's location read from the INI configuration ingest and serve share: [archive] path (the
 * folder of instance files, and of recistry.db with SQLite) and [archive] database (a PostgreSQL URI). */
#include "recistry/store.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rcy_store_location *loc;
  int nomem;
  char unknown[64]; /* the first unknown [archive] key: a typo (databse) must not silently mean SQLite */
} reader;

static int on_key(void *user, const char *section, const char *key, const char *value) {
  reader *r = user;
  if (strcmp(section, "archive") != 0) return 1;
  char **dst = NULL;
  if (strcmp(key, "path") == 0) dst = (char **)&r->loc->archive_dir;
  else if (strcmp(key, "database") == 0) dst = (char **)&r->loc->database;
  if (!dst) {
    if (strcmp(key, "sync") != 0 && !r->unknown[0]) snprintf(r->unknown, sizeof r->unknown, "%s", key);
    return 1; /* sync belongs to the daemon */
  }
  free(*dst);
  if (!(*dst = strdup(value))) r->nomem = 1;
  return 1;
}

int rcy_store_location_from_config(rcy_store_location *out, const char *config_path, rcy_error *err) {
  memset(out, 0, sizeof *out);
  reader r = {out, 0, ""};
  int line = ini_parse(config_path, on_key, &r);
  int rc = RCY_OK;
  if (line < 0) rc = rcy_error_set(err, RCY_ENOTFOUND, "config %s: cannot be read", config_path);
  else if (line > 0) rc = rcy_error_set(err, RCY_EINVAL, "config %s: line %d: not INI syntax", config_path, line);
  else if (r.nomem) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  else if (r.unknown[0])
    rc = rcy_error_set(err, RCY_EINVAL, "config %s: [archive] %s: unknown key (expected path, database or sync)",
                       config_path, r.unknown);
  else if (!out->archive_dir || !out->archive_dir[0])
    rc = rcy_error_set(err, RCY_EINVAL, "config %s: [archive] path is required", config_path);
  if (rc) rcy_store_location_free(out);
  return rc;
}

void rcy_store_location_free(rcy_store_location *where) {
  if (!where) return;
  free((char *)where->archive_dir);
  free((char *)where->database);
  where->archive_dir = where->database = NULL;
}
