/* Finding, opening and checking the program's modules (include/recistry/module.h). */
#include "recistry/module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef RCY_MODULE_RELDIR
#define RCY_MODULE_RELDIR "../lib/recistry"
#endif

/* The directory of the running executable, into dir (no trailing slash); 0, or -1 when unknown. */
static int exe_dir(char *dir, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
  if (n <= 0) return -1;
  dir[n] = 0;
  char *slash = strrchr(dir, '/');
  if (!slash) return -1;
  *slash = 0;
  return 0;
}

/* The symbol's table if it is this build's; otherwise NULL with slot->error set. */
static const void *check_table(rcy_module_slot *slot, const char *path, const void *sym) {
  const rcy_module_header *h = sym;
  if (h->abi != RCY_MODULE_ABI || !h->family || strcmp(h->family, slot->family) != 0 || !h->build ||
      strcmp(h->build, RCY_MODULE_BUILD) != 0 || h->size != slot->table_size) {
    rcy_error_set(&slot->error, RCY_EINTERNAL,
                  "module %s is from another build of recistry (module build %s, program build %s): reinstall "
                  "recistry or rebuild it whole",
                  path, h->abi == RCY_MODULE_ABI && h->build ? h->build : "unknown", RCY_MODULE_BUILD);
    return NULL;
  }
  return sym;
}

void rcy_module_load(rcy_module_slot *slot) {
  char dir[PATH_MAX];
  if (exe_dir(dir, sizeof dir)) {
    rcy_error_set(&slot->error, RCY_EIO, "cannot load module recistry-%s.so: cannot tell where the program is "
                  "(/proc/self/exe)", slot->family);
    return;
  }
  /* The build tree first (modules beside build/recistry); an installed bin/ never holds them. */
  const char *layouts[] = {"", "/" RCY_MODULE_RELDIR};
  char tried[2][PATH_MAX + 64];
  char why[2][200];
  for (size_t i = 0; i < 2; i++) {
    snprintf(tried[i], sizeof tried[i], "%s%s/recistry-%s.so", dir, layouts[i], slot->family);
    if (access(tried[i], F_OK) != 0) {
      snprintf(why[i], sizeof why[i], "no such file");
      continue;
    }
    /* RTLD_NOW: a symbol missing from the program is reported here, not as a crash in the middle of a command.
     * RTLD_LOCAL: the module's libraries stay out of the global scope. */
    void *handle = dlopen(tried[i], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *e = dlerror();
      rcy_error_set(&slot->error, RCY_EIO, "cannot load module recistry-%s.so from %s: %s", slot->family,
                    tried[i], e ? e : "unknown error");
      return;
    }
    char symbol[96];
    snprintf(symbol, sizeof symbol, "rcy_%s_module", slot->family);
    dlerror();
    const void *sym = dlsym(handle, symbol);
    if (!sym) {
      const char *e = dlerror();
      rcy_error_set(&slot->error, RCY_EIO, "cannot load module recistry-%s.so from %s: %s", slot->family,
                    tried[i], e ? e : "symbol is NULL");
      return; /* never dlclose (module.h) */
    }
    __atomic_store_n(&slot->table, check_table(slot, tried[i], sym), __ATOMIC_RELEASE);
    return;
  }
  rcy_error_set(&slot->error, RCY_ENOTFOUND,
                "cannot load module recistry-%s.so: not found (tried %s: %s; %s: %s); it is installed with the "
                "program (docs/install.md)", slot->family, tried[0], why[0], tried[1], why[1]);
}

const void *rcy_module_table(rcy_module_slot *slot, void (*load_once)(void), rcy_error *err) {
  pthread_once(&slot->once, load_once);
  if (!slot->table) rcy_error_set(err, slot->error.code ? slot->error.code : RCY_EINTERNAL, "%s", slot->error.message);
  return slot->table;
}

const void *rcy_module_loaded(rcy_module_slot *slot) { return __atomic_load_n(&slot->table, __ATOMIC_ACQUIRE); }
