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
  char *bind;         /* [http] bind (default 127.0.0.1) */
  int port;           /* [http] port (default 8080; 0 = any free port, printed at start) */
  char *web_root;     /* [http] web_root (default: readers/web/dist of the source tree) */
  int session_ttl_s;  /* [http] session_ttl_s (default 28800) */
  int threads;        /* [http] threads (default 4) */
} rcy_readers_config;

/* Reads [archive] and [http] of the INI file (other sections belong to other components and are ignored). */
int rcy_readers_config_load(rcy_readers_config *out, const char *path, rcy_error *err);
void rcy_readers_config_free(rcy_readers_config *cfg);

/* Serves until SIGINT/SIGTERM. Prints "listening on http://HOST:PORT/" on stdout once ready. */
int rcy_readers_serve(const rcy_readers_config *cfg, rcy_error *err);

/* Writes to out a JSON array of the subjects read by role (and reader when non-NULL) in the engine's input
 * format (shared/spec/recist-engine.md), each with two added keys, "role" and "reader". */
int rcy_readers_export(FILE *out, rcy_store *store, const char *role, const char *reader, rcy_error *err);

/* A site's subject_pattern (POSIX extended regex), from the ingest configuration. */
typedef struct rcy_readers_site_pattern {
  const char *site_id, *pattern;
} rcy_readers_site_pattern;

typedef struct rcy_readers_import_options {
  const char *role, *reader; /* the read the file holds ("site", "site") */
  const char *actor;         /* who imports, for the audit rows */
  int dry_run;               /* check everything, write nothing */
  const rcy_readers_site_pattern *sites; /* NULL: subject patterns unknown, not checked */
  size_t n_sites;
} rcy_readers_import_options;

/* Largest diameter an import accepts (mm): no lesion read by RECIST is half a metre long. */
#define RCY_READS_IMPORT_MAX_MM 500.0
#define RCY_READS_IMPORT_MAX_BYTES (64u << 20)

/* Imports site reads from a CSV or engine-input JSON file (format and rules in docs/api.md): all or
 * nothing. Every problem is written to report (one line each, naming the file and line, subject, timepoint,
 * lesion and field); returns RCY_EINVAL then, and nothing is written. */
int rcy_readers_import(size_t *n_subjects, rcy_store *store, const char *path,
                       const rcy_readers_import_options *options, FILE *report, rcy_error *err);
/* The same on a buffer already in memory; name is used in messages (the fuzz target's entry point). */
int rcy_readers_import_buffer(size_t *n_subjects, rcy_store *store, const char *name, const char *data, size_t len,
                              const rcy_readers_import_options *options, FILE *report, rcy_error *err);

/* Copies the DICOM file at src under the archive's storage and indexes it (the row ingest would write). */
int rcy_readers_index_file(rcy_store *store, const char *src, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
