/* `recistry user add`: create a reader account (password from a no-echo prompt or --password-file). */
#include "archive_args.h"
#include "commands.h"
#include "options.h"

#include "recistry/store.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char usage[] =
    "usage: recistry user add --archive DIR|--config FILE --name NAME --role central|adjudicator|site|qa|admin\n"
    "                         [--site SITE_ID] [--password-file FILE]\n"
    "The password (>= 8 characters) is read from FILE's first line, else prompted for without echo;\n"
    "it is stored as an argon2id hash. A site user needs --site.\n";

static int read_line(char *buf, size_t size, FILE *f) {
  if (!fgets(buf, (int)size, f)) return -1;
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
  return 0;
}

static int prompt_password(char *buf, size_t size) {
  FILE *tty = fopen("/dev/tty", "r+");
  FILE *in = tty ? tty : stdin;
  struct termios old, quiet;
  int restore = tcgetattr(fileno(in), &old) == 0;
  if (restore) {
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    tcsetattr(fileno(in), TCSAFLUSH, &quiet);
  }
  fputs("password: ", tty ? tty : stderr);
  fflush(tty ? tty : stderr);
  int rc = read_line(buf, size, in);
  if (restore) tcsetattr(fileno(in), TCSAFLUSH, &old);
  fputc('\n', tty ? tty : stderr);
  if (tty) fclose(tty);
  return rc;
}

int rcy_cmd_user(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  if (strcmp(argv[1], "add") != 0) {
    fprintf(stderr, "recistry user: unknown action '%s'\n%s", argv[1], usage);
    return RCY_EXIT_USAGE;
  }
  rcy_cli_archive a = {0};
  const char *name = NULL, *role = NULL, *site = NULL, *pwfile = NULL;
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a),
                                    {"--name", "NAME", 1, &name, NULL},
                                    {"--role", "ROLE", 1, &role, NULL},
                                    {"--site", "SITE", 0, &site, NULL},
                                    {"--password-file", "FILE", 0, &pwfile, NULL}};
  int parsed = rcy_cli_parse("user add", usage, options, sizeof options / sizeof options[0], argc - 1, argv + 1);
  if (parsed >= 0) return parsed;
  /* The archive first: a wrong config fails before anyone types a password. */
  rcy_store_location where;
  if ((parsed = rcy_cli_archive_location(&where, &a, "user add", usage)) >= 0) return parsed;
  char password[1024];
  if (pwfile) {
    FILE *f = fopen(pwfile, "r");
    int rc = f ? read_line(password, sizeof password, f) : -1;
    if (f) fclose(f);
    if (rc) {
      fprintf(stderr, "recistry user add: cannot read a password from %s\n", pwfile);
      rcy_store_location_free(&where);
      return RCY_EXIT_FAIL;
    }
  } else if (prompt_password(password, sizeof password)) {
    fprintf(stderr, "recistry user add: no password given\n");
    rcy_store_location_free(&where);
    return RCY_EXIT_FAIL;
  }
  rcy_store *store;
  rcy_error err = {0};
  int rc = rcy_store_open_at(&store, &where, &err);
  rcy_store_location_free(&where);
  if (!rc) {
    rc = rcy_store_user_add(store, name, role, site, password, &err);
    rcy_store_close(store);
  }
  memset(password, 0, sizeof password);
  if (rc) {
    fprintf(stderr, "recistry user add: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  printf("user %s (%s%s%s) added\n", name, role, site ? ", site " : "", site ? site : "");
  return RCY_EXIT_OK;
}
