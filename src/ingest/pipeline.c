/* Receive → check → store → index, with group commit. Association threads start their instance's flush
 * (fdatasync, on the flushers: flusher.c), check the instance on their own while it runs (reading the
 * file the SCP streamed to storage/.tmp), then queue it; whichever thread finds no batch in progress
 * becomes the leader and commits everything queued so far: duplicate and ownership checks, then for each
 * file once its own flush returned 0 the rename to the final name, one fsync per directory (on the
 * flushers, while the index rows are inserted), and one index transaction committed only once every
 * directory fsync returned 0. Every queued thread is answered only after that commit, so Success always
 * means durable file (data flushed, then renamed, then its directory flushed) + committed row; the flushes
 * only overlap CPU work that does not depend on them, and concurrent associations share the directory
 * flushes and the transaction. The SHA-256 is not on that path: rows are committed with a pending hash
 * that the hasher (hasher.c) computes from the stored file after the Success and writes in the next
 * transaction; only a duplicate check or a quarantine name, which need it, hash at once. Nor is the index's
 * checkpoint (SQLite): the writer's commits leave it to a checkpointer thread on a connection of its own. */
#include "ingest_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recistry/log.h"
#include "recistry/path.h"

/* Test hooks: when FAIL_ENV is set, committing a file fails as if the disk were full; DELAY_ENV (ms) makes
 * every batch wait before it starts, so that a test can queue instances into one batch; FAIL_DIR_ENV makes
 * every directory fsync of a batch fail (EIO), after the commit on SQLite (commit_early); LATE_ENV keeps
 * the strict order on SQLite too (commit after the directory fsyncs, as on PostgreSQL). */
#define FAIL_ENV "RECISTRY_TEST_FAIL_STORAGE"
#define DELAY_ENV "RECISTRY_TEST_COMMIT_DELAY_MS"
#define FAIL_DIR_ENV "RECISTRY_TEST_FAIL_DIR_SYNC"
#define LATE_ENV "RECISTRY_TEST_COMMIT_LATE"

typedef struct {
  const rcy_ingest_site *site;
  regex_t re;
} site_re;

typedef enum { JOB_STORE, JOB_QUARANTINE } job_kind;

typedef struct job {
  job_kind kind;
  const rcy_dicom_received *in;
  rcy_flush_task *flush; /* the received file's fdatasync, started by its association thread on arrival */
  const rcy_dicom_attrs *a;
  const rcy_ingest_site *site;
  const char *subject; /* only when it matched the site pattern */
  const char *reason;  /* quarantine reason */
  char rel[600];       /* final path relative to storage/ or quarantine/ */
  char full[4096];
  int write;           /* phase 2: this job's file must be committed */
  int renamed;
  rcy_flush_task dir_sync; /* phase 2b: the first renamed job of each directory has that directory fsync'ed */
  rcy_error sync_err;
  char sha[65];        /* SHA-256 of the received file, "" until something needs it */
  struct job *dup_of;  /* answered as a copy of this earlier job of the batch: fails if that one fails */
  int twin_hashed;     /* a duplicate whose pending twin's hash this batch records: fails if it rolls back */
  rcy_store_outcome *out;
  int done;
  struct job *next;
  double t_in_ms, t_parsed_ms, t_queued_ms, t_committed_ms; /* RECISTRY_STAGE_TIMES only (stage_times.c) */
} job;

struct rcy_pipeline {
  const rcy_ingest_config *cfg;
  rcy_store *db;
  char *storage_dir, *tmp_dir, *quarantine_dir;
  site_re *sites;
  size_t n_sites;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int committing;
  job *head, *tail;
  atomic_ulong counter;
  rcy_hasher *hasher;
  rcy_flusher *flusher;
  long pid;      /* of this process, and the host's name: in every temporary file's name, so known once */
  char host[256];
  /* The checkpointer (SQLite only): its own connection, woken every CHECKPOINT_POLL_MS; counts the
   * instances committed (committed_n) to checkpoint about as often as SQLite would have. */
  rcy_store *ckpt_db;
  pthread_t ckpt_thread;
  int ckpt_started, ckpt_stop;
  pthread_mutex_t ckpt_mu;
  pthread_cond_t ckpt_cv;
  atomic_ulong committed_n;
  int commit_early; /* SQLite: a batch of pending rows is committed while its directories are flushed */
};

/* A checkpoint after every CHECKPOINT_INSTANCES instances committed (about SQLite's own 1,000 WAL pages
 * at 7-8 pages per instance: no more checkpoints, so no more index flushes competing with the files'
 * flushes, than before), or as soon as the writer has been idle for a poll (a quiet daemon's index is
 * soon flushed whole). */
#define CHECKPOINT_INSTANCES 128
#define CHECKPOINT_POLL_MS 100

/* The writer's checkpoints, off its critical path: a checkpoint flushes the WAL, copies it into the index
 * and flushes the index, 20-60 ms here, which the commit crossing SQLite's threshold would otherwise do
 * before its instances are answered. Durability is unchanged: a commit is in the WAL (and survives a crash
 * of the process) when COMMIT returns, as before; the checkpoint is what makes it survive power loss, as
 * before, only on another thread (rcy_archive_writer_sync in store.h: the files are durable first and
 * start-up recovery re-indexes them). */
static void *checkpointer(void *arg) {
  rcy_pipeline *p = arg;
  unsigned long seen = atomic_load(&p->committed_n), last = seen;
  pthread_mutex_lock(&p->ckpt_mu);
  while (!p->ckpt_stop) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += CHECKPOINT_POLL_MS * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&p->ckpt_cv, &p->ckpt_mu, &t);
    unsigned long n = atomic_load(&p->committed_n);
    int idle = n == last;
    last = n;
    if (p->ckpt_stop || n == seen || (!idle && n - seen < CHECKPOINT_INSTANCES)) continue;
    seen = n;
    pthread_mutex_unlock(&p->ckpt_mu);
    rcy_error err = {0};
    if (rcy_archive_checkpoint(p->ckpt_db, &err))
      rcy_log(RCY_LOG_WARN, "ingest", "index checkpoint failed (the writer's backstop will do it): %s", err.message);
    pthread_mutex_lock(&p->ckpt_mu);
  }
  pthread_mutex_unlock(&p->ckpt_mu);
  return NULL;
}

static int start_checkpointer(rcy_pipeline *p, rcy_error *err) {
  int deferred;
  int rc = rcy_archive_writer_defer_checkpoints(p->db, &deferred, err);
  if (rc || !deferred) return rc;
  rcy_store_location where = rcy_ingest_config_location(p->cfg);
  if ((rc = rcy_store_open_at(&p->ckpt_db, &where, err))) return rc;
  if (pthread_create(&p->ckpt_thread, NULL, checkpointer, p) != 0)
    return rcy_error_set(err, RCY_ENOMEM, "cannot start the index checkpointer thread");
  p->ckpt_started = 1;
  return RCY_OK;
}

static void stop_checkpointer(rcy_pipeline *p) {
  if (p->ckpt_started) {
    pthread_mutex_lock(&p->ckpt_mu);
    p->ckpt_stop = 1;
    pthread_cond_signal(&p->ckpt_cv);
    pthread_mutex_unlock(&p->ckpt_mu);
    pthread_join(p->ckpt_thread, NULL);
    p->ckpt_started = 0;
  }
  rcy_store_close(p->ckpt_db);
  p->ckpt_db = NULL;
}

static int write_hashes(void *ctx);

int rcy_pipeline_open(rcy_pipeline **out, const rcy_ingest_config *cfg, rcy_error *err) {
  *out = NULL;
  rcy_pipeline *p = calloc(1, sizeof *p);
  if (!p) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  p->cfg = cfg;
  (void)rcy_stage_on(); /* read the environment once, before any thread may ask */
  p->pid = (long)getpid();
  rcy_ingest_host_name(p->host, sizeof p->host);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  pthread_mutex_init(&p->ckpt_mu, NULL);
  pthread_cond_init(&p->ckpt_cv, NULL);
  rcy_store_location where = rcy_ingest_config_location(cfg);
  int rc = rcy_store_open_at(&p->db, &where, err);
  if (!rc) rc = rcy_archive_writer_sync(p->db, err);
  if (!rc) rc = start_checkpointer(p, err);
  if (!rc) rc = rcy_hasher_start(&p->hasher, write_hashes, p, err);
  /* Enough flushers for four associations' file flushes and their directories' fsyncs at once (four sites
   * sending); a task no flusher has started is run by its owner when it waits. */
  if (!rc) rc = rcy_flusher_start(&p->flusher, 8, err);
  if (rc) goto fail;
  p->commit_early = strcmp(rcy_store_backend(p->db), "sqlite") == 0 && !getenv(LATE_ENV);
  p->storage_dir = strdup(rcy_store_storage_dir(p->db));
  p->tmp_dir = p->storage_dir ? rcy_path_join(p->storage_dir, ".tmp") : NULL;
  p->quarantine_dir = rcy_path_join(cfg->archive, "quarantine");
  p->sites = calloc(cfg->n_sites, sizeof *p->sites);
  if (!p->storage_dir || !p->tmp_dir || !p->quarantine_dir || !p->sites) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < cfg->n_sites; i++) {
    if (regcomp(&p->sites[i].re, cfg->sites[i].subject_pattern, REG_EXTENDED | REG_NOSUB) != 0) {
      rc = rcy_error_set(err, RCY_EINVAL, "[site:%s] subject_pattern does not compile", cfg->sites[i].id);
      goto fail;
    }
    p->sites[i].site = &cfg->sites[i];
    p->n_sites++;
  }
  if ((mkdir(p->tmp_dir, 0750) != 0 && errno != EEXIST) || (mkdir(p->quarantine_dir, 0750) != 0 && errno != EEXIST)) {
    rc = rcy_error_set(err, RCY_EIO, "cannot create %s or %s: %s", p->tmp_dir, p->quarantine_dir, strerror(errno));
    goto fail;
  }
  *out = p;
  return RCY_OK;
fail:
  rcy_pipeline_close(p);
  return rc;
}

void rcy_pipeline_close(rcy_pipeline *p) {
  if (!p) return;
  rcy_stage_report();
  rcy_hasher_stop(p->hasher); /* before the index closes: it writes what it hashed */
  rcy_flusher_stop(p->flusher);
  stop_checkpointer(p);
  for (size_t i = 0; i < p->n_sites; i++) regfree(&p->sites[i].re);
  free(p->sites);
  rcy_store_close(p->db);
  free(p->storage_dir);
  free(p->tmp_dir);
  free(p->quarantine_dir);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->ckpt_mu);
  pthread_cond_destroy(&p->ckpt_cv);
  free(p);
}

const regex_t *rcy_pipeline_subject_re(rcy_pipeline *p, const rcy_ingest_site *site) {
  for (size_t i = 0; i < p->n_sites; i++)
    if (p->sites[i].site == site) return &p->sites[i].re;
  return NULL;
}

/* PID-N-HOST.part: several nodes may share the storage folder, and each one's start-up recovery removes
 * only the temporary files of this host's dead processes (recover.c). */
int rcy_pipeline_temp_path(rcy_pipeline *p, char *path, size_t len) {
  unsigned long n = atomic_fetch_add(&p->counter, 1);
  int w = snprintf(path, len, "%s/%ld-%lu-%s.part", p->tmp_dir, p->pid, n, p->host);
  return (w < 0 || (size_t)w >= len) ? RCY_EINVAL : RCY_OK;
}

void rcy_ingest_safe_component(char *out, size_t cap, const char *in) {
  size_t i = 0;
  for (; in[i] && i + 1 < cap; i++) {
    char c = in[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             (c == '.' && i > 0);
    out[i] = ok ? c : '_';
  }
  out[i] = '\0';
}

static void set_outcome(rcy_store_outcome *o, rcy_store_result r, unsigned status, const char *comment,
                        const char *reason) {
  o->result = r;
  o->status = status;
  snprintf(o->comment, sizeof o->comment, "%s", comment ? comment : "");
  snprintf(o->reason, sizeof o->reason, "%s", reason ? reason : (comment ? comment : ""));
}

static void fail_job(job *j, int code, const char *why) {
  set_outcome(j->out, RCY_FAILED, RCY_DICOM_STATUS_OUT_OF_RESOURCES,
              code == RCY_ENOSPC ? "storage full" : "storage error", why);
  j->write = 0;
}

void rcy_ingest_row_from_attrs(rcy_archive_instance *r, char *orientation, size_t olen, const rcy_dicom_attrs *a,
                               const char *site_id, const char *subject_id, const char *rel, uint64_t size_bytes,
                               const char *sha256, const char *received_at) {
  memset(r, 0, sizeof *r);
  r->site_id = site_id;
  r->subject_id = subject_id;
  r->timepoint = a->timepoint;
  r->study_date = a->study_date[0] ? a->study_date : NULL;
  r->study_uid = a->study_uid;
  r->series_uid = a->series_uid;
  r->sop_instance_uid = a->sop_instance_uid;
  r->sop_class_uid = a->sop_class_uid;
  r->transfer_syntax_uid = a->transfer_syntax_uid;
  r->modality = a->modality;
  r->series_description = a->series_description;
  r->frame_of_reference_uid = a->frame_of_reference_uid;
  r->has_series_number = a->has_series_number;
  r->series_number = a->series_number;
  r->has_instance_number = a->has_instance_number;
  r->instance_number = a->instance_number;
  r->has_rows = a->has_rows;
  r->rows = a->rows;
  r->columns = a->columns;
  r->has_pixel_spacing = a->has_pixel_spacing;
  r->pixel_spacing_row_mm = a->pixel_spacing_row_mm;
  r->pixel_spacing_col_mm = a->pixel_spacing_col_mm;
  r->has_slice_thickness = a->has_slice_thickness;
  r->slice_thickness_mm = a->slice_thickness_mm;
  r->has_position = a->has_position;
  memcpy(r->position_mm, a->position_mm, sizeof r->position_mm);
  if (a->has_orientation) {
    snprintf(orientation, olen, "%.9g\\%.9g\\%.9g\\%.9g\\%.9g\\%.9g", a->orientation[0], a->orientation[1],
             a->orientation[2], a->orientation[3], a->orientation[4], a->orientation[5]);
    r->orientation = orientation;
  }
  r->has_window = a->has_window;
  r->window_center = a->window_center;
  r->window_width = a->window_width;
  r->path = rel;
  r->size_bytes = size_bytes;
  r->sha256 = sha256;
  r->received_at = received_at;
}

/* The SHA-256 of the file a job received (hashed now if the SCP did not). */
static int job_sha(job *j, rcy_error *err) {
  if (j->sha[0]) return RCY_OK;
  if (j->in->sha256_hex[0]) {
    memcpy(j->sha, j->in->sha256_hex, sizeof j->sha);
    return RCY_OK;
  }
  int rc = rcy_files_sha256(j->sha, NULL, j->in->temp_path, err);
  if (rc) j->sha[0] = '\0';
  return rc;
}

/* Phase 1 for a store job: duplicates (in the index or earlier in this batch) and the ownership of its study
 * and series. Only a SOP Instance UID seen before needs the hashes: they are computed then (a stored
 * twin's too, if still pending). */
static int decide(rcy_pipeline *p, job *j, job *batch, rcy_error *err) {
  const rcy_dicom_attrs *a = j->a;
  for (job *o = batch; o != j; o = o->next) {
    if (o->kind != JOB_STORE || !o->write || strcmp(o->a->sop_instance_uid, a->sop_instance_uid) != 0) continue;
    int rc = job_sha(o, err);
    if (!rc) rc = job_sha(j, err);
    if (rc) return rc;
    if (strcmp(o->sha, j->sha) == 0) {
      set_outcome(j->out, RCY_DUPLICATE, RCY_DICOM_STATUS_SUCCESS, NULL, "duplicate, identical content");
      j->dup_of = o;
    } else
      set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_DUPLICATE_CONFLICT,
                  "SOP Instance UID already stored, different content", NULL);
    return RCY_OK;
  }
  int found;
  uint64_t size;
  char sha[65], path[4096];
  int rc = rcy_archive_find_instance(&found, path, sizeof path, &size, sha, p->db, a->sop_instance_uid, err);
  if (rc) return rc;
  if (found) {
    char *twin = NULL; /* the stored file, when its row is still pending */
    if (size == j->in->size_bytes && strcmp(sha, RCY_ARCHIVE_SHA256_PENDING) == 0) {
      twin = rcy_path_join(p->storage_dir, path);
      rc = twin ? rcy_files_sha256(sha, NULL, twin, err) : rcy_error_set(err, RCY_ENOMEM, "out of memory");
    }
    if (!rc && size == j->in->size_bytes) rc = job_sha(j, err);
    /* A pending twin may be another process's, committed before its directory was flushed (commit_early):
     * before a Success rests on it, its directory entry is made durable here (its data was flushed before
     * its rename) and its row taken off pending in this transaction, which tells that writer, should its
     * own directory fsync fail, to keep row and file (undo_committed). Rare: a resend within milliseconds
     * of the first reception, or after a crash. */
    if (!rc && twin && strcmp(sha, j->sha) == 0) rc = rcy_files_sync_dir_of(twin, err);
    if (!rc && twin && strcmp(sha, j->sha) == 0) rc = rcy_archive_set_sha256(p->db, a->sop_instance_uid, sha, err);
    if (!rc && twin && strcmp(sha, j->sha) == 0) j->twin_hashed = 1;
    free(twin);
    if (rc) return rc;
    if (size == j->in->size_bytes && strcmp(sha, j->sha) == 0)
      set_outcome(j->out, RCY_DUPLICATE, RCY_DICOM_STATUS_SUCCESS, NULL, "duplicate, identical content");
    else
      set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_DUPLICATE_CONFLICT,
                  "SOP Instance UID already stored, different content", NULL);
    return RCY_OK;
  }
  /* Every UID level belongs to one site, subject and parent: checked against the jobs of this batch that will
   * be written before it, then against the index (rcy_archive_add_instance enforces it again). */
  for (job *o = batch; o != j; o = o->next) {
    if (o->kind != JOB_STORE || !o->write) continue;
    if (strcmp(o->a->study_uid, a->study_uid) == 0 &&
        (o->site != j->site || strcmp(o->subject, j->subject) != 0)) {
      set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED, "study belongs to another site or subject",
                  "Study Instance UID claimed by another site or subject earlier in the same batch");
      return RCY_OK;
    }
    if (strcmp(o->a->series_uid, a->series_uid) == 0 && strcmp(o->a->study_uid, a->study_uid) != 0) {
      set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED, "series belongs to another study",
                  "Series Instance UID claimed under another study earlier in the same batch");
      return RCY_OK;
    }
  }
  char site[65], subject[65];
  if ((rc = rcy_archive_find_study(&found, site, subject, p->db, a->study_uid, err))) return rc;
  if (found && strcmp(site, j->site->id) != 0) {
    set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED, "study belongs to another site", NULL);
    return RCY_OK;
  }
  if (found && strcmp(subject, j->subject) != 0) {
    set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED, "study is indexed under another subject",
                NULL);
    return RCY_OK;
  }
  char parent[RCY_DICOM_UID_MAX];
  if ((rc = rcy_archive_find_series(&found, parent, sizeof parent, p->db, a->series_uid, err))) return rc;
  if (found && strcmp(parent, a->study_uid) != 0) {
    /* The owning study is not named: it may be another site's. */
    set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED, "series belongs to another study",
                "Series Instance UID is indexed under another study");
    return RCY_OK;
  }
  j->write = 1;
  return RCY_OK;
}

static int same_dir(const job *a, const job *b) {
  const char *sa = strrchr(a->full, '/'), *sb = strrchr(b->full, '/');
  return sa - a->full == sb - b->full && strncmp(a->full, b->full, (size_t)(sa - a->full)) == 0;
}

static int sync_dir_task(void *ctx) {
  job *j = ctx;
  if (getenv(FAIL_DIR_ENV)) return rcy_error_set(&j->sync_err, RCY_EIO, "directory fsync: %s is set", FAIL_DIR_ENV);
  return rcy_files_sync_dir_of(j->full, &j->sync_err);
}

/* Starts one fsync per distinct directory of the batch's renamed files, on the flushers: concurrent
 * associations writing to different series flush their directories at the same time, and meanwhile the
 * leader inserts the index rows (which are committed only after wait_dirs returned 0). */
static void start_dir_syncs(rcy_pipeline *p, job *batch) {
  for (job *j = batch; j; j = j->next) {
    memset(&j->sync_err, 0, sizeof j->sync_err);
    j->dir_sync.finished_ms = 0;
    j->dir_sync.stage_run = RCY_STAGE_DIRSYNC;
    j->dir_sync.stage_handoff = RCY_STAGE_DIRSYNC_HANDOFF;
    if (!j->renamed) continue;
    int seen = 0;
    for (job *o = batch; o != j && !seen; o = o->next) seen = o->renamed && same_dir(o, j);
    if (!seen) rcy_flusher_submit(p->flusher, &j->dir_sync, sync_dir_task, j);
  }
}

/* Waits for every directory fsync start_dir_syncs started: 0, or the first failure (in err). */
static int wait_dirs(rcy_pipeline *p, job *batch, rcy_error *err) {
  int rc = RCY_OK;
  for (job *j = batch; j; j = j->next)
    if (rcy_flusher_wait(p->flusher, &j->dir_sync) && !rc) {
      *err = j->sync_err;
      rc = err->code ? err->code : RCY_EIO;
    }
  return rc;
}

static void undo_files(job *batch) {
  for (job *j = batch; j; j = j->next)
    if (j->renamed) {
      unlink(j->full);
      j->renamed = 0;
    }
}

/* 1 when every row the batch inserts is a stored instance with a pending SHA-256: the only rows
 * commit_early may commit before their directories are flushed (see there). */
static int batch_all_pending(const job *batch) {
  for (const job *j = batch; j; j = j->next)
    if (j->renamed && (j->kind != JOB_STORE || j->sha[0])) return 0;
  return 1;
}

/* The batch's stage times (RECISTRY_STAGE_TIMES), one sample per instance of the batch. */
typedef struct {
  double start, decided, flush_wait, rename, renamed, inserted, dirs, committed;
  int early; /* committed before the directory fsyncs returned (commit_early) */
} batch_times;

static void batch_times_add(const batch_times *t, job *batch) {
  if (!rcy_stage_on()) return;
  for (job *j = batch; j; j = j->next) {
    j->t_committed_ms = t->committed > t->dirs ? t->committed : t->dirs;
    if (!j->renamed || j->kind != JOB_STORE) continue;
    rcy_stage_add(RCY_STAGE_QUEUE, t->start - j->t_queued_ms);
    rcy_stage_add(RCY_STAGE_DECIDE, t->decided - t->start);
    rcy_stage_add(RCY_STAGE_FLUSH_WAIT, t->flush_wait);
    rcy_stage_add(RCY_STAGE_RENAME, t->rename);
    rcy_stage_add(RCY_STAGE_INSERT, t->inserted - t->renamed);
    if (t->early) {
      rcy_stage_add(RCY_STAGE_EARLY_COMMIT, t->committed - t->inserted);
      rcy_stage_add(RCY_STAGE_EARLY_DIR_WAIT, t->dirs - t->committed);
    } else {
      rcy_stage_add(RCY_STAGE_DIR_WAIT, t->dirs - t->inserted);
      rcy_stage_add(RCY_STAGE_COMMIT, t->committed - t->dirs);
    }
  }
  for (job *j = batch; j; j = j->next)
    if (j->dir_sync.finished_ms > 0) rcy_stage_add(RCY_STAGE_DIRSYNC_LATE, j->dir_sync.finished_ms - t->inserted);
}

/* A batch whose directory fsyncs failed after its rows were committed (commit_early): its rows are deleted
 * in a transaction of their own, then its files, and every instance is answered Out of Resources. A row
 * that is no longer pending is left, with its file: only a writer that made that file durable under its
 * name itself (another process's duplicate check, decide(); start-up recovery) takes a row off pending, and
 * it may have answered Success for it. If the rows cannot be deleted, the files stay too (no row of a
 * running daemon names a missing file): both are complete, and at the next start recovery flushes the
 * directory again before it hashes them (recover.c), or removes the rows whose file a crash took. */
static void undo_committed(rcy_pipeline *p, job *batch, const rcy_error *why) {
  rcy_error err = {0};
  int rc = rcy_store_begin(p->db, &err);
  for (job *j = batch; j && !rc; j = j->next) {
    int removed = 0;
    if (j->renamed) rc = rcy_archive_remove_pending(&removed, p->db, j->a->sop_instance_uid, &err);
    j->write = removed; /* reused: this job's row is gone, so its file goes too */
  }
  if (!rc) rc = rcy_store_commit(p->db, &err);
  else rcy_store_rollback(p->db);
  if (rc)
    rcy_log(RCY_LOG_ERROR, "ingest",
            "a directory fsync failed after its batch was committed, and the batch's rows cannot be deleted (%s): "
            "rows and files kept, pending; answered Out of Resources", err.message);
  for (job *j = batch; j; j = j->next) {
    if (!rc && j->renamed && j->write) unlink(j->full);
    j->renamed = 0;
    if (j->out->result == RCY_STORED) fail_job(j, why->code, why->message);
  }
}

/* SQLite: the batch's rows are committed while its directories' fsyncs run, and the Success waits for both.
 * DESIGN.md's rule -- Success only once the file is durable under its final name and its row committed --
 * holds as before. What this gives up is the stricter order "a row is committed only after its directory
 * fsync returned", which kept a durable row from ever naming a file whose directory entry is not durable.
 * Here it can: the writer's commit (synchronous=NORMAL) is durable once any checkpoint syncs the WAL, and
 * the checkpointer may do that at any moment; a power loss then leaves a row whose file is gone. That
 * window is closed by what such a row always is, not by timing:
 *   - it is pending (batch_all_pending: only stored instances whose hash comes after the Success), and a
 *     row leaves pending only once its file is durable under its name (the hasher: after the Success;
 *     another writer's duplicate check and start-up recovery: after flushing the directory themselves);
 *   - its file exists while the daemon runs (renamed before the commit; on failure undo_committed deletes
 *     the rows before the files), so a missing file is a crash's doing;
 *   - start-up recovery (recover.c) deletes the pending rows whose file is missing, with a log line. None
 *     was acknowledged: a Success comes only after the directory fsync returned.
 * A directory fsync that fails after the commit ends in Out of Resources and no row (undo_committed).
 * PostgreSQL keeps the strict order (p->commit_early is 0): there several nodes share the storage folder,
 * possibly over NFS, and one node's view of another's new files may lag, so recovery could not tell a
 * missing file from one it does not see yet. */
static void commit_early(rcy_pipeline *p, job *batch, rcy_hash_item *hashed, batch_times *bt) {
  rcy_error err = {0};
  int timing = bt->start > 0;
  int rc = rcy_store_commit(p->db, &err);
  if (timing) bt->committed = rcy_stage_now_ms();
  if (rc) rcy_store_rollback(p->db);
  rcy_error dir_err = {0};
  int dirs_rc = wait_dirs(p, batch, &dir_err); /* whatever the commit did: the tasks point into the jobs */
  if (timing) bt->dirs = rcy_stage_now_ms();
  if (rc) {
    rcy_hasher_give_back(p->hasher, hashed);
    undo_files(batch);
    for (job *j = batch; j; j = j->next)
      if (j->out->result == RCY_STORED || j->twin_hashed) fail_job(j, err.code, err.message);
    return;
  }
  rcy_hash_items_free(hashed); /* committed: they stay, whatever happens to this batch's rows */
  unsigned long n = 0;
  for (job *j = batch; j; j = j->next) n += j->renamed;
  atomic_fetch_add(&p->committed_n, n ? n : 1); /* the checkpointer's cue */
  bt->early = timing;
  if (dirs_rc) undo_committed(p, batch, &dir_err);
}

static void commit_batch(rcy_pipeline *p, job *batch) {
  rcy_error err = {0};
  batch_times bt = {0};
  int timing = rcy_stage_on();
  if (timing) bt.start = rcy_stage_now_ms();
  char now[21];
  rcy_archive_timestamp(now, -1);
  int injected = getenv(FAIL_ENV) != NULL;
  const char *delay = getenv(DELAY_ENV);
  if (delay) usleep((useconds_t)atoi(delay) * 1000);
  if (rcy_store_begin(p->db, &err)) {
    for (job *j = batch; j; j = j->next) fail_job(j, err.code, err.message);
    return;
  }
  /* Phase 1: decide. */
  for (job *j = batch; j; j = j->next) {
    if (j->kind == JOB_QUARANTINE) {
      struct stat sb;
      for (job *o = batch; o != j && !j->dup_of; o = o->next)
        if (o->kind == JOB_QUARANTINE && o->write && strcmp(o->full, j->full) == 0) j->dup_of = o;
      /* else the same content is already kept aside */
      j->write = !j->dup_of && stat(j->full, &sb) != 0;
      continue;
    }
    if (decide(p, j, batch, &err)) fail_job(j, err.code, err.message);
  }
  if (timing) bt.decided = rcy_stage_now_ms();
  /* Phase 2: make each file durable under its final name: renamed only once its own flush (started when it
   * arrived, running meanwhile) returned 0. */
  for (job *j = batch; j; j = j->next) {
    if (!j->write) continue;
    double w0 = timing ? rcy_stage_now_ms() : 0;
    int e = rcy_flusher_wait(p->flusher, j->flush);
    double w1 = timing ? rcy_stage_now_ms() : 0;
    bt.flush_wait += w1 - w0;
    if (e) {
      set_outcome(j->out, RCY_FAILED, RCY_DICOM_STATUS_OUT_OF_RESOURCES,
                  e == ENOSPC ? "storage full" : "storage error", strerror(e));
      j->write = 0;
      continue;
    }
    const char *base = j->kind == JOB_STORE ? p->storage_dir : p->quarantine_dir;
    int rc = injected ? rcy_error_set(&err, RCY_ENOSPC, "%s is set", FAIL_ENV)
                      : rcy_files_make_parents(base, j->rel, &err);
    if (!rc && rename(j->in->temp_path, j->full) != 0)
      rc = rcy_error_set(&err, errno == ENOSPC ? RCY_ENOSPC : RCY_EIO, "rename: %s", strerror(errno));
    if (rc) fail_job(j, rc, err.message);
    else j->renamed = 1;
    if (timing) bt.rename += rcy_stage_now_ms() - w1;
  }
  if (timing) bt.renamed = rcy_stage_now_ms();
  start_dir_syncs(p, batch);
  /* Phase 3: index rows, one transaction, inserted while the directories are flushed and committed only
   * once they are (below): a committed row always names a durable file. */
  for (job *j = batch; j; j = j->next) {
    if (!j->renamed) continue;
    int rc;
    if (j->kind == JOB_STORE) {
      rcy_archive_instance row;
      char orientation[160];
      rcy_ingest_row_from_attrs(&row, orientation, sizeof orientation, j->a, j->site->id, j->subject, j->rel,
                                j->in->size_bytes, j->sha[0] ? j->sha : RCY_ARCHIVE_SHA256_PENDING, now);
      rc = rcy_archive_add_instance(p->db, &row, &err);
      if (rc == RCY_EDENIED) { /* an owner or parent check decide() did not see: a refusal, not a failure */
        unlink(j->full);
        j->renamed = 0;
        j->write = 0;
        set_outcome(j->out, RCY_REFUSED, RCY_DICOM_STATUS_NOT_AUTHORIZED,
                    strstr(err.message, "series") ? "series belongs to another study"
                                                  : "study belongs to another site or subject",
                    err.message);
        continue;
      }
    } else {
      rc = rcy_archive_add_quarantine(p->db, j->a->sop_instance_uid, j->a->study_uid, j->site->id, j->subject,
                                      j->rel, j->in->size_bytes, j->sha, j->reason, now, &err);
    }
    if (rc) {
      unlink(j->full);
      j->renamed = 0;
      fail_job(j, rc, err.message);
    }
  }
  /* The hashes the hasher found since the last transaction ride along (no transaction of their own). */
  rcy_hash_item *hashed = rcy_hasher_take(p->hasher);
  for (rcy_hash_item *h = hashed; h; h = h->next) {
    rcy_error herr = {0};
    if (rcy_archive_set_sha256(p->db, h->sop_instance_uid, h->sha256, &herr))
      rcy_log(RCY_LOG_ERROR, "ingest", "cannot record a SHA-256 (it stays pending): %s", herr.message);
  }
  if (timing) bt.inserted = rcy_stage_now_ms();
  int early = p->commit_early && batch_all_pending(batch), failed = 0;
  if (early) {
    commit_early(p, batch, hashed, &bt);
    hashed = NULL;
  } else {
    /* The strict order: committed only once every directory fsync returned 0. */
    failed = wait_dirs(p, batch, &err);
    if (timing) bt.dirs = rcy_stage_now_ms();
    if (!failed) failed = rcy_store_commit(p->db, &err);
  }
  if (!early && failed) {
    /* A directory that could not be flushed: nothing of this batch is committed (its files are removed). */
    rcy_store_rollback(p->db);
    rcy_hasher_give_back(p->hasher, hashed);
    hashed = NULL;
    undo_files(batch);
    for (job *j = batch; j; j = j->next)
      if (j->out->result == RCY_STORED || j->out->result == RCY_QUARANTINED || j->twin_hashed)
        fail_job(j, err.code, err.message);
  } else if (!early) {
    unsigned long n = 0;
    for (job *j = batch; j; j = j->next) n += j->renamed;
    atomic_fetch_add(&p->committed_n, n ? n : 1); /* the checkpointer's cue */
    if (timing) {
      bt.committed = rcy_stage_now_ms();
      batch_times_add(&bt, batch);
    }
  }
  if (bt.early) batch_times_add(&bt, batch);
  rcy_hash_items_free(hashed);
  for (job *j = batch; j; j = j->next)
    if (j->kind == JOB_STORE && j->renamed && j->out->result == RCY_STORED && !j->sha[0])
      rcy_hasher_add(p->hasher, j->a->sop_instance_uid, j->full);
  /* A copy answered as its twin in this batch is only as stored as that twin. */
  for (job *j = batch; j; j = j->next)
    if (j->dup_of && j->dup_of->out->result == RCY_FAILED) {
      char why[sizeof j->out->reason];
      snprintf(why, sizeof why, "its identical twin in the same batch could not be stored: %.400s",
               j->dup_of->out->reason);
      fail_job(j, strcmp(j->dup_of->out->comment, "storage full") == 0 ? RCY_ENOSPC : RCY_EIO, why);
    }
}

static void submit(rcy_pipeline *p, job *j) {
  pthread_mutex_lock(&p->mu);
  j->next = NULL;
  if (p->tail) p->tail->next = j;
  else p->head = j;
  p->tail = j;
  while (!j->done) {
    if (p->committing) {
      pthread_cond_wait(&p->cv, &p->mu);
      continue;
    }
    p->committing = 1;
    job *batch = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->mu);
    commit_batch(p, batch);
    pthread_mutex_lock(&p->mu);
    for (job *b = batch, *next; b; b = next) {
      next = b->next;
      b->done = 1;
    }
    p->committing = 0;
    pthread_cond_broadcast(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
}

/* Checks an instance whose file's flush (*flush) was started, and queues it for the group commit (which
 * waits for that flush before the file takes its final name). */
static void check_and_commit(rcy_store_outcome *out, rcy_pipeline *p, const rcy_ingest_site *site,
                             const rcy_dicom_received *in, rcy_flush_task *flush) {
  const uint32_t *tags;
  size_t n_tags = rcy_ingest_phi_tags(&tags);
  int present[RCY_INGEST_PROFILE_MAX];
  rcy_dicom_attrs *a = malloc(sizeof *a);
  if (!a) {
    set_outcome(out, RCY_FAILED, RCY_DICOM_STATUS_OUT_OF_RESOURCES, "out of memory", NULL);
    return;
  }
  rcy_error err = {0};
  double t_in = rcy_stage_on() ? rcy_stage_now_ms() : 0;
  if (rcy_dicom_read_attrs(a, present, in->temp_path, tags, n_tags, &err)) {
    set_outcome(out, RCY_REFUSED, RCY_DICOM_STATUS_CANNOT_UNDERSTAND, "not a readable DICOM data set", err.message);
    free(a);
    return;
  }
  rcy_verdict v;
  rcy_ingest_check(&v, a, present, site, rcy_pipeline_subject_re(p, site), p->cfg, in->sop_class_uid,
                   in->sop_instance_uid);
  job j;
  memset(&j, 0, sizeof j);
  j.t_in_ms = t_in;
  j.t_parsed_ms = t_in > 0 ? rcy_stage_now_ms() : 0;
  j.in = in;
  j.a = a;
  j.site = site;
  j.out = out;
  char subj[65], s_site[65];
  rcy_ingest_safe_component(s_site, sizeof s_site, site->id);
  /* Not anonymised: kept aside when [policy] phi = quarantine, unless private_tags decides for private data
   * elements (refuse: never kept; quarantine: kept aside even under phi = reject). */
  int keep_aside = v.keep == RCY_KEEP_QUARANTINE || (v.keep == RCY_KEEP_PER_PHI && p->cfg->phi == RCY_PHI_QUARANTINE);
  if (v.kind == RCY_VERDICT_REFUSE || (v.kind == RCY_VERDICT_NOT_ANONYMISED && !keep_aside)) {
    set_outcome(out, RCY_REFUSED, v.status, v.comment, v.reason);
    free(a);
    return;
  }
  if (v.kind == RCY_VERDICT_NOT_ANONYMISED) {
    if (job_sha(&j, &err)) { /* its name needs the hash (rare: no reason to defer it) */
      set_outcome(out, RCY_FAILED, RCY_DICOM_STATUS_OUT_OF_RESOURCES, "storage error", err.message);
      free(a);
      return;
    }
    j.kind = JOB_QUARANTINE;
    j.reason = v.reason;
    j.subject = v.subject_id; /* NULL when off the site pattern: possibly a real identifier */
    snprintf(j.rel, sizeof j.rel, "%s/%s-%.16s.dcm", s_site, a->sop_instance_uid, j.sha);
    snprintf(j.full, sizeof j.full, "%s/%s", p->quarantine_dir, j.rel);
    set_outcome(out, RCY_QUARANTINED, v.status, v.comment, v.reason);
  } else {
    j.kind = JOB_STORE;
    j.subject = v.subject_id;
    rcy_ingest_safe_component(subj, sizeof subj, v.subject_id);
    snprintf(j.rel, sizeof j.rel, "%s/%s/%s/%s/%s.dcm", s_site, subj, a->study_uid, a->series_uid,
             a->sop_instance_uid);
    snprintf(j.full, sizeof j.full, "%s/%s", p->storage_dir, j.rel);
    set_outcome(out, RCY_STORED, RCY_DICOM_STATUS_SUCCESS, NULL, NULL);
  }
  /* Queued while its flush (started before the checks, with the writeback the SCP started as the data
   * arrived) may still run: the duplicate and ownership checks overlap it too, and the group commit
   * renames the file to its final name only once that flush returned 0. */
  j.flush = flush;
  if (t_in > 0) {
    j.t_queued_ms = rcy_stage_now_ms();
    rcy_stage_add(RCY_STAGE_PARSE, j.t_parsed_ms - t_in);
    rcy_stage_add(RCY_STAGE_CHECKS, j.t_queued_ms - j.t_parsed_ms);
  }
  submit(p, &j);
  if (t_in > 0 && out->result == RCY_STORED) {
    double t_back = rcy_stage_now_ms();
    rcy_stage_add(RCY_STAGE_TOTAL, t_back - t_in);
    double flushing = 0; /* a directory fsync shared with an earlier job of the batch is that job's */
    if (flush->finished_ms > flush->started_ms) flushing += flush->finished_ms - flush->started_ms;
    if (j.dir_sync.finished_ms > j.dir_sync.started_ms) flushing += j.dir_sync.finished_ms - j.dir_sync.started_ms;
    rcy_stage_add(RCY_STAGE_NOT_FLUSHING, t_back - t_in - flushing);
    if (j.t_committed_ms > 0) rcy_stage_add(RCY_STAGE_AFTER_COMMIT, t_back - j.t_committed_ms);
  }
  free(a);
}

static int flush_task(void *ctx) {
  const rcy_dicom_received *in = ctx;
  return in->flush(in);
}

void rcy_pipeline_store(rcy_store_outcome *out, rcy_pipeline *p, const rcy_ingest_site *site,
                        const rcy_dicom_received *in) {
  memset(out, 0, sizeof *out);
  if (in->write_errno) {
    set_outcome(out, RCY_FAILED, RCY_DICOM_STATUS_OUT_OF_RESOURCES,
                in->write_errno == ENOSPC ? "storage full" : "storage error", strerror(in->write_errno));
    return;
  }
  if (in->refusal) { /* the SCP's nesting guard: never parse it */
    set_outcome(out, RCY_REFUSED, RCY_DICOM_STATUS_CANNOT_UNDERSTAND, in->refusal, NULL);
    return;
  }
  /* The file's flush starts now, on a flusher, while this thread parses and checks it (the flush of a file
   * the checks then refuse is wasted, and rare). Waited for on every path: the SCP closes the file when
   * this returns. */
  rcy_flush_task flush;
  memset(&flush, 0, sizeof flush);
  flush.stage_run = RCY_STAGE_FDATASYNC;
  flush.stage_handoff = RCY_STAGE_FDATASYNC_HANDOFF;
  rcy_flusher_submit(p->flusher, &flush, flush_task, (void *)in);
  check_and_commit(out, p, site, in, &flush);
  (void)rcy_flusher_wait(p->flusher, &flush); /* already waited for unless a check refused the instance */
}

/* The hasher's results when no group commit came to take them: a transaction of their own, as the leader of
 * an empty batch (so never concurrent with one). */
static int write_hashes(void *ctx) {
  rcy_pipeline *p = ctx;
  pthread_mutex_lock(&p->mu);
  while (p->committing) pthread_cond_wait(&p->cv, &p->mu);
  p->committing = 1;
  pthread_mutex_unlock(&p->mu);
  rcy_hash_item *hashed = rcy_hasher_take(p->hasher);
  rcy_error err = {0};
  int rc = hashed ? rcy_store_begin(p->db, &err) : RCY_OK;
  for (rcy_hash_item *h = hashed; h && !rc; h = h->next) rc = rcy_archive_set_sha256(p->db, h->sop_instance_uid, h->sha256, &err);
  if (hashed && !rc) rc = rcy_store_commit(p->db, &err);
  if (rc) {
    if (hashed) rcy_store_rollback(p->db);
    rcy_log(RCY_LOG_ERROR, "ingest", "cannot record SHA-256s (they stay pending): %s", err.message);
    rcy_hasher_give_back(p->hasher, hashed);
  } else {
    if (hashed) atomic_fetch_add(&p->committed_n, 1);
    rcy_hash_items_free(hashed);
  }
  pthread_mutex_lock(&p->mu);
  p->committing = 0;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

int rcy_pipeline_hash_later(rcy_pipeline *p, const char *sop_instance_uid, const char *rel) {
  char *full = rcy_path_join(p->storage_dir, rel);
  int rc = full ? rcy_hasher_add(p->hasher, sop_instance_uid, full) : RCY_ENOMEM;
  free(full);
  return rc;
}

rcy_store *rcy_pipeline_db(rcy_pipeline *p) { return p->db; }
const char *rcy_pipeline_storage(rcy_pipeline *p) { return p->storage_dir; }
const char *rcy_pipeline_tmp(rcy_pipeline *p) { return p->tmp_dir; }
