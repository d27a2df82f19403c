// Query/retrieve as SCP (net_qr.cc), for the SCP's association loop (net_scp.cc). Not public.
#ifndef RECISTRY_DICOM_NET_QR_H
#define RECISTRY_DICOM_NET_QR_H

#include "recistry/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

namespace rcy_net {

// Accepts the Q/R information models of `services` (RCY_DICOM_SERVICE_* bits) and, with GET, the storage
// contexts among `storage` proposed with the peer as SCP, in the first of `ts` the peer offers.
OFCondition qr_negotiate(T_ASC_Association *assoc, unsigned services, const char *const *ts, int n_ts,
                         const char *const *storage, int n_storage);

// Serves one C-FIND request (reads its identifier, answers every match, then the final status). A bad
// condition only when the association failed.
OFCondition handle_find(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_FindRQ *rq,
                        const rcy_dicom_scp_handlers *h, void *actx, int timeout_s);

// Serves one C-MOVE or C-GET request (msg->CommandField says which), with its C-STORE sub-operations.
OFCondition handle_retrieve(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message *msg,
                            const rcy_dicom_scp_handlers *h, void *actx, const char *calling, int timeout_s);

}  // namespace rcy_net

#endif
