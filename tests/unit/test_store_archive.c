/* The instances index and durable files: indexing creates study and series once, a SOP Instance UID is
 * indexed once, the QC outcome is not recorded over a late instance, studies list with counts, findings and
 * quarantined groups; files are committed under their final name, hashed and walked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "recistry/store.h"
#include "store_engine.h"

typedef test_archive fixture;

static int setup(void **state) {
  *state = test_archive_new("archive");
  return 0;
}

static int teardown(void **state) {
  test_archive_free(*state);
  return 0;
}

static rcy_archive_instance row(const char *sop, const char *series, double z, const char *at) {
  static char path[8][128];
  static int k;
  char *p = path[k++ % 8];
  snprintf(p, 128, "S014/CIREL-014-0001/1.2.3/%s/%s.dcm", series, sop);
  rcy_archive_instance r;
  memset(&r, 0, sizeof r);
  r.site_id = "S014";
  r.subject_id = "CIREL-014-0001";
  r.timepoint = "BL";
  r.study_date = "2024-01-15";
  r.study_uid = "1.2.3";
  r.series_uid = series;
  r.sop_instance_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.modality = "CT";
  r.has_position = 1;
  r.position_mm[2] = z;
  r.orientation = "1\\0\\0\\0\\1\\0";
  r.has_slice_thickness = 1;
  r.slice_thickness_mm = 2.5;
  r.path = p;
  r.size_bytes = 1000;
  r.sha256 = "ab";
  r.received_at = at;
  return r;
}

static void add(fixture *f, rcy_archive_instance r, int expect) {
  rcy_error err = {0};
  assert_int_equal(rcy_store_begin(f->store, &err), 0);
  int rc = rcy_archive_add_instance(f->store, &r, &err);
  assert_int_equal(rc, expect);
  if (rc) rcy_store_rollback(f->store);
  else assert_int_equal(rcy_store_commit(f->store, &err), 0);
}

static void test_index_and_qc(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  add(f, row("1.2.3.4.1", "1.2.3.4", 0, "2024-01-15T10:00:00Z"), 0);
  add(f, row("1.2.3.4.2", "1.2.3.4", 2.5, "2024-01-15T10:00:01Z"), 0);
  add(f, row("1.2.3.4.2", "1.2.3.4", 5, "2024-01-15T10:00:02Z"), RCY_ECONFLICT);
  int found;
  uint64_t size;
  char sha[65], path[256], site[65], subject[65];
  assert_int_equal(rcy_archive_find_instance(&found, path, sizeof path, &size, sha, f->store, "1.2.3.4.2", &err), 0);
  assert_int_equal(found, 1);
  assert_int_equal(size, 1000);
  assert_string_equal(sha, "ab");
  assert_int_equal(rcy_archive_find_instance(&found, NULL, 0, NULL, NULL, f->store, "9.9", &err), 0);
  assert_int_equal(found, 0);
  assert_int_equal(rcy_archive_find_study(&found, site, subject, f->store, "1.2.3", &err), 0);
  assert_int_equal(found, 1);
  assert_string_equal(site, "S014");

  char **uids;
  size_t n;
  assert_int_equal(rcy_archive_stable_studies(&uids, &n, f->store, "2024-01-15T10:00:00Z", &err), 0);
  assert_int_equal(n, 0); /* last instance at :01 */
  assert_int_equal(rcy_archive_stable_studies(&uids, &n, f->store, "2024-01-15T10:00:05Z", &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(uids[0], "1.2.3");
  rcy_archive_strings_free(uids, n);

  rcy_archive_slice *sl;
  assert_int_equal(rcy_archive_study_slices(&sl, &n, f->store, "1.2.3", &err), 0);
  assert_int_equal(n, 2);
  assert_true(sl[1].has_orientation && sl[1].orientation[4] == 1.0 && sl[1].position_mm[2] == 2.5);
  rcy_archive_slices_free(sl);

  rcy_archive_finding fd = {"1.2.3.4", "slice_gap", "warning", "gap"};
  int applied;
  /* stale: the study's last_received_at moved on since the check began */
  assert_int_equal(rcy_archive_set_study_qc(&applied, f->store, "1.2.3", "2024-01-15T10:00:00Z", "qc-warning", &fd, 1,
                                            "2024-01-15T11:00:00Z", &err), 0);
  assert_int_equal(applied, 0);
  assert_int_equal(rcy_archive_set_study_qc(&applied, f->store, "1.2.3", "2024-01-15T10:00:01Z", "qc-warning", &fd, 1,
                                            "2024-01-15T11:00:00Z", &err), 0);
  assert_int_equal(applied, 1);

  assert_int_equal(rcy_archive_add_quarantine(f->store, "7.7.1", "7.7", "S014", NULL, "S014/7.7.1-ab.dcm", 10, "cd",
                                              "not anonymised: PatientBirthDate", "2024-01-15T12:00:00Z", &err), 0);
  rcy_archive_study *st;
  assert_int_equal(rcy_archive_list_studies(&st, &n, f->store, &err), 0);
  assert_int_equal(n, 2);
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(st[i].study_uid, "1.2.3") == 0) {
      seen++;
      assert_string_equal(st[i].status, "qc-warning");
      assert_int_equal(st[i].n_series, 1);
      assert_int_equal(st[i].n_instances, 2);
      assert_int_equal(st[i].n_findings, 1);
      assert_string_equal(st[i].findings[0].code, "slice_gap");
    } else {
      seen++;
      assert_string_equal(st[i].status, "quarantined");
      assert_int_equal(st[i].n_instances, 1);
    }
  }
  assert_int_equal(seen, 2);
  rcy_archive_studies_free(st, n);

  /* a new instance puts the study back to receiving */
  add(f, row("1.2.3.4.3", "1.2.3.4", 5, "2024-01-15T13:00:00Z"), 0);
  assert_int_equal(rcy_archive_stable_studies(&uids, &n, f->store, "2024-01-15T13:00:00Z", &err), 0);
  assert_int_equal(n, 1);
  rcy_archive_strings_free(uids, n);

  int64_t id;
  rcy_archive_association a = {"S014", "SITE014", "FFCD_CORE", "127.0.0.1", 0, "accepted", NULL, "2024-01-15T10:00:00Z"};
  assert_int_equal(rcy_archive_association_begin(&id, f->store, &a, &err), 0);
  assert_true(id > 0);
  assert_int_equal(rcy_archive_association_end(f->store, id, "2024-01-15T10:01:00Z", 0, 3, 1, 1, 0, "x", &err), 0);
}

/* The study and series rows are written only when something changes in them (archive.c): an unchanged
 * study and series still index the instance, another owner or parent is still refused with nothing
 * written, and what does change (status, a timepoint first missing) is still recorded. */
static void test_owner_and_unchanged_rows(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  rcy_archive_instance r = row("1.2.3.4.1", "1.2.3.4", 0, "2024-01-15T10:00:00Z");
  r.timepoint = NULL;
  add(f, r, 0);
  /* same second, same series: nothing in the study or series row changes */
  add(f, row("1.2.3.4.2", "1.2.3.4", 2.5, "2024-01-15T10:00:00Z"), 0);
  rcy_archive_instance other = row("1.2.3.4.3", "1.2.3.4", 5, "2024-01-15T10:00:00Z");
  other.site_id = "S099";
  add(f, other, RCY_EDENIED);
  other = row("1.2.3.4.3", "1.2.3.4", 5, "2024-01-15T10:00:00Z");
  other.subject_id = "CIREL-014-0002";
  add(f, other, RCY_EDENIED);
  other = row("1.2.9.1", "1.2.3.4", 5, "2024-01-15T10:00:00Z");
  other.study_uid = "1.2.9"; /* a new study claiming the first one's series */
  other.path = "S014/CIREL-014-0001/1.2.9/1.2.3.4/1.2.9.1.dcm";
  add(f, other, RCY_EDENIED);
  int found;
  char site[65], subject[65];
  assert_int_equal(rcy_archive_find_study(&found, site, subject, f->store, "1.2.9", &err), 0);
  assert_int_equal(found, 0); /* the refused instance left no study behind */
  assert_int_equal(rcy_archive_find_instance(&found, NULL, 0, NULL, NULL, f->store, "1.2.3.4.3", &err), 0);
  assert_int_equal(found, 0);

  /* a QC outcome, then an instance in the same second: back to receiving, timepoint filled in */
  rcy_archive_finding fd = {"1.2.3.4", "slice_gap", "warning", "gap"};
  int applied;
  assert_int_equal(rcy_archive_set_study_qc(&applied, f->store, "1.2.3", "2024-01-15T10:00:00Z", "complete", &fd, 0,
                                            "2024-01-15T10:00:00Z", &err), 0);
  assert_int_equal(applied, 1);
  add(f, row("1.2.3.4.4", "1.2.3.4", 7.5, "2024-01-15T10:00:00Z"), 0);
  rcy_archive_study *st;
  size_t n;
  assert_int_equal(rcy_archive_list_studies(&st, &n, f->store, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(st[0].status, "receiving");
  assert_string_equal(st[0].timepoint, "BL");
  assert_int_equal(st[0].n_series, 1);
  assert_int_equal(st[0].n_instances, 3);
  rcy_archive_studies_free(st, n);
}

static int count_file(void *ctx, const char *rel) {
  int *n = ctx;
  if (strcmp(rel, "x/y/z.dcm") == 0) (*n)++;
  return 0;
}

static void test_files(void **state) {
  fixture *f = *state;
  rcy_error err = {0};
  char base[128], tmp[160], fin[192];
  snprintf(base, sizeof base, "%s/files", f->dir);
  mkdir(base, 0750);
  assert_int_equal(rcy_files_make_parents(base, "x/y/z.dcm", &err), 0);
  snprintf(tmp, sizeof tmp, "%s/t.part", base);
  snprintf(fin, sizeof fin, "%s/x/y/z.dcm", base);
  int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0640);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "abc", 3), 3);
  assert_int_equal(rcy_files_commit(fd, tmp, fin, &err), 0);
  close(fd);
  assert_int_equal(access(tmp, F_OK), -1);
  char hex[65];
  uint64_t size = 0;
  assert_int_equal(rcy_files_sha256(hex, &size, fin, &err), 0);
  assert_int_equal(size, 3);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(rcy_files_sha256(hex, &size, "/nonexistent", &err), RCY_ENOTFOUND);
  int n = 0;
  assert_int_equal(rcy_files_walk(base, count_file, &n, &err), 0);
  assert_int_equal(n, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_index_and_qc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_owner_and_unchanged_rows, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
