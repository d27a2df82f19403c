/* Reads in and out of the archive in the engine's input format (shared/spec/recist-engine.md):
 * `recistry reads export` (one JSON array of subjects, for `recistry recist` and `recistry concordance`)
 * and `recistry reads import` (that JSON, or CSV with one row per lesion per timepoint — columns in
 * docs/api.md). An import is checked completely first and written in one transaction: either every
 * subject lands, with its audit row, or nothing does.
 *
 * What "checked" means (docs/api.md, "reads import"): the file is UTF-8 text; the JSON schema is strict
 * (an unknown key is an error: a misspelt field must not import an empty read); identifiers match safe
 * patterns, each subject is in the archive (and matches its site's subject_pattern when the ingest
 * configuration is given); values are plausible (diameters finite, > 0, <= 500 mm; real dates, in order,
 * equal to the archive's study dates); and the engine input that the stored read will export is run
 * through the RECIST engine without --lenient, so that whatever is imported passes `recistry recist`. */
#include "recistry/reads.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "recistry/recist.h"

/* ---- export ---- */

typedef struct {
  rcy_store *store;
  json_t *out;
  rcy_error *err;
} export_ctx;

/* Each subject carries its read's role and reader (keys the engine ignores), so that a file says whose read it
 * is and an import can refuse a central read offered as a site read. */
static int export_one(void *ctx, const char *subject, const char *role, const char *reader, const char *text) {
  export_ctx *c = ctx;
  json_t *doc = json_loads(text, 0, NULL);
  rcy_timepoint_list tps;
  int rc = rcy_reads_timepoints_load(&tps, c->store, subject, c->err);
  if (rc) {
    json_decref(doc);
    return rc;
  }
  /* The registry's treatment start, as in the read view (treatment_start.c). */
  json_t *in = doc ? rcy_reads_engine_input_timed(NULL, c->store, subject, doc, &tps, NULL) : NULL;
  if (in) {
    json_object_set_new(in, "role", json_string(role));
    json_object_set_new(in, "reader", json_string(reader));
    json_array_append_new(c->out, in);
  }
  rcy_reads_timepoints_free(&tps);
  json_decref(doc);
  return 0;
}

int rcy_reads_export(FILE *out, rcy_store *store, const char *role, const char *reader, rcy_error *err) {
  export_ctx c = {store, json_array(), err};
  int rc = rcy_store_read_each(store, role, reader, export_one, &c, err);
  if (!rc && json_dumpf(c.out, out, JSON_INDENT(2)) != 0) rc = rcy_error_set(err, RCY_EIO, "writing the export failed");
  if (!rc) fputc('\n', out);
  json_decref(c.out);
  return rc;
}

/* ---- import: reporting ---- */

#define MAX_REPORTED 200 /* lines printed; the count covers them all */

typedef struct report_ctx {
  FILE *report;
  const char *name; /* the file, as given */
  int n_errors;
} report_ctx;

/* Where a problem is: "FILE[ line N]: subject S[, timepoint T[, lesion L]]: ". */
typedef struct loc {
  int line; /* CSV line, 0 when unknown */
  const char *subject, *timepoint, *lesion;
  size_t subject_index; /* used when subject is NULL: "subject #N" */
} loc;

static void problem(report_ctx *r, const loc *l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(report_ctx *r, const loc *l, const char *fmt, ...) {
  r->n_errors++;
  if (!r->report || r->n_errors > MAX_REPORTED) return;
  char msg[1024];
  int n = snprintf(msg, sizeof msg, "%s", r->name);
  if (l && l->line > 0) n += snprintf(msg + n, sizeof msg - (size_t)n, " line %d", l->line);
  if (l && l->subject)
    n += snprintf(msg + n, sizeof msg - (size_t)n, ": subject %.64s", l->subject);
  else if (l && l->subject_index)
    n += snprintf(msg + n, sizeof msg - (size_t)n, ": subject #%zu", l->subject_index);
  if (l && l->timepoint) n += snprintf(msg + n, sizeof msg - (size_t)n, ", timepoint %.64s", l->timepoint);
  if (l && l->lesion) n += snprintf(msg + n, sizeof msg - (size_t)n, ", lesion %.32s", l->lesion);
  if (n < (int)sizeof msg - 3) {
    msg[n++] = ':';
    msg[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
  }
  /* Identifiers come from the file: no control character reaches the operator's terminal. */
  for (char *p = msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
  fprintf(r->report, "%s\n", msg);
}

/* ---- import: values ---- */

static bool matches(const char *s, size_t min, size_t max, const char *first, const char *rest) {
  size_t n = s ? strlen(s) : 0;
  if (n < min || n > max) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !strchr(i ? rest : first, c)) return false;
  }
  return true;
}
int rcy_reads_valid_name(const char *s) {
  return matches(s, 1, 64, "", "._-");
}
int rcy_reads_valid_lesion_id(const char *s) {
  return matches(s, 1, 16, "_-", "_-");
}

/* What a JSON escape (\u0001) could put into a string that the file-level check never saw raw. */
static const char CONTROL_CHARS[] = "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
                                    "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f";

static bool plausible_mm(double mm) {
  return isfinite(mm) && mm > 0 && mm <= RCY_READS_IMPORT_MAX_MM;
}

static const char *const target_states[] = {"too_small", "disappeared", "not_evaluable", NULL};
static const char *const nt_states[] = {"present", "absent", "unequivocal_progression", "not_evaluable", NULL};
static const char *const new_states[] = {"equivocal", "unequivocal", NULL};

static int in_set(const char *s, const char *const *set) {
  for (; s && *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

/* A string member: NULL when absent; reports (and returns NULL with *bad set) when not a string or with NUL. */
static const char *string_member(report_ctx *r, const loc *l, const json_t *o, const char *key, bool *bad) {
  json_t *v = json_object_get(o, key);
  if (!v) return NULL;
  if (!json_is_string(v)) {
    problem(r, l, "%s: must be a string", key);
    *bad = true;
    return NULL;
  }
  const char *s = json_string_value(v);
  if (strlen(s) != json_string_length(v)) {
    problem(r, l, "%s: contains a NUL character", key);
    *bad = true;
    return NULL;
  }
  return s;
}

static bool known_key(const char *key, const char *const *keys, bool csv) {
  if (csv && strcmp(key, "_line") == 0) return true;
  for (; *keys; keys++)
    if (strcmp(key, *keys) == 0) return true;
  return false;
}

static void unknown_keys(report_ctx *r, const loc *l, const json_t *o, const char *const *keys, bool csv) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    if (known_key(k, keys, csv)) continue;
    if (strcmp(k, "options") == 0)
      problem(r, l, "unknown key 'options': engine options are not part of a stored read (they are chosen when "
                    "the engine runs)");
    else
      problem(r, l, "unknown key '%.40s' (the import's schema is strict: docs/api.md)", k);
  }
}

static int line_of(const json_t *o) {
  return (int)json_integer_value(json_object_get(o, "_line"));
}

/* A date member: required, a real calendar day, not in the future; *days set. */
static bool date_member(report_ctx *r, const loc *l, const json_t *o, const char *key, bool required, int32_t *days,
                        const char **text) {
  bool bad = false;
  const char *s = string_member(r, l, o, key, &bad);
  *text = s;
  if (bad) return false;
  if (!s) {
    if (required) problem(r, l, "missing \"%s\"", key);
    return !required;
  }
  rcy_error e;
  if (rcy_recist_date_parse(days, s, &e)) {
    problem(r, l, "%s: '%.40s' is not a real YYYY-MM-DD date", key, s);
    return false;
  }
  if (*days > (int32_t)(time(NULL) / 86400) + 1) {
    problem(r, l, "%s: %s is in the future", key, s);
    return false;
  }
  return true;
}

/* ---- import: one subject ---- */

typedef struct subject_ctx {
  report_ctx *rep;
  const rcy_reads_import_options *o;
  bool csv;
  size_t index; /* 1-based position in the file */
  const char *actor, *imported_at, *meaning; /* the sign-off of every imported timepoint */
} subject_ctx;

/* The diameter members of a target entry; all problems reported. */
static void check_target_values(report_ctx *r, const loc *l, const json_t *e, bool baseline) {
  json_t *d = json_object_get(e, "diameter_mm"), *st = json_object_get(e, "state");
  json_t *fr = json_object_get(e, "fragments_mm"), *mg = json_object_get(e, "merged_into");
  if ((d != NULL) + (st != NULL) + (fr != NULL) + (mg != NULL) != 1) {
    problem(r, l, "give exactly one of diameter_mm, state, fragments_mm, merged_into");
    return;
  }
  if (baseline && !d) {
    problem(r, l, "a baseline target must be measured (diameter_mm)");
    return;
  }
  if (d) {
    if (!json_is_number(d))
      problem(r, l, "diameter_mm: must be a number");
    else if (!plausible_mm(json_number_value(d)))
      problem(r, l, "diameter_mm: %g is not a plausible diameter (must be > 0 and <= %.0f mm%s)",
              json_number_value(d), RCY_READS_IMPORT_MAX_MM,
              json_number_value(d) == 0 ? "; a lesion that is gone is state disappeared" : "");
  } else if (st) {
    if (!json_is_string(st) || !in_set(json_string_value(st), target_states))
      problem(r, l, "state: must be too_small, disappeared or not_evaluable for a target lesion");
  } else if (fr) {
    if (!json_is_array(fr) || json_array_size(fr) < 2 || json_array_size(fr) > 10) {
      problem(r, l, "fragments_mm: must be an array of 2 to 10 diameters");
      return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(fr, i, x) {
      if (!json_is_number(x))
        problem(r, l, "fragments_mm[%zu]: must be a number", i);
      else if (!plausible_mm(json_number_value(x)))
        problem(r, l, "fragments_mm[%zu]: %g is not a plausible diameter (must be > 0 and <= %.0f mm)", i,
                json_number_value(x), RCY_READS_IMPORT_MAX_MM);
    }
  } else {
    if (!json_is_string(mg) || !rcy_reads_valid_lesion_id(json_string_value(mg)))
      problem(r, l, "merged_into: must be the lesion ID of another target");
  }
}

static const char *const subject_keys[] = {"subject_id", "treatment_start", "assessments", "role", "reader",
                                           "acceptance", NULL};
static const char *const assessment_keys[] = {"timepoint", "date", "target", "non_target", "new_lesions", NULL};
static const char *const target_keys[] = {"lesion_id", "organ",        "nodal",       "diameter_mm",
                                          "state",     "fragments_mm", "merged_into", NULL};
static const char *const other_keys[] = {"lesion_id", "organ", "nodal", "state", NULL};

/* Checks one engine-input subject (the JSON form, or what the CSV rows made) and builds the read document
 * it stores. NULL (problems reported) when anything is wrong. */
static json_t *subject_to_doc(const subject_ctx *c, const json_t *s, const char **subject_out) {
  report_ctx *r = c->rep;
  const int before = r->n_errors;
  loc l = {c->csv ? line_of(s) : 0, NULL, NULL, NULL, c->index};
  *subject_out = NULL;
  if (!json_is_object(s)) {
    problem(r, &l, "a subject must be a JSON object");
    return NULL;
  }
  bool bad = false;
  const char *subject = string_member(r, &l, s, "subject_id", &bad);
  if (!subject && !bad) problem(r, &l, "missing \"subject_id\"");
  if (subject) {
    l.subject = subject;
    if (!rcy_reads_valid_name(subject))
      problem(r, &l, "subject_id: not a valid subject ID (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or "
                     "digit)");
  }
  unknown_keys(r, &l, s, subject_keys, c->csv);
  const char *role = string_member(r, &l, s, "role", &bad), *reader = string_member(r, &l, s, "reader", &bad);
  if (role && strcmp(role, c->o->role) != 0)
    problem(r, &l, "role: this is a %.16s read; the import takes %s reads", role, c->o->role);
  if (reader && c->o->reader && strcmp(reader, c->o->reader) != 0)
    problem(r, &l, "reader: this read is %.64s's; the import stores reader %s", reader, c->o->reader);
  int32_t days;
  const char *ts;
  date_member(r, &l, s, "treatment_start", false, &days, &ts);
  json_t *assessments = json_object_get(s, "assessments");
  if (!assessments) problem(r, &l, "missing \"assessments\"");
  else if (!json_is_array(assessments) || json_array_size(assessments) == 0)
    problem(r, &l, "assessments: must be a non-empty array (the first is the baseline)");
  if (r->n_errors > before || !subject) return NULL;
  *subject_out = subject;

  json_t *doc = json_pack("{s:[],s:{},s:{}}", "lesions", "signoffs", "dates");
  json_t *lesions = json_object_get(doc, "lesions"), *dates = json_object_get(doc, "dates");
  if (ts) json_object_set_new(doc, "treatment_start", json_string(ts));
  int32_t prev_days = INT32_MIN;
  const char *prev_tp = NULL;
  size_t a;
  json_t *as;
  json_array_foreach(assessments, a, as) {
    loc la = l;
    la.line = c->csv ? line_of(as) : 0;
    if (!json_is_object(as)) {
      problem(r, &la, "assessment #%zu: must be an object", a + 1);
      continue;
    }
    bad = false;
    const char *tp = string_member(r, &la, as, "timepoint", &bad);
    if (!tp && !bad) problem(r, &la, "assessment #%zu: missing \"timepoint\"", a + 1);
    if (!tp) continue;
    la.timepoint = tp;
    if (!rcy_reads_valid_name(tp)) {
      problem(r, &la, "timepoint: not a valid label (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
      continue;
    }
    unknown_keys(r, &la, as, assessment_keys, c->csv);
    const char *date;
    if (!date_member(r, &la, as, "date", true, &days, &date)) continue;
    if (json_object_get(dates, tp)) {
      problem(r, &la, "the timepoint appears twice");
      continue;
    }
    if (days <= prev_days) problem(r, &la, "date: %s is not after the previous timepoint %s", date, prev_tp);
    prev_days = days;
    prev_tp = tp;
    json_object_set_new(dates, tp, json_string(date));
    /* Signed by who imported it, when, "imported from FILE": not by the site's reader at the study date,
     * which the import cannot know. */
    json_object_set_new(json_object_get(doc, "signoffs"), tp,
                        rcy_reads_signoff_new(c->actor, c->imported_at, c->meaning));
    static const char *const lists[] = {"target", "non_target", "new_lesions"};
    static const char *const kinds[] = {"target", "non_target", "new"};
    for (int k = 0; k < 3; k++) {
      json_t *list = json_object_get(as, lists[k]);
      if (!list) continue;
      if (!json_is_array(list)) {
        problem(r, &la, "%s: must be an array", lists[k]);
        continue;
      }
      size_t i;
      json_t *e;
      json_array_foreach(list, i, e) {
        loc ll = la;
        ll.line = c->csv ? line_of(e) : 0;
        if (!json_is_object(e)) {
          problem(r, &ll, "%s[%zu]: must be an object", lists[k], i);
          continue;
        }
        bad = false;
        const char *id = string_member(r, &ll, e, "lesion_id", &bad);
        if (!id) {
          if (!bad) problem(r, &ll, "%s[%zu]: missing \"lesion_id\"", lists[k], i);
          continue;
        }
        ll.lesion = id;
        if (!rcy_reads_valid_lesion_id(id)) {
          problem(r, &ll, "lesion_id: not a valid lesion ID (1-16 of A-Z a-z 0-9 _ -)");
          continue;
        }
        unknown_keys(r, &ll, e, k == 0 ? target_keys : other_keys, c->csv);
        const char *organ = string_member(r, &ll, e, "organ", &bad);
        if (organ && (!*organ || strlen(organ) > 64 || strpbrk(organ, CONTROL_CHARS)))
          problem(r, &ll, "organ: must be 1 to 64 characters, no control character");
        json_t *nodal = json_object_get(e, "nodal");
        if (nodal && !json_is_boolean(nodal)) problem(r, &ll, "nodal: must be true or false");
        const char *st = string_member(r, &ll, e, "state", &bad);
        if (k == 0) check_target_values(r, &ll, e, a == 0);
        else if (!st && !bad) problem(r, &ll, "missing \"state\"");
        else if (st && !in_set(st, k == 1 ? nt_states : new_states))
          problem(r, &ll, "state: '%.40s' is not valid for a %s lesion (%s)", st, kinds[k],
                  k == 1 ? "present, absent, unequivocal_progression or not_evaluable" : "equivocal or unequivocal");
        if (k == 2 && a == 0) problem(r, &ll, "new lesions cannot be recorded at baseline");
        json_t *l = rcy_reads_find_lesion(doc, id);
        if (!l) {
          if (a > 0 && k < 2) {
            problem(r, &ll, "not a %s lesion at baseline (follow-ups list the baseline's lesions)", kinds[k]);
            continue;
          }
          if (!organ) {
            problem(r, &ll, "missing \"organ\" (required at baseline and for new lesions)");
            continue;
          }
          l = json_pack("{s:s,s:s,s:s,s:b,s:s,s:n,s:{}}", "lesion_id", id, "kind", kinds[k], "organ", organ, "nodal",
                        json_is_true(nodal), "timepoint", tp, "baseline", "observations");
          json_array_append_new(lesions, l);
        } else if (strcmp(json_string_value(json_object_get(l, "kind")), kinds[k]) != 0) {
          problem(r, &ll, "listed as %s here but as %s before", kinds[k],
                  json_string_value(json_object_get(l, "kind")));
          continue;
        } else if (json_object_get(json_object_get(l, "observations"), tp)) {
          problem(r, &ll, "listed twice at this timepoint");
          continue;
        }
        json_t *obs = json_object();
        static const char *const values[] = {"diameter_mm", "state", "fragments_mm", "merged_into"};
        for (int v = 0; v < 4; v++) {
          json_t *x = json_object_get(e, values[v]);
          if (x) json_object_set(obs, values[v], x);
        }
        json_object_set_new(json_object_get(l, "observations"), tp, obs);
      }
    }
  }
  /* Every baseline target and non-target is assessed at every follow-up (else the stored read would leave
   * that follow-up out of every response). */
  if (r->n_errors == before) {
    size_t i;
    json_t *lesion;
    json_array_foreach(lesions, i, lesion) {
      const char *kind = json_string_value(json_object_get(lesion, "kind"));
      if (strcmp(kind, "new") == 0) continue;
      json_array_foreach(assessments, a, as) {
        const char *tp = json_string_value(json_object_get(as, "timepoint"));
        if (json_object_get(json_object_get(lesion, "observations"), tp)) continue;
        loc ll = {c->csv ? line_of(as) : 0, subject, tp, json_string_value(json_object_get(lesion, "lesion_id")), 0};
        problem(r, &ll, "not assessed (every baseline lesion needs a value or state at every timepoint)");
      }
    }
  }
  if (r->n_errors > before) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}

/* ---- import: the subject against the archive, and through the engine ---- */

/* The subject is indexed (and matches its site's subject_pattern when known), the file's timepoints agree
 * with the archive's studies, and the engine input the stored read will export passes the engine strictly. */
static void check_against_archive(const subject_ctx *c, rcy_store *store, const char *subject, const json_t *s,
                                  json_t *doc) {
  report_ctx *r = c->rep;
  const int before = r->n_errors;
  loc l = {c->csv ? line_of(s) : 0, subject, NULL, NULL, 0};
  rcy_timepoint_list tps;
  rcy_error e = {0};
  if (rcy_reads_timepoints_load(&tps, store, subject, &e)) {
    problem(r, &l, "cannot read the archive: %s", e.message);
    return;
  }
  if (tps.n == 0) {
    problem(r, &l, "not in the archive (no study of this subject is indexed)");
    goto out;
  }
  if (c->o->sites) {
    const char *site = tps.items[0].site_id;
    const rcy_reads_site_pattern *p = NULL;
    for (size_t i = 0; i < c->o->n_sites && !p; i++)
      if (strcmp(c->o->sites[i].site_id, site) == 0) p = &c->o->sites[i];
    regex_t re;
    if (!p) {
      problem(r, &l, "its site %s is not in the configuration", site);
    } else if (regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
      problem(r, &l, "site %s's subject_pattern does not compile", site);
    } else {
      if (regexec(&re, subject, 0, NULL, 0) != 0)
        problem(r, &l, "does not match site %s's subject_pattern %s", site, p->pattern);
      regfree(&re);
    }
  }
  const json_t *assessments = json_object_get(s, "assessments");
  size_t a;
  json_t *as;
  json_array_foreach(assessments, a, as) {
    const char *tp = json_string_value(json_object_get(as, "timepoint"));
    const char *date = json_string_value(json_object_get(as, "date"));
    const rcy_timepoint *t = rcy_reads_timepoint_find(&tps, tp);
    loc la = {c->csv ? line_of(as) : 0, subject, tp, NULL, 0};
    if (a == 0 && strcmp(tp, tps.items[0].timepoint) != 0)
      problem(r, &la, "the archive's baseline (its first study) is %s (%s): the first assessment must be it",
              tps.items[0].timepoint, tps.items[0].date[0] ? tps.items[0].date : "no date");
    else if (t && t->date[0] && strcmp(t->date, date) != 0)
      problem(r, &la, "date: %s differs from the archive's study date %s", date, t->date);
  }
  /* The registry's treatment start is the one every read of the subject is timed from: a file giving
   * another is a data-entry error in one of the two, refused rather than silently overridden. */
  rcy_registry_subject reg = {0};
  const char *own = json_string_value(json_object_get(doc, "treatment_start"));
  int reg_rc = rcy_store_registry_get(&reg, store, subject, &e);
  if (reg_rc != RCY_OK && reg_rc != RCY_ENOTFOUND) problem(r, &l, "cannot read the registry: %s", e.message);
  else if (reg_rc == RCY_OK && own && reg.treatment_start[0] && strcmp(own, reg.treatment_start) != 0)
    problem(r, &l, "treatment_start: %s differs from the registry's %s (correct the file, or leave "
                   "treatment_start out: the registry's is used)", own, reg.treatment_start);
  if (r->n_errors > before) goto out;
  json_t *warnings = json_array();
  json_t *input = rcy_reads_engine_input(subject, doc, &tps, warnings);
  if (input && reg_rc == RCY_OK && reg.treatment_start[0])
    json_object_set_new(input, "treatment_start", json_string(reg.treatment_start));
  size_t i;
  json_t *w;
  json_array_foreach(warnings, i, w) problem(r, &l, "%s", json_string_value(w));
  json_decref(warnings);
  if (!input) {
    if (r->n_errors == before) problem(r, &l, "the baseline is incomplete");
    goto out;
  }
  if (json_array_size(json_object_get(input, "assessments")) != json_array_size(assessments))
    problem(r, &l, "%zu assessment(s) in the file, but the stored read would give the engine %zu",
            json_array_size(assessments), json_array_size(json_object_get(input, "assessments")));
  if (r->n_errors == before) {
    char *text = json_dumps(input, JSON_COMPACT), *out = NULL;
    rcy_recist_json_flags flags = {.lenient = false, .no_confirmation = false};
    rcy_error ee = {0};
    if (!text) problem(r, &l, "out of memory");
    else if (rcy_recist_json_evaluate(&out, text, strlen(text), &flags, false, &ee) != 0) {
      /* The engine's message already names subject, timepoint and lesion. */
      loc none = {l.line, NULL, NULL, NULL, 0};
      problem(r, &none, "%s (RECIST engine)", ee.message);
    }
    free(text);
    free(out);
  }
  json_decref(input);
out:
  rcy_reads_timepoints_free(&tps);
}

/* ---- import: CSV ---- */

/* A decimal number of millimetres as a spreadsheet writes it: digits, an optional fraction (no sign,
 * exponent, hex, inf or nan). */
static bool decimal(const char *s) {
  size_t i = 0, digits = 0;
  while (s[i] >= '0' && s[i] <= '9') i++, digits++;
  if (s[i] == '.') {
    i++;
    while (s[i] >= '0' && s[i] <= '9') i++, digits++;
  }
  return digits > 0 && digits <= 12 && s[i] == '\0';
}

/* CSV: subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state (header required). Builds the
 * same engine-input subjects as the JSON form, each object carrying "_line" for messages. Simple CSV: no
 * quoting (no field needs a comma or a quote). `text` is modified (split in place). */
static json_t *csv_to_subjects(char *text, size_t len, report_ctx *rep) {
  static const char *const cols[] = {"subject_id", "timepoint", "date",        "lesion_id", "kind",
                                     "organ",      "nodal",     "diameter_mm", "state"};
  enum { NCOL = 9 };
  json_t *subjects = json_array();
  int lineno = 0;
  bool header = false;
  for (char *p = text, *end = text + len; p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *line = p;
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    p = nl ? nl + 1 : end;
    line[n] = '\0'; /* the newline, or the buffer's terminating NUL */
    lineno++;
    loc l = {lineno, NULL, NULL, NULL, 0};
    while (n && line[n - 1] == '\r') line[--n] = '\0';
    if (n == 0) continue;
    if (n > 4096) {
      problem(rep, &l, "longer than 4096 bytes");
      continue;
    }
    if (strchr(line, '"')) {
      problem(rep, &l, "quoted fields are not supported (no field needs quotes or commas)");
      continue;
    }
    char *field[NCOL];
    int nf = 0;
    for (char *q = line;;) {
      if (nf < NCOL) field[nf] = q;
      nf++;
      char *comma = strchr(q, ',');
      if (!comma) break;
      *comma = '\0';
      q = comma + 1;
    }
    if (!header) {
      int ok = nf == NCOL;
      for (int i = 0; ok && i < NCOL; i++) ok = strcmp(field[i], cols[i]) == 0;
      if (!ok) {
        problem(rep, &l, "the header must be %s,%s,%s,%s,%s,%s,%s,%s,%s", cols[0], cols[1], cols[2], cols[3], cols[4],
                cols[5], cols[6], cols[7], cols[8]);
        break;
      }
      header = true;
      continue;
    }
    if (nf != NCOL) {
      problem(rep, &l, "%d fields, expected %d", nf, NCOL);
      continue;
    }
    const char *subject = field[0], *tp = field[1], *date = field[2], *id = field[3], *kind = field[4];
    l.subject = *subject ? subject : NULL;
    l.timepoint = *tp ? tp : NULL;
    l.lesion = *id ? id : NULL;
    if (!*subject || !*tp || !*id) {
      problem(rep, &l, "subject_id, timepoint and lesion_id are required");
      continue;
    }
    int32_t days;
    rcy_error e;
    if (rcy_recist_date_parse(&days, date, &e)) {
      problem(rep, &l, "date: '%.40s' is not a real YYYY-MM-DD date", date);
      continue;
    }
    const char *list = strcmp(kind, "target") == 0       ? "target"
                       : strcmp(kind, "non_target") == 0 ? "non_target"
                       : strcmp(kind, "new") == 0        ? "new_lesions"
                                                         : NULL;
    if (!list) {
      problem(rep, &l, "kind: '%.40s' is not target, non_target or new", kind);
      continue;
    }
    const char *nodal = field[6];
    if (*nodal && strcmp(nodal, "true") && strcmp(nodal, "false") && strcmp(nodal, "1") && strcmp(nodal, "0")) {
      problem(rep, &l, "nodal: '%.40s' is not true/false", nodal);
      continue;
    }
    json_t *entry = json_pack("{s:s,s:i}", "lesion_id", id, "_line", lineno);
    if (*field[5]) json_object_set_new(entry, "organ", json_string(field[5]));
    if (*nodal) json_object_set_new(entry, "nodal", json_boolean(strcmp(nodal, "true") == 0 || strcmp(nodal, "1") == 0));
    if (*field[7]) {
      if (!decimal(field[7])) {
        problem(rep, &l, "diameter_mm: '%.40s' is not a decimal number of mm", field[7]);
        json_decref(entry);
        continue;
      }
      json_object_set_new(entry, "diameter_mm", json_real(strtod(field[7], NULL)));
    }
    if (*field[8]) json_object_set_new(entry, "state", json_string(field[8]));
    /* Find or add the subject and its assessment (rows may come in any order; dates order assessments). */
    json_t *s = NULL, *as = NULL, *x;
    size_t i;
    json_array_foreach(subjects, i, x) if (!s && strcmp(json_string_value(json_object_get(x, "subject_id")), subject) == 0) s = x;
    if (!s) {
      s = json_pack("{s:s,s:[],s:i}", "subject_id", subject, "assessments", "_line", lineno);
      json_array_append_new(subjects, s);
    }
    json_t *list_as = json_object_get(s, "assessments");
    json_array_foreach(list_as, i, x) if (!as && strcmp(json_string_value(json_object_get(x, "timepoint")), tp) == 0) as = x;
    if (!as) {
      as = json_pack("{s:s,s:s,s:[],s:[],s:[],s:i}", "timepoint", tp, "date", date, "target", "non_target",
                     "new_lesions", "_line", lineno);
      size_t pos = json_array_size(list_as);
      json_array_foreach(list_as, i, x) if (pos > i && strcmp(json_string_value(json_object_get(x, "date")), date) > 0) pos = i;
      json_array_insert_new(list_as, pos, as);
    } else if (strcmp(json_string_value(json_object_get(as, "date")), date) != 0) {
      problem(rep, &l, "date: %s, but line %d gave this timepoint %s", date, line_of(as),
              json_string_value(json_object_get(as, "date")));
      json_decref(entry);
      continue;
    }
    json_array_append_new(json_object_get(as, list), entry);
  }
  return subjects;
}

/* ---- import: the file ---- */

/* UTF-8 text: no NUL or control byte but tab, CR, LF; well-formed sequences only (no overlong form,
 * surrogate or code point above U+10FFFF). Reports the first offence. */
static bool text_file(report_ctx *rep, const unsigned char *s, size_t len) {
  int line = 1, col = 1;
  for (size_t i = 0; i < len; col++) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '\n') line++, col = 0;
      else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
        problem(rep, NULL, "not a text file (control byte 0x%02x at line %d, column %d)", c, line, col);
        return false;
      }
      i++;
      continue;
    }
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    bool ok = n && i + n <= len;
    for (size_t k = 1; ok && k < n; k++) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok && n == 3) {
      unsigned c1 = s[i + 1];
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0); /* overlong; surrogates */
    }
    if (ok && n == 4) {
      unsigned c1 = s[i + 1];
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90); /* overlong; > U+10FFFF */
    }
    if (!ok) {
      problem(rep, NULL, "not UTF-8 text (byte 0x%02x at line %d, column %d)", c, line, col);
      return false;
    }
    i += n;
  }
  return true;
}

int rcy_reads_import_buffer(size_t *n_subjects, rcy_store *store, const char *name, const char *data, size_t len,
                              const rcy_reads_import_options *o, FILE *report, rcy_error *err) {
  *n_subjects = 0;
  report_ctx rep = {report, name, 0};
  json_t *subjects = NULL, *docs = json_array();
  /* Who imports (the operating-system account when the caller names nobody), when, and from which file. */
  char actor[RCY_NAME_MAX + 8], now[32], meaning[300];
  if (o->actor && *o->actor) snprintf(actor, sizeof actor, "%s", o->actor);
  else {
    struct passwd *pw = getpwuid(geteuid());
    snprintf(actor, sizeof actor, "os:%.64s", pw && pw->pw_name ? pw->pw_name : "unknown");
  }
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const char *base = strrchr(name, '/');
  snprintf(meaning, sizeof meaning, "imported from %.250s", base ? base + 1 : name);
  char *text = NULL;
  bool csv = false;
  /* A spreadsheet's byte-order mark is not content. */
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3, len -= 3;
  size_t start = 0;
  while (start < len && strchr(" \t\r\n", data[start]) && data[start]) start++;
  if (start == len) {
    problem(&rep, NULL, "the file is empty (expected CSV with a header line, or JSON)");
    goto check;
  }
  if (len > RCY_READS_IMPORT_MAX_BYTES) {
    problem(&rep, NULL, "larger than %u MiB", RCY_READS_IMPORT_MAX_BYTES >> 20);
    goto check;
  }
  if (!text_file(&rep, (const unsigned char *)data, len)) goto check;
  if (data[start] == '[' || data[start] == '{') {
    json_error_t je;
    subjects = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!subjects) problem(&rep, NULL, "line %d column %d: invalid JSON: %s", je.line, je.column, je.text);
    else if (json_is_object(subjects)) subjects = json_pack("[o]", subjects);
  } else {
    csv = true;
    text = malloc(len + 1);
    if (!text) {
      json_decref(docs);
      return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    }
    memcpy(text, data, len);
    text[len] = '\0';
    subjects = csv_to_subjects(text, len, &rep);
  }
  if (subjects && json_array_size(subjects) == 0 && rep.n_errors == 0)
    problem(&rep, NULL, "no subjects in the file");
  size_t i;
  json_t *s;
  json_array_foreach(subjects, i, s) {
    subject_ctx c = {&rep, o, csv, i + 1, actor, now, meaning};
    const char *subject;
    const int before = rep.n_errors;
    json_t *doc = subject_to_doc(&c, s, &subject);
    if (!subject) continue;
    loc l = {csv ? line_of(s) : 0, subject, NULL, NULL, 0};
    size_t j;
    json_t *d;
    json_array_foreach(docs, j, d) if (strcmp(json_string_value(json_object_get(d, "subject_id")), subject) == 0)
        problem(&rep, &l, "appears twice in the file");
    if (rep.n_errors > before) {
      json_decref(doc);
      continue;
    }
    char *existing = NULL;
    if (rcy_store_read_get(&existing, store, subject, o->role, o->reader, NULL) == RCY_OK)
      problem(&rep, &l, "already has a %s read (nothing is overwritten)", o->role);
    free(existing);
    check_against_archive(&c, store, subject, s, doc);
    json_object_set_new(doc, "subject_id", json_string(subject));
    json_array_append_new(docs, doc);
  }
check:
  json_decref(subjects);
  free(text);
  int rc = RCY_OK;
  if (rep.n_errors) {
    if (report && rep.n_errors > MAX_REPORTED)
      fprintf(report, "%s: ... and %d more problem(s)\n", name, rep.n_errors - MAX_REPORTED);
    rc = rcy_error_set(err, RCY_EINVAL, "%s: %d problem(s); nothing imported", name, rep.n_errors);
    goto out;
  }
  if (o->dry_run) {
    *n_subjects = json_array_size(docs);
    goto out;
  }
  if ((rc = rcy_store_begin(store, err))) goto out;
  json_t *doc;
  json_array_foreach(docs, i, doc) {
    char *subject = strdup(json_string_value(json_object_get(doc, "subject_id")));
    json_object_del(doc, "subject_id");
    char *dump = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    rcy_audit_entry e = {actor, "read.import", subject, o->role, o->reader, NULL, NULL, NULL, dump, name};
    rc = subject && dump ? rcy_store_read_put(store, subject, o->role, o->reader, dump, &e, err)
                         : rcy_error_set(err, RCY_ENOMEM, "out of memory");
    free(dump);
    free(subject);
    if (rc) break;
  }
  if (!rc) rc = rcy_store_commit(store, err);
  if (rc) rcy_store_rollback(store);
  else *n_subjects = json_array_size(docs);
out:
  json_decref(docs);
  return rc;
}

int rcy_reads_import(size_t *n_subjects, rcy_store *store, const char *path, const rcy_reads_import_options *o,
                       FILE *report, rcy_error *err) {
  *n_subjects = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot open %s", path);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  int rc = buf ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  while (!rc) {
    if (len == cap) {
      if (cap > RCY_READS_IMPORT_MAX_BYTES) break; /* reported as too large */
      char *q = realloc(buf, cap * 2);
      if (!q) {
        rc = rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", path);
        break;
      }
      buf = q;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  if (!rc && ferror(f)) rc = rcy_error_set(err, RCY_EIO, "cannot read %s", path);
  fclose(f);
  if (!rc) rc = rcy_reads_import_buffer(n_subjects, store, path, buf, len, o, report, err);
  free(buf);
  return rc;
}
