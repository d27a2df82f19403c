// C-FIND SCU at study level (Study Root): what the ingest poller asks a site's node for its registry
// subjects' studies. Written on DCMTK's association and DIMSE calls, as net_retrieve.cc is, rather than on
// DcmSCU, for three reasons: our transport layer (the nesting guard over the node's command sets) can only be
// installed on a network we create; DcmSCU parses each response identifier with DCMTK's recursive reader
// straight from the network, while here it is received into a bounded buffer and scanned by the nesting guard
// first; and the daemon's stop flag is looked at every second while we wait for the node.
#include "nesting_guard.h"
#include "net_internal.h"
#include "net_scu.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>

namespace {

const char *kUncompressed[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};

// A study-level identifier is a few hundred bytes; a node sending more than this is refused.
constexpr size_t kMaxIdentifierBytes = 64 * 1024;

// Collects one response identifier in memory, bounded, through the nesting guard.
class BoundedConsumer : public DcmConsumer {
 public:
  explicit BoundedConsumer(rcy_net::NestingScanner *guard) : guard_(guard) {}
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return (offile_off_t)1 << 30; }
  offile_off_t write(const void *buf, offile_off_t len) override {
    if (!overflow_ && bytes_.size() + (size_t)len <= kMaxIdentifierBytes) {
      bytes_.append(static_cast<const char *>(buf), (size_t)len);
      guard_->feed(buf, (size_t)len);
    } else {
      overflow_ = true;  // keep draining (the association goes on), keep nothing
    }
    return len;
  }
  void flush() override {}
  const std::string &bytes() const { return bytes_; }
  bool overflow() const { return overflow_; }

 private:
  rcy_net::NestingScanner *guard_;
  std::string bytes_;
  bool overflow_ = false;
};

class BoundedStream : public DcmOutputStream {
 public:
  explicit BoundedStream(BoundedConsumer *c) : DcmOutputStream(c) {}
};

double now_s() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void copy_string(DcmDataset &ds, const DcmTagKey &tag, char *out, size_t cap) {
  const char *v = NULL;
  out[0] = '\0';
  if (ds.findAndGetString(tag, v).good() && v) {
    // Trailing spaces are padding; a value that does not fit is cut (the caller validates what it uses).
    snprintf(out, cap, "%s", v);
    size_t n = strlen(out);
    while (n && out[n - 1] == ' ') out[--n] = '\0';
  }
}

// Receives and parses one response identifier. Returns 0, or an error message in why.
bool read_identifier(T_ASC_Association *assoc, int timeout_s, const char *ts_uid, DcmDataset &ds, char *why,
                     size_t len) {
  rcy_net::NestingScanner guard = rcy_net::NestingScanner::for_transfer_syntax(ts_uid);
  BoundedConsumer consumer(&guard);
  BoundedStream stream(&consumer);
  T_ASC_PresentationContextID pc = 0;
  OFCondition c = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout_s, &pc, &stream, NULL, NULL);
  if (c.bad()) {
    snprintf(why, len, "receiving a C-FIND response identifier: %s", c.text());
    return false;
  }
  if (consumer.overflow()) {
    snprintf(why, len, "a C-FIND response identifier larger than %zu bytes", kMaxIdentifierBytes);
    return false;
  }
  if (guard.refused()) {
    snprintf(why, len, "a C-FIND response identifier refused: %s", guard.reason());
    return false;
  }
  DcmInputBufferStream in;
  in.setBuffer(consumer.bytes().data(), (offile_off_t)consumer.bytes().size());
  in.setEos();
  ds.transferInit();
  c = ds.read(in, DcmXfer(ts_uid).getXfer());
  ds.transferEnd();
  if (c.bad()) {
    snprintf(why, len, "a C-FIND response identifier does not parse: %s", c.text());
    return false;
  }
  return true;
}

int find(int *n_matches, const rcy_dicom_peer *peer, const rcy_dicom_find_query *q, int max_matches,
         int (*fn)(void *, const rcy_dicom_study_match *), void *ctx, rcy_error *err) {
  *n_matches = 0;
  if (!q->patient_id || !q->patient_id[0])
    return rcy_error_set(err, RCY_EINVAL, "C-FIND: a Patient ID matching key is required");
  rcy_net::disable_nagle();
  const int timeout_s = peer->timeout_s > 0 ? peer->timeout_s : 30;
  const char *model = UID_FINDStudyRootQueryRetrieveInformationModel;
  rcy_net::ScuAssociation a;  // aborted on every early return below
  if (int rc = a.use_tls(peer->tls, peer->ae_title, err)) return rc;
  OFCondition c = a.prepare(peer->our_ae_title, peer->ae_title, peer->host, peer->port, timeout_s, ASC_DEFAULTMAXPDU);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "cannot initialise the DICOM network: %s", c.text());
  c = ASC_addPresentationContext(a.params(), 1, model, kUncompressed, 2);
  if (c.good()) c = a.request();
  if (c.bad())
    return rcy_error_set(err, RCY_EDICOM, "association with %s at %s%s refused or failed: %s", peer->ae_title,
                         a.address(), peer->tls ? " (DICOM TLS)" : "", c.text());
  T_ASC_Association *assoc = a.get();
  T_ASC_PresentationContextID pc = ASC_findAcceptedPresentationContextID(assoc, model);
  T_ASC_PresentationContext info;
  if (pc == 0 || ASC_findAcceptedPresentationContext(assoc->params, pc, &info).bad())
    return rcy_error_set(err, RCY_EDICOM, "%s does not support C-FIND (Study Root)", peer->ae_title);
  std::string ts_uid = info.acceptedTransferSyntax;
  DcmDataset query;
  std::string dates;
  if ((q->date_from && q->date_from[0]) || (q->date_to && q->date_to[0]))
    dates = std::string(q->date_from ? q->date_from : "") + "-" + (q->date_to ? q->date_to : "");
  query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  query.putAndInsertString(DCM_PatientID, q->patient_id);
  query.putAndInsertString(DCM_StudyDate, dates.c_str());
  query.putAndInsertString(DCM_StudyInstanceUID, "");
  query.putAndInsertString(DCM_NumberOfStudyRelatedInstances, "");
  T_DIMSE_Message msg;
  memset(&msg, 0, sizeof msg);
  msg.CommandField = DIMSE_C_FIND_RQ;
  rcy_net::fill_request(msg.msg.CFindRQ, assoc, model);
  c = DIMSE_sendMessageUsingMemoryData(assoc, pc, &msg, NULL, &query, NULL, NULL);
  if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "C-FIND to %s failed: %s", peer->ae_title, c.text());
  char why[256];
  double waited_since = now_s();
  for (;;) {
    T_ASC_PresentationContextID rpc;
    T_DIMSE_Message rsp;
    DcmDataset *detail = NULL;
    if (peer->stop && *peer->stop)
      return rcy_error_set(err, RCY_EDICOM, "C-FIND to %s abandoned: stop requested", peer->ae_title);
    c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &rpc, &rsp, &detail);
    delete detail;
    if (c == DIMSE_NODATAAVAILABLE) {
      if (now_s() - waited_since > timeout_s)
        return rcy_error_set(err, RCY_EDICOM, "%s did not answer the C-FIND within %d s", peer->ae_title, timeout_s);
      continue;
    }
    if (c.bad()) return rcy_error_set(err, RCY_EDICOM, "C-FIND to %s failed: %s", peer->ae_title, c.text());
    waited_since = now_s();
    if (rsp.CommandField != DIMSE_C_FIND_RSP)
      return rcy_error_set(err, RCY_EDICOM, "unexpected DIMSE command 0x%04x from %s", (unsigned)rsp.CommandField,
                           peer->ae_title);
    DIC_US status = rsp.msg.CFindRSP.DimseStatus;
    bool pending = status == STATUS_Pending || status == STATUS_FIND_Pending_WarningUnsupportedOptionalKeys;
    if (rsp.msg.CFindRSP.DataSetType != DIMSE_DATASET_NULL) {
      DcmDataset ids;
      if (!read_identifier(assoc, timeout_s, ts_uid.c_str(), ids, why, sizeof why))
        return rcy_error_set(err, RCY_EDICOM, "%s: %s", peer->ae_title, why);
      if (pending) {
        if (++*n_matches > max_matches)
          return rcy_error_set(err, RCY_EINVAL, "%s returned more than %d matches: query abandoned", peer->ae_title,
                               max_matches);
        rcy_dicom_study_match m;
        memset(&m, 0, sizeof m);
        copy_string(ids, DCM_StudyInstanceUID, m.study_uid, sizeof m.study_uid);
        copy_string(ids, DCM_PatientID, m.patient_id, sizeof m.patient_id);
        copy_string(ids, DCM_StudyDate, m.study_date, sizeof m.study_date);
        char count[24];
        copy_string(ids, DCM_NumberOfStudyRelatedInstances, count, sizeof count);
        char *end = NULL;
        long n = count[0] ? strtol(count, &end, 10) : -1;
        m.n_instances = (count[0] && end && *end == '\0' && n >= 0 && n < (1L << 30)) ? (int)n : -1;
        int r = fn(ctx, &m);
        if (r) return r;
      }
    }
    if (pending) continue;
    a.release();
    if (status != STATUS_Success)
      return rcy_error_set(err, RCY_EDICOM, "%s answered the C-FIND with status 0x%04x", peer->ae_title,
                           (unsigned)status);
    return RCY_OK;
  }
}

}  // namespace

extern "C" int rcy_dicom_find_studies(int *n_matches, const rcy_dicom_peer *peer, const rcy_dicom_find_query *query,
                                      int max_matches, int (*fn)(void *ctx, const rcy_dicom_study_match *match),
                                      void *ctx, rcy_error *err) {
  try {
    return find(n_matches, peer, query, max_matches, fn, ctx, err);
  } catch (const std::exception &e) {
    return rcy_error_set(err, RCY_EINTERNAL, "C-FIND: %s", e.what());
  } catch (...) {
    return rcy_error_set(err, RCY_EINTERNAL, "C-FIND: unknown exception");
  }
}
