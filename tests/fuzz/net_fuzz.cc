// libFuzzer target for the DICOM network path end to end: the storage SCP (rcy_dicom_scp_run, the same code
// as `recistry ingest`) runs in this process on a loopback port; each input is the raw byte stream a peer
// sends on one TCP connection (A-ASSOCIATE-RQ, P-DATA-TF with command and data PDVs, A-RELEASE-RQ, or
// anything else). The harness sends it, half-closes, and reads until the SCP closes the connection, so the
// acceptor, the per-connection thread, DCMTK's upper layer and DIMSE, our transport guard (command sets),
// the spool and the nesting guard (data sets) and DCMTK's parse of a stored data set (read_attrs, as the
// ingest pipeline does after the guard) all see the input. Policy and storage are stubbed: every calling AE
// is accepted, and a data set that parses is answered Success.
//
// Our code is instrumented (coverage, ASan, UBSan); DCMTK is Debian's build: ASan sees its heap misuse only
// through the allocator, and a stack overflow in its recursive parser as a crash of this process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "recistry/dicom.h"

namespace {

volatile int g_stop = 0;
int g_port = 0;
char g_tmp[256];
std::atomic<unsigned> g_seq{0};
std::mutex g_mu;
std::condition_variable g_cv;
bool g_ready = false;

int on_associate(void *, const rcy_dicom_assoc_request *, void **actx, char *, size_t) {
  *actx = NULL;
  return 0;
}

int on_temp_path(void *, char *path, size_t len) {
  snprintf(path, len, "%s/t%u.dcm", g_tmp, g_seq.fetch_add(1));
  return 0;
}

unsigned on_store(void *, const rcy_dicom_received *in, char *comment, size_t len) {
  if (in->refusal) {
    snprintf(comment, len, "%s", in->refusal);
    return RCY_DICOM_STATUS_CANNOT_UNDERSTAND;
  }
  if (in->write_errno) return RCY_DICOM_STATUS_OUT_OF_RESOURCES;
  static const rcy_dicom_tag check[] = {RCY_DICOM_TAG(0x0010, 0x0010), RCY_DICOM_TAG(0x0010, 0x1002)};
  int present[2];
  rcy_dicom_attrs a;
  rcy_error err = {};
  if (rcy_dicom_read_attrs(&a, present, in->temp_path, check, 2, &err)) return RCY_DICOM_STATUS_CANNOT_UNDERSTAND;
  if (in->flush(in)) return RCY_DICOM_STATUS_OUT_OF_RESOURCES;
  return RCY_DICOM_STATUS_SUCCESS;
}

void on_release(void *, int) {}

void on_ready(void *) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_ready = true;
  g_cv.notify_all();
}

void run_scp() {
  static rcy_dicom_scp_config cfg = {};
  cfg.ae_title = "FUZZ";
  cfg.bind = "127.0.0.1";
  cfg.port = g_port;
  cfg.max_associations = 64;
  cfg.idle_timeout_s = 1;  // a half-closed peer is noticed by some paths only at the idle timeout
  cfg.max_connections = 256;
  cfg.max_connections_per_host = 256;
  cfg.association_timeout_s = 1;
  static rcy_dicom_scp_handlers h = {NULL, on_associate, on_temp_path, on_store, on_release, NULL, NULL, NULL, NULL};
  rcy_error err = {};
  if (rcy_dicom_scp_run(&cfg, &h, &g_stop, 1, on_ready, &err)) {
    fprintf(stderr, "net_fuzz: SCP failed: %s\n", err.message);
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  if (!getenv("RECISTRY_LOG")) setenv("RECISTRY_LOG", "error", 1);
  snprintf(g_tmp, sizeof g_tmp, "/tmp/rcy-net-fuzz.%d", (int)getpid());
  mkdir(g_tmp, 0700);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &len)) abort();
  g_port = ntohs(a.sin_port);
  close(s);
  std::thread(run_scp).detach();
  std::unique_lock<std::mutex> lk(g_mu);
  g_cv.wait(lk, [] { return g_ready; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto t0 = std::chrono::steady_clock::now();
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 0;
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)g_port);
  if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
    size_t off = 0;
    while (off < size) {
      ssize_t w = send(s, data + off, size - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += (size_t)w;
    }
    shutdown(s, SHUT_WR);
    char buf[4096];
    while (recv(s, buf, sizeof buf, 0) > 0) {
    }
  }
  close(s);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (getenv("RCY_NET_FUZZ_SLOW") && ms > 200) {
    fprintf(stderr, "net_fuzz: slow input (%.0f ms, %zu bytes):", ms, size);
    for (size_t i = 0; i < size && i < 24; i++) fprintf(stderr, " %02x", data[i]);
    fprintf(stderr, "\n");
  }
  return 0;
}
