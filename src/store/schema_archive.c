/* Schema of the archive index: what the ingest daemon records and the reader workstation reads.
 * Step 2 is the contract between the two: add columns or tables in later steps, never rename these. */
#include "schema.h"

static const char *const steps[] = {
    /* 1: archive identity */
    "CREATE TABLE archive_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /* 2: studies, series, instances, QC findings */
    "CREATE TABLE studies ("
    "  study_uid TEXT PRIMARY KEY,"
    "  site_id TEXT NOT NULL,"          /* Clinical Trial Site ID, checked against the sending site */
    "  subject_id TEXT NOT NULL,"       /* Clinical Trial Subject ID (a trial code, not identity) */
    "  timepoint TEXT,"                 /* Clinical Trial Time Point ID: BL, FU1, ... */
    "  modality TEXT,"
    "  study_date TEXT,"                /* ISO YYYY-MM-DD */
    "  status TEXT NOT NULL DEFAULT 'receiving'"
    "    CHECK (status IN ('receiving', 'complete', 'qc-warning', 'quarantined')),"
    "  first_received_at TEXT NOT NULL," /* ISO 8601 UTC */
    "  last_received_at TEXT NOT NULL,"
    "  checked_at TEXT"
    ");"
    "CREATE INDEX studies_subject ON studies(subject_id, study_date);"
    "CREATE INDEX studies_site ON studies(site_id);"
    "CREATE TABLE series ("
    "  series_uid TEXT PRIMARY KEY,"
    "  study_uid TEXT NOT NULL REFERENCES studies(study_uid),"
    "  modality TEXT,"
    "  series_number INTEGER,"
    "  description TEXT,"
    "  frame_of_reference_uid TEXT"
    ");"
    "CREATE INDEX series_study ON series(study_uid);"
    "CREATE TABLE instances ("
    "  sop_instance_uid TEXT PRIMARY KEY,"
    "  series_uid TEXT NOT NULL REFERENCES series(series_uid),"
    "  sop_class_uid TEXT NOT NULL,"
    "  transfer_syntax_uid TEXT NOT NULL,"
    "  instance_number INTEGER,"
    "  path TEXT NOT NULL UNIQUE,"      /* relative to DIR/storage */
    "  size_bytes INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"           /* lowercase hex of the whole file */
    "  rows INTEGER,"
    "  columns INTEGER,"
    "  pixel_spacing_row_mm REAL,"      /* Pixel Spacing[0]: between rows */
    "  pixel_spacing_col_mm REAL,"      /* Pixel Spacing[1]: between columns */
    "  slice_thickness_mm REAL,"
    "  position_x_mm REAL, position_y_mm REAL, position_z_mm REAL," /* Image Position (Patient) */
    "  orientation TEXT,"               /* Image Orientation (Patient): 6 values, backslash-separated */
    "  window_center REAL, window_width REAL,"
    "  received_at TEXT NOT NULL"
    ");"
    "CREATE INDEX instances_series ON instances(series_uid);"
    "CREATE TABLE qc_findings ("
    "  id INTEGER PRIMARY KEY,"
    "  study_uid TEXT NOT NULL REFERENCES studies(study_uid),"
    "  series_uid TEXT,"
    "  code TEXT NOT NULL,"             /* slice_gap, spacing_inconsistent, thick_slices, orientation_mixed, ... */
    "  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),"
    "  message TEXT NOT NULL"
    ");"
    "CREATE INDEX qc_findings_study ON qc_findings(study_uid);",

    /* 3: instances kept aside by the anonymisation check, and the audit of every association */
    "CREATE TABLE quarantine ("
    "  id INTEGER PRIMARY KEY,"
    "  sop_instance_uid TEXT NOT NULL,"
    "  study_uid TEXT,"
    "  site_id TEXT NOT NULL,"
    "  subject_id TEXT,"                /* only when it matched the site's pattern (never a real identifier) */
    "  path TEXT NOT NULL UNIQUE,"      /* relative to DIR/quarantine */
    "  size_bytes INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"           /* attribute names that failed, never their values */
    "  received_at TEXT NOT NULL"
    ");"
    "CREATE INDEX quarantine_study ON quarantine(study_uid);"
    "CREATE TABLE associations ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id TEXT,"
    "  calling_ae TEXT NOT NULL,"
    "  called_ae TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  tls INTEGER NOT NULL DEFAULT 0,"
    "  outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),"
    "  reason TEXT,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  aborted INTEGER,"
    "  n_stored INTEGER NOT NULL DEFAULT 0,"
    "  n_duplicates INTEGER NOT NULL DEFAULT 0,"
    "  n_refused INTEGER NOT NULL DEFAULT 0,"
    "  n_failed INTEGER NOT NULL DEFAULT 0,"
    "  last_refusal TEXT"
    ");"
    "CREATE INDEX associations_site ON associations(site_id, started_at);",

    /* 4: every UID level has one owner and one parent for good: a study never changes site or subject, a
     * series never changes study, an instance never changes series (the ingest refuses such an instance;
     * these make the index itself refuse it, whoever writes). */
    "CREATE TRIGGER studies_owner_fixed BEFORE UPDATE OF site_id, subject_id ON studies"
    "  WHEN NEW.site_id IS NOT OLD.site_id OR NEW.subject_id IS NOT OLD.subject_id"
    "  BEGIN SELECT RAISE(ABORT, 'a study belongs to one site and one subject'); END;"
    "CREATE TRIGGER series_study_fixed BEFORE UPDATE OF study_uid ON series"
    "  WHEN NEW.study_uid IS NOT OLD.study_uid"
    "  BEGIN SELECT RAISE(ABORT, 'a series belongs to one study'); END;"
    "CREATE TRIGGER instances_series_fixed BEFORE UPDATE OF series_uid ON instances"
    "  WHEN NEW.series_uid IS NOT OLD.series_uid"
    "  BEGIN SELECT RAISE(ABORT, 'an instance belongs to one series'); END;",

    /* 5: the ingest daemon hashes a stored file after its Success (sha256 'pending' until then,
     * RCY_ARCHIVE_SHA256_PENDING); its start-up recovery lists the rows a crash left pending. A partial
     * index holds only those (a handful), so that listing them does not scan the whole table (2.5-4.7 s at
     * 10^6 instances, measured). */
    "CREATE INDEX instances_sha256_pending ON instances(sop_instance_uid) WHERE sha256 = 'pending';",

    /* 6: polling the sites' nodes (src/ingest/poll.c): one row per poll (what it found and did, never a
     * query value), and per site the state the next poll starts from (its date window, its back-off). */
    "CREATE TABLE polls ("
    "  id INTEGER PRIMARY KEY,"
    "  site_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('daemon', 'manual')),"
    "  started_at TEXT NOT NULL,"
    "  finished_at TEXT NOT NULL,"
    "  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'partial')),"
    "  n_matches INTEGER NOT NULL DEFAULT 0,"
    "  n_skipped INTEGER NOT NULL DEFAULT 0,"
    "  n_retrieved INTEGER NOT NULL DEFAULT 0,"   /* studies retrieved whole */
    "  n_instances INTEGER NOT NULL DEFAULT 0,"   /* instances the node reported completed */
    "  n_refused INTEGER NOT NULL DEFAULT 0,"     /* matches never retrieved: subject not the site's pattern */
    "  error TEXT,"
    "  next_attempt_at TEXT"
    ");"
    "CREATE INDEX polls_site ON polls(site_id, started_at);"
    "CREATE TABLE poll_sites ("
    "  site_id TEXT PRIMARY KEY,"
    "  last_success_at TEXT,"
    "  last_outcome TEXT,"
    "  last_finished_at TEXT,"
    "  last_error TEXT,"
    "  next_attempt_at TEXT,"
    "  failures_in_row INTEGER NOT NULL DEFAULT 0"
    ");",
};

/* PostgreSQL's texts of the steps its driver cannot translate (NULL translates steps[i]): step 4's
 * triggers (SQLite's WHEN ... RAISE(ABORT) form). rcy_refuse() refuses with SQLSTATE 23000
 * (integrity_constraint_violation), which the driver reports as RCY_ECONFLICT, as SQLite reports a trigger's
 * RAISE(ABORT); schema_reads.c's append-only tables use it too. */
static const char *const pg_steps[RCY_SCHEMA_N_STEPS(steps)] = {
    [3] = /* 4 */
    "CREATE FUNCTION rcy_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';"
    " END $$;"
    "CREATE TRIGGER studies_owner_fixed BEFORE UPDATE OF site_id, subject_id ON studies FOR EACH ROW"
    "  WHEN (NEW.site_id IS DISTINCT FROM OLD.site_id OR NEW.subject_id IS DISTINCT FROM OLD.subject_id)"
    "  EXECUTE FUNCTION rcy_refuse('a study belongs to one site and one subject');"
    "CREATE TRIGGER series_study_fixed BEFORE UPDATE OF study_uid ON series FOR EACH ROW"
    "  WHEN (NEW.study_uid IS DISTINCT FROM OLD.study_uid)"
    "  EXECUTE FUNCTION rcy_refuse('a series belongs to one study');"
    "CREATE TRIGGER instances_series_fixed BEFORE UPDATE OF series_uid ON instances FOR EACH ROW"
    "  WHEN (NEW.series_uid IS DISTINCT FROM OLD.series_uid)"
    "  EXECUTE FUNCTION rcy_refuse('an instance belongs to one series');",
};

const rcy_schema_part rcy_schema_archive = {"archive", steps, pg_steps, RCY_SCHEMA_N_STEPS(steps)};
