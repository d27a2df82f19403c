/* CSV files as sites and registries send them: RFC 4180 (quoted fields, doubled quotes, newlines inside
 * quotes) parsed by libcsv, UTF-8 with or without a byte-order mark. Every row comes with the line it starts
 * on, so that an import can name the line of each error. */
#ifndef RECISTRY_CSV_H
#define RECISTRY_CSV_H

#include <stddef.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest CSV file read (bytes): registries and site reads are thousands of rows, never hundreds of MB. */
#define RCY_CSV_MAX_BYTES (64u * 1024u * 1024u)

/* Called once per row (the header included) with its fields, NUL-terminated, and the 1-based line on which
 * the row starts. Blank lines are skipped. A non-zero return stops the read and is returned. */
typedef int (*rcy_csv_row_fn)(void *ctx, long line, size_t n_fields, char *const *fields);

/* Reads path row by row. Fails (RCY_EINVAL, naming the file and line) on: a file that is not UTF-8 (or holds
 * a NUL byte), a quote left open at the end, a stray quote inside an unquoted field, an empty file.
 * RCY_ENOTFOUND / RCY_EIO when the file cannot be read. */
int rcy_csv_read_file(const char *path, rcy_csv_row_fn fn, void *ctx, rcy_error *err);
/* The same over a buffer in memory (name is used in messages). */
int rcy_csv_read_buffer(const char *name, const char *data, size_t size, rcy_csv_row_fn fn, void *ctx,
                        rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
