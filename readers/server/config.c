/* The serve configuration: [archive] path and database, [http] bind/port/web_root/session_ttl_s/threads and
 * [dose]
 * voi_dir/thresholds (the dose view) and cohort_dir (the cohort page) from the INI file the ingest daemon also reads (it parses its own
 * sections; unknown sections and other [dose] keys are ignored here). */
#include "readers.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rcy_readers_config *cfg;
  char bad[256];
} parse_ctx;

static int set_str(char **dst, const char *v) {
  free(*dst);
  *dst = strdup(v);
  return *dst != NULL;
}

static int set_int(int *dst, const char *v, int lo, int hi) {
  char *end;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || n < lo || n > hi) return 0;
  *dst = (int)n;
  return 1;
}

static int on_entry(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *c = user;
  rcy_readers_config *cfg = c->cfg;
  int ok = 1;
  if (strcmp(section, "archive") == 0) {
    if (strcmp(name, "path") == 0) ok = set_str(&cfg->archive_dir, value);
    else if (strcmp(name, "database") == 0) ok = set_str(&cfg->database, value);
  } else if (strcmp(section, "http") == 0) {
    if (strcmp(name, "bind") == 0) ok = set_str(&cfg->bind, value);
    else if (strcmp(name, "port") == 0) ok = set_int(&cfg->port, value, 0, 65535);
    else if (strcmp(name, "web_root") == 0) ok = set_str(&cfg->web_root, value);
    else if (strcmp(name, "session_ttl_s") == 0) ok = set_int(&cfg->session_ttl_s, value, 60, 7 * 86400);
    else if (strcmp(name, "threads") == 0) ok = set_int(&cfg->threads, value, 1, 64);
    else {
      snprintf(c->bad, sizeof c->bad, "unknown key '%s' in [http]", name);
      return 0;
    }
  } else if (strcmp(section, "dose") == 0) {
    /* Other keys of [dose] may belong to `recistry dose`: ignored here. */
    if (strcmp(name, "voi_dir") == 0) ok = set_str(&cfg->dose_voi_dir, value);
    else if (strcmp(name, "thresholds") == 0) ok = set_str(&cfg->dose_thresholds, value);
    else if (strcmp(name, "cohort_dir") == 0) ok = set_str(&cfg->dose_cohort_dir, value);
  }
  if (!ok && !c->bad[0]) snprintf(c->bad, sizeof c->bad, "[%s] %s: invalid value '%s'", section, name, value);
  return ok;
}

int rcy_readers_config_load(rcy_readers_config *out, const char *path, rcy_error *err) {
  memset(out, 0, sizeof *out);
  out->port = 8080;
  out->session_ttl_s = 28800;
  out->threads = 4;
  parse_ctx c = {out, ""};
  int line = ini_parse(path, on_entry, &c);
  int rc = RCY_OK;
  if (line < 0) rc = rcy_error_set(err, RCY_EIO, "cannot read config %s", path);
  else if (line > 0)
    rc = rcy_error_set(err, RCY_EINVAL, "config %s line %d: %s", path, line, c.bad[0] ? c.bad : "syntax error");
  else if (!out->archive_dir) rc = rcy_error_set(err, RCY_EINVAL, "config %s: [archive] path is required", path);
  else if (!out->bind && !set_str(&out->bind, "127.0.0.1")) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc) rcy_readers_config_free(out);
  return rc;
}

void rcy_readers_config_free(rcy_readers_config *cfg) {
  free(cfg->archive_dir);
  free(cfg->database);
  free(cfg->bind);
  free(cfg->web_root);
  free(cfg->dose_voi_dir);
  free(cfg->dose_thresholds);
  free(cfg->dose_cohort_dir);
  memset(cfg, 0, sizeof *cfg);
}

rcy_store_location rcy_readers_config_location(const rcy_readers_config *cfg) {
  rcy_store_location where = {cfg->archive_dir, cfg->database};
  return where;
}
