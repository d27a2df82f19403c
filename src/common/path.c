/* Path helpers (see include/recistry/path.h). */
#include "recistry/path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *rcy_path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

int rcy_path_shared(char **out, const char *name) {
  *out = NULL;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return RCY_EIO;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return RCY_EIO;
  *slash = 0;
  /* The installed layout first: a build tree never has bin/../share/recistry next to it. */
  const char *layouts[] = {"../share/recistry", "share/recistry"};
  for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
    size_t size = strlen(exe) + strlen(layouts[i]) + strlen(name) + 3;
    char *path = malloc(size);
    if (!path) return RCY_ENOMEM;
    snprintf(path, size, "%s/%s/%s", exe, layouts[i], name);
    if (access(path, F_OK) == 0) {
      free(*out);
      *out = path;
      return RCY_OK;
    }
    if (*out) free(path);
    else *out = path;
  }
  return RCY_ENOTFOUND;
}
