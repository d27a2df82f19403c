/* The audit log: one row per change to a lesion, measurement or sign-off, chained by SHA-256 so that
 * editing, removing or inserting a row breaks every later hash. SQLite triggers refuse UPDATE and DELETE;
 * the chain catches what bypasses them (someone dropping the triggers or editing the file).
 *
 * Canonical form of a row (what is hashed, after the previous hash in hex): each field in column order
 * (seq, at, actor, action, subject_id, read_role, reader, timepoint, lesion_id, before_json, after_json,
 * reason) written as "<byte length>:<bytes>;" or "-;" for NULL, so no two rows share a canonical form.
 * Rows of read changes since schema step 3 of "reads" add a 13th field, doc_sha256 (the SHA-256 of the read
 * document after the change), in the same form; rows without one (older rows, other actions) hash as before.
 * Verification then compares each stored read with the hash its newest audit row recorded, so an edit of the
 * reads table that bypasses the API (and so the log) shows. */
#include "reads_internal.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FIELDS 12
static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

typedef struct {
  char *p;
  size_t len, cap;
} buf;

static int put(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int put_field(buf *b, const char *v) {
  if (!v) return put(b, "-;", 2);
  char head[32];
  size_t n = strlen(v);
  int h = snprintf(head, sizeof head, "%zu:", n);
  return put(b, head, (size_t)h) || put(b, v, n) || put(b, ";", 1);
}

/* hash_out = SHA-256(prev || canonical(fields) [|| canonical(doc_sha256)]). */
static int chain_hash(char *hash_out, const char *prev, const char *const fields[N_FIELDS], const char *doc_sha256) {
  buf b = {0};
  int rc = put(&b, prev, strlen(prev));
  for (int i = 0; !rc && i < N_FIELDS; i++) rc = put_field(&b, fields[i]);
  if (!rc && doc_sha256) rc = put_field(&b, doc_sha256);
  if (!rc) rcy_reads_sha256_hex(hash_out, b.p, b.len);
  free(b.p);
  return rc;
}

int rcy_store_audit_append(rcy_store *store, const rcy_audit_entry *e, rcy_error *err) {
  return rcy_store_audit_append_doc(store, e, NULL, err);
}

int rcy_store_audit_append_doc(rcy_store *store, const rcy_audit_entry *e, const char *doc_sha256,
                               rcy_error *err) {
  if (!e || !e->actor || !e->action) return rcy_error_set(err, RCY_EINVAL, "audit entry needs actor and action");
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"))
    return rcy_store_fail(store, "reading the audit chain", err);
  long long seq = 1;
  char prev[65];
  snprintf(prev, sizeof prev, "%s", zero_hash);
  if (rcy_db_step(st) == RCY_DB_ROW) {
    seq = rcy_db_column_int64(st, 0) + 1;
    snprintf(prev, sizeof prev, "%s", rcy_db_column_text(st, 1));
  }
  rcy_db_finalize(st);
  char seq_s[24], at[32], hash[65];
  snprintf(seq_s, sizeof seq_s, "%lld", seq);
  rcy_reads_now_iso(at, sizeof at);
  const char *f[N_FIELDS] = {seq_s,           at,          e->actor,       e->action,
                             e->subject_id,   e->read_role, e->reader,     e->timepoint,
                             e->lesion_id,    e->before_json, e->after_json, e->reason};
  if (chain_hash(hash, prev, f, doc_sha256)) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  if (rcy_db_prepare(&st, store->db, "INSERT INTO audit_log(seq, at, actor, action, subject_id, read_role, reader, timepoint,"
                         " lesion_id, before_json, after_json, reason, prev_hash, hash, doc_sha256)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"))
    return rcy_store_fail(store, "appending to the audit log", err);
  rcy_db_bind_int64(st, 1, seq);
  for (int i = 1; i < N_FIELDS; i++) rcy_db_bind_text(st, i + 1, f[i]);
  rcy_db_bind_text(st, 13, prev);
  rcy_db_bind_text(st, 14, hash);
  if (doc_sha256) rcy_db_bind_text(st, 15, doc_sha256);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  return rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "appending to the audit log", err);
}

/* Every stored read against the document hash of its newest audit row. */
static int verify_reads(rcy_store *store, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT r.subject_id, r.role, r.reader, r.doc,"
                         " (SELECT COUNT(*) FROM audit_log a WHERE a.subject_id = r.subject_id AND"
                         "   a.read_role = r.role AND a.reader = r.reader),"
                         " (SELECT a.doc_sha256 FROM audit_log a WHERE a.subject_id = r.subject_id AND"
                         "   a.read_role = r.role AND a.reader = r.reader ORDER BY a.seq DESC LIMIT 1)"
                         " FROM reads r ORDER BY r.subject_id, r.role, r.reader"))
    return rcy_store_fail(store, "reading the reads", err);
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    const char *subject = rcy_db_column_text(st, 0), *role = rcy_db_column_text(st, 1);
    const char *reader = rcy_db_column_text(st, 2);
    size_t doc_len = 0;
    const void *doc = rcy_db_column_blob(st, 3, &doc_len);
    long long n_rows = rcy_db_column_int64(st, 4);
    const char *want = rcy_db_column_text(st, 5);
    const char *why = NULL;
    char have[65];
    if (n_rows == 0) why = "it has no audit row (written behind the API)";
    else if (want) {
      rcy_reads_sha256_hex(have, doc ? doc : "", doc_len);
      if (strcmp(have, want) != 0) why = "its document differs from the one its last audit row recorded (changed behind the API)";
    }
    if (why) {
      rc = rcy_error_set(err, RCY_ECONFLICT, "read of subject %s (%s, reader %s) does not match the audit log: %s",
                         subject ? subject : "?", role ? role : "?", reader ? reader : "?", why);
      break;
    }
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "reading the reads", err);
  rcy_db_finalize(st);
  return rc;
}

int rcy_store_audit_verify(long long *n_rows, long long *first_bad_seq, rcy_store *store, rcy_error *err) {
  *n_rows = 0;
  *first_bad_seq = 0;
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT seq, at, actor, action, subject_id, read_role, reader, timepoint, lesion_id,"
                         " before_json, after_json, reason, prev_hash, hash, doc_sha256 FROM audit_log"
                         " ORDER BY seq"))
    return rcy_store_fail(store, "reading the audit log", err);
  char prev[65];
  snprintf(prev, sizeof prev, "%s", zero_hash);
  long long expect_seq = 1;
  int rc = RCY_OK, step;
  while ((step = rcy_db_step(st)) == RCY_DB_ROW) {
    long long seq = rcy_db_column_int64(st, 0);
    const char *f[N_FIELDS];
    f[0] = rcy_db_column_text(st, 0);
    for (int i = 1; i < N_FIELDS; i++) f[i] = rcy_db_column_text(st, i);
    const char *stored_prev = rcy_db_column_text(st, 12);
    const char *stored_hash = rcy_db_column_text(st, 13);
    char hash[65];
    if (chain_hash(hash, prev, f, rcy_db_column_text(st, 14))) {
      rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
      break;
    }
    const char *why = NULL;
    if (seq != expect_seq) why = "a row before it was removed (sequence gap)";
    else if (!stored_prev || strcmp(stored_prev, prev) != 0) why = "its prev_hash does not match the previous row";
    else if (!stored_hash || strcmp(stored_hash, hash) != 0) why = "its content does not match its hash";
    if (why) {
      *first_bad_seq = seq;
      rc = rcy_error_set(err, RCY_ECONFLICT, "audit log broken at row seq=%lld (action %s, at %s): %s", seq,
                         f[3] ? f[3] : "?", f[1] ? f[1] : "?", why);
      break;
    }
    snprintf(prev, sizeof prev, "%s", hash);
    expect_seq = seq + 1;
    (*n_rows)++;
  }
  if (!rc && step != RCY_DB_DONE) rc = rcy_store_fail(store, "reading the audit log", err);
  rcy_db_finalize(st);
  return rc ? rc : verify_reads(store, err);
}
