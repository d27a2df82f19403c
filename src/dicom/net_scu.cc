// The SCU association's set-up and ending (net_scu.h).
#include "net_scu.h"

#include "net_tls.h"

#include <cstdio>

namespace rcy_net {

ScuAssociation::ScuAssociation() = default;

int ScuAssociation::use_tls(const rcy_dicom_tls_client *tls, const char *what, rcy_error *err) {
  if (!tls) return RCY_OK;
  const char *trusted[] = {tls->peer_certificate};
  DcmTLSTransportLayer *layer = nullptr;
  int rc = make_tls_layer(&layer, NET_REQUESTOR, tls->certificate, tls->private_key, trusted,
                          tls->peer_certificate ? 1 : 0, what, err);
  tls_.reset(layer);
  if (!rc && !tls->peer_certificate)
    rc = rcy_error_set(err, RCY_EINVAL, "%s: DICOM TLS needs the node's certificate to trust", what);
  return rc;
}

OFCondition ScuAssociation::prepare(const char *our_ae_title, const char *peer_ae_title, const char *host,
                                    int port, int timeout_s, unsigned long max_pdu) {
  guard_.reset(new GuardLayer(tls_.get()));
  OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, timeout_s, &net_);
  if (c.good()) c = install_guard(net_, guard_.get());
  if (c.good()) c = ASC_createAssociationParameters(&params_, (long)max_pdu);
  if (c.good() && tls_) c = ASC_setTransportLayerType(params_, OFTrue);
  if (c.bad()) return c;
  ASC_setAPTitles(params_, our_ae_title, peer_ae_title, NULL);
  snprintf(addr_, sizeof addr_, "%s:%d", host, port);
  return ASC_setPresentationAddresses(params_, "localhost", addr_);
}

OFCondition ScuAssociation::request() {
  OFCondition c = ASC_requestAssociation(net_, params_, &assoc_);
  if (assoc_) params_ = nullptr;  // the association's now, and destroyed with it
  if (c.bad()) ended_ = true;     // refused or failed: nothing to release or abort, only to drop
  return c;
}

void ScuAssociation::abort() {
  if (assoc_ && !ended_) ASC_abortAssociation(assoc_);
  ended_ = true;
}

void ScuAssociation::release() {
  if (assoc_ && !ended_) ASC_releaseAssociation(assoc_);
  ended_ = true;
}

ScuAssociation::~ScuAssociation() {
  if (assoc_) {
    if (!ended_) abort();
    ASC_dropAssociation(assoc_);
    ASC_destroyAssociation(&assoc_);
  }
  if (params_) ASC_destroyAssociationParameters(&params_);
  if (net_) ASC_dropNetwork(&net_);
}

}  // namespace rcy_net
