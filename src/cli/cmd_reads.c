/* `recistry reads export|import|index`: reads in the engine's input format, out of and into the archive;
 * and indexing DICOM files already on disk (demo/test archives without the ingest daemon). */
#include "archive_args.h"
#include "commands.h"

#include "readers.h"
#include "recistry/reads.h"
#include "recistry/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: recistry reads export --archive DIR|--config FILE --role site|central|adjudicator [--reader NAME]\n"
    "                             --json\n"
    "         (--reader is required for central and adjudicator reads: one read per subject)\n"
    "       recistry reads export --archive DIR|--config FILE --final --json\n"
    "         (each subject's final central read, signed timepoints only, with its \"acceptance\"; docs/qa.md)\n"
    "       recistry reads import --archive DIR|--config INGEST.ini --role site [--check] FILE\n"
    "       recistry reads import --archive DIR|--config INGEST.ini --role central --reader NAME [--check] FILE\n"
    "         (central reads made elsewhere: NAME is the central reader, an account with the central role\n"
    "          when one exists; in double reading the first imported reader of a subject is R1)\n"
    "         (CSV or JSON; all or nothing; --config also checks each subject against its site's\n"
    "          subject_pattern; --check validates without importing)\n"
    "       recistry reads index --archive DIR|--config FILE FILE...   (copy DICOM files into the archive and\n"
    "                                                                  index them)\n"
    "--config names the archive by its [archive] path and database; given with --archive, both must name\n"
    "the same folder.\n"
    "CSV columns: subject_id,timepoint,date,lesion_id,kind,organ,nodal,diameter_mm,state (docs/api.md).\n";

typedef struct readers_list {
  char names[32][65];
  size_t n;
} readers_list;

/* Distinct reader names (the first 32), for the message of an export without --reader. */
static int collect_reader(void *ctx, const char *subject, const char *role, const char *reader, const char *text) {
  (void)subject, (void)role, (void)text;
  readers_list *l = ctx;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->names[i], reader) == 0) return 0;
  if (l->n < 32) snprintf(l->names[l->n++], sizeof l->names[0], "%s", reader);
  return 0;
}

/* `reads import`: the ingest configuration's subject patterns (when given), then the import itself. */
static int import(rcy_store *store, const char *role, const char *reader, const char *config, int check,
                  const char *file, rcy_error *err) {
  rcy_ingest_config *cfg = NULL;
  rcy_reads_site_pattern *sites = NULL;
  int rc = RCY_OK;
  if (config) {
    if ((rc = rcy_ingest_config_load(&cfg, config, err))) return rc;
    sites = calloc(cfg->n_sites ? cfg->n_sites : 1, sizeof *sites);
    if (!sites) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    for (size_t i = 0; sites && i < cfg->n_sites; i++)
      sites[i] = (rcy_reads_site_pattern){cfg->sites[i].id, cfg->sites[i].subject_pattern};
  }
  if (!rc) {
    rcy_reads_import_options o = {role, reader, NULL /* the OS account */, check, sites, cfg ? cfg->n_sites : 0};
    size_t n = 0;
    rc = rcy_reads_import(&n, store, file, &o, stderr, err);
    if (!rc && check) printf("%s: valid; %zu subject(s) would be imported as %s reads (nothing written)\n", file, n, role);
    else if (!rc) printf("imported %zu subject(s) as %s reads\n", n, role);
  }
  free(sites);
  rcy_ingest_config_free(cfg);
  return rc;
}

int rcy_cmd_reads(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  rcy_cli_archive a = {0};
  const char *action = argv[1], *role = NULL, *reader = NULL;
  const char *files[4096];
  int n_files = 0, json = 0, check = 0, final = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc) a.dir = argv[++i];
    else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) role = argv[++i];
    else if (strcmp(argv[i], "--reader") == 0 && i + 1 < argc) reader = argv[++i];
    else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) a.config = argv[++i];
    else if (strcmp(argv[i], "--check") == 0) check = 1;
    else if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (strcmp(argv[i], "--final") == 0) final = 1;
    else if (argv[i][0] != '-' && n_files < 4096) files[n_files++] = argv[i];
    else {
      fprintf(stderr, "recistry reads: unexpected argument '%s'\n%s", argv[i], usage);
      return RCY_EXIT_USAGE;
    }
  }
  int is_export = strcmp(action, "export") == 0, is_import = strcmp(action, "import") == 0;
  int is_index = strcmp(action, "index") == 0;
  if (final && is_export && !role && !reader) role = "central";
  else if (final) {
    fputs("recistry reads: --final is for export alone (no --role, no --reader)\n", stderr);
    fputs(usage, stderr);
    return RCY_EXIT_USAGE;
  }
  if (!rcy_cli_archive_given(&a) || (!is_export && !is_import && !is_index) ||
      ((is_export || is_import) && !role) || (is_export && (!json || n_files)) || (is_import && n_files != 1) || (is_index && n_files == 0) ||
      (check && !is_import)) {
    fputs(usage, stderr);
    return RCY_EXIT_USAGE;
  }
  if (role && strcmp(role, "site") && strcmp(role, "central") && strcmp(role, "adjudicator")) {
    fprintf(stderr, "recistry reads: --role must be site, central or adjudicator\n");
    return RCY_EXIT_USAGE;
  }
  if (is_import && strcmp(role, "site") != 0 && strcmp(role, "central") != 0) {
    fprintf(stderr, "recistry reads import: site and central reads are imported (--role site|central)\n");
    return RCY_EXIT_USAGE;
  }
  if (is_import && strcmp(role, "central") == 0 && (!reader || !rcy_reads_valid_name(reader))) {
    fprintf(stderr, "recistry reads import: --role central needs --reader NAME (the central reader whose read "
                    "the file holds; letters, digits, . _ -)\n");
    return RCY_EXIT_USAGE;
  }
  if (is_import && strcmp(role, "site") == 0 && reader && strcmp(reader, "site") != 0) {
    fprintf(stderr, "recistry reads import: site reads are one per subject, shared by the site: no --reader\n");
    return RCY_EXIT_USAGE;
  }
  /* Site reads are one per subject, stored under reader "site" (see docs/api.md). */
  if (role && strcmp(role, "site") == 0 && !reader) reader = is_import ? "site" : NULL;
  rcy_store *store;
  rcy_error err = {0};
  int ex = rcy_cli_archive_open(&store, &a, "reads", usage);
  if (ex >= 0) return ex;
  int rc = RCY_OK;
  if (is_import && strcmp(role, "central") == 0) {
    /* The name must not be another kind of account: a central read filed under a site user or QA would
     * escape the blinding rules made for central readers. */
    char *account_role = NULL;
    int found = rcy_store_user_role(&account_role, store, reader);
    if (found == RCY_OK && strcmp(account_role, "central") != 0) {
      fprintf(stderr, "recistry reads import: %s is a %s account, not a central reader\n", reader, account_role);
      free(account_role);
      rcy_store_close(store);
      return RCY_EXIT_FAIL;
    }
    free(account_role);
  }
  if (is_export && final) {
    rcy_review_settings s;
    json_t *reads = NULL;
    rc = rcy_review_settings_load(&s, store, &err);
    if (!rc) rc = rcy_review_reads(&reads, store, &s, "central", &err);
    if (!rc && (json_dumpf(reads, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF))
      rc = rcy_error_set(&err, RCY_EIO, "writing the export failed");
    json_decref(reads);
    rcy_store_close(store);
    if (rc) {
      fprintf(stderr, "recistry reads export: %s\n", err.message);
      return RCY_EXIT_FAIL;
    }
    return RCY_EXIT_OK;
  }
  if (is_export && !reader && strcmp(role, "site") != 0) {
    /* Several readers read each subject: without --reader the file would hold each subject several times,
     * which `recistry recist` cannot tell apart and `recistry concordance` refuses. */
    readers_list *names = calloc(1, sizeof *names);
    if (names) rcy_store_read_each(store, role, NULL, collect_reader, names, NULL);
    fprintf(stderr,
            "recistry reads export: --role %s needs --reader NAME (one read per subject, as `recistry recist` "
            "and `recistry concordance` expect); readers with %s reads:",
            role, role);
    for (size_t i = 0; names && i < names->n; i++) fprintf(stderr, "%s %s", i ? "," : "", names->names[i]);
    fputs(names && names->n ? "\n" : " none\n", stderr);
    free(names);
    rcy_store_close(store);
    return RCY_EXIT_USAGE;
  }
  if (is_export) rc = rcy_reads_export(stdout, store, role, reader, &err);
  else if (is_import) rc = import(store, role, reader, a.config, check, files[0], &err);
  else {
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
