/* Schema of the reading side: reads, lesions, measurements, users, sessions, audit log. */
#include "schema.h"

static const char *const steps[] = {
    /* 1: reading schema version marker; the reader workstation adds its tables as further steps */
    "CREATE TABLE reads_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /* 2: users, sessions, reads (one JSON document per subject, role and reader), append-only audit log.
     * A read is edited as a whole (lesions with their per-timepoint observations and sign-offs) inside one
     * transaction that also appends its audit row, so a document is the natural unit; TEXT keeps the schema
     * portable to PostgreSQL (jsonb there). */
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('central', 'adjudicator', 'site', 'qa', 'admin')),"
    "  site_id TEXT,"
    "  password_hash TEXT NOT NULL," /* crypto_pwhash_str (argon2id) */
    "  created_at TEXT NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  token_sha256 TEXT PRIMARY KEY," /* the token itself is only in the browser's cookie */
    "  user_name TEXT NOT NULL REFERENCES users(name),"
    "  csrf_token TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"   /* unix seconds */
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE reads ("
    "  id INTEGER PRIMARY KEY,"
    "  subject_id TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('site', 'central', 'adjudicator')),"
    "  reader TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"             /* JSON: lesions, observations, sign-offs (docs/api.md) */
    "  updated_at TEXT NOT NULL,"
    "  UNIQUE (subject_id, role, reader)"
    ");"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  subject_id TEXT, read_role TEXT, reader TEXT, timepoint TEXT, lesion_id TEXT,"
    "  before_json TEXT, after_json TEXT, reason TEXT,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ");"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
};

const rcy_schema_part rcy_schema_reads = {"reads", steps, sizeof steps / sizeof steps[0]};
