/* Volumetric response, exploratory: beside RECIST's sum of diameters, the sum of the target lesions' volumes
 * where every target of a timepoint has one (a semi-automatic measurement carries the volume of its
 * segmentation, docs/segmentation.md), and its change from baseline. RECIST 1.1 knows nothing of volumes:
 * nothing here feeds the engine, a response or an endpoint; the view labels it exploratory. A disappeared
 * target counts 0 mL; a target measured by hand, too small to measure or not evaluable leaves the sum out. */
#include "recistry/reads.h"

#include <math.h>
#include <string.h>

/* The sum of target volumes at tp (mL), or -1 when some target has none. */
static double target_volume_sum(const json_t *lesions, const char *tp, int *n_targets) {
  double sum = 0;
  size_t i;
  json_t *l;
  *n_targets = 0;
  json_array_foreach(lesions, i, l) {
    const char *kind = json_string_value(json_object_get(l, "kind"));
    if (!kind || strcmp(kind, "target") != 0) continue;
    (*n_targets)++;
    json_t *obs = json_object_get(json_object_get(l, "observations"), tp);
    const char *state = json_string_value(json_object_get(obs, "state"));
    if (state && strcmp(state, "disappeared") == 0) continue;
    json_t *v = json_object_get(json_object_get(json_object_get(obs, "measurement"), "segmentation"), "volume_ml");
    if (!json_is_number(v)) return -1;
    sum += json_number_value(v);
  }
  return *n_targets ? sum : -1;
}

void rcy_reads_view_add_volumetric(json_t *view) {
  const json_t *lesions = json_object_get(view, "lesions");
  json_t *tps = json_object_get(view, "timepoints");
  double baseline = -1;
  size_t i;
  json_t *t;
  json_array_foreach(tps, i, t) {
    const char *tp = json_string_value(json_object_get(t, "timepoint"));
    int n = 0;
    double sum = tp ? target_volume_sum(lesions, tp, &n) : -1;
    if (i == 0) baseline = sum;
    json_t *v = json_object();
    json_object_set_new(v, "exploratory", json_true());
    json_object_set_new(v, "sum_ml", sum >= 0 ? json_real(round(sum * 1000) / 1000) : json_null());
    json_object_set_new(v, "change_from_baseline_pct",
                        i > 0 && sum >= 0 && baseline > 0 ? json_real(round((sum - baseline) / baseline * 1000) / 10)
                                                          : json_null());
    json_object_set_new(v, "targets", json_integer(n));
    json_object_set_new(t, "volumetric", v);
  }
}
