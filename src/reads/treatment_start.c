/* The day a read is timed from. The engine times SD's minimum duration, the early-tumour-shrinkage window and
 * time to nadir from `treatment_start`; every read of a subject — central reads made in the workstation,
 * imported site reads, exports — must give it the registry's (docs/registry.md), so that readers are compared
 * on the same clock. Only when the registry has no row for the subject does a read fall back to its own
 * (an imported read's treatment_start) or, without one, to the engine's default, the baseline date; the
 * read view says so in its warnings. */
#include "recistry/reads.h"

#include <stdio.h>
#include <string.h>

json_t *rcy_reads_engine_input_timed(const char **source, rcy_store *store, const char *subject,
                                     const json_t *doc, const rcy_timepoint_list *tps, json_t *warnings) {
  json_t *in = rcy_reads_engine_input(subject, doc, tps, warnings);
  const char *own = json_string_value(json_object_get(doc, "treatment_start"));
  rcy_registry_subject reg;
  rcy_error err = {0};
  int rc = rcy_store_registry_get(&reg, store, subject, &err);
  char msg[300];
  const char *src;
  if (rc == RCY_OK && reg.treatment_start[0]) {
    src = "registry";
    if (own && strcmp(own, reg.treatment_start) != 0 && warnings) {
      snprintf(msg, sizeof msg,
               "the read's treatment start %.10s differs from the registry's %s: the registry's is used", own,
               reg.treatment_start);
      json_array_append_new(warnings, json_string(msg));
    }
    if (in) json_object_set_new(in, "treatment_start", json_string(reg.treatment_start));
  } else {
    if (rc != RCY_OK && rc != RCY_ENOTFOUND && warnings) {
      snprintf(msg, sizeof msg, "the registry could not be read (%.200s): timed without it", err.message);
      json_array_append_new(warnings, json_string(msg));
    }
    src = own ? "read" : "baseline";
    if (warnings) {
      if (own)
        snprintf(msg, sizeof msg, "no registry data: timed from the read's own treatment start %.10s", own);
      else
        snprintf(msg, sizeof msg, "no registry data: timed from the baseline date%s%s%s", tps->n ? " (" : "",
                 tps->n ? tps->items[0].date : "", tps->n ? ")" : "");
      json_array_append_new(warnings, json_string(msg));
    }
  }
  if (source) *source = src;
  return in;
}
