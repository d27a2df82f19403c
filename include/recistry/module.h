/* The program's modules: the families of code that pull in large shared libraries (ITK for imaging, libpq for
 * the PostgreSQL driver...) are built, for the `recistry` program, as shared objects opened the first time a
 * command needs them, so that a plain command maps only the core (docs/contributing.md, start-up cost). The
 * unit tests link the families' static libraries directly and never come here.
 *
 * A module exports one symbol, rcy_<family>_module: a table of function pointers that starts with an
 * rcy_module_header. The program's stub of the family (src/<family>/<name>_stub.c) implements the family's public
 * header by loading the module once and forwarding through the table; callers do not change. */
#ifndef RECISTRY_MODULE_H
#define RECISTRY_MODULE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of rcy_module_header itself; a family's table layout is covered by `build`. */
#define RCY_MODULE_ABI 1u

typedef struct rcy_module_header {
  uint32_t abi;       /* RCY_MODULE_ABI */
  uint32_t size;      /* sizeof the family's whole table */
  const char *family; /* "imaging", "pg"... */
  const char *build;  /* RCY_MODULE_BUILD of the build that made it: the program refuses any other */
} rcy_module_header;

/* The header a module puts first in its table (RCY_MODULE_BUILD comes from CMake, target rcy_module_abi). */
#define RCY_MODULE_HEADER(family, table_type) {RCY_MODULE_ABI, (uint32_t)sizeof(table_type), family, RCY_MODULE_BUILD}

/* One family's loading state in the program, loaded at most once (never unloaded: LeakSanitizer must still see
 * the module's allocations at exit, and no thread can be left running code that is gone). */
typedef struct rcy_module_slot {
  const char *family;
  size_t table_size;
  pthread_once_t once;
  const void *table; /* NULL until loaded, or when loading failed (then `error` says why) */
  rcy_error error;
} rcy_module_slot;

#define RCY_MODULE_SLOT_INIT(family, table_type) {family, sizeof(table_type), PTHREAD_ONCE_INIT, NULL, {0, {0}}}

/* Opens recistry-<family>.so and checks its table. Looked for where the program runs from, never at a path
 * compiled in: <exe dir>/ (the build tree) and then <exe dir>/RCY_MODULE_RELDIR (installed: PREFIX/bin/recistry
 * -> PREFIX/<libdir>/recistry). On failure slot->error names the module, every path tried and dlerror().
 * Call it through pthread_once(&slot->once, ...) (RCY_MODULE_GETTER). */
void rcy_module_load(rcy_module_slot *slot);

/* The slot's table, loading it on first use; NULL with *err set (code and message) when it cannot be loaded. */
const void *rcy_module_table(rcy_module_slot *slot, void (*load_once)(void), rcy_error *err);

/* The slot's table if it is already loaded, otherwise NULL; never loads (for releasing what a module holds at
 * exit only when it was used). */
const void *rcy_module_loaded(rcy_module_slot *slot);

/* Defines `static const TYPE *NAME(rcy_error *err)`, the table of FAMILY loaded on first use. */
#define RCY_MODULE_GETTER(NAME, FAMILY, TYPE)                                                   \
  static rcy_module_slot NAME##_slot = RCY_MODULE_SLOT_INIT(FAMILY, TYPE);                      \
  static void NAME##_load(void) { rcy_module_load(&NAME##_slot); }                              \
  static const TYPE *NAME(rcy_error *err) {                                                     \
    return (const TYPE *)rcy_module_table(&NAME##_slot, NAME##_load, err);                      \
  }

#ifdef __cplusplus
}
#endif
#endif
