/* The pipeline's flushers: a few threads that run the blocking flushes (a received file's fdatasync, a
 * directory's fsync) while the thread that needs them does CPU work that does not depend on them. On one
 * association every millisecond between a data set's last byte and its response is paid by every instance:
 * the file's fdatasync (about 1 ms of waiting for the disk) now runs while the data set is parsed and
 * checked, and the directories' fsyncs while the index rows are inserted. Only the waiting overlaps: nothing
 * that depends on a flush (the rename after the file's flush, the index commit after the directory's, the
 * Success after both) is done before that flush returned 0 (rcy_flusher_wait).
 *
 * The owner never waits for a worker that has not started: rcy_flusher_wait takes a task still queued back
 * and runs it itself, so a busy machine (workers slow to wake) costs no more than flushing in line. A
 * helper thread per association was measured slower on the 2-core VM (net_spool.h): these few threads are
 * shared by all associations and asleep when idle. */
#include "ingest_internal.h"

#include <sched.h>
#include <stdlib.h>

#define N_THREADS_MAX 8

struct rcy_flusher {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a task was queued, or stop */
  pthread_cond_t done; /* a task finished */
  rcy_flush_task *head, *tail;
  int stop;
  int n_threads;
  pthread_t threads[N_THREADS_MAX];
};

enum { TASK_IDLE = 0, TASK_QUEUED, TASK_RUNNING, TASK_DONE };

/* Runs t (taken off the queue) on this thread: by a flusher, or by its owner when no flusher had started it.
 * Called and returns with f->mu held; the flush itself runs without it. */
static void run_task(rcy_flusher *f, rcy_flush_task *t, int by_owner) {
  t->state = TASK_RUNNING;
  pthread_mutex_unlock(&f->mu);
  if (t->queued_ms > 0) {
    t->started_ms = rcy_stage_now_ms();
    t->by_owner = by_owner;
  }
  int rc = t->fn(t->ctx);
  if (t->queued_ms > 0) t->finished_ms = rcy_stage_now_ms();
  pthread_mutex_lock(&f->mu);
  t->rc = rc;
  t->state = TASK_DONE;
}

static void *run(void *arg) {
  rcy_flusher *f = arg;
  pthread_mutex_lock(&f->mu);
  for (;;) {
    rcy_flush_task *t = f->head;
    if (!t) {
      if (f->stop) break;
      pthread_cond_wait(&f->work, &f->mu);
      continue;
    }
    f->head = t->next;
    if (!f->head) f->tail = NULL;
    run_task(f, t, 0);
    pthread_cond_broadcast(&f->done);
  }
  pthread_mutex_unlock(&f->mu);
  return NULL;
}

int rcy_flusher_start(rcy_flusher **out, int n_threads, rcy_error *err) {
  *out = NULL;
  rcy_flusher *f = calloc(1, sizeof *f);
  if (!f) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->work, NULL);
  pthread_cond_init(&f->done, NULL);
  if (n_threads > N_THREADS_MAX) n_threads = N_THREADS_MAX;
  for (int i = 0; i < n_threads; i++) {
    if (pthread_create(&f->threads[i], NULL, run, f) != 0) break;
    f->n_threads++;
  }
  /* No thread at all is not an error: every task is then run in line by its owner's wait. */
  *out = f;
  return RCY_OK;
}

void rcy_flusher_submit(rcy_flusher *f, rcy_flush_task *t, int (*fn)(void *ctx), void *ctx) {
  t->fn = fn;
  t->ctx = ctx;
  t->rc = 0;
  t->next = NULL;
  t->queued_ms = rcy_stage_on() ? rcy_stage_now_ms() : 0;
  t->by_owner = 0;
  pthread_mutex_lock(&f->mu);
  t->state = TASK_QUEUED;
  if (f->tail) f->tail->next = t;
  else f->head = t;
  f->tail = t;
  pthread_cond_signal(&f->work);
  pthread_mutex_unlock(&f->mu);
  /* Let the woken flusher start the flush before this thread goes on with its CPU work. Linux may queue a
   * woken thread on the waker's CPU even with the other idle (the dev VM's kernel packs threads onto few
   * vCPUs, sched_vcpu_pack): it then starts only when the waker blocks, after the parse, and a third of
   * the flushes were run late by their owner. The flusher only issues the flush and blocks, so the yield
   * costs a few microseconds. Interleaved pairs, one association, 400 instances each (2026-11-30):
   * hand-off 0.07-0.09 -> 0.015 ms (median); flushes run late by their owner 24-104 -> 0-19 of 400. The
   * daemon's own part of last byte -> Success (its own fdatasync and directory fsync left out) went from
   * 0.35-0.41 to 0.13-0.23 ms (median) in two pairs, but the same build gave 0.31-0.40 an hour later: that
   * figure swings with the machine, the late flushes do not. Four associations: the same rates, CPU per
   * instance +0.1 ms. */
  sched_yield();
}

/* Unlinks t from the queue (it is there). Called with f->mu held. */
static void unqueue(rcy_flusher *f, rcy_flush_task *t) {
  rcy_flush_task *prev = NULL;
  for (rcy_flush_task *q = f->head; q; prev = q, q = q->next) {
    if (q != t) continue;
    if (prev) prev->next = q->next;
    else f->head = q->next;
    if (f->tail == q) f->tail = prev;
    return;
  }
}

int rcy_flusher_wait(rcy_flusher *f, rcy_flush_task *t) {
  pthread_mutex_lock(&f->mu);
  if (t->state == TASK_QUEUED) { /* no worker took it yet: run it here rather than wait for one to wake */
    unqueue(f, t);
    run_task(f, t, 1);
  }
  while (t->state == TASK_RUNNING) pthread_cond_wait(&f->done, &f->mu);
  int was_run = t->state == TASK_DONE;
  int rc = was_run ? t->rc : 0; /* TASK_IDLE: never submitted, nothing to wait for */
  t->state = TASK_IDLE;
  pthread_mutex_unlock(&f->mu);
  if (was_run && t->queued_ms > 0) {
    rcy_stage_add((rcy_stage)t->stage_run, t->finished_ms - t->started_ms);
    if (t->by_owner) rcy_stage_by_owner(t->stage_run == RCY_STAGE_DIRSYNC);
    else rcy_stage_add((rcy_stage)t->stage_handoff, t->started_ms - t->queued_ms);
    t->queued_ms = 0;
  }
  return rc;
}

void rcy_flusher_stop(rcy_flusher *f) {
  if (!f) return;
  pthread_mutex_lock(&f->mu);
  f->stop = 1; /* every task has an owner that waits for it: the queue is empty by now */
  pthread_cond_broadcast(&f->work);
  pthread_mutex_unlock(&f->mu);
  for (int i = 0; i < f->n_threads; i++) pthread_join(f->threads[i], NULL);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->work);
  pthread_cond_destroy(&f->done);
  free(f);
}
