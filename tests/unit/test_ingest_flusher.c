/* The pipeline's flushers (flusher.c), on tasks built here: a wait returns only once its task's function
 * has returned, with that function's result; tasks run concurrently with their owner; a task no flusher
 * started (no threads at all) runs in its owner's wait; a task never submitted waits for nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../../src/ingest/ingest_internal.h"

typedef struct {
  atomic_int done;
  int rc;
  long sleep_ms;
  pthread_t ran_on;
} slow;

static int slow_fn(void *ctx) {
  slow *s = ctx;
  struct timespec t = {s->sleep_ms / 1000, (s->sleep_ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
  s->ran_on = pthread_self();
  atomic_store(&s->done, 1);
  return s->rc;
}

static void wait_returns_after_the_task_with_its_result(void **state) {
  (void)state;
  rcy_flusher *f;
  rcy_error err = {0};
  assert_int_equal(rcy_flusher_start(&f, 4, &err), RCY_OK);
  enum { N = 6 };
  slow s[N];
  rcy_flush_task t[N];
  memset(s, 0, sizeof s);
  memset(t, 0, sizeof t);
  for (int i = 0; i < N; i++) {
    s[i].rc = i == 3 ? 5 /* EIO */ : 0;
    s[i].sleep_ms = 20 + 5 * i;
    rcy_flusher_submit(f, &t[i], slow_fn, &s[i]);
  }
  for (int i = N - 1; i >= 0; i--) {
    assert_int_equal(rcy_flusher_wait(f, &t[i]), s[i].rc);
    assert_int_equal(atomic_load(&s[i].done), 1);
  }
  /* waited for: a second wait has nothing to wait for */
  assert_int_equal(rcy_flusher_wait(f, &t[3]), 0);
  rcy_flusher_stop(f);
}

static void tasks_run_while_their_owner_works(void **state) {
  (void)state;
  rcy_flusher *f;
  rcy_error err = {0};
  assert_int_equal(rcy_flusher_start(&f, 2, &err), RCY_OK);
  slow s = {.sleep_ms = 50};
  rcy_flush_task t;
  memset(&t, 0, sizeof t);
  rcy_flusher_submit(f, &t, slow_fn, &s);
  /* the owner does something else meanwhile: the task finishes without any wait */
  for (int i = 0; i < 200 && !atomic_load(&s.done); i++) {
    struct timespec d = {0, 5000000L};
    nanosleep(&d, NULL);
  }
  assert_int_equal(atomic_load(&s.done), 1);
  assert_false(pthread_equal(s.ran_on, pthread_self()));
  assert_int_equal(rcy_flusher_wait(f, &t), 0);
  rcy_flusher_stop(f);
}

static void without_threads_the_owner_runs_its_task(void **state) {
  (void)state;
  rcy_flusher *f;
  rcy_error err = {0};
  assert_int_equal(rcy_flusher_start(&f, 0, &err), RCY_OK);
  slow s = {.sleep_ms = 1, .rc = 28 /* ENOSPC */};
  rcy_flush_task t, never;
  memset(&t, 0, sizeof t);
  memset(&never, 0, sizeof never);
  rcy_flusher_submit(f, &t, slow_fn, &s);
  assert_int_equal(atomic_load(&s.done), 0);
  assert_int_equal(rcy_flusher_wait(f, &t), 28);
  assert_int_equal(atomic_load(&s.done), 1);
  assert_true(pthread_equal(s.ran_on, pthread_self()));
  assert_int_equal(rcy_flusher_wait(f, &never), 0);
  rcy_flusher_stop(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wait_returns_after_the_task_with_its_result),
      cmocka_unit_test(tasks_run_while_their_owner_works),
      cmocka_unit_test(without_threads_the_owner_runs_its_task),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
