/* Archive lifecycle: create, open (with migrations), close, transactions. */
#include "store_internal.h"

#include "schema.h"
#include "recistry/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const rcy_schema_part *const schema_parts[] = {&rcy_schema_archive, &rcy_schema_reads,
                                                     &rcy_schema_registry};

int rcy_store_fail(rcy_store *store, const char *what, rcy_error *err) {
  return rcy_error_set(err, rcy_db_errcode(store->db), "archive %s: %s: %s", store->archive_dir, what,
                       rcy_db_errmsg(store->db));
}

int rcy_store_exec(rcy_store *store, const char *sql, const char *what, rcy_error *err) {
  if (rcy_db_exec(store->db, sql)) return rcy_store_fail(store, what, err);
  return RCY_OK;
}

static int applied_steps(rcy_store *store, const char *component, int *out, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT version FROM schema_version WHERE component = ?"))
    return rcy_store_fail(store, "reading schema version", err);
  rcy_db_bind_text(st, 1, component);
  int step = rcy_db_step(st);
  *out = step == RCY_DB_ROW ? rcy_db_column_int(st, 0) : 0;
  rcy_db_finalize(st);
  return step < 0 ? rcy_store_fail(store, "reading schema version", err) : RCY_OK;
}

static int migrate(rcy_store *store, rcy_error *err) {
  if (rcy_db_exec_ddl(store->db,
                      "CREATE TABLE IF NOT EXISTS schema_version ("
                      " component TEXT PRIMARY KEY, version INTEGER NOT NULL);", NULL))
    return rcy_store_fail(store, "creating schema_version", err);
  int rc;
  for (size_t p = 0; p < sizeof schema_parts / sizeof schema_parts[0]; p++) {
    const rcy_schema_part *part = schema_parts[p];
    if ((rc = rcy_store_begin(store, err))) return rc;
    int have = 0;
    if ((rc = applied_steps(store, part->component, &have, err))) goto fail;
    if ((size_t)have > part->n_steps) {
      rc = rcy_error_set(err, RCY_ESTORE,
                         "archive %s: schema '%s' is at step %d but this recistry knows %zu: upgrade recistry",
                         store->archive_dir, part->component, have, part->n_steps);
      goto fail;
    }
    for (size_t i = (size_t)have; i < part->n_steps; i++) {
      char what[96];
      snprintf(what, sizeof what, "migrating schema '%s' to step %zu", part->component, i + 1);
      if (rcy_db_exec_ddl(store->db, part->steps[i], part->pg_steps ? part->pg_steps[i] : NULL)) {
        rc = rcy_store_fail(store, what, err);
        goto fail;
      }
    }
    rcy_db_stmt *st;
    if (rcy_db_prepare(&st, store->db, "INSERT INTO schema_version(component, version) VALUES(?, ?) "
                       "ON CONFLICT(component) DO UPDATE SET version = excluded.version")) {
      rc = rcy_store_fail(store, "recording schema version", err);
      goto fail;
    }
    rcy_db_bind_text(st, 1, part->component);
    rcy_db_bind_int(st, 2, (int)part->n_steps);
    int step = rcy_db_step(st);
    rcy_db_finalize(st);
    if (step != RCY_DB_DONE) {
      rc = rcy_store_fail(store, "recording schema version", err);
      goto fail;
    }
    if ((rc = rcy_store_commit(store, err))) return rc;
  }
  return RCY_OK;
fail:
  rcy_store_rollback(store);
  return rc;
}

/* database: NULL for SQLite (DIR/recistry.db), else a PostgreSQL URI. */
static int connect(rcy_store **out, const char *archive_dir, const char *database, int create, rcy_error *err) {
  *out = NULL;
  rcy_store *s = calloc(1, sizeof *s);
  if (!s) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  s->archive_dir = strdup(archive_dir);
  s->storage_dir = rcy_path_join(archive_dir, "storage");
  char *db_path = rcy_path_join(archive_dir, "recistry.db");
  if (!s->archive_dir || !s->storage_dir || !db_path) {
    free(db_path);
    rcy_store_close(s);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  rcy_error open_err = {0};
  int rc = database ? rcy_db_open(&s->db, RCY_DB_POSTGRESQL, database, 0, &open_err)
                    : rcy_db_open(&s->db, RCY_DB_SQLITE, db_path, create, &open_err);
  free(db_path);
  if (rc) {
    rc = rcy_error_set(err, rc, "archive %s: %s%s", archive_dir, open_err.message,
                       create || rc != RCY_ENOTFOUND ? "" : " (create it with `recistry init --archive DIR`)");
    rcy_store_close(s);
    return rc;
  }
  rc = migrate(s, err);
  if (rc) {
    rcy_store_close(s);
    return rc;
  }
  *out = s;
  return RCY_OK;
}

/* DIR/database.url: the PostgreSQL index an archive folder belongs to (see store.h). */
static int recorded_database(char **out, const char *archive_dir, rcy_error *err) {
  *out = NULL;
  char *p = rcy_path_join(archive_dir, "database.url");
  if (!p) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  FILE *f = fopen(p, "r");
  free(p);
  if (!f) return errno == ENOENT ? RCY_OK : rcy_error_set(err, RCY_EIO, "archive %s: cannot read database.url: %s",
                                                         archive_dir, strerror(errno));
  char line[1024] = "";
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  line[strcspn(line, "\r\n")] = 0;
  if (!ok || !line[0]) return rcy_error_set(err, RCY_ESTORE, "archive %s: database.url is empty", archive_dir);
  if (!(*out = strdup(line))) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  return RCY_OK;
}

/* The URI without a password (user:PASSWORD@ or a password= parameter): what DIR/database.url records and
 * what is compared, since a configured URI may carry one (better: ~/.pgpass) and the recorded one never does. */
static char *without_password(const char *uri) {
  char *out = malloc(strlen(uri) + 1);
  if (!out) return NULL;
  const char *auth = strstr(uri, "://");
  auth = auth ? auth + 3 : uri;
  const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
  const char *colon = (at && (!slash || at < slash)) ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
  size_t n = 0;
  for (const char *p = uri; *p;) {
    if (colon && p == colon) {
      p = at;
      continue;
    }
    if (strncmp(p, "password=", 9) == 0 && p > uri && (p[-1] == '?' || p[-1] == '&')) {
      while (*p && *p != '&') p++;
      if (*p == '&') p++;
      else if (n && (out[n - 1] == '&' || out[n - 1] == '?')) n--;
      continue;
    }
    out[n++] = *p++;
  }
  out[n] = 0;
  return out;
}

/* Writes DIR/database.url durably (temporary file, fsync, rename, directory fsync): the folder then sends
 * every later command to this database. */
static int record_database(const char *archive_dir, const char *uri, rcy_error *err) {
  char *path = rcy_path_join(archive_dir, "database.url");
  char *tmp = rcy_path_join(archive_dir, ".database.url.tmp");
  int rc = RCY_OK;
  if (!path || !tmp) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%s\n", uri) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
    rc = rcy_error_set(err, RCY_EIO, "archive %s: cannot write database.url: %s", archive_dir, strerror(errno));
    if (f) fclose(f);
    unlink(tmp);
    goto out;
  }
  fclose(f);
  if (rename(tmp, path) != 0) {
    rc = rcy_error_set(err, RCY_EIO, "archive %s: cannot write database.url: %s", archive_dir, strerror(errno));
    unlink(tmp);
    goto out;
  }
  int dfd = open(archive_dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
out:
  free(path);
  free(tmp);
  return rc;
}

/* PostgreSQL: the database must be empty (init puts a new archive there and nothing else) and compare text
 * bytewise, as SQLite does (db.h: the C collation), or listings would come out in another order. */
static int check_empty_database(rcy_store *s, const char *shown, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, s->db,
                     "SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()),"
                     " (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
                     "   AND table_name = 'schema_version'),"
                     " (SELECT datcollate FROM pg_database WHERE datname = current_database())"))
    return rcy_store_fail(s, "inspecting the database", err);
  int step = rcy_db_step(st);
  if (step != RCY_DB_ROW) {
    rcy_db_finalize(st);
    return rcy_store_fail(s, "inspecting the database", err);
  }
  int64_t tables = rcy_db_column_int64(st, 0), archive = rcy_db_column_int64(st, 1);
  char collate[64];
  snprintf(collate, sizeof collate, "%s", rcy_db_column_text(st, 2) ? rcy_db_column_text(st, 2) : "?");
  rcy_db_finalize(st);
  if (archive)
    return rcy_error_set(err, RCY_EEXIST, "database %s already holds an archive; nothing changed", shown);
  if (tables)
    return rcy_error_set(err, RCY_EEXIST, "database %s is not empty (%lld tables); give recistry a database of "
                         "its own (createdb); nothing changed", shown, (long long)tables);
  if (strcmp(collate, "C") != 0 && strcmp(collate, "POSIX") != 0 && strncmp(collate, "C.", 2) != 0)
    return rcy_error_set(err, RCY_EINVAL, "database %s sorts text by the locale %s; recistry needs bytewise order "
                         "(create it with: createdb -T template0 -E UTF8 --locale=C NAME); nothing changed",
                         shown, collate);
  return RCY_OK;
}

/* init on PostgreSQL: the folder (storage) and the schema in an existing empty database; database.url last,
 * so a folder that has it always has its schema. */
static int init_postgresql(const char *archive_dir, const char *database, rcy_error *err) {
  char *shown = without_password(database);
  char *url = rcy_path_join(archive_dir, "database.url");
  char *sqlite_db = rcy_path_join(archive_dir, "recistry.db");
  char *storage = rcy_path_join(archive_dir, "storage");
  rcy_store *s = NULL;
  int rc = RCY_OK;
  if (!shown || !url || !sqlite_db || !storage) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  if (access(url, F_OK) == 0 || access(sqlite_db, F_OK) == 0) {
    rc = rcy_error_set(err, RCY_EEXIST, "archive %s already exists (%s present); nothing changed", archive_dir,
                       access(url, F_OK) == 0 ? "database.url" : "recistry.db");
    goto out;
  }
  /* Inspect before creating anything: a refused init leaves no trace. */
  s = calloc(1, sizeof *s);
  if (!s || !(s->archive_dir = strdup(archive_dir))) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  rcy_error open_err = {0};
  if ((rc = rcy_db_open(&s->db, RCY_DB_POSTGRESQL, database, 0, &open_err))) {
    rc = rcy_error_set(err, rc, "archive %s: %s", archive_dir, open_err.message);
    goto out;
  }
  if ((rc = check_empty_database(s, shown, err))) goto out;
  rcy_store_close(s);
  s = NULL;
  if (mkdir(archive_dir, 0750) != 0 && errno != EEXIST) {
    rc = rcy_error_set(err, RCY_EIO, "cannot create archive directory %s: %s", archive_dir, strerror(errno));
    goto out;
  }
  if (mkdir(storage, 0750) != 0 && errno != EEXIST) {
    rc = rcy_error_set(err, RCY_EIO, "cannot create %s: %s", storage, strerror(errno));
    goto out;
  }
  if ((rc = connect(&s, archive_dir, database, 0, err))) goto out; /* creates the schema */
  rc = record_database(archive_dir, shown, err);
out:
  rcy_store_close(s);
  free(shown);
  free(url);
  free(sqlite_db);
  free(storage);
  return rc;
}

static int is_postgresql(const char *database) {
  return database && (strncmp(database, "postgresql://", 13) == 0 || strncmp(database, "postgres://", 11) == 0);
}

static int check_database(const char *database, rcy_error *err) {
  if (!database || !database[0] || is_postgresql(database)) return RCY_OK;
  return rcy_error_set(err, RCY_EINVAL,
                       "[archive] database: expected a postgresql:// URI (or nothing, for SQLite in the archive folder)");
}

int rcy_store_init_at(const rcy_store_location *where, rcy_error *err) {
  const char *archive_dir = where->archive_dir;
  if (!archive_dir || !archive_dir[0]) return rcy_error_set(err, RCY_EINVAL, "archive folder: missing");
  int rc = check_database(where->database, err);
  if (rc) return rc;
  if (is_postgresql(where->database)) return init_postgresql(archive_dir, where->database, err);
  char *db_path = rcy_path_join(archive_dir, "recistry.db");
  char *storage = rcy_path_join(archive_dir, "storage");
  if (!db_path || !storage) {
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
    goto out;
  }
  if (access(db_path, F_OK) == 0) {
    rc = rcy_error_set(err, RCY_EEXIST, "archive %s already exists (recistry.db present); nothing changed",
                       archive_dir);
    goto out;
  }
  if (mkdir(archive_dir, 0750) != 0 && errno != EEXIST) {
    rc = rcy_error_set(err, RCY_EIO, "cannot create archive directory %s: %s", archive_dir, strerror(errno));
    goto out;
  }
  if (mkdir(storage, 0750) != 0 && errno != EEXIST) {
    rc = rcy_error_set(err, RCY_EIO, "cannot create %s: %s", storage, strerror(errno));
    goto out;
  }
  rcy_store *s;
  if ((rc = connect(&s, archive_dir, NULL, 1, err))) goto out;
  rcy_store_close(s);
out:
  free(db_path);
  free(storage);
  return rc;
}

int rcy_store_open_at(rcy_store **out, const rcy_store_location *where, rcy_error *err) {
  *out = NULL;
  if (!where->archive_dir || !where->archive_dir[0]) return rcy_error_set(err, RCY_EINVAL, "archive folder: missing");
  int rc = check_database(where->database, err);
  if (rc) return rc;
  char *recorded = NULL;
  if ((rc = recorded_database(&recorded, where->archive_dir, err))) return rc;
  const char *database = where->database && where->database[0] ? where->database : recorded;
  char *configured = database && database != recorded ? without_password(database) : NULL;
  if (database && database != recorded && !configured)
    rc = rcy_error_set(err, RCY_ENOMEM, "out of memory");
  else if (recorded && configured && strcmp(recorded, configured) != 0)
    rc = rcy_error_set(err, RCY_EINVAL, "archive %s belongs to the database its database.url names (%s), not to "
                       "the one configured ([archive] database: %s)", where->archive_dir, recorded, configured);
  else if (!recorded && configured)
    rc = rcy_error_set(err, RCY_ENOTFOUND, "archive %s records no database (database.url missing): create it with "
                       "`recistry init` with this database", where->archive_dir);
  else
    rc = connect(out, where->archive_dir, database, 0, err);
  free(configured);
  free(recorded);
  return rc;
}

int rcy_store_init(const char *archive_dir, rcy_error *err) {
  rcy_store_location where = {archive_dir, NULL};
  return rcy_store_init_at(&where, err);
}

int rcy_store_open(rcy_store **out, const char *archive_dir, rcy_error *err) {
  rcy_store_location where = {archive_dir, NULL};
  return rcy_store_open_at(out, &where, err);
}

const char *rcy_store_backend(const rcy_store *store) {
  return rcy_db_engine_of(store->db) == RCY_DB_POSTGRESQL ? "postgresql" : "sqlite";
}

int rcy_store_cached(rcy_db_stmt **st, rcy_store *store, const char *sql, const char *what, rcy_error *err) {
  for (int i = 0; i < store->n_cached; i++)
    if (store->cached[i].sql == sql) {
      *st = store->cached[i].st;
      rcy_db_reset(*st);
      return RCY_OK;
    }
  if (rcy_db_prepare_persistent(st, store->db, sql)) return rcy_store_fail(store, what, err);
  if (store->n_cached < RCY_STORE_CACHED_MAX) {
    store->cached[store->n_cached].sql = sql;
    store->cached[store->n_cached].st = *st;
    store->n_cached++;
    return RCY_OK;
  }
  rcy_db_finalize(*st);  /* a programming error: more hot statements than slots */
  *st = NULL;
  return rcy_error_set(err, RCY_EINTERNAL, "%s: statement cache full", what);
}

void rcy_store_close(rcy_store *store) {
  if (!store) return;
  for (int i = 0; i < store->n_cached; i++) rcy_db_finalize(store->cached[i].st);
  rcy_db_close(store->db);
  free(store->archive_dir);
  free(store->storage_dir);
  free(store);
}

const char *rcy_store_archive_dir(const rcy_store *store) { return store->archive_dir; }
const char *rcy_store_storage_dir(const rcy_store *store) { return store->storage_dir; }

int rcy_store_begin(rcy_store *store, rcy_error *err) {
  return rcy_db_begin_write(store->db) ? rcy_store_fail(store, "starting a transaction", err) : RCY_OK;
}
int rcy_store_commit(rcy_store *store, rcy_error *err) {
  return rcy_db_commit(store->db) ? rcy_store_fail(store, "committing", err) : RCY_OK;
}
void rcy_store_rollback(rcy_store *store) { rcy_db_rollback(store->db); }
