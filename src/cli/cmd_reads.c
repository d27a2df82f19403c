/* `recistry reads export|import|index`: reads in the engine's input format, out of and into the archive;
 * and indexing DICOM files already on disk (demo/test archives without the ingest daemon). */
#include "commands.h"

#include "readers.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: recistry reads export --archive DIR --role site|central|adjudicator [--reader NAME] --json\n"
    "       recistry reads import --archive DIR --role site [--reader NAME] FILE   (CSV or JSON; all or nothing)\n"
    "       recistry reads index --archive DIR FILE...   (copy DICOM files into the archive and index them)\n"
    "CSV columns: subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state (docs/api.md).\n";

int rcy_cmd_reads(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  const char *action = argv[1], *archive = NULL, *role = NULL, *reader = NULL;
  const char *files[4096];
  int n_files = 0, json = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc) archive = argv[++i];
    else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) role = argv[++i];
    else if (strcmp(argv[i], "--reader") == 0 && i + 1 < argc) reader = argv[++i];
    else if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (argv[i][0] != '-' && n_files < 4096) files[n_files++] = argv[i];
    else {
      fprintf(stderr, "recistry reads: unexpected argument '%s'\n%s", argv[i], usage);
      return RCY_EXIT_USAGE;
    }
  }
  int is_export = strcmp(action, "export") == 0, is_import = strcmp(action, "import") == 0;
  int is_index = strcmp(action, "index") == 0;
  if (!archive || (!is_export && !is_import && !is_index) || ((is_export || is_import) && !role) ||
      (is_export && (!json || n_files)) || (is_import && n_files != 1) || (is_index && n_files == 0)) {
    fputs(usage, stderr);
    return RCY_EXIT_USAGE;
  }
  if (role && strcmp(role, "site") && strcmp(role, "central") && strcmp(role, "adjudicator")) {
    fprintf(stderr, "recistry reads: --role must be site, central or adjudicator\n");
    return RCY_EXIT_USAGE;
  }
  if (is_import && strcmp(role, "site") != 0) {
    fprintf(stderr, "recistry reads import: only site reads are imported (--role site)\n");
    return RCY_EXIT_USAGE;
  }
  /* Site reads are one per subject, stored under reader "site" (see docs/api.md). */
  if (role && strcmp(role, "site") == 0 && !reader) reader = is_import ? "site" : NULL;
  rcy_store *store;
  rcy_error err = {0};
  if (rcy_store_open(&store, archive, &err)) {
    fprintf(stderr, "recistry reads: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int rc = RCY_OK;
  if (is_export) rc = rcy_readers_export(stdout, store, role, reader, &err);
  else if (is_import) {
    size_t n = 0;
    rc = rcy_readers_import(&n, store, role, reader, files[0], "cli-import", stderr, &err);
    if (!rc) printf("imported %zu subject(s) as %s reads\n", n, role);
  } else {
    int done = 0;
    for (int i = 0; i < n_files && !rc; i++) {
      rc = rcy_readers_index_file(store, files[i], &err);
      if (!rc) done++;
    }
    if (!rc) printf("indexed %d file(s)\n", done);
  }
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry reads %s: %s\n", action, err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}
