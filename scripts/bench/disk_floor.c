/* What the disk alone allows: the archive's durable-file sequence, without network, DICOM or index.
 *
 * Each writer thread stores FILES files of SIZE bytes the way the ingest daemon does: written in 256 KB
 * chunks with each chunk's writeback started at once (sync_file_range), then fdatasync, rename from a
 * temporary directory into the writer's own final directory (a series), fsync of that directory. Prints, for 1 and for
 * WRITERS threads, files/s and the mean time of the part a C-STORE response has to wait for after the last
 * byte (fdatasync + rename + directory fsync).
 *
 *   bench_disk_floor DIR [FILES_PER_WRITER (300)] [WRITERS (4)] [SIZE (526336)] [GAP_US (0)]
 *
 * GAP_US: each writer sleeps that long after each file is durable, as one association does while the peer
 * sends the next instance. The disk's latency depends on that pace: on the dev VM the same sequence took
 * 0.97-1.02 ms back to back and 1.08-1.11 ms with 1.5 ms between files (sleeping or spinning alike, so it
 * is the device's side, not the CPU's), and a ceiling that adds storescp's time per instance to the
 * disk's latency has to take the latency at that pace (scripts/bench/ingest passes storescp's time).
 *
 * DIR must be on the archive's file system and is left with the files written (nothing is deleted: on ext4
 * without a journal a deleted inode is not reused for 30 s and slows every file creation meanwhile). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

typedef struct {
  const char *dir;
  int id, files, dir_fd;
  size_t size;
  const unsigned char *data;
  double post_ms;
  int failed;
  long gap_us;
} writer;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *run(void *arg) {
  writer *w = arg;
  char tmp[4200], fin[4200];
  for (int i = 0; i < w->files && !w->failed; i++) {
    snprintf(tmp, sizeof tmp, "%s/tmp/%d-%d.part", w->dir, w->id, i);
    snprintf(fin, sizeof fin, "%s/final/%d/%d.dcm", w->dir, w->id, i);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
      w->failed = errno;
      break;
    }
    for (size_t off = 0; off < w->size;) {
      size_t n = w->size - off < CHUNK ? w->size - off : CHUNK;
      if (write(fd, w->data + off, n) != (ssize_t)n) w->failed = errno ? errno : EIO;
      sync_file_range(fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
      off += n;
    }
    double t0 = now_ms();
    if (fdatasync(fd) != 0 || rename(tmp, fin) != 0 || fsync(w->dir_fd) != 0) w->failed = errno;
    w->post_ms += now_ms() - t0;
    close(fd);
    if (w->gap_us > 0) {
      struct timespec gap = {w->gap_us / 1000000, (w->gap_us % 1000000) * 1000};
      while (nanosleep(&gap, &gap) != 0 && errno == EINTR) {
      }
    }
  }
  return NULL;
}

static int measure(const char *root, int n_writers, int files, size_t size, long gap_us,
                   const unsigned char *data) {
  char dir[2048], sub[4096];
  if (strlen(root) > 1024) return fprintf(stderr, "directory name too long\n"), 1;
  snprintf(dir, sizeof dir, "%s/w%d", root, n_writers);
  snprintf(sub, sizeof sub, "%s/tmp", dir);
  if (mkdir(dir, 0750) != 0 || mkdir(sub, 0750) != 0)
    return fprintf(stderr, "cannot create %s: %s\n", sub, strerror(errno)), 1;
  snprintf(sub, sizeof sub, "%s/final", dir);
  if (mkdir(sub, 0750) != 0) return fprintf(stderr, "cannot create %s: %s\n", sub, strerror(errno)), 1;
  writer w[64];
  pthread_t th[64];
  char series[4200];
  for (int i = 0; i < n_writers; i++) {
    snprintf(series, sizeof series, "%s/%d", sub, i);
    int fd = mkdir(series, 0750) == 0 ? open(series, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd < 0) return fprintf(stderr, "cannot create %s: %s\n", series, strerror(errno)), 1;
    w[i] = (writer){dir, i, files, fd, size, data, 0, 0, gap_us};
  }
  double t0 = now_ms();
  for (int i = 0; i < n_writers; i++) pthread_create(&th[i], NULL, run, &w[i]);
  double post = 0;
  int failed = 0;
  for (int i = 0; i < n_writers; i++) {
    pthread_join(th[i], NULL);
    post += w[i].post_ms;
    if (w[i].failed) failed = w[i].failed;
  }
  double s = (now_ms() - t0) / 1e3;
  for (int i = 0; i < n_writers; i++) close(w[i].dir_fd);
  if (failed) return fprintf(stderr, "writing under %s failed: %s\n", dir, strerror(failed)), 1;
  printf("writers %d: %.0f files/s, %.3f ms from last byte to durable (fdatasync + rename + dir fsync)",
         n_writers, n_writers * files / s, post / (n_writers * files));
  if (gap_us > 0) printf(", %ld us between files", gap_us);
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_disk_floor DIR [FILES_PER_WRITER] [WRITERS] [SIZE] [GAP_US]\n");
    return 2;
  }
  int files = argc > 2 ? atoi(argv[2]) : 300;
  int writers = argc > 3 ? atoi(argv[3]) : 4;
  size_t size = argc > 4 ? (size_t)atol(argv[4]) : 526336;
  long gap_us = argc > 5 ? atol(argv[5]) : 0;
  if (files < 1 || writers < 1 || writers > 64 || size < 1 || gap_us < 0 || gap_us > 1000000) {
    fprintf(stderr, "bench_disk_floor: FILES_PER_WRITER >= 1, 1 <= WRITERS <= 64, SIZE >= 1, 0 <= GAP_US <= 1000000\n");
    return 2;
  }
  unsigned char *data = malloc(size);
  if (!data) return 1;
  unsigned x = 12345; /* incompressible-looking content, deterministic */
  for (size_t i = 0; i < size; i++) data[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 24);
  int rc = measure(argv[1], 1, files, size, gap_us, data);
  if (!rc && writers > 1) rc = measure(argv[1], writers, files, size, gap_us, data);
  free(data);
  return rc;
}
