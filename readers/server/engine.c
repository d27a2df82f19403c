/* The one place the reader workstation calls the RECIST engine: engine input JSON in, the engine's output
 * JSON out, exactly as `recistry recist` prints it. The workstation never computes a response itself. */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>

int rcy_readers_engine_run(json_t **out, char **error_out, const json_t *input) {
  *out = NULL;
  *error_out = NULL;
  (void)input;
  /* Until the engine library (include/recistry/recist.h, rcy_recist) is part of this build. */
  *error_out = strdup("the RECIST engine is not part of this build");
  return RCY_EINTERNAL;
}
