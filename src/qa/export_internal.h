/* What the SDTM export (sdtm.c) and the flat CSV (flat_csv.c) share: the reads an export covers, each with
 * its engine result and what the archive knows of its subject, and a small CSV table written with libcsv.
 * Private to src/qa/. */
#ifndef RECISTRY_QA_EXPORT_INTERNAL_H
#define RECISTRY_QA_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "recistry/error.h"
#include "recistry/reads.h"
#include "recistry/store.h"

/* One read of one subject, as exported. */
typedef struct export_read {
  char subject_id[RCY_NAME_MAX + 1], site_id[RCY_NAME_MAX + 1];
  char role[16], reader[RCY_NAME_MAX + 1];
  char position[8];       /* "" (site), "R1", "R2", "R3"…, "ADJ" (adjudicator) */
  char acceptance[16];    /* the final central read's basis; "" for any other read */
  bool accepted;          /* the subject's final central read */
  json_t *input;          /* engine input, signed timepoints only (owned) */
  json_t *result;         /* the engine's output on it (owned) */
  rcy_timepoint_list tps; /* the subject's timepoints in the archive (modality per timepoint) */
  bool has_registry;
  rcy_registry_subject registry;
} export_read;

typedef struct export_reads {
  export_read *items;
  size_t n;
} export_reads;

/* The reads of `which`: "site" (the site reads), "central" (every central reader's read with a signed
 * baseline and the adjudicator's read when it is final; the final central read flagged accepted), or "all"
 * (both). Only signed timepoints (rcy_review_reads). Ordered by subject, then site, R1, R2, …, adjudicator.
 */
int export_reads_collect(export_reads *out, rcy_store *store, const char *which, rcy_error *err);
void export_reads_free(export_reads *r);

/* Days from `from` to `to` (ISO dates); false when either does not parse. */
bool export_days_between(int *days, const char *from, const char *to);
/* A number as text: up to 4 decimals, trailing zeros dropped ("43.4", "5", "-12.3457"). */
void export_number(char *buf, size_t size, double v);

/* A table of text cells, written as RFC 4180 CSV (every field quoted by libcsv's csv_fwrite). */
typedef struct export_table {
  size_t n_cols;
  const char *const *cols;
  char **cells; /* n_rows × n_cols, malloc'ed strings or NULL (empty) */
  size_t n_rows, cap;
} export_table;
void export_table_init(export_table *t, const char *const *cols, size_t n_cols);
/* Appends an empty row; returns its index or -1 when out of memory. */
long export_table_row(export_table *t);
/* Sets cell (row, column named col) to a copy of value (NULL or "" leaves it empty). RCY_EINTERNAL for an
 * unknown column, RCY_ENOMEM. */
int export_table_set(export_table *t, long row, const char *col, const char *value);
const char *export_table_get(const export_table *t, size_t row, const char *col);
int export_table_write(const export_table *t, const char *path, rcy_error *err);
void export_table_free(export_table *t);
/* Writes one CSV record of n fields to f. */
int export_csv_record(FILE *f, const char *const *fields, size_t n);

#endif
