/* The audit-log viewer's rules, shared by GET /api/audit and `recistry audit list`: who may read the log (QA
 * and admin: it names every reader and holds their measurements), what a user may ask for (each parameter
 * checked with a message naming it), and what a page of the log looks like — the stored rows with their
 * before/after JSON parsed and the fields that changed listed, so that a screen and the command line show
 * the same thing without either comparing documents itself. */
#include "recistry/reads.h"
#include "recistry/recist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rcy_reads_audit_may_view(const rcy_user *user) {
  return strcmp(user->role, "qa") == 0 || strcmp(user->role, "admin") == 0;
}

void rcy_reads_audit_query_init(rcy_reads_audit_query *q) {
  memset(q, 0, sizeof *q);
  q->filter.limit = RCY_AUDIT_LIMIT_DEFAULT;
}

/* 1 when s is 1..max characters, each alphanumeric or in `extra`. */
static int chars_ok(const char *s, size_t max, const char *extra) {
  size_t n = strlen(s);
  if (n < 1 || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !strchr(extra, c)) return 0;
  }
  return 1;
}

/* A whole decimal number lo..hi (digits only: no sign, space or exponent). */
static int whole_number(long long *out, const char *s, long long lo, long long hi) {
  if (!*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s)) return 0;
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

int rcy_reads_audit_query_set(rcy_reads_audit_query *q, const char *name, const char *value, rcy_error *err) {
  if (!value || !*value) return RCY_OK;
  rcy_audit_filter *f = &q->filter;
  if (strcmp(name, "subject") == 0) {
    if (!rcy_reads_valid_name(value))
      return rcy_error_set(err, RCY_EINVAL,
                           "subject: a subject ID is 1-64 characters of A-Z a-z 0-9 . _ - "
                           "starting with a letter or digit");
    f->subject_id = value;
  } else if (strcmp(name, "reader") == 0) {
    if (!chars_ok(value, RCY_NAME_MAX, "._-:@"))
      return rcy_error_set(err, RCY_EINVAL,
                           "reader: an account name is 1-64 characters of A-Z a-z 0-9 . _ - : @");
    f->reader = value;
  } else if (strcmp(name, "action") == 0) {
    size_t n = strlen(value);
    if (n > 64 || value[0] < 'a' || value[0] > 'z' ||
        strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_.") != n)
      return rcy_error_set(err, RCY_EINVAL,
                           "action: an action is 1-64 characters of a-z 0-9 _ . starting with a "
                           "letter (e.g. timepoint.sign, or timepoint. for every timepoint action)");
    f->action = value;
  } else if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
    int32_t days, other;
    rcy_error e = {0};
    if (strlen(value) != 10 || rcy_recist_date_parse(&days, value, &e))
      return rcy_error_set(err, RCY_EINVAL, "%s: '%s' is not a calendar day YYYY-MM-DD", name, value);
    int is_from = name[0] == 'f';
    if (is_from && *q->to && !rcy_recist_date_parse(&other, q->to, &e) && days > other)
      return rcy_error_set(err, RCY_EINVAL, "from: %s is after to (%s)", value, q->to);
    if (!is_from && *q->from && !rcy_recist_date_parse(&other, q->from, &e) && other > days)
      return rcy_error_set(err, RCY_EINVAL, "to: %s is before from (%s)", value, q->from);
    if (is_from) {
      memcpy(q->from, value, 11);
      f->at_from = q->from;
    } else {
      memcpy(q->to, value, 11);
      /* `at` is ISO text starting with its day: rows of the `to` day sort before the next day's date. */
      rcy_recist_date_format(q->to_next, days + 1);
      f->at_before = q->to_next;
    }
  } else if (strcmp(name, "before") == 0) {
    long long v;
    if (!whole_number(&v, value, 1, (long long)1 << 62))
      return rcy_error_set(err, RCY_EINVAL,
                           "before: a row number (seq) of 1 or more, as next_before gives it");
    f->before_seq = v;
  } else if (strcmp(name, "limit") == 0) {
    long long v;
    if (!whole_number(&v, value, 1, RCY_AUDIT_LIMIT_MAX))
      return rcy_error_set(err, RCY_EINVAL, "limit: a whole number of rows from 1 to %d",
                           RCY_AUDIT_LIMIT_MAX);
    f->limit = (int)v;
  } else {
    return rcy_error_set(err, RCY_EINVAL,
                         "%s: unknown filter (subject, reader, action, from, to, before, limit)", name);
  }
  return RCY_OK;
}

/* ---- what changed ---- */

typedef struct {
  json_t *out;
  int n, truncated;
} changes;

static int absent(const json_t *v) {
  return !v || json_is_null(v);
}
static int container(const json_t *v) {
  return json_is_object(v) || json_is_array(v);
}

static int has_container(const json_t *a) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) if (container(v)) return 1;
  return 0;
}

static void leaf(changes *c, const json_t *path, const json_t *b, const json_t *a) {
  if (c->n++ >= RCY_AUDIT_CHANGES_MAX) {
    c->truncated = 1;
    return;
  }
  json_array_append_new(c->out, json_pack("{s:o,s:O,s:O}", "path", json_copy((json_t *)path), "before",
                                          absent(b) ? json_null() : b, "after", absent(a) ? json_null() : a));
}

static int key_cmp(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void diff(changes *c, json_t *path, const json_t *b, const json_t *a);

static void diff_child(changes *c, json_t *path, json_t *key, const json_t *b, const json_t *a) {
  json_array_append_new(path, key);
  diff(c, path, b, a);
  json_array_remove(path, json_array_size(path) - 1);
}

/* JSON null and absent count as the same (a state cleared, a key not written yet). Objects are compared key
 * by key; arrays holding objects or arrays element by element; anything else (numbers, strings, points
 * [col,row]) is one value. */
static void diff(changes *c, json_t *path, const json_t *b, const json_t *a) {
  if (absent(b) && absent(a)) return;
  if (!absent(b) && !absent(a) && json_equal((json_t *)b, (json_t *)a)) return;
  if ((absent(b) || json_is_object(b)) && (absent(a) || json_is_object(a))) {
    size_t nb = json_is_object(b) ? json_object_size(b) : 0, na = json_is_object(a) ? json_object_size(a) : 0;
    const char **keys = malloc((nb + na + 1) * sizeof *keys);
    if (!keys) return;
    size_t n = 0;
    const char *k;
    json_t *v;
    if (json_is_object(b)) json_object_foreach((json_t *)b, k, v) keys[n++] = k;
    if (json_is_object(a))
      json_object_foreach((json_t *)a, k, v) if (!json_is_object(b) || !json_object_get(b, k)) keys[n++] = k;
    qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < n; i++)
      diff_child(c, path, json_string(keys[i]), json_object_get(b, keys[i]), json_object_get(a, keys[i]));
    free(keys);
    return;
  }
  if ((absent(b) || json_is_array(b)) && (absent(a) || json_is_array(a)) &&
      (has_container(b) || has_container(a))) {
    size_t nb = json_array_size(b), na = json_array_size(a), n = nb > na ? nb : na;
    for (size_t i = 0; i < n; i++)
      diff_child(c, path, json_integer((json_int_t)i), json_array_get(b, i), json_array_get(a, i));
    return;
  }
  leaf(c, path, b, a);
}

json_t *rcy_reads_audit_changes(const json_t *before, const json_t *after, int *truncated) {
  changes c = {json_array(), 0, 0};
  json_t *path = json_array();
  diff(&c, path, before, after);
  json_decref(path);
  if (truncated) *truncated = c.truncated;
  return c.out;
}

/* ---- a page ---- */

/* The stored JSON text parsed; a value that does not parse (never written by recistry) stays as its text. */
static json_t *parsed(const char *text) {
  if (!text) return json_null();
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  return v ? v : json_string(text);
}

static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

static int add_entry(void *ctx, const rcy_audit_row *row) {
  json_t *before = parsed(row->before_json), *after = parsed(row->after_json);
  int truncated = 0;
  json_t *ch = rcy_reads_audit_changes(before, after, &truncated);
  json_t *e = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "seq", (json_int_t)row->seq,
                        "at", str_or_null(row->at), "actor", str_or_null(row->actor), "action",
                        str_or_null(row->action), "subject_id", str_or_null(row->subject_id), "read_role",
                        str_or_null(row->read_role), "reader", str_or_null(row->reader), "timepoint",
                        str_or_null(row->timepoint), "lesion_id", str_or_null(row->lesion_id), "before",
                        before, "after", after, "changes", ch, "reason", str_or_null(row->reason));
  if (!e) return RCY_ENOMEM;
  if (truncated) json_object_set_new(e, "changes_truncated", json_true());
  return json_array_append_new(ctx, e) ? RCY_ENOMEM : 0;
}

static int add_action(void *ctx, const char *action) {
  return json_array_append_new(ctx, json_string(action)) ? RCY_ENOMEM : 0;
}

int rcy_reads_audit_page(json_t **out, rcy_store *store, const rcy_reads_audit_query *q, rcy_error *err) {
  *out = NULL;
  json_t *entries = json_array(), *actions = json_array();
  long long next = 0;
  int rc = rcy_store_audit_query(&next, store, &q->filter, add_entry, entries, err);
  if (rc == RCY_ENOMEM) rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (!rc) rc = rcy_store_audit_actions(store, &q->filter, add_action, actions, err);
  if (rc == RCY_ENOMEM) rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rc) {
    json_decref(entries);
    json_decref(actions);
    return rc;
  }
  *out = json_pack("{s:o,s:o,s:o}", "entries", entries, "next_before",
                   next ? json_integer((json_int_t)next) : json_null(), "actions", actions);
  return *out ? RCY_OK : rcy_error_set(err, RCY_ENOMEM, "out of memory");
}
