/* One subject's dosimetry run: load the PET (and CT, MAA SPECT, VOIs) from folders or from the archive,
 * compute the delivered dose from the 90Y PET and, when the MAA SPECT is there, the predicted dose from the
 * planned activity, then the flags. What `recistry dose`, the dose report and the workstation call. */
#include "dose_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rcy_dose_run_options_init(rcy_dose_run_options *o) {
  memset(o, 0, sizeof *o);
  o->lung_shunt_fraction = -1;
}

void rcy_dose_run_free(rcy_dose_run *r) {
  if (!r) return;
  rcy_dicom_volume_free(r->pet);
  rcy_dicom_volume_free(r->ct);
  rcy_dicom_volume_free(r->maa);
  rcy_dicom_volume_free(r->maa_ct);
  rcy_dose_result_free(&r->result);
  rcy_dose_result_free(&r->predicted);
  free(r->thresholds);
  for (size_t i = 0; i < r->n_vois; i++) free(r->voi_names[i]), free(r->voi_masks[i]);
  free(r->voi_names);
  free(r->voi_masks);
  free(r);
}

typedef struct {
  dose_voi_owned *v;
  size_t n;
} voi_list;

static void vois_free(voi_list *l) {
  for (size_t i = 0; i < l->n; i++) dose_voi_free(&l->v[i]);
  free(l->v);
  l->v = NULL, l->n = 0;
}

static int vois_load(voi_list *l, const char *const *specs, size_t n, const rcy_dicom_volume *ct, rcy_error *err) {
  if (!n) return RCY_OK;
  dose_voi_owned *v = realloc(l->v, (l->n + n) * sizeof *v);
  if (!v) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  l->v = v;
  for (size_t i = 0; i < n; i++) {
    int rc = dose_voi_load(&l->v[l->n], specs[i], ct, err);
    if (rc) return rc;
    for (size_t j = 0; j < l->n; j++)
      if (!strcmp(l->v[j].name, l->v[l->n].name)) {
        rc = rcy_error_set(err, RCY_EINVAL, "two VOIs are named %s", l->v[j].name);
        dose_voi_free(&l->v[l->n]);
        return rc;
      }
    l->n++;
  }
  return RCY_OK;
}

static rcy_dose_voi *voi_views(const voi_list *l) {
  rcy_dose_voi *v = calloc(l->n ? l->n : 1, sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < l->n; i++) {
    v[i].name = l->v[i].name;
    v[i].mask = l->v[i].mask;
    memcpy(v[i].size, l->v[i].size, sizeof v[i].size);
    memcpy(v[i].origin_mm, l->v[i].origin_mm, sizeof v[i].origin_mm);
    memcpy(v[i].spacing_mm, l->v[i].spacing_mm, sizeof v[i].spacing_mm);
    memcpy(v[i].direction, l->v[i].direction, sizeof v[i].direction);
  }
  return v;
}

/* The MAA SPECT as the planned 90Y activity would be: the share that stays in the abdomen, A(1 - LSF), spread
 * over every count outside the lungs (the perfused territory, the rest of the liver, extrahepatic uptake: where
 * the MAA went, the spheres are expected to go), the lungs' share A*LSF uniform over the lung VOI (the SPECT
 * rarely holds the whole lungs; the LSF comes from the planar scan). Also the tumour-to-normal ratio (mean counts
 * per mL, tumours over the perfused normal liver). */
static int maa_activity(rcy_dose_grid *act, double *tnr, const rcy_dicom_volume *maa, const voi_list *vois,
                        double planned_gbq, double lsf, rcy_error *err) {
  rcy_dose_grid g;
  dose_grid_view(&g, maa);
  int rc = rcy_dose_grid_alloc(act, g.size, g.origin_mm, g.spacing_mm, g.direction, err);
  if (rc) return rc;
  size_t n = rcy_dose_grid_voxels(&g);
  uint8_t *liver = calloc(n, 1), *tum = calloc(n, 1), *lung = calloc(n, 1), *m = malloc(n);
  if (!liver || !tum || !lung || !m) {
    rc = rcy_error_set(err, RCY_ENOMEM, "MAA: out of memory");
    goto done;
  }
  int have_perfused = 0;
  for (size_t v = 0; v < vois->n; v++)
    have_perfused |= rcy_dose_kind_from_name(vois->v[v].name) == RCY_DOSE_KIND_PERFUSED_LIVER;
  for (size_t v = 0; v < vois->n; v++) {
    const dose_voi_owned *o = &vois->v[v];
    rc = rcy_dose_mask_resample(m, act, o->mask, o->size, o->origin_mm, o->spacing_mm, o->direction, err);
    if (rc) goto done;
    rcy_dose_kind k = rcy_dose_kind_from_name(o->name);
    uint8_t *into = k == RCY_DOSE_KIND_TUMOUR ? tum
                    : k == RCY_DOSE_KIND_LUNG ? lung
                    : (k == (have_perfused ? RCY_DOSE_KIND_PERFUSED_LIVER : RCY_DOSE_KIND_LIVER)) ? liver
                                                                                                 : NULL;
    if (into)
      for (size_t i = 0; i < n; i++) into[i] |= m[i];
  }
  double counts = 0, lung_voxels = 0, ct = 0, nt = 0, cn = 0, nn = 0;
  for (size_t i = 0; i < n; i++) {
    double c = g.values[i] > 0 ? g.values[i] : 0;
    if (!lung[i]) counts += c;
    lung_voxels += lung[i];
    if (tum[i]) ct += c, nt++;
    else if (liver[i]) cn += c, nn++;
  }
  if (!(counts > 0)) {
    rc = rcy_error_set(err, RCY_EINVAL, "MAA SPECT series %s: no counts outside the lungs", maa->series_uid);
    goto done;
  }
  *tnr = nt > 0 && nn > 0 && cn > 0 ? (ct / nt) / (cn / nn) : NAN;
  double f = lsf >= 0 ? lsf : 0, ml = rcy_dose_grid_voxel_ml(act);
  double per_count = planned_gbq * 1e9 * (1 - f) / counts / ml; /* Bq/mL per count */
  double lung_conc = lung_voxels > 0 ? planned_gbq * 1e9 * f / (lung_voxels * ml) : 0;
  for (size_t i = 0; i < n; i++) {
    double c = g.values[i] > 0 ? g.values[i] : 0;
    act->values[i] = (float)(lung[i] ? lung_conc : c * per_count);
  }
done:
  free(liver), free(tum), free(lung), free(m);
  if (rc) rcy_dose_grid_free(act);
  return rc;
}

static int keep_masks(rcy_dose_run *r, const voi_list *l, rcy_error *err) {
  const rcy_dose_grid *d = &r->result.dose;
  size_t n = rcy_dose_grid_voxels(d);
  r->voi_names = calloc(l->n ? l->n : 1, sizeof *r->voi_names);
  r->voi_masks = calloc(l->n ? l->n : 1, sizeof *r->voi_masks);
  if (!r->voi_names || !r->voi_masks) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  for (size_t i = 0; i < l->n; i++) {
    r->voi_names[i] = strdup(l->v[i].name);
    r->voi_masks[i] = malloc(n);
    r->n_vois = i + 1;
    if (!r->voi_names[i] || !r->voi_masks[i]) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
    const dose_voi_owned *o = &l->v[i];
    if (rcy_dose_same_geometry(d, o->size, o->origin_mm, o->spacing_mm, o->direction)) {
      for (size_t v = 0; v < n; v++) r->voi_masks[i][v] = o->mask[v] != 0;
      continue;
    }
    int rc = rcy_dose_mask_resample(r->voi_masks[i], d, o->mask, o->size, o->origin_mm, o->spacing_mm, o->direction, err);
    if (rc) return rc;
  }
  return RCY_OK;
}

int rcy_dose_run_execute(rcy_dose_run **out, const rcy_dose_run_options *o, rcy_error *err) {
  *out = NULL;
  rcy_dose_run *r = calloc(1, sizeof *r);
  if (!r) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  voi_list vois = {0}, maa_vois = {0};
  rcy_dose_threshold *thresholds = NULL;
  size_t n_thresholds = 0;
  rcy_dose_voi *views = NULL;
  int rc = RCY_OK;
  if (o->archive) {
    if (!o->subject || !*o->subject) {
      rc = rcy_error_set(err, RCY_EINVAL, "--archive needs --subject");
      goto fail;
    }
    snprintf(r->subject, sizeof r->subject, "%s", o->subject);
    rc = dose_run_from_archive(r, &vois.v, &vois.n, o, err);
  } else if (!o->pet_dir) {
    rc = rcy_error_set(err, RCY_EINVAL, "no PET: give --pet DIR or --archive DIR --subject ID");
  } else {
    rc = rcy_dicom_volume_read_dir(&r->pet, o->pet_dir, "PT", NULL, err);
    if (!rc && o->ct_dir) rc = rcy_dicom_volume_read_dir(&r->ct, o->ct_dir, "CT", NULL, err);
  }
  if (!rc && o->maa_dir) rc = rcy_dicom_volume_read_dir(&r->maa, o->maa_dir, "NM", NULL, err);
  if (!rc && o->maa_ct_dir) rc = rcy_dicom_volume_read_dir(&r->maa_ct, o->maa_ct_dir, "CT", NULL, err);
  if (rc) goto fail;
  if ((rc = vois_load(&vois, o->voi_specs, o->n_voi_specs, r->ct, err))) goto fail;
  if ((rc = vois_load(&maa_vois, o->maa_voi_specs, o->n_maa_voi_specs, r->maa_ct, err))) goto fail;
  if (o->thresholds_ini && (rc = rcy_dose_thresholds_load(&thresholds, &n_thresholds, o->thresholds_ini, err)))
    goto fail;

  rcy_dose_input in = {0};
  in.pet = r->pet;
  in.ct = r->ct;
  in.fixed_density_g_per_ml = o->fixed_density_g_per_ml;
  in.thresholds = thresholds, in.n_thresholds = n_thresholds;
  in.lung_shunt_fraction = o->lung_shunt_fraction;
  in.prior_lung_gy = o->prior_lung_gy;
  in.tnr = o->tnr > 0 ? o->tnr : 0;
  if (o->fixed_density_g_per_ml > 0)
    snprintf(r->density_source, sizeof r->density_source, "fixed %.3g g/mL (--density)", o->fixed_density_g_per_ml);
  else if (r->ct)
    snprintf(r->density_source, sizeof r->density_source, "CT series (HU -> g/mL, default table)");
  else
    snprintf(r->density_source, sizeof r->density_source, "fixed 1.03 g/mL (no CT, no --density)");

  /* An MAA SPECT found in the archive needs the plan (the planned activity and its own VOIs) to predict. */
  if (r->maa && !o->maa_dir && (!(o->planned_activity_gbq > 0) || !o->n_maa_voi_specs)) {
    snprintf(r->note, sizeof r->note,
             "MAA SPECT series %s found but not used: the predicted dose needs --planned-gbq and --maa-voi",
             r->maa->series_uid);
    rcy_dicom_volume_free(r->maa);
    r->maa = NULL;
  }
  /* The MAA first: its tumour-to-normal ratio feeds the partition model of both results. */
  if (r->maa) {
    double planned = o->planned_activity_gbq > 0 ? o->planned_activity_gbq : NAN;
    if (isnan(planned)) {
      rc = rcy_error_set(err, RCY_EINVAL, "MAA SPECT given without the planned 90Y activity (--planned-gbq)");
      goto fail;
    }
    rcy_dose_grid act;
    double tnr = NAN;
    if ((rc = maa_activity(&act, &tnr, r->maa, &maa_vois, planned, o->lung_shunt_fraction, err))) goto fail;
    rcy_dose_voi *mv = voi_views(&maa_vois);
    rcy_dose_input pin = in;
    pin.ct = r->maa_ct;
    pin.vois = mv, pin.n_vois = maa_vois.n;
    pin.tnr = o->tnr > 0 ? o->tnr : isfinite(tnr) ? tnr : 0;
    rc = mv ? dose_compute_grid(&r->predicted, &act, 1.0, planned, r->maa->frame_of_reference_uid, &pin, err)
            : rcy_error_set(err, RCY_ENOMEM, "out of memory");
    free(mv);
    rcy_dose_grid_free(&act);
    if (rc) goto fail;
    r->has_predicted = 1;
    if (!(o->tnr > 0)) in.tnr = pin.tnr;
  }
  if (!(views = voi_views(&vois))) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto fail;
  }
  in.vois = views, in.n_vois = vois.n;
  if ((rc = rcy_dose_compute(&r->result, &in, err))) goto fail;
  if ((rc = keep_masks(r, &vois, err))) goto fail;
  free(views);
  r->thresholds = thresholds, r->n_thresholds = n_thresholds; /* the report cites their references */
  vois_free(&vois);
  vois_free(&maa_vois);
  *out = r;
  return RCY_OK;
fail:
  free(views);
  free(thresholds);
  vois_free(&vois);
  vois_free(&maa_vois);
  rcy_dose_run_free(r);
  return rc;
}

static const char *decay_name(int d) {
  return d == RCY_DICOM_DECAY_START ? "START" : d == RCY_DICOM_DECAY_ADMIN ? "ADMIN" : d == RCY_DICOM_DECAY_NONE ? "NONE" : "";
}

char *rcy_dose_run_json(const rcy_dose_run *r, int with_dvh) {
  json_t *o = rcy_dose_result_json_object(&r->result, with_dvh);
  json_t *inputs = json_object();
  json_object_set_new(inputs, "pet_series_uid", json_string(r->pet->series_uid));
  json_object_set_new(inputs, "decay_correction", json_string(decay_name(r->pet->decay_correction)));
  json_object_set_new(inputs, "scan_delay_h",
                      r->pet->injection_epoch_s >= 0 && r->pet->series_epoch_s >= 0
                          ? json_real(round((r->pet->series_epoch_s - r->pet->injection_epoch_s) / 36.0) / 100.0)
                          : json_null());
  json_object_set_new(inputs, "ct_series_uid", r->ct ? json_string(r->ct->series_uid) : json_null());
  json_object_set_new(inputs, "density", json_string(r->density_source));
  json_t *names = json_array();
  for (size_t i = 0; i < r->n_vois; i++) json_array_append_new(names, json_string(r->voi_names[i]));
  json_object_set_new(inputs, "vois", names);
  json_object_set_new(inputs, "maa_series_uid", r->maa ? json_string(r->maa->series_uid) : json_null());
  if (r->note[0]) json_object_set_new(inputs, "note", json_string(r->note));
  json_t *top = json_object();
  if (r->subject[0]) json_object_set_new(top, "subject", json_string(r->subject));
  json_object_update(top, o);
  json_decref(o);
  json_object_set_new(top, "inputs", inputs);
  if (r->has_predicted) json_object_set_new(top, "predicted", rcy_dose_result_json_object(&r->predicted, with_dvh));
  char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(top);
  return s;
}
