/* QA: the jobs that turn reads and registry data into study results. Today: registry endpoints
 * (shared/spec/registry-endpoints.md, docs/endpoints.md) — OS, PFS and hepatic PFS by Kaplan–Meier, the
 * log-rank test across indications, response rates with exact confidence intervals, depth of response.
 *
 * Two layers in this header:
 *  - statistics (src/qa/stats_*.c): pure functions, no I/O, no globals. Each reproduces a named R function
 *    (survival::survfit, survdiff, binom.test, quantile type 7) and is checked against R in
 *    tests/integration/endpoints_r.sh. A missing value (a bound R prints as NA) is NAN.
 *  - endpoints (src/qa/endpoints*.c): one subject's times and events from the engine's result and the
 *    registry row, then the grouped statistics, their JSON (the contract) and a readable table. */
#ifndef RECISTRY_QA_H
#define RECISTRY_QA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recistry/error.h"
#include "recistry/recist.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Section: distributions (src/qa/stats_dist.c) ---------------------------------------------------- */

/* qnorm(0.975): R's zval for conf.int = 0.95 (survfit_confint), not the rounded 1.96. */
#define RCY_QA_Z975 1.959963984540054

/* Regularized lower / upper incomplete gamma P(a, x), Q(a, x) = 1 − P (a > 0, x ≥ 0); NAN outside. */
double rcy_qa_gamma_p(double a, double x);
double rcy_qa_gamma_q(double a, double x);
/* Upper tail of the chi-square distribution, R's pchisq(x, df, lower.tail = FALSE) (df > 0). */
double rcy_qa_chisq_upper(double x, double df);
/* Regularized incomplete beta I_x(a, b) (a, b > 0, 0 ≤ x ≤ 1), R's pbeta(x, a, b); NAN outside. */
double rcy_qa_beta_inc(double x, double a, double b);
/* Its inverse, R's qbeta(p, a, b): the x with I_x(a, b) = p (0 ≤ p ≤ 1). */
double rcy_qa_beta_inv(double p, double a, double b);

/* ---- Section: proportions and quantiles (src/qa/stats_binom.c, stats_quantile.c) --------------------- */

/* Clopper–Pearson exact interval of count/n at level conf (0.95), R's binom.test(count, n)$conf.int.
 * RCY_EINVAL when n is 0 or count > n. */
int rcy_qa_clopper_pearson(double *lower, double *upper, size_t count, size_t n, double conf, rcy_error *err);

/* R's quantile(x, p, type = 7) of sorted[0..n-1] (ascending): linear interpolation between order
 * statistics at h = (n − 1)p. NAN when n is 0. */
double rcy_qa_quantile7(const double *sorted, size_t n, double p);

/* ---- Section: Kaplan–Meier (src/qa/stats_km.c) ------------------------------------------------------- */

typedef struct rcy_qa_km_point {
  double t;
  size_t n_risk, n_event, n_censor;
  double surv;
  double std_err;      /* standard error of −log S (Greenwood); INFINITY once S = 0 (R: Inf) */
  double lower, upper; /* 95 % log-scale band, upper capped at 1; NAN when S = 0 (R: NA) */
} rcy_qa_km_point;

typedef struct rcy_qa_km {
  size_t n, events;
  rcy_qa_km_point *points; /* one per distinct time with an event or a censoring, increasing */
  size_t n_points;
  double median, median_lower, median_upper; /* as print.survfit: NAN when never reached */
} rcy_qa_km;

/* Kaplan–Meier of n (time ≥ 0, event) pairs, as survfit(Surv(time, event) ~ 1) with its defaults
 * (conf.type = "log", conf.int = 0.95). Ties: events before censorings at the same time. out is
 * overwritten (call rcy_qa_km_free on it after). RCY_EINVAL for a negative or non-finite time. */
int rcy_qa_km_compute(rcy_qa_km *out, const double *time, const bool *event, size_t n, rcy_error *err);
void rcy_qa_km_free(rcy_qa_km *km);

/* The median rule of print.survfit (survival's survmean: minmin): the first t where y[i] ≤ 0.5 (within
 * sqrt(DBL_EPSILON)); where y equals 0.5 there and falls lower later, the midpoint of that t and the first
 * t where it is lower. NAN values of y are skipped; NAN when y never reaches 0.5. */
double rcy_qa_km_median_of(const double *y, const double *t, size_t n);

/* The curve at time t, as summary(fit, times = t): the last point at or before t (S = 1, band [1, 1]
 * before the first), n_risk = subjects with time ≥ t. false (and *out untouched) when t is after the last
 * time (R's summary drops such times unless extend = TRUE). */
bool rcy_qa_km_at(rcy_qa_km_point *out, const rcy_qa_km *km, double t);

/* ---- Section: log-rank (src/qa/stats_logrank.c) ------------------------------------------------------ */

typedef struct rcy_qa_logrank {
  double chisq;
  int df;   /* groups with an expected count > 0, minus 1 */
  double p; /* upper chi-square tail; NAN when df is 0 */
  size_t n_groups;
  double *observed, *expected; /* per group (malloc'ed; rcy_qa_logrank_free) */
} rcy_qa_logrank;

/* survdiff(Surv(time, event) ~ group), rho = 0: O − E and the hypergeometric variance summed over the
 * distinct event times; groups whose expected count is 0 are dropped, then the first remaining one; chisq
 * = (O − E)ᵀ V⁻¹ (O − E) over the rest. group[i] < n_groups. RCY_EINVAL for a singular variance matrix. */
int rcy_qa_logrank_compute(rcy_qa_logrank *out, const double *time, const bool *event, const size_t *group,
                           size_t n, size_t n_groups, rcy_error *err);
void rcy_qa_logrank_free(rcy_qa_logrank *lr);

/* ---- Section: endpoints (src/qa/endpoints.c) --------------------------------------------------------- */

enum { RCY_QA_OS = 0, RCY_QA_PFS, RCY_QA_HPFS, RCY_QA_N_SURVIVAL };
extern const char *const rcy_qa_survival_names[RCY_QA_N_SURVIVAL]; /* "os", "pfs", "hpfs" */

/* Landmarks of the survival table: 6, 12 and 24 months of 365.25/12 = 30.4375 days. */
#define RCY_QA_N_LANDMARKS 3
extern const double rcy_qa_landmark_days[RCY_QA_N_LANDMARKS];  /* 182.625, 365.25, 730.5 */
extern const int rcy_qa_landmark_months[RCY_QA_N_LANDMARKS];   /* 6, 12, 24 */

/* What the endpoints need of one subject (no strings but the borrowed id). */
typedef struct rcy_qa_endpoint_subject {
  const char *subject_id; /* borrowed */
  size_t indication;      /* index into rcy_registry_indications */
  rcy_recist_response bor;
  bool ets_evaluable; /* ETS not null and in_window */
  bool ets20, ets30;
  bool has_dpr;
  double dpr_pct;
  int32_t time_to_nadir_days;
  double time[RCY_QA_N_SURVIVAL]; /* days from treatment start, ≥ 0 */
  bool event[RCY_QA_N_SURVIVAL];
} rcy_qa_endpoint_subject;

/* One subject's endpoints from the engine's result (evaluated with the registry's treatment start,
 * treatment_start_days) and its registry row, by the definitions of registry-endpoints.md. subject_id is
 * borrowed from the registry row. RCY_EINVAL (naming the subject) for an unknown indication or a date
 * that does not parse. */
int rcy_qa_endpoint_subject_make(rcy_qa_endpoint_subject *out, const rcy_recist_result *result,
                                 const rcy_registry_subject *registry, int32_t treatment_start_days,
                                 rcy_error *err);

typedef struct rcy_qa_rate {
  size_t count, n;
  double pct, lower_pct, upper_pct; /* NAN when n is 0 */
} rcy_qa_rate;

typedef struct rcy_qa_spread {
  size_t n;
  double median, q1, q3; /* type 7; NAN when n is 0 */
} rcy_qa_spread;

typedef struct rcy_qa_endpoint_group {
  const char *group; /* "all" or an indication (static strings) */
  size_t n;
  rcy_qa_rate orr, dcr, ets20, ets30;
  rcy_qa_spread dpr, time_to_nadir;
  rcy_qa_km survival[RCY_QA_N_SURVIVAL];
} rcy_qa_endpoint_group;

typedef struct rcy_qa_endpoints {
  rcy_qa_endpoint_group *groups; /* [0] is "all"; then one per indication present, in the contract's order */
  size_t n_groups;
  bool by_indication;
  rcy_qa_logrank logrank[RCY_QA_N_SURVIVAL]; /* only by_indication */
} rcy_qa_endpoints;

/* Groups the subjects ("all", then by indication when asked) and computes every statistic. */
int rcy_qa_endpoints_compute(rcy_qa_endpoints **out, const rcy_qa_endpoint_subject *subjects, size_t n,
                             bool by_indication, rcy_error *err);
void rcy_qa_endpoints_free(rcy_qa_endpoints *endpoints);

/* ---- Section: the analysed cohort (src/qa/cohort.c) --------------------------------------------------- */

/* The registry rows and the subjects with a read, matched by subject_id: the population of every endpoint
 * is the subjects with both (a registry row without a read counts in no endpoint; see n_unread). */
typedef struct rcy_qa_cohort rcy_qa_cohort;

/* Copies the rows. RCY_EINVAL naming a subject listed twice. */
int rcy_qa_cohort_new(rcy_qa_cohort **out, const rcy_registry_subject *rows, size_t n_rows, rcy_error *err);
void rcy_qa_cohort_free(rcy_qa_cohort *cohort);
/* The registry's treatment start for a read of subject_id, which the engine must use. *read_differs is
 * true when the read gave another one (has_read_start, read_start_days): the caller warns. RCY_EINVAL
 * naming the subject when the registry has no row for it or it was already read. */
int rcy_qa_cohort_treatment_start(int32_t *start_days, bool *read_differs, rcy_qa_cohort *cohort,
                                  const char *subject_id, bool has_read_start, int32_t read_start_days,
                                  rcy_error *err);
/* rcy_qa_cohort_treatment_start applied to a subject before the engine runs: sets its treatment start to the
 * registry's; warning (size >= 200) gets the sentence to show when the read's own start differed, else "". */
int rcy_qa_cohort_time_subject(rcy_qa_cohort *cohort, rcy_recist_subject *subject, char *warning, size_t size,
                               rcy_error *err);
/* Adds the engine's result of a subject already passed to rcy_qa_cohort_treatment_start. */
int rcy_qa_cohort_add(rcy_qa_cohort *cohort, const rcy_recist_result *result, rcy_error *err);
/* Registry rows with no read so far. */
size_t rcy_qa_cohort_n_unread(const rcy_qa_cohort *cohort);
/* rcy_qa_endpoints_compute over the subjects added. */
int rcy_qa_cohort_endpoints(rcy_qa_endpoints **out, const rcy_qa_cohort *cohort, bool by_indication,
                            rcy_error *err);

/* The registry row of a subject (NULL when the registry has none). */
const rcy_registry_subject *rcy_qa_cohort_row(const rcy_qa_cohort *cohort, const char *subject_id);

/* ---- Section: one endpoints run (src/qa/endpoints_run.c), shared by the CLI and the workstation ------- */

/* Receives each warning (a read's treatment start replaced by the registry's), without a trailing newline. */
typedef void (*rcy_qa_warn_fn)(void *ctx, const char *message);

/* The endpoints of reads_text (an array of subjects in the engine's input format) matched with the registry
 * rows: every rule of registry-endpoints.md (registry treatment start, a read without a row or a subject read
 * twice is RCY_EINVAL naming it). Each out-parameter may be NULL: *out the grouped endpoints, *n_unread the
 * registry rows without a read, *subjects a JSON array of rcy_qa_endpoint_subject_json, in the reads' order. */
int rcy_qa_endpoints_run(rcy_qa_endpoints **out, size_t *n_unread, json_t **subjects,
                         const rcy_registry_subject *rows, size_t n_rows, const char *reads_text, size_t len,
                         bool by_indication, rcy_qa_warn_fn warn, void *warn_ctx, rcy_error *err);
/* The archive form: the registry rows of the archive and the reads of rcy_review_reads (reader "site": the
 * site reads; "central": each subject's final central read). RCY_EINVAL for another reader. Each element of
 * *subjects also has "read": {"role", "reader"}, the stored read it comes from. */
int rcy_qa_endpoints_archive(rcy_qa_endpoints **out, size_t *n_unread, json_t **subjects, rcy_store *store,
                             const char *reader, bool by_indication, rcy_qa_warn_fn warn, void *warn_ctx,
                             rcy_error *err);
/* rcy_qa_endpoints_archive then rcy_qa_endpoints_to_json: `recistry endpoints --archive --json` and
 * GET /api/endpoints. */
int rcy_qa_endpoints_archive_json(char **out_text, rcy_store *store, const char *reader, bool by_indication,
                                  bool pretty, rcy_qa_warn_fn warn, void *warn_ctx, rcy_error *err);
/* Every registry row of the archive (malloc'ed; the caller frees *rows). */
int rcy_qa_registry_rows(rcy_registry_subject **rows, size_t *n_rows, rcy_store *store, rcy_error *err);

/* ---- Section: plot data per subject (src/qa/endpoint_subjects.c) -------------------------------------- */

/* The waterfall's value: the smallest change_from_baseline_pct over follow-ups 1.. up to and including the
 * first whose overall response is PD; *index its assessment. false when none has a complete sum. */
bool rcy_qa_best_change(double *pct, size_t *index, const rcy_recist_result *result);
/* One subject's plot data (docs/endpoints.md, "Plots"): {subject_id, site_id, indication, treatment_start,
 * best_overall_response, best_change_pct, best_change_timepoint, progression_day, hepatic_progression_day,
 * death_day, last_contact_day, secondary_resection_day, timepoints: [{timepoint, date, day, overall_response,
 * sum_mm, change_from_baseline_pct}], survival: {os|pfs|hpfs: {time_days, event}}, depth_of_response_pct,
 * ets_change_pct}; days from the registry's treatment start start_days. */
int rcy_qa_endpoint_subject_json(json_t **out, const rcy_recist_result *result, const rcy_registry_subject *row,
                                 int32_t start_days, rcy_error *err);

/* ---- Section: endpoints output (src/qa/endpoints_json.c, endpoints_table.c) -------------------------- */

/* The contract's JSON document (malloc'ed text; the caller frees it). reader: "site", "central" or NULL
 * (file form: printed as null). Numbers unrounded; missing values null. */
int rcy_qa_endpoints_to_json(char **out_text, const rcy_qa_endpoints *endpoints, const char *reader,
                             bool pretty, rcy_error *err);
/* The readable table: per group, rates with CI, DpR, then per survival endpoint events, median with CI and
 * survival with CI and n at risk at 6/12/24 months; the log-rank lines with --by. */
int rcy_qa_endpoints_print(FILE *out, const rcy_qa_endpoints *endpoints, const char *reader, rcy_error *err);

/* ---- Section: reader QC of independent central review (src/qa/reader_qc.c; docs/qa_reader_qc.md) ----- */

/* Reader QC of the archive (double reading; empty tables in single): {"paradigm", "adjudication": {"overall",
 * "by_pair": [{"r1", "r2", …}], "by_site": [{"site_id", …}]} — each row {"complete", "triggered",
 * "adjudicated", "rate" = triggered / complete, "rate_ci95" (Clopper–Pearson)}, "overall" also
 * "own_read_chosen"; "adjudicator_agreement": [{"reader", "adjudicated", "chosen", "rate", "rate_ci95"}];
 * "lesion_variability": {"overall", "by_pair": [{"r1", "r2", …}]} — each {"n", "lesions", "subjects",
 * "mean_difference_mm" (R1 − R2), "sd_mm", "loa_lower_mm", "loa_upper_mm",
 * "mean_abs_relative_difference_pct"}}. complete: both central reads complete (status agreed, triggered,
 * adjudicated or stale); triggered: the reads disagree on an adjudication trigger; lesion pairs: target
 * lesions matched by rcy_review_match_lesions, at every timepoint both readers signed and measured. Missing
 * values null. */
int rcy_qa_reader_qc(json_t **out, rcy_store *store, rcy_error *err);
/* The readable tables of rcy_qa_reader_qc's JSON (`recistry adjudication qc`). */
int rcy_qa_reader_qc_print(FILE *out, const json_t *qc);

/* ---- Section: exports (src/qa/sdtm.c, src/qa/flat_csv.c; docs/exports.md) -------------------------------- */

typedef struct rcy_qa_sdtm_options {
  const char *reader;      /* "site" | "central" */
  const char *study;       /* STUDYID, e.g. "CIREL" (USUBJID = STUDYID-subject_id) */
  const char *out_dir;     /* created when missing; tu.csv, tr.csv, rs.csv, define_*.csv written into it */
  const char *archive;     /* the archive's path, for define_provenance.csv */
  const char *exported_at; /* NULL: now (UTC ISO 8601) */
} rcy_qa_sdtm_options;

typedef struct rcy_qa_export_counts {
  size_t subjects, reads, tu, tr, rs; /* tu/tr/rs: records; the flat CSV counts its rows in tr */
} rcy_qa_export_counts;

/* CDISC SDTM TU, TR, RS of the archive's reads (site: the site read; central: every central reader's read, the
 * final central read flagged TUACPTFL/TRACPTFL/RSACPTFL = "Y"), signed timepoints only, with
 * define_variables.csv (dataset, variable, label, type, length, codelist, origin, role), define_codelists.csv
 * (codelist, term) and define_provenance.csv (archive, time, reader, counts). Responses are the engine's. */
int rcy_qa_sdtm_export(rcy_qa_export_counts *counts, rcy_store *store, const rcy_qa_sdtm_options *options,
                       rcy_error *err);

/* The value mappings of the SDTM export (NULL when the value has no term: no record, or TRSTAT NOT DONE). */
/* The CDISC LOC term of an organ (lymph node for any nodal lesion); NULL for an organ not in the list. */
const char *rcy_qa_sdtm_location(const char *organ, bool nodal);
/* Engine response (CR, PR, SD, PD, NE, NON_CR_NON_PD) → RS term (NON-CR/NON-PD); NULL for NONE or null. */
const char *rcy_qa_sdtm_response(const char *engine_response);
/* Lesion state (present, absent, unequivocal_progression, equivocal, unequivocal) → TUMSTATE term. */
const char *rcy_qa_sdtm_tumour_state(const char *engine_state);
/* Modality (CT, MR) → METHOD term (CT SCAN, MRI). */
const char *rcy_qa_sdtm_method(const char *modality);

/* The flat CSV for statisticians: one row per subject × read × timepoint × lesion (docs/exports.md lists the
 * columns). reader: "site", "central" (as the SDTM export) or "all". counts->tr receives the number of data
 * rows. */
int rcy_qa_flat_csv_export(rcy_qa_export_counts *counts, rcy_store *store, const char *reader, const char *path,
                           rcy_error *err);
/* ---- Section: DICOM SR export (src/qa/sr_export.c; docs/exports.md "DICOM SR (TID 1500)") ---- */

/* `recistry export sr`: one TID 1500 Measurement Report per read and signed timepoint of the reads `which`
 * selects ("site", or "central": each subject's final central read; rcy_review_reads), written to out_dir
 * (which must exist) as <subject>_<role>_<reader>_<timepoint>.dcm. *paths_out: the files written
 * (rcy_qa_sr_paths_free). A timepoint with no caliper or point on an archived image is skipped with a warning. */
int rcy_qa_sr_export(char ***paths_out, size_t *n_out, rcy_store *store, const char *which, const char *out_dir,
                     rcy_error *err);
void rcy_qa_sr_paths_free(char **paths, size_t n);
/* ---- Section: PDF reports (src/qa/report.c; docs/reports.md) ---------------------------------------- */

/* Which reads of a subject a report may show (the workstation passes its blinding rule; NULL: every read). */
typedef int (*rcy_qa_read_filter)(void *ctx, const char *role, const char *reader);

/* The per-subject report: header (registry data, trial IDs only), timeline, SOD over time for each read
 * shown, the responses per timepoint, BOR and progression of each read, the key images stored under
 * archive_dir/key-images, the sign-offs and the adjudication decision. RCY_ENOTFOUND when the subject has no
 * studies in the archive. */
int rcy_qa_report_subject(rcy_store *store, const char *archive_dir, const char *subject, const char *out_path,
                          rcy_qa_read_filter visible, void *ctx, rcy_error *err);

/* The cohort report of the archive: the endpoint tables of `recistry endpoints --reader` (site | central),
 * by indication when asked, Kaplan–Meier curves with numbers at risk, waterfall, spider and swimmer plots,
 * and in double reading the R1–R2 Bland–Altman plots. warnings (may be NULL) gets what
 * `recistry endpoints` warns about. */
int rcy_qa_report_cohort(rcy_store *store, const char *reader, bool by_indication, const char *out_path,
                         FILE *warnings, rcy_error *err);
/* The same from a registry CSV and reads in the engine's input format (the file form of endpoints). */
int rcy_qa_report_cohort_files(const char *registry_csv, const char *reads_json, bool by_indication,
                               const char *out_path, FILE *warnings, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
