/* Ground truth and reads. DIR/truth/<subject>.json says where every lesion is and how big it is at each
 * assessment (with the slice through its centre, where its in-plane longest diameter lies, for reader tests),
 * and carries "recist_input": the engine input (shared/spec/recist-engine.md) a perfect reader would send.
 * DIR/reads/central.json is the array of those; DIR/reads/site.json a plausible site investigator read of
 * the same images: up to +-1 mm of measurement noise, and two deliberate discordances (variants below) so
 * that concordance statistics have something to find. JSON is written with jansson. */
#include "sample_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

enum { SITE_SAME = 0, SITE_MISSES_NEW_LESION = 1, SITE_MEASURES_LARGER = 2 };

/* Patient coordinates to 0.01 mm. */
static json_t *point(double x, double y, double z) {
  return json_pack("[fff]", round(x * 100) / 100, round(y * 100) / 100, round(z * 100) / 100);
}

/* A measured value as the reader would record it: noise (site) within +-1 mm, never pushing a lesion that
 * qualified at baseline under the RECIST threshold (the site would not have chosen it otherwise). */
static double read_value(double truth, prng *noise, double floor_mm) {
  if (!noise || truth <= 0) return truth;
  double v = round1(truth + prng_uniform(noise, -1.0, 1.0));
  if (truth >= floor_mm && v < floor_mm) v = truth;
  return v > 0 ? v : truth;
}

static json_t *build_read(const subject *s, int variant, prng *noise) {
  char date[11];
  format_iso_date(date, s->treatment_day);
  json_t *subj = json_pack("{s:s, s:s}", "subject_id", s->subject_id, "treatment_start", date);
  json_t *assessments = json_array();
  int missed_done = 0;
  for (int t = 0; t < s->n_tp; t++) {
    format_iso_date(date, s->tp_day[t]);
    json_t *target = json_array(), *non_target = json_array(), *fresh = json_array();
    for (int i = 0; i < s->n_les; i++) {
      const lesion *l = &s->les[i];
      double v = l->nodal ? l->short_mm[t] : l->long_mm[t];
      if (l->role == ROLE_TARGET) {
        if (variant == SITE_MEASURES_LARGER && t == 1 && i == 0) v = l->nodal ? l->short_mm[0] : l->long_mm[0];
        v = read_value(v, noise, t == 0 ? (l->nodal ? 15.0 : 10.0) : 0.0);
        json_t *e = json_pack("{s:s}", "lesion_id", l->id);
        if (t == 0) {
          json_object_set_new(e, "organ", json_string(l->organ));
          json_object_set_new(e, "nodal", json_boolean(l->nodal));
        }
        if (v <= 0)
          json_object_set_new(e, "state", json_string("disappeared"));
        else
          json_object_set_new(e, "diameter_mm", json_real(v));
        json_array_append_new(target, e);
      } else if (l->role == ROLE_NON_TARGET) {
        int absent = l->nodal ? l->short_mm[t] < 10.0 : l->long_mm[t] <= 0;
        json_t *e = json_pack("{s:s}", "lesion_id", l->id);
        if (t == 0) {
          json_object_set_new(e, "organ", json_string(l->organ));
          json_object_set_new(e, "nodal", json_boolean(l->nodal));
        }
        json_object_set_new(e, "state", json_string(absent ? "absent" : "present"));
        json_array_append_new(non_target, e);
      } else if (l->new_state[t]) {
        if (variant == SITE_MISSES_NEW_LESION && !missed_done) {
          missed_done = 1; /* overlooked where it first shows */
          continue;
        }
        json_array_append_new(fresh, json_pack("{s:s, s:s, s:b, s:s}", "lesion_id", l->id, "organ", l->organ, "nodal",
                                               l->nodal, "state", l->new_state[t] == 1 ? "equivocal" : "unequivocal"));
      }
    }
    json_array_append_new(assessments, json_pack("{s:s, s:s, s:o, s:o, s:o}", "timepoint", s->tp[t], "date", date,
                                                 "target", target, "non_target", non_target, "new_lesions", fresh));
  }
  json_object_set_new(subj, "assessments", assessments);
  return subj;
}

static json_t *lesion_truth(const rcy_sample_options *o, const subject *s, const lesion *l) {
  static const char *const roles[] = {"target", "non_target", "new"};
  plane_grid g;
  subject_grid(&g, s);
  json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:o, s:f, s:f, s:f}", "lesion_id", l->id, "role", roles[l->role],
                        "organ", l->organ, "nodal", l->nodal, "centre_mm", point(l->c[0], l->c[1], l->c[2]),
                        "in_plane_angle_deg", round1(l->theta * 180.0 / 3.14159265358979), "ct_hu", l->hu,
                        "mr_signal", l->mr);
  json_t *tps = json_array();
  double ct = cos(l->theta), st = sin(l->theta);
  for (int t = 0; t < s->n_tp; t++) {
    json_t *e = json_pack("{s:s, s:b}", "timepoint", s->tp[t], "present", l->long_mm[t] > 0);
    if (l->long_mm[t] > 0) {
      double a = l->long_mm[t] / 2, b = l->short_mm[t] / 2;
      char uid[RCY_DICOM_UID_SIZE], name[32], file[128];
      int inst = slice_instance_number(s, l->slice);
      instance_uid_for(uid, o->seed, s, t, inst);
      slice_file_name(name, s, l->slice);
      snprintf(file, sizeof file, "%s/%s/%s/%s", s->site, s->subject_id, s->tp[t], name);
      double p[4][2] = {{l->c[0] - a * ct, l->c[1] - a * st}, {l->c[0] + a * ct, l->c[1] + a * st},
                        {l->c[0] + b * st, l->c[1] - b * ct}, {l->c[0] - b * st, l->c[1] + b * ct}};
      json_t *px = json_array(), *mm = json_array();
      for (int q = 0; q < 4; q++) {
        json_array_append_new(mm, point(p[q][0], p[q][1], l->c[2]));
        json_array_append_new(px, json_pack("[ff]", round((p[q][0] - g.x0_mm) / g.dx_mm * 100) / 100,
                                            round((p[q][1] - g.y0_mm) / g.dx_mm * 100) / 100));
      }
      json_object_set_new(e, "long_axis_mm", json_real(l->long_mm[t]));
      json_object_set_new(e, "short_axis_mm", json_real(l->short_mm[t]));
      json_object_set_new(e, "craniocaudal_mm", json_real(round1(l->short_mm[t] * l->cc_ratio)));
      json_object_set_new(e, "instance_number", json_integer(inst));
      json_object_set_new(e, "sop_instance_uid", json_string(uid));
      json_object_set_new(e, "file", json_string(file));
      /* the slice passes through the centre, so its cross-section is the full ellipse */
      json_object_set_new(e, "expected_longest_diameter_mm", json_real(l->long_mm[t]));
      json_object_set_new(e, "expected_short_axis_mm", json_real(l->short_mm[t]));
      json_object_set_new(e, "long_axis_endpoints_mm", json_pack("[oo]", json_incref(json_array_get(mm, 0)),
                                                                 json_incref(json_array_get(mm, 1))));
      json_object_set_new(e, "short_axis_endpoints_mm", json_pack("[oo]", json_incref(json_array_get(mm, 2)),
                                                                  json_incref(json_array_get(mm, 3))));
      json_object_set_new(e, "long_axis_endpoints_px", json_pack("[oo]", json_incref(json_array_get(px, 0)),
                                                                 json_incref(json_array_get(px, 1))));
      json_object_set_new(e, "short_axis_endpoints_px", json_pack("[oo]", json_incref(json_array_get(px, 2)),
                                                                  json_incref(json_array_get(px, 3))));
      json_decref(px);
      json_decref(mm);
    }
    if (l->role == ROLE_NEW && l->new_state[t])
      json_object_set_new(e, "new_lesion_state", json_string(l->new_state[t] == 1 ? "equivocal" : "unequivocal"));
    json_array_append_new(tps, e);
  }
  json_object_set_new(j, "timepoints", tps);
  return j;
}

static json_t *timepoints_truth(const rcy_sample_options *o, const subject *s) {
  plane_grid g;
  subject_grid(&g, s);
  json_t *tps = json_array();
  for (int t = 0; t < s->n_tp; t++) {
    series_uids u;
    series_uids_for(&u, o->seed, s, t);
    char date[11], folder[96];
    format_iso_date(date, s->tp_day[t]);
    snprintf(folder, sizeof folder, "%s/%s/%s", s->site, s->subject_id, s->tp[t]);
    json_array_append_new(
        tps, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:o, s:[ffffff]}",
                       "timepoint", s->tp[t], "date", date, "days_from_treatment_start",
                       (json_int_t)(s->tp_day[t] - s->treatment_day), "modality", s->mr ? "MR" : "CT", "folder",
                       folder, "study_instance_uid", u.study, "series_instance_uid", u.series,
                       "frame_of_reference_uid", u.frame, "rows", g.rows, "columns", g.columns, "slices", s->slices,
                       "pixel_spacing_mm", g.dx_mm, "slice_spacing_mm", s->thickness_mm, "origin_mm",
                       point(g.x0_mm, g.y0_mm, subject_slice_z(s, 0)), "direction", 1.0, 0.0, 0.0, 0.0, 1.0, 0.0));
  }
  return tps;
}

int truth_write(void **central_json, void **site_json, const rcy_sample_options *o, const subject *s,
                int site_variant, rcy_error *err) {
  char date[11], path[4096], key[64];
  format_iso_date(date, s->treatment_day);
  json_t *lesions = json_array();
  for (int i = 0; i < s->n_les; i++) json_array_append_new(lesions, lesion_truth(o, s, &s->les[i]));
  json_t *perfect = build_read(s, SITE_SAME, NULL);
  prng noise;
  snprintf(key, sizeof key, "site-read/%s", s->subject_id);
  prng_init(&noise, o->seed, key);
  json_t *site = build_read(s, site_variant, &noise);
  json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:O}", "subject_id", s->subject_id, "site",
                           s->site, "scenario", scenario_name(s->sc), "seed", (json_int_t)o->seed, "sex", s->sex,
                           "treatment_start", date, "timepoints", timepoints_truth(o, s), "lesions", lesions,
                           "recist_input", perfect);
  if (site_variant)
    json_object_set_new(root, "site_read_difference",
                        json_string(site_variant == SITE_MISSES_NEW_LESION
                                        ? "site read misses the new lesion where it first appears"
                                        : "site read measures T1 at FU1 at its baseline size"));
  snprintf(path, sizeof path, "%s/truth/%s.json", o->out_dir, s->subject_id);
  int rc = json_dump_file(root, path, DUMP_FLAGS) ? rcy_error_set(err, RCY_EIO, "cannot write %s", path) : RCY_OK;
  json_decref(root);
  if (rc) {
    json_decref(perfect);
    json_decref(site);
    return rc;
  }
  *central_json = perfect;
  *site_json = site;
  return RCY_OK;
}

int reads_write(const char *out_dir, void *central_array, void *site_array, rcy_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/reads/central.json", out_dir);
  if (json_dump_file(central_array, path, DUMP_FLAGS)) return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  snprintf(path, sizeof path, "%s/reads/site.json", out_dir);
  if (json_dump_file(site_array, path, DUMP_FLAGS)) return rcy_error_set(err, RCY_EIO, "cannot write %s", path);
  return RCY_OK;
}

/* DIR/registry.csv: what the registry knows of each subject (../shared/spec/registry-endpoints.md) — the
 * treatment start the truth is timed from, an indication, and survival dates after the last assessment, drawn
 * from the seed: subjects of the progression scenarios die in about half the draws, the others are censored
 * at a last contact. `recistry registry import` takes the file as it is. */
void registry_header(FILE *f) {
  fputs("subject_id,site_id,treatment_start,indication,liver_only,death_date,last_contact_date\n", f);
}

void registry_row(FILE *f, const rcy_sample_options *o, const subject *s) {
  static const char *const indications[] = {"salvage", "salvage", "consolidation", "intensification",
                                            "first_line", "ablation_combination"};
  char key[64], start[11], death[11] = "", contact[11] = "";
  prng r;
  snprintf(key, sizeof key, "registry/%s", s->subject_id);
  prng_init(&r, o->seed, key);
  const char *indication = indications[prng_int(&r, 0, (int)(sizeof indications / sizeof indications[0]) - 1)];
  int liver_only = s->sc == SC_LIVER_ONLY || prng_int(&r, 0, 2) > 0;
  int progresses = s->sc == SC_NEW_LESION || s->sc == SC_GROWTH || s->sc == SC_EQUIVOCAL_NEW || s->sc == SC_LIVER_ONLY;
  int64_t last = s->tp_day[s->n_tp - 1];
  format_iso_date(start, s->treatment_day);
  if (progresses && prng_int(&r, 0, 1)) format_iso_date(death, last + prng_int(&r, 60, 400));
  else format_iso_date(contact, last + prng_int(&r, 30, 180));
  fprintf(f, "%s,%s,%s,%s,%s,%s,%s\n", s->subject_id, s->site, start, indication, liver_only ? "yes" : "no", death,
          contact);
}
