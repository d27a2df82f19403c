// The storage SCP: listens (plain TCP and/or DICOM TLS), hands each association to its own thread, asks the
// policy (ingest/) whether to accept it, negotiates Verification + the storage SOP classes in the transfer
// syntaxes DCMTK decodes, and serves C-ECHO and C-STORE until release — and C-FIND / C-MOVE / C-GET when the
// policy grants them to the association (net_qr.cc). Refused presentation contexts are logged. Bounded concurrency: above max_associations an association is rejected as transient.
//
// Connections: the acceptor thread only accept()s. Each connection gets its own thread at once, which
// reads the TLS handshake and the A-ASSOCIATE-RQ within association_timeout, so a silent or slow peer
// delays nobody else (DCMTK's ASC_receiveAssociation reads the request on the thread that accepts: with
// it on the acceptor, one idle socket stalled every site for 30 s). Before any thread is made, connections
// are capped per peer address (max_connections_per_host) and in all (max_connections); an over-cap
// connection gets an A-ASSOCIATE-RJ (transient, local limit exceeded) and is closed, with a log line.
#include "net_internal.h"
#include "net_qr.h"
#include "net_tls.h"
#include "net_transport.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <algorithm>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "recistry/log.h"

namespace {

const rcy_dicom_uid_entry kSopClasses[] = {
    {UID_CTImageStorage, "CT Image Storage"},
    {UID_EnhancedCTImageStorage, "Enhanced CT Image Storage"},
    {UID_MRImageStorage, "MR Image Storage"},
    {UID_EnhancedMRImageStorage, "Enhanced MR Image Storage"},
    {UID_PositronEmissionTomographyImageStorage, "Positron Emission Tomography Image Storage"},
    {UID_EnhancedPETImageStorage, "Enhanced PET Image Storage"},
    {UID_NuclearMedicineImageStorage, "Nuclear Medicine Image Storage"},
    {UID_SegmentationStorage, "Segmentation Storage"},
    {UID_BasicTextSRStorage, "Basic Text SR Storage"},
    {UID_EnhancedSRStorage, "Enhanced SR Storage"},
    {UID_ComprehensiveSRStorage, "Comprehensive SR Storage"},
    {UID_Comprehensive3DSRStorage, "Comprehensive 3D SR Storage"},
    {UID_SecondaryCaptureImageStorage, "Secondary Capture Image Storage"},
    {UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage, "Multi-frame Grayscale Byte SC Image Storage"},
    {UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage, "Multi-frame Grayscale Word SC Image Storage"},
    {UID_MultiframeTrueColorSecondaryCaptureImageStorage, "Multi-frame True Color SC Image Storage"},
};

// Order matters: for each proposed context the first of these the peer offers is accepted.
const rcy_dicom_uid_entry kTransferSyntaxes[] = {
    {UID_LittleEndianExplicitTransferSyntax, "Explicit VR Little Endian"},
    {UID_LittleEndianImplicitTransferSyntax, "Implicit VR Little Endian"},
    {UID_DeflatedExplicitVRLittleEndianTransferSyntax, "Deflated Explicit VR Little Endian"},
    {UID_JPEGProcess14SV1TransferSyntax, "JPEG Lossless, First-Order Prediction (Process 14 SV1)"},
    {UID_JPEGProcess14TransferSyntax, "JPEG Lossless (Process 14)"},
    {UID_JPEGProcess1TransferSyntax, "JPEG Baseline (Process 1)"},
    {UID_JPEGProcess2_4TransferSyntax, "JPEG Extended (Process 2 & 4)"},
    {UID_JPEGLSLosslessTransferSyntax, "JPEG-LS Lossless"},
    {UID_JPEGLSLossyTransferSyntax, "JPEG-LS Near-Lossless"},
    {UID_RLELosslessTransferSyntax, "RLE Lossless"},
};

const size_t kNSop = sizeof kSopClasses / sizeof kSopClasses[0];
const size_t kNTs = sizeof kTransferSyntaxes / sizeof kTransferSyntaxes[0];

struct Server {
  const rcy_dicom_scp_config *cfg;
  const rcy_dicom_scp_handlers *h;
  volatile int *stop;
  int grace_s;
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;        // associations being served
  int connections = 0;   // open connections, associated or not (connection threads alive)
  std::map<std::string, int> per_host;  // open connections per peer address
  struct RefusalLog {
    long logged_at = 0;  // steady seconds of the last over-cap log line for this address
    long unlogged = 0;   // refusals since, not logged
  };
  std::map<std::string, RefusalLog> refusal_log;  // one line per address and second at most
  int max_connections = 64, max_per_host = 8, association_timeout_s = 10;
  std::atomic<long> stop_since{0};  // steady-clock seconds when *stop was first seen, 0 before
};

long now_s() {
  return (long)std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason) {
  T_ASC_RejectParameters rej = {result, source, reason};
  ASC_rejectAssociation(assoc, &rej);
  ASC_dropAssociation(assoc);
  ASC_destroyAssociation(&assoc);
}

// Accepts what we support; logs every context we refuse (abstract syntax and the transfer syntaxes offered).
// services: what the policy granted this association (RCY_DICOM_SERVICE_* bits); the storage classes only
// with STORE, the query/retrieve models (and C-GET's storage contexts) only as granted (net_qr.cc).
OFCondition negotiate(T_ASC_Association *assoc, const char *calling, unsigned services) {
  const char *verification[] = {UID_VerificationSOPClass};
  const char *ts[kNTs];
  for (size_t i = 0; i < kNTs; i++) ts[i] = kTransferSyntaxes[i].uid;
  OFCondition c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1, ts, 2);
  if (c.bad()) return c;
  const char *sops[kNSop];
  for (size_t i = 0; i < kNSop; i++) sops[i] = kSopClasses[i].uid;
  if (services & RCY_DICOM_SERVICE_STORE)
    c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, sops, (int)kNSop, ts, (int)kNTs);
  if (c.good()) c = rcy_net::qr_negotiate(assoc, services, ts, (int)kNTs, sops, (int)kNSop);
  if (c.bad()) return c;
  // One line per association for what we refused: storescu and many PACS propose every storage class, so a
  // line per context would drown the log. Accepted contexts are what the site needs; the refused list says
  // which SOP classes / transfer syntaxes it tried that we do not take.
  int n = ASC_countPresentationContexts(assoc->params), n_refused = 0, n_accepted = 0;
  std::string list;
  for (int i = 0; i < n; i++) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
    if (pc.resultReason == ASC_P_ACCEPTANCE) {
      n_accepted++;
      continue;
    }
    n_refused++;
    std::string item = dcmFindNameOfUID(pc.abstractSyntax, pc.abstractSyntax);
    if (pc.resultReason != ASC_P_ABSTRACTSYNTAXNOTSUPPORTED) {
      item += " (transfer syntaxes";
      for (int t = 0; t < pc.transferSyntaxCount; t++) item += std::string(" ") + pc.proposedTransferSyntaxes[t];
      item += ")";
    }
    if (list.find(item) != std::string::npos) continue;
    if (list.size() < 600) list += (list.empty() ? "" : ", ") + item;
    else if (list.compare(list.size() - 3, 3, "...") != 0) list += ", ...";
  }
  if (n_refused)
    rcy_log(RCY_LOG_INFO, "dicom", "calling AE %s: %d presentation context(s) accepted, %d refused: %s", calling,
            n_accepted, n_refused, list.c_str());
  return EC_Normal;
}

void serve(Server *s, T_ASC_Association *assoc, int tls) {
  const char *calling = assoc->params->DULparams.callingAPTitle;
  const char *called = assoc->params->DULparams.calledAPTitle;
  const char *peer = assoc->params->DULparams.callingPresentationAddress;
  std::vector<unsigned char> cert;
  if (tls) {
    unsigned long len = ASC_getPeerCertificateLength(assoc);
    cert.resize(len);
    if (len) ASC_getPeerCertificate(assoc, cert.data(), len);
  }
  rcy_dicom_assoc_request rq = {calling, called, peer, tls, cert.empty() ? NULL : cert.data(), cert.size()};
  void *actx = NULL;
  char reason[256] = "";
  int rc = s->h->associate(s->h->ctx, &rq, &actx, reason, sizeof reason);
  if (rc != 0) {
    rcy_log(RCY_LOG_WARN, "dicom", "association from %s (calling AE %s) rejected: %s", peer, calling, reason);
    reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
           rc == RCY_ENOTFOUND ? ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED
           : rc == RCY_EINVAL  ? ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED
                               : ASC_REASON_SU_NOREASON);
    return;
  }
  unsigned services = s->h->services ? s->h->services(actx) : RCY_DICOM_SERVICE_STORE;
  OFCondition c = negotiate(assoc, calling, services);
  if (c.good()) c = ASC_acknowledgeAssociation(assoc);
  if (c.bad()) {
    rcy_log(RCY_LOG_ERROR, "dicom", "association from %s (calling AE %s) failed: %s", peer, calling, c.text());
    s->h->release(actx, 1);
    ASC_dropAssociation(assoc);
    ASC_destroyAssociation(&assoc);
    return;
  }
  int aborted = 1;
  std::unique_ptr<rcy_net::Spool> spool;  // made at the first C-STORE: echo-only associations need none
  long idle_since = now_s();
  int timeout = s->cfg->idle_timeout_s > 0 ? s->cfg->idle_timeout_s : 60;
  for (;;) {
    T_ASC_PresentationContextID pc;
    T_DIMSE_Message msg;
    c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &pc, &msg, NULL);
    if (c == DIMSE_NODATAAVAILABLE) {
      long stop_at = s->stop_since.load();
      if ((stop_at && now_s() - stop_at >= s->grace_s) || now_s() - idle_since >= timeout) {
        rcy_log(RCY_LOG_WARN, "dicom", "aborting %s association from %s (calling AE %s)",
                stop_at ? "a lingering" : "an idle", peer, calling);
        ASC_abortAssociation(assoc);
        break;
      }
      continue;
    }
    idle_since = now_s();
    if (c == DUL_PEERREQUESTEDRELEASE) {
      ASC_acknowledgeRelease(assoc);
      aborted = 0;
      break;
    }
    if (c.bad()) {
      if (c != DUL_PEERABORTEDASSOCIATION)
        rcy_log(RCY_LOG_WARN, "dicom", "association from %s (calling AE %s) ended: %s", peer, calling, c.text());
      break;
    }
    if (msg.CommandField == DIMSE_C_ECHO_RQ) {
      c = DIMSE_sendEchoResponse(assoc, pc, &msg.msg.CEchoRQ, STATUS_Success, NULL);
    } else if (msg.CommandField == DIMSE_C_STORE_RQ) {
      if (!spool) spool.reset(new rcy_net::Spool(s->h, actx));
      c = rcy_net::handle_store(assoc, pc, &msg.msg.CStoreRQ, *spool, timeout, NULL);
    } else if (msg.CommandField == DIMSE_C_FIND_RQ) {
      c = rcy_net::handle_find(assoc, pc, &msg.msg.CFindRQ, s->h, actx, timeout);
    } else if (msg.CommandField == DIMSE_C_MOVE_RQ || msg.CommandField == DIMSE_C_GET_RQ) {
      c = rcy_net::handle_retrieve(assoc, pc, &msg, s->h, actx, calling, timeout);
    } else if (msg.CommandField == DIMSE_C_CANCEL_RQ) {
      c = EC_Normal;  // a C-CANCEL after its operation ended: nothing left to cancel
    } else {
      rcy_log(RCY_LOG_WARN, "dicom", "calling AE %s sent unsupported DIMSE command 0x%04x: aborting", calling,
              (unsigned)msg.CommandField);
      ASC_abortAssociation(assoc);
      break;
    }
    if (c.bad()) {
      rcy_log(RCY_LOG_WARN, "dicom", "association from %s (calling AE %s) broken: %s", peer, calling, c.text());
      ASC_abortAssociation(assoc);
      break;
    }
  }
  if (spool && spool->timings.n > 0) {
    const rcy_net::Spool::Timings &t = spool->timings;
    double n = (double)t.n;
    rcy_log(RCY_LOG_INFO, "dicom",
            "calling AE %s: %ld data set(s); mean per instance: %.2f ms waiting for the peer, %.2f ms receiving, "
            "%.2f ms checking and storing, %.2f ms answering",
            calling, t.n, t.waiting_ms / n, t.receiving_ms / n, t.storing_ms / n, t.answering_ms / n);
    if (t.staged && !t.store.empty()) {
      rcy_net::Spool::Timings c = t;
      auto med = [](std::vector<double> &v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
      };
      rcy_log(RCY_LOG_INFO, "dicom",
              "calling AE %s: stage medians per instance: %.3f ms last byte -> last chunk written, %.3f ms store "
              "callback, %.3f ms response sent, %.3f ms next temporary file made",
              calling, med(c.finish), med(c.store), med(c.respond), med(c.prepare));
    }
  }
  spool.reset();  // before release: the spool uses the association context
  s->h->release(actx, aborted);
  ASC_dropAssociation(assoc);
  ASC_destroyAssociation(&assoc);
}

void set_socket_timeouts(int fd, int seconds) {
  struct timeval tv = {seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void connection_done(Server *s, const std::string &host, bool associated) {
  std::lock_guard<std::mutex> lk(s->mu);
  if (associated) s->active--;
  s->connections--;
  auto it = s->per_host.find(host);
  if (it != s->per_host.end() && --it->second <= 0) s->per_host.erase(it);
  s->cv.notify_all();
}

// One connection, on its own thread: the TLS handshake and the A-ASSOCIATE-RQ within association_timeout
// (the network's timeout for the first PDU; SO_RCVTIMEO for the handshake, which DCMTK reads blocking), then
// the association. While it is served a stalled peer is bounded by idle_timeout, also in the middle of a PDU
// (where DCMTK reads blocking): SO_RCVTIMEO / SO_SNDTIMEO.
void connection(Server *s, T_ASC_Network *net, int fd, std::string host, int tls) {
  bool associated = false;
  try {
    set_socket_timeouts(fd, s->association_timeout_s);
    T_ASC_Association *assoc = NULL;
    auto t0 = std::chrono::steady_clock::now();
    OFCondition c = rcy_net::receive_association_on(net, fd, tls != 0, &assoc);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (c.bad()) {
      if (waited >= s->association_timeout_s - 0.5)
        rcy_log(RCY_LOG_WARN, "dicom", "connection from %s closed: no association request within %d s",
                host.c_str(), s->association_timeout_s);
      else
        rcy_log(RCY_LOG_WARN, "dicom", "%s connection from %s failed before association: %s", tls ? "TLS" : "TCP",
                host.c_str(), c.text());
      if (assoc) {
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
      }
      connection_done(s, host, false);
      return;
    }
    int idle = s->cfg->idle_timeout_s > 0 ? s->cfg->idle_timeout_s : 60;
    set_socket_timeouts(fd, idle);
    // DCMTK formats the peer address from an IPv4 sockaddr only; ours is right for IPv6 too.
    OFStandard::strlcpy(assoc->params->DULparams.callingPresentationAddress, host.c_str(),
                        sizeof assoc->params->DULparams.callingPresentationAddress);
    {
      std::lock_guard<std::mutex> lk(s->mu);
      if (s->active >= s->cfg->max_associations) {
        rcy_log(RCY_LOG_WARN, "dicom", "association from %s rejected: %d associations already open", host.c_str(),
                s->active);
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        assoc = NULL;
      } else {
        s->active++;
        associated = true;
      }
    }
    if (assoc) serve(s, assoc, tls);
  } catch (const std::exception &e) {
    rcy_log(RCY_LOG_ERROR, "dicom", "association thread failed: %s", e.what());
  } catch (...) {
    rcy_log(RCY_LOG_ERROR, "dicom", "association thread failed: unknown exception");
  }
  connection_done(s, host, associated);
}

std::string numeric_host(const struct sockaddr_storage &ss) {
  char buf[INET6_ADDRSTRLEN + 1] = "?";
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) inet_ntop(AF_INET, &a->s6_addr[12], buf, sizeof buf);  // as `hosts` lists it
    else inet_ntop(AF_INET6, a, buf, sizeof buf);
  }
  return buf;
}

// An over-cap connection: A-ASSOCIATE-RJ (rejected-transient, service-provider presentation related, local
// limit exceeded) written before its request is even read, then closed. Whatever the peer sent is drained
// first, so that the close is a FIN and not a reset that could discard the RJ.
void refuse_connection(int fd) {
  static const unsigned char rj[10] = {0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2};
  (void)!send(fd, rj, sizeof rj, MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  char buf[4096];
  for (int i = 0; i < 16 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) {
  }
  ::close(fd);
}

void acceptor(Server *s, T_ASC_Network *net, int tls) {
  int lfd = ((PRIVATE_NETWORKKEY *)net->network)->networkSpecific.TCP.listenSocket;
  while (!*s->stop) {
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        rcy_log(RCY_LOG_ERROR, "dicom", "cannot accept a connection: %s", strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    std::string host = numeric_host(ss);
    {
      std::unique_lock<std::mutex> lk(s->mu);
      int n_host = 0;
      auto it = s->per_host.find(host);
      if (it != s->per_host.end()) n_host = it->second;
      if (s->connections >= s->max_connections || n_host >= s->max_per_host) {
        long now = now_s();
        if (s->refusal_log.size() > 4096) s->refusal_log.clear();  // a flood from many addresses
        Server::RefusalLog &rl = s->refusal_log[host];
        bool log = now != rl.logged_at;
        long unlogged = rl.unlogged;
        if (log) {
          rl.logged_at = now;
          rl.unlogged = 0;
        } else {
          rl.unlogged++;
        }
        int n_all = s->connections;
        lk.unlock();
        refuse_connection(fd);
        if (log) {
          char more[64] = "";
          if (unlogged) snprintf(more, sizeof more, " (%ld more refused since the last line)", unlogged);
          if (n_host >= s->max_per_host)
            rcy_log(RCY_LOG_WARN, "dicom",
                    "connection from %s refused: %d connections already open from this address "
                    "(max_connections_per_host)%s",
                    host.c_str(), n_host, more);
          else
            rcy_log(RCY_LOG_WARN, "dicom", "connection from %s refused: %d connections already open (max_connections)%s",
                    host.c_str(), n_all, more);
        }
        continue;
      }
      s->per_host[host]++;
      s->connections++;
    }
    try {
      std::thread(connection, s, net, fd, host, tls).detach();
    } catch (...) {
      ::close(fd);
      connection_done(s, host, false);
    }
  }
}

// DCMTK 3.6.7 listens on every interface and offers no bind address, so the listening socket it creates (on
// an ephemeral port) is replaced by ours: bound to `bind`, with TCP_NODELAY set (Linux passes it on to the
// accepted sockets, so Nagle is off even if the environment says otherwise).
int open_network(T_ASC_Network **net, const char *bind_addr, int port, int timeout_s, rcy_error *err) {
  *net = NULL;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t ss_len;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  if (!bind_addr || !bind_addr[0] || inet_pton(AF_INET, bind_addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    if (!bind_addr || !bind_addr[0]) v4->sin_addr.s_addr = htonl(INADDR_ANY);
    ss_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, bind_addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    ss_len = sizeof *v6;
  } else {
    return rcy_error_set(err, RCY_EINVAL, "bind address '%s' is not a numeric IPv4 or IPv6 address", bind_addr);
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return rcy_error_set(err, RCY_EIO, "socket: %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::bind(fd, (struct sockaddr *)&ss, ss_len) != 0 || listen(fd, 64) != 0) {
    int e = errno;
    ::close(fd);
    return rcy_error_set(err, RCY_EIO, "cannot listen on %s:%d: %s", bind_addr && bind_addr[0] ? bind_addr : "*",
                         port, strerror(e));
  }
  // The network's timeout is DCMTK's limit for a new connection's first PDU (the A-ASSOCIATE-RQ).
  OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, 0, timeout_s, net);
  if (c.bad()) {
    ::close(fd);
    return rcy_error_set(err, RCY_EDICOM, "cannot initialise the DICOM network: %s", c.text());
  }
  PRIVATE_NETWORKKEY *key = (PRIVATE_NETWORKKEY *)(*net)->network;
  ::close(key->networkSpecific.TCP.listenSocket);
  key->networkSpecific.TCP.listenSocket = fd;
  key->networkSpecific.TCP.port = port;
  return RCY_OK;
}

// Sites authenticate with their certificate; which site it is, the policy checks against the calling AE.
int setup_tls(const rcy_dicom_scp_config *cfg, DcmTLSTransportLayer **out, rcy_error *err) {
  return rcy_net::make_tls_layer(out, NET_ACCEPTOR, cfg->tls_certificate, cfg->tls_private_key, cfg->tls_trusted,
                                 cfg->n_tls_trusted, "the TLS port", err);
}

int run(const rcy_dicom_scp_config *cfg, const rcy_dicom_scp_handlers *h, volatile int *stop, int grace_s,
        void (*ready)(void *), rcy_error *err) {
  rcy_net::disable_nagle();
  dcmDisableGethostbyaddr.set(OFTrue);  // numeric peer addresses: what `hosts` lists, and no DNS stall
  if (cfg->max_associations < 1) return rcy_error_set(err, RCY_EINVAL, "max_associations must be at least 1");
  if (!cfg->port && !cfg->tls_port) return rcy_error_set(err, RCY_EINVAL, "no port to listen on");
  Server s;
  s.cfg = cfg;
  s.h = h;
  s.stop = stop;
  s.grace_s = grace_s;
  if (cfg->max_connections > 0) s.max_connections = cfg->max_connections;
  if (cfg->max_connections_per_host > 0) s.max_per_host = cfg->max_connections_per_host;
  if (cfg->association_timeout_s > 0) s.association_timeout_s = cfg->association_timeout_s;
  T_ASC_Network *plain = NULL, *secure = NULL;
  DcmTLSTransportLayer *tls = NULL;
  std::unique_ptr<rcy_net::GuardLayer> plain_layer, secure_layer;
  int rc = RCY_OK;
  if (cfg->port) rc = open_network(&plain, cfg->bind, cfg->port, s.association_timeout_s, err);
  if (!rc && plain) {
    plain_layer.reset(new rcy_net::GuardLayer(NULL));
    OFCondition c = rcy_net::install_guard(plain, plain_layer.get());
    if (c.bad()) rc = rcy_error_set(err, RCY_EDICOM, "transport: %s", c.text());
  }
  if (!rc && cfg->tls_port) {
    rc = open_network(&secure, cfg->bind, cfg->tls_port, s.association_timeout_s, err);
    if (!rc) rc = setup_tls(cfg, &tls, err);
    if (!rc) {
      secure_layer.reset(new rcy_net::GuardLayer(tls));
      OFCondition c = rcy_net::install_guard(secure, secure_layer.get());
      if (c.bad()) rc = rcy_error_set(err, RCY_EDICOM, "TLS transport: %s", c.text());
    }
  }
  if (!rc) {
    if (ready) ready(h->ctx);
    std::thread tls_thread;
    if (secure) tls_thread = std::thread(acceptor, &s, secure, 1);
    if (plain) acceptor(&s, plain, 0);
    if (tls_thread.joinable()) tls_thread.join();
    s.stop_since.store(now_s());
    std::unique_lock<std::mutex> lk(s.mu);
    if (s.active) rcy_log(RCY_LOG_INFO, "dicom", "stopping: waiting for %d association(s) in flight", s.active);
    // Connections still before their association end within association_timeout.
    s.cv.wait(lk, [&] { return s.connections == 0; });
  }
  if (plain) ASC_dropNetwork(&plain);
  if (secure) ASC_dropNetwork(&secure);
  delete tls;
  return rc;
}

}  // namespace

extern "C" int rcy_dicom_scp_run(const rcy_dicom_scp_config *config, const rcy_dicom_scp_handlers *handlers,
                                 volatile int *stop, int grace_s, void (*ready)(void *ctx), rcy_error *err) {
  try {
    return run(config, handlers, stop, grace_s, ready, err);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "storage SCP: %s", e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "storage SCP: unknown exception");
  }
}

extern "C" const rcy_dicom_uid_entry *rcy_dicom_scp_sop_classes(size_t *n) {
  *n = kNSop;
  return kSopClasses;
}

extern "C" const rcy_dicom_uid_entry *rcy_dicom_scp_transfer_syntaxes(size_t *n) {
  *n = kNTs;
  return kTransferSyntaxes;
}
