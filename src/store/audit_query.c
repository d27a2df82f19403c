/* Reading the audit log back, for the audit viewer (GET /api/audit) and `recistry audit list`: rows matching
 * a filter, newest first, one page at a time. Pages are keyed by seq (rows with seq < before_seq), not by an
 * offset, so rows appended while someone pages through older ones neither repeat nor skip rows.
 *
 * The WHERE clause is assembled from fixed fragments, one per criterion given, so that SQLite can use the
 * indexes of schema step 5 (a "?1 IS NULL OR …" form would defeat them); every value is a bound parameter. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#define SQL_MAX 1024
#define MAX_BINDS 8

typedef struct {
  char sql[SQL_MAX];
  size_t len;
  const char *binds[MAX_BINDS];
  int n_binds;
  char action_end[72]; /* upper bound of an action prefix range */
} query;

static void add_sql(query *q, const char *s) {
  size_t n = strlen(s);
  if (q->len + n < SQL_MAX) { /* fragments are constants: the buffer always fits them */
    memcpy(q->sql + q->len, s, n + 1);
    q->len += n;
  }
}

static void add_cond(query *q, const char *cond) {
  add_sql(q, q->n_binds ? " AND " : " WHERE ");
  add_sql(q, cond);
}

/* The criteria of f, except the action and the page when only_menu (the action menu's query). */
static int build_where(query *q, const rcy_audit_filter *f, int only_menu, rcy_error *err) {
  if (f->subject_id) {
    add_cond(q, "subject_id = ?");
    q->binds[q->n_binds++] = f->subject_id;
  }
  if (f->reader) {
    add_cond(q, "(actor = ? OR reader = ?)");
    q->binds[q->n_binds++] = f->reader;
    q->binds[q->n_binds++] = f->reader;
  }
  if (f->at_from) {
    add_cond(q, "at >= ?");
    q->binds[q->n_binds++] = f->at_from;
  }
  if (f->at_before) {
    add_cond(q, "at < ?");
    q->binds[q->n_binds++] = f->at_before;
  }
  if (!only_menu && f->action) {
    size_t n = strlen(f->action);
    if (n == 0 || n >= sizeof q->action_end)
      return rcy_error_set(err, RCY_EINVAL, "audit filter: action must be 1-%zu characters",
                           sizeof q->action_end - 1);
    if (f->action[n - 1] == '.') {
      /* "timepoint." matches "timepoint.sign" and "timepoint.unsign": the range ["timepoint.", "timepoint/")
       * ('/' follows '.' in every collation SQLite and PostgreSQL's C collation use), which an index serves
       * where LIKE would not (SQLite's LIKE is case-insensitive and skips indexes by default). */
      memcpy(q->action_end, f->action, n + 1);
      q->action_end[n - 1] = '/';
      add_cond(q, "action >= ? AND action < ?");
      q->binds[q->n_binds++] = f->action;
      q->binds[q->n_binds++] = q->action_end;
    } else {
      add_cond(q, "action = ?");
      q->binds[q->n_binds++] = f->action;
    }
  }
  return RCY_OK;
}

static int prepare(rcy_db_stmt **st, rcy_store *store, const query *q, const char *what, rcy_error *err) {
  if (rcy_db_prepare(st, store->db, q->sql)) return rcy_store_fail(store, what, err);
  for (int i = 0; i < q->n_binds; i++)
    rcy_db_bind_text(*st, i + 1, q->binds[i]);
  return RCY_OK;
}

static const char *col(rcy_db_stmt *st, int i) {
  return rcy_db_column_text(st, i);
}

int rcy_store_audit_query(long long *next_before, rcy_store *store, const rcy_audit_filter *f,
                          rcy_store_audit_fn fn, void *ctx, rcy_error *err) {
  *next_before = 0;
  if (f->limit < 1 || f->limit > RCY_AUDIT_LIMIT_MAX)
    return rcy_error_set(err, RCY_EINVAL, "audit filter: limit must be 1-%d", RCY_AUDIT_LIMIT_MAX);
  if (f->before_seq < 0)
    return rcy_error_set(err, RCY_EINVAL, "audit filter: before_seq must not be negative");
  query q = {.len = 0};
  add_sql(&q,
          "SELECT seq, at, actor, action, subject_id, read_role, reader, timepoint, lesion_id, before_json,"
          " after_json, reason FROM audit_log");
  int rc = build_where(&q, f, 0, err);
  if (rc) return rc;
  if (f->before_seq > 0) add_cond(&q, "seq < ?");
  /* One row more than the page: whether an older page exists, without a COUNT over the whole log. */
  add_sql(&q, " ORDER BY seq DESC LIMIT ?");
  rcy_db_stmt *st;
  if ((rc = prepare(&st, store, &q, "reading the audit log", err))) return rc;
  int next = q.n_binds + 1;
  if (f->before_seq > 0) rcy_db_bind_int64(st, next++, f->before_seq);
  rcy_db_bind_int(st, next, f->limit + 1);
  int step, n = 0;
  long long last_seq = 0;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    if (n == f->limit) {
      *next_before = last_seq;
      break;
    }
    rcy_audit_row row = {rcy_db_column_int64(st, 0),
                         col(st, 1),
                         col(st, 2),
                         col(st, 3),
                         col(st, 4),
                         col(st, 5),
                         col(st, 6),
                         col(st, 7),
                         col(st, 8),
                         col(st, 9),
                         col(st, 10),
                         col(st, 11)};
    last_seq = row.seq;
    n++;
    if ((rc = fn(ctx, &row))) break;
  }
  if (!rc && step != RCY_DB_ROW && step != RCY_DB_DONE)
    rc = rcy_store_fail(store, "reading the audit log", err);
  rcy_db_finalize(st);
  if (rc) *next_before = 0;
  return rc;
}

int rcy_store_audit_actions(rcy_store *store, const rcy_audit_filter *f,
                            int (*fn)(void *ctx, const char *action), void *ctx, rcy_error *err) {
  query q = {.len = 0};
  add_sql(&q, "SELECT DISTINCT action FROM audit_log");
  int rc = build_where(&q, f, 1, err);
  if (rc) return rc;
  add_sql(&q, " ORDER BY action");
  rcy_db_stmt *st;
  if ((rc = prepare(&st, store, &q, "listing audit actions", err))) return rc;
  int step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW)
    if ((rc = fn(ctx, col(st, 0)))) break;
  if (!rc && step != RCY_DB_ROW && step != RCY_DB_DONE)
    rc = rcy_store_fail(store, "listing audit actions", err);
  rcy_db_finalize(st);
  return rc;
}
