/* One study per assessment, one series per study: CT Image Storage (512x512, signed 16-bit stored values
 * with Rescale Intercept -1024, so stored = HU + 1024) or MR Image Storage (256x256, unsigned T1-weighted
 * signal). The attributes follow the CT/MR Image IODs (PS3.3 A.3, A.4): Patient, Clinical Trial Subject,
 * General Study, Clinical Trial Study, General Series, Clinical Trial Series, Frame of Reference, General
 * Equipment, General Image, Image Plane, Image Pixel, CT/MR Image, VOI LUT, SOP Common. They are built once
 * per series (series_template) and cloned for every slice, which only adds its position, UIDs and pixels. */
#include "sample_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T RCY_DICOM_TAG
#define CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define MR_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.4"

/* CT numbers (portal venous phase) and T1-weighted gradient-echo signal per tissue. */
static const double tissue_hu[TISSUE_COUNT] = {
    [TISSUE_AIR] = -1000, [TISSUE_FAT] = -100,    [TISSUE_MUSCLE] = 50, [TISSUE_VFAT] = -90,
    [TISSUE_LIVER] = 100, [TISSUE_SPLEEN] = 110,  [TISSUE_KIDNEY] = 160, [TISSUE_LUNG] = -850,
    [TISSUE_AORTA] = 170, [TISSUE_IVC] = 130,     [TISSUE_CORTEX] = 800, [TISSUE_MARROW] = 250,
    [TISSUE_CSF] = 10};
static const double tissue_mr[TISSUE_COUNT] = {
    [TISSUE_AIR] = 0,     [TISSUE_FAT] = 950,    [TISSUE_MUSCLE] = 420, [TISSUE_VFAT] = 900,
    [TISSUE_LIVER] = 620, [TISSUE_SPLEEN] = 430, [TISSUE_KIDNEY] = 480, [TISSUE_LUNG] = 40,
    [TISSUE_AORTA] = 150, [TISSUE_IVC] = 160,    [TISSUE_CORTEX] = 60,  [TISSUE_MARROW] = 700,
    [TISSUE_CSF] = 180};

double tissue_ct_hu(int tissue) { return tissue >= 0 && tissue < TISSUE_COUNT ? tissue_hu[tissue] : 0.0; }

void sample_uid(char uid[RCY_DICOM_UID_SIZE], uint64_t seed, const char *fmt, ...) {
  char key[256];
  int n = snprintf(key, sizeof key, "recistry-sample/%llu/", (unsigned long long)seed);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(key + n, sizeof key - (size_t)n, fmt, ap);
  va_end(ap);
  rcy_dicom_uid_from_key(uid, key);
}

void series_uids_for(series_uids *u, uint64_t seed, const subject *s, int tp) {
  sample_uid(u->study, seed, "%s/%s/study", s->subject_id, s->tp[tp]);
  sample_uid(u->series, seed, "%s/%s/series/1", s->subject_id, s->tp[tp]);
  sample_uid(u->frame, seed, "%s/%s/frame", s->subject_id, s->tp[tp]);
}

void instance_uid_for(char uid[RCY_DICOM_UID_SIZE], uint64_t seed, const subject *s, int tp, int instance) {
  sample_uid(uid, seed, "%s/%s/image/%d", s->subject_id, s->tp[tp], instance);
}

int slice_instance_number(const subject *s, int k) { return s->slices - k; }

void slice_file_name(char out[32], const subject *s, int k) {
  snprintf(out, 32, "%s_%04d.dcm", s->mr ? "MR" : "CT", slice_instance_number(s, k));
}

int set_all(rcy_dicom_dataset *ds, const attr *a, size_t n, rcy_error *err) {
  for (size_t i = 0; i < n; i++)
    if (a[i].value) {
      int rc = rcy_dicom_dataset_set_string(ds, a[i].tag, a[i].value, err);
      if (rc) return rc;
    }
  return RCY_OK;
}

int add_code(rcy_dicom_dataset *ds, uint32_t seq, const char *value, const char *scheme, const char *meaning,
             rcy_error *err) {
  rcy_dicom_dataset *item;
  int rc = rcy_dicom_dataset_add_item(&item, ds, seq, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0100), value, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0102), scheme, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(item, T(0x0008, 0x0104), meaning, err);
  return rc;
}

void fmt_ds(char *out, size_t n, double v) {
  snprintf(out, n, "%.6f", v);
  /* trim trailing zeros: "0.750000" -> "0.75" */
  char *dot = strchr(out, '.');
  if (dot) {
    char *e = out + strlen(out) - 1;
    while (e > dot && *e == '0') *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (strcmp(out, "-0") == 0) strcpy(out, "0");
}

/* Patient, Clinical Trial Subject, Clinical Trial Study and Series attributes and the de-identification
 * record, as CIREL sites send them (docs/sample.md "Identity and trial attributes"); shared by every
 * phantom series (CT/MR here, the TARE CT, PET and SPECT in tare_dicom.c). */
int trial_attrs_set(rcy_dicom_dataset *ds, const char *subject_id, const char *site, const char *sex,
                    const char *timepoint, const char *timepoint_desc, rcy_error *err) {
  const attr a[] = {
      {T(0x0010, 0x0010), subject_id}, /* sites replace the name by the trial subject ID */
      {T(0x0010, 0x0020), subject_id},
      {T(0x0010, 0x0030), ""},
      {T(0x0010, 0x0040), sex},
      {T(0x0012, 0x0010), "FFCD"},
      {T(0x0012, 0x0020), "CIREL"},
      {T(0x0012, 0x0021), "Irinotecan-TACE for colorectal liver metastases"},
      {T(0x0012, 0x0030), site},
      {T(0x0012, 0x0031), ""},
      {T(0x0012, 0x0040), subject_id},
      {T(0x0012, 0x0050), timepoint},
      {T(0x0012, 0x0051), timepoint_desc},
      {T(0x0012, 0x0060), "CIREL central imaging core"},
      {T(0x0012, 0x0062), "YES"},
      {T(0x0012, 0x0063), "CIREL site de-identification (PS3.15 E.1 Basic Profile)"},
  };
  int rc = set_all(ds, a, sizeof a / sizeof a[0], err);
  /* how the site de-identified: PS3.16 CID 7050 */
  if (!rc) rc = add_code(ds, T(0x0012, 0x0064), "113100", "DCM", "Basic Application Confidentiality Profile", err);
  if (!rc)
    rc = add_code(ds, T(0x0012, 0x0064), "113107", "DCM",
                  "Retain Longitudinal Temporal Information Modified Dates Option", err);
  if (!rc) rc = add_code(ds, T(0x0012, 0x0064), "113108", "DCM", "Retain Patient Characteristics Option", err);
  return rc;
}

int series_template(rcy_dicom_dataset **out, const series_job *job, rcy_error *err) {
  const subject *s = job->s;
  int tp = job->tp;
  plane_grid g;
  subject_grid(&g, s);
  char date[9], time[16], spacing[40], dx[20], thick[20], fov[20], study_desc[64], series_desc[64], tp_desc[32];
  format_dicom_date(date, s->tp_day[tp]);
  snprintf(time, sizeof time, "%02u%02u00", (unsigned)(8 + (s->index + 3 * tp) % 9), (unsigned)((s->index * 7 + tp * 11) % 60));
  fmt_ds(dx, sizeof dx, g.dx_mm);
  snprintf(spacing, sizeof spacing, "%s\\%s", dx, dx);
  fmt_ds(thick, sizeof thick, s->thickness_mm);
  fmt_ds(fov, sizeof fov, s->fov_mm);
  snprintf(study_desc, sizeof study_desc, "CIREL %s %s", s->tp[tp], s->mr ? "MR liver" : "CT thorax-abdomen");
  snprintf(series_desc, sizeof series_desc, "%s %s mm", s->mr ? "T1 GRE axial" : "Portal venous axial", thick);
  if (tp == 0)
    snprintf(tp_desc, sizeof tp_desc, "Baseline");
  else
    snprintf(tp_desc, sizeof tp_desc, "Follow-up %d", tp);

  const attr common[] = {
      {T(0x0008, 0x0012), date},
      {T(0x0008, 0x0013), time},
      {T(0x0008, 0x0016), s->mr ? MR_IMAGE_STORAGE : CT_IMAGE_STORAGE},
      {T(0x0008, 0x0020), date},
      {T(0x0008, 0x0021), date},
      {T(0x0008, 0x0022), date},
      {T(0x0008, 0x0023), date},
      {T(0x0008, 0x0030), time},
      {T(0x0008, 0x0031), time},
      {T(0x0008, 0x0032), time},
      {T(0x0008, 0x0033), time},
      {T(0x0008, 0x0050), ""},
      {T(0x0008, 0x0060), s->mr ? "MR" : "CT"},
      {T(0x0008, 0x0070), "recistry"},
      {T(0x0008, 0x0090), ""},
      {T(0x0008, 0x1030), study_desc},
      {T(0x0008, 0x103e), series_desc},
      {T(0x0008, 0x1090), "recistry phantom"},
      {T(0x0018, 0x0015), "ABDOMEN"},
      {T(0x0018, 0x0050), thick},
      {T(0x0018, 0x1030), s->mr ? "CIREL liver MR" : "CIREL CT TAP"},
      {T(0x0018, 0x5100), "HFS"},
      {T(0x0020, 0x000d), job->uids.study},
      {T(0x0020, 0x000e), job->uids.series},
      {T(0x0020, 0x0010), s->tp[tp]},
      {T(0x0020, 0x0011), "1"},
      {T(0x0020, 0x0012), "1"},
      {T(0x0020, 0x0037), "1\\0\\0\\0\\1\\0"},
      {T(0x0020, 0x0052), job->uids.frame},
      {T(0x0020, 0x1040), ""},
      {T(0x0028, 0x0004), "MONOCHROME2"},
      {T(0x0028, 0x0030), spacing},
      {T(0x0028, 0x0301), "NO"},
  };
  const attr ct[] = {
      {T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\AXIAL"},
      {T(0x0018, 0x0060), "120"},
      {T(0x0018, 0x0090), fov},
      {T(0x0018, 0x1100), fov},
      {T(0x0018, 0x1210), "STANDARD"},
      {T(0x0028, 0x1050), "40"},
      {T(0x0028, 0x1051), "400"},
      {T(0x0028, 0x1055), "ABDOMEN"},
      {T(0x0028, 0x1052), "-1024"},
      {T(0x0028, 0x1053), "1"},
      {T(0x0028, 0x1054), "HU"},
  };
  const attr mr[] = {
      {T(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\OTHER"},
      {T(0x0018, 0x0020), "GR"},
      {T(0x0018, 0x0021), "SP"},
      {T(0x0018, 0x0022), ""},
      {T(0x0018, 0x0023), "2D"},
      {T(0x0018, 0x0080), "4.1"},
      {T(0x0018, 0x0081), "1.9"},
      {T(0x0018, 0x0091), "1"},
      {T(0x0018, 0x0087), "1.5"},
      {T(0x0018, 0x0088), thick},
      {T(0x0018, 0x1314), "10"},
      {T(0x0028, 0x1050), "500"},
      {T(0x0028, 0x1051), "1000"},
  };
  rcy_dicom_dataset *ds;
  int rc = rcy_dicom_dataset_new(&ds, err);
  if (rc) return rc;
  rc = set_all(ds, common, sizeof common / sizeof common[0], err);
  if (!rc) rc = s->mr ? set_all(ds, mr, sizeof mr / sizeof mr[0], err) : set_all(ds, ct, sizeof ct / sizeof ct[0], err);
  if (!rc) rc = trial_attrs_set(ds, s->subject_id, s->site, s->sex, s->tp[tp], tp_desc, err);
  if (rc) {
    rcy_dicom_dataset_free(ds);
    return rc;
  }
  *out = ds;
  return RCY_OK;
}

void series_render_slice(void *pixels, const series_job *job, int k, uint8_t *labels) {
  const subject *s = job->s;
  plane_grid g;
  subject_grid(&g, s);
  shape les[MAX_LESIONS];
  int n = subject_lesion_shapes(les, s, job->tp);
  anatomy_paint_slice(labels, &g, subject_slice_z(s, k), &s->body, les, n);
  double value[256] = {0};
  for (int t = 0; t < TISSUE_COUNT; t++) value[t] = s->mr ? tissue_mr[t] : tissue_hu[t];
  for (int i = 0; i < s->n_les; i++) value[LABEL_LESION0 + i] = s->mr ? s->les[i].mr : s->les[i].hu;
  char key[96];
  snprintf(key, sizeof key, "noise/%s/%s/%d", s->subject_id, s->tp[job->tp], k);
  prng r;
  prng_init(&r, job->seed, key);
  /* MR noise scales with its larger signal range; the air outside the body is left clean (a padded
   * background, and it keeps the committed samples compressible). */
  double sigma = job->noise_hu * (s->mr ? 2.0 : 1.0);
  size_t npx = (size_t)g.rows * g.columns;
  /* stored values per label: HU + 1024 for CT (Rescale Intercept -1024), the signal itself for MR */
  int base[256];
  for (int l = 0; l < 256; l++) base[l] = (int)floor(value[l] + 0.5) + (s->mr ? 0 : 1024);
  int lo = 0, hi = s->mr ? 65535 : 4095;
  for (size_t i = 0; i < npx; i++) {
    int v = base[labels[i]];
    if (labels[i] != TISSUE_AIR && sigma > 0) {
      double nz = sigma * prng_gauss(&r);
      v += (int)(nz >= 0 ? nz + 0.5 : nz - 0.5);
      if (s->mr && v < 0) v = -v; /* magnitude images: Rician-like floor */
    }
    v = v < lo ? lo : v > hi ? hi : v;
    if (s->mr)
      ((uint16_t *)pixels)[i] = (uint16_t)v;
    else
      ((int16_t *)pixels)[i] = (int16_t)v;
  }
}

int series_image(rcy_dicom_dataset *img, const series_job *job, int k, const void *pixels, rcy_error *err) {
  const subject *s = job->s;
  plane_grid g;
  subject_grid(&g, s);
  char uid[RCY_DICOM_UID_SIZE], pos[80], x[20], y[20], z[20], num[12];
  int inst = slice_instance_number(s, k);
  instance_uid_for(uid, job->seed, s, job->tp, inst);
  fmt_ds(x, sizeof x, g.x0_mm);
  fmt_ds(y, sizeof y, g.y0_mm);
  fmt_ds(z, sizeof z, subject_slice_z(s, k));
  snprintf(pos, sizeof pos, "%s\\%s\\%s", x, y, z);
  snprintf(num, sizeof num, "%d", inst);
  int rc = rcy_dicom_dataset_set_string(img, T(0x0008, 0x0018), uid, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(img, T(0x0020, 0x0013), num, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(img, T(0x0020, 0x0032), pos, err);
  if (!rc) rc = rcy_dicom_dataset_set_string(img, T(0x0020, 0x1041), z, err);
  if (!rc)
    rc = s->mr ? rcy_dicom_dataset_set_pixels_uint16(img, pixels, (uint16_t)g.rows, (uint16_t)g.columns, err)
               : rcy_dicom_dataset_set_pixels_int16(img, pixels, (uint16_t)g.rows, (uint16_t)g.columns, err);
  return rc;
}

int write_dataset(rcy_dicom_dataset *ds, const char *path, rcy_sample_stats *stats, rcy_error *err) {
  int rc = rcy_dicom_dataset_write_file(ds, path, err);
  if (rc) return rc;
  struct stat st;
  if (stats) {
    stats->instances++;
    if (stat(path, &st) == 0) stats->bytes += (size_t)st.st_size;
  }
  return RCY_OK;
}

int series_write(const series_job *job, rcy_sample_stats *stats, rcy_error *err) {
  rcy_dicom_dataset *tmpl;
  int rc = series_template(&tmpl, job, err);
  if (rc) return rc;
  rc = series_write_with(job, tmpl, -1, stats, err);
  rcy_dicom_dataset_free(tmpl);
  return rc;
}

int series_write_slice(const series_job *job, const rcy_dicom_dataset *tmpl, int k, const char *name,
                       void (*edit)(void *pixels, int columns), const char *orientation, rcy_sample_stats *stats,
                       rcy_error *err) {
  const subject *s = job->s;
  plane_grid g;
  subject_grid(&g, s);
  rcy_dicom_dataset *img = NULL;
  uint8_t *labels = malloc((size_t)g.rows * g.columns);
  void *pixels = malloc((size_t)g.rows * g.columns * 2);
  int rc = labels && pixels ? rcy_dicom_dataset_clone(&img, tmpl, err)
                            : rcy_error_set(err, RCY_ENOMEM, "out of memory rendering %s", s->subject_id);
  if (!rc) {
    series_render_slice(pixels, job, k, labels);
    if (edit) edit(pixels, g.columns);
    rc = series_image(img, job, k, pixels, err);
  }
  if (!rc && orientation) rc = rcy_dicom_dataset_set_string(img, T(0x0020, 0x0037), orientation, err);
  if (!rc) {
    char std_name[32], path[4096];
    slice_file_name(std_name, s, k);
    snprintf(path, sizeof path, "%s/%s", job->out_dir, name ? name : std_name);
    rc = write_dataset(img, path, stats, err);
  }
  rcy_dicom_dataset_free(img);
  free(labels);
  free(pixels);
  return rc;
}

int series_write_with(const series_job *job, const rcy_dicom_dataset *tmpl, int skip, rcy_sample_stats *stats,
                      rcy_error *err) {
  int rc = RCY_OK;
  for (int k = 0; k < job->s->slices && !rc; k++)
    if (k != skip) rc = series_write_slice(job, tmpl, k, NULL, NULL, NULL, stats, err);
  return rc;
}
