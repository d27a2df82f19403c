/* Reader QC (src/qa/reader_qc.c) after real adjudication decisions, through the library the workstation uses:
 * the committed sample subjects' baseline images indexed, the site read and two central reads imported (R2
 * calls a new lesion in two subjects, so both are triggered), an adjudicator decides both for R2
 * (rcy_review_adjudicate, as the workstation does after the password), and the adjudication rates, the
 * adjudicator agreement per reader and the own-read count must follow. (Linked with rcy_readers for the image
 * indexing; rcy_qa comes with it.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readers.h"
#include "recistry/qa.h"
#include "recistry/reads.h"

static const char *const SUBJECTS[][3] = {
    {"S014", "CIREL-014-0001", "CT"}, {"S027", "CIREL-027-0001", "CT"}, {"S031", "CIREL-031-0001", "MR"}};

static void import(rcy_store *store, const char *role, const char *reader, const char *path) {
  rcy_reads_import_options o = {role, reader, "test", 0, NULL, 0};
  size_t n = 0;
  rcy_error err = {0};
  int rc = rcy_reads_import(&n, store, path, &o, stderr, &err);
  if (rc) fprintf(stderr, "import %s: %s\n", path, err.message);
  assert_int_equal(rc, 0);
  assert_int_equal(n, 3);
}

static json_t *row(const json_t *array, const char *key, const char *value) {
  size_t i;
  json_t *r;
  json_array_foreach(array, i,
                     r) if (strcmp(json_string_value(json_object_get(r, key)), value) == 0) return r;
  return NULL;
}

static json_int_t num(const json_t *o, const char *k) {
  return json_integer_value(json_object_get(o, k));
}

static void qc_after_adjudication(void **state) {
  (void)state;
  const char *src = getenv("RCY_SOURCE_DIR");
  assert_non_null(src);
  char dir[] = "/tmp/rcy-qc-XXXXXX", archive[64], path[4096];
  assert_non_null(mkdtemp(dir));
  snprintf(archive, sizeof archive, "%s/a", dir);
  rcy_error err = {0};
  rcy_store *store = NULL;
  assert_int_equal(rcy_store_init(archive, &err), 0);
  assert_int_equal(rcy_store_open(&store, archive, &err), 0);
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/sample-dicom/%s/%s/BL/%s_0001.dcm", src, SUBJECTS[i][0], SUBJECTS[i][1],
             SUBJECTS[i][2]);
    int rc = rcy_readers_index_file(store, path, &err);
    if (rc) fprintf(stderr, "index %s: %s\n", path, err.message);
    assert_int_equal(rc, 0);
  }
  assert_int_equal(rcy_store_user_add(store, "c1", "central", NULL, "password-c1", &err), 0);
  assert_int_equal(rcy_store_user_add(store, "c2", "central", NULL, "password-c2", &err), 0);
  assert_int_equal(rcy_store_user_add(store, "adj", "adjudicator", NULL, "password-adj", &err), 0);
  json_t *changes = json_pack("{s:s}", "paradigm", "double");
  assert_int_equal(rcy_review_settings_update(NULL, store, changes, "test", "double reading", &err), 0);
  json_decref(changes);

  snprintf(path, sizeof path, "%s/sample-dicom/reads/site.json", src);
  import(store, "site", "site", path);
  snprintf(path, sizeof path, "%s/sample-dicom/reads/central.json", src);
  import(store, "central", "c1", path);
  /* R2: a new lesion at the last timepoint of every subject R1 did not call progressive */
  json_t *reads = json_load_file(path, 0, NULL);
  assert_non_null(reads);
  size_t i;
  json_t *s;
  json_array_foreach(reads, i, s) {
    if (strcmp(json_string_value(json_object_get(s, "subject_id")), "CIREL-027-0001") == 0) continue;
    json_t *as = json_object_get(s, "assessments");
    json_t *last = json_array_get(as, json_array_size(as) - 1);
    json_array_append_new(json_object_get(last, "new_lesions"),
                          json_pack("{s:s,s:s,s:b,s:s}", "lesion_id", "N9", "organ", "liver", "nodal", 0,
                                    "state", "unequivocal"));
  }
  char r2[96];
  snprintf(r2, sizeof r2, "%s/r2.json", dir);
  assert_int_equal(json_dump_file(reads, r2, 0), 0);
  json_decref(reads);
  import(store, "central", "c2", r2);

  json_t *qc = NULL;
  assert_int_equal(rcy_qa_reader_qc(&qc, store, &err), 0);
  const json_t *overall = json_object_get(json_object_get(qc, "adjudication"), "overall");
  assert_int_equal(num(overall, "complete"), 3);
  assert_int_equal(num(overall, "triggered"), 2);
  assert_int_equal(num(overall, "adjudicated"), 0);
  assert_int_equal(json_array_size(json_object_get(qc, "adjudicator_agreement")), 0);
  json_decref(qc);

  rcy_user adj = {"adj", "adjudicator", ""};
  assert_int_equal(
      rcy_review_adjudicate(NULL, store, &adj, "CIREL-014-0001", "r2", "new lesion confirmed", &err), 0);
  assert_int_equal(
      rcy_review_adjudicate(NULL, store, &adj, "CIREL-031-0001", "r2", "new lesion confirmed", &err), 0);
  assert_int_equal(rcy_qa_reader_qc(&qc, store, &err), 0);
  json_t *adjudication = json_object_get(qc, "adjudication");
  overall = json_object_get(adjudication, "overall");
  assert_int_equal(num(overall, "triggered"), 2);
  assert_int_equal(num(overall, "adjudicated"), 2);
  assert_int_equal(num(overall, "own_read_chosen"), 0);
  const json_t *pair = json_array_get(json_object_get(adjudication, "by_pair"), 0);
  assert_string_equal(json_string_value(json_object_get(pair, "r1")), "c1");
  assert_int_equal(num(pair, "adjudicated"), 2);
  assert_int_equal(num(row(json_object_get(adjudication, "by_site"), "site_id", "S027"), "triggered"), 0);
  assert_int_equal(num(row(json_object_get(adjudication, "by_site"), "site_id", "S031"), "triggered"), 1);
  json_t *agree = json_object_get(qc, "adjudicator_agreement");
  json_t *c1 = row(agree, "reader", "c1"), *c2 = row(agree, "reader", "c2");
  assert_non_null(c1);
  assert_non_null(c2);
  assert_int_equal(num(c1, "adjudicated"), 2);
  assert_int_equal(num(c1, "chosen"), 0);
  assert_int_equal(num(c2, "chosen"), 2);
  assert_true(json_real_value(json_object_get(c2, "rate")) == 1.0);
  assert_true(json_real_value(json_object_get(c1, "rate")) == 0.0);
  /* Clopper–Pearson of 0/2: [0, 1 − 0.025^(1/2)] */
  assert_true(fabs(json_real_value(json_array_get(json_object_get(c1, "rate_ci95"), 1)) - 0.841886116991581) <
              1e-9);
  json_decref(qc);

  rcy_store_close(store);
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  assert_int_equal(system(path), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(qc_after_adjudication)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
