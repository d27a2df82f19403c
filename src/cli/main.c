/* `recistry`: dispatch to a subcommand. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#ifndef RCY_VERSION
#define RCY_VERSION "dev"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RCY_LEAK_CHECK_AT_RETURN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCY_LEAK_CHECK_AT_RETURN 1
#endif
#endif
#ifdef RCY_LEAK_CHECK_AT_RETURN
#include <sanitizer/lsan_interface.h>
#endif

/* Under ASan, the leak check runs when the command returns, before any static destructor. With ITK's module
 * opened by dlopen (include/recistry/module.h) the exit handlers run in another order, and LeakSanitizer's own
 * check at exit reported the entries of DCMTK's codec list (registered once per process, src/dicom/pixels.cc)
 * as leaked, apparently because the list itself was destroyed first (with the module preloaded instead, it was
 * not). What a command leaks is reported as before, with its stack; the check at exit is then skipped. */
static int leak_checked(int rc) {
#ifdef RCY_LEAK_CHECK_AT_RETURN
  __lsan_do_leak_check();
#endif
  return rc;
}

typedef struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} command;

#define RCY_ENTRY(name, summary) {#name, summary, rcy_cmd_##name},
static const command commands[] = {RCY_COMMANDS(RCY_ENTRY)};
#undef RCY_ENTRY

/* A command's C name spells '-' as '_' (dose_response is `recistry dose-response`). */
static int is_command(const char *arg, const char *name) {
  for (; *arg && *name; arg++, name++)
    if (*arg != (*name == '_' ? '-' : *name)) return 0;
  return *arg == *name;
}

static void print_name(FILE *out, const char *name) {
  char buf[32];
  size_t i = 0;
  for (; name[i] && i + 1 < sizeof buf; i++) buf[i] = name[i] == '_' ? '-' : name[i];
  buf[i] = 0;
  fprintf(out, "  %-14s", buf);
}

static void usage(FILE *out) {
  fprintf(out, "usage: recistry <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (commands[i].run) {
      print_name(out, commands[i].name);
      fprintf(out, " %s\n", commands[i].summary);
    }
  fprintf(out, "\n`recistry <command> --help` describes a command. Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return RCY_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return RCY_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("recistry %s\n", RCY_VERSION);
    return RCY_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (!is_command(argv[1], commands[i].name)) continue;
    if (!commands[i].run) {
      fprintf(stderr, "recistry: command '%s' is not part of this build\n", argv[1]);
      return RCY_EXIT_USAGE;
    }
    return leak_checked(commands[i].run(argc - 1, argv + 1));
  }
  fprintf(stderr, "recistry: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return RCY_EXIT_USAGE;
}
