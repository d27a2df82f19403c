/* The pipeline's background hasher: the SHA-256 of every stored instance, computed from its file after
 * the Success was sent, so that hashing (0.3 ms of CPU per 512 KB CT) is not on any association's
 * critical path. The index row is committed with RCY_ARCHIVE_SHA256_PENDING; the hash found here is written
 * by the next group-commit transaction of the pipeline (no transaction of its own while instances arrive),
 * or, when none comes within IDLE_MS, by the pipeline on the hasher's request. A crash loses at most hashes
 * not yet written: their rows stay pending and the startup recovery queues them again.
 *
 * One thread for the whole daemon (not one per association): on the 2-core VM a helper per association
 * lost more in hand-offs than it overlapped (see src/dicom/net_spool.h); one hasher reads files that are
 * still in the page cache and batches its results. */
#include "ingest_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "recistry/log.h"

/* How long hashed results may wait for a group commit before the hasher asks for a transaction. */
#define IDLE_MS 100
/* Test hook: when set, nothing is hashed (rows stay pending, as after a crash), so that a test can send
 * duplicates of a pending row. */
#define OFF_ENV "RECISTRY_TEST_HASHER_OFF"

struct rcy_hasher {
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  rcy_hash_item *todo, *todo_tail; /* to hash, in order */
  rcy_hash_item *done;             /* hashed, not yet written */
  int stop;
  int (*write)(void *ctx); /* writes what rcy_hasher_take gives, in a transaction of its own */
  void *ctx;
  long n_failed;
};

static void deadline_in(struct timespec *t, long ms) {
  clock_gettime(CLOCK_REALTIME, t);
  t->tv_nsec += (ms % 1000) * 1000000L;
  t->tv_sec += ms / 1000 + t->tv_nsec / 1000000000L;
  t->tv_nsec %= 1000000000L;
}

static void *run(void *arg) {
  rcy_hasher *h = arg;
  /* Below the association threads (Linux: nice is per thread): on a busy machine the hash waits, not the
   * next instance's reception. Advisory: failing leaves it at the daemon's priority. */
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
  pthread_mutex_lock(&h->mu);
  for (;;) {
    if (h->todo) {
      rcy_hash_item *it = h->todo;
      h->todo = it->next;
      if (!h->todo) h->todo_tail = NULL;
      pthread_mutex_unlock(&h->mu);
      rcy_error err = {0};
      /* Its pages leave the page cache once hashed: the file is durable (hashed only after its Success) so
       * they are clean and simply freed, and the next instance's writes take them again instead of fresh
       * pages, which on this VM (free pages reported to the host) cost about 10 us each to fault in:
       * 2-4 ms of CPU per 526 KB instance in the association's write(), measured (docs/ingest.md). */
      int rc = rcy_files_sha256_uncache(it->sha256, NULL, it->path, &err);
      if (rc) /* the row stays pending: verify counts it, the next start tries again */
        rcy_log(RCY_LOG_ERROR, "ingest", "cannot hash a stored instance (its SHA-256 stays pending): %s",
                err.message);
      pthread_mutex_lock(&h->mu);
      if (rc) {
        h->n_failed++;
        free(it);
      } else {
        it->next = h->done;
        h->done = it;
      }
      continue;
    }
    if (h->done) {
      if (!h->stop) {
        struct timespec t;
        deadline_in(&t, IDLE_MS);
        int w = 0;
        while (!h->stop && !h->todo && h->done && w != ETIMEDOUT) w = pthread_cond_timedwait(&h->cv, &h->mu, &t);
        if (h->todo || !h->done || (w != ETIMEDOUT && !h->stop)) continue;
      }
      /* No group commit took them in IDLE_MS (or the daemon is stopping): a transaction of their own. */
      pthread_mutex_unlock(&h->mu);
      int rc = h->write(h->ctx);
      pthread_mutex_lock(&h->mu);
      if (rc && h->stop) break; /* the index refuses: what is left stays pending until the next start */
      continue;
    }
    if (h->stop) break;
    pthread_cond_wait(&h->cv, &h->mu);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

int rcy_hasher_start(rcy_hasher **out, int (*write)(void *ctx), void *ctx, rcy_error *err) {
  *out = NULL;
  rcy_hasher *h = calloc(1, sizeof *h);
  if (!h) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  h->write = write;
  h->ctx = ctx;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  if (pthread_create(&h->thread, NULL, run, h) != 0) {
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
    return rcy_error_set(err, RCY_ENOMEM, "cannot start the hasher thread");
  }
  h->started = 1;
  *out = h;
  return RCY_OK;
}

int rcy_hasher_add(rcy_hasher *h, const char *sop_instance_uid, const char *path) {
  if (getenv(OFF_ENV)) return RCY_OK;
  size_t n = strlen(path);
  rcy_hash_item *it = malloc(sizeof *it + n + 1);
  if (!it || strlen(sop_instance_uid) >= sizeof it->sop_instance_uid) {
    free(it);
    return RCY_ENOMEM; /* the row stays pending until the next start */
  }
  memset(it, 0, sizeof *it);
  strcpy(it->sop_instance_uid, sop_instance_uid);
  memcpy(it->path, path, n + 1);
  pthread_mutex_lock(&h->mu);
  if (h->todo_tail) h->todo_tail->next = it;
  else h->todo = it;
  h->todo_tail = it;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
  return RCY_OK;
}

rcy_hash_item *rcy_hasher_take(rcy_hasher *h) {
  if (!h) return NULL;
  pthread_mutex_lock(&h->mu);
  rcy_hash_item *l = h->done;
  h->done = NULL;
  pthread_mutex_unlock(&h->mu);
  return l;
}

void rcy_hasher_give_back(rcy_hasher *h, rcy_hash_item *items) {
  if (!items) return;
  rcy_hash_item *last = items;
  while (last->next) last = last->next;
  pthread_mutex_lock(&h->mu);
  last->next = h->done;
  h->done = items;
  pthread_mutex_unlock(&h->mu);
}

void rcy_hash_items_free(rcy_hash_item *items) {
  while (items) {
    rcy_hash_item *next = items->next;
    free(items);
    items = next;
  }
}

void rcy_hasher_stop(rcy_hasher *h) {
  if (!h) return;
  pthread_mutex_lock(&h->mu);
  h->stop = 1;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
  if (h->started) pthread_join(h->thread, NULL);
  rcy_hash_items_free(h->todo);
  rcy_hash_items_free(h->done); /* not written (the index failed): pending until the next start */
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h);
}
