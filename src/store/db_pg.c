/* The PostgreSQL driver of src/store/db.h (libpq): several ingest nodes and reader servers on one index.
 *
 * SQLite's statement model (prepare, bind, step, column) on top of libpq's whole-result calls: a statement
 * runs at its first step (parameters sent as text, blobs as binary bytea), the whole result comes back as
 * text, and later steps walk its rows. Persistent statements are prepared server-side once per connection
 * under a name of their own (rcy_p<N>) at their first step, when the bound values' kinds are known; others go
 * through PQexecParams (one round trip, nothing left behind on the server). Parameters go untyped, for
 * PostgreSQL to infer from their context, except where it cannot (param_types).
 *
 * Connection messages never carry the URI's password: the target is shown with it masked, and any message
 * libpq returns is scrubbed of it too. */
#include "db_driver.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* PostgreSQL's type OIDs (pg_type.h is a server header). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25, OID_FLOAT8 = 701 };

typedef enum { BOUND_NULL = 0, BOUND_TEXT, BOUND_INT, BOUND_DOUBLE, BOUND_BLOB } bound_kind;

/* The advisory lock every write transaction takes (rcy_db_begin_write): one key for the whole index. */
#define WRITE_LOCK_KEY 0x72637930 /* "rcy0" */

typedef struct {
  rcy_db base;
  PGconn *conn;
  char *password; /* to scrub from messages, or NULL */
  int64_t changes;
  unsigned next_name;
} pg_db;

typedef struct {
  rcy_db_stmt base;
  pg_db *db;
  char *sql;       /* with $n placeholders */
  int n_params;
  unsigned char *before_is; /* per parameter: it stands before IS somewhere (`?1 IS NULL OR x = ?1`) */
  char **values;   /* owned copies; NULL = SQL NULL */
  int *lengths;
  int *formats;
  bound_kind *kinds;
  int persistent;
  int prepared;    /* persistent and prepared on the server */
  char name[24];
  PGresult *res;   /* the result being walked, or NULL before the first step */
  int row;         /* the current row; -1 before the first */
  unsigned char **blobs; /* per column: bytea decoded for the current row (PQunescapeBytea), or NULL */
  size_t *blob_lens;
  int n_blobs;
} pg_stmt;

static pg_db *PG(rcy_db *db) { return (pg_db *)db; }
static pg_stmt *ST(rcy_db_stmt *st) { return (pg_stmt *)st; }

/* ---- messages ---- */

/* Copies src into dst with every occurrence of the password replaced by "***", without libpq's final
 * newline. */
static void scrub(char *dst, size_t cap, const char *src, const char *password) {
  size_t n = 0, plen = password ? strlen(password) : 0;
  while (*src && n + 1 < cap) {
    if (plen && strncmp(src, password, plen) == 0) {
      for (const char *m = "***"; *m && n + 1 < cap; m++) dst[n++] = *m;
      src += plen;
      continue;
    }
    dst[n++] = *src++;
  }
  dst[n] = 0;
  while (n && (dst[n - 1] == '\n' || dst[n - 1] == ' ')) dst[--n] = 0;
}

/* SQLSTATE classes as db.h's kinds. A trigger's refusal (schema_pg.c) raises 23000 like a constraint. */
static int kind_of_sqlstate(const char *state) {
  if (!state) return RCY_ESTORE;
  if (strncmp(state, "23", 2) == 0) return RCY_ECONFLICT;
  if (strcmp(state, "53100") == 0) return RCY_ENOSPC;
  if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0) return RCY_EBUSY;
  return RCY_ESTORE;
}

static int fail_result(pg_db *d, const PGresult *res) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  char raw[RCY_DB_ERRMSG_MAX], clean[RCY_DB_ERRMSG_MAX];
  if (primary)
    snprintf(raw, sizeof raw, "%s (SQLSTATE %s)", primary, state ? state : "?");
  else
    snprintf(raw, sizeof raw, "%s", PQerrorMessage(d->conn)); /* the connection is gone: no result */
  scrub(clean, sizeof clean, raw, d->password);
  return rcy_db_fail(&d->base, kind_of_sqlstate(state), "%s", clean);
}

/* The URI for messages: a password in its authority (user:PASSWORD@) or query (password=...) masked. */
static void mask_uri(char *dst, size_t cap, const char *uri) {
  size_t n = 0;
  const char *scheme = strstr(uri, "://");
  const char *auth = scheme ? scheme + 3 : uri;
  const char *at = strchr(auth, '@');
  const char *slash = strchr(auth, '/');
  const char *colon = (at && (!slash || at < slash)) ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
  for (const char *p = uri; *p && n + 4 < cap;) {
    if (colon && p == colon + 1) {
      memcpy(dst + n, "***", 3);
      n += 3;
      p = at;
      continue;
    }
    if (strncmp(p, "password=", 9) == 0 && (p == uri || p[-1] == '?' || p[-1] == '&')) {
      memcpy(dst + n, "password=***", 12 < cap - n - 1 ? 12 : 0);
      n += 12 < cap - n - 1 ? 12 : 0;
      p += 9;
      while (*p && *p != '&') p++;
      continue;
    }
    dst[n++] = *p++;
  }
  dst[n] = 0;
}

/* ---- SQL text ---- */

/* Grows a string buffer; returns 0 or -1 (out of memory). */
typedef struct {
  char *s;
  size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *p, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->n + n + 1 > cap) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) return -1;
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->n, p, n);
  b->n += n;
  b->s[b->n] = 0;
  return 0;
}

/* Length of the quoted string, identifier or comment starting at p (0 if none starts there): `?` and words
 * inside them are never translated. */
static size_t opaque_len(const char *p) {
  if (*p == '\'' || *p == '"') {
    const char *q = p + 1;
    for (;;) {
      if (!*q) return (size_t)(q - p);
      if (*q == *p) {
        if (q[1] == *p) { q += 2; continue; } /* doubled quote */
        return (size_t)(q + 1 - p);
      }
      q++;
    }
  }
  if (p[0] == '-' && p[1] == '-') {
    const char *q = p;
    while (*q && *q != '\n') q++;
    return (size_t)(q - p);
  }
  if (p[0] == '/' && p[1] == '*') {
    const char *q = strstr(p + 2, "*/");
    return q ? (size_t)(q + 2 - p) : strlen(p);
  }
  return 0;
}

static int is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int word_is(const char *w, size_t n, const char *kw) { return strlen(kw) == n && strncasecmp(w, kw, n) == 0; }

/* The next word after p (skipping spaces), its length in *n. */
static const char *next_word(const char *p, size_t *n) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  const char *e = p;
  while (is_word_char(*e)) e++;
  *n = (size_t)(e - p);
  return p;
}

/* `?` -> $1, $2, ... and `?NNN` -> $NNN outside quotes and comments; a bare `?` after `?NNN` is the
 * largest number so far plus one, as in SQLite. */
static char *number_placeholders(const char *sql, int *n_params, unsigned char **before_is) {
  sbuf b = {0};
  int n = 0;
  size_t cap = strlen(sql) + 1; /* more than the number of placeholders */
  unsigned char *is = calloc(cap, 1);
  if (!is) return NULL;
  for (const char *p = sql; *p;) {
    size_t skip = opaque_len(p);
    if (skip) {
      if (sb_put(&b, p, skip)) goto nomem;
      p += skip;
    } else if (*p == '?') {
      char *end;
      long k = strtol(p + 1, &end, 10);
      int numbered = p[1] >= '0' && p[1] <= '9' && k > 0 && k < 100000;
      int i = numbered ? (int)k : n + 1;
      if (i > n) n = i;
      char num[16];
      int len = snprintf(num, sizeof num, "$%d", i);
      if (sb_put(&b, num, (size_t)len)) goto nomem;
      p = numbered ? end : p + 1;
      size_t wl;
      const char *w = next_word(p, &wl);
      if (wl == 2 && strncasecmp(w, "IS", 2) == 0 && (size_t)i < cap) is[i - 1] = 1;
    } else {
      if (sb_put(&b, p, 1)) goto nomem;
      p++;
    }
  }
  if (!b.s && sb_put(&b, "", 0)) goto nomem;
  *n_params = n;
  *before_is = is;
  return b.s;
nomem:
  free(b.s);
  free(is);
  return NULL;
}

/* SQLite's column types in PostgreSQL's words (db.h): INTEGER PRIMARY KEY -> an identity (SQLite's rowid
 * alias takes the next id when none is given), INTEGER -> BIGINT (SQLite's integers are 64-bit), REAL ->
 * DOUBLE PRECISION, BLOB -> BYTEA. Only whole words outside quotes and comments. */
static char *translate_ddl(const char *sql) {
  sbuf b = {0};
  for (const char *p = sql; *p;) {
    size_t skip = opaque_len(p);
    if (skip) {
      if (sb_put(&b, p, skip)) goto nomem;
      p += skip;
      continue;
    }
    if (!is_word_char(*p) || (p > sql && is_word_char(p[-1]))) {
      if (sb_put(&b, p, 1)) goto nomem;
      p++;
      continue;
    }
    const char *e = p;
    while (is_word_char(*e)) e++;
    size_t n = (size_t)(e - p);
    const char *out = NULL;
    const char *after = e;
    if (word_is(p, n, "INTEGER")) {
      size_t n1, n2;
      const char *w1 = next_word(e, &n1);
      const char *w2 = n1 ? next_word(w1 + n1, &n2) : NULL;
      if (w2 && word_is(w1, n1, "PRIMARY") && word_is(w2, n2, "KEY")) {
        out = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
        after = w2 + n2;
      } else {
        out = "BIGINT";
      }
    } else if (word_is(p, n, "REAL")) {
      out = "DOUBLE PRECISION";
    } else if (word_is(p, n, "BLOB")) {
      out = "BYTEA";
    }
    if (out ? sb_put(&b, out, strlen(out)) : sb_put(&b, p, n)) goto nomem;
    p = after;
  }
  if (!b.s && sb_put(&b, "", 0)) goto nomem;
  return b.s;
nomem:
  free(b.s);
  return NULL;
}

static int exec_sql(pg_db *d, const char *sql) {
  PGresult *res = PQexec(d->conn, sql);
  ExecStatusType s = PQresultStatus(res);
  int rc = RCY_OK;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) rc = fail_result(d, res);
  const char *changed = rc ? NULL : PQcmdTuples(res); /* of the script's last statement, as SQLite counts */
  if (changed && changed[0]) d->changes = strtoll(changed, NULL, 10);
  PQclear(res);
  return rc;
}

static int db_exec(rcy_db *db, const char *sql) { return exec_sql(PG(db), sql); }

/* A step's own PostgreSQL text goes through the same type translation, so that it can share the SQLite
 * text's table definitions (schema_reads.c). */
static int db_exec_ddl(rcy_db *db, const char *sqlite_sql, const char *postgresql_sql_or_null) {
  char *sql = translate_ddl(postgresql_sql_or_null ? postgresql_sql_or_null : sqlite_sql);
  if (!sql) return rcy_db_fail(db, RCY_ENOMEM, "out of memory");
  int rc = exec_sql(PG(db), sql);
  free(sql);
  return rc;
}

/* Every write transaction of every node takes the same transaction-level advisory lock right after BEGIN,
 * so writers run one at a time across the whole cluster, as SQLite's BEGIN IMMEDIATE makes them on one
 * file. That keeps the store's read-then-write transactions (the audit log's hash chain reads the last row
 * and appends the next; a sign-off reads the read it signs; the ingest's owner checks read the study before
 * inserting) exactly as correct as on SQLite under PostgreSQL's default READ COMMITTED: the lock is taken
 * before the transaction's first snapshot-taking statement, so each statement after it sees every write
 * committed before it. Readers take no lock and never wait. The lock is released by COMMIT or ROLLBACK, and
 * by the server when a node's connection dies (kill -9), so a dead node never holds up the others. The price
 * is that index writes do not run in parallel across nodes: each is a few short statements (well under a
 * millisecond each on a local server) while receiving and flushing a file takes milliseconds, so nodes still
 * receive in parallel and queue only for the commit. */
static int db_begin_write(rcy_db *db) {
  char sql[96];
  snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%d)", WRITE_LOCK_KEY);
  int rc = exec_sql(PG(db), sql);
  if (rc && PQtransactionStatus(PG(db)->conn) != PQTRANS_IDLE) PQclear(PQexec(PG(db)->conn, "ROLLBACK"));
  return rc;
}

/* synchronous_commit = off on the ingest writer's connection only, where SQLite runs synchronous=NORMAL
 * (rcy_archive_writer_sync): COMMIT returns before the server has flushed the commit's WAL record; the
 * server's WAL writer flushes it within 3 x wal_writer_delay (600 ms by default). A crash of the daemon
 * loses nothing (the server has the commit); a crash of the server or its machine may lose the last
 * fraction of a second of rows, never corrupt anything, and the rows lost are of files already durable in
 * storage. The daemon's start-up recovery (src/ingest/recover.c) indexes such files again.
 *
 * With several nodes on one shared storage folder, that recovery must not take another node's file in
 * flight (renamed to its final name, row not yet committed) for one a crash orphaned: see the rule and its
 * reasoning in recover.c. Every other connection (reader servers, the CLI, audit, sign-off) keeps
 * synchronous_commit = on: their commits are durable when COMMIT returns. */
static int db_relax_durability(rcy_db *db) { return exec_sql(PG(db), "SET synchronous_commit = off"); }

/* The server checkpoints its own WAL: nothing for a client to defer or do. */
static int db_defer_checkpoints(rcy_db *db) {
  (void)db;
  return 0;
}
static int db_checkpoint(rcy_db *db) {
  (void)db;
  return RCY_OK;
}

static int db_in_transaction(rcy_db *db) { return PQtransactionStatus(PG(db)->conn) != PQTRANS_IDLE; }

/* ---- statements ---- */

static void st_finalize(rcy_db_stmt *st);

static int db_prepare(rcy_db_stmt **out, rcy_db *db, const char *sql, int persistent) {
  pg_stmt *s = calloc(1, sizeof *s);
  if (!s) return rcy_db_fail(db, RCY_ENOMEM, "out of memory");
  s->base.db = db;
  s->db = PG(db);
  s->row = -1;
  s->persistent = persistent;
  s->sql = number_placeholders(sql, &s->n_params, &s->before_is);
  size_t np = s->n_params ? (size_t)s->n_params : 1;
  s->values = calloc(np, sizeof *s->values);
  s->lengths = calloc(np, sizeof *s->lengths);
  s->formats = calloc(np, sizeof *s->formats);
  s->kinds = calloc(np, sizeof *s->kinds);
  if (!s->sql || !s->values || !s->lengths || !s->formats || !s->kinds) {
    st_finalize(&s->base);
    return rcy_db_fail(db, RCY_ENOMEM, "out of memory");
  }
  if (persistent) snprintf(s->name, sizeof s->name, "rcy_p%u", ++PG(db)->next_name);
  *out = &s->base;
  return RCY_OK;
}

static void drop_result(pg_stmt *s) {
  for (int i = 0; i < s->n_blobs; i++) PQfreemem(s->blobs[i]);
  free(s->blobs);
  free(s->blob_lens);
  s->blobs = NULL;
  s->blob_lens = NULL;
  s->n_blobs = 0;
  PQclear(s->res);
  s->res = NULL;
  s->row = -1;
}

static int bind_raw(rcy_db_stmt *st, int i, const void *v, size_t n, bound_kind kind) {
  pg_stmt *s = ST(st);
  if (i < 1 || i > s->n_params)
    return rcy_db_fail(st->db, RCY_EINTERNAL, "parameter %d of a statement with %d", i, s->n_params);
  char *copy = NULL;
  if (kind != BOUND_NULL) {
    if (!(copy = malloc(n + 1))) return rcy_db_fail(st->db, RCY_ENOMEM, "out of memory");
    if (n) memcpy(copy, v, n);
    copy[n] = 0;
  }
  free(s->values[i - 1]);
  s->values[i - 1] = copy;
  s->lengths[i - 1] = (int)n;
  s->formats[i - 1] = kind == BOUND_BLOB; /* bytea goes binary: no escaping either way */
  s->kinds[i - 1] = kind;
  return RCY_OK;
}

static int bind_null(rcy_db_stmt *st, int i) { return bind_raw(st, i, NULL, 0, BOUND_NULL); }
static int bind_text(rcy_db_stmt *st, int i, const char *v) { return bind_raw(st, i, v, strlen(v), BOUND_TEXT); }
static int bind_int64(rcy_db_stmt *st, int i, int64_t v) {
  char s[24];
  int n = snprintf(s, sizeof s, "%lld", (long long)v);
  return bind_raw(st, i, s, (size_t)n, BOUND_INT);
}
static int bind_double(rcy_db_stmt *st, int i, double v) {
  char s[40];
  int n = snprintf(s, sizeof s, "%.17g", v); /* round-trips every double */
  return bind_raw(st, i, s, (size_t)n, BOUND_DOUBLE);
}
static int bind_blob(rcy_db_stmt *st, int i, const void *v, size_t n) {
  if (!v && n) return bind_null(st, i);
  return bind_raw(st, i, v ? v : "", n, BOUND_BLOB);
}

/* The parameter types sent: unknown (0: PostgreSQL infers each from its context, which is what SQLite's
 * loose typing lets the store's SQL expect, e.g. an integer bound into a TEXT column, or a value of an
 * INSERT ... SELECT list) except bytea, and except a parameter before IS (`?1 IS NULL OR reader = ?1`):
 * PostgreSQL cannot infer it there (SQLSTATE 42P18/42P08), and a failed statement would abort the caller's
 * transaction, so it is typed from what was bound (NULL as text: the store's optional filters are text).
 * `typed` types every parameter: the one retry, outside a transaction, of a statement that still failed so. */
static void param_types(const pg_stmt *s, Oid *types, int typed_all) {
  for (int i = 0; i < s->n_params; i++) {
    Oid t = 0;
    int typed = typed_all || s->before_is[i];
    switch (s->kinds[i]) {
    case BOUND_BLOB: t = OID_BYTEA; break;
    case BOUND_TEXT: t = typed ? OID_TEXT : 0; break;
    case BOUND_INT: t = typed ? OID_INT8 : 0; break;
    case BOUND_DOUBLE: t = typed ? OID_FLOAT8 : 0; break;
    case BOUND_NULL: t = typed ? OID_TEXT : 0; break;
    }
    types[i] = t;
  }
}

static int indeterminate(const PGresult *res) {
  const char *state = PQresultStatus(res) == PGRES_FATAL_ERROR ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return state && (strcmp(state, "42P18") == 0 || strcmp(state, "42P08") == 0);
}

static PGresult *run(pg_stmt *s, Oid *types) {
  PGconn *c = s->db->conn;
  const char *const *values = (const char *const *)s->values;
  if (!s->persistent) {
    param_types(s, types, 0);
    PGresult *res = PQexecParams(c, s->sql, s->n_params, types, values, s->lengths, s->formats, 0);
    if (indeterminate(res) && PQtransactionStatus(c) == PQTRANS_IDLE) {
      PQclear(res);
      param_types(s, types, 1);
      res = PQexecParams(c, s->sql, s->n_params, types, values, s->lengths, s->formats, 0);
    }
    return res;
  }
  if (!s->prepared) {
    param_types(s, types, 0);
    PGresult *res = PQprepare(c, s->name, s->sql, s->n_params, types);
    if (indeterminate(res) && PQtransactionStatus(c) == PQTRANS_IDLE) {
      PQclear(res);
      param_types(s, types, 1);
      res = PQprepare(c, s->name, s->sql, s->n_params, types);
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) return res;
    PQclear(res);
    s->prepared = 1;
  }
  return PQexecPrepared(c, s->name, s->n_params, values, s->lengths, s->formats, 0);
}

static int step(rcy_db_stmt *st) {
  pg_stmt *s = ST(st);
  if (!s->res) {
    Oid small[32];
    Oid *types = s->n_params <= 32 ? small : malloc((size_t)s->n_params * sizeof *types);
    if (!types) return rcy_db_fail(st->db, RCY_ENOMEM, "out of memory");
    PGresult *res = run(s, types);
    if (types != small) free(types);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      int rc = fail_result(s->db, res);
      PQclear(res);
      return rc;
    }
    const char *changed = PQcmdTuples(res);
    if (changed && changed[0]) s->db->changes = strtoll(changed, NULL, 10);
    s->res = res;
    s->row = -1;
    int nf = PQnfields(res);
    if (nf) {
      s->blobs = calloc((size_t)nf, sizeof *s->blobs);
      s->blob_lens = calloc((size_t)nf, sizeof *s->blob_lens);
      if (!s->blobs || !s->blob_lens) {
        drop_result(s);
        return rcy_db_fail(st->db, RCY_ENOMEM, "out of memory");
      }
      s->n_blobs = nf;
    }
  }
  for (int i = 0; i < s->n_blobs; i++) {
    PQfreemem(s->blobs[i]);
    s->blobs[i] = NULL;
  }
  if (s->row + 1 < PQntuples(s->res)) {
    s->row++;
    return RCY_DB_ROW;
  }
  s->row = PQntuples(s->res);
  return RCY_DB_DONE;
}

static const char *cell(pg_stmt *s, int i) {
  if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || i < 0 || i >= PQnfields(s->res)) return NULL;
  if (PQgetisnull(s->res, s->row, i)) return NULL;
  return PQgetvalue(s->res, s->row, i);
}

static int column_count(rcy_db_stmt *st) { return ST(st)->res ? PQnfields(ST(st)->res) : 0; }
static int column_is_null(rcy_db_stmt *st, int i) { return cell(ST(st), i) == NULL; }
static const char *column_text(rcy_db_stmt *st, int i) { return cell(ST(st), i); }

static int64_t column_int64(rcy_db_stmt *st, int i) {
  const char *v = cell(ST(st), i);
  if (!v) return 0;
  if (PQftype(ST(st)->res, i) == OID_BOOL) return v[0] == 't'; /* comparisons: SQLite gives 0/1 */
  /* a numeric or double result (AVG, a float SUM) truncates, as sqlite3_column_int64 does */
  if (strpbrk(v, ".eE")) return (int64_t)strtod(v, NULL);
  return strtoll(v, NULL, 10);
}

static double column_double(rcy_db_stmt *st, int i) {
  const char *v = cell(ST(st), i);
  if (!v) return 0;
  if (PQftype(ST(st)->res, i) == OID_BOOL) return v[0] == 't';
  return strtod(v, NULL);
}

static const void *column_blob(rcy_db_stmt *st, int i, size_t *n) {
  pg_stmt *s = ST(st);
  *n = 0;
  const char *v = cell(s, i);
  if (!v) return NULL;
  if (PQftype(s->res, i) != OID_BYTEA) { /* SQLite hands out any value's bytes */
    *n = (size_t)PQgetlength(s->res, s->row, i);
    return v;
  }
  if (!s->blobs[i]) s->blobs[i] = PQunescapeBytea((const unsigned char *)v, &s->blob_lens[i]);
  if (!s->blobs[i]) return NULL;
  *n = s->blob_lens[i];
  return s->blobs[i];
}

static void st_reset(rcy_db_stmt *st) {
  pg_stmt *s = ST(st);
  drop_result(s);
  for (int i = 0; i < s->n_params; i++) {
    free(s->values[i]);
    s->values[i] = NULL;
    s->lengths[i] = 0;
    s->formats[i] = 0;
    s->kinds[i] = BOUND_NULL;
  }
}

static void st_finalize(rcy_db_stmt *st) {
  pg_stmt *s = ST(st);
  if (s->values) st_reset(st);
  /* A failed transaction refuses DEALLOCATE too; the server drops the statement with the connection then. */
  if (s->prepared && PQtransactionStatus(s->db->conn) != PQTRANS_INERROR) {
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
    PQclear(PQexec(s->db->conn, sql));
  }
  free(s->values);
  free(s->lengths);
  free(s->formats);
  free(s->kinds);
  free(s->before_is);
  free(s->sql);
  free(s);
}

static int64_t changes(rcy_db *db) { return PG(db)->changes; }

static void db_close(rcy_db *db) {
  if (!db) return;
  if (PG(db)->conn) PQfinish(PG(db)->conn);
  free(PG(db)->password);
  free(db);
}

static const rcy_db_driver driver = {
    .close = db_close,
    .exec = db_exec,
    .exec_ddl = db_exec_ddl,
    .begin_write = db_begin_write,
    .relax_durability = db_relax_durability,
    .defer_checkpoints = db_defer_checkpoints,
    .checkpoint = db_checkpoint,
    .in_transaction = db_in_transaction,
    .prepare = db_prepare,
    .bind_null = bind_null,
    .bind_text = bind_text,
    .bind_int64 = bind_int64,
    .bind_double = bind_double,
    .bind_blob = bind_blob,
    .step = step,
    .column_count = column_count,
    .column_is_null = column_is_null,
    .column_text = column_text,
    .column_int64 = column_int64,
    .column_double = column_double,
    .column_blob = column_blob,
    .reset = st_reset,
    .finalize = st_finalize,
    .changes = changes,
};

int rcy_db_postgresql_open(rcy_db **out, const char *uri, rcy_error *err) {
  *out = NULL;
  char shown[512];
  mask_uri(shown, sizeof shown, uri);
  pg_db *d = calloc(1, sizeof *d);
  if (!d) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  d->base.driver = &driver;
  d->base.engine = RCY_DB_POSTGRESQL;
  char *parse_err = NULL;
  PQconninfoOption *opts = PQconninfoParse(uri, &parse_err);
  if (!opts) {
    PQfreemem(parse_err); /* it may quote the URI, password and all */
    free(d);
    return rcy_error_set(err, RCY_EINVAL, "database %s: not a valid PostgreSQL URI", shown);
  }
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0]) d->password = strdup(o->val);
  PQconninfoFree(opts);
  d->conn = PQconnectdb(uri);
  if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
    char msg[400];
    scrub(msg, sizeof msg, d->conn ? PQerrorMessage(d->conn) : "out of memory", d->password);
    int rc = rcy_error_set(err, RCY_ESTORE, "database %s: cannot connect: %s", shown, msg);
    db_close(&d->base);
    return rc;
  }
  /* Notices ("relation already exists, skipping") are no business of the store's callers. */
  int rc = exec_sql(d, "SET client_min_messages = warning");
  if (rc) {
    rc = rcy_error_set(err, rc, "database %s: %s", shown, d->base.errmsg);
    db_close(&d->base);
    return rc;
  }
  *out = &d->base;
  return RCY_OK;
}
