/* Query/retrieve for the configured peers: which studies a peer may see (those of its sites, never
 * others), how a C-FIND identifier matches the index (PS3.4 C.2.2.2: single value, wildcards * and ?, UID
 * lists, date ranges), which keys a response carries (every key asked and only those, in the order asked:
 * the ones the index knows with their value, the others empty; PS3.4 C.4.1.1.3.2), and which files a
 * C-MOVE / C-GET sends, to which destination (a configured peer, never an address from the request).
 * The DICOM side (src/dicom/net_qr.cc) only carries keys and files. */
#include "ingest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/match.h"
#include "recistry/log.h"

enum { LV_PATIENT = 0, LV_STUDY, LV_SERIES, LV_IMAGE };

/* Tags (group << 16 | element). */
#define T_SOP_CLASS 0x00080016u
#define T_SOP_INSTANCE 0x00080018u
#define T_STUDY_DATE 0x00080020u
#define T_RETRIEVE_AE 0x00080054u
#define T_AVAILABILITY 0x00080056u
#define T_MODALITY 0x00080060u
#define T_MODALITIES_IN_STUDY 0x00080061u
#define T_SERIES_DESCRIPTION 0x0008103Eu
#define T_PATIENT_ID 0x00100020u
#define T_TRIAL_SITE_ID 0x00120030u
#define T_TRIAL_SUBJECT_ID 0x00120040u
#define T_TRIAL_TIMEPOINT_ID 0x00120050u
#define T_STUDY_UID 0x0020000Du
#define T_SERIES_UID 0x0020000Eu
#define T_SERIES_NUMBER 0x00200011u
#define T_INSTANCE_NUMBER 0x00200013u
#define T_PAT_STUDIES 0x00201200u
#define T_PAT_SERIES 0x00201202u
#define T_PAT_INSTANCES 0x00201204u
#define T_STUDY_SERIES 0x00201206u
#define T_STUDY_INSTANCES 0x00201208u
#define T_SERIES_INSTANCES 0x00201209u
#define T_ROWS 0x00280010u
#define T_COLUMNS 0x00280011u

typedef enum { M_TEXT, M_UID, M_DATE, M_NUMBER, M_MULTI, M_RETURN } match_kind;

/* The keys the index answers: the level each belongs to and how it matches. */
typedef struct {
  uint32_t tag;
  int level;
  match_kind kind;
} key_info;

static const key_info kKeys[] = {
    {T_PATIENT_ID, LV_PATIENT, M_TEXT},          {T_TRIAL_SUBJECT_ID, LV_PATIENT, M_TEXT},
    {T_PAT_STUDIES, LV_PATIENT, M_RETURN},       {T_PAT_SERIES, LV_PATIENT, M_RETURN},
    {T_PAT_INSTANCES, LV_PATIENT, M_RETURN},     {T_STUDY_UID, LV_STUDY, M_UID},
    {T_STUDY_DATE, LV_STUDY, M_DATE},            {T_MODALITIES_IN_STUDY, LV_STUDY, M_MULTI},
    {T_TRIAL_SITE_ID, LV_STUDY, M_TEXT},         {T_TRIAL_TIMEPOINT_ID, LV_STUDY, M_TEXT},
    {T_STUDY_SERIES, LV_STUDY, M_RETURN},        {T_STUDY_INSTANCES, LV_STUDY, M_RETURN},
    {T_SERIES_UID, LV_SERIES, M_UID},            {T_MODALITY, LV_SERIES, M_TEXT},
    {T_SERIES_NUMBER, LV_SERIES, M_NUMBER},      {T_SERIES_DESCRIPTION, LV_SERIES, M_TEXT},
    {T_SERIES_INSTANCES, LV_SERIES, M_RETURN},   {T_SOP_INSTANCE, LV_IMAGE, M_UID},
    {T_SOP_CLASS, LV_IMAGE, M_UID},              {T_INSTANCE_NUMBER, LV_IMAGE, M_NUMBER},
    {T_ROWS, LV_IMAGE, M_NUMBER},                {T_COLUMNS, LV_IMAGE, M_NUMBER},
    {T_RETRIEVE_AE, LV_PATIENT, M_RETURN},       {T_AVAILABILITY, LV_PATIENT, M_RETURN},
};

static const key_info *key_info_of(uint32_t tag) {
  for (size_t i = 0; i < sizeof kKeys / sizeof kKeys[0]; i++)
    if (kKeys[i].tag == tag) return &kKeys[i];
  return NULL;
}

/* ---- what the index holds, gathered per series ---- */

typedef struct {
  char *uid, *modality, *description;
  int has_number, number, n_instances;
} series_rec;

typedef struct {
  char *uid, *site_id, *subject_id, *timepoint;
  char date[9]; /* YYYYMMDD or "" */
  char modalities[160];
  series_rec *series;
  size_t n_series, cap_series;
  int n_instances;
} study_rec;

typedef struct {
  const rcy_ingest_peer *peer;
  study_rec *studies;
  size_t n, cap;
  int oom;
} gather;

static int peer_sees(const rcy_ingest_peer *peer, const char *site_id) {
  if (peer->all_sites) return 1;
  for (size_t i = 0; i < peer->n_sites; i++)
    if (strcmp(peer->sites[i], site_id) == 0) return 1;
  return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int gather_series(void *ctx, const rcy_archive_qr_series *s) {
  gather *g = ctx;
  if (!s->site_id || !peer_sees(g->peer, s->site_id)) return 0;
  study_rec *st = g->n ? &g->studies[g->n - 1] : NULL;
  if (!st || strcmp(st->uid, s->study_uid) != 0) {
    if (g->n == g->cap) {
      size_t cap = g->cap ? g->cap * 2 : 16;
      study_rec *p = realloc(g->studies, cap * sizeof *p);
      if (!p) return g->oom = 1;
      g->studies = p;
      g->cap = cap;
    }
    st = &g->studies[g->n++];
    memset(st, 0, sizeof *st);
    st->uid = strdup(s->study_uid);
    st->site_id = strdup(s->site_id);
    st->subject_id = dup_or_null(s->subject_id);
    st->timepoint = dup_or_null(s->timepoint);
    if (s->study_date && strlen(s->study_date) == 10)
      snprintf(st->date, sizeof st->date, "%.4s%.2s%.2s", s->study_date, s->study_date + 5, s->study_date + 8);
    if (!st->uid || !st->site_id) return g->oom = 1;
  }
  if (st->n_series == st->cap_series) {
    size_t cap = st->cap_series ? st->cap_series * 2 : 4;
    series_rec *p = realloc(st->series, cap * sizeof *p);
    if (!p) return g->oom = 1;
    st->series = p;
    st->cap_series = cap;
  }
  series_rec *r = &st->series[st->n_series++];
  memset(r, 0, sizeof *r);
  r->uid = strdup(s->series_uid);
  r->modality = dup_or_null(s->modality);
  r->description = dup_or_null(s->description);
  r->has_number = s->has_series_number;
  r->number = s->series_number;
  r->n_instances = s->n_instances;
  st->n_instances += s->n_instances;
  if (!r->uid) return g->oom = 1;
  /* Modalities in Study: each distinct one once, in the order first seen. */
  if (r->modality && r->modality[0]) {
    int seen = 0;
    char copy[sizeof st->modalities];
    snprintf(copy, sizeof copy, "%s", st->modalities);
    for (char *save = NULL, *m = strtok_r(copy, "\\", &save); m && !seen; m = strtok_r(NULL, "\\", &save))
      seen = strcmp(m, r->modality) == 0;
    size_t len = strlen(st->modalities);
    if (!seen && len + strlen(r->modality) + 2 < sizeof st->modalities)
      snprintf(st->modalities + len, sizeof st->modalities - len, "%s%s", len ? "\\" : "", r->modality);
  }
  return 0;
}

static void gather_free(gather *g) {
  for (size_t i = 0; i < g->n; i++) {
    study_rec *st = &g->studies[i];
    for (size_t j = 0; j < st->n_series; j++) {
      free(st->series[j].uid);
      free(st->series[j].modality);
      free(st->series[j].description);
    }
    free(st->series);
    free(st->uid);
    free(st->site_id);
    free(st->subject_id);
    free(st->timepoint);
  }
  free(g->studies);
}

/* ---- matching (PS3.4 C.2.2.2) ---- */

/* Calls test(value_i) for each backslash-separated value of key; 1 when one matches. */
static int any_value(const char *key, int (*test)(const char *k, const void *ctx), const void *ctx) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", key);
  char *save = NULL;
  for (char *v = strtok_r(buf, "\\", &save); v; v = strtok_r(NULL, "\\", &save)) {
    while (*v == ' ') v++;
    size_t n = strlen(v);
    while (n && v[n - 1] == ' ') v[--n] = '\0';
    if (test(v, ctx)) return 1;
  }
  return 0;
}

static int test_text(const char *k, const void *ctx) { return rcy_wildcard_match(k, (const char *)ctx); }
static int test_exact(const char *k, const void *ctx) { return strcmp(k, (const char *)ctx) == 0; }
static int test_number(const char *k, const void *ctx) {
  char *end;
  long v = strtol(k, &end, 10);
  return end != k && *end == '\0' && v == *(const long *)ctx;
}
static int test_date(const char *k, const void *ctx) {
  const char *d = ctx; /* YYYYMMDD */
  const char *dash = strchr(k, '-');
  if (!dash) return strcmp(k, d) == 0;
  char lo[9] = "", hi[9] = "";
  snprintf(lo, sizeof lo, "%.*s", (int)(dash - k), k);
  snprintf(hi, sizeof hi, "%s", dash + 1);
  return (!lo[0] || strcmp(d, lo) >= 0) && (!hi[0] || strcmp(d, hi) <= 0);
}
static int test_multi(const char *k, const void *ctx) {
  /* one of the entity's values (a backslash list) matches k */
  char buf[160];
  snprintf(buf, sizeof buf, "%s", (const char *)ctx);
  char *save = NULL;
  for (char *v = strtok_r(buf, "\\", &save); v; v = strtok_r(NULL, "\\", &save))
    if (rcy_wildcard_match(k, v)) return 1;
  return 0;
}

/* A key is universal when empty or only "*". */
static int universal(const char *v) { return !v || !v[0] || strcmp(v, "*") == 0; }

/* The current record: one study (and series, instance) or one patient, with what the index knows. */
typedef struct {
  int level;
  const char *our_ae;
  const char *subject_id;
  int pat_studies, pat_series, pat_instances;
  const study_rec *study;
  const series_rec *series;
  const rcy_archive_qr_instance *inst;
  char num[3][16];
} record;

/* The value of tag for the record ("" when the index holds none), or NULL when the key is not one the index
 * answers at this level (returned empty, never matched). */
static const char *value_of(record *r, uint32_t tag, char *buf, size_t len) {
  const key_info *k = key_info_of(tag);
  if (!k || k->level > r->level) return NULL;
  const study_rec *st = r->study;
  const series_rec *se = r->series;
  switch (tag) {
    case T_PATIENT_ID:
    case T_TRIAL_SUBJECT_ID: return r->subject_id ? r->subject_id : "";
    case T_PAT_STUDIES: snprintf(buf, len, "%d", r->pat_studies); return buf;
    case T_PAT_SERIES: snprintf(buf, len, "%d", r->pat_series); return buf;
    case T_PAT_INSTANCES: snprintf(buf, len, "%d", r->pat_instances); return buf;
    case T_RETRIEVE_AE: return r->our_ae;
    case T_AVAILABILITY: return "ONLINE";
    case T_STUDY_UID: return st->uid;
    case T_STUDY_DATE: return st->date;
    case T_MODALITIES_IN_STUDY: return st->modalities;
    case T_TRIAL_SITE_ID: return st->site_id;
    case T_TRIAL_TIMEPOINT_ID: return st->timepoint ? st->timepoint : "";
    case T_STUDY_SERIES: snprintf(buf, len, "%zu", st->n_series); return buf;
    case T_STUDY_INSTANCES: snprintf(buf, len, "%d", st->n_instances); return buf;
    case T_SERIES_UID: return se->uid;
    case T_MODALITY: return se->modality ? se->modality : "";
    case T_SERIES_NUMBER:
      if (!se->has_number) return "";
      snprintf(buf, len, "%d", se->number);
      return buf;
    case T_SERIES_DESCRIPTION: return se->description ? se->description : "";
    case T_SERIES_INSTANCES: snprintf(buf, len, "%d", se->n_instances); return buf;
    case T_SOP_INSTANCE: return r->inst->sop_instance_uid;
    case T_SOP_CLASS: return r->inst->sop_class_uid;
    case T_INSTANCE_NUMBER:
      if (!r->inst->has_instance_number) return "";
      snprintf(buf, len, "%d", r->inst->instance_number);
      return buf;
    case T_ROWS:
    case T_COLUMNS:
      if (!r->inst->has_rows) return "";
      snprintf(buf, len, "%d", tag == T_ROWS ? r->inst->rows : r->inst->columns);
      return buf;
  }
  return NULL;
}

/* Whether the record matches every key of the request that the index answers at or above `upto`. */
static int matches(record *r, const rcy_dicom_qr_request *rq, int upto) {
  for (size_t i = 0; i < rq->n_keys; i++) {
    const rcy_dicom_qr_key *key = &rq->keys[i];
    if (universal(key->value)) continue;
    const key_info *k = key_info_of(key->tag);
    if (!k || k->level > upto || k->kind == M_RETURN) continue;
    char buf[32];
    const char *v = value_of(r, key->tag, buf, sizeof buf);
    if (!v) continue;
    int ok;
    switch (k->kind) {
      case M_UID: ok = any_value(key->value, test_exact, v); break;
      case M_DATE: ok = v[0] && any_value(key->value, test_date, v); break;
      case M_NUMBER: {
        char *end;
        long n = strtol(v, &end, 10);
        ok = v[0] && any_value(key->value, test_number, &n);
        break;
      }
      case M_MULTI: ok = any_value(key->value, test_multi, v); break;
      default: ok = any_value(key->value, test_text, v); break;
    }
    if (!ok) return 0;
  }
  return 1;
}

/* ---- walking the levels ---- */

const char *rcy_qr_level(const rcy_dicom_qr_request *rq) {
  if (!rq->level) return NULL;
  if (strcmp(rq->level, "STUDY") == 0) return "STUDY";
  if (strcmp(rq->level, "SERIES") == 0) return "SERIES";
  if (strcmp(rq->level, "IMAGE") == 0) return "IMAGE";
  if (strcmp(rq->level, "PATIENT") == 0 && rq->patient_root) return "PATIENT";
  return NULL;
}

static int level_num(const char *level) {
  if (strcmp(level, "PATIENT") == 0) return LV_PATIENT;
  if (strcmp(level, "STUDY") == 0) return LV_STUDY;
  if (strcmp(level, "SERIES") == 0) return LV_SERIES;
  return LV_IMAGE;
}

/* The single exact value of a UID key, when the request names one (then the index is narrowed by it). */
static const char *single_uid(const rcy_dicom_qr_request *rq, uint32_t tag) {
  for (size_t i = 0; i < rq->n_keys; i++)
    if (rq->keys[i].tag == tag)
      return universal(rq->keys[i].value) || strchr(rq->keys[i].value, '\\') ? NULL : rq->keys[i].value;
  return NULL;
}

typedef struct walker walker;
struct walker {
  const rcy_dicom_qr_request *rq;
  rcy_store *store;
  int level;
  record rec;
  /* a match at the request's level (FIND: emit it; retrieve: gather its files) */
  int (*on_match)(walker *w);
  int n_matched;
  int stop;
  rcy_error err;
  int failed;
  /* FIND */
  int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n);
  void *emit_ctx;
  /* retrieve */
  rcy_dicom_qr_files *files;
  size_t cap_files;
};

static int walk_instance(void *ctx, const rcy_archive_qr_instance *i) {
  walker *w = ctx;
  w->rec.inst = i;
  w->rec.level = LV_IMAGE;
  if (!matches(&w->rec, w->rq, LV_IMAGE)) return 0;
  return w->on_match(w);
}

static int walk_series(walker *w, const study_rec *st) {
  for (size_t j = 0; j < st->n_series && !w->stop; j++) {
    w->rec.series = &st->series[j];
    w->rec.level = LV_SERIES;
    if (!matches(&w->rec, w->rq, LV_SERIES)) continue;
    if (w->level == LV_SERIES) {
      if ((w->stop = w->on_match(w))) break;
      continue;
    }
    int rc = rcy_archive_qr_instances_each(w->store, st->series[j].uid, walk_instance, w, &w->err);
    if (rc < 0) w->failed = w->stop = 1;
    else if (rc) w->stop = 1;
  }
  return w->stop;
}

static int walk_study(walker *w, const study_rec *st) {
  w->rec.study = st;
  w->rec.series = NULL;
  w->rec.level = LV_STUDY;
  if (!matches(&w->rec, w->rq, LV_STUDY)) return 0;
  if (w->level == LV_STUDY) return w->stop = w->on_match(w);
  return walk_series(w, st);
}

static int cmp_subject(const void *a, const void *b) {
  const study_rec *x = *(study_rec *const *)a, *y = *(study_rec *const *)b;
  return strcmp(x->subject_id ? x->subject_id : "", y->subject_id ? y->subject_id : "");
}

/* Runs the request's walk over what the peer may see. Returns 0, or the DIMSE status of a failure. */
static unsigned walk(walker *w, const rcy_ingest_peer *peer, char *comment, size_t comment_len) {
  const char *level = rcy_qr_level(w->rq);
  if (!level) {
    snprintf(comment, comment_len, "Query/Retrieve Level missing or not one of this model's");
    return RCY_DICOM_STATUS_QR_IDENTIFIER_MISMATCH;
  }
  w->level = level_num(level);
  gather g = {peer, NULL, 0, 0, 0};
  const char *study = single_uid(w->rq, T_STUDY_UID);
  const char *series = w->level >= LV_SERIES ? single_uid(w->rq, T_SERIES_UID) : NULL;
  int rc = rcy_archive_qr_series_each(w->store, study, series, gather_series, &g, &w->err);
  unsigned status = 0;
  if (rc < 0 || g.oom) {
    rcy_log(RCY_LOG_ERROR, "ingest", "query/retrieve: %s", g.oom ? "out of memory" : w->err.message);
    snprintf(comment, comment_len, "the index could not be read");
    gather_free(&g);
    return RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS;
  }
  if (w->level == LV_PATIENT) {
    /* One record per subject: the patient keys match on it, its studies give the counts. */
    study_rec **by = g.n ? malloc(g.n * sizeof *by) : NULL;
    if (g.n && !by) status = RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS;
    for (size_t i = 0; by && i < g.n; i++) by[i] = &g.studies[i];
    if (by) qsort(by, g.n, sizeof *by, cmp_subject);
    for (size_t i = 0; by && i < g.n && !w->stop;) {
      size_t j = i;
      w->rec.subject_id = by[i]->subject_id;
      w->rec.pat_studies = w->rec.pat_series = w->rec.pat_instances = 0;
      for (; j < g.n && cmp_subject(&by[i], &by[j]) == 0; j++) {
        w->rec.pat_studies++;
        w->rec.pat_series += (int)by[j]->n_series;
        w->rec.pat_instances += by[j]->n_instances;
      }
      w->rec.level = LV_PATIENT;
      w->rec.study = by[i];
      if (matches(&w->rec, w->rq, LV_PATIENT)) {
        if (w->files) { /* a retrieve of a patient: every study of it */
          for (size_t k = i; k < j && !w->stop; k++) {
            w->rec.study = by[k];
            w->stop = w->on_match(w);
          }
        } else {
          w->stop = w->on_match(w);
        }
      }
      i = j;
    }
    free(by);
  } else {
    for (size_t i = 0; i < g.n && !w->stop; i++) {
      w->rec.subject_id = g.studies[i].subject_id;
      walk_study(w, &g.studies[i]);
    }
  }
  if (w->failed) {
    rcy_log(RCY_LOG_ERROR, "ingest", "query/retrieve: %s", w->err.message);
    snprintf(comment, comment_len, "the index could not be read");
    status = RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS;
  }
  gather_free(&g);
  return status;
}

/* ---- C-FIND ---- */

static int find_match(walker *w) {
  w->n_matched++;
  size_t n = w->rq->n_keys;
  rcy_dicom_qr_key *out = malloc((n + 1) * sizeof *out);
  char (*bufs)[32] = malloc((n + 1) * sizeof *bufs);
  if (!out || !bufs) {
    free(out);
    free(bufs);
    return 1;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const char *v = value_of(&w->rec, w->rq->keys[i].tag, bufs[m], sizeof bufs[m]);
    out[m].tag = w->rq->keys[i].tag;
    out[m].value = v ? v : "";
    m++;
  }
  int rc = w->emit(w->emit_ctx, out, m);
  free(out);
  free(bufs);
  return rc;
}

unsigned rcy_qr_find(int *n_matched, rcy_store *store, const rcy_ingest_peer *peer, const rcy_dicom_qr_request *rq,
                     const char *our_ae_title, int (*emit)(void *ctx, const rcy_dicom_qr_key *keys, size_t n),
                     void *emit_ctx, char *comment, size_t comment_len) {
  *n_matched = 0;
  if (!(peer->rights & RCY_PEER_FIND)) {
    snprintf(comment, comment_len, "not authorised to query");
    return RCY_DICOM_STATUS_QR_NOT_AUTHORISED;
  }
  walker w;
  memset(&w, 0, sizeof w);
  w.rq = rq;
  w.store = store;
  w.rec.our_ae = our_ae_title;
  w.on_match = find_match;
  w.emit = emit;
  w.emit_ctx = emit_ctx;
  unsigned status = walk(&w, peer, comment, comment_len);
  *n_matched = w.n_matched;
  return status;
}

/* ---- C-MOVE / C-GET ---- */

static int add_file(void *ctx, const rcy_archive_qr_instance *i) {
  walker *w = ctx;
  rcy_dicom_qr_files *f = w->files;
  if (f->n == w->cap_files) {
    size_t cap = w->cap_files ? w->cap_files * 2 : 64;
    rcy_dicom_qr_file *p = realloc(f->files, cap * sizeof *p);
    if (!p) return 1;
    f->files = p;
    w->cap_files = cap;
  }
  rcy_dicom_qr_file *e = &f->files[f->n];
  size_t len = strlen(rcy_store_storage_dir(w->store)) + strlen(i->path) + 2;
  e->path = malloc(len);
  if (e->path) snprintf(e->path, len, "%s/%s", rcy_store_storage_dir(w->store), i->path);
  e->sop_class_uid = strdup(i->sop_class_uid);
  e->sop_instance_uid = strdup(i->sop_instance_uid);
  e->transfer_syntax_uid = strdup(i->transfer_syntax_uid);
  f->n++;
  if (!e->path || !e->sop_class_uid || !e->sop_instance_uid || !e->transfer_syntax_uid) return 1;
  w->n_matched++;
  return 0;
}

/* A match at the request's level: every instance below it. */
static int retrieve_match(walker *w) {
  if (w->level == LV_IMAGE) return add_file(w, w->rec.inst);
  if (w->level == LV_SERIES) {
    int rc = rcy_archive_qr_instances_each(w->store, w->rec.series->uid, add_file, w, &w->err);
    if (rc < 0) w->failed = 1;
    return rc != 0;
  }
  /* STUDY (and each study of a PATIENT): every series of the study, whatever the series keys say (none belong in a study-level retrieve) */
  for (size_t j = 0; j < w->rec.study->n_series; j++) {
    int rc = rcy_archive_qr_instances_each(w->store, w->rec.study->series[j].uid, add_file, w, &w->err);
    if (rc < 0) w->failed = 1;
    if (rc) return 1;
  }
  return 0;
}

void rcy_qr_files_clear(rcy_dicom_qr_files *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->files[i].path);
    free(f->files[i].sop_class_uid);
    free(f->files[i].sop_instance_uid);
    free(f->files[i].transfer_syntax_uid);
  }
  free(f->files);
  free(f->dest_host);
  free(f->dest_ae_title);
  free(f->our_ae_title);
  memset(f, 0, sizeof *f);
}

unsigned rcy_qr_retrieve(rcy_dicom_qr_files *out, rcy_store *store, const rcy_ingest_config *cfg,
                         const rcy_ingest_peer *peer, const rcy_dicom_qr_request *rq, char *comment,
                         size_t comment_len) {
  memset(out, 0, sizeof *out);
  int move = rq->service == RCY_DICOM_SERVICE_MOVE;
  if (!(peer->rights & (move ? RCY_PEER_MOVE : RCY_PEER_GET))) {
    snprintf(comment, comment_len, "not authorised to %s", move ? "move" : "get");
    return RCY_DICOM_STATUS_QR_NOT_AUTHORISED;
  }
  if (move) {
    /* The destination is a configured peer with an address and a port: never one the request names. */
    const rcy_ingest_peer *dest = rq->move_destination ? rcy_ingest_config_peer(cfg, rq->move_destination) : NULL;
    if (!dest || !dest->port || !dest->n_hosts) {
      snprintf(comment, comment_len, "move destination is not a configured peer with host and port");
      return RCY_DICOM_STATUS_QR_UNKNOWN_DESTINATION;
    }
    out->dest_host = strdup(dest->hosts[0]);
    out->dest_port = dest->port;
    out->dest_ae_title = strdup(dest->ae_title);
    out->dest_tls = dest->tls == RCY_TLS_REQUIRED;
    out->dest_tls_client = (rcy_dicom_tls_client){cfg->tls_certificate, cfg->tls_private_key, dest->tls_certificate};
  }
  out->our_ae_title = strdup(cfg->ae_title);
  walker w;
  memset(&w, 0, sizeof w);
  w.rq = rq;
  w.store = store;
  w.rec.our_ae = cfg->ae_title;
  w.on_match = retrieve_match;
  w.files = out;
  unsigned status = walk(&w, peer, comment, comment_len);
  if (!status && (w.stop || !out->our_ae_title || (move && (!out->dest_host || !out->dest_ae_title)))) {
    snprintf(comment, comment_len, "out of memory listing the instances");
    status = RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS;
  }
  if (status) rcy_qr_files_clear(out);
  return status;
}
