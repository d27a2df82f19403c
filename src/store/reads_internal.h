/* Helpers shared by the reading side of the store (reads*.c, users*.c, audit*.c). Not public. */
#ifndef RECISTRY_STORE_READS_INTERNAL_H
#define RECISTRY_STORE_READS_INTERNAL_H

#include <stddef.h>

#include "recistry/store.h"

/* Current UTC time as ISO 8601 with milliseconds: "2026-11-23T01:02:03.456Z" (buffer >= 32). */
void rcy_reads_now_iso(char *buf, size_t size);
/* Lowercase hex SHA-256 of data (out: 65 bytes). */
void rcy_reads_sha256_hex(char *out, const void *data, size_t len);
/* Lowercase hex of n random bytes (out: 2n + 1). Returns 0, or -1 when libsodium cannot initialise. */
int rcy_reads_random_hex(char *out, size_t n);

/* rcy_store_audit_append with the SHA-256 (hex) of the read document after the change (audit.c). */
int rcy_store_audit_append_doc(rcy_store *store, const rcy_audit_entry *e, const char *doc_sha256,
                               rcy_error *err);

#endif
