/* `recistry registry import|list`: the subjects' registry data (treatment start, indication, survival dates)
 * that the endpoints and every read's timing rely on. Rules and format: src/reads/registry.c, docs/registry.md. */
#include "archive_args.h"
#include "commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recistry/reads.h"

static const char usage[] =
    "usage: recistry registry import --archive DIR|--config FILE FILE.csv\n"
    "         (all or nothing; errors name line and column)\n"
    "       recistry registry list --archive DIR|--config FILE [--json] [SUBJECT...]\n"
    "CSV columns (header row, any order): subject_id,site_id,treatment_start,indication[,liver_only][,death_date]\n"
    "  [,last_contact_date][,secondary_resection_date] — see docs/registry.md.\n";

typedef struct {
  int json, n_wanted, printed;
  char **wanted;
  json_t *array;
} list_ctx;

static int print_subject(void *ctx, const rcy_registry_subject *s) {
  list_ctx *c = ctx;
  if (c->n_wanted) {
    int hit = 0;
    for (int i = 0; i < c->n_wanted && !hit; i++) hit = strcmp(c->wanted[i], s->subject_id) == 0;
    if (!hit) return 0;
  }
  c->printed++;
  if (c->json) {
    char *text = rcy_registry_subject_to_json(s);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!o) return RCY_ENOMEM;
    json_array_append_new(c->array, o);
    return 0;
  }
  if (c->printed == 1)
    printf("%-18s %-6s %-10s %-20s %-5s %-10s %-10s %-10s\n", "subject", "site", "start", "indication", "liver",
           "death", "contact", "resection");
  printf("%-18s %-6s %-10s %-20s %-5s %-10s %-10s %-10s\n", s->subject_id, s->site_id, s->treatment_start,
         s->indication, s->liver_only < 0 ? "-" : s->liver_only ? "yes" : "no", *s->death_date ? s->death_date : "-",
         *s->last_contact_date ? s->last_contact_date : "-",
         *s->secondary_resection_date ? s->secondary_resection_date : "-");
  return 0;
}

int rcy_cmd_registry(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? RCY_EXIT_USAGE : RCY_EXIT_OK;
  }
  const char *action = argv[1];
  rcy_cli_archive a = {0};
  char **args = calloc((size_t)argc, sizeof *args);
  int n_args = 0, json = 0;
  if (!args) return RCY_EXIT_FAIL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--archive") == 0 && i + 1 < argc) a.dir = argv[++i];
    else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) a.config = argv[++i];
    else if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (argv[i][0] != '-') args[n_args++] = argv[i];
    else {
      fprintf(stderr, "recistry registry: unexpected argument '%s'\n%s", argv[i], usage);
      free(args);
      return RCY_EXIT_USAGE;
    }
  }
  int is_import = strcmp(action, "import") == 0, is_list = strcmp(action, "list") == 0;
  if (!rcy_cli_archive_given(&a) || (!is_import && !is_list) || (is_import && (n_args != 1 || json))) {
    fputs(usage, stderr);
    free(args);
    return RCY_EXIT_USAGE;
  }
  rcy_store *store;
  rcy_error err = {0};
  int ex = rcy_cli_archive_open(&store, &a, "registry", usage);
  if (ex >= 0) {
    free(args);
    return ex;
  }
  int rc;
  if (is_import) {
    size_t n_rows = 0, n_changed = 0;
    rc = rcy_registry_import(&n_rows, &n_changed, store, args[0], NULL, stderr, &err);
    if (!rc) printf("imported %zu subject(s) from %s: %zu new or changed, %zu unchanged\n", n_rows, args[0],
                    n_changed, n_rows - n_changed);
  } else {
    list_ctx c = {.json = json, .n_wanted = n_args, .wanted = args, .array = json ? json_array() : NULL};
    rc = rcy_store_registry_each(store, print_subject, &c, &err);
    if (rc == RCY_ENOMEM) rcy_error_set(&err, rc, "out of memory");
    if (!rc && json) {
      char *text = json_dumps(c.array, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      if (text) printf("%s\n", text);
      free(text);
    } else if (!rc && !c.printed) {
      fprintf(stderr, "recistry registry: %s\n", n_args ? "no registry data for the subject(s) given"
                                                        : "the registry is empty (recistry registry import)");
    }
    if (!rc && n_args && c.printed < n_args) rc = rcy_error_set(&err, RCY_ENOTFOUND, "%d subject(s) not in the registry", n_args - c.printed);
    json_decref(c.array);
  }
  rcy_store_close(store);
  free(args);
  if (rc) {
    fprintf(stderr, "recistry registry %s: %s\n", action, err.message);
    return RCY_EXIT_FAIL;
  }
  return RCY_EXIT_OK;
}
