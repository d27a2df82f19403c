/* STOW-RS's way into the archive: a whole Part 10 file from the reader server, sent by a site account,
 * goes through exactly the pipeline a C-STORE to the daemon goes through (pipeline.c: checks, durable file,
 * committed row, group commit). What the SCP does before the pipeline is done here too: the nesting guard
 * before anything parses the bytes, the SOP class and transfer syntax among those the SCP accepts, the file
 * streamed to storage/.tmp with its SHA-256, removed afterwards unless the pipeline moved it. */
#include "ingest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rcy_ingest_receiver {
  const rcy_ingest_config *cfg;
  rcy_pipeline *pipe;
};

int rcy_ingest_receiver_open(rcy_ingest_receiver **out, const rcy_ingest_config *config, rcy_error *err) {
  *out = NULL;
  rcy_ingest_receiver *r = calloc(1, sizeof *r);
  if (!r) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  r->cfg = config;
  int rc = rcy_pipeline_open(&r->pipe, config, err);
  if (rc) {
    free(r);
    return rc;
  }
  *out = r;
  return RCY_OK;
}

void rcy_ingest_receiver_close(rcy_ingest_receiver *r) {
  if (!r) return;
  rcy_pipeline_close(r->pipe);
  free(r);
}

static int flush_fd(const rcy_dicom_received *in) {
  int fd = *(const int *)in->flush_ctx;
  return fdatasync(fd) == 0 ? 0 : errno;
}

static void refuse(rcy_ingest_file_result *out, unsigned status, const char *comment) {
  out->stored = 0;
  out->status = status;
  snprintf(out->comment, sizeof out->comment, "%s", comment);
}

/* What an association could have carried: a SOP class (ts 0) or a transfer syntax (ts 1) the SCP accepts. */
static int scp_accepts(int ts, const char *uid) {
  size_t n = 0;
  const rcy_dicom_uid_entry *e = ts ? rcy_dicom_scp_transfer_syntaxes(&n) : rcy_dicom_scp_sop_classes(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(e[i].uid, uid) == 0) return 1;
  return 0;
}

int rcy_ingest_receive_file(rcy_ingest_file_result *out, rcy_ingest_receiver *r, const char *site_id,
                            const char *study_uid, const void *bytes, size_t len, rcy_error *err) {
  memset(out, 0, sizeof *out);
  rcy_error why = {0};
  if (rcy_dicom_part10_guard(bytes, len, &why))
    return refuse(out, RCY_DICOM_STATUS_CANNOT_UNDERSTAND, "not a readable Part 10 file"), RCY_OK;
  char tmp[4096];
  if (rcy_pipeline_temp_path(r->pipe, tmp, sizeof tmp))
    return rcy_error_set(err, RCY_EINTERNAL, "temporary path too long");
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return refuse(out, RCY_DICOM_STATUS_OUT_OF_RESOURCES, "storage error"), RCY_OK;
  rcy_dicom_received in = {.temp_path = tmp, .size_bytes = len, .flush = flush_fd, .flush_ctx = &fd};
  for (size_t done = 0; done < len;) {
    ssize_t w = write(fd, (const char *)bytes + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      in.write_errno = w < 0 ? errno : EIO;
      break;
    }
    done += (size_t)w;
  }
  uint64_t size = 0;
  if (!in.write_errno && rcy_files_sha256(in.sha256_hex, &size, tmp, &why)) in.write_errno = EIO;
  /* The C-STORE request names the SOP class and instance; a file names them in its data set. */
  rcy_dicom_attrs *a = calloc(1, sizeof *a);
  int present[RCY_INGEST_PROFILE_MAX];
  if (!a) {
    close(fd);
    unlink(tmp);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  char own_site[RCY_DICOM_LO_MAX] = "", ts[RCY_DICOM_UID_MAX] = "";
  if (!in.write_errno && rcy_dicom_read_attrs(a, present, tmp, NULL, 0, &why) == RCY_OK) {
    snprintf(out->sop_class_uid, sizeof out->sop_class_uid, "%s", a->sop_class_uid);
    snprintf(out->sop_instance_uid, sizeof out->sop_instance_uid, "%s", a->sop_instance_uid);
    snprintf(out->study_uid, sizeof out->study_uid, "%s", a->study_uid);
    snprintf(own_site, sizeof own_site, "%s", a->site_id);
    snprintf(ts, sizeof ts, "%s", a->transfer_syntax_uid);
  }
  free(a);
  /* No sender's site (an administrator): the site the data set names, which must be configured. */
  const rcy_ingest_site *site = rcy_ingest_config_site(r->cfg, site_id ? site_id : own_site);
  in.sop_class_uid = out->sop_class_uid;
  in.sop_instance_uid = out->sop_instance_uid;
  if (!site && !in.write_errno && out->sop_instance_uid[0])
    refuse(out, RCY_DICOM_STATUS_NOT_AUTHORIZED, "sending site not configured");
  else if (in.write_errno)
    refuse(out, RCY_DICOM_STATUS_OUT_OF_RESOURCES,
           in.write_errno == ENOSPC ? "storage full" : "storage error");
  else if (!out->sop_instance_uid[0])
    refuse(out, RCY_DICOM_STATUS_CANNOT_UNDERSTAND, "not a readable DICOM data set");
  else if (!scp_accepts(0, out->sop_class_uid))
    refuse(out, 0x0122u, "SOP class not supported");
  else if (!scp_accepts(1, ts))
    refuse(out, RCY_DICOM_STATUS_CANNOT_UNDERSTAND, "transfer syntax not accepted");
  else if (study_uid && strcmp(study_uid, out->study_uid) != 0)
    refuse(out, RCY_DICOM_STATUS_DATASET_MISMATCH, "instance of another study than the URL's");
  else {
    rcy_store_outcome o;
    rcy_pipeline_store(&o, r->pipe, site, &in);
    out->stored = o.result == RCY_STORED || o.result == RCY_DUPLICATE;
    out->quarantined = o.result == RCY_QUARANTINED;
    out->status = o.status;
    snprintf(out->comment, sizeof out->comment, "%s", o.comment);
  }
  close(fd);
  unlink(tmp); /* still there unless the pipeline moved it to its final name */
  return RCY_OK;
}
