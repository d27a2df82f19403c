// DICOM TLS transport layers for the SCP and the SCU (net_tls.h).
#include "net_tls.h"

namespace rcy_net {

int make_tls_layer(DcmTLSTransportLayer **out, T_ASC_NetworkRole role, const char *certificate,
                   const char *private_key, const char *const *trusted, size_t n_trusted, const char *what,
                   rcy_error *err) {
  *out = nullptr;
  if (!certificate || !private_key)
    return rcy_error_set(err, RCY_EINVAL, "%s: DICOM TLS needs our certificate and private key ([dicom] "
                         "tls_certificate, tls_private_key)", what);
  DcmTLSTransportLayer *tls = new DcmTLSTransportLayer(role, NULL, OFTrue);
  *out = tls;
  OFCondition c = tls->setTLSProfile(TSP_Profile_BCP195);
  if (c.good()) c = tls->activateCipherSuites();
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "%s: TLS profile: %s", what, c.text());
  if (tls->setPrivateKeyFile(private_key, DCF_Filetype_PEM).bad())
    return rcy_error_set(err, RCY_EINVAL, "%s: cannot load TLS private key %s", what, private_key);
  if (tls->setCertificateFile(certificate, DCF_Filetype_PEM).bad())
    return rcy_error_set(err, RCY_EINVAL, "%s: cannot load TLS certificate %s", what, certificate);
  if (!tls->checkPrivateKeyMatchesCertificate())
    return rcy_error_set(err, RCY_EINVAL, "%s: TLS private key %s does not match certificate %s", what, private_key,
                         certificate);
  for (size_t i = 0; i < n_trusted; i++)
    if (tls->addTrustedCertificateFile(trusted[i], DCF_Filetype_PEM).bad())
      return rcy_error_set(err, RCY_EINVAL, "%s: cannot load trusted certificate %s", what, trusted[i]);
  tls->setCertificateVerification(DCV_requireCertificate);
  return RCY_OK;
}

}  // namespace rcy_net
