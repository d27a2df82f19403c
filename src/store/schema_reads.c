/* Schema of the reading side: reads, lesions, measurements, users, sessions, audit log. */
#include "schema.h"

static const char *const steps[] = {
    /* 1: reading schema version marker; the reader workstation adds its tables as further steps */
    "CREATE TABLE reads_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const rcy_schema_part rcy_schema_reads = {"reads", steps, sizeof steps / sizeof steps[0]};
