// The storage SCP: listens (plain TCP and/or DICOM TLS), hands each association to its own thread, asks the
// policy (ingest/) whether to accept it, negotiates Verification + the storage SOP classes in the transfer
// syntaxes DCMTK decodes, and serves C-ECHO and C-STORE until release. Refused presentation contexts are
// logged. Bounded concurrency: above max_associations an association is rejected as transient.
#include "net_internal.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
  int active = 0;
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
OFCondition negotiate(T_ASC_Association *assoc, const char *calling) {
  const char *verification[] = {UID_VerificationSOPClass};
  const char *ts[kNTs];
  for (size_t i = 0; i < kNTs; i++) ts[i] = kTransferSyntaxes[i].uid;
  OFCondition c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, verification, 1, ts, 2);
  if (c.bad()) return c;
  const char *sops[kNSop];
  for (size_t i = 0; i < kNSop; i++) sops[i] = kSopClasses[i].uid;
  c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, sops, (int)kNSop, ts, (int)kNTs);
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
  OFCondition c = negotiate(assoc, calling);
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
  }
  spool.reset();  // before release: the spool uses the association context
  s->h->release(actx, aborted);
  ASC_dropAssociation(assoc);
  ASC_destroyAssociation(&assoc);
}

void worker(Server *s, T_ASC_Association *assoc, int tls) {
  try {
    serve(s, assoc, tls);
  } catch (const std::exception &e) {
    rcy_log(RCY_LOG_ERROR, "dicom", "association thread failed: %s", e.what());
  } catch (...) {
    rcy_log(RCY_LOG_ERROR, "dicom", "association thread failed: unknown exception");
  }
  std::lock_guard<std::mutex> lk(s->mu);
  s->active--;
  s->cv.notify_all();
}

void acceptor(Server *s, T_ASC_Network *net, int tls) {
  while (!*s->stop) {
    if (!ASC_associationWaiting(net, 1)) continue;
    T_ASC_Association *assoc = NULL;
    OFCondition c = ASC_receiveAssociation(net, &assoc, ASC_MAXIMUMPDUSIZE, NULL, NULL, tls ? OFTrue : OFFalse,
                                           DUL_NOBLOCK, 30);
    if (c.bad()) {
      if (c != DUL_NOASSOCIATIONREQUEST)
        rcy_log(RCY_LOG_WARN, "dicom", "%s connection failed before association: %s", tls ? "TLS" : "TCP",
                c.text());
      if (assoc) {
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> lk(s->mu);
      if (s->active >= s->cfg->max_associations) {
        rcy_log(RCY_LOG_WARN, "dicom", "association from %s rejected: %d associations already open",
                assoc->params->DULparams.callingPresentationAddress, s->active);
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        continue;
      }
      s->active++;
    }
    try {
      std::thread(worker, s, assoc, tls).detach();
    } catch (...) {
      std::lock_guard<std::mutex> lk(s->mu);
      s->active--;
      ASC_dropAssociation(assoc);
      ASC_destroyAssociation(&assoc);
    }
  }
}

// DCMTK 3.6.7 listens on every interface and offers no bind address, so the listening socket it creates (on
// an ephemeral port) is replaced by ours: bound to `bind`, with TCP_NODELAY set (Linux passes it on to the
// accepted sockets, so Nagle is off even if the environment says otherwise).
int open_network(T_ASC_Network **net, const char *bind_addr, int port, rcy_error *err) {
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
  OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, 0, 30, net);
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

int setup_tls(T_ASC_Network *net, const rcy_dicom_scp_config *cfg, DcmTLSTransportLayer **out, rcy_error *err) {
  if (!cfg->tls_certificate || !cfg->tls_private_key)
    return rcy_error_set(err, RCY_EINVAL, "a TLS port needs a certificate and a private key");
  DcmTLSTransportLayer *tls = new DcmTLSTransportLayer(NET_ACCEPTOR, NULL, OFTrue);
  *out = tls;
  OFCondition c = tls->setTLSProfile(TSP_Profile_BCP195);
  if (c.good()) c = tls->activateCipherSuites();
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "TLS profile: %s", c.text());
  if (tls->setPrivateKeyFile(cfg->tls_private_key, DCF_Filetype_PEM).bad())
    return rcy_error_set(err, RCY_EINVAL, "cannot load TLS private key %s", cfg->tls_private_key);
  if (tls->setCertificateFile(cfg->tls_certificate, DCF_Filetype_PEM).bad())
    return rcy_error_set(err, RCY_EINVAL, "cannot load TLS certificate %s", cfg->tls_certificate);
  if (!tls->checkPrivateKeyMatchesCertificate())
    return rcy_error_set(err, RCY_EINVAL, "TLS private key %s does not match certificate %s", cfg->tls_private_key,
                         cfg->tls_certificate);
  for (size_t i = 0; i < cfg->n_tls_trusted; i++)
    if (tls->addTrustedCertificateFile(cfg->tls_trusted[i], DCF_Filetype_PEM).bad())
      return rcy_error_set(err, RCY_EINVAL, "cannot load trusted site certificate %s", cfg->tls_trusted[i]);
  // Sites authenticate with their certificate; which site it is, the policy checks against the calling AE.
  tls->setCertificateVerification(DCV_requireCertificate);
  c = ASC_setTransportLayer(net, tls, 0);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "TLS transport: %s", c.text());
  return RCY_OK;
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
  T_ASC_Network *plain = NULL, *secure = NULL;
  DcmTLSTransportLayer *tls = NULL;
  int rc = RCY_OK;
  if (cfg->port) rc = open_network(&plain, cfg->bind, cfg->port, err);
  if (!rc && cfg->tls_port) {
    rc = open_network(&secure, cfg->bind, cfg->tls_port, err);
    if (!rc) rc = setup_tls(secure, cfg, &tls, err);
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
    s.cv.wait(lk, [&] { return s.active == 0; });
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
