/* Small SQL helpers shared by the archive index files (archive*.c). Not public. */
#ifndef RECISTRY_STORE_ARCHIVE_INTERNAL_H
#define RECISTRY_STORE_ARCHIVE_INTERNAL_H

#include "store_internal.h"

/* Prepares sql on store, filling err naming `what` on failure. */
int rcy_archive_prepare(rcy_db_stmt **st, rcy_store *store, const char *sql, const char *what, rcy_error *err);
/* Binds a text or NULL. */
void rcy_archive_bind_text(rcy_db_stmt *st, int i, const char *v);
/* Binds a double when has, else NULL. */
void rcy_archive_bind_opt_double(rcy_db_stmt *st, int i, int has, double v);
/* Binds an int when has, else NULL. */
void rcy_archive_bind_opt_int(rcy_db_stmt *st, int i, int has, int v);
/* Steps a statement that returns no rows, finalizes it; fills err naming `what` on failure. */
int rcy_archive_step_done(rcy_db_stmt *st, rcy_store *store, const char *what, rcy_error *err);
/* Steps a cached statement (rcy_store_cached) that returns no rows, then resets it. */
int rcy_archive_step_done_cached(rcy_db_stmt *st, rcy_store *store, const char *what, rcy_error *err);
/* strdup of a column (NULL stays NULL); sets *oom on allocation failure. */
char *rcy_archive_column_dup(rcy_db_stmt *st, int col, int *oom);

#endif
