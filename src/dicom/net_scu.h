// An association we request as SCU: from a site's node (C-FIND in net_find.cc, C-GET/C-MOVE in
// net_retrieve.cc) or to a C-MOVE destination (net_qr.cc). DCMTK leaves its caller the network, the
// parameters until the request consumes them, and the release-or-abort, drop and destroy on every path out;
// this class owns all of it, so each conversation returns as soon as it fails and nothing leaks or stays open.
// Every PDU read on it goes through the nesting guard (net_transport.h), as on the SCP.
#ifndef RECISTRY_DICOM_NET_SCU_H
#define RECISTRY_DICOM_NET_SCU_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/ofstd/ofstd.h>

#include <memory>

#include "net_transport.h"
#include "recistry/dicom.h"
#include "recistry/error.h"

class DcmTLSTransportLayer;

namespace rcy_net {

class ScuAssociation {
 public:
  ScuAssociation();
  // An association never ended by release() is aborted: it was left because something failed.
  ~ScuAssociation();
  ScuAssociation(const ScuAssociation &) = delete;
  ScuAssociation &operator=(const ScuAssociation &) = delete;

  // Before prepare(), for a node reached over DICOM TLS (tls NULL: plain TCP): our certificate and key, and the
  // node's certificate, the only one trusted. what names the node for the error messages.
  int use_tls(const rcy_dicom_tls_client *tls, const char *what, rcy_error *err);
  // The network (timeout_s bounds the connection and each PDU wait) and the request's AE titles, address
  // and maximum PDU size. Presentation contexts are then added to params().
  OFCondition prepare(const char *our_ae_title, const char *peer_ae_title, const char *host, int port,
                      int timeout_s, unsigned long max_pdu);
  T_ASC_Parameters *params() { return params_; }
  // Sends the A-ASSOCIATE-RQ; the parameters belong to the association from then on, also when refused.
  OFCondition request();

  T_ASC_Association *get() const { return assoc_; }
  const char *address() const { return addr_; }
  void abort();    // A-ABORT: the conversation broke off
  void release();  // A-RELEASE: the conversation ended normally

 private:
  std::unique_ptr<DcmTLSTransportLayer> tls_;  // outlives the network it serves (members go after ~ body)
  std::unique_ptr<GuardLayer> guard_;
  T_ASC_Network *net_ = nullptr;
  T_ASC_Parameters *params_ = nullptr;  // ours until request()
  T_ASC_Association *assoc_ = nullptr;
  bool ended_ = false;
  char addr_[512] = "";
};

// The fields every query/retrieve request of ours shares (C-FIND, C-GET and C-MOVE requests have them under
// the same names in different DCMTK structs): the next message ID, the information model, medium priority,
// an identifier following.
template <typename Request>
void fill_request(Request &rq, T_ASC_Association *assoc, const char *model) {
  rq.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(rq.AffectedSOPClassUID, model, sizeof rq.AffectedSOPClassUID);
  rq.Priority = DIMSE_PRIORITY_MEDIUM;
  rq.DataSetType = DIMSE_DATASET_PRESENT;
}

}  // namespace rcy_net

#endif
