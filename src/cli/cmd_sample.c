/* `recistry sample`: write the synthetic anonymised cohort (docs/sample.md). */
#include "commands.h"

#include "recistry/sample.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: recistry sample --out DIR [--subjects N] [--seed S] [--slices K] [--timepoints T]\n"
    "                       [--noise HU] [--no-dirty] [--lesion-phantoms [--phantom NAME]]\n"
    "                       [--tare [--tare-decay start|admin|none] [--phantom NAME]] [--tare-cohort [N]]\n"
    "Writes synthetic anonymised CIREL studies with known lesions (docs/sample.md):\n"
    "  DIR/<site>/<subject>/<timepoint>/*.dcm, DIR/truth/<subject>.json, DIR/reads/{central,site}.json,\n"
    "  DIR/dirty/<case>/ (defective studies for the ingest checks) and DIR/dirty/manifest.json.\n"
    "  --subjects N    cohort size (default 6); subject i follows scenario i mod 7\n"
    "  --seed S        default 1; same options and seed give byte-identical output\n"
    "  --slices K      slices per series (8..1000, default 60): K >= 200 gives 1.25 mm, >= 100 2.5 mm, else 5 mm\n"
    "  --timepoints T  at most T assessments per subject, baseline included (2..5; default: 3..5)\n"
    "  --noise HU      image noise standard deviation (default 10; 0 for noiseless images)\n"
    "  --no-dirty      do not write DIR/dirty\n"
    "  --lesion-phantoms  write only the lesion phantoms for segmentation tests (3 subjects x BL/FU1 CT,\n"
    "                  DIR/lesions/<subject>.json and label volumes DIR/lesions/<subject>/<tp>.nrrd); only\n"
    "                  --seed applies; --phantom standard|thick|lowdose writes only that one\n"
    "  --tare          write only the TARE dosimetry phantoms (CIREL-014-0971..0973: MAA study with CT and\n"
    "                  99mTc-MAA SPECT, Y90 study with CT and 90Y PET; label maps DIR/tare/<subject>/<study>/*.nrrd,\n"
    "                  truth DIR/tare/<subject>.json); --seed applies; --tare-decay sets the PET's Decay\n"
    "                  Correction (start: to the series start, the default; admin: to the injection; none);\n"
    "                  --phantom accuracy|realistic|cohort (or the subject ID) writes only that subject\n"
    "  --tare-cohort [N]  write only the TARE cohort tables for N subjects (default 40): DIR/patients.csv,\n"
    "                  tumours.csv, toxicity.csv, concordance.csv, the input of `recistry dose-response`, from\n"
    "                  the known model of docs/dosimetry.md \"Cohort analyses\"; only --seed applies\n";

static int parse_long(long *out, const char *s, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int rcy_cmd_sample(int argc, char **argv) {
  rcy_sample_options o;
  rcy_sample_options_init(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long v;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      return RCY_EXIT_OK;
    } else if (strcmp(a, "--no-dirty") == 0) {
      o.dirty = 0;
      continue;
    } else if (strcmp(a, "--lesion-phantoms") == 0) {
      o.lesion_phantoms = 1;
      continue;
    } else if (strcmp(a, "--tare") == 0) {
      o.tare = 1;
      continue;
    }
    /* --tare-cohort without N: the default 40 subjects (tare_cohort.c) */
    if (strcmp(a, "--tare-cohort") == 0 && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
      o.tare_cohort = 40;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "recistry sample: unexpected argument '%s' (or missing value)\n%s", a, usage_text);
      return RCY_EXIT_USAGE;
    }
    const char *val = argv[++i];
    if (strcmp(a, "--out") == 0) {
      o.out_dir = val;
    } else if (strcmp(a, "--phantom") == 0) {
      o.phantom = val;
    } else if (strcmp(a, "--tare-decay") == 0) {
      o.tare_decay = val;
    } else if (strcmp(a, "--noise") == 0) {
      char *end;
      o.noise_hu = strtod(val, &end);
      if (end == val || *end) goto bad;
    } else if (parse_long(&v, val, 0, 1000000000L) != 0) {
      goto bad;
    } else if (strcmp(a, "--subjects") == 0) {
      o.subjects = (int)v;
    } else if (strcmp(a, "--seed") == 0) {
      o.seed = (uint64_t)v;
    } else if (strcmp(a, "--slices") == 0) {
      o.slices = (int)v;
    } else if (strcmp(a, "--timepoints") == 0) {
      o.max_timepoints = (int)v;
    } else if (strcmp(a, "--tare-cohort") == 0) { /* the TARE cohort tables (tare_cohort.c) */
      if (v < 1 || v > 100000) goto bad;
      o.tare_cohort = (int)v;
    } else {
      fprintf(stderr, "recistry sample: unknown option '%s'\n%s", a, usage_text);
      return RCY_EXIT_USAGE;
    }
    continue;
  bad:
    fprintf(stderr, "recistry sample: bad value '%s' for %s\n", val, a);
    return RCY_EXIT_USAGE;
  }
  if (!o.out_dir) {
    fprintf(stderr, "recistry sample: --out DIR is required\n%s", usage_text);
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  rcy_sample_stats st;
  if (rcy_sample_generate(&st, &o, &err)) {
    fprintf(stderr, "recistry sample: %s\n", err.message);
    return err.code == RCY_EINVAL ? RCY_EXIT_USAGE : RCY_EXIT_FAIL;
  }
  if (o.tare_cohort > 0) { /* the TARE cohort tables: CSV only */
    printf("wrote the TARE cohort tables of %zu subjects to %s (patients, tumours, toxicity, concordance .csv)\n",
           st.subjects, o.out_dir);
    return RCY_EXIT_OK;
  }
  printf("wrote %zu subjects, %zu studies, %zu DICOM files (%.1f MB) to %s in %.2f s: %.0f instances/s\n",
         st.subjects, st.studies, st.instances, (double)st.bytes / 1e6, o.out_dir, st.seconds,
         st.seconds > 0 ? (double)st.instances / st.seconds : 0.0);
  return RCY_EXIT_OK;
}
