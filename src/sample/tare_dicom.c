/* The TARE phantoms' DICOM instances: CT Image Storage (one instance per slice), PET Image Storage (one
 * instance per slice, Units BQML, each slice its own Rescale Slope) and NM Image Storage (one multi-frame
 * reconstructed tomogram). The modules follow the CT, PET and NM Image IODs (PS3.3 A.3, A.21, A.5): the
 * quantitative attributes are the ones src/dose reads (Units, Decay Correction, Radiopharmaceutical
 * Information Sequence with start date-time, total dose and half-life, Series and Acquisition Date/Time,
 * Actual Frame Duration, the NM Detector Information Sequence's position and orientation, Spacing Between
 * Slices). The patient and trial attributes are series.c's (trial_attrs_set), so the ingest daemon treats
 * these studies as any other CIREL study. */
#include "tare_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T RCY_DICOM_TAG
#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define PET_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.128"
#define NM_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.20"

/* "YYYYMMDD", "HHMMSS" and "YYYYMMDDHHMMSS" of a clock-free epoch second. */
static void fmt_date(char out[9], int64_t epoch_s) {
  int64_t day = epoch_s >= 0 ? epoch_s / 86400 : -((-epoch_s + 86399) / 86400);
  format_dicom_date(out, day);
}
static void fmt_time(char out[7], int64_t epoch_s) {
  int64_t t = ((epoch_s % 86400) + 86400) % 86400;
  snprintf(out, 7, "%02d%02d%02d", (int)(t / 3600) % 100, (int)(t / 60 % 60), (int)(t % 60));
}
static void fmt_datetime(char out[15], int64_t epoch_s) {
  char d[9], t[7];
  fmt_date(d, epoch_s);
  fmt_time(t, epoch_s);
  snprintf(out, 15, "%s%s", d, t);
}

/* Patient/trial, study, series, frame of reference, equipment: every instance of the series. */
static int common_attrs(rcy_dicom_dataset *ds, const tare_series *s, const char *sop_class,
                        const char *modality, const char *series_description, rcy_error *err) {
  char study_date[9], study_time[7], series_date[9], series_time[7], content_date[9], content_time[7],
      num[12];
  fmt_date(study_date, s->study_epoch_s);
  fmt_time(study_time, s->study_epoch_s);
  fmt_date(series_date, s->series_epoch_s);
  fmt_time(series_time, s->series_epoch_s);
  fmt_date(content_date, s->content_epoch_s);
  fmt_time(content_time, s->content_epoch_s);
  snprintf(num, sizeof num, "%d", s->series_number);
  const attr a[] = {
      {T(0x0008, 0x0012), content_date}, /* Instance Creation Date/Time */
      {T(0x0008, 0x0013), content_time},
      {T(0x0008, 0x0016), sop_class},
      {T(0x0008, 0x0020), study_date},
      {T(0x0008, 0x0021), series_date},
      {T(0x0008, 0x0022), series_date}, /* acquisition = series start (the PET's NONE mode relies on it) */
      {T(0x0008, 0x0023), content_date},
      {T(0x0008, 0x0030), study_time},
      {T(0x0008, 0x0031), series_time},
      {T(0x0008, 0x0032), series_time},
      {T(0x0008, 0x0033), content_time},
      {T(0x0008, 0x0050), ""},
      {T(0x0008, 0x0060), modality},
      {T(0x0008, 0x0070), "recistry"},
      {T(0x0008, 0x0090), ""},
      {T(0x0008, 0x1030), s->study_description},
      {T(0x0008, 0x103e), series_description},
      {T(0x0008, 0x1090), "recistry TARE phantom"},
      {T(0x0010, 0x1030), "75"}, /* Patient's Weight (kg): a patient characteristic the sites keep (113108) */
      {T(0x0018, 0x0015), "ABDOMEN"},
      {T(0x0020, 0x000d), s->study_uid},
      {T(0x0020, 0x000e), s->series_uid},
      {T(0x0020, 0x0010), s->timepoint},
      {T(0x0020, 0x0011), num},
      {T(0x0020, 0x0052), s->frame_uid},
      {T(0x0020, 0x1040), ""},
      {T(0x0028, 0x0004), "MONOCHROME2"},
      {T(0x0028, 0x0301), "NO"},
  };
  int rc = set_all(ds, a, sizeof a / sizeof a[0], err);
  if (!rc) rc = trial_attrs_set(ds, s->subject_id, s->site, s->sex, s->timepoint, s->timepoint_desc, err);
  /* Patient Position (HFS) on the CT only: the PET and NM IODs carry the patient's position as the Patient
   * Orientation Code Sequence (recumbent, supine, head first), and then Patient Position shall be absent. */
  if (!rc && strcmp(modality, "CT") == 0)
    rc = rcy_dicom_dataset_set_string(ds, T(0x0018, 0x5100), "HFS", err);
  return rc;
}

/* Image Plane of slice k (CT and PET): position of its first pixel, orientation, spacing, thickness. */
static int plane_attrs(rcy_dicom_dataset *ds, const tare_grid *g, int k, rcy_error *err) {
  char x[24], y[24], z[24], pos[80], dx[24], dy[24], spacing[60], thick[24];
  fmt_ds(x, sizeof x, g->o_mm[0]);
  fmt_ds(y, sizeof y, g->o_mm[1]);
  fmt_ds(z, sizeof z, g->o_mm[2] + k * g->d_mm[2]);
  snprintf(pos, sizeof pos, "%s\\%s\\%s", x, y, z);
  fmt_ds(dx, sizeof dx, g->d_mm[0]);
  fmt_ds(dy, sizeof dy, g->d_mm[1]);
  snprintf(spacing, sizeof spacing, "%s\\%s", dy, dx); /* row spacing (y), column spacing (x) */
  fmt_ds(thick, sizeof thick, g->d_mm[2]);
  const attr a[] = {
      {T(0x0018, 0x0050), thick}, {T(0x0020, 0x0032), pos},     {T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0"},
      {T(0x0020, 0x1041), z},     {T(0x0028, 0x0030), spacing},
  };
  return set_all(ds, a, sizeof a / sizeof a[0], err);
}

static int instance_ids(rcy_dicom_dataset *ds, const tare_series *s, int instance, rcy_error *err) {
  char uid[RCY_DICOM_UID_SIZE], num[12];
  sample_uid(uid, s->seed, "%s/%d", s->uid_key, instance);
  snprintf(num, sizeof num, "%d", instance);
  int rc = rcy_dicom_dataset_set_string(ds, T(0x0008, 0x0018), uid, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(ds, T(0x0020, 0x0013), num, err);
  return rc;
}

int tare_write_ct(const tare_series *s, const int16_t *stored, rcy_sample_stats *stats, rcy_error *err) {
  const tare_grid *g = &s->g;
  char fov[24], desc[64], thick[24];
  fmt_ds(fov, sizeof fov, g->n[0] * g->d_mm[0]);
  fmt_ds(thick, sizeof thick, g->d_mm[2]);
  snprintf(desc, sizeof desc, "CT attenuation correction %s mm", thick);
  const attr ct[] = {
      {T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\AXIAL"},
      {T(0x0018, 0x0060), "120"},
      {T(0x0018, 0x0090), fov},
      {T(0x0018, 0x1100), fov},
      {T(0x0018, 0x1210), "STANDARD"},
      {T(0x0020, 0x0012), "1"},
      {T(0x0028, 0x1050), "40"},
      {T(0x0028, 0x1051), "400"},
      {T(0x0028, 0x1052), "-1024"},
      {T(0x0028, 0x1053), "1"},
      {T(0x0028, 0x1054), "HU"},
  };
  rcy_dicom_dataset *tmpl = NULL;
  int rc = rcy_dicom_dataset_new(&tmpl, err);
  if (!rc) rc = common_attrs(tmpl, s, CT_IMAGE_STORAGE, "CT", desc, err);
  if (!rc) rc = set_all(tmpl, ct, sizeof ct / sizeof ct[0], err);
  size_t plane = (size_t)g->n[0] * g->n[1];
  for (int k = 0; k < g->n[2] && !rc; k++) {
    rcy_dicom_dataset *img = NULL;
    int inst = g->n[2] - k; /* instance 1 is the most superior slice, as in every sample series */
    rc = rcy_dicom_dataset_clone(&img, tmpl, err);
    if (!rc) rc = instance_ids(img, s, inst, err);
    if (!rc) rc = plane_attrs(img, g, k, err);
    if (!rc)
      rc = rcy_dicom_dataset_set_pixels_int16(img, stored + plane * k, (uint16_t)g->n[1], (uint16_t)g->n[0],
                                              err);
    if (!rc) {
      char path[4096];
      snprintf(path, sizeof path, "%s/CT_%04d.dcm", s->out_dir, inst);
      rc = write_dataset(img, path, stats, err);
    }
    rcy_dicom_dataset_free(img);
  }
  rcy_dicom_dataset_free(tmpl);
  return rc;
}

/* NM/PET Patient Orientation: recumbent, supine, head first (SCT codes of CID 19, 20, 21). */
static int orientation_codes(rcy_dicom_dataset *ds, rcy_error *err) {
  rcy_dicom_dataset *item = NULL;
  int rc = rcy_dicom_dataset_add_item(&item, ds, T(0x0054, 0x0410), err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0100), "102538003", err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0102), "SCT", err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0104), "recumbent", err);
  if (!rc) rc = add_code(item, T(0x0054, 0x0412), "40199007", "SCT", "supine", err);
  if (!rc) rc = add_code(ds, T(0x0054, 0x0414), "102540008", "SCT", "headfirst", err);
  return rc;
}

/* Radiopharmaceutical Information Sequence: one item (PET Isotope / NM Isotope modules). */
static int radiopharmaceutical(rcy_dicom_dataset *ds, const tare_emission *e, rcy_error *err) {
  char start_dt[15], start_t[7], dose[32], half[32];
  fmt_datetime(start_dt, e->injection_epoch_s);
  fmt_time(start_t, e->injection_epoch_s);
  snprintf(dose, sizeof dose, "%.0f", e->total_dose_bq);
  fmt_ds(half, sizeof half, e->half_life_s);
  rcy_dicom_dataset *item = NULL;
  int rc = rcy_dicom_dataset_add_item(&item, ds, T(0x0054, 0x0016), err);
  const attr a[] = {
      {T(0x0018, 0x0031), e->pharmaceutical},
      {T(0x0018, 0x1070), "Intra-arterial (hepatic artery)"},
      {T(0x0018, 0x1072), start_t},
      {T(0x0018, 0x1074), dose},
      {T(0x0018, 0x1075), half},
      {T(0x0018, 0x1078), start_dt},
  };
  if (!rc) rc = set_all(item, a, sizeof a / sizeof a[0], err);
  if (!rc) rc = add_code(item, T(0x0054, 0x0300), e->nuclide_code, "SCT", e->nuclide_meaning, err);
  if (!rc && e->pharmaceutical_code)
    rc = add_code(item, T(0x0054, 0x0304), e->pharmaceutical_code, "SCT", e->pharmaceutical_meaning, err);
  return rc;
}

int tare_write_pet(const tare_series *s, const tare_emission *e, const float *values, rcy_sample_stats *stats,
                   rcy_error *err) {
  const tare_grid *g = &s->g;
  int decy = strcmp(e->decay_correction, "NONE") != 0;
  char nslices[12], duration[24], decay[32], frame_ref[32], diam[24];
  snprintf(nslices, sizeof nslices, "%d", g->n[2]);
  fmt_ds(duration, sizeof duration, e->frame_duration_ms); /* IS: an integral number of ms */
  snprintf(decay, sizeof decay, "%.10g", e->decay_factor);
  snprintf(frame_ref, sizeof frame_ref, "%.1f", e->frame_reference_ms);
  fmt_ds(diam, sizeof diam, g->n[0] * g->d_mm[0]);
  const attr pet[] = {
      {T(0x0008, 0x0008), "ORIGINAL\\PRIMARY"},
      {T(0x0018, 0x1100), diam},
      {T(0x0018, 0x1181), "NONE"},    /* Collimator Type (type 2): none in PET */
      {T(0x0018, 0x1242), duration},  /* Actual Frame Duration, ms */
      {T(0x0018, 0x1210), e->kernel}, /* Convolution Kernel: the blur, or NONE */
      {T(0x0020, 0x0012), "1"},
      {T(0x0028, 0x0051), decy ? "DECY\\ATTN\\SCAT\\DTIM\\RAN\\NORM" : "ATTN\\SCAT\\DTIM\\RAN\\NORM"},
      {T(0x0028, 0x1052), "0"}, /* Rescale Intercept: 0 in the PET Image IOD */
      {T(0x0054, 0x0081), nslices},
      {T(0x0054, 0x1000), "STATIC\\IMAGE"},
      {T(0x0054, 0x1001), "BQML"},
      {T(0x0054, 0x1002), "EMISSION"},
      {T(0x0054, 0x1100), "DLYD"}, /* randoms: delayed window */
      {T(0x0054, 0x1101), "CT-based"},
      {T(0x0054, 0x1102), e->decay_correction},
      {T(0x0054, 0x1103), "OSEM 3i21s TOF"},
      {T(0x0054, 0x1105), "model-based single scatter"},
      {T(0x0054, 0x1300), frame_ref},           /* Frame Reference Time, ms from the series start */
      {T(0x0054, 0x1321), decy ? decay : NULL}, /* Decay Factor: 1C, with DECY */
  };
  rcy_dicom_dataset *tmpl = NULL;
  int rc = rcy_dicom_dataset_new(&tmpl, err);
  if (!rc) rc = common_attrs(tmpl, s, PET_IMAGE_STORAGE, "PT", "90Y PET static (Bq/mL)", err);
  if (!rc) rc = set_all(tmpl, pet, sizeof pet / sizeof pet[0], err);
  if (!rc) rc = radiopharmaceutical(tmpl, e, err);
  if (!rc) rc = orientation_codes(tmpl, err);
  size_t plane = (size_t)g->n[0] * g->n[1];
  uint16_t *px = malloc(plane * sizeof *px);
  if (!px && !rc) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory writing the PET of %s", s->subject_id);
  for (int k = 0; k < g->n[2] && !rc; k++) {
    const float *v = values + plane * k;
    double vmax = 0;
    for (size_t i = 0; i < plane; i++)
      if (v[i] > vmax) vmax = v[i];
    /* Each slice its own slope, so that its maximum uses the whole 16 bits (as scanners do); the value
     * written is the DS text, and the stored values are computed with that text's value so that
     * stored * slope is what a reader gets. */
    char slope_s[32];
    snprintf(slope_s, sizeof slope_s, "%.9g", vmax > 0 ? vmax / 65535.0 : 1.0);
    double slope = strtod(slope_s, NULL);
    for (size_t i = 0; i < plane; i++) {
      double q = v[i] > 0 ? floor(v[i] / slope + 0.5) : 0;
      px[i] = (uint16_t)(q > 65535 ? 65535 : q);
    }
    rcy_dicom_dataset *img = NULL;
    int inst = g->n[2] - k;
    char index[12];
    snprintf(index, sizeof index, "%d", inst);
    rc = rcy_dicom_dataset_clone(&img, tmpl, err);
    if (!rc) rc = instance_ids(img, s, inst, err);
    if (!rc) rc = plane_attrs(img, g, k, err);
    if (!rc) rc = rcy_dicom_dataset_set_string(img, T(0x0028, 0x1053), slope_s, err);
    if (!rc) rc = rcy_dicom_dataset_set_string(img, T(0x0054, 0x1330), index, err); /* Image Index */
    if (!rc) rc = rcy_dicom_dataset_set_pixels_uint16(img, px, (uint16_t)g->n[1], (uint16_t)g->n[0], err);
    if (!rc) {
      char path[4096];
      snprintf(path, sizeof path, "%s/PT_%04d.dcm", s->out_dir, inst);
      rc = write_dataset(img, path, stats, err);
    }
    rcy_dicom_dataset_free(img);
  }
  free(px);
  rcy_dicom_dataset_free(tmpl);
  return rc;
}

int tare_write_spect(const tare_series *s, const tare_emission *e, const uint16_t *counts,
                     rcy_sample_stats *stats, rcy_error *err) {
  const tare_grid *g = &s->g;
  size_t n = tare_grid_voxels(g);
  double total = 0;
  for (size_t i = 0; i < n; i++)
    total += counts[i];
  char nframes[12], total_s[32], thick[24], diam[24], x[24], y[24], z[24], pos[80], dx[24], dy[24],
      spacing[60];
  snprintf(nframes, sizeof nframes, "%d", g->n[2]);
  snprintf(total_s, sizeof total_s, "%.0f", total);
  fmt_ds(thick, sizeof thick, g->d_mm[2]);
  fmt_ds(diam, sizeof diam, g->n[0] * g->d_mm[0]);
  fmt_ds(x, sizeof x, g->o_mm[0]);
  fmt_ds(y, sizeof y, g->o_mm[1]);
  fmt_ds(z, sizeof z, g->o_mm[2]);
  snprintf(pos, sizeof pos, "%s\\%s\\%s", x, y, z);
  fmt_ds(dx, sizeof dx, g->d_mm[0]);
  fmt_ds(dy, sizeof dy, g->d_mm[1]);
  snprintf(spacing, sizeof spacing, "%s\\%s", dy, dx);
  /* Slice Vector: frame f is slice f + 1; frames go from the most inferior slice along the normal of the
   * orientation (row x column = +z), Spacing Between Slices apart. */
  size_t vlen = (size_t)g->n[2] * 6 + 1;
  char *slice_vector = malloc(vlen);
  if (!slice_vector)
    return rcy_error_set(err, RCY_ENOMEM, "out of memory writing the SPECT of %s", s->subject_id);
  size_t at = 0;
  for (int k = 0; k < g->n[2]; k++)
    at += (size_t)snprintf(slice_vector + at, vlen - at, k ? "\\%d" : "%d", k + 1);
  const attr nm[] = {
      {T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\RECON TOMO\\EMISSION"},
      {T(0x0018, 0x0050), thick},
      {T(0x0018, 0x0070), total_s}, /* Counts Accumulated */
      {T(0x0018, 0x0088), thick},   /* Spacing Between Slices */
      {T(0x0018, 0x1100), diam},
      {T(0x0018, 0x1210), e->kernel},
      {T(0x0020, 0x0020), "L\\P"}, /* Patient Orientation: rows go left, columns posterior */
      {T(0x0028, 0x0008), nframes},
      {T(0x0028, 0x0009), "(0054,0080)"}, /* Frame Increment Pointer: Slice Vector */
      {T(0x0028, 0x0030), spacing},
      {T(0x0028, 0x0051), "ATTN\\SCAT"}, /* counts as acquired: no decay correction */
      {T(0x0054, 0x0011), "1"},          /* Number of Energy Windows */
      {T(0x0054, 0x0021), "1"},          /* Number of Detectors */
      {T(0x0054, 0x0051), "1"},          /* Number of Rotations */
      {T(0x0054, 0x0080), slice_vector},
      {T(0x0054, 0x0081), nframes},
      {T(0x0054, 0x0202), "STEP AND SHOOT"},
      {T(0x0054, 0x1001), "CNTS"}, /* Units: not an NM IOD attribute, read by dose/ (dciodvfy warns) */
  };
  rcy_dicom_dataset *ds = NULL, *item = NULL, *sub = NULL;
  int rc = rcy_dicom_dataset_new(&ds, err);
  if (!rc) rc = common_attrs(ds, s, NM_IMAGE_STORAGE, "NM", "99mTc-MAA SPECT (counts)", err);
  if (!rc) rc = set_all(ds, nm, sizeof nm / sizeof nm[0], err);
  free(slice_vector);
  if (!rc) rc = instance_ids(ds, s, 1, err);
  if (!rc) rc = radiopharmaceutical(ds, e, err);
  if (!rc) rc = orientation_codes(ds, err);
  /* NM Isotope: the 140.5 keV photopeak window, +-10 % */
  if (!rc) rc = rcy_dicom_dataset_add_item(&item, ds, T(0x0054, 0x0012), err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0054, 0x0018), "Tc99m photopeak", err);
  if (!rc) rc = rcy_dicom_dataset_add_item(&sub, item, T(0x0054, 0x0013), err);
  if (!rc) rc = rcy_dicom_dataset_set_string(sub, T(0x0054, 0x0014), "126.45", err);
  if (!rc) rc = rcy_dicom_dataset_set_string(sub, T(0x0054, 0x0015), "154.55", err);
  /* NM Detector: where the reconstructed slices are (position of the first frame's first pixel) */
  if (!rc) rc = rcy_dicom_dataset_add_item(&item, ds, T(0x0054, 0x0022), err);
  const attr det[] = {
      {T(0x0018, 0x1180), "LEHR"}, {T(0x0018, 0x1181), "PARA"},
      {T(0x0018, 0x1182), ""}, /* Focal Distance (type 2): parallel hole */
      {T(0x0020, 0x0032), pos},    {T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0"},
  };
  if (!rc) rc = set_all(item, det, sizeof det / sizeof det[0], err);
  /* NM TOMO Acquisition: 120 views of 20 s over 360 degrees */
  if (!rc) rc = rcy_dicom_dataset_add_item(&item, ds, T(0x0054, 0x0052), err);
  const attr rot[] = {
      {T(0x0018, 0x1140), "CW"},    {T(0x0018, 0x1143), "360"}, {T(0x0018, 0x1144), "3"},
      {T(0x0018, 0x1242), "20000"}, {T(0x0054, 0x0053), "120"}, {T(0x0054, 0x0200), "0"},
  };
  if (!rc) rc = set_all(item, rot, sizeof rot / sizeof rot[0], err);
  if (!rc)
    rc = rcy_dicom_dataset_set_pixels_uint16_frames(ds, counts, (uint16_t)g->n[1], (uint16_t)g->n[0],
                                                    (uint32_t)g->n[2], err);
  if (!rc) {
    char path[4096];
    snprintf(path, sizeof path, "%s/NM_0001.dcm", s->out_dir);
    rc = write_dataset(ds, path, stats, err);
  }
  rcy_dicom_dataset_free(ds);
  return rc;
}
