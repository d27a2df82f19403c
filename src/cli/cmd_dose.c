/* `recistry dose`: one subject's 90Y dosimetry (docs/dosimetry.md) from folders or from the archive: the dose
 * per compartment, the DVHs, the models and the EANM flags; optionally the dose map and the PDF report. The
 * work is src/dose/run.c's. */
#include "archive_args.h"
#include "commands.h"
#include "options.h"

#include "recistry/dose.h"
#include "recistry/imaging.h"
#include "recistry/path.h"
#include "recistry/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: recistry dose --pet DIR [--ct DIR] --voi NAME=FILE [--voi ...] [--density G_PER_ML] [--json]\n"
    "       recistry dose --archive DIR|--config FILE --subject ID [--voi NAME=FILE ...] [--json]\n"
    "         [--maa DIR [--maa-ct DIR] --maa-voi NAME=FILE ... --planned-gbq A] [--lsf F] [--tnr R] [--prior-lung-gy D]\n"
    "         [--thresholds FILE | --no-flags] [--dose-out FILE.nrrd] [--report FILE.pdf] [--signed-by NAME]\n"
    "Absorbed dose of a 90Y radioembolisation by local deposition on the 90Y PET (Units BQML; decay correction\n"
    "START, ADMIN or NONE; the injection date/time and activity from its Radiopharmaceutical Information):\n"
    "per VOI and derived compartment (normal liver = liver - tumours, perfused normal liver, all tumours) the\n"
    "volume (mL), mass (g), mean dose, D50/D70/D90 (Gy), V100/V150/V205 (%) and the cumulative DVH; the MIRD\n"
    "single-compartment, partition-model and lung doses; the flags of the threshold table.\n"
    "  --pet DIR        the 90Y PET series (the folder's one PT series)\n"
    "  --ct DIR         the CT of the same PET/CT: density (HU -> g/mL) and the dose grid; without it the dose\n"
    "                   is on the PET grid at --density (default 1.03 g/mL, liver)\n"
    "  --voi NAME=FILE  a VOI: NRRD/NIfTI label map (label > 0; FILE#N for label N) or a DICOM SEG on the CT.\n"
    "                   NAME sets the compartment: T1, tumour*, lesion* (tumours), liver, perfused_liver, lung*\n"
    "  --density G      fixed tissue density (g/mL) instead of the CT's\n"
    "  --archive DIR --subject ID   the subject's latest PET and its CT from the archive (or --config FILE: the\n"
    "                   archive of its [archive] path and database), the central read's\n"
    "                   tumour segmentations on that CT, the latest MAA SPECT not after it\n"
    "  --maa DIR        the 99mTc-MAA SPECT (NM): tumour-to-normal ratio and the predicted dose; needs\n"
    "                   --planned-gbq (the planned 90Y activity) and its own --maa-voi (another day's grid)\n"
    "  --lsf F          lung shunt fraction 0..1 (lung dose by the partition model)\n"
    "  --tnr R          tumour-to-normal ratio for the partition model (default: from --maa)\n"
    "  --prior-lung-gy  lung dose of earlier treatments (cumulative 50 Gy flag)\n"
    "  --thresholds F   the threshold table (INI [dose_threshold NAME] rows); default: the shipped EANM 2022\n"
    "                   table (share/recistry/dose-thresholds.ini); --no-flags: none\n"
    "  --dose-out F     write the dose map (Gy) as NRRD/NIfTI/MHA by extension\n"
    "  --report F       write the dose report (PDF); --signed-by NAME prints who produced it\n"
    "  --json           the result as JSON with the DVHs (docs/dosimetry.md)\n";

static int number(double *out, const char *s, const char *name, double lo, double hi) {
  if (!s) return 0;
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
    fprintf(stderr, "recistry dose: %s must be a number in [%g, %g], not '%s'\n", name, lo, hi, s);
    return -1;
  }
  *out = v;
  return 0;
}

int rcy_cmd_dose(int argc, char **argv) {
  /* --voi and --maa-voi repeat: take them out before the table parser, which keeps one value per option. */
  const char **vois = calloc((size_t)argc, sizeof *vois), **maa_vois = calloc((size_t)argc, sizeof *maa_vois);
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  size_t n_vois = 0, n_maa = 0;
  int n_rest = 0, rc = RCY_EXIT_FAIL;
  char *shipped = NULL; /* the shipped threshold table's path, when no --thresholds */
  rcy_store_location where = {0};
  if (!vois || !maa_vois || !rest) goto out;
  for (int i = 0; i < argc; i++) {
    int voi = !strcmp(argv[i], "--voi"), maa = !strcmp(argv[i], "--maa-voi");
    if ((voi || maa) && i + 1 < argc) {
      (voi ? vois : maa_vois)[voi ? n_vois++ : n_maa++] = argv[++i];
      continue;
    }
    rest[n_rest++] = argv[i];
  }
  rcy_cli_archive a = {0};
  const char *pet = NULL, *ct = NULL, *density = NULL, *subject = NULL, *maa = NULL, *maa_ct = NULL;
  const char *planned = NULL, *lsf = NULL, *prior = NULL, *thresholds = NULL, *dose_out = NULL, *report = NULL;
  const char *signed_by = NULL, *tnr = NULL;
  int json = 0, no_flags = 0;
  const rcy_cli_option opts[] = {
      {"--pet", "DIR", 0, &pet, NULL},          {"--ct", "DIR", 0, &ct, NULL},
      {"--density", "G_PER_ML", 0, &density, NULL}, RCY_CLI_ARCHIVE_OPTIONS(&a),
      {"--subject", "ID", 0, &subject, NULL},   {"--maa", "DIR", 0, &maa, NULL},
      {"--maa-ct", "DIR", 0, &maa_ct, NULL},    {"--planned-gbq", "GBQ", 0, &planned, NULL},
      {"--lsf", "F", 0, &lsf, NULL},            {"--prior-lung-gy", "GY", 0, &prior, NULL},
      {"--thresholds", "FILE", 0, &thresholds, NULL}, {"--no-flags", NULL, 0, NULL, &no_flags},
      {"--dose-out", "FILE", 0, &dose_out, NULL}, {"--report", "FILE", 0, &report, NULL},
      {"--signed-by", "NAME", 0, &signed_by, NULL}, {"--json", NULL, 0, NULL, &json},
      {"--tnr", "RATIO", 0, &tnr, NULL},
  };
  int parsed = rcy_cli_parse("dose", usage, opts, sizeof opts / sizeof opts[0], n_rest, rest);
  if (parsed >= 0) {
    rc = parsed;
    goto out;
  }
  const int archive = rcy_cli_archive_given(&a);
  if (archive == (pet != NULL) || (archive && !subject) || (!archive && subject)) {
    fprintf(stderr, "recistry dose: give either --pet DIR or --archive DIR|--config FILE --subject ID\n%s",
            usage);
    rc = RCY_EXIT_USAGE;
    goto out;
  }
  if (archive && (parsed = rcy_cli_archive_location(&where, &a, "dose", usage)) >= 0) {
    rc = parsed;
    goto out;
  }
  rcy_dose_run_options o;
  rcy_dose_run_options_init(&o);
  o.pet_dir = pet, o.ct_dir = ct, o.archive = archive ? &where : NULL, o.subject = subject;
  o.maa_dir = maa, o.maa_ct_dir = maa_ct;
  o.voi_specs = vois, o.n_voi_specs = n_vois, o.maa_voi_specs = maa_vois, o.n_maa_voi_specs = n_maa;
  if (number(&o.fixed_density_g_per_ml, density, "--density", 0.01, 3.0) ||
      number(&o.planned_activity_gbq, planned, "--planned-gbq", 0.01, 50) ||
      number(&o.lung_shunt_fraction, lsf, "--lsf", 0, 1) ||
      number(&o.prior_lung_gy, prior, "--prior-lung-gy", 0, 1000) || number(&o.tnr, tnr, "--tnr", 0.01, 100)) {
    rc = RCY_EXIT_USAGE;
    goto out;
  }
  /* The shipped table: PREFIX/share/recistry when installed, build/share/recistry in the build tree. */
  if (!thresholds && !no_flags) {
    rcy_error err = {0};
    if (rcy_path_shared(&shipped, "dose-thresholds.ini", &err)) {
      fprintf(stderr, "recistry dose: the shipped threshold table: %s; give --thresholds FILE or --no-flags\n",
              err.message);
      goto out;
    }
    thresholds = shipped;
  }
  o.thresholds_ini = no_flags ? NULL : thresholds;
  rcy_error err = {0};
  rcy_dose_run *run;
  if (rcy_dose_run_execute(&run, &o, &err)) {
    fprintf(stderr, "recistry dose: %s\n", err.message);
    goto out;
  }
  const rcy_dose_result *r = &run->result;
  rc = RCY_EXIT_OK;
  if (dose_out && rcy_imaging_float_write(dose_out, r->dose.values, r->dose.size, r->dose.origin_mm,
                                          r->dose.spacing_mm, r->dose.direction, &err)) {
    fprintf(stderr, "recistry dose: %s\n", err.message);
    rc = RCY_EXIT_FAIL;
  }
  if (report && !rc) {
    if (rcy_dose_report_write(run, report, signed_by, &err)) {
      fprintf(stderr, "recistry dose: %s\n", err.message);
      rc = RCY_EXIT_FAIL;
    }
    rcy_render_shutdown(); /* the font caches cairo filled; nothing draws after this */
  }
  if (json) {
    char *s = rcy_dose_run_json(run, 1);
    if (s) printf("%s\n", s);
    free(s);
  } else {
    printf("dose by local deposition (decay factor %.4f to the injection; %s)\n", r->decay_factor,
           run->density_source);
    printf("%-24s %9s %9s %8s %8s %8s %8s %6s %6s %6s\n", "compartment", "vol mL", "mass g", "mean Gy", "D50 Gy",
           "D70 Gy", "D90 Gy", "V100%", "V150%", "V205%");
    for (size_t i = 0; i < r->n_compartments; i++) {
      const rcy_dose_compartment *c = &r->compartments[i];
      printf("%-24s %9.1f %9.1f %8.1f %8.1f %8.1f %8.1f %6.1f %6.1f %6.1f\n", c->name, c->volume_ml, c->mass_g,
             c->mean_gy, c->d50_gy, c->d70_gy, c->d90_gy, c->v100_pct, c->v150_pct, c->v205_pct);
    }
    const rcy_dose_models *m = &r->models;
    printf("injected %.3f GBq; MIRD liver %.1f Gy", m->injected_gbq, m->mird_liver_gy);
    if (isfinite(m->partition_tumour_gy))
      printf("; partition model (T/N %.2f) tumour %.1f Gy, normal liver %.1f Gy", m->tnr, m->partition_tumour_gy,
             m->partition_normal_gy);
    if (isfinite(m->lung_gy)) printf("; lung %.1f Gy (LSF %.3f)", m->lung_gy, m->lung_shunt_fraction);
    printf("\n");
    for (size_t i = 0; i < r->n_flags; i++)
      printf("%s: %s\n", !strcmp(r->flags[i].severity, "warning") ? "WARNING" : "note", r->flags[i].message);
    if (!o.thresholds_ini) printf("(no threshold table: no flags)\n");
    if (run->note[0]) printf("note: %s\n", run->note);
  }
  rcy_dose_run_free(run);
out:
  rcy_store_location_free(&where);
  free(vois), free(maa_vois), free(rest), free(shipped);
  return rc;
}
