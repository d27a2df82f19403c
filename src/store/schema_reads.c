/* Schema of the reading side: reads, lesions, measurements, users, sessions, audit log. */
#include "schema.h"

/* The table definitions of steps 2, 3 and 5, shared by SQLite's text of each step and PostgreSQL's (which
 * differ only in their triggers and the backfill). */
#define READS_2_TABLES \
    "CREATE TABLE users (" \
    "  name TEXT PRIMARY KEY," \
    "  role TEXT NOT NULL CHECK (role IN ('central', 'adjudicator', 'site', 'qa', 'admin'))," \
    "  site_id TEXT," \
    "  password_hash TEXT NOT NULL," /* crypto_pwhash_str (argon2id) */ \
    "  created_at TEXT NOT NULL" \
    ");" \
    "CREATE TABLE sessions (" \
    "  token_sha256 TEXT PRIMARY KEY," /* the token itself is only in the browser's cookie */ \
    "  user_name TEXT NOT NULL REFERENCES users(name)," \
    "  csrf_token TEXT NOT NULL," \
    "  created_at INTEGER NOT NULL,"   /* unix seconds */ \
    "  expires_at INTEGER NOT NULL" \
    ");" \
    "CREATE TABLE reads (" \
    "  id INTEGER PRIMARY KEY," \
    "  subject_id TEXT NOT NULL," \
    "  role TEXT NOT NULL CHECK (role IN ('site', 'central', 'adjudicator'))," \
    "  reader TEXT NOT NULL," \
    "  doc TEXT NOT NULL,"             /* JSON: lesions, observations, sign-offs (docs/api.md) */ \
    "  updated_at TEXT NOT NULL," \
    "  UNIQUE (subject_id, role, reader)" \
    ");" \
    "CREATE TABLE audit_log (" \
    "  seq INTEGER PRIMARY KEY," \
    "  at TEXT NOT NULL," \
    "  actor TEXT NOT NULL," \
    "  action TEXT NOT NULL," \
    "  subject_id TEXT, read_role TEXT, reader TEXT, timepoint TEXT, lesion_id TEXT," \
    "  before_json TEXT, after_json TEXT, reason TEXT," \
    "  prev_hash TEXT NOT NULL," \
    "  hash TEXT NOT NULL" \
    ");"

#define READS_3_TABLES \
    "CREATE TABLE login_failures (" \
    "  kind TEXT NOT NULL CHECK (kind IN ('account', 'peer'))," \
    "  key TEXT NOT NULL," \
    "  failures INTEGER NOT NULL,"         /* consecutive failures (attempts in flight count as failures) */ \
    "  last_at INTEGER NOT NULL,"          /* unix seconds of the last failure */ \
    "  locked_until INTEGER NOT NULL DEFAULT 0," \
    "  PRIMARY KEY (kind, key)" \
    ");" \
    "CREATE TABLE key_images (" \
    "  id TEXT PRIMARY KEY,"               /* 32 hex: the file name under ARCHIVE/key-images */ \
    "  subject_id TEXT NOT NULL, role TEXT NOT NULL, reader TEXT NOT NULL" \
    ");"

#define READS_3_COLUMNS_INDEXES \
    "ALTER TABLE audit_log ADD COLUMN doc_sha256 TEXT;" \
    "CREATE INDEX audit_log_read ON audit_log(subject_id, read_role, reader, seq);"

#define READS_5_TABLES \
    "ALTER TABLE assignments ADD COLUMN position INTEGER;" \
    "CREATE TABLE adjudications (" \
    "  seq INTEGER PRIMARY KEY," \
    "  subject_id TEXT NOT NULL," \
    "  outcome TEXT NOT NULL CHECK (outcome IN ('r1', 'r2', 'own'))," \
    "  read_role TEXT NOT NULL CHECK (read_role IN ('central', 'adjudicator'))," \
    "  read_reader TEXT NOT NULL,"     /* the read that stands */ \
    "  triggers TEXT NOT NULL,"        /* JSON array: the reasons the subject was adjudicated */ \
    "  reason TEXT NOT NULL,"          /* the adjudicator's, mandatory */ \
    "  adjudicator TEXT NOT NULL," \
    "  signed_at TEXT NOT NULL,"       /* UTC, ISO 8601 */ \
    "  meaning TEXT NOT NULL," \
    "  r1_reader TEXT NOT NULL, r1_sha256 TEXT NOT NULL," /* the reads as they were decided on */ \
    "  r2_reader TEXT NOT NULL, r2_sha256 TEXT NOT NULL" \
    ");" \
    "CREATE INDEX adjudications_subject ON adjudications(subject_id, seq);"

static const char *const steps[] = {
    /* 1: reading schema version marker; the reader workstation adds its tables as further steps */
    "CREATE TABLE reads_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /* 2: users, sessions, reads (one JSON document per subject, role and reader), append-only audit log.
     * A read is edited as a whole (lesions with their per-timepoint observations and sign-offs) inside one
     * transaction that also appends its audit row, so a document is the natural unit; TEXT keeps the schema
     * portable to PostgreSQL (jsonb there). */
    READS_2_TABLES
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",

    /* 3: issue 9 hardening.
     * login_failures: failed logins per account and per peer address, durable so that neither a restart nor
     *   a flood of other names frees an account (login_guard.c has the policy).
     * key_images: which read a key image belongs to, so that it is served only to those who may see that read
     *   (backfilled from the documents' key_image_url: "/api/key-images/" is 16 characters).
     * audit_log.doc_sha256: the SHA-256 of the read document after the change, chained with the row, so that
     *   `audit verify` can compare the reads table with the log (a direct UPDATE of reads shows). */
    READS_3_TABLES
    "INSERT OR IGNORE INTO key_images(id, subject_id, role, reader)"
    "  SELECT substr(j.value, 17, 32), r.subject_id, r.role, r.reader"
    "  FROM (SELECT * FROM reads WHERE json_valid(doc)) r, json_tree(r.doc) j"
    "  WHERE j.key = 'key_image_url' AND j.type = 'text' AND j.value LIKE '/api/key-images/%.png';"
    READS_3_COLUMNS_INDEXES,

    /* 4: issue 10: which reader (central or adjudicator account) reads which subject, set by an admin
     * (PUT /api/assignments, audited as assignment.set). A subject may have several readers (double central
     * reads); a reader with at least one assignment sees only their assigned subjects in the worklist. */
    "CREATE TABLE assignments ("
    "  subject_id TEXT NOT NULL,"
    "  reader TEXT NOT NULL REFERENCES users(name),"
    "  assigned_by TEXT NOT NULL,"
    "  assigned_at TEXT NOT NULL," /* UTC, ISO 8601 */
    "  PRIMARY KEY (subject_id, reader)"
    ");"
    "CREATE INDEX assignments_reader ON assignments(reader, subject_id);",

    /* 5: issue 11: central review. position orders a subject's readers as the admin gave them (the first
     * central reader is R1, the second R2). adjudications holds each adjudicator's signed decision, newest
     * last; the latest row of a subject stands. Append-only, like the audit log. */
    READS_5_TABLES
    "CREATE TRIGGER adjudications_no_update BEFORE UPDATE ON adjudications"
    "  BEGIN SELECT RAISE(ABORT, 'adjudications are append-only'); END;"
    "CREATE TRIGGER adjudications_no_delete BEFORE DELETE ON adjudications"
    "  BEGIN SELECT RAISE(ABORT, 'adjudications are append-only'); END;",

    /* 6: issue 11, the audit-log viewer (rcy_store_audit_query): its filters by who (the actor, or the
     * reader whose read changed), by action (exact or a prefix range) and by date, newest first. The
     * subject filter uses audit_log_read (step 3). */
    "CREATE INDEX audit_log_actor ON audit_log(actor, seq);"
    "CREATE INDEX audit_log_reader ON audit_log(reader, seq);"
    "CREATE INDEX audit_log_action ON audit_log(action, seq);"
    "CREATE INDEX audit_log_at ON audit_log(at);",

    /* 7: issue 13: the DICOM SEG stored with each accepted semi-automatic measurement
     * (ARCHIVE/segmentations/<SOP Instance UID>.dcm) and the read it belongs to, so that it is served only to
     * those who may see that read, as key images are. Recorded in the transaction that saves the read. */
    "CREATE TABLE segmentations ("
    "  sop_instance_uid TEXT PRIMARY KEY," /* the SEG's own SOP Instance UID: its file name */
    "  subject_id TEXT NOT NULL, role TEXT NOT NULL, reader TEXT NOT NULL"
    ");",
};

/* PostgreSQL's texts of the steps its driver cannot translate (NULL translates steps[i]); the driver
 * translates these texts' column types too, so they share the tables above. Append-only tables refuse
 * UPDATE and DELETE through rcy_refuse() (schema_archive.c step 4) with SQLSTATE 23000, a conflict as
 * SQLite's RAISE(ABORT) is. Step 3 has no backfill: no PostgreSQL index existed before this schema, so its
 * reads table is empty when the step runs. */
#define REFUSE_UPDATE_DELETE(table, why) \
  "CREATE TRIGGER " table "_no_update BEFORE UPDATE ON " table \
  "  FOR EACH ROW EXECUTE FUNCTION rcy_refuse('" why "');" \
  "CREATE TRIGGER " table "_no_delete BEFORE DELETE ON " table \
  "  FOR EACH ROW EXECUTE FUNCTION rcy_refuse('" why "');"
static const char *const pg_steps[RCY_SCHEMA_N_STEPS(steps)] = {
    [1] = READS_2_TABLES REFUSE_UPDATE_DELETE("audit_log", "audit_log is append-only"),
    [2] = READS_3_TABLES READS_3_COLUMNS_INDEXES,
    [4] = READS_5_TABLES REFUSE_UPDATE_DELETE("adjudications", "adjudications are append-only"),
};

const rcy_schema_part rcy_schema_reads = {"reads", steps, pg_steps, RCY_SCHEMA_N_STEPS(steps)};
