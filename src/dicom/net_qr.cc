// Query/retrieve as SCP, the DCMTK side only: negotiating the Q/R information models a peer may use (and,
// for C-GET, the storage contexts it proposes in the SCP role), turning a C-FIND / C-MOVE / C-GET identifier
// into (tag, value) keys for the user's handlers (src/ingest/qr.c decides what matches and who may see it),
// building the responses, and running the C-STORE sub-operations: on a new association to the configured
// destination (C-MOVE) or on the same association (C-GET). Files go out as stored: DCMTK sends a file's
// bytes after its meta header unchanged when the presentation context has the file's transfer syntax.
#include "net_qr.h"
#include "net_scu.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrae.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "recistry/log.h"

namespace {

struct Model {
  const char *uid;
  unsigned service;
  int patient_root;
};

const Model kModels[] = {
    {UID_FINDStudyRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_FIND, 0},
    {UID_FINDPatientRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_FIND, 1},
    {UID_MOVEStudyRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_MOVE, 0},
    {UID_MOVEPatientRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_MOVE, 1},
    {UID_GETStudyRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_GET, 0},
    {UID_GETPatientRootQueryRetrieveInformationModel, RCY_DICOM_SERVICE_GET, 1},
};

const Model *model_of(const char *uid) {
  for (const Model &m : kModels)
    if (strcmp(m.uid, uid) == 0) return &m;
  return NULL;
}

// The identifier as the handlers see it. Strings live as long as this object.
struct Request {
  rcy_dicom_qr_request rq{};
  std::string level, destination;
  std::vector<std::pair<uint32_t, std::string>> values;
  std::vector<rcy_dicom_qr_key> keys;
  bool had_charset = false;

  void parse(DcmDataset *ds, unsigned service, int patient_root, const char *move_destination) {
    rq.service = service;
    rq.patient_root = patient_root;
    if (ds) {
      for (unsigned long i = 0; i < ds->card(); i++) {
        DcmElement *e = ds->getElement(i);
        const DcmTagKey &t = e->getTag();
        if (t.getGroup() <= 0x0002 || e->ident() == EVR_SQ) continue;
        OFString v;
        if (e->getLength() > 0) e->getOFStringArray(v);
        if (t == DCM_QueryRetrieveLevel) {
          level = v.c_str();
          continue;
        }
        if (t == DCM_SpecificCharacterSet) {
          had_charset = true;
          continue;
        }
        values.emplace_back(((uint32_t)t.getGroup() << 16) | t.getElement(), v.c_str());
      }
    }
    for (auto &kv : values) keys.push_back({kv.first, kv.second.c_str()});
    rq.keys = keys.data();
    rq.n_keys = keys.size();
    rq.level = level.empty() ? NULL : level.c_str();
    if (move_destination) {
      destination = move_destination;
      rq.move_destination = destination.c_str();
    }
  }
};

// ---- C-FIND ----

struct FindState {
  const rcy_dicom_scp_handlers *h;
  void *actx;
  Request req;
  std::vector<std::unique_ptr<DcmDataset>> matches;
  size_t next = 0;
  bool ran = false;
  unsigned status = STATUS_Success;
  char comment[RCY_DICOM_COMMENT_MAX] = "";
};

int emit_match(void *ctx, const rcy_dicom_qr_key *keys, size_t n) {
  FindState *f = (FindState *)ctx;
  std::unique_ptr<DcmDataset> ds(new DcmDataset);
  if (f->req.had_charset) ds->putAndInsertString(DCM_SpecificCharacterSet, "");  // our values are ASCII
  ds->putAndInsertString(DCM_QueryRetrieveLevel, f->req.level.c_str());
  for (size_t i = 0; i < n; i++) {
    DcmTag tag((Uint16)(keys[i].tag >> 16), (Uint16)(keys[i].tag & 0xffff));
    if (tag.getEVR() == EVR_UNKNOWN || tag.getEVR() == EVR_UN || tag.getEVR() == EVR_SQ) continue;
    ds->putAndInsertString(tag, keys[i].value ? keys[i].value : "");
  }
  f->matches.push_back(std::move(ds));
  return 0;
}

// The status detail of a failure: its Error Comment. DCMTK's providers delete the status detail they are
// given after sending it (whatever dimse.h says), so it is made fresh for each response.
DcmDataset *comment_detail(const char *comment) {
  if (!comment || !comment[0]) return NULL;
  DcmDataset *detail = new DcmDataset;
  detail->putAndInsertString(DCM_ErrorComment, comment);
  return detail;
}

// One response: every match was gathered at the first call (the index is read once, then answered one
// pending response at a time, checking for a C-CANCEL between them).
void find_step(FindState *f, OFBool cancelled, T_DIMSE_C_FindRSP *rsp, DcmDataset **out, DcmDataset **detail) {
  *out = NULL;
  *detail = NULL;
  if (!f->ran) {
    f->ran = true;
    f->status = f->h->find(f->actx, &f->req.rq, emit_match, f, f->comment, sizeof f->comment);
    if (f->status != STATUS_Success) f->matches.clear();
  }
  if (cancelled) {
    rsp->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
    return;
  }
  if (f->next < f->matches.size()) {
    rsp->DimseStatus = STATUS_Pending;
    *out = f->matches[f->next].release();  // DCMTK deletes the response identifiers it is given
    f->next++;
    return;
  }
  rsp->DimseStatus = (DIC_US)f->status;
  if (f->status != STATUS_Success) *detail = comment_detail(f->comment);
}

// ---- C-MOVE / C-GET: the sub-operations ----

struct RetrieveState {
  const rcy_dicom_scp_handlers *h;
  void *actx;
  Request req;
  T_ASC_Association *assoc;  // the requesting association
  const char *calling;
  bool ran = false;
  unsigned status = STATUS_Success;
  char comment[RCY_DICOM_COMMENT_MAX] = "";
  rcy_dicom_qr_files files{};
  bool have_files = false;
  bool refused = false;  // the retrieve was refused before any sub-operation
  size_t next = 0;
  int completed = 0, failed = 0, warning = 0;
  std::vector<std::string> failed_uids;
  // C-MOVE: the sub-association to the destination (made when the retrieve begins; released at the end).
  std::unique_ptr<rcy_net::ScuAssociation> dest;
  DIC_US move_msg_id = 0;
  bool sub_failed = false;
  std::unique_ptr<DcmDataset> failed_list;
  int timeout_s = 60;

  ~RetrieveState() {
    if (dest) dest->release();
  }
  T_ASC_Association *sub() const { return dest ? dest->get() : NULL; }
};

const char *kUncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};

bool is_uncompressed(const std::string &ts) {
  return ts == UID_LittleEndianExplicitTransferSyntax || ts == UID_LittleEndianImplicitTransferSyntax ||
         ts == UID_BigEndianExplicitTransferSyntax;
}

// The destination association: for each SOP class of the files a context with the stored transfer syntax
// (sent as stored) and, when that one is not uncompressed, one with the uncompressed ones as a fallback.
OFCondition open_destination(RetrieveState *r) {
  r->dest.reset(new rcy_net::ScuAssociation());
  rcy_net::ScuAssociation &a = *r->dest;
  rcy_error err{};
  if (a.use_tls(r->files.dest_tls ? &r->files.dest_tls_client : NULL, r->files.dest_ae_title, &err)) {
    r->dest.reset();
    return makeOFCondition(OFM_dcmnet, 1001, OF_error, err.message);
  }
  OFCondition c = a.prepare(r->files.our_ae_title, r->files.dest_ae_title, r->files.dest_host, r->files.dest_port,
                            r->timeout_s, ASC_MAXIMUMPDUSIZE);
  if (c.bad()) {
    r->dest.reset();
    return c;
  }
  std::set<std::pair<std::string, std::string>> wanted;
  for (size_t i = 0; i < r->files.n; i++) {
    wanted.insert({r->files.files[i].sop_class_uid, r->files.files[i].transfer_syntax_uid});
    if (!is_uncompressed(r->files.files[i].transfer_syntax_uid))
      wanted.insert({r->files.files[i].sop_class_uid, ""});
  }
  std::set<std::string> uncompressed_done;
  int id = 1;
  for (const auto &w : wanted) {
    if (id > 255) break;  // 128 contexts at most: more SOP classes than any study of ours holds
    if (w.second.empty() || is_uncompressed(w.second)) {
      if (!uncompressed_done.insert(w.first).second) continue;
      c = ASC_addPresentationContext(a.params(), (T_ASC_PresentationContextID)id, w.first.c_str(), kUncompressed, 2);
    } else {
      const char *ts[] = {w.second.c_str()};
      c = ASC_addPresentationContext(a.params(), (T_ASC_PresentationContextID)id, w.first.c_str(), ts, 1);
    }
    if (c.bad()) break;
    id += 2;
  }
  if (c.good()) c = a.request();
  if (c.bad()) r->dest.reset();
  return c;
}

// One C-STORE sub-operation on `assoc` (the destination's, or the requester's for C-GET).
void store_one(RetrieveState *r, T_ASC_Association *assoc, const rcy_dicom_qr_file &f, bool move) {
  T_ASC_PresentationContextID pc = ASC_findAcceptedPresentationContextID(assoc, f.sop_class_uid, f.transfer_syntax_uid);
  if (!pc) pc = ASC_findAcceptedPresentationContextID(assoc, f.sop_class_uid);
  if (!pc) {
    r->failed++;
    r->failed_uids.push_back(f.sop_instance_uid);
    rcy_log(RCY_LOG_WARN, "dicom", "calling AE %s: %s: no accepted presentation context for SOP class %s",
            r->calling, move ? "C-MOVE" : "C-GET", f.sop_class_uid);
    return;
  }
  T_DIMSE_C_StoreRQ rq;
  memset(&rq, 0, sizeof rq);
  rq.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(rq.AffectedSOPClassUID, f.sop_class_uid, sizeof rq.AffectedSOPClassUID);
  OFStandard::strlcpy(rq.AffectedSOPInstanceUID, f.sop_instance_uid, sizeof rq.AffectedSOPInstanceUID);
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  rq.Priority = DIMSE_PRIORITY_MEDIUM;
  if (move) {
    rq.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    OFStandard::strlcpy(rq.MoveOriginatorApplicationEntityTitle, r->calling,
                        sizeof rq.MoveOriginatorApplicationEntityTitle);
    rq.MoveOriginatorID = r->move_msg_id;
  }
  T_DIMSE_C_StoreRSP rsp;
  memset(&rsp, 0, sizeof rsp);
  DcmDataset *detail = NULL;
  OFCondition c = DIMSE_storeUser(assoc, pc, &rq, f.path, NULL, NULL, NULL, DIMSE_BLOCKING, r->timeout_s, &rsp,
                                  &detail);
  delete detail;
  if (c.bad()) {
    r->failed++;
    r->failed_uids.push_back(f.sop_instance_uid);
    rcy_log(RCY_LOG_WARN, "dicom", "calling AE %s: C-STORE sub-operation failed: %s", r->calling, c.text());
    if (move) r->sub_failed = true;  // the destination association is gone: the rest fail too
    return;
  }
  if (rsp.DimseStatus == STATUS_Success) {
    r->completed++;
  } else if ((rsp.DimseStatus & 0xf000) == 0xb000) {
    r->warning++;
  } else {
    r->failed++;
    r->failed_uids.push_back(f.sop_instance_uid);
    rcy_log(RCY_LOG_WARN, "dicom", "calling AE %s: C-STORE sub-operation answered 0x%04x", r->calling,
            (unsigned)rsp.DimseStatus);
  }
}

// Runs the handler once; returns false with r->status set when the retrieve is refused.
bool retrieve_begin(RetrieveState *r, bool move) {
  r->ran = true;
  r->status = r->h->retrieve(r->actx, &r->req.rq, &r->files, r->comment, sizeof r->comment);
  if (r->status != STATUS_Success) return false;
  r->have_files = true;
  if (move && r->files.n > 0) {
    OFCondition c = open_destination(r);
    if (c.bad()) {
      rcy_log(RCY_LOG_WARN, "dicom", "calling AE %s: C-MOVE destination %s at %s:%d%s: %s", r->calling,
              r->files.dest_ae_title, r->files.dest_host, r->files.dest_port, r->files.dest_tls ? " (DICOM TLS)" : "",
              c.text());
      r->status = STATUS_MOVE_Refused_OutOfResourcesSubOperations;
      snprintf(r->comment, sizeof r->comment, "cannot associate with the move destination");
      return false;
    }
  }
  return true;
}

// Fills the counts and, at the end, the final status and the Failed SOP Instance UID List.
template <typename Rsp>
void retrieve_step(RetrieveState *r, bool move, OFBool cancelled, Rsp *rsp, DcmDataset **detail,
                   DcmDataset **ids) {
  *detail = NULL;
  *ids = NULL;
  if (!r->ran) r->refused = !retrieve_begin(r, move);
  if (r->refused) {
    rsp->DimseStatus = (DIC_US)r->status;
    *detail = comment_detail(r->comment);
    return;
  }
  if (!cancelled && r->next < r->files.n) {
    const rcy_dicom_qr_file &f = r->files.files[r->next++];
    if (move && (r->sub_failed || !r->sub())) {
      r->failed++;
      r->failed_uids.push_back(f.sop_instance_uid);
    } else {
      store_one(r, move ? r->sub() : r->assoc, f, move);
    }
  }
  int remaining = (int)(r->files.n - r->next);
  rsp->NumberOfRemainingSubOperations = (DIC_US)remaining;
  rsp->NumberOfCompletedSubOperations = (DIC_US)r->completed;
  rsp->NumberOfFailedSubOperations = (DIC_US)r->failed;
  rsp->NumberOfWarningSubOperations = (DIC_US)r->warning;
  rsp->opts = O_MOVE_NUMBEROFREMAININGSUBOPERATIONS | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
              O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
  if (!cancelled && remaining > 0) {
    rsp->DimseStatus = STATUS_Pending;
    return;
  }
  if (cancelled) rsp->DimseStatus = STATUS_MOVE_Cancel_SubOperationsTerminatedDueToCancelIndication;
  else if (r->failed == 0 && r->warning == 0) rsp->DimseStatus = STATUS_Success;
  else if (r->completed == 0 && r->warning == 0) rsp->DimseStatus = STATUS_MOVE_Refused_OutOfResourcesSubOperations;
  else rsp->DimseStatus = STATUS_MOVE_Warning_SubOperationsCompleteOneOrMoreFailures;
  r->status = rsp->DimseStatus;
  if (!r->failed_uids.empty()) {
    std::string list;
    for (const std::string &u : r->failed_uids) list += (list.empty() ? "" : "\\") + u;
    r->failed_list.reset(new DcmDataset);
    r->failed_list->putAndInsertString(DCM_FailedSOPInstanceUIDList, list.c_str());
    *ids = r->failed_list.release();  // DCMTK deletes the response identifiers it is given
  }
}

// DCMTK's providers read the identifier themselves and hand it to every call of the callback: it is parsed
// into the request at the first call.
struct IdsHook {
  RetrieveState *r;
  unsigned service;
  int patient_root;
};

void move_callback(void *ctx, OFBool cancelled, T_DIMSE_C_MoveRQ *rq, DcmDataset *ids, int, T_DIMSE_C_MoveRSP *rsp,
                   DcmDataset **detail, DcmDataset **out) {
  IdsHook *k = (IdsHook *)ctx;
  if (!k->r->ran) k->r->req.parse(ids, k->service, k->patient_root, rq->MoveDestination);
  retrieve_step(k->r, true, cancelled, rsp, detail, out);
}

void get_callback(void *ctx, OFBool cancelled, T_DIMSE_C_GetRQ *, DcmDataset *ids, int, T_DIMSE_C_GetRSP *rsp,
                  DcmDataset **detail, DcmDataset **out) {
  IdsHook *k = (IdsHook *)ctx;
  if (!k->r->ran) k->r->req.parse(ids, k->service, k->patient_root, NULL);
  retrieve_step(k->r, false, cancelled, rsp, detail, out);
}

struct FindHook {
  FindState *f;
  int patient_root;
};

void find_callback(void *ctx, OFBool cancelled, T_DIMSE_C_FindRQ *, DcmDataset *ids, int, T_DIMSE_C_FindRSP *rsp,
                   DcmDataset **out, DcmDataset **detail) {
  FindHook *k = (FindHook *)ctx;
  if (!k->f->ran) k->f->req.parse(ids, RCY_DICOM_SERVICE_FIND, k->patient_root, NULL);
  find_step(k->f, cancelled, rsp, out, detail);
}

}  // namespace

namespace rcy_net {

OFCondition qr_negotiate(T_ASC_Association *assoc, unsigned services, const char *const *ts, int n_ts,
                         const char *const *storage, int n_storage) {
  const char *models[6];
  int n = 0;
  for (const Model &m : kModels)
    if (services & m.service) models[n++] = m.uid;
  if (n) {
    // The identifiers are small: the uncompressed syntaxes are all the models need.
    OFCondition c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, models, n, kUncompressed, 2);
    if (c.bad()) return c;
  }
  if (!(services & RCY_DICOM_SERVICE_GET)) return EC_Normal;
  // C-GET: the peer proposes the storage classes with itself as SCP (role selection); accept the role it
  // proposes, with the first of our transfer syntaxes it offers.
  int count = ASC_countPresentationContexts(assoc->params);
  for (int i = 0; i < count; i++) {
    T_ASC_PresentationContext pc;
    if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
    if (pc.proposedRole != ASC_SC_ROLE_SCP && pc.proposedRole != ASC_SC_ROLE_SCUSCP) continue;
    bool known = false;
    for (int s = 0; s < n_storage && !known; s++) known = strcmp(storage[s], pc.abstractSyntax) == 0;
    if (!known) continue;
    for (int t = 0; t < n_ts; t++) {
      bool offered = false;
      for (int j = 0; j < (int)pc.transferSyntaxCount && !offered; j++)
        offered = strcmp(pc.proposedTransferSyntaxes[j], ts[t]) == 0;
      if (!offered) continue;
      OFCondition c = ASC_acceptPresentationContext(assoc->params, pc.presentationContextID, ts[t], pc.proposedRole);
      if (c.bad()) return c;
      break;
    }
  }
  return EC_Normal;
}

OFCondition handle_find(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_FindRQ *rq,
                        const rcy_dicom_scp_handlers *h, void *actx, int timeout_s) {
  FindState f;
  f.h = h;
  f.actx = actx;
  const Model *m = model_of(rq->AffectedSOPClassUID);
  FindHook k = {&f, m ? m->patient_root : 0};
  if (!m || !h->find) {
    f.ran = true;
    f.status = STATUS_FIND_Refused_SOPClassNotSupported;
  }
  return DIMSE_findProvider(assoc, pc, rq, find_callback, &k, DIMSE_BLOCKING, timeout_s);
}

OFCondition handle_retrieve(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message *msg,
                            const rcy_dicom_scp_handlers *h, void *actx, const char *calling, int timeout_s) {
  bool move = msg->CommandField == DIMSE_C_MOVE_RQ;
  const Model *m = model_of(move ? msg->msg.CMoveRQ.AffectedSOPClassUID : msg->msg.CGetRQ.AffectedSOPClassUID);
  RetrieveState r;
  r.h = h;
  r.actx = actx;
  r.assoc = assoc;
  r.calling = calling;
  r.timeout_s = timeout_s;
  IdsHook k = {&r, move ? RCY_DICOM_SERVICE_MOVE : RCY_DICOM_SERVICE_GET, m ? m->patient_root : 0};
  if (!m || !h->retrieve) {
    r.ran = r.refused = true;
    r.status = STATUS_MOVE_Refused_SOPClassNotSupported;
  }
  OFCondition c;
  if (move) {
    r.move_msg_id = msg->msg.CMoveRQ.MessageID;
    c = DIMSE_moveProvider(assoc, pc, &msg->msg.CMoveRQ, move_callback, &k, DIMSE_BLOCKING, timeout_s);
  } else {
    c = DIMSE_getProvider(assoc, pc, &msg->msg.CGetRQ, get_callback, &k, DIMSE_BLOCKING, timeout_s);
  }
  if (r.have_files && h->retrieve_done) {
    // What was not attempted (a cancel, a broken association) counts as failed.
    int not_done = (int)(r.files.n - r.next);
    h->retrieve_done(actx, &r.req.rq, &r.files, r.completed, r.failed + not_done, r.warning, r.status);
  }
  return c;
}

}  // namespace rcy_net
