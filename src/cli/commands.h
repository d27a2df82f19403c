/* The `recistry` subcommands. Each lives in its own file, cmd_<name>.c, and defines
 * int rcy_cmd_<name>(int argc, char **argv) where argv[0] is the subcommand name.
 * Exit codes for every command: 0 ok, 1 failure or invalid input (message on stderr), 2 usage. */
#ifndef RECISTRY_CLI_COMMANDS_H
#define RECISTRY_CLI_COMMANDS_H

#define RCY_EXIT_OK 0
#define RCY_EXIT_FAIL 1
#define RCY_EXIT_USAGE 2

/* X(name, one-line summary). A command whose file is not part of the build (an optional module that
 * was left out) is declared weak and reported as unavailable instead of breaking the link. */
#define RCY_COMMANDS(X)                                                                         \
  X(recist, "compute RECIST 1.1 responses for one subject or an array of subjects (JSON)")      \
  X(concordance, "compare two reads (site vs central) of the same subjects")                     \
  X(sample, "generate synthetic anonymised CT/MR studies with known lesions")                    \
  X(init, "create an archive (index database + storage)")                                        \
  X(ingest, "run the DICOM receiving daemon")                                                    \
  X(studies, "list the studies in an archive with their QC status")                              \
  X(verify, "check every archived file against the index and vice versa")                        \
  X(pull, "poll a site's DICOM node for new studies, or fetch one; pull status")                 \
  X(serve, "serve the reader workstation over HTTP")                                             \
  X(user, "manage reader accounts")                                                              \
  X(reads, "export or import reads in the engine's input format")                                \
  X(registry, "import or list the subjects' registry data (treatment start, indication, survival)") \
  X(endpoints, "registry endpoints: OS, PFS, hepatic PFS, ORR, DCR, ETS, DpR (by indication, log-rank)") \
  X(adjudication, "independent central review: the adjudication queue, a subject's review, the paradigm") \
  X(export, "exports: CDISC SDTM TU/TR/RS, a flat CSV, DICOM SR TID 1500 measurement reports")        \
  X(report, "PDF reports: one subject (reads, responses, key images, signatures) or the cohort (endpoints, plots)") \
  X(audit, "verify or list the hash-chained audit log")                                          \
  X(segment, "semi-automatic lesion measurement: one click -> RECIST diameters, volume, contours") \
  X(dose, "TARE 90Y dosimetry: absorbed dose per compartment (LDM, MIRD, partition), DVH, EANM flags") \
  X(dose_response, "TARE cohort: dose-response, dose-toxicity, MAA vs 90Y concordance, TTP by dose group")

#define RCY_DECLARE(name, summary) int rcy_cmd_##name(int argc, char **argv) __attribute__((weak));
RCY_COMMANDS(RCY_DECLARE)
#undef RCY_DECLARE

#endif
