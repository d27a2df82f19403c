/* Schema of the archive index: what the ingest daemon records. */
#include "schema.h"

static const char *const steps[] = {
    /* 1: archive identity */
    "CREATE TABLE archive_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

const rcy_schema_part rcy_schema_archive = {"archive", steps, sizeof steps / sizeof steps[0]};
