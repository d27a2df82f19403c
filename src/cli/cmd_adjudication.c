/* `recistry adjudication list|show|config`: the independent central review of an archive from the command line
 * — the adjudication queue, one subject's review, the reading paradigm and reader QC. The rules are
 * src/reads/review.c's; reader QC is src/qa/reader_qc.c's. */
#include "archive_args.h"
#include "commands.h"
#include "options.h"

#include "recistry/qa.h"
#include "recistry/reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: recistry adjudication list --archive DIR|--config FILE [--json]\n"
    "       recistry adjudication show --archive DIR|--config FILE --subject ID\n"
    "       recistry adjudication config --archive DIR|--config FILE [--paradigm single|double]\n"
    "                                    [--pd-tolerance-days N] [--trigger-overall-response yes|no]\n"
    "                                    [--final-rule r1|r2] [--reason TEXT]\n"
    "       recistry adjudication qc --archive DIR|--config FILE [--json]\n"
    "  list:   the subjects waiting for an adjudicator, with the reasons (bor_differs, pd_timepoint_differs,\n"
    "          overall_response_differs, reads_changed); JSON: [{\"subject_id\", \"reasons\", ...}]\n"
    "  show:   one subject's review (readers R1/R2, status, differences, the final read), as JSON\n"
    "  config: prints the archive's review settings; with changes (and a --reason) stores them, audited.\n"
    "          -1 days (default): progression at a different timepoint triggers adjudication (docs/qa.md).\n"
    "  qc:     reader QC: adjudication rate per reader pair and per site, adjudicator agreement per reader,\n"
    "          per-lesion variability of matched target lesions (docs/qa.md, \"Reader QC\")\n";

/* 0 with the store open, or the exit code. */
static int open_store(rcy_store **store, const rcy_cli_archive *a, const char *command) {
  int ex = rcy_cli_archive_open(store, a, command, usage);
  return ex >= 0 ? ex : RCY_EXIT_OK;
}

static int print_json(json_t *j) {
  char *t = json_dumps(j, JSON_INDENT(2));
  int ok = t && puts(t) >= 0 && fflush(stdout) == 0;
  free(t);
  return ok ? RCY_EXIT_OK : RCY_EXIT_FAIL;
}

static int list(int argc, char **argv) {
  rcy_cli_archive a = {0};
  int json = 0;
  const rcy_cli_option o[] = {RCY_CLI_ARCHIVE_OPTIONS(&a), {"--json", NULL, 0, NULL, &json}};
  int parsed = rcy_cli_parse("adjudication list", usage, o, sizeof o / sizeof o[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_store *store;
  if ((parsed = open_store(&store, &a, "adjudication list"))) return parsed;
  rcy_error err = {0};
  rcy_review_settings s;
  json_t *q = NULL;
  int rc = rcy_review_settings_load(&s, store, &err);
  if (!rc) rc = rcy_review_queue(&q, store, &s, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry adjudication list: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int status = RCY_EXIT_OK;
  if (json) {
    status = print_json(q);
  } else if (strcmp(s.paradigm, "double") != 0) {
    printf("the archive reads single (one central read per subject): nothing is adjudicated\n");
  } else {
    printf("%zu subject(s) waiting for adjudication\n", json_array_size(q));
    size_t i;
    json_t *e;
    json_array_foreach(q, i, e) {
      printf("%-24s", json_string_value(json_object_get(e, "subject_id")));
      size_t k;
      json_t *r;
      json_array_foreach(json_object_get(e, "reasons"), k, r) printf("%s%s", k ? ", " : "  ", json_string_value(r));
      putchar('\n');
    }
  }
  json_decref(q);
  return status;
}

static int show(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *subject = NULL;
  int json = 0;
  const rcy_cli_option o[] = {RCY_CLI_ARCHIVE_OPTIONS(&a), {"--subject", "ID", 1, &subject, NULL},
                              {"--json", NULL, 0, NULL, &json}};
  int parsed = rcy_cli_parse("adjudication show", usage, o, sizeof o / sizeof o[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_store *store;
  if ((parsed = open_store(&store, &a, "adjudication show"))) return parsed;
  rcy_error err = {0};
  rcy_review_settings s;
  json_t *state = NULL;
  int rc = rcy_review_settings_load(&s, store, &err);
  if (!rc && !rcy_reads_valid_name(subject)) rc = rcy_error_set(&err, RCY_EINVAL, "'%s' is no subject ID", subject);
  if (!rc) rc = rcy_review_subject(&state, store, &s, subject, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry adjudication show: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int status = print_json(state);
  json_decref(state);
  return status;
}

static int config(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *paradigm = NULL, *tolerance = NULL, *trigger = NULL, *rule = NULL, *reason = NULL;
  const rcy_cli_option o[] = {RCY_CLI_ARCHIVE_OPTIONS(&a),
                              {"--paradigm", "single|double", 0, &paradigm, NULL},
                              {"--pd-tolerance-days", "N", 0, &tolerance, NULL},
                              {"--trigger-overall-response", "yes|no", 0, &trigger, NULL},
                              {"--final-rule", "r1|r2", 0, &rule, NULL},
                              {"--reason", "TEXT", 0, &reason, NULL}};
  int parsed = rcy_cli_parse("adjudication config", usage, o, sizeof o / sizeof o[0], argc, argv);
  if (parsed >= 0) return parsed;
  json_t *changes = json_object();
  if (paradigm) json_object_set_new(changes, "paradigm", json_string(paradigm));
  if (rule) json_object_set_new(changes, "final_rule", json_string(rule));
  if (tolerance) {
    char *end;
    long n = strtol(tolerance, &end, 10);
    if (!*tolerance || *end) {
      fprintf(stderr, "recistry adjudication config: --pd-tolerance-days: '%s' is not a whole number\n", tolerance);
      json_decref(changes);
      return RCY_EXIT_USAGE;
    }
    json_object_set_new(changes, "pd_tolerance_days", json_integer(n));
  }
  if (trigger) {
    if (strcmp(trigger, "yes") && strcmp(trigger, "no")) {
      fprintf(stderr, "recistry adjudication config: --trigger-overall-response must be yes or no\n");
      json_decref(changes);
      return RCY_EXIT_USAGE;
    }
    json_object_set_new(changes, "trigger_overall_response", json_boolean(strcmp(trigger, "yes") == 0));
  }
  rcy_store *store;
  if ((parsed = open_store(&store, &a, "adjudication config"))) {
    json_decref(changes);
    return parsed;
  }
  rcy_error err = {0};
  rcy_review_settings s;
  int rc;
  if (json_object_size(changes)) {
    char actor[80];
    rcy_cli_actor(actor, sizeof actor);
    rc = rcy_review_settings_update(&s, store, changes, actor, reason, &err);
  } else {
    rc = rcy_review_settings_load(&s, store, &err);
  }
  rcy_store_close(store);
  json_decref(changes);
  if (rc) {
    fprintf(stderr, "recistry adjudication config: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  json_t *j = rcy_review_settings_to_json(&s);
  int status = print_json(j);
  json_decref(j);
  return status;
}

static int qc(int argc, char **argv) {
  rcy_cli_archive a = {0};
  int json = 0;
  const rcy_cli_option o[] = {RCY_CLI_ARCHIVE_OPTIONS(&a), {"--json", NULL, 0, NULL, &json}};
  int parsed = rcy_cli_parse("adjudication qc", usage, o, sizeof o / sizeof o[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_store *store;
  if ((parsed = open_store(&store, &a, "adjudication qc"))) return parsed;
  rcy_error err = {0};
  json_t *report = NULL;
  int rc = rcy_qa_reader_qc(&report, store, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry adjudication qc: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  int status = json ? print_json(report)
                    : (rcy_qa_reader_qc_print(stdout, report) == RCY_OK && fflush(stdout) == 0 ? RCY_EXIT_OK
                                                                                                : RCY_EXIT_FAIL);
  json_decref(report);
  return status;
}

int rcy_cmd_adjudication(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  if (strcmp(argv[1], "list") == 0) return list(argc - 1, argv + 1);
  if (strcmp(argv[1], "show") == 0) return show(argc - 1, argv + 1);
  if (strcmp(argv[1], "config") == 0) return config(argc - 1, argv + 1);
  if (strcmp(argv[1], "qc") == 0) return qc(argc - 1, argv + 1);
  fprintf(stderr, "recistry adjudication: unknown action '%s' (list, show, config, qc)\n%s", argv[1], usage);
  return RCY_EXIT_USAGE;
}
