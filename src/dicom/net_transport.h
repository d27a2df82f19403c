// Our transport layer under DCMTK's DUL (not public): every DICOM connection, ours as SCP or as SCU, plain
// or TLS, reads through a GuardConnection, which follows the PDU stream (P-DATA-TF → PDV items) and runs the
// nesting guard over each DIMSE command set before DCMTK parses it (DIMSE_receiveCommand parses command sets
// with the same recursive reader as data sets; there is no hook between its PDU reads and its parse). A
// command set nested too deep makes the read fail: DCMTK sees a broken connection and the association ends;
// the connection logs why.
//
// It also lets one accepted socket be handed to ASC_receiveAssociation (receive_association_on), so that the
// A-ASSOCIATE-RQ (and the TLS handshake) of each connection is read on that connection's own thread.
#ifndef RECISTRY_DICOM_NET_TRANSPORT_H
#define RECISTRY_DICOM_NET_TRANSPORT_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>

namespace rcy_net {

class GuardLayer : public DcmTransportLayer {
 public:
  // inner: the layer that makes the real connections (DCMTK's TLS layer), or NULL for plain TCP.
  explicit GuardLayer(DcmTransportLayer *inner) : inner_(inner) {}
  DcmTransportConnection *createConnection(DcmNativeSocketType sock, OFBool secure) override;

 private:
  DcmTransportLayer *inner_;
};

// Installs a GuardLayer (owned by the caller, outliving net) on net.
OFCondition install_guard(T_ASC_Network *net, GuardLayer *layer);

// ASC_receiveAssociation on the already accepted socket fd instead of the network's listening socket.
// DCMTK 3.6.7 can only be given a connected socket through the process-wide dcmExternalSocketHandle (meant
// for inetd); it is read once, before the connection object is made, so a mutex held from here until
// GuardLayer::createConnection serialises only that instant, not the TLS handshake or the A-ASSOCIATE-RQ
// read that follow (timeout_s bounds those: the network's timeout for the first PDU, SO_RCVTIMEO for TLS).
// On return fd belongs to DCMTK (also on failure, when *assoc or the connection was made) or is closed.
OFCondition receive_association_on(T_ASC_Network *net, int fd, bool tls, T_ASC_Association **assoc);

}  // namespace rcy_net

#endif
