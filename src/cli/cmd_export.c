/* `recistry export <format>`: exports for the registry's analysts and PACS. Each format is its own function
 * in its own file (cmd_export_<format>.c); this file only dispatches. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "export.h"

static const char usage[] =
    "usage: recistry export sr --archive DIR --reader site|central --out DIR [--send HOST:PORT:AET]\n"
    "  sr: one DICOM SR Measurement Report (TID 1500) per read and signed timepoint (docs/exports.md).\n";

int rcy_cmd_export(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  if (strcmp(argv[1], "sr") == 0) return rcy_export_sr(argc - 1, argv + 1);
  fprintf(stderr, "recistry export: unknown format '%s'\n%s", argv[1], usage);
  return RCY_EXIT_USAGE;
}
