// Receiving one C-STORE data set: streamed from the network straight into a temporary file (bounded memory:
// DCMTK hands over PDV fragments, never the whole data set), SHA-256 computed on the way, then handed to the
// store callback whose status is sent back. A write failure (disk full) does not break the association: the
// rest of the data set is drained and the request answered Out of Resources.
#include "net_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "recistry/log.h"

namespace rcy_net {
namespace {

// A DcmConsumer writing to a file descriptor through a 256 KB buffer and hashing every byte. It never reports
// failure to DCMTK (so the association keeps reading the data set); the first errno is kept for the caller.
class HashingFileConsumer : public DcmConsumer {
 public:
  explicit HashingFileConsumer(int fd) : fd_(fd), ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), NULL) != 1) errno_ = ENOMEM;
  }
  ~HashingFileConsumer() override { EVP_MD_CTX_free(ctx_); }
  OFBool good() const override { return OFTrue; }
  OFCondition status() const override { return EC_Normal; }
  OFBool isFlushed() const override { return used_ == 0; }
  offile_off_t avail() const override { return (offile_off_t)1 << 30; }
  offile_off_t write(const void *buf, offile_off_t len) override {
    const unsigned char *p = static_cast<const unsigned char *>(buf);
    if (ctx_ && !errno_) EVP_DigestUpdate(ctx_, p, (size_t)len);
    size_ += (uint64_t)len;
    offile_off_t left = len;
    while (left > 0) {
      size_t n = sizeof buf_ - used_;
      if ((size_t)left < n) n = (size_t)left;
      memcpy(buf_ + used_, p, n);
      used_ += n;
      p += n;
      left -= (offile_off_t)n;
      if (used_ == sizeof buf_) flush();
    }
    return len;
  }
  void flush() override {
    size_t off = 0;
    while (off < used_ && !errno_) {
      ssize_t w = ::write(fd_, buf_ + off, used_ - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        errno_ = errno;
      } else {
        off += (size_t)w;
      }
    }
    // Start writeback of what we just wrote while the rest still streams in: the fdatasync that makes the
    // instance durable then has little left to flush (advisory; errors surface at fdatasync).
    if (!errno_ && used_) sync_file_range(fd_, (off64_t)written_, (off64_t)used_, SYNC_FILE_RANGE_WRITE);
    written_ += used_;
    used_ = 0;
  }
  int error() const { return errno_; }
  uint64_t size() const { return size_; }
  void hex_digest(char out[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    out[0] = '\0';
    if (!ctx_ || EVP_DigestFinal_ex(ctx_, md, &n) != 1 || n != 32) return;
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  }

 private:
  int fd_;
  EVP_MD_CTX *ctx_;
  int errno_ = 0;
  uint64_t size_ = 0;
  uint64_t written_ = 0;
  size_t used_ = 0;
  unsigned char buf_[256 * 1024];
};

class HashingFileStream : public DcmOutputStream {
 public:
  explicit HashingFileStream(HashingFileConsumer *c) : DcmOutputStream(c) {}
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

}  // namespace

void disable_nagle() { setenv("TCP_NODELAY", "1", 1); }

OFCondition handle_store(T_ASC_Association *assoc, T_ASC_PresentationContextID presID, T_DIMSE_C_StoreRQ *req,
                         const rcy_dicom_scp_handlers *h, void *assoc_ctx, int timeout_s, unsigned *status_out) {
  unsigned status = RCY_DICOM_STATUS_OUT_OF_RESOURCES;
  char comment[RCY_DICOM_COMMENT_MAX] = "";
  char path[4096] = "";
  OFCondition net = EC_Normal;
  int fd = -1;
  if (h->temp_path(assoc_ctx, path, sizeof path) != 0 ||
      (fd = ::open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
    rcy_log(RCY_LOG_ERROR, "dicom", "cannot create a temporary file for SOP Instance %s: %s",
            req->AffectedSOPInstanceUID, strerror(errno));
    set_comment(comment, sizeof comment, "storage unavailable");
    DIC_UL bytes = 0, pdvs = 0;
    net = DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, timeout_s, &bytes, &pdvs);
  } else {
    HashingFileConsumer *consumer = new HashingFileConsumer(fd);
    {
      HashingFileStream stream(consumer);
      OFCondition meta = write_meta(stream, assoc, presID, req);
      T_ASC_PresentationContextID data_pc = presID;
      net = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, timeout_s, &data_pc, &stream, NULL, NULL);
      stream.flush();
      consumer->flush();
      if (net.good() && meta.good()) {
        rcy_dicom_received in;
        memset(&in, 0, sizeof in);
        in.temp_path = path;
        in.fd = fd;
        in.sop_class_uid = req->AffectedSOPClassUID;
        in.sop_instance_uid = req->AffectedSOPInstanceUID;
        in.size_bytes = consumer->size();
        consumer->hex_digest(in.sha256_hex);
        in.write_errno = consumer->error();
        status = h->store(assoc_ctx, &in, comment, sizeof comment);
      } else if (meta.bad()) {
        set_comment(comment, sizeof comment, "cannot write file meta header");
      }
    }
    delete consumer;
    ::close(fd);
    ::unlink(path);  // whatever the callee did not move away is not kept: no partial file survives
  }
  if (net.bad()) return net;  // association broken mid data set: no response possible
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
  return DIMSE_sendStoreResponse(assoc, presID, req, &rsp,
                                 (status != RCY_DICOM_STATUS_SUCCESS && comment[0]) ? &detail : NULL);
}

}  // namespace rcy_net
