/* `recistry export <format>`: exports for the registry's analysts and PACS. Each format is its own function
 * in its own file (cmd_export_sr.c, cmd_export_tables.c); this file only dispatches. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "export.h"

static const char usage[] =
    "usage: recistry export sdtm --archive DIR|--config FILE --reader site|central --out DIR [--study CIREL]\n"
    "       recistry export csv --archive DIR|--config FILE --out FILE.csv [--reader site|central|all]\n"
    "       recistry export sr --archive DIR|--config FILE --reader site|central --out DIR\n"
    "                         [--send HOST:PORT:AET]\n"
    "  sdtm: CDISC SDTM TU, TR, RS with variable-level metadata; csv: one flat row per subject, read,\n"
    "  timepoint and lesion; sr: one DICOM SR Measurement Report (TID 1500) per read and signed timepoint.\n"
    "  Signed timepoints only; the final central read is flagged (docs/exports.md, docs/qa.md).\n";

int rcy_cmd_export(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  if (strcmp(argv[1], "sr") == 0) return rcy_export_sr(argc - 1, argv + 1);
  if (strcmp(argv[1], "sdtm") == 0 || strcmp(argv[1], "csv") == 0) return rcy_export_tables(argc, argv);
  fprintf(stderr, "recistry export: unknown format '%s' (sdtm, csv or sr)\n%s", argv[1], usage);
  return RCY_EXIT_USAGE;
}
