/* `recistry dose-response`: the TARE cohort analyses (dose-response, dose-toxicity, MAA vs 90Y concordance,
 * time to progression by dose group) over a folder of cohort tables. Thin: read (rcy_dose_cohort_read), run
 * (rcy_dose_analysis_run), print the summary or the JSON, draw the plots. docs/dosimetry.md. */
#include "commands.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_args.h"
#include "options.h"
#include "recistry/dose.h"
#include "recistry/render.h"

static const char usage[] =
    "usage: recistry dose-response --cohort DIR [--json] [--bootstrap N] [--seed S]\n"
    "                              [--threshold-gy GY|youden] [--plots DIR]\n"
    "                              [--archive DIR|--config FILE [--window-days MIN-MAX]]\n"
    "  The TARE cohort analyses over DIR/patients.csv, DIR/tumours.csv and, when present, DIR/toxicity.csv\n"
    "  and DIR/concordance.csv (columns: docs/dosimetry.md, \"Cohort analyses\"):\n"
    "  dose-response per tumour (responder: % change at 3 months <= -30 %) and per patient (CR or PR):\n"
    "  Mann-Whitney, logistic model, ROC with the Youden threshold, bootstrap 95 % CIs (patients "
    "resampled);\n"
    "  dose-toxicity (normal-liver dose vs the highest CTCAE grade, >= 3 and >= 2; Spearman);\n"
    "  MAA vs 90Y per compartment (Bland-Altman, Lin's CCC); time to progression by dose group "
    "(Kaplan-Meier,\n"
    "  log-rank) at --threshold-gy (default 189, EANM 2022) or the per-patient Youden threshold.\n"
    "  --bootstrap N   replicates (default 2000; 0: none)    --seed S  bootstrap seed (default 1)\n"
    "  --plots DIR     also write DIR/dose_response.pdf and each plot as a PNG (dose_vs_change, "
    "roc_response,\n"
    "                  roc_toxicity, bland_altman_<compartment>, ttp_km)\n"
    "  --archive DIR|--config FILE  response_3m and pct_change_3m from the archive (the folder, or the config's\n"
    "                  [archive] path and database), not the tables: each subject's\n"
    "                  final central read through the engine, at the assessment nearest 90 days after the\n"
    "                  registry's treatment start within --window-days (default 60-120; none: NE, warned)\n"
    "  Exit: 0 ok, 1 invalid input (the message names the file, line and column), 2 usage.\n";

int rcy_cmd_dose_response(int argc, char **argv) {
  rcy_cli_archive arch = {0};
  const char *cohort = NULL, *window = NULL, *boot = NULL, *seed = NULL, *threshold = NULL,
             *plots = NULL;
  int json = 0;
  const rcy_cli_option options[] = {
      {"--cohort", "DIR", 1, &cohort, NULL},         {"--json", NULL, 0, NULL, &json},
      {"--bootstrap", "N", 0, &boot, NULL},          {"--seed", "S", 0, &seed, NULL},
      {"--threshold-gy", "GY", 0, &threshold, NULL}, {"--plots", "DIR", 0, &plots, NULL},
      RCY_CLI_ARCHIVE_OPTIONS(&arch),                {"--window-days", "MIN-MAX", 0, &window, NULL},
  };
  int ex = rcy_cli_parse("dose-response", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (ex >= 0) return ex;
  const int archive = rcy_cli_archive_given(&arch);
  rcy_dose_analysis_options o;
  rcy_dose_analysis_options_init(&o);
  char *end;
  if (boot) {
    errno = 0;
    unsigned long long v = strtoull(boot, &end, 10);
    if (errno || end == boot || *end || *boot == '-' || v > 1000000) {
      fprintf(stderr, "recistry dose-response: --bootstrap must be a whole number 0..1000000, not '%s'\n%s",
              boot, usage);
      return RCY_EXIT_USAGE;
    }
    o.bootstrap = (size_t)v;
  }
  if (seed) {
    errno = 0;
    unsigned long long v = strtoull(seed, &end, 10);
    if (errno || end == seed || *end || *seed == '-') {
      fprintf(stderr, "recistry dose-response: --seed must be a whole number >= 0, not '%s'\n%s", seed,
              usage);
      return RCY_EXIT_USAGE;
    }
    o.seed = (uint64_t)v;
  }
  if (threshold) {
    if (strcmp(threshold, "youden") == 0) {
      o.use_youden = 1;
      o.threshold_gy = NAN;
    } else {
      errno = 0;
      double v = strtod(threshold, &end);
      if (errno || end == threshold || *end || !isfinite(v) || v < 0) {
        fprintf(stderr,
                "recistry dose-response: --threshold-gy must be a dose >= 0 or 'youden', not '%s'\n%s",
                threshold, usage);
        return RCY_EXIT_USAGE;
      }
      o.threshold_gy = v;
    }
  }
  int win_min = 60, win_max = 120;
  if (window) {
    char tail;
    if (!archive || sscanf(window, "%d-%d%c", &win_min, &win_max, &tail) != 2 || win_min < 0 ||
        win_max < win_min) {
      fprintf(stderr,
              "recistry dose-response: --window-days must be MIN-MAX days (0 <= MIN <= MAX) with "
              "--archive, not '%s'\n%s",
              window, usage);
      return RCY_EXIT_USAGE;
    }
  }
  rcy_store_location where = {0};
  if (archive && (ex = rcy_cli_archive_location(&where, &arch, "dose-response", usage)) >= 0) return ex;
  rcy_error err = {0};
  rcy_dose_cohort *c = NULL;
  rcy_dose_analysis *a = NULL;
  int rc = rcy_dose_cohort_read(&c, cohort, &err);
  if (!rc && archive) rc = rcy_dose_cohort_fill_archive(c, &where, win_min, win_max, &err);
  rcy_store_location_free(&where);
  if (!rc) rc = rcy_dose_analysis_run(&a, c, &o, &err);
  if (!rc && json) {
    char *s = rcy_dose_analysis_json(a);
    if (!s)
      rc = rcy_error_set(&err, RCY_ENOMEM, "cannot format the JSON");
    else {
      fputs(s, stdout);
      fputc('\n', stdout);
      free(s);
      if (fflush(stdout)) rc = rcy_error_set(&err, RCY_EIO, "cannot write the output");
    }
  } else if (!rc) {
    rc = rcy_dose_analysis_print(stdout, a, &err);
  }
  if (!rc && plots) {
    rc = rcy_dose_analysis_plots(a, plots, &err);
    if (!rc) fprintf(stderr, "recistry dose-response: wrote %s/dose_response.pdf\n", plots);
    rcy_render_shutdown(); /* the font caches cairo filled; nothing draws after this */
  }
  if (rc) fprintf(stderr, "recistry dose-response: %s\n", err.message[0] ? err.message : rcy_error_name(rc));
  rcy_dose_analysis_free(a);
  rcy_dose_cohort_free(c);
  return rc ? RCY_EXIT_FAIL : RCY_EXIT_OK;
}
