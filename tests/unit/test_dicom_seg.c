/* DICOM Segmentation (SEG) of a lesion mask: written from a phantom CT series (`recistry sample`) with a
 * known mask on six consecutive slices, one of them empty; the file passes dciodvfy (dicom3tools) with no
 * error and only the warnings listed below, carries the source's study, Frame of Reference, clinical trial
 * and de-identification attributes and the lesion codes (dcmdump), reads back with every frame's mask and
 * source reference, and is the same for the same input (but for Content Date/Time). Malformed inputs (sizes
 * that do not match the images, no pixel set, a source that is not an image) are refused and write no file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recistry/dicom.h"

#define ROWS 512
#define COLS 512
#define NF 6 /* mask frames; frame 2 is empty */
#define FRAME_PX ((size_t)ROWS * COLS)

static char dir[] = "/tmp/rcy-seg-XXXXXX";
static char src_paths[NF][512];
static const char *srcs[NF];
static uint8_t *mask;

/* dciodvfy warnings tolerated, each with why (any other warning, and every error, fails the test). Matched
 * as substrings of the warning line.
 *  - Patient's Name and Content Creator's Name without a "^": dicom3tools calls a PN value with no component
 *    separator the retired (ACR-NEMA) person name form, but a single family-name component is a valid PN.
 *    Patient's Name is the source's de-identified name (= Clinical Trial Subject ID, the sample CT images get
 *    the same warning); Content Creator's Name is the reader's account name, not a person's name to split. */
static const char *const tolerated_warnings[] = {
    "(0x0010,0x0010) PN Patient's Name  PN [1] = <CIREL-014-0001> - Retired Person Name form",
    "(0x0070,0x0084) PN Content Creator's Name  PN [1] = <central1> - Retired Person Name form",
    NULL,
};

static int run(const char *cmd, char *out, size_t out_len) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, out_len - 1, p);
  out[n] = '\0';
  return pclose(p);
}

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(dir)) return -1;
  const char *build = getenv("RCY_BUILD_DIR");
  if (!build) {
    fprintf(stderr, "RCY_BUILD_DIR not set\n");
    return -1;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s/recistry' sample --out '%s/s' --subjects 1 --slices 8 --no-dirty >/dev/null",
           build, dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "%s failed\n", cmd);
    return -1;
  }
  glob_t g;
  char pattern[600];
  snprintf(pattern, sizeof pattern, "%s/s/S014/*/BL/CT_*.dcm", dir);
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc < NF + 1) return -1;
  for (int i = 0; i < NF; i++) { /* CT_0002 .. CT_0007: consecutive slices */
    snprintf(src_paths[i], sizeof src_paths[i], "%s", g.gl_pathv[i + 1]);
    srcs[i] = src_paths[i];
  }
  globfree(&g);

  mask = calloc(NF * FRAME_PX, 1);
  uint8_t *m;
  m = mask + 0 * FRAME_PX; /* a disc of radius 20 at (300, 200), values other than 1 count as inside */
  for (int r = 0; r < ROWS; r++)
    for (int c = 0; c < COLS; c++)
      if ((r - 200) * (r - 200) + (c - 300) * (c - 300) <= 400)
        m[r * COLS + c] = (uint8_t)(1 + (r + c) % 200);
  m = mask + 1 * FRAME_PX; /* a rectangle */
  for (int r = 100; r < 140; r++)
    for (int c = 50; c < 61; c++)
      m[r * COLS + c] = 1;
  /* frame 2: empty, left out */
  mask[3 * FRAME_PX + 0] = 1;              /* first pixel only */
  mask[4 * FRAME_PX + FRAME_PX - 1] = 255; /* last pixel only */
  m = mask + 5 * FRAME_PX;                 /* a checkerboard patch: bit packing across byte boundaries */
  for (int r = 7; r < 30; r++)
    for (int c = 3; c < 44; c++)
      m[r * COLS + c] = (uint8_t)((r + c) % 2);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(mask);
  if (getenv("RCY_SEG_KEEP")) { /* keep the files to look at them */
    fprintf(stderr, "kept %s\n", dir);
    return 0;
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static rcy_dicom_seg_input input(void) {
  rcy_dicom_seg_input in = {0};
  in.source_paths = srcs;
  in.n_frames = NF;
  in.rows = ROWS;
  in.columns = COLS;
  in.mask = mask;
  in.segment_label = "T1 liver";
  in.segment_description = "Target lesion T1";
  in.organ = "liver";
  in.tracking_id = "T1";
  in.tracking_uid = "2.25.123456789012345678901234567890";
  in.semiautomatic_edited = 1;
  in.algorithm_name = "recistry seeded region growing";
  in.algorithm_version = "1";
  in.content_creator = "central1";
  in.series_uid = "2.25.111111111111111111111111111111";
  in.sop_instance_uid = "2.25.222222222222222222222222222222";
  in.series_number = 9801;
  in.instance_number = 1;
  return in;
}

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static void must_contain(const char *dump, const char *what) {
  if (!strstr(dump, what)) fail_msg("dcmdump of the SEG lacks %s", what);
}

static void test_write_verify_read(void **state) {
  (void)state;
  char path[600], sop[RCY_DICOM_UID_SIZE] = "";
  snprintf(path, sizeof path, "%s/seg.dcm", dir);
  rcy_dicom_seg_input in = input();
  rcy_error err = {0};
  if (rcy_dicom_seg_write(path, &in, sop, &err) != 0) fail_msg("seg write: %s", err.message);
  assert_string_equal(sop, in.sop_instance_uid);
  char tmp[620];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_false(file_exists(tmp));

  /* dciodvfy: no error, no warning but the tolerated ones */
  static char out[1 << 16];
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "dciodvfy '%s' 2>&1", path);
  assert_true(run(cmd, out, sizeof out) >= 0);
  fprintf(stderr, "dciodvfy:\n%s", out);
  assert_non_null(strstr(out, "Segmentation")); /* it recognised the IOD */
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "Error", 5) == 0) fail_msg("dciodvfy: %s", line);
    if (strncmp(line, "Warning", 7) == 0) {
      int ok = 0;
      for (const char *const *t = tolerated_warnings; *t; t++)
        if (strstr(line, *t)) ok = 1;
      if (!ok) fail_msg("dciodvfy warning not tolerated: %s", line);
    }
  }

  /* identifiers, trial and de-identification attributes: those of the source */
  rcy_dicom_attrs a, s;
  assert_int_equal(rcy_dicom_read_attrs(&a, NULL, path, NULL, 0, &err), 0);
  assert_int_equal(rcy_dicom_read_attrs(&s, NULL, srcs[0], NULL, 0, &err), 0);
  assert_string_equal(a.sop_class_uid, "1.2.840.10008.5.1.4.1.1.66.4");
  assert_string_equal(a.sop_instance_uid, in.sop_instance_uid);
  assert_string_equal(a.series_uid, in.series_uid);
  assert_string_equal(a.modality, "SEG");
  assert_string_equal(a.study_uid, s.study_uid);
  assert_string_equal(a.frame_of_reference_uid, s.frame_of_reference_uid);
  assert_string_equal(a.patient_id, s.patient_id);
  assert_string_equal(a.site_id, "S014");
  assert_string_equal(a.subject_id, s.subject_id);
  assert_string_equal(a.timepoint, "BL");
  assert_string_equal(a.patient_identity_removed, "YES");
  assert_true(a.has_series_number && a.series_number == 9801);

  snprintf(cmd, sizeof cmd, "dcmdump -q '%s' 2>&1", path);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  must_contain(out, "(0062,0008) CS [SEMIAUTOMATIC]");
  must_contain(out, "(0062,0009) LO [recistry seeded region growing]");
  must_contain(out, "(0062,0005) LO [T1 liver]");
  must_contain(out, "(0062,0006) ST [Target lesion T1 (edited by the reader)]");
  must_contain(out, "[49755003]");
  must_contain(out, "[Morphologically Altered Structure]");
  must_contain(out, "[4147007]");
  must_contain(out, "[10200004]"); /* liver: Anatomic Region */
  must_contain(out, "[121322]");
  must_contain(out, "[113076]");
  must_contain(out, "(0070,0080) CS [LESION]");
  must_contain(out, "(0070,0084) PN [central1]");
  must_contain(out, "(0062,0020) UT [T1]");
  must_contain(out, "(0012,0010) LO [FFCD]");
  must_contain(out, "(0012,0020) LO [CIREL]");
  must_contain(out, "(0012,0063) LO [CIREL site de-identification");
  must_contain(out, "[113100]"); /* De-identification Method Code Sequence */
  must_contain(out, "(0028,0008) IS [5]");
  must_contain(out, "(0018,0050) DS [5]"); /* Slice Thickness */
  must_contain(out, "(0018,0088) DS [5]"); /* Spacing Between Slices */
  must_contain(out, "(0008,1115) SQ");     /* Referenced Series Sequence */
  assert_null(strstr(out, "InstanceCreationDate"));

  /* read back: five frames (the empty one left out), masks and sources in order */
  rcy_dicom_seg *seg = NULL;
  if (rcy_dicom_seg_read(&seg, path, &err) != 0) fail_msg("seg read: %s", err.message);
  int rows = 0, cols = 0;
  rcy_dicom_seg_geometry(seg, &rows, &cols);
  assert_int_equal(rows, ROWS);
  assert_int_equal(cols, COLS);
  assert_string_equal(rcy_dicom_seg_segment_label(seg), "T1 liver");
  assert_int_equal(rcy_dicom_seg_n_frames(seg), NF - 1);
  size_t f = 0;
  for (int i = 0; i < NF; i++) {
    if (i == 2) continue;
    rcy_dicom_attrs sa;
    assert_int_equal(rcy_dicom_read_attrs(&sa, NULL, srcs[i], NULL, 0, &err), 0);
    assert_string_equal(rcy_dicom_seg_frame_source(seg, f), sa.sop_instance_uid);
    const uint8_t *got = rcy_dicom_seg_frame_mask(seg, f);
    assert_non_null(got);
    size_t set = 0;
    for (size_t p = 0; p < FRAME_PX; p++) {
      uint8_t want = mask[i * FRAME_PX + p] ? 1 : 0;
      if (got[p] != want) fail_msg("frame %zu (mask %d) pixel %zu: %u, expected %u", f, i, p, got[p], want);
      set += want;
    }
    assert_true(set > 0);
    f++;
  }
  assert_null(rcy_dicom_seg_frame_mask(seg, NF - 1));
  assert_null(rcy_dicom_seg_frame_source(seg, NF - 1));
  rcy_dicom_seg_free(seg);

  /* same input, same object but for Content Date/Time */
  char path2[600];
  snprintf(path2, sizeof path2, "%s/seg2.dcm", dir);
  assert_int_equal(rcy_dicom_seg_write(path2, &in, NULL, &err), 0);
  snprintf(cmd, sizeof cmd,
           "cmp <(dcmdump -q +L '%s' | grep -v -e ContentDate -e ContentTime) "
           "<(dcmdump -q +L '%s' | grep -v -e ContentDate -e ContentTime)",
           path, path2);
  char bash[1500];
  snprintf(bash, sizeof bash, "bash -c \"%s\" 2>&1", cmd);
  assert_int_equal(run(bash, out, sizeof out), 0);

  /* the reader refuses what is not a Segmentation (a CT image) */
  assert_int_equal(rcy_dicom_seg_read(&seg, srcs[0], &err), RCY_EDICOM);
  assert_non_null(strstr(err.message, "not a Segmentation"));
}

static void refused(rcy_dicom_seg_input *in, int code, const char *msg_part) {
  char path[600];
  snprintf(path, sizeof path, "%s/refused.dcm", dir);
  rcy_error err = {0};
  char sop[RCY_DICOM_UID_SIZE] = "";
  int rc = rcy_dicom_seg_write(path, in, sop, &err);
  if (rc != code) fail_msg("expected %d (%s), got %d: %s", code, msg_part, rc, err.message);
  if (!strstr(err.message, msg_part)) fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
  assert_false(file_exists(path));
  char tmp[620];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_false(file_exists(tmp));
}

static void test_refused(void **state) {
  (void)state;
  rcy_dicom_seg_input in = input();
  /* mask rows that do not match the images */
  in.rows = 256;
  refused(&in, RCY_EINVAL, "is 512x512 (rows x columns), the mask is 256x512");
  /* no pixel set anywhere */
  in = input();
  uint8_t *zero = calloc(NF * FRAME_PX, 1);
  in.mask = zero;
  refused(&in, RCY_EINVAL, "no pixel set on any of its 6 frames");
  free(zero);
  /* a source that is not DICOM */
  char text[600];
  snprintf(text, sizeof text, "%s/notes.txt", dir);
  FILE *fp = fopen(text, "w");
  fputs("not an image\n", fp);
  fclose(fp);
  in = input();
  const char *bad[NF];
  memcpy(bad, srcs, sizeof bad);
  bad[3] = text;
  in.source_paths = bad;
  refused(&in, RCY_EDICOM, "source image 3");
  refused(&in, RCY_EDICOM, "not a readable DICOM file");
  /* a DICOM file that is not an image (no Pixel Data) */
  char nopix[600];
  snprintf(nopix, sizeof nopix, "%s/nopix.dcm", dir);
  rcy_dicom_dataset *ds;
  rcy_error err = {0};
  assert_int_equal(rcy_dicom_dataset_new(&ds, &err), 0);
  assert_int_equal(
      rcy_dicom_dataset_set_string(ds, RCY_DICOM_TAG(0x0008, 0x0016), "1.2.840.10008.5.1.4.1.1.88.22", &err),
      0);
  assert_int_equal(rcy_dicom_dataset_set_string(ds, RCY_DICOM_TAG(0x0008, 0x0018), "2.25.42", &err), 0);
  assert_int_equal(rcy_dicom_dataset_write_file(ds, nopix, &err), 0);
  rcy_dicom_dataset_free(ds);
  bad[3] = nopix;
  refused(&in, RCY_EDICOM, "not an image");
  /* the same source twice */
  bad[3] = srcs[2];
  refused(&in, RCY_EINVAL, "is the same instance as source image 2");
  /* a source of another study (the subject's first follow-up) */
  char other[600];
  snprintf(other, sizeof other, "%s", srcs[3]);
  char *bl = strstr(other, "/BL/");
  assert_non_null(bl);
  memcpy(bl, "/FU1/", 5);
  memmove(bl + 5, strstr(srcs[3], "/BL/") + 4, strlen(strstr(srcs[3], "/BL/") + 4) + 1);
  assert_true(file_exists(other));
  bad[3] = other;
  refused(&in, RCY_EINVAL, "belongs to another study than source image 0");
  /* required identification */
  in = input();
  in.algorithm_name = NULL;
  refused(&in, RCY_EINVAL, "algorithm name");
  in = input();
  in.tracking_uid = NULL;
  refused(&in, RCY_EINVAL, "tracking");
  /* values DCMTK's VR checks refuse: a 70-character label (LO holds 64), a malformed UID */
  in = input();
  in.segment_label = "0123456789012345678901234567890123456789012345678901234567890123456789";
  refused(&in, RCY_EINVAL, "SEG: invalid Segment Label");
  in = input();
  in.sop_instance_uid = "1.2.abc";
  refused(&in, RCY_EINVAL, "SEG: invalid SOP Instance UID");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_write_verify_read),
                                     cmocka_unit_test(test_refused)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
