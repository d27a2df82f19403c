/* CDISC SDTM TU (tumour identification), TR (tumour results) and RS (disease response) from the archive's
 * reads, with a variable-level metadata file, a codelist file and the export's provenance (docs/exports.md).
 * One TU record per lesion where it is first identified; TR: each lesion's measurement or state at each
 * signed timepoint and the sum of diameters; RS: target, non-target, new-lesion and overall response per
 * follow-up and the best overall response, all as the RECIST engine derives them (no response is computed
 * here). Where the SDTM IG leaves a choice, the pharmaverse example datasets (pharmaversesdtm tu_onco,
 * tr_onco, rs_onco and their
 * *_recist variants) are followed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "export_internal.h"
#include "recistry/qa.h"

/* ---- terms -----------------------------------------------------------------------------------------------
 */

static const struct {
  const char *organ, *loc;
} locations[] = {
    {"abdominal wall", "ABDOMINAL WALL"},
    {"adrenal gland", "ADRENAL GLAND"},
    {"bone", "BONE"},
    {"brain", "BRAIN"},
    {"chest wall", "CHEST WALL"},
    {"colon", "COLON"},
    {"kidney", "KIDNEY"},
    {"liver", "LIVER"},
    {"lung", "LUNG"},
    {"lymph node", "LYMPH NODE"},
    {"mediastinum", "MEDIASTINUM"},
    {"ovary", "OVARY"},
    {"pancreas", "PANCREAS"},
    {"peritoneum", "PERITONEUM"},
    {"pleura", "PLEURA"},
    {"rectum", "RECTUM"},
    {"skin", "SKIN"},
    {"soft tissue", "SOFT TISSUE"},
    {"spleen", "SPLEEN"},
    {"stomach", "STOMACH"},
};

const char *rcy_qa_sdtm_location(const char *organ, bool nodal) {
  if (nodal) return "LYMPH NODE";
  for (size_t i = 0; organ && i < sizeof locations / sizeof locations[0]; i++)
    if (!strcasecmp(organ, locations[i].organ)) return locations[i].loc;
  return NULL;
}

const char *rcy_qa_sdtm_response(const char *engine_response) {
  static const char *const map[][2] = {{"CR", "CR"}, {"PR", "PR"}, {"SD", "SD"},
                                       {"PD", "PD"}, {"NE", "NE"}, {"NON_CR_NON_PD", "NON-CR/NON-PD"}};
  for (size_t i = 0; engine_response && i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(engine_response, map[i][0])) return map[i][1];
  return NULL; /* NONE (no lesion of that kind) or null (baseline): no record */
}

const char *rcy_qa_sdtm_tumour_state(const char *engine_state) {
  static const char *const map[][2] = {{"present", "PRESENT"},
                                       {"absent", "ABSENT"},
                                       {"unequivocal_progression", "UNEQUIVOCAL"},
                                       {"equivocal", "EQUIVOCAL"},
                                       {"unequivocal", "UNEQUIVOCAL"}};
  for (size_t i = 0; engine_state && i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(engine_state, map[i][0])) return map[i][1];
  return NULL; /* not_evaluable: TRSTAT NOT DONE */
}

const char *rcy_qa_sdtm_method(const char *modality) {
  if (modality && !strcmp(modality, "CT")) return "CT SCAN";
  if (modality && !strcmp(modality, "MR")) return "MRI";
  return NULL;
}

/* ---- variables
 * --------------------------------------------------------------------------------------------- */

typedef struct var {
  const char *name, *label, *type, *codelist, *origin, *role;
} var;

#define COMMON_VARS(P)                                                                                       \
  {"STUDYID", "Study Identifier", "Char", "", "Assigned", "Identifier"},                                     \
      {"DOMAIN", "Domain Abbreviation", "Char", "DOMAIN", "Assigned", "Identifier"},                         \
      {"USUBJID", "Unique Subject Identifier", "Char", "", "Derived", "Identifier"}, {                       \
    P "SEQ", "Sequence Number", "Num", "", "Derived", "Identifier"                                           \
  }

static const var tu_vars[] = {
    COMMON_VARS("TU"),
    {"TULNKID", "Link ID", "Char", "", "Assigned", "Identifier"},
    {"TUTESTCD", "Tumor/Lesion ID Short Name", "Char", "TUTESTCD", "Assigned", "Topic"},
    {"TUTEST", "Tumor/Lesion ID Test Name", "Char", "TUTEST", "Assigned", "Synonym Qualifier"},
    {"TUORRES", "Tumor/Lesion ID Result", "Char", "TUIDRS", "Collected", "Result Qualifier"},
    {"TUSTRESC", "Tumor/Lesion ID Result Std. Format", "Char", "TUIDRS", "Derived", "Result Qualifier"},
    {"TULOC", "Location of the Tumor/Lesion", "Char", "LOC", "Collected", "Record Qualifier"},
    {"TUMETHOD", "Method of Identification", "Char", "METHOD", "Derived", "Record Qualifier"},
    {"TUEVAL", "Evaluator", "Char", "EVAL", "Assigned", "Record Qualifier"},
    {"TUEVALID", "Evaluator Identifier", "Char", "MEDEVAL", "Assigned", "Record Qualifier"},
    {"TUACPTFL", "Accepted Record Flag", "Char", "NY", "Derived", "Record Qualifier"},
    {"VISITNUM", "Visit Number", "Num", "", "Derived", "Timing"},
    {"VISIT", "Visit Name", "Char", "", "Collected", "Timing"},
    {"TUDTC", "Date/Time of Tumor/Lesion Identification", "Char", "ISO 8601", "Collected", "Timing"},
    {"TUDY", "Study Day of Tumor/Lesion Identification", "Num", "", "Derived", "Timing"},
};

static const var tr_vars[] = {
    COMMON_VARS("TR"),
    {"TRGRPID", "Group ID", "Char", "", "Assigned", "Identifier"},
    {"TRLNKID", "Link ID", "Char", "", "Assigned", "Identifier"},
    {"TRTESTCD", "Tumor/Lesion Assessment Short Name", "Char", "TRTESTCD", "Assigned", "Topic"},
    {"TRTEST", "Tumor/Lesion Assessment Test Name", "Char", "TRTEST", "Assigned", "Synonym Qualifier"},
    {"TRORRES", "Result or Finding in Original Units", "Char", "", "Collected", "Result Qualifier"},
    {"TRORRESU", "Original Units", "Char", "UNIT", "Assigned", "Variable Qualifier"},
    {"TRSTRESC", "Character Result/Finding in Std Format", "Char", "TUMSTATE (TRTESTCD = TUMSTATE)",
     "Derived", "Result Qualifier"},
    {"TRSTRESN", "Numeric Result/Finding in Standard Units", "Num", "", "Derived", "Result Qualifier"},
    {"TRSTRESU", "Standard Units", "Char", "UNIT", "Assigned", "Variable Qualifier"},
    {"TRSTAT", "Completion Status", "Char", "ND", "Collected", "Record Qualifier"},
    {"TRREASND", "Reason Not Done", "Char", "", "Collected", "Record Qualifier"},
    {"TRMETHOD", "Method Used to Identify the Tumor/Lesion", "Char", "METHOD", "Derived", "Record Qualifier"},
    {"TREVAL", "Evaluator", "Char", "EVAL", "Assigned", "Record Qualifier"},
    {"TREVALID", "Evaluator Identifier", "Char", "MEDEVAL", "Assigned", "Record Qualifier"},
    {"TRACPTFL", "Accepted Record Flag", "Char", "NY", "Derived", "Record Qualifier"},
    {"VISITNUM", "Visit Number", "Num", "", "Derived", "Timing"},
    {"VISIT", "Visit Name", "Char", "", "Collected", "Timing"},
    {"TRDTC", "Date/Time of Tumor/Lesion Measurement", "Char", "ISO 8601", "Collected", "Timing"},
    {"TRDY", "Study Day of Tumor/Lesion Measurement", "Num", "", "Derived", "Timing"},
};

static const var rs_vars[] = {
    COMMON_VARS("RS"),
    {"RSTESTCD", "Assessment Short Name", "Char", "RSTESTCD", "Assigned", "Topic"},
    {"RSTEST", "Assessment Name", "Char", "RSTEST", "Assigned", "Synonym Qualifier"},
    {"RSCAT", "Category for Assessment", "Char", "RSCAT", "Assigned", "Grouping Qualifier"},
    {"RSORRES", "Result or Finding in Original Units", "Char", "", "Derived", "Result Qualifier"},
    {"RSSTRESC", "Character Result/Finding in Std Format", "Char", "RSRESP", "Derived", "Result Qualifier"},
    {"RSEVAL", "Evaluator", "Char", "EVAL", "Assigned", "Record Qualifier"},
    {"RSEVALID", "Evaluator Identifier", "Char", "MEDEVAL", "Assigned", "Record Qualifier"},
    {"RSACPTFL", "Accepted Record Flag", "Char", "NY", "Derived", "Record Qualifier"},
    {"VISITNUM", "Visit Number", "Num", "", "Derived", "Timing"},
    {"VISIT", "Visit Name", "Char", "", "Collected", "Timing"},
    {"RSDTC", "Date/Time of Assessment", "Char", "ISO 8601", "Collected", "Timing"},
    {"RSDY", "Study Day of Assessment", "Num", "", "Derived", "Timing"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The terms of every codelist declared in define_variables.csv (define_codelists.csv). RSRESP holds the RS
 * results of every test: the response terms and NEWLPROG's Y/N. */
static const struct {
  const char *codelist, *terms;
} codelists[] = {
    {"DOMAIN", "TU|TR|RS"},
    {"TUTESTCD", "TUMIDENT"},
    {"TUTEST", "Tumor Identification"},
    {"TUIDRS", "TARGET|NON-TARGET|NEW"},
    {"LOC",
     "ABDOMINAL WALL|ADRENAL GLAND|BONE|BRAIN|CHEST WALL|COLON|KIDNEY|LIVER|LUNG|LYMPH NODE|MEDIASTINUM|"
     "OVARY|PANCREAS|PERITONEUM|PLEURA|RECTUM|SKIN|SOFT TISSUE|SPLEEN|STOMACH"},
    {"METHOD", "CT SCAN|MRI"},
    {"EVAL", "INVESTIGATOR|INDEPENDENT ASSESSOR"},
    {"MEDEVAL", "RADIOLOGIST 1|RADIOLOGIST 2|RADIOLOGIST 3|RADIOLOGIST 4|ADJUDICATOR"},
    {"NY", "Y|N"},
    {"TRTESTCD", "LDIAM|LPERP|SUMDIAM|TUMSTATE"},
    {"TRTEST", "Longest Diameter|Longest Perpendicular|Sum of Diameters|Tumor State"},
    {"UNIT", "mm"},
    {"TUMSTATE", "PRESENT|ABSENT|EQUIVOCAL|UNEQUIVOCAL"},
    {"ND", "NOT DONE"},
    {"RSTESTCD", "TRGRESP|NTRGRESP|NEWLPROG|OVRLRESP|BESTRSP"},
    {"RSTEST",
     "Target Response|Non-target Response|New Lesion Progression|Overall Response|Best Overall Response"},
    {"RSCAT", "RECIST 1.1"},
    {"RSRESP", "CR|PR|SD|NON-CR/NON-PD|PD|NE|Y|N"},
};

/* ---- building the datasets ------------------------------------------------------------------------------
 */

typedef struct lesion {
  const char *id, *kind, *organ; /* kind: TARGET | NON-TARGET | NEW */
  bool nodal;
  size_t visit; /* index of the assessment where it is first identified */
} lesion;

typedef struct builder {
  const char *study;
  export_table tu, tr, rs;
  char last_subject[RCY_NAME_MAX + 1];
  long seq_tu, seq_tr, seq_rs;
  int rc;
} builder;

static const char *const tu_cols[] = {"STUDYID",  "DOMAIN",   "USUBJID",  "TUSEQ", "TULNKID",  "TUTESTCD",
                                      "TUTEST",   "TUORRES",  "TUSTRESC", "TULOC", "TUMETHOD", "TUEVAL",
                                      "TUEVALID", "TUACPTFL", "VISITNUM", "VISIT", "TUDTC",    "TUDY"};
static const char *const tr_cols[] = {"STUDYID",  "DOMAIN",   "USUBJID",  "TRSEQ",    "TRGRPID",  "TRLNKID",
                                      "TRTESTCD", "TRTEST",   "TRORRES",  "TRORRESU", "TRSTRESC", "TRSTRESN",
                                      "TRSTRESU", "TRSTAT",   "TRREASND", "TRMETHOD", "TREVAL",   "TREVALID",
                                      "TRACPTFL", "VISITNUM", "VISIT",    "TRDTC",    "TRDY"};
static const char *const rs_cols[] = {"STUDYID",  "DOMAIN",  "USUBJID",  "RSSEQ",  "RSTESTCD", "RSTEST",
                                      "RSCAT",    "RSORRES", "RSSTRESC", "RSEVAL", "RSEVALID", "RSACPTFL",
                                      "VISITNUM", "VISIT",   "RSDTC",    "RSDY"};

/* What every record of one read at one visit shares. */
typedef struct ctx {
  builder *b;
  const export_read *read;
  char usubjid[2 * RCY_NAME_MAX + 2], prefix[16];
  const char *eval, *evalid, *acptfl, *rfstdtc;
} ctx;

static void set(builder *b, export_table *t, long row, const char *col, const char *v) {
  if (!b->rc && row < 0) b->rc = RCY_ENOMEM;
  if (!b->rc) b->rc = export_table_set(t, row, col, v);
}

/* A new record with the identifiers, evaluator and timing variables filled; visit < 0: none (BESTRSP). */
static long record(ctx *c, export_table *t, const char *p, long *seq, long visit) {
  builder *b = c->b;
  long row = export_table_row(t);
  char col[16], num[32];
  set(b, t, row, "STUDYID", b->study);
  set(b, t, row, "DOMAIN", p);
  set(b, t, row, "USUBJID", c->usubjid);
  snprintf(num, sizeof num, "%ld", ++*seq);
  snprintf(col, sizeof col, "%sSEQ", p);
  set(b, t, row, col, num);
  snprintf(col, sizeof col, "%sEVAL", p);
  set(b, t, row, col, c->eval);
  snprintf(col, sizeof col, "%sEVALID", p);
  set(b, t, row, col, c->evalid);
  snprintf(col, sizeof col, "%sACPTFL", p);
  set(b, t, row, col, c->acptfl);
  if (visit >= 0) {
    const json_t *a = json_array_get(json_object_get(c->read->input, "assessments"), (size_t)visit);
    const char *date = json_string_value(json_object_get(a, "date"));
    snprintf(num, sizeof num, "%ld", visit + 1);
    set(b, t, row, "VISITNUM", num);
    set(b, t, row, "VISIT", json_string_value(json_object_get(a, "timepoint")));
    snprintf(col, sizeof col, "%sDTC", p);
    set(b, t, row, col, date);
    int days;
    if (export_days_between(&days, c->rfstdtc, date)) {
      snprintf(num, sizeof num, "%d", days >= 0 ? days + 1 : days); /* SDTM study day: no day 0 */
      snprintf(col, sizeof col, "%sDY", p);
      set(b, t, row, col, num);
    }
  }
  return row;
}

static const char *method_at(const export_read *r, size_t visit) {
  const json_t *a = json_array_get(json_object_get(r->input, "assessments"), visit);
  const rcy_timepoint *tp =
      rcy_reads_timepoint_find(&r->tps, json_string_value(json_object_get(a, "timepoint")));
  return tp ? rcy_qa_sdtm_method(tp->modality) : NULL;
}

/* The read's lesions: baseline targets, baseline non-targets, then new lesions in order of first sight. */
static lesion *catalogue(const json_t *assessments, size_t *n) {
  size_t cap = 0, k;
  json_t *a;
  json_array_foreach(assessments, k, a) cap += json_array_size(json_object_get(a, "new_lesions"));
  json_t *bl = json_array_get(assessments, 0);
  cap += json_array_size(json_object_get(bl, "target")) + json_array_size(json_object_get(bl, "non_target"));
  lesion *l = calloc(cap + 1, sizeof *l);
  *n = 0;
  if (!l) return NULL;
  static const char *const groups[][2] = {{"target", "TARGET"}, {"non_target", "NON-TARGET"}};
  for (size_t g = 0; g < 2; g++) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(bl, groups[g][0]), i, e) {
      l[*n] = (lesion){json_string_value(json_object_get(e, "lesion_id")), groups[g][1],
                       json_string_value(json_object_get(e, "organ")),
                       json_is_true(json_object_get(e, "nodal")), 0};
      if (l[*n].id) (*n)++;
    }
  }
  json_array_foreach(assessments, k, a) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, "new_lesions"), i, e) {
      const char *id = json_string_value(json_object_get(e, "lesion_id"));
      bool seen = !id;
      for (size_t j = 0; j < *n && !seen; j++)
        seen = !strcmp(l[j].id, id);
      if (seen) continue;
      l[*n] = (lesion){id, "NEW", json_string_value(json_object_get(e, "organ")),
                       json_is_true(json_object_get(e, "nodal")), k};
      (*n)++;
    }
  }
  return l;
}

static const lesion *find_lesion(const lesion *l, size_t n, const char *id) {
  for (size_t i = 0; id && i < n; i++)
    if (!strcmp(l[i].id, id)) return &l[i];
  return NULL;
}

static void link_id(char *buf, size_t size, const ctx *c, const char *lesion_id) {
  snprintf(buf, size, "%s%s", c->prefix, lesion_id);
}

/* One target lesion at one visit: LDIAM (LPERP for a lymph node: the short axis RECIST measures) with the
 * value the engine counts (too small: 5 mm; disappeared, merged: 0; fragments: their sum). */
static void target_record(ctx *c, const lesion *les, const json_t *e, size_t visit) {
  builder *b = c->b;
  long row = record(c, &b->tr, "TR", &b->seq_tr, (long)visit);
  char id[64], num[32] = "";
  link_id(id, sizeof id, c, les->id);
  set(b, &b->tr, row, "TRGRPID", "TARGET");
  set(b, &b->tr, row, "TRLNKID", id);
  set(b, &b->tr, row, "TRTESTCD", les->nodal ? "LPERP" : "LDIAM");
  set(b, &b->tr, row, "TRTEST", les->nodal ? "Longest Perpendicular" : "Longest Diameter");
  set(b, &b->tr, row, "TRMETHOD", method_at(c->read, visit));
  const char *state = json_string_value(json_object_get(e, "state"));
  const json_t *d = json_object_get(e, "diameter_mm"), *frag = json_object_get(e, "fragments_mm");
  const char *orres = NULL;
  double v = 0;
  bool has = true;
  if (json_is_number(d)) {
    v = json_number_value(d);
  } else if (json_is_array(frag)) {
    size_t i;
    json_t *f;
    json_array_foreach(frag, i, f) v += json_number_value(f);
  } else if (json_object_get(e, "merged_into")) {
    v = 0;
  } else if (state && !strcmp(state, "too_small")) {
    v = 5;
    orres = "TOO SMALL TO MEASURE";
  } else if (state && !strcmp(state, "disappeared")) {
    v = 0;
  } else {
    has = false; /* not_evaluable */
  }
  if (has) {
    export_number(num, sizeof num, v);
    set(b, &b->tr, row, "TRORRES", orres ? orres : num);
    set(b, &b->tr, row, "TRORRESU", orres ? NULL : "mm");
    set(b, &b->tr, row, "TRSTRESC", num);
    set(b, &b->tr, row, "TRSTRESN", num);
    set(b, &b->tr, row, "TRSTRESU", "mm");
  } else {
    set(b, &b->tr, row, "TRSTAT", "NOT DONE");
    set(b, &b->tr, row, "TRREASND", "NOT EVALUABLE");
  }
}

static void state_record(ctx *c, const lesion *les, const json_t *e, size_t visit) {
  builder *b = c->b;
  long row = record(c, &b->tr, "TR", &b->seq_tr, (long)visit);
  char id[64];
  link_id(id, sizeof id, c, les->id);
  set(b, &b->tr, row, "TRGRPID", les->kind);
  set(b, &b->tr, row, "TRLNKID", id);
  set(b, &b->tr, row, "TRTESTCD", "TUMSTATE");
  set(b, &b->tr, row, "TRTEST", "Tumor State");
  set(b, &b->tr, row, "TRMETHOD", method_at(c->read, visit));
  const char *term = rcy_qa_sdtm_tumour_state(json_string_value(json_object_get(e, "state")));
  if (term) {
    set(b, &b->tr, row, "TRORRES", term);
    set(b, &b->tr, row, "TRSTRESC", term);
  } else {
    set(b, &b->tr, row, "TRSTAT", "NOT DONE");
    set(b, &b->tr, row, "TRREASND", "NOT EVALUABLE");
  }
}

static void rs_record(ctx *c, long visit, const char *testcd, const char *test, const char *result) {
  if (!result) return;
  builder *b = c->b;
  long row = record(c, &b->rs, "RS", &b->seq_rs, visit);
  set(b, &b->rs, row, "RSTESTCD", testcd);
  set(b, &b->rs, row, "RSTEST", test);
  set(b, &b->rs, row, "RSCAT", "RECIST 1.1");
  set(b, &b->rs, row, "RSORRES", result);
  set(b, &b->rs, row, "RSSTRESC", result);
}

static const json_t *result_at(const export_read *r, const char *timepoint) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(r->result, "timepoints"), i, t) {
    const char *label = json_string_value(json_object_get(t, "timepoint"));
    if (label && timepoint && !strcmp(label, timepoint)) return t;
  }
  return NULL;
}

static void add_read(builder *b, const export_read *r) {
  ctx c = {.b = b, .read = r};
  /* USUBJID is unique across studies: STUDYID-subject. CIREL's subject IDs already begin with the study
   * ("CIREL-014-0001"): they are used as they are rather than doubled. */
  size_t sl = strlen(b->study);
  if (strncmp(r->subject_id, b->study, sl) == 0 && r->subject_id[sl] == '-')
    snprintf(c.usubjid, sizeof c.usubjid, "%s", r->subject_id);
  else
    snprintf(c.usubjid, sizeof c.usubjid, "%s-%s", b->study, r->subject_id);
  if (strcmp(b->last_subject, r->subject_id)) {
    snprintf(b->last_subject, sizeof b->last_subject, "%s", r->subject_id);
    b->seq_tu = b->seq_tr = b->seq_rs = 0;
  }
  bool site = !strcmp(r->role, "site");
  char evalid[32] = "";
  if (!site && !strcmp(r->position, "ADJ"))
    snprintf(evalid, sizeof evalid, "ADJUDICATOR");
  else if (!site)
    snprintf(evalid, sizeof evalid, "RADIOLOGIST %s", r->position + 1);
  c.eval = site ? "INVESTIGATOR" : "INDEPENDENT ASSESSOR";
  c.evalid = evalid;
  c.acptfl = r->accepted ? "Y" : NULL;
  if (!site) snprintf(c.prefix, sizeof c.prefix, "%s-", r->position);
  c.rfstdtc = r->has_registry && r->registry.treatment_start[0]
                  ? r->registry.treatment_start
                  : json_string_value(json_object_get(r->input, "treatment_start"));
  const json_t *as = json_object_get(r->input, "assessments");
  size_t n_les = 0;
  lesion *les = catalogue(as, &n_les);
  if (!les) {
    b->rc = RCY_ENOMEM;
    return;
  }
  for (size_t i = 0; i < n_les; i++) {
    long row = record(&c, &b->tu, "TU", &b->seq_tu, (long)les[i].visit);
    char id[64];
    link_id(id, sizeof id, &c, les[i].id);
    const char *loc = rcy_qa_sdtm_location(les[i].organ, les[i].nodal);
    char other[RCY_NAME_MAX + 1] = "";
    if (!loc && les[i].organ) { /* not one of our LOC terms: the reader's text, upper case */
      snprintf(other, sizeof other, "%s", les[i].organ);
      for (char *p = other; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
      loc = other;
    }
    set(b, &b->tu, row, "TULNKID", id);
    set(b, &b->tu, row, "TUTESTCD", "TUMIDENT");
    set(b, &b->tu, row, "TUTEST", "Tumor Identification");
    set(b, &b->tu, row, "TUORRES", les[i].kind);
    set(b, &b->tu, row, "TUSTRESC", les[i].kind);
    set(b, &b->tu, row, "TULOC", loc);
    set(b, &b->tu, row, "TUMETHOD", method_at(r, les[i].visit));
  }
  size_t k;
  json_t *a;
  json_array_foreach(as, k, a) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, "target"), i, e) {
      const lesion *l = find_lesion(les, n_les, json_string_value(json_object_get(e, "lesion_id")));
      if (l) target_record(&c, l, e, k);
    }
    if (json_array_size(json_object_get(json_array_get(as, 0), "target"))) {
      const json_t *t = result_at(r, json_string_value(json_object_get(a, "timepoint")));
      const json_t *sum = json_object_get(t, "sum_mm");
      long row = record(&c, &b->tr, "TR", &b->seq_tr, (long)k);
      set(b, &b->tr, row, "TRGRPID", "TARGET");
      set(b, &b->tr, row, "TRTESTCD", "SUMDIAM");
      set(b, &b->tr, row, "TRTEST", "Sum of Diameters");
      set(b, &b->tr, row, "TRMETHOD", method_at(r, k));
      if (json_is_number(sum)) {
        char num[32];
        export_number(num, sizeof num, json_number_value(sum));
        set(b, &b->tr, row, "TRORRES", num);
        set(b, &b->tr, row, "TRORRESU", "mm");
        set(b, &b->tr, row, "TRSTRESC", num);
        set(b, &b->tr, row, "TRSTRESN", num);
        set(b, &b->tr, row, "TRSTRESU", "mm");
      } else {
        set(b, &b->tr, row, "TRSTAT", "NOT DONE");
        set(b, &b->tr, row, "TRREASND", "NOT EVALUABLE");
      }
    }
    json_array_foreach(json_object_get(a, "non_target"), i, e) {
      const lesion *l = find_lesion(les, n_les, json_string_value(json_object_get(e, "lesion_id")));
      if (l) state_record(&c, l, e, k);
    }
    json_array_foreach(json_object_get(a, "new_lesions"), i, e) {
      const lesion *l = find_lesion(les, n_les, json_string_value(json_object_get(e, "lesion_id")));
      if (l) state_record(&c, l, e, k);
    }
    if (k == 0) continue; /* no response at baseline */
    const json_t *t = result_at(r, json_string_value(json_object_get(a, "timepoint")));
    rs_record(&c, (long)k, "TRGRESP", "Target Response",
              rcy_qa_sdtm_response(json_string_value(json_object_get(t, "target_response"))));
    rs_record(&c, (long)k, "NTRGRESP", "Non-target Response",
              rcy_qa_sdtm_response(json_string_value(json_object_get(t, "non_target_response"))));
    const json_t *nl = json_object_get(t, "new_lesions");
    rs_record(&c, (long)k, "NEWLPROG", "New Lesion Progression",
              json_is_boolean(nl) ? (json_is_true(nl) ? "Y" : "N") : NULL);
    rs_record(&c, (long)k, "OVRLRESP", "Overall Response",
              rcy_qa_sdtm_response(json_string_value(json_object_get(t, "overall_response"))));
  }
  rs_record(&c, -1, "BESTRSP", "Best Overall Response",
            rcy_qa_sdtm_response(json_string_value(json_object_get(r->result, "best_overall_response"))));
  free(les);
}

/* ---- metadata --------------------------------------------------------------------------------------------
 */

static int write_define(const char *dir, const builder *b, rcy_error *err) {
  static const char *const cols[] = {"dataset", "variable", "label",  "type",
                                     "length",  "codelist", "origin", "role"};
  export_table t;
  export_table_init(&t, cols, N(cols));
  const struct {
    const char *name;
    const var *vars;
    size_t n;
    const export_table *data;
  } sets[] = {{"TU", tu_vars, N(tu_vars), &b->tu},
              {"TR", tr_vars, N(tr_vars), &b->tr},
              {"RS", rs_vars, N(rs_vars), &b->rs}};
  int rc = 0;
  for (size_t s = 0; !rc && s < N(sets); s++)
    for (size_t i = 0; !rc && i < sets[s].n; i++) {
      const var *v = &sets[s].vars[i];
      size_t len = 1;
      for (size_t r = 0; r < sets[s].data->n_rows; r++) {
        const char *x = export_table_get(sets[s].data, r, v->name);
        if (x && strlen(x) > len) len = strlen(x);
      }
      if (!strcmp(v->type, "Num")) len = 8;
      char lenbuf[32];
      snprintf(lenbuf, sizeof lenbuf, "%zu", len);
      long row = export_table_row(&t);
      const char *vals[] = {sets[s].name, v->name,     v->label,  v->type,
                            lenbuf,       v->codelist, v->origin, v->role};
      for (size_t c = 0; !rc && c < N(cols); c++)
        rc = row < 0 ? RCY_ENOMEM : export_table_set(&t, row, cols[c], vals[c]);
    }
  char path[4200];
  snprintf(path, sizeof path, "%s/define_variables.csv", dir);
  if (!rc)
    rc = export_table_write(&t, path, err);
  else
    rcy_error_set(err, rc, "out of memory");
  export_table_free(&t);
  if (rc) return rc;

  static const char *const ccols[] = {"codelist", "term"};
  export_table_init(&t, ccols, N(ccols));
  for (size_t i = 0; !rc && i < N(codelists); i++) {
    const char *p = codelists[i].terms;
    while (!rc && *p) {
      const char *bar = strchr(p, '|');
      size_t n = bar ? (size_t)(bar - p) : strlen(p);
      char term[64];
      snprintf(term, sizeof term, "%.*s", (int)n, p);
      long row = export_table_row(&t);
      rc = row < 0 ? RCY_ENOMEM : export_table_set(&t, row, "codelist", codelists[i].codelist);
      if (!rc) rc = export_table_set(&t, row, "term", term);
      p += n + (bar ? 1 : 0);
    }
  }
  snprintf(path, sizeof path, "%s/define_codelists.csv", dir);
  if (!rc)
    rc = export_table_write(&t, path, err);
  else
    rcy_error_set(err, rc, "out of memory");
  export_table_free(&t);
  return rc;
}

static int write_provenance(const char *dir, const rcy_qa_sdtm_options *o, const builder *b,
                            size_t n_subjects, size_t n_reads, rcy_error *err) {
  static const char *const cols[] = {"key", "value"};
  export_table t;
  export_table_init(&t, cols, N(cols));
  char at[32], n[5][32];
  if (o->exported_at)
    snprintf(at, sizeof at, "%s", o->exported_at);
  else {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  snprintf(n[0], sizeof n[0], "%zu", n_subjects);
  snprintf(n[1], sizeof n[1], "%zu", n_reads);
  snprintf(n[2], sizeof n[2], "%zu", b->tu.n_rows);
  snprintf(n[3], sizeof n[3], "%zu", b->tr.n_rows);
  snprintf(n[4], sizeof n[4], "%zu", b->rs.n_rows);
  const char *kv[][2] = {{"archive", o->archive},
                         {"exported_at", at},
                         {"reader", o->reader},
                         {"studyid", o->study},
                         {"reads", !strcmp(o->reader, "site")
                                       ? "site read, signed timepoints"
                                       : "every central read with a signed baseline and the "
                                         "adjudicator's when final; the final central read "
                                         "flagged ACPTFL = Y; signed timepoints"},
                         {"standard", "SDTMIG 3.4 TU, TR, RS (RECIST 1.1)"},
                         {"subjects", n[0]},
                         {"read_count", n[1]},
                         {"tu_records", n[2]},
                         {"tr_records", n[3]},
                         {"rs_records", n[4]}};
  int rc = 0;
  for (size_t i = 0; !rc && i < N(kv); i++) {
    long row = export_table_row(&t);
    rc = row < 0 ? RCY_ENOMEM : export_table_set(&t, row, "key", kv[i][0]);
    if (!rc) rc = export_table_set(&t, row, "value", kv[i][1]);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/define_provenance.csv", dir);
  if (!rc)
    rc = export_table_write(&t, path, err);
  else
    rcy_error_set(err, rc, "out of memory");
  export_table_free(&t);
  return rc;
}

int rcy_qa_sdtm_export(rcy_qa_export_counts *counts, rcy_store *store, const rcy_qa_sdtm_options *o,
                       rcy_error *err) {
  if (!o || !o->out_dir || !o->reader || !o->study)
    return rcy_error_set(err, RCY_EINVAL, "an SDTM export needs a reader, a study and an output directory");
  if (strcmp(o->reader, "site") && strcmp(o->reader, "central"))
    return rcy_error_set(err, RCY_EINVAL, "reader must be site or central, not '%s'", o->reader);
  if (!o->study[0] || strlen(o->study) > 32 || strpbrk(o->study, ",\"\r\n"))
    return rcy_error_set(err, RCY_EINVAL,
                         "study must be 1-32 characters without quotes, commas or line breaks");
  if (mkdir(o->out_dir, 0777) && errno != EEXIST)
    return rcy_error_set(err, RCY_EIO, "cannot create %s: %s", o->out_dir, strerror(errno));
  export_reads reads;
  int rc = export_reads_collect(&reads, store, o->reader, err);
  if (rc) return rc;
  builder b = {.study = o->study};
  export_table_init(&b.tu, tu_cols, N(tu_cols));
  export_table_init(&b.tr, tr_cols, N(tr_cols));
  export_table_init(&b.rs, rs_cols, N(rs_cols));
  size_t n_subjects = 0;
  for (size_t i = 0; i < reads.n && !b.rc; i++) {
    if (!i || strcmp(reads.items[i].subject_id, reads.items[i - 1].subject_id)) n_subjects++;
    add_read(&b, &reads.items[i]);
  }
  rc = b.rc ? rcy_error_set(err, b.rc, "building the SDTM datasets failed") : 0;
  char path[4200];
  const struct {
    const char *file;
    const export_table *t;
  } files[] = {{"tu.csv", &b.tu}, {"tr.csv", &b.tr}, {"rs.csv", &b.rs}};
  for (size_t i = 0; !rc && i < N(files); i++) {
    snprintf(path, sizeof path, "%s/%s", o->out_dir, files[i].file);
    rc = export_table_write(files[i].t, path, err);
  }
  if (!rc) rc = write_define(o->out_dir, &b, err);
  if (!rc) rc = write_provenance(o->out_dir, o, &b, n_subjects, reads.n, err);
  if (!rc && counts)
    *counts = (rcy_qa_export_counts){n_subjects, reads.n, b.tu.n_rows, b.tr.n_rows, b.rs.n_rows};
  export_table_free(&b.tu);
  export_table_free(&b.tr);
  export_table_free(&b.rs);
  export_reads_free(&reads);
  return rc;
}
