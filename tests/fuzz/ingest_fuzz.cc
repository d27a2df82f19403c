// libFuzzer target for what the ingest daemon does with bytes a site sends before anything is stored: read
// the received Part 10 file's attributes (src/dicom/read_attrs.cc) and run the checks (src/ingest/checks.c)
// against a site. Built and run by scripts/fuzz-ingest.sh (clang, ASan + UBSan on our code; DCMTK itself is
// the Debian build, not instrumented).
#include <fcntl.h>
#include <regex.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" {
#include "ingest_internal.h"
}

static char g_path[64];
static regex_t g_re;
static rcy_ingest_site g_site;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // The daemon reads the file the SCP streamed to disk: so does the target (tmpfs when there is one).
  const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(g_path, sizeof g_path, "%s/rcy-ingest-fuzz-%d.dcm", dir, (int)getpid());
  if (regcomp(&g_re, "^CIREL-014-[0-9]{4}$", REG_EXTENDED | REG_NOSUB) != 0) abort();
  static char id[] = "S014", ae[] = "SITE014", pattern[] = "^CIREL-014-[0-9]{4}$";
  g_site.id = id;
  g_site.ae_title = ae;
  g_site.subject_pattern = pattern;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) abort();
  if (write(fd, data, size) != (ssize_t)size) abort();
  close(fd);
  rcy_dicom_attrs *a = static_cast<rcy_dicom_attrs *>(malloc(sizeof *a));
  int present[RCY_INGEST_PROFILE_MAX];
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  rcy_error err = {0, {0}};
  if (rcy_dicom_read_attrs(a, present, g_path, tags, n, &err) == 0) {
    rcy_verdict v;
    // As the SCP does: the request's UIDs are the data set's own (the mismatch path is covered by tests).
    rcy_ingest_check(&v, a, present, &g_site, &g_re, NULL, a->sop_class_uid, a->sop_instance_uid);
    if (v.kind == RCY_VERDICT_ACCEPT && !v.subject_id) abort();  // accepted without a subject: a bug
  }
  free(a);
  return 0;
}
