/* `recistry studies --archive DIR|--config FILE [--json]`: what arrived, per study, with status and QC findings. */
#include "commands.h"
#include "archive_args.h"
#include "options.h"

#include "recistry/store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static int print_json(const rcy_archive_study *s, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "study_uid", str_or_null(s[i].study_uid));
    json_object_set_new(o, "site", str_or_null(s[i].site_id));
    json_object_set_new(o, "subject", str_or_null(s[i].subject_id));
    json_object_set_new(o, "timepoint", str_or_null(s[i].timepoint));
    json_object_set_new(o, "modality", str_or_null(s[i].modality));
    json_object_set_new(o, "study_date", str_or_null(s[i].study_date));
    json_object_set_new(o, "status", str_or_null(s[i].status));
    json_object_set_new(o, "series", json_integer(s[i].n_series));
    json_object_set_new(o, "instances", json_integer(s[i].n_instances));
    json_object_set_new(o, "first_received_at", str_or_null(s[i].first_received_at));
    json_object_set_new(o, "last_received_at", str_or_null(s[i].last_received_at));
    json_t *f = json_array();
    for (size_t k = 0; k < s[i].n_findings; k++) {
      json_t *x = json_object();
      json_object_set_new(x, "series_uid", str_or_null(s[i].findings[k].series_uid));
      json_object_set_new(x, "code", str_or_null(s[i].findings[k].code));
      json_object_set_new(x, "severity", str_or_null(s[i].findings[k].severity));
      json_object_set_new(x, "message", str_or_null(s[i].findings[k].message));
      json_array_append_new(f, x);
    }
    json_object_set_new(o, "findings", f);
    json_array_append_new(arr, o);
  }
  int rc = json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  printf("\n");
  json_decref(arr);
  return rc;
}

static const char *or_dash(const char *s) { return s && s[0] ? s : "-"; }

int rcy_cmd_studies(int argc, char **argv) {
  static const char usage[] =
      "usage: recistry studies --archive DIR|--config FILE [--json]\n"
      "Lists every study: site, subject, timepoint, modality, date, series and instance counts,\n"
      "status (receiving / complete / qc-warning / quarantined) and QC findings.\n";
  rcy_cli_archive a = {0};
  int json = 0;
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a), {"--json", NULL, 0, NULL, &json}};
  int parsed = rcy_cli_parse("studies", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_error err = {0};
  rcy_store *db;
  if ((parsed = rcy_cli_archive_open(&db, &a, "studies", usage)) >= 0) return parsed;
  rcy_archive_study *s;
  size_t n;
  int rc = rcy_archive_list_studies(&s, &n, db, &err);
  rcy_store_close(db);
  if (rc) {
    fprintf(stderr, "recistry studies: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  if (json) {
    rc = print_json(s, n);
  } else {
    printf("%-6s %-16s %-5s %-4s %-10s %6s %9s  %-11s %s\n", "SITE", "SUBJECT", "TP", "MOD", "DATE", "SERIES",
           "INSTANCES", "STATUS", "STUDY UID");
    for (size_t i = 0; i < n; i++) {
      printf("%-6s %-16s %-5s %-4s %-10s %6d %9d  %-11s %s\n", or_dash(s[i].site_id), or_dash(s[i].subject_id),
             or_dash(s[i].timepoint), or_dash(s[i].modality), or_dash(s[i].study_date), s[i].n_series,
             s[i].n_instances, or_dash(s[i].status), or_dash(s[i].study_uid));
      for (size_t k = 0; k < s[i].n_findings; k++)
        if (strcmp(s[i].findings[k].severity, "info") != 0)
          printf("       %s %s: %s\n", s[i].findings[k].severity, s[i].findings[k].code, s[i].findings[k].message);
    }
  }
  rcy_archive_studies_free(s, n);
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
