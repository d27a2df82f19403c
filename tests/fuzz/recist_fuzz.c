/* libFuzzer target for the JSON entry points of `recistry recist` and `recistry concordance`
 * (scripts/fuzz-recist.sh builds and runs it). The input is used as it is, so the seed corpus is plain
 * JSON: the input length's low bits pick --lenient / --no-confirmation, and a form feed splits it into
 * two reads for concordance. Any crash, leak, sanitizer report or out-of-contract return is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  rcy_recist_json_flags flags = {(size & 1) != 0, (size & 2) != 0, (size & 8) != 0};
  rcy_error err = {0, ""};
  char *out = NULL;
  int rc;
  const char *ff = memchr(text, '\f', size);
  if (ff) {
    const size_t first = (size_t)(ff - text);
    rc = rcy_recist_json_concordance(&out, text, first, ff + 1, size - first - 1, &flags, (size & 4) != 0,
                                     &err);
  } else {
    rc = rcy_recist_json_evaluate(&out, text, size, &flags, (size & 4) != 0, &err);
  }
  if (rc == 0 && !out) abort();                     /* success must produce output */
  if (rc != 0 && (out || !err.message[0])) abort(); /* failure: no output, and a message */
  if (rc != 0 && rc != RCY_EINVAL && rc != RCY_ENOMEM) abort();
  free(out);
  return 0;
}
