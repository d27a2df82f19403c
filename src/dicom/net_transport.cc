// The guarded transport connection and the socket hand-off to DCMTK (see net_transport.h for why).
#include "net_transport.h"

#include "nesting_guard.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>

#include "recistry/log.h"

namespace rcy_net {
namespace {

std::mutex handoff_mu;
thread_local bool handoff_held = false;

void release_handoff() {
  if (!handoff_held) return;
  dcmExternalSocketHandle.set(-1);
  handoff_held = false;
  handoff_mu.unlock();
}

uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

// Follows the PDU stream read from the peer; every DIMSE command set goes through the nesting guard. It
// frames PDUs by their length fields exactly as DCMTK's reader does (type, reserved, 4-byte length), so it
// cannot lose step with what DCMTK parses; inside a P-DATA-TF PDU whatever does not frame as PDV items is
// skipped to the end of the PDU (DCMTK refuses such a PDU and ends the association).
class PduWatch {
 public:
  // False once a command set is refused (then why() says why).
  bool inspect(const unsigned char *p, size_t n) {
    while (n > 0) {
      size_t k;
      switch (st_) {
        case kPduHeader:
        case kPdvHeader:
          k = 6 - hl_ < n ? 6 - hl_ : n;
          memcpy(h_ + hl_, p, k);
          hl_ += k;
          if (st_ == kPdvHeader) pdu_left_ -= k;
          p += k;
          n -= k;
          if (hl_ < 6) break;
          hl_ = 0;
          if (st_ == kPduHeader) {
            pdu_left_ = be32(h_ + 2);
            st_ = h_[0] == 0x04 ? kPdvHeader : kSkip;
            if (st_ == kPdvHeader && pdu_left_ < 6) st_ = kSkip;  // no room for a PDV: DCMTK refuses the PDU
          } else {
            uint32_t len = be32(h_);
            bool command = h_[5] & 1, last = h_[5] & 2;
            // A PDV inconsistent with its PDU: DCMTK refuses it itself; skip the rest of the PDU.
            if (len < 2 || len - 2 > pdu_left_) {
              st_ = kSkip;
            } else {
              pdv_left_ = len - 2;
              pdv_command_ = command;
              pdv_last_ = last;
              st_ = kPdvData;
              if (command && !cmd_) cmd_.reset(new NestingScanner(NestingScanner::kImplicitLE, false));
            }
          }
          if (pdu_left_ == 0 && st_ != kPdvData) st_ = kPduHeader;
          break;
        case kSkip:
          k = pdu_left_ < n ? (size_t)pdu_left_ : n;
          pdu_left_ -= k;
          p += k;
          n -= k;
          if (pdu_left_ == 0) st_ = kPduHeader;
          break;
        case kPdvData:
          k = pdv_left_ < n ? (size_t)pdv_left_ : n;
          if (pdv_command_ && !cmd_->feed(p, k)) {
            snprintf(why_, sizeof why_, "command set: %s", cmd_->reason());
            return false;
          }
          if (pdv_command_ && (cmd_bytes_ += k) > kMaxCommandSet) {
            // DCMTK keeps a whole command set in memory: without a bound, one peer could fill it.
            snprintf(why_, sizeof why_, "command set larger than %zu bytes", kMaxCommandSet);
            return false;
          }
          pdv_left_ -= k;
          pdu_left_ -= k;
          p += k;
          n -= k;
          if (pdv_left_ > 0) break;
          if (pdv_command_ && pdv_last_) {
            cmd_.reset();
            cmd_bytes_ = 0;
          }
          st_ = pdu_left_ >= 6 ? kPdvHeader : pdu_left_ ? kSkip : kPduHeader;
          break;
      }
    }
    return true;
  }
  const char *why() const { return why_; }

 private:
  enum State { kPduHeader, kSkip, kPdvHeader, kPdvData } st_ = kPduHeader;
  unsigned char h_[6];
  size_t hl_ = 0;
  uint64_t pdu_left_ = 0, pdv_left_ = 0;
  bool pdv_command_ = false, pdv_last_ = false;
  std::unique_ptr<NestingScanner> cmd_;
  size_t cmd_bytes_ = 0;
  // Real command sets are a few hundred bytes (group 0000 only: UIDs, a few US, an Error Comment).
  static constexpr size_t kMaxCommandSet = 65536;
  char why_[200] = "";
};

// Plain TCP connections read the next PDU's header together with the current PDU's body. DCMTK reads each
// PDU as its 6-byte header, then its body, and polls the socket (twice, in 3.6.7) before each header: four
// system calls per PDU (storescu sends 128 KB PDUs: 5 per 512x512 CT, about 20 calls per instance, each
// dear on this VM). A read into DCMTK's buffer also takes up to kAhead bytes more into a small buffer of
// ours (readv: no copy of the body, only of those few bytes); the next read and poll are answered from it.
// Every byte still passes the guard in stream order, before DCMTK gets it. TLS connections read as before.
constexpr size_t kAhead = 6;

class GuardConnection : public DcmTransportConnection {
 public:
  GuardConnection(DcmNativeSocketType sock, DcmTransportConnection *inner, bool plain)
      : DcmTransportConnection(sock), inner_(inner), plain_(plain) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    snprintf(peer_, sizeof peer_, "?");
    if (getpeername(sock, (struct sockaddr *)&ss, &len) == 0) {
      if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer_, sizeof peer_);
      else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer_, sizeof peer_);
    }
  }
  ~GuardConnection() override { delete inner_; }

  OFCondition serverSideHandshake() override { return inner_->serverSideHandshake(); }
  OFCondition clientSideHandshake() override { return inner_->clientSideHandshake(); }
  OFCondition renegotiate(const char *suite) override { return inner_->renegotiate(suite); }
  ssize_t read(void *buf, size_t nbyte) override {
    if (refused_) {
      errno = EPROTO;
      return -1;
    }
    if (ahead_len_ > 0) {  // already inspected when it was read
      size_t k = nbyte < ahead_len_ ? nbyte : ahead_len_;
      memcpy(buf, ahead_ + ahead_off_, k);
      ahead_off_ += k;
      ahead_len_ -= k;
      return (ssize_t)k;
    }
    ssize_t r;
    size_t extra = 0;
    if (plain_ && nbyte > 0) {
      struct iovec iov[2] = {{buf, nbyte}, {ahead_, kAhead}};
      r = ::readv(getSocket(), iov, 2);
      if (r > (ssize_t)nbyte) {
        extra = (size_t)r - nbyte;
        r = (ssize_t)nbyte;
      }
    } else {
      r = inner_->read(buf, nbyte);
    }
    if (r > 0 && (!watch_.inspect(static_cast<const unsigned char *>(buf), (size_t)r) ||
                  (extra && !watch_.inspect(ahead_, extra)))) {
      refused_ = true;
      rcy_log(RCY_LOG_WARN, "dicom", "connection with %s ended before parsing: %s", peer_, watch_.why());
      errno = EPROTO;
      return -1;
    }
    ahead_off_ = 0;
    ahead_len_ = extra;
    return r;
  }
  // DCMTK writes a PDU as its header with the first PDV's header (12 bytes), then the PDV's data: with
  // TCP_NODELAY two segments, and for a C-STORE response the peer wakes for the first and waits for the
  // second. On plain TCP every write that leaves its PDU incomplete is sent with MSG_MORE, so the kernel
  // sends the PDU's bytes together when its last write comes (DCMTK writes a whole PDU in one call).
  ssize_t write(void *buf, size_t nbyte) override {
    if (!plain_ || pdu_track_lost_) return inner_->write(buf, nbyte);
    const unsigned char *b = static_cast<const unsigned char *>(buf);
    if (out_left_ == 0) {
      if (nbyte < 6) {  // a header split across writes: not how DCMTK writes; stop guessing
        pdu_track_lost_ = true;
        return inner_->write(buf, nbyte);
      }
      out_left_ = 6 + (uint64_t)be32(b + 2);
    }
    if (nbyte > out_left_) {  // a write across a PDU boundary: not how DCMTK writes; never risk holding bytes back
      pdu_track_lost_ = true;
      out_left_ = 0;
      return inner_->write(buf, nbyte);
    }
    bool more = nbyte < out_left_;
    ssize_t w = ::send(getSocket(), buf, nbyte, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (w > 0) out_left_ -= (uint64_t)w < out_left_ ? (uint64_t)w : out_left_;
    return w;
  }
  void close() override { inner_->close(); }
  void closeTransportConnection() override { inner_->closeTransportConnection(); }
  unsigned long getPeerCertificateLength() override { return inner_->getPeerCertificateLength(); }
  unsigned long getPeerCertificate(void *buf, unsigned long len) override {
    return inner_->getPeerCertificate(buf, len);
  }
  OFBool networkDataAvailable(int timeout) override {
    return refused_ || ahead_len_ > 0 || inner_->networkDataAvailable(timeout);
  }
  // Not while bytes wait in our buffer: a select() on the socket would not see them.
  OFBool isTransparentConnection() override { return ahead_len_ == 0 && inner_->isTransparentConnection(); }
  OFString &dumpConnectionParameters(OFString &str) override { return inner_->dumpConnectionParameters(str); }

 private:
  DcmTransportConnection *inner_;
  bool plain_;  // plain TCP: read with readv on the socket (see kAhead)
  PduWatch watch_;
  bool refused_ = false;
  unsigned char ahead_[kAhead];
  size_t ahead_off_ = 0, ahead_len_ = 0;
  uint64_t out_left_ = 0;        // bytes of the PDU being written still to come (0: at a PDU boundary)
  bool pdu_track_lost_ = false;  // writes stopped following PDU boundaries: plain writes from then on
  char peer_[INET6_ADDRSTRLEN + 1];
};

}  // namespace

DcmTransportConnection *GuardLayer::createConnection(DcmNativeSocketType sock, OFBool secure) {
  release_handoff();  // DCMTK has read the hand-off socket: the next connection may be handed over
  DcmTransportConnection *c = inner_ ? inner_->createConnection(sock, secure) : new DcmTCPConnection(sock);
  if (!c) return NULL;
  return new GuardConnection(sock, c, !secure);
}

OFCondition install_guard(T_ASC_Network *net, GuardLayer *layer) { return ASC_setTransportLayer(net, layer, 0); }

OFCondition receive_association_on(T_ASC_Network *net, int fd, bool tls, T_ASC_Association **assoc) {
  *assoc = NULL;
  handoff_mu.lock();
  handoff_held = true;
  dcmExternalSocketHandle.set(fd);
  OFCondition c;
  try {
    c = ASC_receiveAssociation(net, assoc, ASC_MAXIMUMPDUSIZE, NULL, NULL, tls ? OFTrue : OFFalse, DUL_NOBLOCK, 1);
  } catch (...) {
    release_handoff();  // never leave the next connection waiting on the mutex
    throw;
  }
  if (handoff_held) {  // DCMTK failed before making a connection of fd: it is still ours
    release_handoff();
    ::close(fd);
  }
  return c;
}

}  // namespace rcy_net
