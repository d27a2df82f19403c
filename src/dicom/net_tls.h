// DICOM TLS transport layers (DCMTK's OpenSSL layer) as both ends of ours use them: the BCP 195 profile (TLS 1.2
// and later, its cipher suites), our certificate and key, and the certificates we trust — a peer must present
// one (DCV_requireCertificate), in both directions. The SCP trusts the sites' certificates (which site a
// certificate belongs to is checked later against the calling AE); as SCU we trust exactly the node's.
#ifndef RECISTRY_DICOM_NET_TLS_H
#define RECISTRY_DICOM_NET_TLS_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <cstddef>

#include "recistry/error.h"

namespace rcy_net {

// A new layer in *out (the caller's to delete, also when this fails part way). role: NET_ACCEPTOR or
// NET_REQUESTOR. what names the configuration the files come from, for the error messages.
int make_tls_layer(DcmTLSTransportLayer **out, T_ASC_NetworkRole role, const char *certificate,
                   const char *private_key, const char *const *trusted, size_t n_trusted, const char *what,
                   rcy_error *err);

}  // namespace rcy_net

#endif
