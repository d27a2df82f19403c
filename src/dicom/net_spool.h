// The spool of an association: where its C-STORE data sets are written, hashed and flushed.
//
// Why it is more than a file: storescu waits for each response, so on one association everything done
// between the last byte of a data set and its response adds to every instance. So the data is written in
// chunks as it arrives, each chunk's writeback started at once (the flush then has little left to wait
// for), and the next temporary file is created right after a response is sent,
// while the peer prepares its next request (creating a file costs an inode allocation that can wait behind
// the flushes: 0.3-0.4 ms measured on the dev VM). It is not hashed here: SHA-256 of a 512 KB CT costs
// 0.3 ms of the association's thread, on every instance's critical path; the ingest pipeline hashes the
// stored file after the Success, in the background (src/ingest/hasher.c).
//
// Measured and rejected on the 2-core VM: a helper thread per association (to hash and write, or to flush
// while the instance is checked) lost more in thread hand-offs and CPU migrations than it overlapped. The
// flush (flush(), fdatasync) may now be called by the ingest pipeline's shared flusher threads while the
// association's thread checks the instance (src/ingest/flusher.c): the store callback waits for it, so it
// never runs concurrently with the other calls below. The last chunk's writeback is left to that flush.
//
// Life of one data set: open_next() → append()… → finish_writing() → [store callback: flush()] →
// close_file() → [response sent] → prepare_next(). Not thread-safe: one association's thread uses it.
#ifndef RECISTRY_DICOM_NET_SPOOL_H
#define RECISTRY_DICOM_NET_SPOOL_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "recistry/dicom.h"

namespace rcy_net {

class Spool {
 public:
  Spool(const rcy_dicom_scp_handlers *handlers, void *assoc_ctx);
  ~Spool();  // removes the temporary file made ahead and not used
  Spool(const Spool &) = delete;
  Spool &operator=(const Spool &) = delete;

  const rcy_dicom_scp_handlers *handlers() const { return h_; }
  void *assoc_ctx() const { return actx_; }

  // Creates the temporary file for the next data set now, if not done yet (after a response is sent).
  void prepare_next();
  // The temporary file for the data set about to arrive. 0, or the errno of its creation.
  int open_next();
  const char *path() const { return path_; }

  // Data of the current data set, in order. Never fails: a write error is kept and reported by error().
  void append(const void *data, size_t len);
  // All data given: writes what is buffered.
  void finish_writing();
  uint64_t size() const { return size_; }
  int error() const { return write_errno_; }  // first write errno, 0 if none
  // Makes the data durable (fdatasync): 0, or its errno. The SCP refuses a Success answered without it.
  int flush();
  bool flushed() const { return flushed_; }  // flush() succeeded for the current data set
  // Done with the data set: closes and removes the temporary file (whatever the store callback did not
  // rename away: no partial file survives).
  void close_file();

  // Where an association's time went, summed over its C-STORE requests (milliseconds), for the log line
  // at its end: waiting = from a response to the next request (the peer's side), receiving = the data set,
  // storing = the store callback (checks, flush, index), answering = sending the response and creating
  // the next temporary file.
  struct Timings {
    long n = 0;
    double waiting_ms = 0, receiving_ms = 0, storing_ms = 0, answering_ms = 0;
    // Per instance, only with RECISTRY_STAGE_TIMES set (medians in the association's log line): last byte
    // received -> last chunk written, store callback, response sent, next temporary file made.
    bool staged = getenv("RECISTRY_STAGE_TIMES") != nullptr;
    std::vector<double> finish, store, respond, prepare;
  };
  Timings timings;
  double last_response_at_ms = 0;  // monotonic clock; 0 before the first response

 private:
  void write_chunk(const unsigned char *buf, size_t len, bool start_writeback);

  const rcy_dicom_scp_handlers *h_;
  void *actx_;
  unsigned char *buf_;  // the chunk being filled
  size_t used_ = 0;
  // The file being received.
  char path_[4096] = "";
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t written_ = 0;
  int write_errno_ = 0;
  bool flushed_ = false;
  // The next temporary file, made ahead.
  bool next_ready_ = false;
  int next_fd_ = -1;
  int next_errno_ = 0;
  char next_path_[4096] = "";
};

}  // namespace rcy_net

#endif
