/* Subject registry data: the rules of ../shared/spec/registry-endpoints.md and the all-or-nothing import of
 * the registry's CSV. The treatment start held here is the one every read of the subject gives the engine. */
#define _GNU_SOURCE /* qsort_r */
#include "recistry/reads.h"

#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recistry/csv.h"
#include "recistry/recist.h"

const char *const rcy_registry_indications[] = {"first_line",      "consolidation",        "intensification",
                                                "salvage",         "ablation_combination", "other"};
const size_t rcy_registry_n_indications = sizeof rcy_registry_indications / sizeof rcy_registry_indications[0];

static void today_iso(char out[11]) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A given date must be a real calendar day, not after today. *days receives it (unchanged when not given). */
static int check_date(int32_t *days, const char *column, const char *value, int required, int32_t today,
                      rcy_error *err) {
  if (!*value) return required ? rcy_error_set(err, RCY_EINVAL, "%s: required", column) : RCY_OK;
  rcy_error e = {0};
  if (rcy_recist_date_parse(days, value, &e))
    return rcy_error_set(err, RCY_EINVAL, "%s: '%s' is not an ISO date YYYY-MM-DD", column, value);
  if (*days > today) return rcy_error_set(err, RCY_EINVAL, "%s: %s is in the future", column, value);
  return RCY_OK;
}

int rcy_registry_check(const rcy_registry_subject *s, const char *today, rcy_error *err) {
  char now[11];
  if (!today) today_iso(now), today = now;
  int32_t today_days, start = 0, death = 0, contact = 0, resection = 0;
  if (rcy_recist_date_parse(&today_days, today, err)) return RCY_EINVAL;
  if (!*s->subject_id) return rcy_error_set(err, RCY_EINVAL, "subject_id: required");
  if (!rcy_reads_valid_name(s->subject_id))
    return rcy_error_set(err, RCY_EINVAL, "subject_id: must be 1-%d characters of A-Z a-z 0-9 . _ - starting "
                         "with a letter or digit", RCY_NAME_MAX);
  if (!*s->site_id) return rcy_error_set(err, RCY_EINVAL, "site_id: required");
  if (!rcy_reads_valid_name(s->site_id))
    return rcy_error_set(err, RCY_EINVAL, "site_id: must be 1-%d characters of A-Z a-z 0-9 . _ - starting with a "
                         "letter or digit", RCY_NAME_MAX);
  int rc;
  if ((rc = check_date(&start, "treatment_start", s->treatment_start, 1, today_days, err))) return rc;
  size_t i = 0;
  while (i < rcy_registry_n_indications && strcmp(s->indication, rcy_registry_indications[i])) i++;
  if (!*s->indication) return rcy_error_set(err, RCY_EINVAL, "indication: required");
  if (i == rcy_registry_n_indications)
    return rcy_error_set(err, RCY_EINVAL,
                         "indication: '%s' is not one of first_line, consolidation, intensification, salvage, "
                         "ablation_combination, other", s->indication);
  if (s->liver_only < -1 || s->liver_only > 1) return rcy_error_set(err, RCY_EINVAL, "liver_only: not yes or no");
  if ((rc = check_date(&death, "death_date", s->death_date, 0, today_days, err))) return rc;
  if ((rc = check_date(&contact, "last_contact_date", s->last_contact_date, !*s->death_date, today_days, err))) {
    if (!*s->last_contact_date) rcy_error_set(err, RCY_EINVAL, "last_contact_date: required when there is no death_date");
    return rc;
  }
  if ((rc = check_date(&resection, "secondary_resection_date", s->secondary_resection_date, 0, today_days, err)))
    return rc;
  if (*s->death_date && death < start)
    return rcy_error_set(err, RCY_EINVAL, "death_date: %s is before the treatment start %s", s->death_date,
                         s->treatment_start);
  if (*s->last_contact_date && contact < start)
    return rcy_error_set(err, RCY_EINVAL, "last_contact_date: %s is before the treatment start %s",
                         s->last_contact_date, s->treatment_start);
  if (*s->last_contact_date && *s->death_date && contact > death)
    return rcy_error_set(err, RCY_EINVAL, "last_contact_date: %s is after the death date %s", s->last_contact_date,
                         s->death_date);
  if (*s->secondary_resection_date && resection < start)
    return rcy_error_set(err, RCY_EINVAL, "secondary_resection_date: %s is before the treatment start %s",
                         s->secondary_resection_date, s->treatment_start);
  if (*s->secondary_resection_date && *s->death_date && resection > death)
    return rcy_error_set(err, RCY_EINVAL, "secondary_resection_date: %s is after the death date %s",
                         s->secondary_resection_date, s->death_date);
  return RCY_OK;
}

static json_t *date_or_null(const char *d) { return *d ? json_string(d) : json_null(); }

static json_t *subject_json(const rcy_registry_subject *s, int with_update) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "subject_id", s->subject_id, "site_id", s->site_id,
                        "treatment_start", s->treatment_start, "indication", s->indication, "liver_only",
                        s->liver_only < 0 ? json_null() : json_boolean(s->liver_only), "death_date",
                        date_or_null(s->death_date), "last_contact_date", date_or_null(s->last_contact_date),
                        "secondary_resection_date", date_or_null(s->secondary_resection_date));
  if (o && with_update) {
    json_object_set_new(o, "updated_at", json_string(s->updated_at));
    json_object_set_new(o, "updated_by", json_string(s->updated_by));
  }
  return o;
}

char *rcy_registry_subject_to_json(const rcy_registry_subject *s) {
  json_t *o = subject_json(s, 1);
  char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return text;
}

/* ---- import ---- */

enum { COL_SUBJECT, COL_SITE, COL_START, COL_INDICATION, COL_LIVER_ONLY, COL_DEATH, COL_CONTACT, COL_RESECTION,
       N_COLUMNS };
static const char *const column_names[N_COLUMNS] = {
    "subject_id", "site_id", "treatment_start", "indication", "liver_only", "death_date", "last_contact_date",
    "secondary_resection_date"};
/* last_contact_date is required per row when there is no death_date (rcy_registry_check), not as a column. */
static const int column_required[N_COLUMNS] = {1, 1, 1, 1, 0, 0, 0, 0};

typedef struct {
  const char *path, *today;
  FILE *report;
  rcy_store *store;
  int column_of[N_COLUMNS]; /* index of each known column in the file, -1 when absent */
  size_t n_fields;
  int header_ok;
  rcy_registry_subject *rows;
  long *lines;
  size_t n_rows, cap;
  int n_errors;
  int fatal; /* an error that makes further rows meaningless (bad header, store failure) */
  rcy_error store_err;
} import_ctx;

#define MAX_REPORTED 200

__attribute__((format(printf, 3, 4))) static void row_error(import_ctx *c, long line, const char *fmt, ...) {
  c->n_errors++;
  if (!c->report || c->n_errors > MAX_REPORTED) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(c->report, "%s line %ld: ", c->path, line);
  vfprintf(c->report, fmt, ap);
  fputc('\n', c->report);
  va_end(ap);
  if (c->n_errors == MAX_REPORTED) fprintf(c->report, "%s: further errors not listed\n", c->path);
}

static int on_header(import_ctx *c, long line, size_t n, char *const *fields) {
  for (int k = 0; k < N_COLUMNS; k++) c->column_of[k] = -1;
  c->n_fields = n;
  for (size_t i = 0; i < n; i++) {
    int k = 0;
    while (k < N_COLUMNS && strcmp(fields[i], column_names[k])) k++;
    if (k == N_COLUMNS) row_error(c, line, "unknown column '%s'", fields[i]);
    else if (c->column_of[k] >= 0) row_error(c, line, "column '%s' appears twice", fields[i]);
    else c->column_of[k] = (int)i;
  }
  for (int k = 0; k < N_COLUMNS; k++)
    if (column_required[k] && c->column_of[k] < 0) row_error(c, line, "required column '%s' is missing", column_names[k]);
  c->header_ok = c->n_errors == 0;
  return c->header_ok ? 0 : 1; /* stop: rows cannot be read without their columns */
}

static int copy_field(char *dst, size_t size, const char *value) {
  size_t n = strlen(value);
  if (n >= size) return -1;
  memcpy(dst, value, n + 1);
  return 0;
}

static int on_row(void *ctx, long line, size_t n, char *const *fields) {
  import_ctx *c = ctx;
  if (!c->header_ok) return on_header(c, line, n, fields);
  if (n != c->n_fields) {
    row_error(c, line, "%zu fields, the header has %zu", n, c->n_fields);
    return 0;
  }
  rcy_registry_subject s;
  memset(&s, 0, sizeof s);
  s.liver_only = -1;
  char *const dst[N_COLUMNS] = {s.subject_id, s.site_id, s.treatment_start, s.indication, NULL,
                                s.death_date, s.last_contact_date, s.secondary_resection_date};
  const size_t size[N_COLUMNS] = {sizeof s.subject_id, sizeof s.site_id, sizeof s.treatment_start,
                                  sizeof s.indication, 0, sizeof s.death_date, sizeof s.last_contact_date,
                                  sizeof s.secondary_resection_date};
  for (int k = 0; k < N_COLUMNS; k++) {
    if (c->column_of[k] < 0) continue;
    const char *v = fields[c->column_of[k]];
    if (k == COL_LIVER_ONLY) {
      if (strcmp(v, "yes") == 0) s.liver_only = 1;
      else if (strcmp(v, "no") == 0) s.liver_only = 0;
      else if (*v) {
        row_error(c, line, "liver_only: '%s' is not yes or no", v);
        return 0;
      }
    } else if (copy_field(dst[k], size[k], v)) {
      /* Never cut an identifier or a date: a value that does not fit is an error. */
      row_error(c, line, "%s: longer than %zu characters", column_names[k], size[k] - 1);
      return 0;
    }
  }
  rcy_error e = {0};
  if (rcy_registry_check(&s, c->today, &e)) {
    row_error(c, line, "%s", e.message);
    return 0;
  }
  /* The images decide which site a subject belongs to: a registry row may not move it to another. */
  int found = 0;
  char image_site[RCY_NAME_MAX + 1];
  if (c->store && rcy_store_subject_site(&found, image_site, c->store, s.subject_id, &c->store_err)) {
    c->fatal = 1;
    return 1;
  }
  if (found && strcmp(image_site, s.site_id)) {
    row_error(c, line, "site_id: %s, but the archive holds images of %s from site %s", s.site_id, s.subject_id,
              image_site);
    return 0;
  }
  if (c->n_rows == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    rcy_registry_subject *rows = realloc(c->rows, cap * sizeof *rows);
    long *lines = rows ? realloc(c->lines, cap * sizeof *lines) : NULL;
    if (rows) c->rows = rows;
    if (!lines) {
      rcy_error_set(&c->store_err, RCY_ENOMEM, "out of memory");
      c->fatal = 1;
      return 1;
    }
    c->lines = lines;
    c->cap = cap;
  }
  c->rows[c->n_rows] = s;
  c->lines[c->n_rows++] = line;
  return 0;
}

/* Who runs the command: the operating-system account (the audit log names a person, not "cli"). */
static void cli_actor(char *out, size_t size, const char *actor) {
  if (actor && *actor) {
    snprintf(out, size, "%s", actor);
    return;
  }
  struct passwd *pw = getpwuid(geteuid());
  snprintf(out, size, "os:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
}

static int same_values(const rcy_registry_subject *a, const rcy_registry_subject *b) {
  return strcmp(a->site_id, b->site_id) == 0 && strcmp(a->treatment_start, b->treatment_start) == 0 &&
         strcmp(a->indication, b->indication) == 0 && a->liver_only == b->liver_only &&
         strcmp(a->death_date, b->death_date) == 0 && strcmp(a->last_contact_date, b->last_contact_date) == 0 &&
         strcmp(a->secondary_resection_date, b->secondary_resection_date) == 0;
}

static int store_rows(size_t *n_changed, import_ctx *c, const char *actor, rcy_error *err) {
  int rc = rcy_store_begin(c->store, err);
  if (rc) return rc;
  char reason[600];
  snprintf(reason, sizeof reason, "registry import of %s", c->path);
  for (size_t i = 0; i < c->n_rows && !rc; i++) {
    rcy_registry_subject before;
    rcy_error e = {0};
    int r = rcy_store_registry_get(&before, c->store, c->rows[i].subject_id, &e);
    if (r && r != RCY_ENOTFOUND) {
      *err = e;
      rc = r;
      break;
    }
    if (!r && same_values(&before, &c->rows[i])) continue;
    json_t *after_j = subject_json(&c->rows[i], 0), *before_j = r ? NULL : subject_json(&before, 1);
    char *after = json_dumps(after_j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *before_text = before_j ? json_dumps(before_j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    rcy_audit_entry a = {.actor = actor, .action = "registry.import", .subject_id = c->rows[i].subject_id,
                         .before_json = before_text, .after_json = after, .reason = reason};
    rc = after ? rcy_store_registry_put(c->store, &c->rows[i], &a, err) : rcy_error_set(err, RCY_ENOMEM, "out of memory");
    free(after);
    free(before_text);
    json_decref(after_j);
    json_decref(before_j);
    if (!rc) (*n_changed)++;
  }
  if (!rc) rc = rcy_store_commit(c->store, err);
  else rcy_store_rollback(c->store);
  return rc;
}

static int by_subject_then_line(const void *a, const void *b, void *ctx) {
  const import_ctx *sort_ctx = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  int d = strcmp(sort_ctx->rows[i].subject_id, sort_ctx->rows[j].subject_id);
  return d ? d : (sort_ctx->lines[i] > sort_ctx->lines[j]) - (sort_ctx->lines[i] < sort_ctx->lines[j]);
}

/* One row per subject: sorted once (n log n: registries have tens of thousands of rows), each repeat named
 * with the line of the subject's first row. */
static void check_duplicates(import_ctx *c) {
  if (c->n_rows < 2) return;
  size_t *order = malloc(c->n_rows * sizeof *order);
  if (!order) {
    rcy_error_set(&c->store_err, RCY_ENOMEM, "out of memory");
    c->fatal = 1;
    return;
  }
  for (size_t i = 0; i < c->n_rows; i++) order[i] = i;
  qsort_r(order, c->n_rows, sizeof *order, by_subject_then_line, c);
  for (size_t k = 1, first = 0; k < c->n_rows; k++) {
    if (strcmp(c->rows[order[k]].subject_id, c->rows[order[first]].subject_id)) {
      first = k;
      continue;
    }
    row_error(c, c->lines[order[k]], "subject_id: %s is also on line %ld (one row per subject)",
              c->rows[order[k]].subject_id, c->lines[order[first]]);
  }
  free(order);
}

/* Reads and checks every row of path into c (rows kept only when the whole file is valid). */
static int read_registry(import_ctx *c, rcy_error *err) {
  int rc = rcy_csv_read_file(c->path, on_row, c, err);
  if (!rc && !c->fatal) check_duplicates(c);
  if (c->fatal) {
    *err = c->store_err;
    return c->store_err.code ? c->store_err.code : RCY_EINTERNAL;
  }
  if (rc > 0) rc = RCY_OK; /* the callback stopped at a bad header: counted as errors below */
  if (!rc && !c->header_ok && !c->n_errors) rc = rcy_error_set(err, RCY_EINVAL, "%s: no header row", c->path);
  if (!rc && c->n_errors)
    rc = rcy_error_set(err, RCY_EINVAL, "%s: %d error(s); nothing imported", c->path, c->n_errors);
  if (!rc && c->n_rows == 0) rc = rcy_error_set(err, RCY_EINVAL, "%s: a header but no subject rows", c->path);
  return rc;
}

int rcy_registry_read_file(rcy_registry_subject **rows, size_t *n_rows, const char *path, FILE *report,
                           rcy_error *err) {
  *rows = NULL;
  *n_rows = 0;
  char today[11];
  today_iso(today);
  import_ctx c = {.path = path, .today = today, .report = report};
  int rc = read_registry(&c, err);
  if (rc && strstr(err->message, "; nothing imported")) *strstr(err->message, "; nothing imported") = '\0';
  free(c.lines);
  if (rc) {
    free(c.rows);
    return rc;
  }
  *rows = c.rows;
  *n_rows = c.n_rows;
  return RCY_OK;
}

int rcy_registry_import(size_t *n_rows, size_t *n_changed, rcy_store *store, const char *path, const char *actor,
                        FILE *report, rcy_error *err) {
  *n_rows = *n_changed = 0;
  char today[11];
  today_iso(today);
  import_ctx c = {.path = path, .today = today, .report = report, .store = store};
  int rc = read_registry(&c, err);
  if (!rc) {
    char who[RCY_NAME_MAX + 8];
    cli_actor(who, sizeof who, actor);
    rc = store_rows(n_changed, &c, who, err);
    if (!rc) *n_rows = c.n_rows;
  }
  free(c.rows);
  free(c.lines);
  return rc;
}
