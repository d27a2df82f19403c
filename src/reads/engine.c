/* The one place the reader workstation calls the RECIST engine: engine input JSON in, the engine's output
 * JSON out, exactly as `recistry recist --lenient` prints it (the same JSON layer,
 * src/reads/engine_json.c). Lenient because the workstation shows baseline-rule violations as warnings while the reader
 * is still working; the engine reports them in its own "warnings". Nothing here computes a response. */
#include "recistry/reads.h"

#include <stdlib.h>
#include <string.h>


int rcy_reads_engine_run(json_t **out, char **error_out, const json_t *input) {
  *out = NULL;
  *error_out = NULL;
  char *in = json_dumps(input, JSON_COMPACT);
  if (!in) {
    *error_out = strdup("out of memory");
    return RCY_ENOMEM;
  }
  rcy_recist_json_flags flags = {.lenient = true, .no_confirmation = false};
  rcy_error err = {0};
  char *text = NULL;
  int rc = rcy_recist_json_evaluate(&text, in, strlen(in), &flags, false, &err);
  free(in);
  if (rc) {
    *error_out = strdup(err.message);
    return rc;
  }
  json_error_t je;
  *out = json_loads(text, 0, &je);
  free(text);
  if (!*out) {
    *error_out = strdup("the engine's output is not JSON");
    return RCY_EINTERNAL;
  }
  return RCY_OK;
}
