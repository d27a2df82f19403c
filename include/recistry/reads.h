/* Reads: the read model of the central imaging core — what the registry knows of each subject, the reads
 * (site, central, adjudicator) with their lesions, observations and sign-offs, who may see which read, and
 * the engine's JSON contract. Domain rules live here, never in an HTTP handler or a CLI command: the reader
 * workstation (readers/server) and `recistry reads|registry …` both call this module. */
#ifndef RECISTRY_READS_H
#define RECISTRY_READS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "recistry/error.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Section: identifiers (src/reads/reads_io.c) ---- */

/* Subject, site IDs and timepoint labels: 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit (they
 * end up in URLs, file names and logs: never a path). */
int rcy_reads_valid_name(const char *s);
/* Lesion IDs (the workstation's rule): 1–16 of A-Z a-z 0-9 _ -. */
int rcy_reads_valid_lesion_id(const char *s);

/* ---- Section: subject registry data (src/reads/registry.c) ---- */

/* The indications of ../shared/spec/registry-endpoints.md, in the order endpoints are grouped by. */
extern const char *const rcy_registry_indications[];
extern const size_t rcy_registry_n_indications;

/* Checks one subject's registry values against the contract's rules (ids, ISO calendar dates not after
 * `today` — "YYYY-MM-DD", NULL for the current UTC day —, a known indication, no death or last contact before
 * the treatment start, a last contact date when there is no death date, ...). On failure err names the first
 * column at fault and what is wrong. */
int rcy_registry_check(const rcy_registry_subject *subject, const char *today, rcy_error *err);

/* `recistry registry import`: reads a registry CSV (UTF-8, optional BOM, RFC 4180; columns in
 * ../shared/spec/registry-endpoints.md, any order) and checks every row first — one line on `report` per
 * error, naming line, column and what is wrong. Only when no row is wrong are the rows stored, in one
 * transaction, each new or changed subject with its audit row (action registry.import, before and after).
 * *n_changed counts subjects new or changed, *n_rows the rows read. */
int rcy_registry_import(size_t *n_rows, size_t *n_changed, rcy_store *store, const char *path, const char *actor,
                        FILE *report, rcy_error *err);

/* The same reading and checking without an archive (`recistry endpoints --registry FILE.csv`): *rows
 * (malloc'ed, the caller frees it) holds every row when the file is valid; on any error nothing is returned,
 * each error is written to `report` and err counts them. The site is not checked against images. */
int rcy_registry_read_file(rcy_registry_subject **rows, size_t *n_rows, const char *path, FILE *report,
                           rcy_error *err);

/* The subject's row as compact JSON text (malloc'ed; the caller frees it; NULL when out of memory). Keys as
 * the CSV columns, dates null when not given, liver_only true/false/null, plus updated_at and updated_by. */
char *rcy_registry_subject_to_json(const rcy_registry_subject *subject);

/* src/reads/registry_edit.c: an administrator's edit of one subject's row (PUT /api/registry/{subject}). body:
 * {"treatment_start", "indication", "liver_only": true|false|null, "death_date", "last_contact_date",
 * "secondary_resection_date"} (dates "YYYY-MM-DD" or null), the site from the archive's images; checked by
 * rcy_registry_check; reason required (rcy_reads_reason). Stored with an audit row (registry.edit, before,
 * after, reason); *out is the stored row. RCY_EINVAL naming the field, RCY_ENOTFOUND without images. */
int rcy_registry_edit(rcy_registry_subject *out, rcy_store *store, const char *subject_id, const json_t *body,
                      const char *actor, const char *reason, rcy_error *err);

/* ---- Section: the engine's JSON contract (src/reads/engine_json.c) ----
 * JSON <-> engine structs: the input and output formats of shared/spec/recist-engine.md, parsed and printed
 * with jansson, shared by `recistry recist|concordance|endpoints`, the workstation and imports. The engine
 * itself (rcy_recist) never sees JSON. */

typedef struct rcy_recist_json_flags {
  bool lenient;         /* --lenient: baseline-rule violations become warnings */
  bool no_confirmation; /* --no-confirmation: overrides every subject's options.confirmation */
  bool unrounded;       /* --unrounded (concordance): statistics printed as computed, not rounded */
} rcy_recist_json_flags;

/* text: one subject (object) or an array of subjects. *out_text (malloc'ed, caller frees) is the result
 * object or array, pretty-printed when `pretty`. RCY_EINVAL with a message naming subject, timepoint and
 * lesion for any invalid input. */
int rcy_recist_json_evaluate(char **out_text, const char *text, size_t len,
                             const rcy_recist_json_flags *flags, bool pretty, rcy_error *err);

/* Two reads (each an object or an array of subjects) → the concordance report. */
int rcy_recist_json_concordance(char **out_text, const char *first, size_t first_len, const char *second,
                                size_t second_len, const rcy_recist_json_flags *flags, bool pretty,
                                rcy_error *err);

typedef struct rcy_recist_subject rcy_recist_subject;
typedef struct rcy_recist_result rcy_recist_result;

/* Parses text (one subject or an array) and evaluates each subject in turn into one reused result, for a
 * caller that needs the results and not their JSON (`recistry endpoints`). Before a subject is evaluated,
 * prepare (when non-NULL) may change it (e.g. set the registry's treatment start); after, visit sees the
 * result. A non-zero return from either stops the walk and is returned (err set by the callback).
 * Invalid input: RCY_EINVAL naming subject, timepoint and lesion, as rcy_recist_json_evaluate. */
int rcy_recist_json_each(const char *text, size_t len, const rcy_recist_json_flags *flags,
                         int (*prepare)(void *ctx, rcy_recist_subject *subject, rcy_error *err),
                         int (*visit)(void *ctx, const rcy_recist_subject *subject,
                                      const rcy_recist_result *result, rcy_error *err),
                         void *ctx, rcy_error *err);

/* Reads a whole file ("-" = stdin) into a NUL-terminated buffer the caller frees. */
int rcy_recist_json_read_file(char **out, size_t *out_len, const char *path, rcy_error *err);


/* ---- Section: the read model (src/reads/read_model.c, timepoints.c, visibility.c, engine.c) ----
 * A read is one JSON document per (subject, role, reader) (format in src/reads/read_model.c and docs/api.md);
 * these functions derive from it the API view, the engine input and the RECIST rule checks. */

/* Timepoints of a subject from the archive index, ordered by date (first = baseline). */
typedef struct rcy_timepoint {
  char timepoint[65], date[11], study_uid[65], modality[17], site_id[65];
} rcy_timepoint;
typedef struct rcy_timepoint_list {
  rcy_timepoint *items;
  size_t n;
} rcy_timepoint_list;
int rcy_reads_timepoints_load(rcy_timepoint_list *out, rcy_store *store, const char *subject_id, rcy_error *err);
void rcy_reads_timepoints_free(rcy_timepoint_list *l);
const rcy_timepoint *rcy_reads_timepoint_find(const rcy_timepoint_list *l, const char *timepoint);

/* read_model.c: the stored read document <-> the API view and the engine input. */
/* The API view of a read (GET /api/reads/{subject}): doc + timepoints + engine result + warnings. */
json_t *rcy_reads_view(rcy_store *store, const char *subject, const char *role, const char *reader,
                      const json_t *doc, const rcy_timepoint_list *tps);
/* nadir.c: sets "nadir_timepoint" on each of view's timepoints: the earlier timepoint with the smallest sum of
 * diameters in the view's engine output (ties: the earliest), null at baseline or without a complete sum. */
void rcy_reads_view_add_nadir(json_t *view);
/* volumetric.c: sets "volumetric": {"exploratory": true, "sum_ml", "change_from_baseline_pct", "targets"} on
 * each of view's timepoints — the sum of the targets' segmentation volumes (null unless every target has one;
 * a disappeared target counts 0) and its % change from baseline. Never used by the engine or endpoints. */
void rcy_reads_view_add_volumetric(json_t *view);
/* The engine's input for one subject; warnings (array, may be NULL) collect why follow-ups were left out.
 * NULL when the read has no baseline date. */
json_t *rcy_reads_engine_input(const char *subject, const json_t *doc, const rcy_timepoint_list *tps, json_t *warnings);
/* Baseline RECIST rule warnings (counts, sizes) appended to warnings. */
void rcy_reads_rule_warnings(const json_t *doc, const char *baseline_tp, json_t *warnings);
json_t *rcy_reads_find_lesion(const json_t *doc, const char *lesion_id);
/* Whether a lesion of `kind` may have `state` at a timepoint: 0, or 400 (not a state of that kind) / 422
 * (RECIST: a baseline target is measured, a baseline non-target is present, no new lesion at baseline) with
 * the message in msg. The one rule for POST …/lesions (initial state) and PUT … {"state"}. */
int rcy_reads_state_rule(const char *kind, const char *state, int at_baseline, char *msg, size_t size);
/* Whether lesion_id may be merged_into `into` at tp (the engine's merge rules: another target of the same
 * organ, not itself merged, no lesion merged into lesion_id): 0, or 422 with msg saying why. */
int rcy_reads_merge_rule(const json_t *doc, const char *tp, const char *lesion_id, const char *into, char *msg,
                        size_t size);
/* A user's reason for a change: surrounding white space trimmed into out (size > RCY_REASON_MAX). 1 when
 * real text is left; 0 when absent or blank (a reason required is then missing); -1 when longer than
 * RCY_REASON_MAX bytes or holding control characters other than tab and line breaks. */
#define RCY_REASON_MAX 1000
int rcy_reads_reason(char *out, size_t size, const char *given);
/* Loads the stored document, or a fresh empty one. */
int rcy_reads_load(json_t **doc_out, rcy_store *store, const char *subject, const char *role, const char *reader,
                  rcy_error *err);
int rcy_reads_save(rcy_store *store, const char *subject, const char *role, const char *reader, const json_t *doc,
                  const rcy_audit_entry *audit, rcy_error *err);

/* engine.c: the one place the RECIST engine is called. 0 and *out (the engine's output JSON), or an error
 * message in *error_out (malloc'ed). */
int rcy_reads_engine_run(json_t **out, char **error_out, const json_t *input);


/* The read a user writes: central/adjudicator their own (role = their role, reader = their name); site
 * users the site read (role "site", reader "site", shared by the site's users). 0 for qa/admin. */
int rcy_reads_own_read(const rcy_user *u, const char **role, const char **reader);
/* 1 when the user may see the subject: it has studies in the archive and, for a site user, they are the
 * user's site's. */
int rcy_reads_subject_visible(rcy_store *store, const rcy_user *user, const char *subject_id);
/* 1 when the user may see that read of the subject: the subject is visible and, for a user with a read of
 * their own, it is that read (readers are blinded to each other). */
int rcy_reads_read_visible(rcy_store *store, const rcy_user *user, const char *subject, const char *role,
                           const char *reader);
/* assignments.c: applies reader assignments to a worklist's subjects array (objects with "subject_id"): for
 * a central reader or adjudicator with assignments, only their assigned subjects stay; each of a reader's
 * subjects gets "assigned": true|false, each of QA's and admin's "readers": [names]. */
int rcy_reads_worklist_scope(json_t *subjects, rcy_store *store, const rcy_user *user, rcy_error *err);
/* assignments.c: assigns every subject that has no reader yet to `per_subject` (1 or 2) of the n readers in
 * turn (round robin over the list, in subject order; with 2, the first of each pair is R1), each subject with
 * an audit row (assignment.set), all in one transaction. Subjects already assigned keep their readers.
 * *out: [{"subject_id", "readers"}] of the subjects assigned now. RCY_EINVAL (per_subject, too few or repeated
 * names), RCY_ENOTFOUND (a name is no central or adjudicator account). */
int rcy_reads_assign_round_robin(json_t **out, rcy_store *store, const char *const *readers, size_t n,
                                 int per_subject, const char *actor, rcy_error *err);
/* "to_read" | "in_progress" | "signed" of a timepoint in a read document (doc may be NULL). */
const char *rcy_reads_tp_status(const json_t *doc, const char *timepoint);

/* ---- Section: what the workstation shows beside a read (src/reads/read_summary.c) ---- */

/* The states (JSON array of strings) a lesion of `kind` may take at a timepoint: those rcy_reads_state_rule
 * accepts. Menus offer exactly these, so a screen never offers what the server refuses. */
json_t *rcy_reads_allowed_states(const char *kind, int at_baseline);
/* Adds "allowed_states": {"<tp>": [...]} to every lesion of a view's lesions array (tps: first = baseline). */
void rcy_reads_view_add_allowed_states(json_t *lesions, const rcy_timepoint_list *tps);
/* Confirmation of the engine's output for `input`: {"required", "min_days", "unconfirmed_timepoints": [tps
 * whose overall CR/PR is better than the confirmed best overall response], "best_overall_response_unconfirmed":
 * the engine's best response without confirmation}. Runs the engine a second time; computes no response. */
json_t *rcy_reads_confirmation(const json_t *input, const json_t *engine);
/* The stored reads of subject (array of {"role","reader","doc"}), or of every subject when subject is NULL
 * (object subject -> array), ordered by role (site, central, adjudicator) then reader. */
int rcy_reads_of_subjects(json_t **out, rcy_store *store, const char *subject, rcy_error *err);
/* [{"role","reader","status"}] of those reads at a timepoint (status as rcy_reads_tp_status). */
json_t *rcy_reads_statuses(const json_t *reads, const char *timepoint);
/* A timepoint's status for someone who reads nothing (QA, admin), from rcy_reads_statuses: "signed" when at
 * least one read exists and every one is signed, "in_progress" when any read has begun, else "to_read". */
const char *rcy_reads_overall_status(const json_t *statuses);

/* ---- Section: reads in the engine's format, out of and into the archive (src/reads/reads_io.c) ---- */

/* Writes to out a JSON array of the subjects read by role (and reader when non-NULL) in the engine's input
 * format (shared/spec/recist-engine.md), each with two added keys, "role" and "reader". */
int rcy_reads_export(FILE *out, rcy_store *store, const char *role, const char *reader, rcy_error *err);

/* A site's subject_pattern (POSIX extended regex), from the ingest configuration. */
typedef struct rcy_reads_site_pattern {
  const char *site_id, *pattern;
} rcy_reads_site_pattern;

typedef struct rcy_reads_import_options {
  const char *role, *reader; /* the read the file holds ("site", "site") */
  const char *actor;         /* who imports, for the audit rows */
  int dry_run;               /* check everything, write nothing */
  const rcy_reads_site_pattern *sites; /* NULL: subject patterns unknown, not checked */
  size_t n_sites;
} rcy_reads_import_options;

/* Largest diameter an import accepts (mm): no lesion read by RECIST is half a metre long. */
#define RCY_READS_IMPORT_MAX_MM 500.0
#define RCY_READS_IMPORT_MAX_BYTES (64u << 20)

/* Imports site reads from a CSV or engine-input JSON file (format and rules in docs/api.md): all or
 * nothing. Every problem is written to report (one line each, naming the file and line, subject, timepoint,
 * lesion and field); returns RCY_EINVAL then, and nothing is written. */
int rcy_reads_import(size_t *n_subjects, rcy_store *store, const char *path,
                       const rcy_reads_import_options *options, FILE *report, rcy_error *err);
/* The same on a buffer already in memory; name is used in messages (the fuzz target's entry point). */
int rcy_reads_import_buffer(size_t *n_subjects, rcy_store *store, const char *name, const char *data, size_t len,
                              const rcy_reads_import_options *options, FILE *report, rcy_error *err);



/* ---- Section: independent central review (src/reads/review.c, review_pairs.c; docs/qa.md) ---- */

/* The archive's reading paradigm and adjudication rules (stored in the archive, changed by an admin). */
typedef struct rcy_review_settings {
  char paradigm[8];              /* "single" (default) | "double": two blinded central readers + adjudication */
  int pd_tolerance_days;         /* -1 (default): progression at a different timepoint triggers; else more than
                                    this many days between the two progression dates */
  bool trigger_overall_response; /* also trigger when any timepoint's overall response differs */
  char final_rule[4];            /* "r1" (default) | "r2": the read that stands when nothing triggers */
} rcy_review_settings;
int rcy_review_settings_load(rcy_review_settings *out, rcy_store *store, rcy_error *err);
json_t *rcy_review_settings_to_json(const rcy_review_settings *s);
/* Applies {"paradigm", "pd_tolerance_days", "trigger_overall_response", "final_rule"} (any subset), checked,
 * with an audit row (review.settings, before, after, reason — required). *out (may be NULL): the result. */
int rcy_review_settings_update(rcy_review_settings *out, rcy_store *store, const json_t *changes, const char *actor,
                               const char *reason, rcy_error *err);

/* A subject's central readers in order: the central accounts assigned to it, in the order the admin gave
 * them, then central readers with a read of it who were not assigned, in the order their reads were first
 * saved. The first is R1, the second R2. *out: JSON array of names. */
int rcy_review_readers(json_t **out, rcy_store *store, const char *subject, rcy_error *err);

/* A subject's review: {"subject_id", "paradigm", "readers": {"r1", "r2"}, "central_readers", "complete":
 * {"r1", "r2"}, "status", "reasons", "differences", "final": {"role", "reader", "basis"} | null, "adjudication":
 * the latest decision | null, "results": {"r1", "r2"} (engine outputs)}. status: single | awaiting_reads |
 * agreed | triggered | adjudicated | stale. reasons: bor_differs, pd_timepoint_differs,
 * overall_response_differs (when configured), reads_changed (a read changed after the decision). basis:
 * single | rule_r1 | rule_r2 | adjudicated. */
int rcy_review_subject(json_t **out, rcy_store *store, const rcy_review_settings *s, const char *subject,
                       rcy_error *err);
/* Calls fn with the review of every subject that has studies, in subject order. */
int rcy_review_each(rcy_store *store, const rcy_review_settings *s,
                    int (*fn)(void *ctx, const json_t *state, rcy_error *err), void *ctx, rcy_error *err);
/* The adjudication queue: [{"subject_id", "reasons", "readers", "status"}] of subjects triggered or stale. */
int rcy_review_queue(json_t **out, rcy_store *store, const rcy_review_settings *s, rcy_error *err);
/* The final central read of subject: role ("central" | "adjudicator") and reader; RCY_ENOTFOUND while there
 * is none (no central read; in double reading, until both reads are complete and any trigger adjudicated). */
int rcy_review_final_read(char role[16], char reader[RCY_NAME_MAX + 1], rcy_store *store, const rcy_review_settings *s,
                          const char *subject, rcy_error *err);

/* What an adjudicator's decision means; stored with it and in its audit row. */
#define RCY_ADJUDICATION_MEANING "I have reviewed both central reads and determine that this read stands"
/* The adjudicator's decision (the caller has checked the password, as for a sign-off): outcome "r1", "r2" or
 * "own" (their own read, which must have every timepoint signed), reason required. Only for a subject that is
 * triggered, stale or already adjudicated (a new decision replaces the old one; both stay in the history).
 * Stored with the SHA-256 of both central reads and an audit row (adjudication.decide), in one transaction.
 * RCY_EDENIED (not an adjudicator), RCY_EINVAL (outcome, reason), RCY_ECONFLICT (nothing to adjudicate, own read
 * incomplete). *state_out (may be NULL): the subject's review afterwards. */
int rcy_review_adjudicate(json_t **state_out, rcy_store *store, const rcy_user *user, const char *subject,
                          const char *outcome, const char *reason, rcy_error *err);

/* review_pairs.c: reads of the archive paired for concordance and endpoints, in the engine's input format (an
 * array of subjects with "role", "reader" and, for the final central read, "acceptance": basis) — only signed
 * timepoints, and a subject only when its baseline is signed. which: "site" (the site read), "central" (the
 * final central read, flagged RSACPTFL in exports), "r1", "r2" (in double reading only: each subject's first
 * and second central reader). */
int rcy_review_reads(json_t **out, rcy_store *store, const rcy_review_settings *s, const char *which, rcy_error *err);
/* lesion_match.c: the lesions of two reads of subject matched by location (patient mm of the caliper midpoint
 * or point where each was first recorded; closest first, within max(15 mm, 0.75 × the larger diameter)), or
 * by identical ID and organ when a read has no locations. *out: [{"r1": {lesion_id, kind, organ, timepoint,
 * position_mm} | null, "r2": … | null, "distance_mm": mm | null, "by": "location" | "label" | null}] — matched
 * pairs first, then each read's unmatched lesions. */
int rcy_review_match_lesions(json_t **out, rcy_store *store, const char *subject, const json_t *first,
                             const json_t *second, rcy_error *err);
/* `recistry concordance --archive DIR --pair site:central|r1:r2`: the file form's report on those reads, plus
 * "pair" and "paradigm"; unrounded as the file form's --unrounded. */
int rcy_review_concordance(char **out_text, rcy_store *store, const char *pair, bool unrounded, bool pretty,
                           rcy_error *err);

/* ---- Section: the treatment start a read is timed from (src/reads/treatment_start.c) ---- */

/* The engine input of rcy_reads_engine_input with the treatment start every read of the subject uses: the
 * registry's (rcy_store_registry_get) when it has the subject; else the read's own (an imported
 * treatment_start); else none, and the engine times from the baseline date. warnings (may be NULL) gets a
 * line when there is no registry row ("no registry data: timed from the baseline date (…)") or when the
 * read's own date differs from the registry's. *source (may be NULL): "registry" | "read" | "baseline".
 * NULL when the read has no complete baseline (as rcy_reads_engine_input). */
json_t *rcy_reads_engine_input_timed(const char **source, rcy_store *store, const char *subject, const json_t *doc,
                                     const rcy_timepoint_list *tps, json_t *warnings);

/* ---- Section: sign-off as an electronic signature (src/reads/signoff.c) ---- */

/* What a reader's signature of a timepoint means; stored in the sign-off and the audit row. */
#define RCY_SIGN_MEANING "I confirm these measurements and responses"

/* Whether tp of this read may be signed: 0; 404 (no such timepoint); or 422 with msg (a sentence for the
 * radiologist) when the timepoint is not complete — at baseline every target measured and at least one
 * lesion recorded; at a follow-up the baseline signed first and every target measured or given a state
 * (too small, disappeared, not evaluable, split, merged); every non-target given a state; every new lesion
 * recorded at tp given a state. Whether it is already signed, and the password, are the caller's. */
int rcy_reads_sign_check(const json_t *doc, const rcy_timepoint_list *tps, const char *tp, char *msg,
                         size_t size);
/* A sign-off record {"signed_by", "signed_at" (UTC ISO 8601), "meaning"} for doc["signoffs"][tp]. */
json_t *rcy_reads_signoff_new(const char *signed_by, const char *signed_at, const char *meaning);


/* ---- Section: image geometry for measurements and points (src/reads/image_geometry.c) ---- */

/* One archived image as a measurement needs it. */
typedef struct rcy_reads_image {
  char path[4200];                       /* absolute path of the file */
  int rows, columns;
  double spacing_row_mm, spacing_col_mm; /* Pixel Spacing (row, column) */
  double slice_thickness_mm;             /* 0 when unknown */
  double position_mm[3], orientation[6]; /* Image Position / Orientation (Patient) */
  int has_orientation;
} rcy_reads_image;

/* The instance sop as an image of `subject` at timepoint tp: RCY_ENOTFOUND with one message for an absent
 * instance and another subject's; RCY_EINVAL when it belongs to another timepoint or has no Pixel Spacing.
 * Rows/Columns come from the file when the index lacks them. */
int rcy_reads_image_load(rcy_reads_image *out, rcy_store *store, const char *sop, const char *subject,
                         const char *tp, rcy_error *err);
/* 1 when [col, row] lies on the image (pixel centres, half a pixel of margin). */
int rcy_reads_image_contains(const rcy_reads_image *img, const double p[2]);
/* Distance in mm between two image points (Pixel Spacing). */
double rcy_reads_image_distance_mm(const rcy_reads_image *img, const double a[2], const double b[2]);
/* Patient position in mm of an image point; RCY_EINVAL when the image has no orientation. */
int rcy_reads_image_patient_position(double mm[3], const rcy_reads_image *img, const double p[2]);

/* ---- Section: the audit-log viewer (src/reads/audit_view.c) ----
 * QA and admin read the audit log (GET /api/audit, `recistry audit list`); nobody with a read of their own
 * does: the log names every reader and holds their measurements, which would unblind central readers and
 * show site users other sites' subjects. */

/* 1 for qa and admin. */
int rcy_reads_audit_may_view(const rcy_user *user);

/* The viewer's filter, built from user-given text one parameter at a time. */
#define RCY_AUDIT_LIMIT_DEFAULT 100
typedef struct rcy_reads_audit_query {
  rcy_audit_filter filter;    /* what rcy_store_audit_query gets; strings point at the values given */
  char from[11], to[11];      /* the days given (YYYY-MM-DD) */
  char to_next[11];           /* the day after `to`: filter.at_before (the `to` day is included) */
} rcy_reads_audit_query;
void rcy_reads_audit_query_init(rcy_reads_audit_query *q);
/* Sets parameter `name` — subject, reader, action, from, to, before, limit — from value (NULL or "" leaves it
 * unset; value is not copied and must outlive q). RCY_EINVAL with err starting with the parameter's name and
 * saying what is allowed: subject an ID (rcy_reads_valid_name); reader 1-64 of A-Z a-z 0-9 . _ - : @ (accounts,
 * and os:NAME for command-line imports); action 1-64 of a-z 0-9 _ . starting with a letter (ending in '.':
 * every action with that prefix); from/to calendar days YYYY-MM-DD (UTC, both included; from not after to);
 * before a row number >= 1; limit 1-RCY_AUDIT_LIMIT_MAX. An unknown name is RCY_EINVAL too. */
int rcy_reads_audit_query_set(rcy_reads_audit_query *q, const char *name, const char *value, rcy_error *err);

/* One page of the log: {"entries": [{"seq","at","actor","action","subject_id","read_role","reader",
 * "timepoint","lesion_id","before","after","changes","reason"}], "next_before": seq | null, "actions": [...]}.
 * before/after are the stored JSON parsed (null when absent); "changes" lists the fields that differ,
 * [{"path": ["measurement","long_mm"], "before": 28.9, "after": 20.3}] (absent on one side: null), objects
 * compared key by key and arrays of scalars (points) as one value, at most RCY_AUDIT_CHANGES_MAX of them
 * ("changes_truncated": true beyond); "actions" the distinct actions under the subject, reader and dates
 * (the action menu). Newest first. */
#define RCY_AUDIT_CHANGES_MAX 200
int rcy_reads_audit_page(json_t **out, rcy_store *store, const rcy_reads_audit_query *q, rcy_error *err);
/* The fields that differ between two JSON values, as in "changes" above (before or after may be NULL). Sets
 * *truncated when more than RCY_AUDIT_CHANGES_MAX differ. */
json_t *rcy_reads_audit_changes(const json_t *before, const json_t *after, int *truncated);

#ifdef __cplusplus
}
#endif
#endif
