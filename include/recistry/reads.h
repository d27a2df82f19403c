/* Reads: the read model of the central imaging core — what the registry knows of each subject, the reads
 * (site, central, adjudicator) with their lesions, observations and sign-offs, who may see which read, and
 * the engine's JSON contract. Domain rules live here, never in an HTTP handler or a CLI command: the reader
 * workstation (readers/server) and `recistry reads|registry …` both call this module. */
#ifndef RECISTRY_READS_H
#define RECISTRY_READS_H

#include <stddef.h>
#include <stdio.h>

#include "recistry/error.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Section: subject registry data (src/reads/registry.c) ---- */

/* The indications of ../shared/spec/registry-endpoints.md, in the order endpoints are grouped by. */
extern const char *const rcy_registry_indications[];
extern const size_t rcy_registry_n_indications;

/* Checks one subject's registry values against the contract's rules (ids, ISO calendar dates not after
 * `today` — "YYYY-MM-DD", NULL for the current UTC day —, a known indication, no death or last contact before
 * the treatment start, a last contact date when there is no death date, ...). On failure err names the first
 * column at fault and what is wrong. */
int rcy_registry_check(const rcy_registry_subject *subject, const char *today, rcy_error *err);

/* `recistry registry import`: reads a registry CSV (UTF-8, optional BOM, RFC 4180; columns in
 * ../shared/spec/registry-endpoints.md, any order) and checks every row first — one line on `report` per
 * error, naming line, column and what is wrong. Only when no row is wrong are the rows stored, in one
 * transaction, each new or changed subject with its audit row (action registry.import, before and after).
 * *n_changed counts subjects new or changed, *n_rows the rows read. */
int rcy_registry_import(size_t *n_rows, size_t *n_changed, rcy_store *store, const char *path, const char *actor,
                        FILE *report, rcy_error *err);

/* The same reading and checking without an archive (`recistry endpoints --registry FILE.csv`): *rows
 * (malloc'ed, the caller frees it) holds every row when the file is valid; on any error nothing is returned,
 * each error is written to `report` and err counts them. The site is not checked against images. */
int rcy_registry_read_file(rcy_registry_subject **rows, size_t *n_rows, const char *path, FILE *report,
                           rcy_error *err);

/* The subject's row as compact JSON text (malloc'ed; the caller frees it; NULL when out of memory). Keys as
 * the CSV columns, dates null when not given, liver_only true/false/null, plus updated_at and updated_by. */
char *rcy_registry_subject_to_json(const rcy_registry_subject *subject);

#ifdef __cplusplus
}
#endif
#endif
