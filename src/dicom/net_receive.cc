// Receiving one C-STORE data set: streamed from the network into a temporary file through the association's
// spool (bounded memory: DCMTK hands over PDV fragments, never the whole data set; the spool writes them
// as they come), then handed to the store callback whose status is sent back. A write failure
// (disk full) does not break the association: the rest of the data set is drained and the request answered
// Out of Resources.
#include "nesting_guard.h"
#include "net_internal.h"
#include "net_spool.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "recistry/log.h"

namespace rcy_net {
namespace {

// A DcmConsumer handing every byte to the association's spool. It never reports failure to DCMTK (so the
// association keeps reading the data set); the spool keeps the first write errno for the caller.
// The data set's bytes (after the meta header written first) also go through the nesting guard, so that a
// data set DCMTK's recursive parser cannot survive is refused before anything parses it.
class SpoolConsumer : public DcmConsumer {
 public:
  SpoolConsumer(Spool *spool, NestingScanner *guard) : spool_(spool), guard_(guard) {}
  // Offset in the stream where the data set starts (after the meta header); nothing is scanned before.
  void set_data_start(uint64_t off) { data_start_ = off; }
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return OFTrue; }
  offile_off_t avail() const override { return (offile_off_t)1 << 30; }
  offile_off_t write(const void *buf, offile_off_t len) override {
    spool_->append(buf, (size_t)len);
    const char *p = static_cast<const char *>(buf);
    uint64_t n = (uint64_t)len, at = total_;
    total_ += n;
    if (total_ > data_start_) {
      uint64_t k = data_start_ > at ? data_start_ - at : 0;
      guard_->feed(p + k, (size_t)(n - k));
    }
    return len;
  }
  void flush() override {}

 private:
  Spool *spool_;
  NestingScanner *guard_;
  uint64_t total_ = 0;
  uint64_t data_start_ = UINT64_MAX;
};

class SpoolStream : public DcmOutputStream {
 public:
  explicit SpoolStream(SpoolConsumer *c) : DcmOutputStream(c) {}
};

// The Part 10 header (preamble, DICM, group 0002) for the data set about to arrive, as storescp writes it.
OFCondition write_meta(DcmOutputStream &out, T_ASC_Association *assoc, T_ASC_PresentationContextID presID,
                       const T_DIMSE_C_StoreRQ *req) {
  T_ASC_PresentationContext pc;
  OFCondition c = ASC_findAcceptedPresentationContext(assoc->params, presID, &pc);
  if (c.bad()) return c;
  DcmXfer xfer(pc.acceptedTransferSyntax);
  DcmFileFormat ff;
  DcmMetaInfo *meta = ff.getMetaInfo();
  // validateMetaInfo takes the SOP UIDs from the data set (which is never written here, only the meta header).
  DcmDataset *ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, req->AffectedSOPClassUID);
  ds->putAndInsertString(DCM_SOPInstanceUID, req->AffectedSOPInstanceUID);
  meta->putAndInsertString(DCM_SourceApplicationEntityTitle, assoc->params->DULparams.callingAPTitle);
  c = ff.validateMetaInfo(xfer.getXfer());
  if (c.bad()) return c;
  meta->transferInit();
  c = meta->write(out, META_HEADER_DEFAULT_TRANSFERSYNTAX, EET_ExplicitLength, NULL);
  meta->transferEnd();
  return c;
}

void set_comment(char *comment, size_t len, const char *text) { snprintf(comment, len, "%s", text); }

double now_ms() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int flush_received(const rcy_dicom_received *in) { return static_cast<Spool *>(in->flush_ctx)->flush(); }

}  // namespace

void disable_nagle() { setenv("TCP_NODELAY", "1", 1); }

OFCondition handle_store(T_ASC_Association *assoc, T_ASC_PresentationContextID presID, T_DIMSE_C_StoreRQ *req,
                         Spool &spool, int timeout_s, unsigned *status_out) {
  unsigned status = RCY_DICOM_STATUS_OUT_OF_RESOURCES;
  char comment[RCY_DICOM_COMMENT_MAX] = "";
  OFCondition net = EC_Normal;
  Spool::Timings &tm = spool.timings;
  double t0 = now_ms(), t1 = t0, t2 = t0, t_last = t0, t_sent = t0;
  if (spool.last_response_at_ms > 0) tm.waiting_ms += t0 - spool.last_response_at_ms;
  int e = spool.open_next();
  if (e) {
    rcy_log(RCY_LOG_ERROR, "dicom", "cannot create a temporary file for SOP Instance %s: %s",
            req->AffectedSOPInstanceUID, strerror(e));
    set_comment(comment, sizeof comment, "storage unavailable");
    DIC_UL bytes = 0, pdvs = 0;
    net = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout_s, &bytes, &pdvs);
  } else {
    T_ASC_PresentationContext pcx;
    const char *ts = ASC_findAcceptedPresentationContext(assoc->params, presID, &pcx).good()
                         ? pcx.acceptedTransferSyntax
                         : UID_LittleEndianExplicitTransferSyntax;
    NestingScanner guard = NestingScanner::for_transfer_syntax(ts);
    SpoolConsumer *consumer = new SpoolConsumer(&spool, &guard);
    {
      SpoolStream stream(consumer);
      OFCondition meta = write_meta(stream, assoc, presID, req);
      consumer->set_data_start((uint64_t)stream.tell());
      T_ASC_PresentationContextID data_pc = presID;
      net = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout_s, &data_pc, &stream, NULL, NULL);
      stream.flush();
      if (net.good() && meta.good()) {
        t_last = now_ms();
        spool.finish_writing();
        t1 = now_ms();
        rcy_dicom_received in;
        memset(&in, 0, sizeof in);
        in.temp_path = spool.path();
        in.sop_class_uid = req->AffectedSOPClassUID;
        in.sop_instance_uid = req->AffectedSOPInstanceUID;
        in.size_bytes = spool.size();
        // sha256_hex stays empty: not hashed on the critical path (the pipeline hashes after the Success)
        in.write_errno = spool.error();
        in.flush = flush_received;
        in.flush_ctx = &spool;
        if (guard.refused()) {
          in.refusal = guard.too_deep() ? "data set nested deeper than 64 sequences" : "malformed sequence structure";
          rcy_log(RCY_LOG_WARN, "dicom", "SOP Instance %s from calling AE %s refused before parsing: %s",
                  req->AffectedSOPInstanceUID, assoc->params->DULparams.callingAPTitle, guard.reason());
        }
        status = spool.handlers()->store(spool.assoc_ctx(), &in, comment, sizeof comment);
        t2 = now_ms();
        if (in.refusal && status != RCY_DICOM_STATUS_CANNOT_UNDERSTAND) {
          // The contract: a refused data set is never parsed nor stored, whatever the store callback says.
          status = RCY_DICOM_STATUS_CANNOT_UNDERSTAND;
          set_comment(comment, sizeof comment, in.refusal);
        }
        if (status == RCY_DICOM_STATUS_SUCCESS && !spool.flushed()) {
          // The contract is that Success means durable: a store callback that never flushed breaks it.
          rcy_log(RCY_LOG_ERROR, "dicom", "store handler answered Success for %s without flushing it: refused",
                  req->AffectedSOPInstanceUID);
          status = RCY_DICOM_STATUS_OUT_OF_RESOURCES;
          set_comment(comment, sizeof comment, "storage error");
        }
      } else if (meta.bad()) {
        set_comment(comment, sizeof comment, "cannot write file meta header");
      }
    }
    delete consumer;
  }
  // The temporary file is closed (and removed, unless the store callback renamed it) after the response:
  // two system calls fewer between the store callback and the Success.
  if (net.bad()) {
    if (!e) spool.close_file();
    return net;  // association broken mid data set: no response possible
  }
  T_DIMSE_C_StoreRSP rsp;
  memset(&rsp, 0, sizeof rsp);
  rsp.MessageIDBeingRespondedTo = req->MessageID;
  rsp.DimseStatus = (DIC_US)status;
  rsp.DataSetType = DIMSE_DATASET_NULL;
  OFStandard::strlcpy(rsp.AffectedSOPClassUID, req->AffectedSOPClassUID, sizeof rsp.AffectedSOPClassUID);
  OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req->AffectedSOPInstanceUID, sizeof rsp.AffectedSOPInstanceUID);
  rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
  DcmDataset detail;
  if (status != RCY_DICOM_STATUS_SUCCESS && comment[0]) detail.putAndInsertString(DCM_ErrorComment, comment);
  if (status_out) *status_out = status;
  OFCondition sent = DIMSE_sendStoreResponse(assoc, presID, req, &rsp,
                                             (status != RCY_DICOM_STATUS_SUCCESS && comment[0]) ? &detail : NULL);
  if (tm.staged) t_sent = now_ms();
  if (!e) spool.close_file();
  if (sent.good()) spool.prepare_next();  // while the peer prepares its next request
  double t3 = now_ms();
  if (t1 > t0) {  // a data set was received and stored
    tm.n++;
    tm.receiving_ms += t1 - t0;
    tm.storing_ms += t2 - t1;
    tm.answering_ms += t3 - t2;
    if (tm.staged) {
      tm.finish.push_back(t1 - t_last);
      tm.store.push_back(t2 - t1);
      tm.respond.push_back(t_sent - t2);
      tm.prepare.push_back(t3 - t_sent);
    }
  }
  spool.last_response_at_ms = t3;
  return sent;
}

}  // namespace rcy_net
