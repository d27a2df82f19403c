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

int rcy_path_shared(char **out, const char *name, rcy_error *err) {
  *out = NULL;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
  if (!slash) return rcy_error_set(err, RCY_EIO, "cannot tell where the program is (/proc/self/exe)");
  *slash = 0;
  /* The installed layout first: a build tree never has ../share/recistry beside it. */
  const char *layouts[] = {"../share/recistry", "share/recistry"};
  char *tried[2] = {NULL, NULL};
  int rc = RCY_ENOTFOUND;
  for (size_t i = 0; i < 2 && rc == RCY_ENOTFOUND; i++) {
    size_t size = strlen(exe) + strlen(layouts[i]) + strlen(name) + 3;
    if (!(tried[i] = malloc(size))) rc = RCY_ENOMEM;
    else {
      snprintf(tried[i], size, "%s/%s/%s", exe, layouts[i], name);
      if (access(tried[i], F_OK) == 0) {
        *out = tried[i];
        tried[i] = NULL;
        rc = RCY_OK;
      }
    }
  }
  if (rc == RCY_ENOMEM) rcy_error_set(err, rc, "out of memory");
  else if (rc) rcy_error_set(err, rc, "%s is not installed next to the program (neither %s nor %s exists)", name,
                             tried[0], tried[1]);
  free(tried[0]);
  free(tried[1]);
  return rc;
}
