/* File-system path helpers shared by the modules that lay out the archive. */
#ifndef RECISTRY_PATH_H
#define RECISTRY_PATH_H

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "dir/name" in a new malloc'ed string (free it), or NULL when out of memory. */
char *rcy_path_join(const char *dir, const char *name);

/* A file or folder shipped with the program (the web UI, the dose threshold table), found from where the running
 * executable is rather than from a path compiled in, so that an installed tree and the build tree both work
 * wherever they are:
 *   <exe dir>/../share/recistry/NAME   installed (PREFIX/bin/recistry -> PREFIX/share/recistry)
 *   <exe dir>/share/recistry/NAME      the build tree (build/recistry -> build/share/recistry)
 * Sets *out to a new malloc'ed path (free it) of the first that exists and returns 0; otherwise *out is NULL
 * and the result RCY_ENOTFOUND (the message names both places looked at), RCY_EIO (the executable's own path
 * unknown) or RCY_ENOMEM. */
int rcy_path_shared(char **out, const char *name, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
