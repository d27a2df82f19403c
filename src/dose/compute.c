/* One subject's dosimetry from loaded inputs: the emission image to activity at administration, onto the
 * dose grid (the CT's when there is one), LDM, the VOIs on the dose grid, the derived compartments (normal
 * liver = liver minus tumours; perfused normal liver = perfused territory minus tumours; all tumours), the
 * models from the injected activity and the flags. */
#include "dose_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Liver tissue density used when there is neither a CT nor --density (ICRU 46 adult liver; the value
 * glass-microsphere planning uses). */
#define DEFAULT_DENSITY_G_PER_ML 1.03

typedef struct {
  rcy_dose_compartment *c;
  size_t n, cap;
} compartments;

static int push(compartments *cs, rcy_error *err) {
  if (cs->n < cs->cap) return RCY_OK;
  size_t cap = cs->cap ? cs->cap * 2 : 8;
  rcy_dose_compartment *c = realloc(cs->c, cap * sizeof *c);
  if (!c) return rcy_error_set(err, RCY_ENOMEM, "dose: out of memory");
  cs->c = c, cs->cap = cap;
  return RCY_OK;
}

void rcy_dose_result_free(rcy_dose_result *r) {
  if (!r) return;
  rcy_dose_grid_free(&r->dose);
  for (size_t i = 0; i < r->n_compartments; i++) rcy_dose_compartment_free(&r->compartments[i]);
  free(r->compartments);
  free(r->flags);
  memset(r, 0, sizeof *r);
}

static const rcy_dose_compartment *first_of(const rcy_dose_result *r, rcy_dose_kind k) {
  for (size_t i = 0; i < r->n_compartments; i++)
    if (r->compartments[i].kind == k) return &r->compartments[i];
  return NULL;
}

int dose_compute_grid(rcy_dose_result *out, const rcy_dose_grid *emission, double factor, double injected_gbq,
                      const char *emission_for, const rcy_dose_input *in, rcy_error *err) {
  memset(out, 0, sizeof *out);
  snprintf(out->method, sizeof out->method, "ldm");
  int rc = RCY_OK;
  out->decay_factor = factor;
  if (in->ct && in->ct->frame_of_reference_uid[0] && emission_for && emission_for[0] &&
      strcmp(in->ct->frame_of_reference_uid, emission_for) != 0)
    return rcy_error_set(err, RCY_EINVAL,
                         "the emission series and the CT (series %s) have different Frames of Reference: recistry "
                         "does not register images; give the CT of the same PET/CT or SPECT/CT acquisition",
                         in->ct->series_uid);
  rcy_dose_grid pet = *emission;
  out->injected_gbq = injected_gbq;
  double sum = 0;
  size_t npet = rcy_dose_grid_voxels(&pet);
  for (size_t i = 0; i < npet; i++) sum += pet.values[i] > 0 ? pet.values[i] : 0;
  out->activity_in_fov_gbq = sum * rcy_dose_grid_voxel_ml(&pet) * out->decay_factor * 1e-9;

  /* The dose grid (the CT's when there is one) and the density on it. */
  rcy_dose_grid density = {0};
  const rcy_dose_grid *dens = NULL;
  double fixed = in->fixed_density_g_per_ml;
  if (in->ct) {
    rcy_dose_grid ct;
    dose_grid_view(&ct, in->ct);
    rc = dose_ldm_on_ct(&out->dose, &density, &pet, out->decay_factor, &ct, in->density_table, fixed, err);
    if (rc) goto fail;
    if (!(fixed > 0)) dens = &density;
  } else {
    if (!(fixed > 0)) fixed = DEFAULT_DENSITY_G_PER_ML;
    rc = rcy_dose_ldm(&out->dose, &pet, out->decay_factor, NULL, fixed, err);
    if (rc) goto fail;
  }

  /* VOIs on the dose grid, as voxel lists. */
  size_t nd = rcy_dose_grid_voxels(&out->dose);
  uint8_t *tumours = calloc(nd, 1), *m = NULL; /* calloc: untouched pages stay shared zero pages */
  dose_voxels liver = {0}, perfused = {0}, vox = {0};
  compartments cs = {0};
  size_t n_tumours = 0, n_tumour_voxels = 0;
  if (!tumours) {
    rc = rcy_error_set(err, RCY_ENOMEM, "dose: out of memory");
    goto fail_masks;
  }
  double step = in->dvh_step_gy > 0 ? in->dvh_step_gy : 1.0;
  for (size_t v = 0; v < in->n_vois; v++) {
    const rcy_dose_voi *voi = &in->vois[v];
    if (rcy_dose_same_geometry(&out->dose, voi->size, voi->origin_mm, voi->spacing_mm, voi->direction)) {
      rc = dose_voxels_from_mask(&vox, voi->mask, nd, err);
    } else {
      if (!m && !(m = malloc(nd))) rc = rcy_error_set(err, RCY_ENOMEM, "dose: out of memory");
      if (!rc) rc = rcy_dose_mask_resample(m, &out->dose, voi->mask, voi->size, voi->origin_mm, voi->spacing_mm,
                                           voi->direction, err);
      if (!rc) rc = dose_voxels_from_mask(&vox, m, nd, err);
    }
    if (rc) goto fail_masks;
    rcy_dose_kind kind = rcy_dose_kind_from_name(voi->name);
    if ((rc = push(&cs, err))) goto fail_masks;
    rc = dose_compartment_from_voxels(&cs.c[cs.n], voi->name, kind, &out->dose, &vox, dens, fixed, step, err);
    if (rc) goto fail_masks;
    cs.n++;
    if (kind == RCY_DOSE_KIND_TUMOUR) {
      for (size_t i = 0; i < vox.n; i++) n_tumour_voxels += !tumours[vox.idx[i]], tumours[vox.idx[i]] = 1;
      n_tumours++;
    }
    if (kind == RCY_DOSE_KIND_LIVER && !liver.idx) liver = vox, vox.idx = NULL;
    else if (kind == RCY_DOSE_KIND_PERFUSED_LIVER && !perfused.idx) perfused = vox, vox.idx = NULL;
    dose_voxels_free(&vox);
  }
  /* Derived compartments: all tumours, and the liver and the perfused territory without them. */
  if (n_tumours > 1) {
    dose_voxels all = {malloc(n_tumour_voxels * sizeof(uint32_t)), 0};
    if (!all.idx) rc = rcy_error_set(err, RCY_ENOMEM, "dose: out of memory");
    for (size_t i = 0; !rc && i < nd && all.n < n_tumour_voxels; i++)
      if (tumours[i]) all.idx[all.n++] = (uint32_t)i;
    if (!rc && !(rc = push(&cs, err)))
      rc = dose_compartment_from_voxels(&cs.c[cs.n], "all_tumours", RCY_DOSE_KIND_TUMOUR, &out->dose, &all, dens,
                                        fixed, step, err);
    dose_voxels_free(&all);
    if (rc) goto fail_masks;
    cs.n++;
  }
  struct {
    const char *name;
    rcy_dose_kind kind;
    const dose_voxels *base;
  } derived[] = {{"normal_liver", RCY_DOSE_KIND_NORMAL_LIVER, &liver},
                 {"perfused_normal_liver", RCY_DOSE_KIND_PERFUSED_NORMAL, &perfused}};
  for (size_t d = 0; n_tumours && d < sizeof derived / sizeof derived[0]; d++) {
    if (!derived[d].base->idx) continue;
    if ((rc = dose_voxels_without(&vox, derived[d].base, tumours, err)) || (rc = push(&cs, err))) goto fail_masks;
    rc = dose_compartment_from_voxels(&cs.c[cs.n], derived[d].name, derived[d].kind, &out->dose, &vox, dens, fixed,
                                      step, err);
    dose_voxels_free(&vox);
    if (rc) goto fail_masks;
    cs.n++;
  }
  out->compartments = cs.c, out->n_compartments = cs.n;
  cs.c = NULL, cs.n = 0; /* out owns them now: the clean-up below must not free them */

  /* Models from the injected activity (masses from the VOIs: the perfused territory when given). */
  {
    const rcy_dose_compartment *pl = first_of(out, RCY_DOSE_KIND_PERFUSED_LIVER);
    const rcy_dose_compartment *wl = first_of(out, RCY_DOSE_KIND_LIVER);
    const rcy_dose_compartment *pn = first_of(out, RCY_DOSE_KIND_PERFUSED_NORMAL);
    const rcy_dose_compartment *nl = first_of(out, RCY_DOSE_KIND_NORMAL_LIVER);
    const rcy_dose_compartment *lung = first_of(out, RCY_DOSE_KIND_LUNG);
    const rcy_dose_compartment *liv = pl ? pl : wl, *normal = pl ? pn : nl;
    double tumour_g = 0;
    for (size_t i = 0; i < out->n_compartments; i++)
      if (out->compartments[i].kind == RCY_DOSE_KIND_TUMOUR && strcmp(out->compartments[i].name, "all_tumours"))
        tumour_g += out->compartments[i].mass_g;
    rcy_dose_models_compute(&out->models, out->injected_gbq, in->lung_shunt_fraction, 0, liv ? liv->mass_g : 0,
                            tumour_g, normal ? normal->mass_g : (liv ? liv->mass_g - tumour_g : 0),
                            lung ? lung->mass_g : 0, in->tnr);
  }
  rc = rcy_dose_flags_evaluate(&out->flags, &out->n_flags, out->compartments, out->n_compartments, in->thresholds,
                               in->n_thresholds, in->prior_lung_gy, err);
fail_masks:
  for (size_t i = 0; i < cs.n; i++) rcy_dose_compartment_free(&cs.c[i]);
  free(cs.c);
  free(tumours), free(m);
  dose_voxels_free(&liver), dose_voxels_free(&perfused), dose_voxels_free(&vox);
fail:
  rcy_dose_grid_free(&density);
  if (rc) rcy_dose_result_free(out);
  return rc;
}

int rcy_dose_compute(rcy_dose_result *out, const rcy_dose_input *in, rcy_error *err) {
  memset(out, 0, sizeof *out);
  if (!in || !in->pet || !in->pet->values) return rcy_error_set(err, RCY_EINVAL, "dose: no PET");
  double factor;
  int rc = rcy_dose_check_y90_pet(in->pet, err);
  if (!rc) rc = rcy_dose_decay_factor(&factor, in->pet, err);
  if (rc) return rc;
  rcy_dose_grid pet;
  dose_grid_view(&pet, in->pet);
  return dose_compute_grid(out, &pet, factor, in->pet->total_dose_bq > 0 ? in->pet->total_dose_bq / 1e9 : NAN,
                           in->pet->frame_of_reference_uid, in, err);
}

static json_t *num(double v) { return isfinite(v) ? json_real(round(v * 1e4) / 1e4) : json_null(); }

json_t *rcy_dose_result_json_object(const rcy_dose_result *r, int with_dvh) {
  json_t *o = json_object(), *cs = json_array(), *fs = json_array();
  json_object_set_new(o, "method", json_string(r->method));
  json_object_set_new(o, "decay_factor", num(r->decay_factor));
  json_object_set_new(o, "injected_gbq", num(r->injected_gbq));
  json_object_set_new(o, "activity_in_fov_gbq", num(r->activity_in_fov_gbq));
  json_object_set_new(o, "grid", json_pack("{s:[i,i,i], s:[f,f,f]}", "size", r->dose.size[0], r->dose.size[1],
                                           r->dose.size[2], "spacing_mm", r->dose.spacing_mm[0],
                                           r->dose.spacing_mm[1], r->dose.spacing_mm[2]));
  for (size_t i = 0; i < r->n_compartments; i++) {
    const rcy_dose_compartment *c = &r->compartments[i];
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(c->name));
    json_object_set_new(j, "kind", json_string(rcy_dose_kind_name(c->kind)));
    json_object_set_new(j, "voxels", json_integer((json_int_t)c->voxels));
    json_object_set_new(j, "volume_ml", num(c->volume_ml));
    json_object_set_new(j, "mass_g", num(c->mass_g));
    json_object_set_new(j, "activity_gbq", num(c->activity_gbq));
    json_object_set_new(j, "mean_gy", num(c->mean_gy));
    json_object_set_new(j, "min_gy", num(c->min_gy));
    json_object_set_new(j, "max_gy", num(c->max_gy));
    json_object_set_new(j, "d50_gy", num(c->d50_gy));
    json_object_set_new(j, "d70_gy", num(c->d70_gy));
    json_object_set_new(j, "d90_gy", num(c->d90_gy));
    json_object_set_new(j, "v100_pct", num(c->v100_pct));
    json_object_set_new(j, "v150_pct", num(c->v150_pct));
    json_object_set_new(j, "v205_pct", num(c->v205_pct));
    if (with_dvh) {
      json_t *d = json_array();
      for (size_t b = 0; b < c->n_dvh; b++)
        json_array_append_new(d, json_pack("[f,f]", c->dvh[b].dose_gy, round(c->dvh[b].volume_pct * 1e4) / 1e4));
      json_object_set_new(j, "dvh", d);
    }
    json_array_append_new(cs, j);
  }
  json_object_set_new(o, "compartments", cs);
  const rcy_dose_models *m = &r->models;
  json_object_set_new(o, "models", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "injected_gbq",
                                             num(m->injected_gbq), "lung_shunt_fraction",
                                             m->lung_shunt_fraction >= 0 ? num(m->lung_shunt_fraction) : json_null(),
                                             "mird_liver_gy", num(m->mird_liver_gy), "tnr",
                                             m->tnr > 0 ? num(m->tnr) : json_null(), "partition_tumour_gy",
                                             num(m->partition_tumour_gy), "partition_normal_gy",
                                             num(m->partition_normal_gy), "lung_gy", num(m->lung_gy)));
  for (size_t i = 0; i < r->n_flags; i++) {
    const rcy_dose_flag *f = &r->flags[i];
    json_array_append_new(fs, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "threshold", f->threshold,
                                        "compartment", f->compartment, "metric", f->metric, "comparison",
                                        f->comparison, "value", num(f->value), "limit", num(f->limit), "severity",
                                        f->severity, "message", f->message));
  }
  json_object_set_new(o, "flags", fs);
  return o;
}

char *rcy_dose_result_json(const rcy_dose_result *r, int with_dvh) {
  json_t *o = rcy_dose_result_json_object(r, with_dvh);
  char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(o);
  return s;
}
