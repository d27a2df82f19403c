/* `recistry export sr`: one DICOM SR Measurement Report (TID 1500) per read and signed timepoint. Which
 * reads: rcy_review_reads (the site reads, or each subject's final central read, signed timepoints only).
 * What goes in each report: the stored read document's lesions observed at that timepoint (calipers, points,
 * states) and the engine's responses for it; the builder (src/dicom/sr_tid1500.cc) turns that into DCMTK's
 * TID 1500 classes. UIDs are derived from keys (rcy_dicom_uid_from_key), so the same signed read exports to
 * the same UIDs; the key of a report includes its sign-off time, so a timepoint re-signed after a change gets
 * new UIDs. */
#include "recistry/qa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/dicom.h"
#include "recistry/reads.h"
#include "recistry/store.h"

typedef struct {
  char *paths[2]; /* long-axis image, point image */
} lesion_paths;

/* The absolute path of an indexed instance, or NULL (warning printed) when the archive does not have it. */
static char *instance_path(rcy_store *store, const char *sop, rcy_error *err, int *rc) {
  char rel[4096], sha[65];
  uint64_t size;
  int found = 0;
  if (!sop || !*sop) return NULL;
  *rc = rcy_archive_find_instance(&found, rel, sizeof rel, &size, sha, store, sop, err);
  if (*rc || !found) return NULL;
  const char *dir = rcy_store_storage_dir(store);
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, rel);
  return p;
}

static int get_xy(const json_t *a, double *out) {
  if (!json_is_array(a) || json_array_size(a) != 2) return 0;
  out[0] = json_number_value(json_array_get(a, 0));
  out[1] = json_number_value(json_array_get(a, 1));
  return json_is_number(json_array_get(a, 0)) && json_is_number(json_array_get(a, 1));
}

static void safe_name(char *out, size_t len, const char *s) {
  size_t i = 0;
  for (; s && *s && i + 1 < len; s++) {
    char c = *s;
    out[i++] =
        ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')
            ? c
            : '_';
  }
  out[i] = 0;
}

static const char *tp_response(const json_t *engine, const char *tp, const char *key) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(engine, "timepoints"), i, t) {
    const char *name = json_string_value(json_object_get(t, "timepoint"));
    if (name && strcmp(name, tp) == 0) return json_string_value(json_object_get(t, key));
  }
  return NULL;
}

typedef struct {
  rcy_store *store;
  const char *out_dir;
  char **paths;
  size_t n, cap;
} export_ctx;

static int add_path(export_ctx *x, const char *p) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 16;
    char **np = realloc(x->paths, cap * sizeof *np);
    if (!np) return RCY_ENOMEM;
    x->paths = np;
    x->cap = cap;
  }
  if (!(x->paths[x->n] = strdup(p))) return RCY_ENOMEM;
  x->n++;
  return 0;
}

/* One report: the lesions of doc observed at tp. */
static int export_timepoint(export_ctx *x, const char *subject, const char *role, const char *reader,
                            const json_t *doc, const json_t *engine, const char *tp, rcy_error *err) {
  const json_t *lesions = json_object_get(doc, "lesions");
  size_t n = json_array_size(lesions), k = 0, i;
  rcy_dicom_sr_lesion *ls = calloc(n ? n : 1, sizeof *ls);
  lesion_paths *lp = calloc(n ? n : 1, sizeof *lp);
  char(*uids)[RCY_DICOM_UID_SIZE] = calloc(n ? n : 1, sizeof *uids);
  int rc = (ls && lp && uids) ? 0 : rcy_error_set(err, RCY_ENOMEM, "out of memory");
  const char *header = NULL;
  json_t *l;
  json_array_foreach(lesions, i, l) {
    if (rc) break;
    const json_t *obs = json_object_get(json_object_get(l, "observations"), tp);
    const char *added = json_string_value(json_object_get(l, "timepoint"));
    if (!obs && !(added && strcmp(added, tp) == 0)) continue;
    rcy_dicom_sr_lesion *s = &ls[k];
    const char *id = json_string_value(json_object_get(l, "lesion_id"));
    char key[512];
    snprintf(key, sizeof key, "recistry-sr-tracking|%s|%s|%s|%s", subject, role, reader, id ? id : "");
    rcy_dicom_uid_from_key(uids[k], key);
    s->tracking_id = id;
    s->tracking_uid = uids[k];
    s->kind = json_string_value(json_object_get(l, "kind"));
    if (!s->kind) s->kind = "target";
    s->organ = json_string_value(json_object_get(l, "organ"));
    s->state = json_string_value(json_object_get(obs, "state"));
    const json_t *m = json_object_get(obs, "measurement");
    double p1[2], p2[2];
    if (json_is_object(m) && get_xy(json_object_get(m, "p1"), p1) && get_xy(json_object_get(m, "p2"), p2)) {
      lp[k].paths[0] =
          instance_path(x->store, json_string_value(json_object_get(m, "sop_instance_uid")), err, &rc);
      if (rc) break;
      if (lp[k].paths[0]) {
        s->has_long = 1;
        s->image_path = lp[k].paths[0];
        s->long_mm = json_number_value(json_object_get(m, "long_mm"));
        memcpy(s->long_p, p1, sizeof p1);
        memcpy(s->long_p + 2, p2, sizeof p2);
        if (get_xy(json_object_get(m, "short_p1"), p1) && get_xy(json_object_get(m, "short_p2"), p2)) {
          s->has_short = 1;
          s->short_mm = json_number_value(json_object_get(m, "short_mm"));
          memcpy(s->short_p, p1, sizeof p1);
          memcpy(s->short_p + 2, p2, sizeof p2);
        }
        if (!header) header = s->image_path;
      } else {
        fprintf(stderr,
                "recistry export sr: warning: %s %s %s: the measured instance is not in the archive\n",
                subject, tp, id ? id : "?");
      }
    }
    const json_t *pt = json_object_get(obs, "point");
    if (json_is_object(pt) && get_xy(json_object_get(pt, "p"), s->point)) {
      lp[k].paths[1] =
          instance_path(x->store, json_string_value(json_object_get(pt, "sop_instance_uid")), err, &rc);
      if (rc) break;
      if (lp[k].paths[1]) {
        s->has_point = 1;
        s->point_image_path = lp[k].paths[1];
        if (!header) header = s->point_image_path;
      }
    }
    k++;
  }
  if (!rc && !header)
    fprintf(stderr,
            "recistry export sr: warning: %s %s read of %s, %s: no measurement or point on an archived "
            "image, no report\n",
            role, reader, subject, tp);
  if (!rc && header) {
    char key[512], sop[RCY_DICOM_UID_SIZE], series[RCY_DICOM_UID_SIZE], file[1024], sname[256], rname[256];
    const char *signed_at = json_string_value(
        json_object_get(json_object_get(json_object_get(doc, "signoffs"), tp), "signed_at"));
    snprintf(key, sizeof key, "recistry-sr|%s|%s|%s|%s|%s", subject, role, reader, tp,
             signed_at ? signed_at : "");
    rcy_dicom_uid_from_key(sop, key);
    snprintf(key, sizeof key, "recistry-sr-series|%s|%s|%s", subject, role, reader);
    rcy_dicom_uid_from_key(series, key);
    char desc[64];
    snprintf(desc, sizeof desc, "RECIST 1.1 %s read", role);
    rcy_dicom_sr_report r = {
        .header_image_path = header,
        .sop_instance_uid = sop,
        .series_uid = series,
        .timepoint = tp,
        .observer = reader,
        .observer_role = role,
        .series_description = desc,
        .target_response = tp_response(engine, tp, "target_response"),
        .non_target_response = tp_response(engine, tp, "non_target_response"),
        .overall_response = tp_response(engine, tp, "overall_response"),
        .lesions = ls,
        .n_lesions = k,
    };
    safe_name(sname, sizeof sname, subject);
    safe_name(rname, sizeof rname, reader);
    char tname[128];
    safe_name(tname, sizeof tname, tp);
    snprintf(file, sizeof file, "%s/%s_%s_%s_%s.dcm", x->out_dir, sname, role, rname, tname);
    rc = rcy_dicom_sr_tid1500_write(&r, file, err);
    if (!rc && add_path(x, file)) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  for (i = 0; lp && i < n; i++) {
    free(lp[i].paths[0]);
    free(lp[i].paths[1]);
  }
  free(lp);
  free(ls);
  free(uids);
  return rc;
}

int rcy_qa_sr_export(char ***paths_out, size_t *n_out, rcy_store *store, const char *which,
                     const char *out_dir, rcy_error *err) {
  *paths_out = NULL;
  *n_out = 0;
  rcy_review_settings s;
  json_t *reads = NULL;
  export_ctx x = {store, out_dir, NULL, 0, 0};
  int rc = rcy_review_settings_load(&s, store, err);
  if (!rc) rc = rcy_review_reads(&reads, store, &s, which, err);
  size_t i;
  json_t *subj;
  json_array_foreach(reads, i, subj) {
    if (rc) break;
    const char *subject = json_string_value(json_object_get(subj, "subject_id"));
    const char *role = json_string_value(json_object_get(subj, "role"));
    const char *reader = json_string_value(json_object_get(subj, "reader"));
    if (!subject || !role) continue;
    if (!reader) reader = role;
    json_t *doc = NULL, *engine = NULL;
    char *engine_error = NULL;
    rc = rcy_reads_load(&doc, store, subject, role, reader, err);
    if (rc) break;
    if (rcy_reads_engine_run(&engine, &engine_error, subj)) {
      fprintf(stderr, "recistry export sr: warning: %s: no responses (%s)\n", subject,
              engine_error ? engine_error : "engine failed");
      free(engine_error);
      engine = NULL;
    }
    size_t j;
    json_t *tp;
    json_array_foreach(json_object_get(subj, "assessments"), j, tp) {
      const char *name = json_string_value(json_object_get(tp, "timepoint"));
      if (name && (rc = export_timepoint(&x, subject, role, reader, doc, engine, name, err))) break;
    }
    json_decref(engine);
    json_decref(doc);
  }
  json_decref(reads);
  if (rc) {
    rcy_qa_sr_paths_free(x.paths, x.n);
    return rc;
  }
  *paths_out = x.paths;
  *n_out = x.n;
  return 0;
}

void rcy_qa_sr_paths_free(char **paths, size_t n) {
  for (size_t i = 0; paths && i < n; i++)
    free(paths[i]);
  free(paths);
}
