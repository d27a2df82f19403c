/* Query/retrieve rules against a real index (src/ingest/qr.c): a peer only ever matches the studies of its
 * sites; single value, wildcard, date range, UID list and multi-valued (Modalities in Study) matching; the
 * keys of a response (the asked ones only, in order, unknown ones empty); the refusals
 * (no right: 0x0124, bad level: 0xA900, unknown move destination: 0xA801); the files a retrieve sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/ingest/ingest_internal.h"

typedef struct {
  char dir[64];
  rcy_store *db;
} fixture;

static void add(rcy_store *db, const char *site, const char *subject, const char *study, const char *date,
                const char *series, const char *modality, const char *sop, int number) {
  static int k;
  char path[128];
  snprintf(path, sizeof path, "%s/%s/%d.dcm", site, subject, k++);
  rcy_archive_instance r;
  memset(&r, 0, sizeof r);
  r.site_id = site;
  r.subject_id = subject;
  r.timepoint = "BL";
  r.study_date = date;
  r.study_uid = study;
  r.series_uid = series;
  r.sop_instance_uid = sop;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.transfer_syntax_uid = "1.2.840.10008.1.2.1";
  r.modality = modality;
  r.has_series_number = 1;
  r.series_number = 1;
  r.has_instance_number = 1;
  r.instance_number = number;
  r.path = path;
  r.size_bytes = 1000;
  r.sha256 = "ab";
  r.received_at = "2024-01-15T10:00:00Z";
  rcy_error err = {0};
  assert_int_equal(rcy_store_begin(db, &err), 0);
  if (rcy_archive_add_instance(db, &r, &err)) fail_msg("%s", err.message);
  assert_int_equal(rcy_store_commit(db, &err), 0);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/rcy-qr-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  char archive[128];
  snprintf(archive, sizeof archive, "%s/a", f->dir);
  rcy_error err = {0};
  assert_int_equal(rcy_store_init(archive, &err), 0);
  assert_int_equal(rcy_store_open(&f->db, archive, &err), 0);
  add(f->db, "S014", "CIREL-014-0001", "1.2.3", "2024-01-15", "1.2.3.1", "CT", "1.2.3.1.1", 1);
  add(f->db, "S014", "CIREL-014-0001", "1.2.3", "2024-01-15", "1.2.3.1", "CT", "1.2.3.1.2", 2);
  add(f->db, "S014", "CIREL-014-0001", "1.2.3", "2024-01-15", "1.2.3.2", "PT", "1.2.3.2.1", 1);
  add(f->db, "S015", "CIREL-015-0001", "1.2.4", "2023-06-01", "1.2.4.1", "MR", "1.2.4.1.1", 1);
  add(f->db, "S014", "CIREL-014-0002", "1.2.5", NULL, "1.2.5.1", "CT", "1.2.5.1.1", 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rcy_store_close(f->db);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

/* Each match as "tag=value;..." lines. */
typedef struct {
  char text[4096];
  int n;
} matches;

static int collect(void *ctx, const rcy_dicom_qr_key *keys, size_t n) {
  matches *m = ctx;
  size_t len = strlen(m->text);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(m->text + len, sizeof m->text - len, "%08x=%s;", (unsigned)keys[i].tag, keys[i].value);
  snprintf(m->text + len, sizeof m->text - len, "\n");
  m->n++;
  return 0;
}

static char *s014[] = {"S014"};
static const rcy_ingest_peer peer014 = {.name = "ws", .ae_title = "WS",
                                         .rights = RCY_PEER_FIND | RCY_PEER_MOVE | RCY_PEER_GET, .sites = s014,
                                         .n_sites = 1};
static const rcy_ingest_peer peer_all = {.name = "pacs", .ae_title = "PACS", .rights = RCY_PEER_FIND, .all_sites = 1};

static unsigned find(matches *m, rcy_store *db, const rcy_ingest_peer *peer, const char *level,
                     const rcy_dicom_qr_key *keys, size_t n) {
  memset(m, 0, sizeof *m);
  rcy_dicom_qr_request rq = {RCY_DICOM_SERVICE_FIND, 0, level, keys, n, NULL};
  char comment[65] = "";
  int n_matched = -1;
  unsigned st = rcy_qr_find(&n_matched, db, peer, &rq, "CORE", collect, m, comment, sizeof comment);
  if (st == 0) assert_int_equal(n_matched, m->n);
  return st;
}

static void test_find(void **state) {
  fixture *f = *state;
  matches m;
  /* only the peer's sites: 1.2.4 (S015) never */
  rcy_dicom_qr_key k1[] = {{0x0020000D, ""}, {0x00080061, ""}, {0x00201208, ""}, {0x00100010, ""}};
  assert_int_equal(find(&m, f->db, &peer014, "STUDY", k1, 4), 0);
  assert_int_equal(m.n, 2);
  assert_non_null(strstr(m.text, "0020000d=1.2.3;00080061=CT\\PT;00201208=3;00100010=;\n"));
  assert_null(strstr(m.text, "1.2.4"));
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k1, 1), 0);
  assert_int_equal(m.n, 3);
  /* even by its UID */
  rcy_dicom_qr_key k2[] = {{0x0020000D, "1.2.4"}};
  assert_int_equal(find(&m, f->db, &peer014, "STUDY", k2, 1), 0);
  assert_int_equal(m.n, 0);
  /* date range: a study without a date does not match a range */
  rcy_dicom_qr_key k3[] = {{0x00080020, "20240101-"}};
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k3, 1), 0);
  assert_int_equal(m.n, 1);
  assert_string_equal(m.text, "00080020=20240115;\n"); /* only the keys asked */
  rcy_dicom_qr_key k4[] = {{0x00080020, "-20231231"}, {0x0020000D, ""}};
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k4, 2), 0);
  assert_int_equal(m.n, 1);
  assert_string_equal(m.text, "00080020=20230601;0020000d=1.2.4;\n");
  /* wildcards, UID lists, multi-valued */
  rcy_dicom_qr_key k5[] = {{0x00100020, "CIREL-01?-000*"}, {0x0020000D, "1.2.5\\1.2.3\\9.9"}};
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k5, 2), 0);
  assert_int_equal(m.n, 2);
  rcy_dicom_qr_key k6[] = {{0x00080061, "PT"}};
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k6, 1), 0);
  assert_int_equal(m.n, 1);
  rcy_dicom_qr_key k7[] = {{0x00100020, "CIREL-014"}};
  assert_int_equal(find(&m, f->db, &peer_all, "STUDY", k7, 1), 0);
  assert_int_equal(m.n, 0); /* single value matching is exact */
  /* series and image levels */
  rcy_dicom_qr_key k8[] = {{0x0020000D, "1.2.3"}, {0x00080060, "C*"}, {0x00201209, ""}};
  assert_int_equal(find(&m, f->db, &peer014, "SERIES", k8, 3), 0);
  assert_int_equal(m.n, 1);
  assert_string_equal(m.text, "0020000d=1.2.3;00080060=CT;00201209=2;\n");
  rcy_dicom_qr_key k9[] = {{0x0020000E, "1.2.3.1"}, {0x00200013, "2"}, {0x00080018, ""}};
  assert_int_equal(find(&m, f->db, &peer014, "IMAGE", k9, 3), 0);
  assert_int_equal(m.n, 1);
  assert_non_null(strstr(m.text, "00080018=1.2.3.1.2"));
}

static void test_refusals(void **state) {
  fixture *f = *state;
  matches m;
  rcy_dicom_qr_key k[] = {{0x0020000D, ""}};
  assert_int_equal(find(&m, f->db, &peer014, NULL, k, 1), RCY_DICOM_STATUS_QR_IDENTIFIER_MISMATCH);
  assert_int_equal(find(&m, f->db, &peer014, "PATIENT", k, 1), RCY_DICOM_STATUS_QR_IDENTIFIER_MISMATCH);
  assert_int_equal(find(&m, f->db, &peer014, "FRAME", k, 1), RCY_DICOM_STATUS_QR_IDENTIFIER_MISMATCH);
  rcy_ingest_peer mover = peer014;
  mover.rights = RCY_PEER_MOVE;
  assert_int_equal(find(&m, f->db, &mover, "STUDY", k, 1), RCY_DICOM_STATUS_QR_NOT_AUTHORISED);
}

static void test_retrieve(void **state) {
  fixture *f = *state;
  char *hosts[] = {"10.0.0.5"};
  rcy_ingest_peer peers[2] = {peer014, {.name = "dest", .ae_title = "DEST", .hosts = hosts, .n_hosts = 1, .port = 104}};
  rcy_ingest_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.ae_title = "CORE";
  cfg.peers = peers;
  cfg.n_peers = 2;
  rcy_dicom_qr_files files;
  char comment[65];
  rcy_dicom_qr_key k[] = {{0x0020000D, "1.2.3\\1.2.4"}};
  rcy_dicom_qr_request rq = {RCY_DICOM_SERVICE_MOVE, 0, "STUDY", k, 1, "NOBODY"};
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &rq, comment, sizeof comment),
                   RCY_DICOM_STATUS_QR_UNKNOWN_DESTINATION);
  rq.move_destination = "WS"; /* a peer, but without a port: no destination */
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &rq, comment, sizeof comment),
                   RCY_DICOM_STATUS_QR_UNKNOWN_DESTINATION);
  rq.move_destination = "DEST";
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &rq, comment, sizeof comment), 0);
  assert_int_equal(files.n, 3); /* 1.2.4 is S015's */
  assert_string_equal(files.dest_host, "10.0.0.5");
  assert_int_equal(files.dest_port, 104);
  assert_string_equal(files.dest_ae_title, "DEST");
  assert_string_equal(files.our_ae_title, "CORE");
  assert_int_equal(files.files[0].path[0], '/');
  assert_string_equal(files.files[2].sop_instance_uid, "1.2.3.2.1");
  rcy_qr_files_clear(&files);
  rcy_dicom_qr_key ks[] = {{0x0020000D, "1.2.3"}, {0x0020000E, "1.2.3.1"}, {0x00080018, "1.2.3.1.2"}};
  rcy_dicom_qr_request get = {RCY_DICOM_SERVICE_GET, 0, "IMAGE", ks, 3, NULL};
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &get, comment, sizeof comment), 0);
  assert_int_equal(files.n, 1);
  rcy_qr_files_clear(&files);
  rcy_dicom_qr_request pat = {RCY_DICOM_SERVICE_GET, 1, "PATIENT", (rcy_dicom_qr_key[]){{0x00100020, "CIREL-014-0001"}},
                              1, NULL};
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &pat, comment, sizeof comment), 0);
  assert_int_equal(files.n, 3);
  rcy_qr_files_clear(&files);
  peers[0].rights = RCY_PEER_FIND;
  assert_int_equal(rcy_qr_retrieve(&files, f->db, &cfg, &peers[0], &get, comment, sizeof comment),
                   RCY_DICOM_STATUS_QR_NOT_AUTHORISED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_find, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retrieve, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
