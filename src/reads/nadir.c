/* The nadir timepoint of the read view: for each timepoint, the earlier assessment whose sum of diameters is
 * the smallest so far (the comparison RECIST progression is measured against), taken from the engine's output
 * so that the workstation can show that assessment beside the current one without computing anything itself.
 */
#include "recistry/reads.h"

#include <string.h>

void rcy_reads_view_add_nadir(json_t *view) {
  json_t *tps = json_object_get(view, "timepoints");
  json_t *engine_tps = json_object_get(json_object_get(view, "engine"), "timepoints");
  size_t i;
  json_t *t;
  json_array_foreach(tps, i, t) {
    const char *best = NULL;
    double best_sum = 0;
    /* The view's timepoints are in date order, as are the engine's: only those before t count. */
    for (size_t k = 0; k < i; k++) {
      const char *name = json_string_value(json_object_get(json_array_get(tps, k), "timepoint"));
      size_t j;
      json_t *e;
      json_array_foreach(engine_tps, j, e) {
        const char *en = json_string_value(json_object_get(e, "timepoint"));
        json_t *sum = json_object_get(e, "sum_mm");
        if (!en || !name || strcmp(en, name) != 0 || !json_is_number(sum)) continue;
        if (!best || json_number_value(sum) < best_sum) {
          best = name;
          best_sum = json_number_value(sum);
        }
      }
    }
    json_object_set_new(t, "nadir_timepoint", best ? json_string(best) : json_null());
  }
}
