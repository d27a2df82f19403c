/* Reads in and out of the archive in the engine's input format (shared/spec/recist-engine.md):
 * `recistry reads export` (one JSON array of subjects, for `recistry recist` and `recistry concordance`)
 * and `recistry reads import` (that JSON, or CSV with one row per lesion per timepoint — columns in
 * docs/api.md). An import is checked completely first and written in one transaction: either every
 * subject lands, with its audit row, or nothing does. */
#include "server_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- export ---- */

typedef struct {
  rcy_store *store;
  json_t *out;
  rcy_error *err;
} export_ctx;

static int export_one(void *ctx, const char *subject, const char *role, const char *reader, const char *text) {
  (void)role;
  (void)reader;
  export_ctx *c = ctx;
  json_t *doc = json_loads(text, 0, NULL);
  rcy_tp_list tps;
  int rc = rcy_tp_list_load(&tps, c->store, subject, c->err);
  if (rc) {
    json_decref(doc);
    return rc;
  }
  json_t *in = doc ? rcy_read_engine_input(subject, doc, &tps, NULL) : NULL;
  if (in) json_array_append_new(c->out, in);
  rcy_tp_list_free(&tps);
  json_decref(doc);
  return 0;
}

int rcy_readers_export(FILE *out, rcy_store *store, const char *role, const char *reader, rcy_error *err) {
  export_ctx c = {store, json_array(), err};
  int rc = rcy_store_read_each(store, role, reader, export_one, &c, err);
  if (!rc && json_dumpf(c.out, out, JSON_INDENT(2)) != 0) rc = rcy_error_set(err, RCY_EIO, "writing the export failed");
  if (!rc) fputc('\n', out);
  json_decref(c.out);
  return rc;
}

/* ---- import ---- */

typedef struct {
  FILE *report;
  int n_errors;
} report_ctx;

static void row_error(report_ctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void row_error(report_ctx *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (r->report) {
    vfprintf(r->report, fmt, ap);
    fputc('\n', r->report);
  }
  va_end(ap);
  r->n_errors++;
}

static int valid_date(const char *s) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
  int m = atoi(s + 5), d = atoi(s + 8);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int in_set(const char *s, const char *const *set) {
  for (; s && *set; set++)
    if (strcmp(s, *set) == 0) return 1;
  return 0;
}

static const char *const target_states[] = {"too_small", "disappeared", "not_evaluable", NULL};
static const char *const nt_states[] = {"present", "absent", "unequivocal_progression", "not_evaluable", NULL};
static const char *const new_states[] = {"equivocal", "unequivocal", NULL};

/* One engine-input subject → a read document; problems reported under `where`. */
static json_t *subject_to_doc(const json_t *s, const char *where, report_ctx *rep) {
  int before = rep->n_errors;
  const char *subject = json_string_value(json_object_get(s, "subject_id"));
  json_t *assessments = json_object_get(s, "assessments");
  if (!subject || !*subject) {
    row_error(rep, "%s: subject_id missing", where);
    return NULL;
  }
  if (!json_is_array(assessments) || json_array_size(assessments) == 0) {
    row_error(rep, "%s: subject %s: assessments must be a non-empty array", where, subject);
    return NULL;
  }
  json_t *doc = json_pack("{s:[],s:{},s:{}}", "lesions", "signoffs", "dates");
  json_t *lesions = json_object_get(doc, "lesions");
  const char *ts = json_string_value(json_object_get(s, "treatment_start"));
  if (ts) json_object_set_new(doc, "treatment_start", json_string(ts));
  const char *prev_date = "";
  size_t a;
  json_t *as;
  json_array_foreach(assessments, a, as) {
    const char *tp = json_string_value(json_object_get(as, "timepoint"));
    const char *date = json_string_value(json_object_get(as, "date"));
    if (!tp || !*tp || !valid_date(date)) {
      row_error(rep, "%s: subject %s assessment %zu: timepoint and date (YYYY-MM-DD) are required", where, subject,
                a + 1);
      continue;
    }
    if (strcmp(date, prev_date) <= 0)
      row_error(rep, "%s: subject %s %s: dates must be strictly increasing", where, subject, tp);
    if (json_object_get(json_object_get(doc, "dates"), tp))
      row_error(rep, "%s: subject %s: timepoint %s appears twice", where, subject, tp);
    prev_date = date;
    json_object_set_new(json_object_get(doc, "dates"), tp, json_string(date));
    json_object_set_new(json_object_get(doc, "signoffs"), tp,
                        json_pack("{s:s,s:s}", "signed_by", "import", "signed_at", date));
    static const char *const lists[] = {"target", "non_target", "new_lesions"};
    static const char *const kinds[] = {"target", "non_target", "new"};
    for (int k = 0; k < 3; k++) {
      size_t i;
      json_t *e;
      json_array_foreach(json_object_get(as, lists[k]), i, e) {
        const char *id = json_string_value(json_object_get(e, "lesion_id"));
        if (!id || !*id) {
          row_error(rep, "%s: subject %s %s: a %s entry has no lesion_id", where, subject, tp, kinds[k]);
          continue;
        }
        json_t *l = rcy_read_find_lesion(doc, id);
        if (!l) {
          if (a > 0 && k < 2) {
            row_error(rep, "%s: subject %s %s: lesion %s is not in the baseline", where, subject, tp, id);
            continue;
          }
          const char *organ = json_string_value(json_object_get(e, "organ"));
          if (!organ || !*organ) {
            row_error(rep, "%s: subject %s %s: lesion %s needs an organ", where, subject, tp, id);
            continue;
          }
          l = json_pack("{s:s,s:s,s:s,s:b,s:s,s:n,s:{}}", "lesion_id", id, "kind", kinds[k], "organ", organ, "nodal",
                        json_is_true(json_object_get(e, "nodal")), "timepoint", tp, "baseline", "observations");
          json_array_append_new(lesions, l);
        } else if (strcmp(json_string_value(json_object_get(l, "kind")), kinds[k]) != 0) {
          row_error(rep, "%s: subject %s %s: lesion %s changes kind", where, subject, tp, id);
          continue;
        }
        json_t *obs = json_object();
        json_t *d = json_object_get(e, "diameter_mm");
        const char *st = json_string_value(json_object_get(e, "state"));
        json_t *fr = json_object_get(e, "fragments_mm");
        const char *mi = json_string_value(json_object_get(e, "merged_into"));
        if (d && (!json_is_number(d) || json_number_value(d) < 0))
          row_error(rep, "%s: subject %s %s: lesion %s: diameter_mm must be a number >= 0", where, subject, tp, id);
        if (st && !in_set(st, k == 0 ? target_states : k == 1 ? nt_states : new_states))
          row_error(rep, "%s: subject %s %s: lesion %s: state '%s' is not valid for a %s lesion", where, subject, tp,
                    id, st, kinds[k]);
        if (k == 0 && !d && !st && !fr && !mi)
          row_error(rep, "%s: subject %s %s: target %s needs diameter_mm, state, fragments_mm or merged_into", where,
                    subject, tp, id);
        if (k == 2 && !st)
          row_error(rep, "%s: subject %s %s: new lesion %s needs state equivocal or unequivocal", where, subject, tp,
                    id);
        if (d) json_object_set(obs, "diameter_mm", d);
        if (st) json_object_set_new(obs, "state", json_string(st));
        if (fr) json_object_set(obs, "fragments_mm", fr);
        if (mi) json_object_set_new(obs, "merged_into", json_string(mi));
        json_object_set_new(json_object_get(l, "observations"), tp, obs);
      }
    }
  }
  if (rep->n_errors > before) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}

/* CSV: subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state (header required). Builds the
 * same engine-input subjects as the JSON form. Simple CSV: no quoted commas (identifiers never need them). */
static json_t *csv_to_subjects(FILE *f, const char *path, report_ctx *rep) {
  static const char *const cols[] = {"subject_id", "timepoint", "date", "lesion_id", "kind",
                                     "organ",      "nodal",     "diameter_mm", "state"};
  enum { NCOL = 9 };
  json_t *subjects = json_array();
  char line[2048];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    size_t n = strlen(line);
    if (n == sizeof line - 1 && line[n - 1] != '\n') {
      row_error(rep, "%s line %d: longer than %zu bytes", path, lineno, sizeof line - 2);
      int ch;
      while ((ch = fgetc(f)) != EOF && ch != '\n') {
      }
      continue;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0) continue;
    char *field[NCOL + 1];
    int nf = 0;
    for (char *p = line;; ) {
      if (nf <= NCOL) field[nf] = p;
      nf++;
      char *comma = strchr(p, ',');
      if (!comma) break;
      *comma = '\0';
      p = comma + 1;
    }
    if (lineno == 1) {
      int ok = nf == NCOL;
      for (int i = 0; ok && i < NCOL; i++) ok = strcmp(field[i], cols[i]) == 0;
      if (!ok) {
        row_error(rep, "%s line 1: header must be %s,%s,%s,%s,%s,%s,%s,%s,%s", path, cols[0], cols[1], cols[2], cols[3],
                  cols[4], cols[5], cols[6], cols[7], cols[8]);
        break;
      }
      continue;
    }
    if (nf != NCOL) {
      row_error(rep, "%s line %d: %d fields, expected %d", path, lineno, nf, NCOL);
      continue;
    }
    const char *subject = field[0], *tp = field[1], *date = field[2], *id = field[3], *kind = field[4];
    if (!*subject || !*tp || !*id) {
      row_error(rep, "%s line %d: subject_id, timepoint and lesion_id are required", path, lineno);
      continue;
    }
    if (!valid_date(date)) {
      row_error(rep, "%s line %d: date '%s' is not YYYY-MM-DD", path, lineno, date);
      continue;
    }
    const char *list = strcmp(kind, "target") == 0 ? "target"
                       : strcmp(kind, "non_target") == 0 ? "non_target"
                       : strcmp(kind, "new") == 0 ? "new_lesions" : NULL;
    if (!list) {
      row_error(rep, "%s line %d: kind '%s' is not target, non_target or new", path, lineno, kind);
      continue;
    }
    if (*field[6] && strcmp(field[6], "true") && strcmp(field[6], "false") && strcmp(field[6], "1") &&
        strcmp(field[6], "0")) {
      row_error(rep, "%s line %d: nodal '%s' is not true/false", path, lineno, field[6]);
      continue;
    }
    json_t *entry = json_pack("{s:s}", "lesion_id", id);
    if (*field[5]) json_object_set_new(entry, "organ", json_string(field[5]));
    json_object_set_new(entry, "nodal", json_boolean(strcmp(field[6], "true") == 0 || strcmp(field[6], "1") == 0));
    if (*field[7]) {
      char *end;
      double d = strtod(field[7], &end);
      if (*end || d < 0) {
        row_error(rep, "%s line %d: diameter_mm '%s' is not a number >= 0", path, lineno, field[7]);
        json_decref(entry);
        continue;
      }
      json_object_set_new(entry, "diameter_mm", json_real(d));
    }
    if (*field[8]) json_object_set_new(entry, "state", json_string(field[8]));
    /* Find or add the subject and its assessment (rows may come in any order; dates order assessments). */
    json_t *s = NULL, *as = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(subjects, i, x) if (strcmp(json_string_value(json_object_get(x, "subject_id")), subject) == 0) s = x;
    if (!s) {
      s = json_pack("{s:s,s:[]}", "subject_id", subject, "assessments");
      json_array_append_new(subjects, s);
    }
    json_array_foreach(json_object_get(s, "assessments"), i, x) if (strcmp(json_string_value(json_object_get(x, "timepoint")), tp) == 0) as = x;
    if (!as) {
      as = json_pack("{s:s,s:s,s:[],s:[],s:[]}", "timepoint", tp, "date", date, "target", "non_target", "new_lesions");
      json_t *list_as = json_object_get(s, "assessments");
      size_t pos = json_array_size(list_as);
      json_array_foreach(list_as, i, x) if (strcmp(json_string_value(json_object_get(x, "date")), date) > 0 && pos > i) pos = i;
      json_array_insert_new(list_as, pos, as);
    } else if (strcmp(json_string_value(json_object_get(as, "date")), date) != 0) {
      row_error(rep, "%s line %d: %s %s has two dates", path, lineno, subject, tp);
      json_decref(entry);
      continue;
    }
    json_array_append_new(json_object_get(as, list), entry);
  }
  return subjects;
}

int rcy_readers_import(size_t *n_subjects, rcy_store *store, const char *role, const char *reader,
                       const char *path, const char *actor, FILE *report, rcy_error *err) {
  *n_subjects = 0;
  FILE *f = fopen(path, "r");
  if (!f) return rcy_error_set(err, RCY_EIO, "cannot open %s", path);
  report_ctx rep = {report, 0};
  int c = fgetc(f);
  while (c == ' ' || c == '\n' || c == '\r' || c == '\t') c = fgetc(f);
  json_t *subjects;
  if (c == '[' || c == '{') {
    ungetc(c, f);
    json_error_t je;
    subjects = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    if (!subjects) row_error(&rep, "%s line %d column %d: invalid JSON: %s", path, je.line, je.column, je.text);
    else if (json_is_object(subjects)) subjects = json_pack("[o]", subjects);
  } else {
    if (c != EOF) ungetc(c, f);
    subjects = csv_to_subjects(f, path, &rep);
  }
  fclose(f);
  json_t *docs = json_array();
  size_t i;
  json_t *s;
  json_array_foreach(subjects, i, s) {
    char where[64];
    snprintf(where, sizeof where, "%s subject #%zu", path, i + 1);
    json_t *doc = subject_to_doc(s, where, &rep);
    const char *subject = json_string_value(json_object_get(s, "subject_id"));
    if (doc && subject) {
      char *existing = NULL;
      if (rcy_store_read_get(&existing, store, subject, role, reader, NULL) == RCY_OK)
        row_error(&rep, "%s: subject %s already has a %s read (nothing is overwritten)", where, subject, role);
      free(existing);
      size_t j;
      json_t *d;
      json_array_foreach(docs, j, d) if (strcmp(json_string_value(json_object_get(d, "subject_id")), subject) == 0)
          row_error(&rep, "%s: subject %s appears twice", where, subject);
      json_object_set_new(doc, "subject_id", json_string(subject));
      json_array_append_new(docs, doc);
    }
  }
  json_decref(subjects);
  int rc = RCY_OK;
  if (rep.n_errors) {
    rc = rcy_error_set(err, RCY_EINVAL, "%s: %d error(s); nothing imported", path, rep.n_errors);
    goto out;
  }
  if ((rc = rcy_store_begin(store, err))) goto out;
  json_t *doc;
  json_array_foreach(docs, i, doc) {
    char *subject = strdup(json_string_value(json_object_get(doc, "subject_id")));
    json_object_del(doc, "subject_id");
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    rcy_audit_entry e = {actor, "read.import", subject, role, reader, NULL, NULL, NULL, text, path};
    rc = subject && text ? rcy_store_read_put(store, subject, role, reader, text, &e, err)
                         : rcy_error_set(err, RCY_ENOMEM, "out of memory");
    free(text);
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
