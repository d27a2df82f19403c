/* Schema of the subject registry data: what the registry knows of each subject beyond the images
 * (../shared/spec/registry-endpoints.md). Its own component so that it migrates independently of the
 * archive index and the reads. */
#include "schema.h"

static const char *const steps[] = {
    /* 1: one row per subject; dates ISO YYYY-MM-DD, NULL when not given. A re-import replaces the row
     * (the audit log keeps what it was). */
    "CREATE TABLE registry_subjects ("
    "  subject_id TEXT PRIMARY KEY,"
    "  site_id TEXT NOT NULL,"
    "  treatment_start TEXT NOT NULL,"
    "  indication TEXT NOT NULL CHECK (indication IN ('first_line', 'consolidation', 'intensification',"
    "    'salvage', 'ablation_combination', 'other')),"
    "  liver_only INTEGER CHECK (liver_only IN (0, 1)),"
    "  death_date TEXT,"
    "  last_contact_date TEXT,"
    "  secondary_resection_date TEXT,"
    "  updated_at TEXT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  CHECK (death_date IS NOT NULL OR last_contact_date IS NOT NULL)"
    ");",
};

/* PostgreSQL's texts of the steps its driver cannot translate (none set yet: NULL translates steps[i]). */
static const char *const pg_steps[RCY_SCHEMA_N_STEPS(steps)] = {NULL};

const rcy_schema_part rcy_schema_registry = {"registry", steps, pg_steps, RCY_SCHEMA_N_STEPS(steps)};
