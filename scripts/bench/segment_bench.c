/* One-click segmentation benchmark: for each click (SOP COL ROW LABEL per line of CLICKS), the time from the
 * click to the result (rcy_segment_at: finding the series, decoding the slices around the click, segmenting,
 * measuring), first, best and median of RUNS — first includes what a fresh process pays once (DCMTK's
 * dictionary, first-touch of memory), which a running server has paid at start; then, as the peer, ITK's GDCM series reader loading the whole series
 * of the first click (what an ITK-based tool does before it can segment).
 *   bench_segment ARCHIVE CLICKS SERIES_DIR [RUNS (5)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recistry/imaging.h"
#include "recistry/segment.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench_segment ARCHIVE CLICKS SERIES_DIR [RUNS]\n");
    return 2;
  }
  int runs = argc > 4 ? atoi(argv[4]) : 5;
  if (runs < 1 || runs > 100) runs = 5;
  rcy_segment_process_setup();
  rcy_error err = {0};
  rcy_store *db;
  if (rcy_store_open(&db, argv[1], &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  FILE *f = fopen(argv[2], "r");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  char sop[128], label[64];
  double col, row, worst = 0, all[256];
  size_t n = 0;
  printf("%-22s %9s %9s %9s %9s %8s %8s\n", "lesion", "first ms", "best ms", "median ms", "load ms", "long mm",
         "vol mL");
  while (n < 256 && fscanf(f, "%127s %lf %lf %63s", sop, &col, &row, label) == 4) {
    double t[100], load = 0, long_mm = 0, vol = 0, first = 0;
    for (int r = 0; r < runs; r++) {
      rcy_segmentation *s;
      double t0 = now_ms();
      if (rcy_segment_at(&s, db, sop, (double[]){col, row}, &err)) {
        fprintf(stderr, "%s: %s\n", label, err.message);
        return 1;
      }
      t[r] = now_ms() - t0;
      if (r == 0) first = t[r];
      load = s->load_ms, long_mm = s->lesion->long_mm, vol = s->lesion->volume_ml;
      rcy_segmentation_free(s);
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp);
    printf("%-22s %9.1f %9.1f %9.1f %9.1f %8.1f %8.2f\n", label, first, t[0], t[runs / 2], load, long_mm, vol);
    all[n++] = t[runs / 2];
    if (t[runs / 2] > worst) worst = t[runs / 2];
  }
  fclose(f);
  rcy_store_close(db);
  if (!n) return 1;
  qsort(all, n, sizeof all[0], cmp);
  double t0 = now_ms();
  rcy_imaging_volume *vol;
  if (rcy_imaging_volume_read_series(&vol, argv[3], NULL, &err)) {
    fprintf(stderr, "peer: %s\n", err.message);
    return 1;
  }
  double peer = now_ms() - t0;
  size_t size[3];
  rcy_imaging_volume_size(vol, size);
  rcy_imaging_volume_free(vol);
  printf("\nclick to result: median %.1f ms, worst lesion %.1f ms over %zu lesions (goal <= 300 ms: worst/goal %.2f)\n",
         all[n / 2], worst, n, worst / 300.0);
  printf("peer, ITK reading the whole %zux%zux%zu series: %.1f ms (peer / our median: %.1fx)\n", size[0], size[1],
         size[2], peer, peer / all[n / 2]);
  return 0;
}
