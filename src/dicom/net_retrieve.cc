// Pulling a study from a site's node: C-GET (the instances arrive on the same association, each through the
// same receive-and-check path as the SCP) or C-MOVE (the node sends them to our SCP, i.e. the running daemon).
#include "net_internal.h"
#include "net_scu.h"

#include <memory>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "recistry/log.h"

namespace {

const char *kUncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};

bool is_pending(DIC_US status) { return status == STATUS_Pending || status == STATUS_GET_Pending_SubOperationsAreContinuing; }

int retrieve(int *n_completed, int *n_failed, const rcy_dicom_peer *peer, const char *study_uid,
             const rcy_dicom_scp_handlers *h, rcy_error *err) {
  *n_completed = *n_failed = 0;
  rcy_net::disable_nagle();
  const char *model = peer->use_move ? UID_MOVEStudyRootQueryRetrieveInformationModel
                                     : UID_GETStudyRootQueryRetrieveInformationModel;
  const int timeout_s = peer->timeout_s > 0 ? peer->timeout_s : 30;
  rcy_net::ScuAssociation a;  // aborted on every early return below
  if (int rc = a.use_tls(peer->tls, peer->ae_title, err)) return rc;
  OFCondition c =
      a.prepare(peer->our_ae_title, peer->ae_title, peer->host, peer->port, timeout_s, ASC_MAXIMUMPDUSIZE);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "cannot initialise the DICOM network: %s", c.text());
  c = ASC_addPresentationContext(a.params(), 1, model, kUncompressed, 2);
  if (!peer->use_move) {
    // C-GET: we are the storage SCP on this association, for every SOP class we accept.
    size_t n_sop, n_ts;
    const rcy_dicom_uid_entry *sops = rcy_dicom_scp_sop_classes(&n_sop);
    const rcy_dicom_uid_entry *tss = rcy_dicom_scp_transfer_syntaxes(&n_ts);
    const char *ts[16];
    for (size_t i = 0; i < n_ts && i < 16; i++) ts[i] = tss[i].uid;
    for (size_t i = 0; i < n_sop && c.good(); i++)
      c = ASC_addPresentationContext(a.params(), (T_ASC_PresentationContextID)(3 + 2 * i), sops[i].uid, ts,
                                     (int)(n_ts < 16 ? n_ts : 16), ASC_SC_ROLE_SCP);
  }
  if (c.good()) c = a.request();
  if (c.bad())
    return rcy_error_set(err, RCY_EDICOM, "association with %s at %s%s refused or failed: %s", peer->ae_title,
                         a.address(), peer->tls ? " (DICOM TLS)" : "", c.text());
  T_ASC_Association *assoc = a.get();
  T_ASC_PresentationContextID pc = ASC_findAcceptedPresentationContextID(assoc, model);
  if (pc == 0)
    return rcy_error_set(err, RCY_EDICOM, "%s does not support %s", peer->ae_title,
                         peer->use_move ? "C-MOVE (Study Root)" : "C-GET (Study Root)");
  DcmDataset query;
  query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  query.putAndInsertString(DCM_StudyInstanceUID, study_uid);
  T_DIMSE_Message msg;
  memset(&msg, 0, sizeof msg);
  if (peer->use_move) {
    msg.CommandField = DIMSE_C_MOVE_RQ;
    T_DIMSE_C_MoveRQ &rq = msg.msg.CMoveRQ;
    rcy_net::fill_request(rq, assoc, model);
    OFStandard::strlcpy(rq.MoveDestination, peer->move_destination ? peer->move_destination : "",
                        sizeof rq.MoveDestination);
  } else {
    msg.CommandField = DIMSE_C_GET_RQ;
    rcy_net::fill_request(msg.msg.CGetRQ, assoc, model);
  }
  c = DIMSE_sendMessageUsingMemoryData(assoc, pc, &msg, NULL, &query, NULL, NULL);
  // Made at the first C-STORE sub-operation (C-GET); declared after the association, so destroyed before it.
  std::unique_ptr<rcy_net::Spool> spool;
  int silent_s = 0;  // seconds without a message from the node
  for (;;) {
    if (c.bad())
      return rcy_error_set(err, RCY_EDICOM, "retrieve from %s failed: %s", peer->ae_title, c.text());
    T_ASC_PresentationContextID rpc;
    T_DIMSE_Message rsp;
    DcmDataset *detail = NULL;
    // The stop request (the daemon's SIGTERM) is looked at between messages and, through one-second waits,
    // while the node is slow.
    if (peer->stop && *peer->stop)
      return rcy_error_set(err, RCY_EDICOM, "retrieve from %s abandoned: stop requested (%d completed)",
                           peer->ae_title, *n_completed);
    c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &rpc, &rsp, &detail);
    delete detail;
    if (c == DIMSE_NODATAAVAILABLE) {
      if (++silent_s <= (peer->timeout_s > 0 ? peer->timeout_s : 120)) {
        c = EC_Normal;
        continue;
      }
      c = DIMSE_NODATAAVAILABLE;
    }
    if (c.bad()) continue;
    silent_s = 0;
    if (rsp.CommandField == DIMSE_C_STORE_RQ) {
      if (!spool) spool.reset(new rcy_net::Spool(h, h->ctx));
      c = rcy_net::handle_store(assoc, rpc, &rsp.msg.CStoreRQ, *spool, peer->timeout_s > 0 ? peer->timeout_s : 120,
                               NULL);
      continue;
    }
    DIC_US status;
    int has_data;
    if (rsp.CommandField == DIMSE_C_GET_RSP) {
      status = rsp.msg.CGetRSP.DimseStatus;
      has_data = rsp.msg.CGetRSP.DataSetType != DIMSE_DATASET_NULL;
      *n_completed = rsp.msg.CGetRSP.NumberOfCompletedSubOperations;
      *n_failed = rsp.msg.CGetRSP.NumberOfFailedSubOperations;
    } else if (rsp.CommandField == DIMSE_C_MOVE_RSP) {
      status = rsp.msg.CMoveRSP.DimseStatus;
      has_data = rsp.msg.CMoveRSP.DataSetType != DIMSE_DATASET_NULL;
      *n_completed = rsp.msg.CMoveRSP.NumberOfCompletedSubOperations;
      *n_failed = rsp.msg.CMoveRSP.NumberOfFailedSubOperations;
    } else {
      return rcy_error_set(err, RCY_EDICOM, "unexpected DIMSE command 0x%04x from %s", (unsigned)rsp.CommandField,
                           peer->ae_title);
    }
    if (has_data) {  // a failed-SOP-instance list we do not use: never parsed (nothing deep can hurt us)
      DIC_UL bytes = 0, pdvs = 0;
      c = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, 120, &bytes, &pdvs);
    }
    if (is_pending(status)) continue;
    a.release();
    if (status != STATUS_Success && status != STATUS_GET_Warning_SubOperationsCompleteOneOrMoreFailures)
      return rcy_error_set(err, RCY_EDICOM, "%s answered the retrieve with status 0x%04x (%d completed, %d failed)",
                           peer->ae_title, (unsigned)status, *n_completed, *n_failed);
    return RCY_OK;
  }
}

}  // namespace

extern "C" int rcy_dicom_retrieve_study(int *n_completed, int *n_failed, const rcy_dicom_peer *peer,
                                        const char *study_uid, const rcy_dicom_scp_handlers *handlers,
                                        rcy_error *err) {
  try {
    return retrieve(n_completed, n_failed, peer, study_uid, handlers, err);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "retrieve: %s", e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "retrieve: unknown exception");
  }
}
