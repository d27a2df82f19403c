/* Schema migrations, per component. Each component (archive index, reads, ...) owns an ordered list of SQL
 * steps in its own schema_<component>.c; the store records in table schema_version how many steps of each
 * component have been applied, and applies the rest, in one transaction, when an archive is opened.
 * Steps are append-only: never edit a released step, add a new one. */
#ifndef RECISTRY_STORE_SCHEMA_H
#define RECISTRY_STORE_SCHEMA_H

#include <stddef.h>

typedef struct {
  const char *component;
  const char *const *steps; /* each a complete SQL script, in SQLite's dialect */
  /* n_steps entries in parallel with steps: PostgreSQL's own text of a step its driver cannot translate
   * from SQLite's (a trigger); NULL = translate steps[i] (src/store/db.h). */
  const char *const *pg_steps;
  size_t n_steps;
} rcy_schema_part;

/* The number of entries of a part's steps array (pg_steps is declared with as many). */
#define RCY_SCHEMA_N_STEPS(steps) (sizeof(steps) / sizeof((steps)[0]))

extern const rcy_schema_part rcy_schema_archive; /* schema_archive.c: studies, series, instances, QC, associations */
extern const rcy_schema_part rcy_schema_reads;   /* schema_reads.c: reads, lesions, measurements, users, audit */
extern const rcy_schema_part rcy_schema_registry; /* schema_registry.c: subjects' registry data */

#endif
