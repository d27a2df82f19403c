/* Tests of the phantom generator against what it wrote: deterministic bytes, geometry read back through
 * ITK, lesion diameters measured on the voxel grid against the truth JSON, the reads' structure, and
 * the option checks. Small cohorts (few slices) keep it quick. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "recistry/dicom.h"
#include "recistry/imaging.h"
#include "recistry/sample.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tmp_root[1024];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void make_tmp(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", tmp_root, name);
  nftw(out, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup_all(void **state) {
  (void)state;
  const char *b = getenv("RCY_BUILD_DIR");
  snprintf(tmp_root, sizeof tmp_root, "%s/test-tmp/test_sample-XXXXXX", b ? b : "/tmp");
  char parent[1024];
  snprintf(parent, sizeof parent, "%s/test-tmp", b ? b : "/tmp");
  mkdir(parent, 0777);
  return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown_all(void **state) {
  (void)state;
  nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static void generate(const char *dir, int subjects, uint64_t seed, int slices, int tps, double noise, int dirty) {
  rcy_sample_options o;
  rcy_sample_options_init(&o);
  o.out_dir = dir;
  o.subjects = subjects;
  o.seed = seed;
  o.slices = slices;
  o.max_timepoints = tps;
  o.noise_hu = noise;
  o.dirty = dirty;
  rcy_error err = {0};
  rcy_sample_stats st;
  int rc = rcy_sample_generate(&st, &o, &err);
  if (rc) fprintf(stderr, "generate: %s\n", err.message);
  assert_int_equal(rc, 0);
  assert_int_equal(st.subjects, subjects);
  assert_true(st.instances > 0);
}

/* ---- determinism ---- */

static const char *cmp_other;
static size_t cmp_files, cmp_diff;
static size_t cmp_base_len;
static int cmp_quiet;

static int cmp_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)ftw;
  if (flag != FTW_F) return 0;
  char other[2048];
  snprintf(other, sizeof other, "%s%s", cmp_other, path + cmp_base_len);
  FILE *a = fopen(path, "rb"), *b = fopen(other, "rb");
  int same = a && b;
  if (same) {
    char *x = malloc((size_t)st->st_size + 1), *y = malloc((size_t)st->st_size + 1);
    size_t nx = fread(x, 1, (size_t)st->st_size + 1, a), ny = fread(y, 1, (size_t)st->st_size + 1, b);
    same = nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
  }
  if (a) fclose(a);
  if (b) fclose(b);
  cmp_files++;
  if (!same) {
    cmp_diff++;
    if (cmp_diff < 5 && !cmp_quiet) fprintf(stderr, "differs: %s\n", path + cmp_base_len);
  }
  return 0;
}

static size_t compare_trees(const char *a, const char *b, size_t *files) {
  cmp_other = b;
  cmp_files = cmp_diff = 0;
  cmp_base_len = strlen(a);
  nftw(a, cmp_entry, 16, FTW_PHYS);
  *files = cmp_files;
  return cmp_diff;
}

static void test_same_seed_same_bytes(void **state) {
  (void)state;
  char a[1100], b[1100], c[1100];
  make_tmp(a, sizeof a, "det-a");
  make_tmp(b, sizeof b, "det-b");
  make_tmp(c, sizeof c, "det-c");
  generate(a, 3, 42, 8, 2, 10, 1);
  generate(b, 3, 42, 8, 2, 10, 1);
  generate(c, 3, 43, 8, 2, 10, 1);
  size_t files;
  assert_int_equal(compare_trees(a, b, &files), 0);
  assert_true(files > 60); /* DICOM, truth, reads, dirty */
  cmp_quiet = 1;
  assert_true(compare_trees(a, c, &files) > files / 2);
  cmp_quiet = 0;
}

static void test_uid_from_key(void **state) {
  (void)state;
  char u1[RCY_DICOM_UID_SIZE], u2[RCY_DICOM_UID_SIZE], u3[RCY_DICOM_UID_SIZE];
  rcy_dicom_uid_from_key(u1, "a/b/1");
  rcy_dicom_uid_from_key(u2, "a/b/1");
  rcy_dicom_uid_from_key(u3, "a/b/2");
  assert_string_equal(u1, u2);
  assert_string_not_equal(u1, u3);
  assert_memory_equal(u1, "2.25.", 5);
  assert_true(strlen(u1) <= 64 && strlen(u1) > 30);
  assert_true(u1[5] != '0');
  for (const char *p = u1 + 5; *p; p++) assert_true(*p >= '0' && *p <= '9');
}

/* ---- geometry and lesion sizes ---- */

typedef struct {
  int *stack;
  unsigned char *seen;
} fill_buf;

/* 4-connected region of value v around (i0, j0) on one slice; returns its boundary pixels' centres (mm) in
 * *pts: the longest chord and the widths are reached there, and it keeps the pair search small. */
static size_t region(const int16_t *slice, size_t cols, size_t rows, size_t i0, size_t j0, int16_t v,
                     const double *ox_dx, double **pts) {
  unsigned char *seen = calloc(cols * rows, 1);
  size_t *stack = malloc(cols * rows * sizeof *stack), *members = malloc(cols * rows * sizeof *members);
  size_t top = 0, m = 0, n = 0;
  stack[top++] = j0 * cols + i0;
  seen[j0 * cols + i0] = 1;
  while (top) {
    size_t idx = stack[--top], i = idx % cols, j = idx / cols;
    members[m++] = idx;
    size_t nb[4] = {i > 0 ? idx - 1 : idx, i + 1 < cols ? idx + 1 : idx, j > 0 ? idx - cols : idx,
                    j + 1 < rows ? idx + cols : idx};
    for (int q = 0; q < 4; q++)
      if (!seen[nb[q]] && slice[nb[q]] == v) {
        seen[nb[q]] = 1;
        stack[top++] = nb[q];
      }
  }
  double *p = malloc(m * 2 * sizeof *p);
  for (size_t a = 0; a < m; a++) {
    size_t idx = members[a], i = idx % cols, j = idx / cols;
    int edge = i == 0 || j == 0 || i + 1 == cols || j + 1 == rows || !seen[idx - 1] || !seen[idx + 1] ||
               !seen[idx - cols] || !seen[idx + cols];
    if (!edge) continue;
    p[2 * n] = ox_dx[0] + (double)i * ox_dx[2];
    p[2 * n + 1] = ox_dx[1] + (double)j * ox_dx[2];
    n++;
  }
  free(seen);
  free(stack);
  free(members);
  *pts = p;
  return n;
}

/* Longest distance between pixel centres, and the width across the lesion's long axis (angle theta). */
static void feret(const double *p, size_t n, double theta, double *longest, double *width) {
  double best = 0, ux = cos(theta), uy = sin(theta);
  for (size_t a = 0; a < n; a++)
    for (size_t b = a + 1; b < n; b++) {
      double dx = p[2 * b] - p[2 * a], dy = p[2 * b + 1] - p[2 * a + 1], d = dx * dx + dy * dy;
      if (d > best) best = d;
    }
  *longest = sqrt(best);
  double lo = 1e9, hi = -1e9;
  for (size_t a = 0; a < n; a++) {
    double t = -p[2 * a] * uy + p[2 * a + 1] * ux;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  *width = hi - lo;
}

static void check_subject(const char *dir, const char *subject_path) {
  json_error_t jerr;
  json_t *truth = json_load_file(subject_path, 0, &jerr);
  assert_non_null(truth);
  json_t *tps = json_object_get(truth, "timepoints"), *lesions = json_object_get(truth, "lesions");
  size_t t;
  json_t *tp;
  json_array_foreach(tps, t, tp) {
    char folder[2048];
    snprintf(folder, sizeof folder, "%s/%s", dir, json_string_value(json_object_get(tp, "folder")));
    rcy_imaging_volume *vol;
    rcy_error err = {0};
    int rc = rcy_imaging_volume_read_series(&vol, folder, json_string_value(json_object_get(tp, "series_instance_uid")), &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    assert_int_equal(rc, 0);
    size_t size[3];
    double origin[3], spacing[3], dir9[9];
    rcy_imaging_volume_size(vol, size);
    rcy_imaging_volume_origin_mm(vol, origin);
    rcy_imaging_volume_spacing_mm(vol, spacing);
    rcy_imaging_volume_direction(vol, dir9);
    assert_int_equal(size[0], json_integer_value(json_object_get(tp, "columns")));
    assert_int_equal(size[1], json_integer_value(json_object_get(tp, "rows")));
    assert_int_equal(size[2], json_integer_value(json_object_get(tp, "slices")));
    double dx = json_real_value(json_object_get(tp, "pixel_spacing_mm"));
    assert_true(fabs(spacing[0] - dx) < 1e-4 && fabs(spacing[1] - dx) < 1e-4);
    assert_true(fabs(spacing[2] - json_real_value(json_object_get(tp, "slice_spacing_mm"))) < 1e-4);
    json_t *o = json_object_get(tp, "origin_mm");
    for (int a = 0; a < 3; a++) assert_true(fabs(origin[a] - json_real_value(json_array_get(o, (size_t)a))) < 0.01);
    for (int a = 0; a < 9; a++) assert_true(fabs(dir9[a] - (a % 4 == 0 ? 1.0 : 0.0)) < 1e-6);
    int mr = strcmp(json_string_value(json_object_get(tp, "modality")), "MR") == 0;
    const int16_t *vox = rcy_imaging_volume_voxels(vol);
    size_t l;
    json_t *les;
    json_array_foreach(lesions, l, les) {
      json_t *lt = json_array_get(json_object_get(les, "timepoints"), t);
      if (!json_is_true(json_object_get(lt, "present"))) continue;
      json_t *c = json_object_get(les, "centre_mm");
      double cx = json_real_value(json_array_get(c, 0)), cy = json_real_value(json_array_get(c, 1)),
             cz = json_real_value(json_array_get(c, 2));
      size_t i = (size_t)lround((cx - origin[0]) / spacing[0]), j = (size_t)lround((cy - origin[1]) / spacing[1]),
             k = (size_t)lround((cz - origin[2]) / spacing[2]);
      assert_true(fabs(origin[2] + (double)k * spacing[2] - cz) < 1e-3); /* the centre is on a slice */
      const int16_t *slice = vox + k * size[0] * size[1];
      int16_t v = (int16_t)json_real_value(json_object_get(les, mr ? "mr_signal" : "ct_hu"));
      assert_int_equal(slice[j * size[0] + i], v);
      double *pts, ox_dx[3] = {origin[0], origin[1], spacing[0]}, longest, width;
      size_t n = region(slice, size[0], size[1], i, j, v, ox_dx, &pts);
      feret(pts, n, json_real_value(json_object_get(les, "in_plane_angle_deg")) * M_PI / 180, &longest, &width);
      free(pts);
      /* centre-to-centre distances fall short of the edge by up to a pixel in all: measure between the
       * outer edges of the end pixels instead (centre distance + one pixel) */
      longest += spacing[0];
      width += spacing[0];
      double tl = json_real_value(json_object_get(lt, "expected_longest_diameter_mm"));
      double ts = json_real_value(json_object_get(lt, "expected_short_axis_mm"));
      if (fabs(longest - tl) > spacing[0] || fabs(width - ts) > spacing[0])
        fprintf(stderr, "%s %s %s: measured %.2f x %.2f, truth %.1f x %.1f (voxel %.3f)\n",
                json_string_value(json_object_get(truth, "subject_id")),
                json_string_value(json_object_get(les, "lesion_id")),
                json_string_value(json_object_get(tp, "timepoint")), longest, width, tl, ts, spacing[0]);
      assert_true(fabs(longest - tl) <= spacing[0]);
      assert_true(fabs(width - ts) <= spacing[0]);
      /* the instance named in the truth is the slice through the centre: number = slices - k */
      assert_int_equal(json_integer_value(json_object_get(lt, "instance_number")), (json_int_t)(size[2] - k));
    }
    rcy_imaging_volume_free(vol);
  }
  json_decref(truth);
}

/* One cohort shared by the truth and reads tests, made on first use: 7 subjects (every scenario, CT and MR),
 * noiseless so that lesions are exact value regions. */
static const char *cohort_dir(void) {
  static char dir[1100];
  if (!dir[0]) {
    make_tmp(dir, sizeof dir, "cohort");
    generate(dir, 7, 5, 8, 3, 0, 0);
  }
  return dir;
}

static void test_geometry_and_lesions_match_truth(void **state) {
  (void)state;
  char path[1200];
  const char *dir = cohort_dir();
  const char *ids[] = {"CIREL-014-0001", "CIREL-027-0001", "CIREL-031-0001", "CIREL-014-0002",
                       "CIREL-027-0002", "CIREL-031-0002", "CIREL-014-0003"};
  for (size_t s = 0; s < 7; s++) {
    snprintf(path, sizeof path, "%s/truth/%s.json", dir, ids[s]);
    check_subject(dir, path);
  }
}

/* ---- reads ---- */

static json_t *assessment(json_t *subjects, size_t s, size_t a) {
  return json_array_get(json_object_get(json_array_get(subjects, s), "assessments"), a);
}

static void test_reads(void **state) {
  (void)state;
  char path[1200];
  const char *dir = cohort_dir();
  json_error_t jerr;
  snprintf(path, sizeof path, "%s/reads/central.json", dir);
  json_t *central = json_load_file(path, 0, &jerr);
  snprintf(path, sizeof path, "%s/reads/site.json", dir);
  json_t *site = json_load_file(path, 0, &jerr);
  assert_non_null(central);
  assert_non_null(site);
  assert_int_equal(json_array_size(central), 7);
  assert_int_equal(json_array_size(site), 7);
  /* subject 0 (partial response): baseline targets with organ, nodal, diameter; PR at FU1 in the central read */
  json_t *bl = assessment(central, 0, 0);
  assert_string_equal(json_string_value(json_object_get(bl, "timepoint")), "BL");
  json_t *t1 = json_array_get(json_object_get(bl, "target"), 0);
  assert_string_equal(json_string_value(json_object_get(t1, "lesion_id")), "T1");
  assert_string_equal(json_string_value(json_object_get(t1, "organ")), "liver");
  assert_true(json_is_false(json_object_get(t1, "nodal")));
  double sod_bl = 0, sod_fu = 0, site_fu = 0;
  json_t *e;
  size_t i;
  json_array_foreach(json_object_get(bl, "target"), i, e) sod_bl += json_real_value(json_object_get(e, "diameter_mm"));
  json_array_foreach(json_object_get(assessment(central, 0, 1), "target"), i, e)
      sod_fu += json_real_value(json_object_get(e, "diameter_mm"));
  json_array_foreach(json_object_get(assessment(site, 0, 1), "target"), i, e)
      site_fu += json_real_value(json_object_get(e, "diameter_mm"));
  assert_true(sod_fu <= 0.7 * sod_bl);  /* central: PR */
  assert_true(site_fu > 0.7 * sod_bl);  /* site measured T1 larger: not PR */
  /* subject 1 (new lesion): central shows N1 where it first appears, the site read does not */
  size_t first = 0;
  for (size_t a = 1; a < 3 && !first; a++)
    if (json_array_size(json_object_get(assessment(central, 1, a), "new_lesions"))) first = a;
  assert_true(first > 0);
  json_t *n1 = json_array_get(json_object_get(assessment(central, 1, first), "new_lesions"), 0);
  assert_string_equal(json_string_value(json_object_get(n1, "state")), "unequivocal");
  assert_int_equal(json_array_size(json_object_get(assessment(site, 1, first), "new_lesions")), 0);
  /* subject 5 (equivocal new lesion): equivocal at FU1, unequivocal at FU2 */
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_object_get(assessment(central, 5, 1), "new_lesions"), 0), "state")),
                      "equivocal");
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_object_get(assessment(central, 5, 2), "new_lesions"), 0), "state")),
                      "unequivocal");
  /* subject 2 (nodes): nodal targets are measured by short axis; FU2 is CR (nodes < 10 mm, liver target gone) */
  json_t *fu2 = assessment(central, 2, 2);
  json_array_foreach(json_object_get(fu2, "target"), i, e) {
    json_t *d = json_object_get(e, "diameter_mm");
    if (d) assert_true(json_real_value(d) < 10.0);
    else assert_string_equal(json_string_value(json_object_get(e, "state")), "disappeared");
  }
  json_decref(central);
  json_decref(site);
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  assert_non_null(a);
  assert_non_null(b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0) assert_int_equal(fwrite(buf, 1, n, b), n);
  fclose(a);
  assert_int_equal(fclose(b), 0);
}

/* The ITK reader refuses what it cannot decide: an empty folder, two series without naming one, an unknown
 * series; it reads the named one among several. */
static void test_imaging_reader_errors(void **state) {
  (void)state;
  const char *dir = cohort_dir();
  char two[1100], from[1400], to[1400];
  make_tmp(two, sizeof two, "two-series");
  assert_int_equal(mkdir(two, 0777), 0);
  rcy_imaging_volume *vol = NULL;
  rcy_error err = {0};
  assert_int_equal(rcy_imaging_volume_read_series(&vol, two, NULL, &err), RCY_ENOTFOUND);
  assert_null(vol);
  const char *tps[] = {"BL", "FU1"};
  for (int t = 0; t < 2; t++)
    for (int i = 1; i <= 8; i++) {
      snprintf(from, sizeof from, "%s/S014/CIREL-014-0001/%s/CT_%04d.dcm", dir, tps[t], i);
      snprintf(to, sizeof to, "%s/%s_%d.dcm", two, tps[t], i);
      copy_file(from, to);
    }
  assert_int_equal(rcy_imaging_volume_read_series(&vol, two, NULL, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "2 series"));
  assert_int_equal(rcy_imaging_volume_read_series(&vol, two, "2.25.1", &err), RCY_ENOTFOUND);
  char path[1200];
  snprintf(path, sizeof path, "%s/truth/CIREL-014-0001.json", dir);
  json_error_t jerr;
  json_t *truth = json_load_file(path, 0, &jerr);
  assert_non_null(truth);
  const char *fu1 = json_string_value(
      json_object_get(json_array_get(json_object_get(truth, "timepoints"), 1), "series_instance_uid"));
  assert_int_equal(rcy_imaging_volume_read_series(&vol, two, fu1, &err), 0);
  size_t size[3];
  rcy_imaging_volume_size(vol, size);
  assert_int_equal(size[2], 8);
  double idx[3] = {0, 0, 1}, origin[3], p[3];
  rcy_imaging_volume_origin_mm(vol, origin);
  rcy_imaging_volume_index_to_mm(vol, idx, p);
  assert_true(fabs(p[2] - origin[2] - 5.0) < 1e-6); /* 5 mm slices */
  rcy_imaging_volume_free(vol);
  json_decref(truth);
}

static void test_bad_options(void **state) {
  (void)state;
  rcy_sample_options o;
  rcy_sample_options_init(&o);
  rcy_error err = {0};
  assert_int_equal(rcy_sample_generate(NULL, &o, &err), RCY_EINVAL); /* no folder */
  o.out_dir = tmp_root;
  o.slices = 3;
  assert_int_equal(rcy_sample_generate(NULL, &o, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "slices"));
  o.slices = 10;
  o.max_timepoints = 9;
  assert_int_equal(rcy_sample_generate(NULL, &o, &err), RCY_EINVAL);
  assert_non_null(strstr(err.message, "timepoints"));
  assert_string_equal(rcy_sample_scenario_name(0), "partial_response");
  assert_null(rcy_sample_scenario_name(7));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uid_from_key),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_same_seed_same_bytes),
      cmocka_unit_test(test_reads),
      cmocka_unit_test(test_geometry_and_lesions_match_truth),
      cmocka_unit_test(test_imaging_reader_errors),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
