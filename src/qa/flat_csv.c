/* The flat CSV for statisticians: every value of the reads an analysis needs in one table, one row per
 * subject × read × timepoint × lesion (a timepoint without lesions still gets one row), with the subject's
 * registry data, the engine's per-timepoint results repeated on each lesion row and its per-read results
 * (BOR, progression) on every row of the read. Columns in docs/exports.md, in the order of `cols` below. */
#include <string.h>

#include "export_internal.h"
#include "recistry/qa.h"

static const char *const cols[] = {
    "subject_id",
    "site_id",
    "indication",
    "liver_only",
    "treatment_start",
    "death_date",
    "last_contact_date",
    "secondary_resection_date",
    "read_role",
    "reader",
    "reader_position",
    "acceptance",
    "final_central_read",
    "timepoint",
    "timepoint_index",
    "date",
    "days_from_treatment_start",
    "modality",
    "lesion_id",
    "lesion_kind",
    "organ",
    "nodal",
    "diameter_mm",
    "lesion_state",
    "merged_into",
    "sod_contribution_mm",
    "sum_mm",
    "nadir_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
    "best_overall_response",
    "progression_timepoint",
    "progression_date",
    "progression_reasons",
    "hepatic_progression_timepoint",
    "hepatic_progression_date",
};
#define N_COLS (sizeof cols / sizeof cols[0])

typedef struct row {
  const char *v[N_COLS];
  char num[N_COLS][32];
} row;

static void put(row *r, const char *col, const char *value) {
  for (size_t i = 0; i < N_COLS; i++)
    if (!strcmp(cols[i], col)) r->v[i] = value;
}

static void put_num(row *r, const char *col, const json_t *v) {
  for (size_t i = 0; i < N_COLS; i++)
    if (!strcmp(cols[i], col)) {
      r->num[i][0] = 0;
      if (json_is_number(v)) export_number(r->num[i], sizeof r->num[i], json_number_value(v));
      r->v[i] = r->num[i];
    }
}

static void put_int(row *r, const char *col, long v) {
  for (size_t i = 0; i < N_COLS; i++)
    if (!strcmp(cols[i], col)) {
      snprintf(r->num[i], sizeof r->num[i], "%ld", v);
      r->v[i] = r->num[i];
    }
}

/* The lesion's organ and nodal flag as recorded where it was first seen (baseline or its first new-lesion
 * row). */
static const json_t *first_record(const json_t *assessments, const char *kind, const char *id) {
  size_t k;
  json_t *a;
  json_array_foreach(assessments, k, a) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, kind), i, e) {
      const char *x = json_string_value(json_object_get(e, "lesion_id"));
      if (x && id && !strcmp(x, id) && json_object_get(e, "organ")) return e;
    }
  }
  return NULL;
}

static int lesion_rows(FILE *f, row *base, const json_t *assessments, const json_t *a, size_t *n_rows) {
  static const char *const kinds[][2] = {
      {"target", "target"}, {"non_target", "non_target"}, {"new_lesions", "new"}};
  int rc = 0;
  size_t written = 0;
  for (size_t g = 0; !rc && g < 3; g++) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(a, kinds[g][0]), i, e) {
      row r = *base;
      for (size_t c = 0; c < N_COLS; c++)
        if (base->v[c] == base->num[c]) r.v[c] = r.num[c]; /* numbers point into this copy */
      const char *id = json_string_value(json_object_get(e, "lesion_id"));
      const json_t *first = first_record(assessments, kinds[g][0], id);
      put(&r, "lesion_id", id);
      put(&r, "lesion_kind", kinds[g][1]);
      put(&r, "organ", json_string_value(json_object_get(first, "organ")));
      put(&r, "nodal", json_is_true(json_object_get(first, "nodal")) ? "Y" : "N");
      const char *state = json_string_value(json_object_get(e, "state"));
      const json_t *d = json_object_get(e, "diameter_mm"), *frag = json_object_get(e, "fragments_mm");
      const char *merged = json_string_value(json_object_get(e, "merged_into"));
      if (g == 0) {
        double counted = 0;
        bool has = true;
        if (json_is_number(d)) {
          put_num(&r, "diameter_mm", d);
          counted = json_number_value(d);
          state = "measured";
        } else if (json_is_array(frag)) {
          size_t j;
          json_t *x;
          json_array_foreach(frag, j, x) counted += json_number_value(x);
          json_t *sum = json_real(counted);
          put_num(&r, "diameter_mm", sum);
          json_decref(sum);
          state = "split";
        } else if (merged) {
          state = "merged";
          put(&r, "merged_into", merged);
        } else if (state && !strcmp(state, "too_small")) {
          counted = 5;
        } else if (!state || strcmp(state, "disappeared")) {
          has = false;
        }
        if (has) {
          json_t *c = json_real(counted);
          put_num(&r, "sod_contribution_mm", c);
          json_decref(c);
        }
      }
      put(&r, "lesion_state", state);
      if ((rc = export_csv_record(f, r.v, N_COLS))) break;
      written++;
    }
  }
  if (!rc && !written) rc = export_csv_record(f, base->v, N_COLS), written = !rc;
  *n_rows += written;
  return rc;
}

static const char *response(const json_t *v) {
  return json_string_value(v);
}

static int read_rows(FILE *f, const export_read *e, size_t *n_rows) {
  row base;
  memset(&base, 0, sizeof base);
  put(&base, "subject_id", e->subject_id);
  put(&base, "site_id", e->site_id);
  if (e->has_registry) {
    put(&base, "indication", e->registry.indication);
    put(&base, "liver_only", e->registry.liver_only < 0 ? NULL : e->registry.liver_only ? "Y" : "N");
    put(&base, "death_date", e->registry.death_date);
    put(&base, "last_contact_date", e->registry.last_contact_date);
    put(&base, "secondary_resection_date", e->registry.secondary_resection_date);
  }
  const json_t *as = json_object_get(e->input, "assessments");
  const char *start = json_string_value(json_object_get(e->input, "treatment_start"));
  if (!start) start = json_string_value(json_object_get(json_array_get(as, 0), "date"));
  put(&base, "treatment_start", start);
  put(&base, "read_role", e->role);
  put(&base, "reader", e->reader);
  put(&base, "reader_position", e->position);
  put(&base, "acceptance", e->acceptance);
  put(&base, "final_central_read", !strcmp(e->role, "site") ? NULL : e->accepted ? "Y" : "N");
  put(&base, "best_overall_response", response(json_object_get(e->result, "best_overall_response")));
  const json_t *pd = json_object_get(e->result, "progression"),
               *hpd = json_object_get(e->result, "hepatic_progression");
  put(&base, "progression_timepoint", json_string_value(json_object_get(pd, "timepoint")));
  put(&base, "progression_date", json_string_value(json_object_get(pd, "date")));
  char reasons[128] = "";
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(pd, "reasons"), i, x) {
    size_t len = strlen(reasons);
    snprintf(reasons + len, sizeof reasons - len, "%s%s", len ? ";" : "",
             json_string_value(x) ? json_string_value(x) : "");
  }
  put(&base, "progression_reasons", reasons);
  put(&base, "hepatic_progression_timepoint", json_string_value(json_object_get(hpd, "timepoint")));
  put(&base, "hepatic_progression_date", json_string_value(json_object_get(hpd, "date")));
  size_t k;
  json_t *a;
  int rc = 0;
  json_array_foreach(as, k, a) {
    row r = base;
    for (size_t c = 0; c < N_COLS; c++)
      if (base.v[c] == base.num[c]) r.v[c] = r.num[c];
    const char *tp = json_string_value(json_object_get(a, "timepoint")),
               *date = json_string_value(json_object_get(a, "date"));
    put(&r, "timepoint", tp);
    put_int(&r, "timepoint_index", (long)k);
    put(&r, "date", date);
    int days;
    if (export_days_between(&days, start, date)) put_int(&r, "days_from_treatment_start", days);
    const rcy_timepoint *t = rcy_reads_timepoint_find(&e->tps, tp);
    put(&r, "modality", t ? t->modality : NULL);
    const json_t *res = NULL;
    json_array_foreach(json_object_get(e->result, "timepoints"), i, x) {
      const char *label = json_string_value(json_object_get(x, "timepoint"));
      if (label && tp && !strcmp(label, tp)) res = x;
    }
    put_num(&r, "sum_mm", json_object_get(res, "sum_mm"));
    put_num(&r, "nadir_mm", json_object_get(res, "nadir_mm"));
    put_num(&r, "change_from_baseline_pct", json_object_get(res, "change_from_baseline_pct"));
    put_num(&r, "change_from_nadir_pct", json_object_get(res, "change_from_nadir_pct"));
    put(&r, "target_response", response(json_object_get(res, "target_response")));
    put(&r, "non_target_response", response(json_object_get(res, "non_target_response")));
    const json_t *nl = json_object_get(res, "new_lesions");
    put(&r, "new_lesions", json_is_boolean(nl) ? (json_is_true(nl) ? "Y" : "N") : NULL);
    put(&r, "overall_response", response(json_object_get(res, "overall_response")));
    if ((rc = lesion_rows(f, &r, as, a, n_rows))) break;
  }
  return rc;
}

int rcy_qa_flat_csv_export(rcy_qa_export_counts *counts, rcy_store *store, const char *reader,
                           const char *path, rcy_error *err) {
  if (!reader || (strcmp(reader, "site") && strcmp(reader, "central") && strcmp(reader, "all")))
    return rcy_error_set(err, RCY_EINVAL, "reader must be site, central or all");
  export_reads reads;
  int rc = export_reads_collect(&reads, store, reader, err);
  if (rc) return rc;
  FILE *f = fopen(path, "wb");
  if (!f) {
    export_reads_free(&reads);
    return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  }
  size_t n_rows = 0, n_subjects = 0;
  rc = export_csv_record(f, cols, N_COLS);
  for (size_t i = 0; !rc && i < reads.n; i++) {
    if (!i || strcmp(reads.items[i].subject_id, reads.items[i - 1].subject_id)) n_subjects++;
    rc = read_rows(f, &reads.items[i], &n_rows);
  }
  if (fclose(f) && !rc) rc = RCY_EIO;
  if (rc) rcy_error_set(err, rc, "cannot write %s", path);
  if (!rc && counts) *counts = (rcy_qa_export_counts){n_subjects, reads.n, 0, n_rows, 0};
  export_reads_free(&reads);
  return rc;
}
