/* `recistry audit verify --archive DIR|--config FILE`: recompute the audit log's hash chain; exit 1 naming
 * the first broken row.
 * `recistry audit list --archive DIR|--config FILE [filters] [--json]`: the audit-log viewer's page on the
 * command line — the same filters, checks and JSON as GET /api/audit (src/reads/audit_view.c), or a table. */
#include "archive_args.h"
#include "commands.h"
#include "options.h"

#include "recistry/reads.h"
#include "recistry/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: recistry audit verify --archive DIR|--config FILE\n"
    "       recistry audit list --archive DIR|--config FILE [--subject S] [--reader R] [--action A]\n"
    "                           [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--before SEQ] [--limit N] [--json]\n"
    "verify: recomputes the SHA-256 chain of the audit log. Exit 0 intact, 1 broken (first bad row named).\n"
    "list:   audit rows, newest first (at most --limit, default 100, at most 500). --reader matches who made "
    "the\n"
    "        change or whose read it changed; --action an action (timepoint.sign) or a prefix ending in '.'\n"
    "        (timepoint.); --from/--to UTC days, both included; --before SEQ the older page (next_before).\n"
    "        --json prints what GET /api/audit returns.\n";

static int verify(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a)};
  int parsed = rcy_cli_parse("audit verify", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_store *store;
  rcy_error err = {0};
  if ((parsed = rcy_cli_archive_open(&store, &a, "audit verify", usage)) >= 0) return parsed;
  long long n = 0, bad = 0;
  int rc = rcy_store_audit_verify(&n, &bad, store, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry audit verify: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  printf("audit log intact: %lld row(s)\n", n);
  return RCY_EXIT_OK;
}

/* Text on one line: control characters (line breaks in a reason) shown as spaces. Returns its length. */
static int text(const char *s) {
  int n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
    putchar(*p < 0x20 || *p == 0x7f ? ' ' : *p);
  return n;
}

/* One table cell padded to width, "-" for none. */
static void cell(const char *s, int width) {
  for (int n = text(s && *s ? s : "-"); n < width; n++)
    putchar(' ');
  putchar(' ');
}

static const char *str(const json_t *e, const char *key) {
  return json_string_value(json_object_get(e, key));
}

/* A changed value in one line: JSON, compact; "∅" for absent; long values cut. */
static void value(const json_t *v) {
  if (json_is_null(v)) {
    fputs("∅", stdout);
    return;
  }
  char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  if (!t) return;
  if (strlen(t) > 60) strcpy(t + 57, "...");
  text(t);
  free(t);
}

#define CHANGES_SHOWN 8

static void print_table(const json_t *page) {
  const json_t *entries = json_object_get(page, "entries");
  printf("%-6s %-24s %-12s %-18s %-16s %-20s %-6s %-7s %s\n", "SEQ", "AT (UTC)", "WHO", "ACTION", "SUBJECT",
         "READ", "TP", "LESION", "REASON");
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    char seq[24], read[140] = "";
    snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
    if (str(e, "read_role"))
      snprintf(read, sizeof read, "%s/%s", str(e, "read_role"), str(e, "reader") ? str(e, "reader") : "?");
    cell(seq, 6);
    cell(str(e, "at"), 24);
    cell(str(e, "actor"), 12);
    cell(str(e, "action"), 18);
    cell(str(e, "subject_id"), 16);
    cell(read, 20);
    cell(str(e, "timepoint"), 6);
    cell(str(e, "lesion_id"), 7);
    text(str(e, "reason") ? str(e, "reason") : "-");
    putchar('\n');
    const json_t *ch = json_object_get(e, "changes");
    size_t j, k;
    json_t *c, *key;
    json_array_foreach(ch, j, c) {
      if (j == CHANGES_SHOWN) {
        printf("       ... %zu more change(s): --json shows them all\n", json_array_size(ch) - j);
        break;
      }
      fputs("       ", stdout);
      json_array_foreach(json_object_get(c, "path"), k, key) {
        if (k) putchar('.');
        if (json_is_integer(key))
          printf("[%lld]", (long long)json_integer_value(key));
        else
          text(json_string_value(key));
      }
      fputs(": ", stdout);
      value(json_object_get(c, "before"));
      fputs(" -> ", stdout);
      value(json_object_get(c, "after"));
      putchar('\n');
    }
  }
  const json_t *next = json_object_get(page, "next_before");
  if (json_is_integer(next))
    printf("(older rows: --before %lld)\n", (long long)json_integer_value(next));
  else
    printf("(%zu row(s), no older ones)\n", json_array_size(entries));
}

static int list(int argc, char **argv) {
  rcy_cli_archive a = {0};
  const char *v[7] = {0};
  static const char *const names[7] = {"subject", "reader", "action", "from", "to", "before", "limit"};
  int json = 0;
  const rcy_cli_option options[] = {
      RCY_CLI_ARCHIVE_OPTIONS(&a),              {"--subject", "S", 0, &v[0], NULL},
      {"--reader", "R", 0, &v[1], NULL},        {"--action", "A", 0, &v[2], NULL},
      {"--from", "YYYY-MM-DD", 0, &v[3], NULL}, {"--to", "YYYY-MM-DD", 0, &v[4], NULL},
      {"--before", "SEQ", 0, &v[5], NULL},      {"--limit", "N", 0, &v[6], NULL},
      {"--json", NULL, 0, NULL, &json}};
  int parsed = rcy_cli_parse("audit list", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (parsed >= 0) return parsed;
  rcy_reads_audit_query q;
  rcy_reads_audit_query_init(&q);
  rcy_error err = {0};
  for (int i = 0; i < 7; i++)
    if (v[i] && rcy_reads_audit_query_set(&q, names[i], v[i], &err)) {
      fprintf(stderr, "recistry audit list: --%s\n", err.message);
      return RCY_EXIT_USAGE;
    }
  rcy_store *store;
  if ((parsed = rcy_cli_archive_open(&store, &a, "audit list", usage)) >= 0) return parsed;
  json_t *page;
  int rc = rcy_reads_audit_page(&page, store, &q, &err);
  rcy_store_close(store);
  if (rc) {
    fprintf(stderr, "recistry audit list: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  if (json) {
    json_dumpf(page, stdout, JSON_INDENT(2));
    putchar('\n');
  } else {
    print_table(page);
  }
  json_decref(page);
  return RCY_EXIT_OK;
}

int rcy_cmd_audit(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
    fputs(usage, stdout);
    return RCY_EXIT_OK;
  }
  if (argc >= 2 && strcmp(argv[1], "verify") == 0) return verify(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "list") == 0) return list(argc - 1, argv + 1);
  fprintf(stderr, "recistry audit: expected the action 'verify' or 'list'\n%s", usage);
  return RCY_EXIT_USAGE;
}
