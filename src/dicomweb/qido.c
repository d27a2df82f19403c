/* QIDO-RS (PS3.18 10.6): parsing a query, matching it and building the DICOM JSON reply.
 *
 * The index answers what it holds (UIDs, the trial subject as PatientID, study dates, modalities, series and
 * instance numbers, counts). Attributes it does not hold — PatientName, StudyDescription, StudyTime,
 * AccessionNumber ... — are read from one file: the study's (or series') first instance, or the instance
 * itself. Why not new index columns: the index is the ingest's contract and its hot path; these values are
 * only shown, one file header per returned study costs about a millisecond, and a query's limit bounds it.
 * Matching on such an attribute reads that file for every candidate (docs/dicomweb.md says so).
 * Wildcards (* and ?) and lists of UIDs are matched here; exact values go to the index. */
#include "recistry/dicomweb.h"

#include "recistry/dicom.h"
#include "recistry/match.h"
#include "recistry/reads.h"

#include "scope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_STUDY_DATE 0x00080020u
#define T_STUDY_TIME 0x00080030u
#define T_ACCESSION 0x00080050u
#define T_AVAILABILITY 0x00080056u
#define T_MODALITIES 0x00080061u
#define T_MODALITY 0x00080060u
#define T_REFERRING 0x00080090u
#define T_SOP_CLASS 0x00080016u
#define T_SOP_INSTANCE 0x00080018u
#define T_RETRIEVE_URL 0x00081190u
#define T_STUDY_DESCRIPTION 0x00081030u
#define T_SERIES_DESCRIPTION 0x0008103Eu
#define T_PATIENT_NAME 0x00100010u
#define T_PATIENT_ID 0x00100020u
#define T_BIRTH_DATE 0x00100030u
#define T_SEX 0x00100040u
#define T_STUDY_UID 0x0020000Du
#define T_SERIES_UID 0x0020000Eu
#define T_STUDY_ID 0x00200010u
#define T_SERIES_NUMBER 0x00200011u
#define T_INSTANCE_NUMBER 0x00200013u
#define T_N_STUDY_SERIES 0x00201206u
#define T_N_STUDY_INSTANCES 0x00201208u
#define T_N_SERIES_INSTANCES 0x00201209u
#define T_ROWS 0x00280010u
#define T_COLUMNS 0x00280011u
#define T_TRIAL_SITE 0x00120030u

#define MAX_KEYS 32

typedef struct {
  rcy_dicom_tag tag;
  char *value;
} match_key;

struct rcy_qido_query {
  rcy_qido_level level;
  rcy_store_qido_filter f;  /* exact criteria for the index (strings point into the keys below) */
  match_key keys[MAX_KEYS]; /* every matching key as given */
  size_t n_keys;
  rcy_dicom_tag include[MAX_KEYS];
  size_t n_include;
  int include_all;
  long long limit, offset; /* limit 0: none */
  char date_from[11], date_to[11];
  char *scope_study, *scope_series;
};

/* The study- and patient-level attributes read from a study's first instance (PS3.18 Table 10.6.3-3). */
static const struct {
  rcy_dicom_tag tag;
  const char *vr; /* when the file lacks it: returned empty (PS3.18 requires these at study level) */
} study_file_tags[] = {{T_STUDY_TIME, "TM"},   {T_ACCESSION, "SH"},        {T_REFERRING, "PN"},
                       {T_PATIENT_NAME, "PN"}, {T_BIRTH_DATE, "DA"},       {T_SEX, "CS"},
                       {T_STUDY_ID, "SH"},     {T_STUDY_DESCRIPTION, "LO"}};
/* includefield=all at study and series level adds these (from the same file). */
static const rcy_dicom_tag study_all_tags[] = {
    0x00101010u, 0x00101020u, 0x00101030u, 0x00080201u, 0x00120010u, 0x00120020u, 0x00120021u,
    0x00120030u, 0x00120031u, 0x00120040u, 0x00120050u, 0x00120051u, 0x00120062u, 0x00120063u};
static const rcy_dicom_tag series_all_tags[] = {0x00080021u, 0x00080031u, 0x00180015u, 0x00181030u,
                                                0x00400244u, 0x00400245u, 0x00200052u, 0x00080070u};

void rcy_dicomweb_qido_free(rcy_qido_query *q) {
  if (!q) return;
  for (size_t i = 0; i < q->n_keys; i++)
    free(q->keys[i].value);
  free(q->scope_study);
  free(q->scope_series);
  free(q);
}

static int has_wildcard(const char *s) {
  return strpbrk(s, "*?") != NULL;
}

/* A value matches a key: a list (PS3.18 8.3.4.1: values separated by commas, or backslashes as in DIMSE)
 * matches any of its values; else wildcards. */
static int value_matches(const char *key, const char *value) {
  if (!value) value = "";
  if (strpbrk(key, "\\,")) {
    size_t n = strlen(value);
    for (const char *p = key; *p;) {
      const char *e = strpbrk(p, "\\,");
      size_t len = e ? (size_t)(e - p) : strlen(p);
      if (len == n && strncmp(p, value, n) == 0) return 1;
      if (!e) break;
      p = e + 1;
    }
    return 0;
  }
  return rcy_wildcard_match(key, value);
}

/* YYYYMMDD to ISO; "" when empty; -1 when malformed. */
static int da_to_iso(char out[11], const char *da, size_t len) {
  out[0] = '\0';
  if (len == 0) return 0;
  if (len != 8 || strspn(da, "0123456789") < 8) return -1;
  snprintf(out, 11, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
  return 0;
}

static int parse_date_range(rcy_qido_query *q, const char *v, rcy_error *err) {
  const char *dash = strchr(v, '-');
  int bad = dash ? (da_to_iso(q->date_from, v, (size_t)(dash - v)) ||
                    da_to_iso(q->date_to, dash + 1, strlen(dash + 1)))
                 : (da_to_iso(q->date_from, v, strlen(v)) || (strcpy(q->date_to, q->date_from), 0));
  if (bad)
    return rcy_error_set(err, RCY_EINVAL, "StudyDate '%s': give YYYYMMDD, or a range YYYYMMDD-YYYYMMDD", v);
  q->f.date_from = q->date_from[0] ? q->date_from : NULL;
  q->f.date_to = q->date_to[0] ? q->date_to : NULL;
  return RCY_OK;
}

static int parse_int(int *out, const char *v) {
  char *end;
  long n = strtol(v, &end, 10);
  if (!*v || *end || n < -2147483647L || n > 2147483647L) return -1;
  *out = (int)n;
  return 0;
}

static int add_include(rcy_qido_query *q, const char *list, rcy_error *err) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "all") == 0) {
      q->include_all = 1;
      continue;
    }
    rcy_dicom_tag tag;
    if (rcy_dicom_tag_parse(&tag, t))
      return rcy_error_set(err, RCY_EINVAL, "includefield: unknown attribute '%s'", t);
    if (q->n_include == MAX_KEYS)
      return rcy_error_set(err, RCY_EINVAL, "includefield: more than %d attributes", MAX_KEYS);
    q->include[q->n_include++] = tag;
  }
  return RCY_OK;
}

static int add_key(rcy_qido_query *q, const char *k, const char *v, rcy_error *err) {
  if (strchr(k, '.'))
    return rcy_error_set(err, RCY_EINVAL, "'%s': matching inside sequences is not supported", k);
  rcy_dicom_tag tag;
  if (rcy_dicom_tag_parse(&tag, k))
    return rcy_error_set(err, RCY_EINVAL, "unknown query parameter or attribute '%s'", k);
  if (q->n_keys == MAX_KEYS) return rcy_error_set(err, RCY_EINVAL, "more than %d matching keys", MAX_KEYS);
  match_key *m = &q->keys[q->n_keys];
  if (!(m->value = strdup(v))) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  m->tag = tag;
  q->n_keys++;
  if (!*v) return RCY_OK; /* universal matching: the key only asks for the attribute to be returned */
  int exact = !has_wildcard(v) && !strpbrk(v, "\\,");
  switch (tag) {
  case T_STUDY_UID:
    if (exact) q->f.study_uid = m->value;
    break;
  case T_SERIES_UID:
    if (exact) q->f.series_uid = m->value;
    break;
  case T_SOP_INSTANCE:
    if (exact) q->f.sop_instance_uid = m->value;
    break;
  case T_SOP_CLASS:
    if (exact) q->f.sop_class_uid = m->value;
    break;
  case T_PATIENT_ID:
    if (exact) q->f.subject_id = m->value;
    break;
  case T_MODALITIES:
  case T_MODALITY:
    if (exact) q->f.modality = m->value;
    break;
  case T_STUDY_DATE: return parse_date_range(q, v, err);
  case T_SERIES_NUMBER:
    if (parse_int(&q->f.series_number, v))
      return rcy_error_set(err, RCY_EINVAL, "SeriesNumber '%s' is not an integer", v);
    q->f.has_series_number = 1;
    break;
  case T_INSTANCE_NUMBER:
    if (parse_int(&q->f.instance_number, v))
      return rcy_error_set(err, RCY_EINVAL, "InstanceNumber '%s' is not an integer", v);
    q->f.has_instance_number = 1;
    break;
  default: break;
  }
  return RCY_OK;
}

int rcy_dicomweb_qido_parse(rcy_qido_query **out, rcy_qido_level level, const char *study_uid,
                            const char *series_uid, const char *const *keys, const char *const *values,
                            size_t n, rcy_error *err) {
  *out = NULL;
  rcy_qido_query *q = calloc(1, sizeof *q);
  if (!q) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  q->level = level;
  int rc = RCY_OK;
  if ((study_uid && !(q->scope_study = strdup(study_uid))) ||
      (series_uid && !(q->scope_series = strdup(series_uid))))
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  q->f.study_uid = q->scope_study;
  q->f.series_uid = q->scope_series;
  for (size_t i = 0; !rc && i < n; i++) {
    const char *k = keys[i], *v = values[i] ? values[i] : "";
    if (strcmp(k, "limit") == 0 || strcmp(k, "offset") == 0) {
      int x;
      if (parse_int(&x, v) || x < 0)
        rc = rcy_error_set(err, RCY_EINVAL, "%s must be a non-negative integer", k);
      else if (k[0] == 'l')
        q->limit = x;
      else
        q->offset = x;
    } else if (strcmp(k, "includefield") == 0)
      rc = add_include(q, v, err);
    else if (strcmp(k, "fuzzymatching") == 0)
      continue; /* not supported: matching stays exact (PS3.18 allows) */
    else
      rc = add_key(q, k, v, err);
  }
  if (rc) {
    rcy_dicomweb_qido_free(q);
    return rc;
  }
  *out = q;
  return RCY_OK;
}

/* ---- building DICOM JSON ---- */

static void hex_tag(char out[9], rcy_dicom_tag t) { snprintf(out, 9, "%08X", (unsigned)t); }

static void put(json_t *obj, rcy_dicom_tag tag, json_t *attr) {
  char k[9];
  hex_tag(k, tag);
  json_object_set_new(obj, k, attr);
}

static void put_str(json_t *obj, rcy_dicom_tag tag, const char *vr, const char *value) {
  json_t *a = json_pack("{s:s}", "vr", vr);
  if (value && *value) json_object_set_new(a, "Value", json_pack("[s]", value));
  put(obj, tag, a);
}

static void put_int(json_t *obj, rcy_dicom_tag tag, const char *vr, int has, int value) {
  json_t *a = json_pack("{s:s}", "vr", vr);
  if (has) json_object_set_new(a, "Value", json_pack("[i]", value));
  put(obj, tag, a);
}

static void put_date(json_t *obj, rcy_dicom_tag tag, const char *iso) {
  char da[9] = "";
  if (iso && strlen(iso) == 10) snprintf(da, sizeof da, "%.4s%.2s%.2s", iso, iso + 5, iso + 8);
  put_str(obj, tag, "DA", da);
}

/* ---- running a query ---- */

typedef struct {
  rcy_store *store;
  const rcy_user *user;
  const rcy_qido_query *q;
  const char *base;
  json_t *out;
  long long skipped, n;
  int truncated;
  rcy_dicomweb_scope scope;
  rcy_error *err;
} run_ctx;

typedef struct {
  char path[1024];
  int found;
} first_path;

static int keep_first(void *ctx, const rcy_store_qido_row *row) {
  first_path *f = ctx;
  snprintf(f->path, sizeof f->path, "%s", row->path ? row->path : "");
  f->found = 1;
  return 1; /* the first is enough */
}

/* The DICOM JSON of the file that stands for this row (the study's or series' first instance, or the
 * instance): NULL when it cannot be read (the reply then lacks those attributes; the log says why). */
static json_t *reference_file(run_ctx *c, const rcy_store_qido_row *row) {
  first_path f = {"", 0};
  if (c->q->level == RCY_QIDO_INSTANCE) {
    snprintf(f.path, sizeof f.path, "%s", row->path);
    f.found = 1;
  } else {
    rcy_store_qido_filter ff = {0};
    ff.study_uid = row->study_uid;
    ff.series_uid = c->q->level == RCY_QIDO_SERIES ? row->series_uid : NULL;
    rcy_error e = {0};
    int rc = rcy_store_qido(c->store, RCY_QIDO_INSTANCE, &ff, keep_first, &f, &e);
    if (rc < 0) return NULL;
  }
  if (!f.found || strstr(f.path, "..") || f.path[0] == '/') return NULL;
  char full[2048];
  snprintf(full, sizeof full, "%s/%s", rcy_store_storage_dir(c->store), f.path);
  char *text = NULL;
  rcy_error e = {0};
  if (rcy_dicom_json(&text, full, NULL, &e)) return NULL;
  json_t *j = json_loads(text, 0, NULL);
  free(text);
  return j;
}

static int is_index_tag(rcy_qido_level level, rcy_dicom_tag t) {
  switch (t) {
  case T_STUDY_UID:
  case T_PATIENT_ID:
  case T_STUDY_DATE:
  case T_MODALITIES:
  case T_N_STUDY_SERIES:
  case T_N_STUDY_INSTANCES:
  case T_AVAILABILITY:
  case T_RETRIEVE_URL: return 1;
  case T_SERIES_UID:
  case T_MODALITY:
  case T_SERIES_NUMBER:
  case T_SERIES_DESCRIPTION:
  case T_N_SERIES_INSTANCES: return level >= RCY_QIDO_SERIES;
  case T_SOP_INSTANCE:
  case T_SOP_CLASS:
  case T_INSTANCE_NUMBER:
  case T_ROWS:
  case T_COLUMNS: return level == RCY_QIDO_INSTANCE;
  default: return 0;
  }
}

static int add_modality(void *ctx, const char *m) {
  json_array_append_new(ctx, json_string(m));
  return 0;
}

static const char *json_first_string(json_t *attr) {
  json_t *v = json_array_get(json_object_get(attr, "Value"), 0);
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_object(v)) return json_string_value(json_object_get(v, "Alphabetic")); /* PN */
  return NULL;
}

static int on_row(void *ctx, const rcy_store_qido_row *row) {
  run_ctx *c = ctx;
  const rcy_qido_query *q = c->q;
  if (!rcy_dicomweb_scope_visible(&c->scope, row->subject_id)) return 0; /* the workstation's rules */
  json_t *o = json_object();
  char url[1024];
  /* index attributes */
  put_str(o, T_STUDY_UID, "UI", row->study_uid);
  put_str(o, T_PATIENT_ID, "LO", row->subject_id);
  if (q->level == RCY_QIDO_STUDY) {
    put_date(o, T_STUDY_DATE, row->study_date);
    json_t *mods = json_array();
    if (rcy_store_study_modalities(c->store, row->study_uid, add_modality, mods, c->err)) {
      json_decref(mods);
      json_decref(o);
      return -1;
    }
    json_t *a = json_pack("{s:s}", "vr", "CS");
    if (json_array_size(mods))
      json_object_set_new(a, "Value", mods);
    else
      json_decref(mods);
    put(o, T_MODALITIES, a);
    put_int(o, T_N_STUDY_SERIES, "IS", 1, row->n_study_series);
    put_int(o, T_N_STUDY_INSTANCES, "IS", 1, row->n_study_instances);
    snprintf(url, sizeof url, "%s/studies/%s", c->base, row->study_uid);
  } else {
    put_str(o, T_SERIES_UID, "UI", row->series_uid);
    if (q->level == RCY_QIDO_SERIES) {
      put_str(o, T_MODALITY, "CS", row->modality);
      put_str(o, T_SERIES_DESCRIPTION, "LO", row->series_description);
      put_int(o, T_SERIES_NUMBER, "IS", row->has_series_number, row->series_number);
      put_int(o, T_N_SERIES_INSTANCES, "IS", 1, row->n_series_instances);
      snprintf(url, sizeof url, "%s/studies/%s/series/%s", c->base, row->study_uid, row->series_uid);
    } else {
      put_str(o, T_SOP_CLASS, "UI", row->sop_class_uid);
      put_str(o, T_SOP_INSTANCE, "UI", row->sop_instance_uid);
      put_int(o, T_INSTANCE_NUMBER, "IS", row->has_instance_number, row->instance_number);
      put_int(o, T_ROWS, "US", row->rows > 0, row->rows);
      put_int(o, T_COLUMNS, "US", row->columns > 0, row->columns);
      snprintf(url, sizeof url, "%s/studies/%s/series/%s/instances/%s", c->base, row->study_uid,
               row->series_uid, row->sop_instance_uid);
    }
  }
  put_str(o, T_AVAILABILITY, "CS", "ONLINE");
  put_str(o, T_RETRIEVE_URL, "UR", url);

  /* Keys the index did not match exactly (wildcards, lists, attributes it lacks), and attributes it lacks. */
  int need_file = q->level == RCY_QIDO_STUDY || q->include_all;
  for (size_t i = 0; i < q->n_keys && !need_file; i++)
    if (!is_index_tag(q->level, q->keys[i].tag)) need_file = 1;
  for (size_t i = 0; i < q->n_include && !need_file; i++)
    if (!is_index_tag(q->level, q->include[i])) need_file = 1;
  json_t *file = need_file ? reference_file(c, row) : NULL;
  char k[9];
  for (size_t i = 0; i < q->n_keys; i++) {
    const match_key *m = &q->keys[i];
    hex_tag(k, m->tag);
    json_t *have = json_object_get(o, k);
    if (!have && file && (have = json_object_get(file, k))) json_object_set(o, k, have);
    if (!m->value[0] || m->tag == T_STUDY_DATE || m->tag == T_SERIES_NUMBER || m->tag == T_INSTANCE_NUMBER)
      continue;
    int ok = 0;
    if (m->tag == T_MODALITIES) { /* any of the study's modalities */
      size_t j;
      json_t *v;
      json_array_foreach(json_object_get(have, "Value"), j, v) ok |=
          value_matches(m->value, json_string_value(v));
    } else
      ok = value_matches(m->value, json_first_string(have));
    if (!ok) {
      json_decref(file);
      json_decref(o);
      return 0;
    }
  }
  if (file) {
    if (q->level == RCY_QIDO_STUDY)
      for (size_t i = 0; i < sizeof study_file_tags / sizeof *study_file_tags; i++) {
        hex_tag(k, study_file_tags[i].tag);
        json_t *v = json_object_get(file, k);
        if (!json_object_get(o, k))
          json_object_set_new(o, k, v ? json_incref(v) : json_pack("{s:s}", "vr", study_file_tags[i].vr));
      }
    for (size_t i = 0; i < q->n_include; i++) {
      hex_tag(k, q->include[i]);
      json_t *v = json_object_get(file, k);
      if (v && !json_object_get(o, k)) json_object_set(o, k, v);
    }
    if (q->include_all) {
      if (q->level == RCY_QIDO_INSTANCE) {
        const char *key;
        json_t *v;
        json_object_foreach(file, key, v) if (!json_object_get(o, key)) json_object_set(o, key, v);
      } else {
        const rcy_dicom_tag *list = q->level == RCY_QIDO_STUDY ? study_all_tags : series_all_tags;
        size_t n = q->level == RCY_QIDO_STUDY ? sizeof study_all_tags / sizeof *study_all_tags
                                              : sizeof series_all_tags / sizeof *series_all_tags;
        for (size_t i = 0; i < n; i++) {
          hex_tag(k, list[i]);
          json_t *v = json_object_get(file, k);
          if (v && !json_object_get(o, k)) json_object_set(o, k, v);
        }
      }
    }
    json_decref(file);
  }
  if (c->skipped < q->offset) {
    c->skipped++;
    json_decref(o);
    return 0;
  }
  long long cap = q->limit > 0 && q->limit < RCY_QIDO_MAX_RESULTS ? q->limit : RCY_QIDO_MAX_RESULTS;
  if (c->n >= cap) {
    json_decref(o);
    if (q->limit == 0 || q->limit > RCY_QIDO_MAX_RESULTS) c->truncated = 1;
    return 1; /* enough */
  }
  json_array_append_new(c->out, o);
  c->n++;
  return 0;
}

int rcy_dicomweb_qido_run(json_t **out, int *truncated, rcy_store *store, const rcy_user *user,
                          const rcy_qido_query *q, const char *base_url, rcy_error *err) {
  *out = NULL;
  *truncated = 0;
  rcy_store_qido_filter f = q->f;
  /* A site account's queries never leave its site (the reads layer checks each subject as well). */
  if (strcmp(user->role, "site") == 0) f.site_id = user->site_id;
  run_ctx c = {store, user, q, base_url, json_array(), 0, 0, 0, {0}, err};
  if (!c.out) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  int rc = rcy_dicomweb_scope_init(&c.scope, store, user, err);
  if (!rc) rc = rcy_store_qido(store, q->level, &f, on_row, &c, err);
  rcy_dicomweb_scope_clear(&c.scope);
  if (rc < 0) {
    json_decref(c.out);
    return rc;
  }
  *truncated = c.truncated;
  *out = c.out;
  return RCY_OK;
}
