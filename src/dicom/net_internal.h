// What the network files of the dicom module share (not public): receiving one C-STORE data set into a
// file while hashing it, and answering it through the store callback. Used by the SCP (net_scp.cc) and by
// C-GET retrieval (net_retrieve.cc), so both apply the same checks.
#ifndef RECISTRY_DICOM_NET_INTERNAL_H
#define RECISTRY_DICOM_NET_INTERNAL_H

#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include "net_spool.h"

namespace rcy_net {

// Receives the data set of the C-STORE request `req` (command on presID) into a temporary file through the
// association's spool, hands it to the spool's store handler and sends the C-STORE response. Returns a bad condition only when the association itself
// failed (then the caller must stop using it); every storage failure is answered with a status instead.
OFCondition handle_store(T_ASC_Association *assoc, T_ASC_PresentationContextID presID, T_DIMSE_C_StoreRQ *req,
                         Spool &spool, int timeout_s, unsigned *status_out);

// Sets TCP_NODELAY for every DCMTK socket created from now on (DCMTK reads the environment variable).
void disable_nagle();

}  // namespace rcy_net

#endif
