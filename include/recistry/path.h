/* File-system path helpers shared by the modules that lay out the archive. */
#ifndef RECISTRY_PATH_H
#define RECISTRY_PATH_H

#ifdef __cplusplus
extern "C" {
#endif

/* "dir/name" in a new malloc'ed string (free it), or NULL when out of memory. */
char *rcy_path_join(const char *dir, const char *name);

#ifdef __cplusplus
}
#endif
#endif
