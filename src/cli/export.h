/* The formats of `recistry export` (cmd_export.c dispatches): each takes argv with argv[0] the format name.
 */
#ifndef RECISTRY_CLI_EXPORT_H
#define RECISTRY_CLI_EXPORT_H

int rcy_export_sr(int argc, char **argv);

#endif
