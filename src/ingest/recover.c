/* Startup recovery after a crash (kill -9, power loss): temporary files of interrupted receptions are
 * removed, a file that reached its final name without its index row (the daemon died between the
 * rename and the commit: it was never acknowledged, but it is complete and was checked) is indexed, so that
 * `recistry verify` finds index and storage in agreement, and rows whose SHA-256 was still pending (the
 * daemon died between a Success and its hasher's write) are queued for the hasher again.
 *
 * Several nodes on one shared storage folder and one PostgreSQL index (docs/ingest.md, "PostgreSQL"): a
 * node restarting while the others receive must touch nothing of theirs.
 *   - Temporary files: named PID-N-HOST.part (pipeline.c); only those of this host whose process is gone
 *     (or is this very process's PID, from an earlier life) are removed. Another host's are left to it.
 *   - Files at their final name without a row: another node renames its files and commits their rows inside
 *     one write transaction, which holds the index's write lock (rcy_store_begin: SQLite's BEGIN IMMEDIATE,
 *     PostgreSQL's advisory lock) from before the rename to after the commit. So a file is judged here only
 *     inside a write transaction of our own: while we hold the lock no other node is between its rename and
 *     its commit, and a file still without a row is one whose writer died (its transaction rolled back by
 *     the server when its connection dropped) -- never one in flight. The check outside the transaction is
 *     only the cheap fast path for files that have their row.
 *   - synchronous_commit = off on PostgreSQL (the ingest writer's connection) loses committed rows only if
 *     the server itself crashes; their files are durable and come back here as files without rows.
 *
 * SQLite only: a pending row whose file is missing is deleted (with its series and study if it leaves them
 * empty), logged and audited. The pipeline commits a batch of pending rows while their directories are
 * fsync'ed (pipeline.c, commit_early), so a power loss can leave such a row durable and its file's
 * directory entry not: never acknowledged (the Success waits for the fsync). A pending row's file exists
 * whenever its writer is alive, so another process in its window is never mistaken for one. A pending row
 * whose file is there has its directory fsync'ed here before it is queued for the hasher: a row leaves
 * pending only once its file is durable under its name (what lets a writer whose directory fsync failed
 * after its commit keep the rows others took off pending). Not on PostgreSQL: nodes that share the storage
 * folder over NFS may not see each other's new files yet, so a missing file proves nothing there; and
 * there the pipeline commits only after the directory fsync. */
#include "ingest_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recistry/log.h"

struct pipeline_view {
  rcy_store *db;
  const char *storage_dir;
  const rcy_ingest_config *cfg;
  int adopted, failed;
};


static int adopt(void *ctx, const char *rel) {
  struct pipeline_view *v = ctx;
  rcy_error err = {0};
  int found = 0;
  if (rcy_archive_has_path(&found, v->db, rel, &err) || found) return 0;
  char full[4096];
  snprintf(full, sizeof full, "%s/%s", v->storage_dir, rel);
  rcy_dicom_attrs *a = malloc(sizeof *a);
  int present[RCY_INGEST_PROFILE_MAX];
  const uint32_t *tags;
  size_t n = rcy_ingest_phi_tags(&tags);
  char sha[65];
  uint64_t size = 0;
  if (!a) {
    v->failed++;
    return 0;
  }
  if (rcy_dicom_read_attrs(a, present, full, tags, n, &err)) {
    /* Never acknowledged (its row comes after its flush), and incomplete: the flush precedes the rename, so
     * only a file system breaking that order, or a hand, puts one here. The site resends it. */
    rcy_log(RCY_LOG_WARN, "ingest", "recovery: removing incomplete unacknowledged file %s: %s", rel, err.message);
    if (unlink(full) != 0) v->failed++;
    free(a);
    return 0;
  }
  if (rcy_files_sha256(sha, &size, full, &err)) {
    rcy_log(RCY_LOG_ERROR, "ingest", "recovery: cannot index %s: %s", rel, err.message);
    v->failed++;
    free(a);
    return 0;
  }
  /* The path is site/subject/study/series/sop.dcm, written by this daemon after the checks passed. */
  char site[65] = "";
  const char *slash = strchr(rel, '/');
  if (slash && (size_t)(slash - rel) < sizeof site) {
    memcpy(site, rel, (size_t)(slash - rel));
    site[slash - rel] = '\0';
  }
  const char *subject = a->subject_id[0] ? a->subject_id : a->patient_id;
  rcy_archive_instance r;
  char now[21], orientation[160];
  rcy_archive_timestamp(now, -1);
  rcy_ingest_row_from_attrs(&r, orientation, sizeof orientation, a, site, subject, rel, size, sha, now);
  int rc = rcy_store_begin(v->db, &err);
  if (!rc) rc = rcy_archive_has_path(&found, v->db, rel, &err); /* again, under the write lock (see above) */
  if (!rc && found) { /* another node committed it while we read it: it was in flight, not orphaned */
    rcy_store_rollback(v->db);
    free(a);
    return 0;
  }
  if (!rc) rc = rcy_archive_add_instance(v->db, &r, &err);
  if (!rc) rc = rcy_store_commit(v->db, &err);
  else rcy_store_rollback(v->db);
  if (rc) {
    rcy_log(RCY_LOG_ERROR, "ingest", "recovery: cannot index %s: %s", rel, err.message);
    v->failed++;
  } else {
    rcy_log(RCY_LOG_INFO, "ingest", "recovery: indexed %s (stored before a crash, never acknowledged)", rel);
    v->adopted++;
  }
  free(a);
  return 0;
}

/* Pending rows are collected first and queued after the listing: the hasher writes through the pipeline's
 * index connection, which must not be in the middle of this listing when it does. */
typedef struct pending_row {
  struct pending_row *next;
  char sop_instance_uid[65];
  char path[];
} pending_row;

/* Deletes the pending row of a file a crash took (SQLite; see the top of this file). 1 when deleted. */
static int remove_orphan_row(rcy_store *db, const pending_row *r) {
  rcy_error err = {0};
  int removed = 0;
  char reason[600];
  snprintf(reason, sizeof reason,
           "start-up recovery: index row of SOP Instance %s deleted: its SHA-256 was pending and its file %s is "
           "missing (committed before its directory fsync returned; never acknowledged)",
           r->sop_instance_uid, r->path);
  rcy_audit_entry e;
  memset(&e, 0, sizeof e);
  e.actor = "daemon:recovery";
  e.action = "ingest.recovery.remove_row";
  e.reason = reason;
  int rc = rcy_store_begin(db, &err);
  if (!rc) rc = rcy_archive_remove_pending(&removed, db, r->sop_instance_uid, &err);
  if (!rc && removed) rc = rcy_store_audit_append(db, &e, &err);
  if (!rc) rc = rcy_store_commit(db, &err);
  else rcy_store_rollback(db);
  if (rc) {
    rcy_log(RCY_LOG_ERROR, "ingest", "recovery: cannot delete the row of missing file %s: %s", r->path, err.message);
    return 0;
  }
  if (removed) rcy_log(RCY_LOG_WARN, "ingest", "%s", reason);
  return removed;
}

static int collect_pending(void *ctx, const char *sop_instance_uid, const char *path) {
  pending_row **list = ctx;
  size_t n = strlen(path);
  pending_row *r = malloc(sizeof *r + n + 1);
  if (!r || strlen(sop_instance_uid) >= sizeof r->sop_instance_uid) {
    free(r);
    return 0; /* stays pending: counted by verify, tried again at the next start */
  }
  snprintf(r->sop_instance_uid, sizeof r->sop_instance_uid, "%s", sop_instance_uid);
  memcpy(r->path, path, n + 1);
  r->next = *list;
  *list = r;
  return 0;
}

void rcy_ingest_host_name(char *out, size_t cap) {
  if (gethostname(out, cap) != 0 || !out[0]) snprintf(out, cap, "localhost");
  out[cap - 1] = '\0';
  for (char *c = out; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '.') *c = '_';
}

/* A temporary file of an interrupted reception of this host: PID-N-HOST.part with HOST ours and PID not a
 * running process (or our own: an earlier process of the same PID). PID-N.part (before several nodes) is
 * this host's. */
static int ours_and_dead(const char *name) {
  char *end;
  long pid = strtol(name, &end, 10);
  if (end == name || *end != '-' || pid <= 0) return 1; /* not ours to judge by name: an odd leftover */
  const char *n_end = end + 1;
  while (isdigit((unsigned char)*n_end)) n_end++;
  if (*n_end == '-') {
    char host[256];
    rcy_ingest_host_name(host, sizeof host);
    size_t hl = strlen(host);
    if (strncmp(n_end + 1, host, hl) != 0 || strcmp(n_end + 1 + hl, ".part") != 0) return 0; /* another host's */
  }
  if (pid == (long)getpid()) return 1;
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int rcy_pipeline_recover(rcy_pipeline *p, rcy_error *err) {
  const char *tmp = rcy_pipeline_tmp(p);
  DIR *d = opendir(tmp);
  int removed = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.' || !ours_and_dead(e->d_name)) continue;
      char full[4096];
      snprintf(full, sizeof full, "%s/%s", tmp, e->d_name);
      if (unlink(full) == 0) removed++;
    }
    closedir(d);
  }
  if (removed) rcy_log(RCY_LOG_INFO, "ingest", "recovery: removed %d incomplete temporary file(s)", removed);
  struct pipeline_view v = {rcy_pipeline_db(p), rcy_pipeline_storage(p), NULL, 0, 0};
  int rc = rcy_files_walk(v.storage_dir, adopt, &v, err);
  if (rc) return rc;
  if (v.failed) rcy_log(RCY_LOG_WARN, "ingest", "recovery: %d file(s) could not be indexed; see `recistry verify`",
                        v.failed);
  pending_row *pending = NULL;
  rc = rcy_archive_each_pending_sha256(v.db, collect_pending, &pending, err);
  int queued = 0, orphans = 0, sqlite = strcmp(rcy_store_backend(v.db), "sqlite") == 0;
  /* First the rows' fate (transactions on the pipeline's connection), then the queueing: the hasher writes
   * through that same connection as soon as it has something. */
  pending_row *keep = NULL;
  char synced_dir[4096] = "";
  for (pending_row *r = pending, *next; r; r = next) {
    next = r->next;
    int kept = !rc;
    if (kept && sqlite) {
      char full[4096];
      struct stat sb;
      snprintf(full, sizeof full, "%s/%s", v.storage_dir, r->path);
      const char *slash = strrchr(full, '/');
      size_t dl = slash ? (size_t)(slash - full) : 0;
      rcy_error ferr = {0};
      if (stat(full, &sb) != 0 && errno == ENOENT) {
        orphans += remove_orphan_row(v.db, r);
        kept = 0;
      } else if (!(strlen(synced_dir) == dl && strncmp(synced_dir, full, dl) == 0)) {
        /* Its directory made durable before the hasher takes it off pending (once per directory). */
        if (rcy_files_sync_dir_of(full, &ferr)) {
          rcy_log(RCY_LOG_ERROR, "ingest", "recovery: %s stays pending: %s", r->path, ferr.message);
          kept = 0;
        } else {
          snprintf(synced_dir, sizeof synced_dir, "%.*s", (int)dl, full);
        }
      }
    }
    if (kept) {
      r->next = keep;
      keep = r;
    } else {
      free(r);
    }
  }
  for (pending_row *r = keep, *next; r; r = next) {
    next = r->next;
    if (rcy_pipeline_hash_later(p, r->sop_instance_uid, r->path) == RCY_OK) queued++;
    free(r);
  }
  if (rc) return rc;
  if (orphans)
    rcy_log(RCY_LOG_WARN, "ingest", "recovery: %d index row(s) of files a crash took deleted (never acknowledged)",
            orphans);
  if (queued)
    rcy_log(RCY_LOG_INFO, "ingest", "recovery: %d instance(s) stored before a crash still to be hashed: queued",
            queued);
  return RCY_OK;
}
