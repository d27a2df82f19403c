/* The formats of `recistry export` (cmd_export.c dispatches). */
#ifndef RECISTRY_CLI_EXPORT_H
#define RECISTRY_CLI_EXPORT_H

/* sr (cmd_export_sr.c): argv[0] is the format name. */
int rcy_export_sr(int argc, char **argv);
/* sdtm and csv (cmd_export_tables.c): argv as the command's, argv[1] the format name. */
int rcy_export_tables(int argc, char **argv);

#endif
