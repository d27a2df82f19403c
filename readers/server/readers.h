/* The reader workstation, seen from the `recistry` program: the HTTP server (`recistry serve`), reads
 * export/import (`recistry reads`) and indexing files from disk. Everything else in readers/server is
 * internal (server_internal.h). */
#ifndef RECISTRY_READERS_H
#define RECISTRY_READERS_H

#include <stdio.h>

#include "recistry/error.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcy_readers_config {
  char *archive_dir;  /* [archive] path */
  char *database;     /* [archive] database: a PostgreSQL URI; NULL: DIR/recistry.db (or DIR/database.url's) */
  char *bind;         /* [http] bind (default 127.0.0.1) */
  int port;           /* [http] port (default 8080; 0 = any free port, printed at start) */
  char *web_root;     /* [http] web_root (default: share/recistry/web next to the program) */
  int session_ttl_s;  /* [http] session_ttl_s (default 28800) */
  int threads;        /* [http] threads (default 4) */
  char *dose_voi_dir;    /* [dose] voi_dir: DIR/<subject>/<voi>.nrrd label maps for the dose view; NULL: none */
  char *dose_thresholds; /* [dose] thresholds: the INI with [dose_threshold NAME] sections; NULL: no flags */
  char *dose_cohort_dir; /* [dose] cohort_dir: the cohort tables of GET /api/dose-response; NULL: none */
} rcy_readers_config;

/* Reads [archive], [http] and [dose] voi_dir/thresholds/cohort_dir of the INI file (other sections belong to other components and are ignored). */
int rcy_readers_config_load(rcy_readers_config *out, const char *path, rcy_error *err);
void rcy_readers_config_free(rcy_readers_config *cfg);
/* The archive the configuration names, for rcy_store_open_at (the strings stay the configuration's). */
rcy_store_location rcy_readers_config_location(const rcy_readers_config *cfg);

/* Serves until SIGINT/SIGTERM. Prints "listening on http://HOST:PORT/" on stdout once ready. */
int rcy_readers_serve(const rcy_readers_config *cfg, rcy_error *err);

/* Copies the DICOM file at src under the archive's storage and indexes it (the row ingest would write). */
int rcy_readers_index_file(rcy_store *store, const char *src, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
