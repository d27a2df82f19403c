// C-STORE SCU: sends Part 10 files (the SR reports of `recistry export sr --send`) to a storage SCP with
// DCMTK's DcmStorageSCU, which proposes a presentation context per SOP class and transfer syntax of the files
// given.
#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dstorscu.h>

#include <exception>
#include <new>
#include <string>

namespace {

class counting_scu : public DcmStorageSCU {
public:
  size_t ok = 0, failed = 0;
  Uint16 last_status = 0;

protected:
  void notifySOPInstanceSent(const TransferEntry &e) override {
    // Success or a warning (0xB...): stored. Anything else counts as a failure.
    if (e.RequestSent && (e.ResponseStatusCode == 0 || (e.ResponseStatusCode & 0xF000) == 0xB000))
      ok++;
    else {
      failed++;
      last_status = e.ResponseStatusCode;
    }
  }
};

int send(size_t *n_sent, const char *host, int port, const char *called_ae, const char *our_ae,
         const char *const *paths, size_t n_paths, rcy_error *err) {
  *n_sent = 0;
  if (!host || !*host || port <= 0 || port > 65535 || !called_ae || !*called_ae)
    return rcy_error_set(err, RCY_EINVAL, "C-STORE: host, port and called AE title are required");
  counting_scu scu;
  scu.setAETitle(our_ae && *our_ae ? our_ae : "RECISTRY");
  scu.setPeerHostName(host);
  scu.setPeerPort(static_cast<Uint16>(port));
  scu.setPeerAETitle(called_ae);
  scu.setACSETimeout(30);
  scu.setDIMSETimeout(60);
  for (size_t i = 0; i < n_paths; i++) {
    OFCondition c = scu.addDicomFile(paths[i], ERM_fileOnly, OFFalse);
    if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "C-STORE: %s: %s", paths[i], c.text());
  }
  OFCondition c = scu.addPresentationContexts(); // before initNetwork, which needs them
  if (c.good()) c = scu.initNetwork();
  if (c.good()) c = scu.negotiateAssociation();
  if (c.bad())
    return rcy_error_set(err, RCY_EDICOM, "C-STORE to %s@%s:%d: %s", called_ae, host, port, c.text());
  c = scu.sendSOPInstances();
  scu.releaseAssociation();
  *n_sent = scu.ok;
  if (c.bad())
    return rcy_error_set(err, RCY_EDICOM, "C-STORE to %s@%s:%d: %s", called_ae, host, port, c.text());
  if (scu.failed || scu.ok != n_paths)
    return rcy_error_set(err, RCY_EDICOM, "C-STORE to %s@%s:%d: %zu of %zu not stored (status 0x%04X)",
                         called_ae, host, port, n_paths - scu.ok, n_paths, scu.last_status);
  return RCY_OK;
}

} // namespace

extern "C" int rcy_dicom_store_files(size_t *n_sent, const char *host, int port, const char *called_ae,
                                     const char *our_ae, const char *const *paths, size_t n_paths,
                                     rcy_error *err) {
  try {
    return send(n_sent, host, port, called_ae, our_ae, paths, n_paths, err);
  } catch (const std::bad_alloc &) {
    return rcy_error_set(err, RCY_ENOMEM, "C-STORE: out of memory");
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "C-STORE: %s", e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "C-STORE: unknown exception");
  }
}
