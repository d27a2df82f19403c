/* Polling the sites' nodes: the daemon asks each site's node (a research PACS, an anonymising gateway) for
 * its registry subjects' new studies and retrieves them through the same checks as a C-STORE. The rules:
 *   - privacy: only registry subjects are ever asked for. The C-FIND's Patient ID key is the site's
 *     subject_pattern's literal prefix + "*" (or poll_patient_id), never a bare "*"; every match is checked
 *     against the pattern again and one that does not match is never retrieved (counted, never logged with
 *     its Patient ID);
 *   - the window: StudyDate since the last successful poll's date minus poll_margin_days (a StudyDate is a
 *     date, and a study may reach the node days after it was acquired), poll_since_days back at the first;
 *   - a study already complete in the archive is skipped (indexed instances >= the node's
 *     NumberOfStudyRelatedInstances; without that count, a study the archive has closed); a new or
 *     incomplete one is retrieved whole (duplicates are harmless to the pipeline), so a retrieve cut half-way
 *     is completed at the next poll;
 *   - failures back off: 5 s, doubling, capped at poll_interval; the window stays where it was until a poll
 *     succeeds;
 *   - every poll is a row of the polls table and a hash-chained audit row (dicom.poll: counts, never the
 *     query's values).
 * One thread per polling site, so a slow node never holds up another site; the pipeline is only entered once
 * an instance has been received whole, so the C-STORE service is never held up by a node. */
#define _GNU_SOURCE /* timegm */
#include "ingest_internal.h"

#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recistry/log.h"

/* More matches than this in one poll is not a site's week of follow-ups: the query is abandoned. */
#define POLL_MAX_MATCHES 5000
#define POLL_BACKOFF_FIRST_S 5

/* ---- the query key ---- */

static int is_meta(char c) { return strchr(".[]()*+?{}|^$\\", c) != NULL; }

int rcy_ingest_poll_key_from_pattern(char *key, size_t cap, const char *pattern, char *why, size_t why_len) {
  key[0] = '\0';
  if (pattern[0] != '^') {
    snprintf(why, why_len, "'%s' is not anchored with ^ (no literal prefix)", pattern);
    return RCY_EINVAL;
  }
  int in_bracket = 0;
  for (const char *p = pattern; *p; p++) {
    if (*p == '\\' && p[1]) p++;
    else if (*p == '[') in_bracket = 1;
    else if (*p == ']') in_bracket = 0;
    else if (*p == '|' && !in_bracket) {
      snprintf(why, why_len, "'%s' has an alternation (|): its literal prefix does not bound every match",
               pattern);
      return RCY_EINVAL;
    }
  }
  char lit[128];
  size_t n = 0;
  const char *p = pattern + 1;
  while (*p && n < sizeof lit - 1) {
    char c = *p;
    if (c == '\\') {
      char e = p[1];
      /* An escaped punctuation character is itself; a DICOM wildcard or backslash cannot be put in a
       * matching key literally, and anything else (\d, \w...) is not a literal. */
      if (!e || !strchr(".[](){}+^$|-/:_#@", e)) break;
      lit[n++] = e;
      p += 2;
      continue;
    }
    if (is_meta(c)) break;
    lit[n++] = c;
    p++;
  }
  /* A quantifier that may repeat zero times takes the last literal character out of the prefix. */
  if (n && (*p == '*' || *p == '?' || *p == '{')) n--;
  lit[n] = '\0';
  int whole = *p == '$' && p[1] == '\0';
  if (n == 0) {
    snprintf(why, why_len, "'%s' has no literal prefix after ^", pattern);
    return RCY_EINVAL;
  }
  if (n + 2 > cap || n + (whole ? 0 : 1) > 64) {
    snprintf(why, why_len, "'%s': the literal prefix is longer than a Patient ID (64)", pattern);
    return RCY_EINVAL;
  }
  snprintf(key, cap, "%s%s", lit, whole ? "" : "*");
  return RCY_OK;
}

int rcy_ingest_poll_key_check(const char *key, char *why, size_t why_len) {
  size_t n = strlen(key);
  if (n == 0 || n > 64) {
    snprintf(why, why_len, "'%s' must be 1-64 characters", key);
    return RCY_EINVAL;
  }
  if (key[0] == '*' || key[0] == '?') {
    snprintf(why, why_len, "'%s' must start with the registry's literal subject prefix (never a wildcard: only"
             " registry subjects may be queried)", key);
    return RCY_EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    if (key[i] == '\\' || (unsigned char)key[i] < 0x20) {
      snprintf(why, why_len, "'%s' has a backslash or a control character", key);
      return RCY_EINVAL;
    }
  return RCY_OK;
}

/* ---- one poll ---- */

typedef struct {
  rcy_dicom_study_match *m;
  size_t n, cap;
} match_list;

static int collect(void *ctx, const rcy_dicom_study_match *m) {
  match_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    rcy_dicom_study_match *g = realloc(l->m, cap * sizeof *g);
    if (!g) return RCY_ENOMEM;
    l->m = g;
    l->cap = cap;
  }
  l->m[l->n++] = *m;
  return 0;
}

/* YYYYMMDD of the day `days` before the date of `iso` (YYYY-MM-DD..., UTC) or of now when iso is NULL. */
static int window_start(char out[9], const char *iso, int days) {
  time_t t = time(NULL);
  if (iso) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(iso, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return RCY_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = 12;
    t = timegm(&tm);
    if (t == (time_t)-1) return RCY_EINVAL;
  }
  t -= (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 9, "%Y%m%d", &tm);
  return RCY_OK;
}

static int valid_since(const char *s) {
  int y, m, d, used = 0;
  return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && used == 10 && s[4] == '-' &&
         s[7] == '-' && y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

typedef struct {
  const rcy_ingest_config *cfg;
  const rcy_ingest_site *site;
  rcy_pipeline *pipe;   /* C-GET goes through it */
  rcy_store *db;        /* the poller's own connection: state, counts, the poll's row */
  regex_t re;
  int have_re;
  const volatile int *stop;
} poller;

static void audit_actor(char *out, size_t cap, int manual) {
  if (!manual) {
    snprintf(out, cap, "daemon:poll");
    return;
  }
  struct passwd pw, *res = NULL;
  char buf[1024];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res) snprintf(out, cap, "os:%s", res->pw_name);
  else snprintf(out, cap, "os:uid%u", (unsigned)getuid());
}

/* Writes the poll's row, the site's state (update_state) and the audit row in one transaction. */
static void record(poller *pl, const rcy_ingest_poll_result *r, const char *started, const char *finished,
                   const char *window, const char *next_attempt, int manual, int update_state) {
  rcy_archive_poll row = {pl->site->id, manual ? "manual" : "daemon", started, finished, r->outcome,
                          r->n_matches, r->n_skipped, r->n_retrieved, r->n_instances, r->n_refused,
                          r->error[0] ? r->error : NULL, next_attempt};
  char actor[80], reason[512];
  audit_actor(actor, sizeof actor, manual);
  snprintf(reason, sizeof reason,
           "site %s: %s poll, C-FIND study level since %s: %d matched, %d skipped (complete), %d retrieved"
           " (%d instances), %d refused (not a registry subject), %d failed: %s",
           pl->site->id, manual ? "manual" : "daemon", window, r->n_matches, r->n_skipped, r->n_retrieved,
           r->n_instances, r->n_refused, r->n_failed, r->outcome);
  rcy_audit_entry e;
  memset(&e, 0, sizeof e);
  e.actor = actor;
  e.action = "dicom.poll";
  e.reason = reason;
  rcy_error err = {0};
  int rc = rcy_store_begin(pl->db, &err);
  if (!rc) rc = rcy_archive_poll_record(pl->db, &row, update_state, &err);
  if (!rc) rc = rcy_store_audit_append(pl->db, &e, &err);
  if (!rc) rc = rcy_store_commit(pl->db, &err);
  else rcy_store_rollback(pl->db);
  if (rc) rcy_log(RCY_LOG_ERROR, "poll", "site %s: recording the poll: %s", pl->site->id, err.message);
}

static void set_error(rcy_ingest_poll_result *r, const char *msg) {
  if (r->error[0]) return; /* the first failure is the one to fix first */
  size_t n = strlen(msg);
  if (n >= sizeof r->error) n = sizeof r->error - 1; /* cut: a UID and a message may be longer */
  memcpy(r->error, msg, n);
  r->error[n] = '\0';
}

/* Retrieves what the archive lacks among the matches. */
static void retrieve_matches(poller *pl, const match_list *l, rcy_ingest_poll_result *r) {
  for (size_t i = 0; i < l->n; i++) {
    const rcy_dicom_study_match *m = &l->m[i];
    if (pl->stop && *pl->stop) {
      set_error(r, "abandoned: the daemon is stopping");
      r->n_failed++;
      return;
    }
    if (regexec(&pl->re, m->patient_id, 0, NULL, 0) != 0) {
      r->n_refused++;
      rcy_log(RCY_LOG_WARN, "poll", "site %s: the node returned a study whose Patient ID does not match"
              " subject_pattern: not retrieved", pl->site->id);
      continue;
    }
    if (!rcy_ingest_valid_uid(m->study_uid)) {
      r->n_refused++;
      rcy_log(RCY_LOG_WARN, "poll", "site %s: the node returned a study without a valid Study Instance UID:"
              " not retrieved", pl->site->id);
      continue;
    }
    int found = 0, indexed = 0;
    char status[16], site_id[65];
    rcy_error err = {0};
    if (rcy_archive_study_indexed(&found, &indexed, status, site_id, pl->db, m->study_uid, &err)) {
      set_error(r, err.message);
      r->n_failed++;
      continue;
    }
    int complete = found && (m->n_instances >= 0 ? indexed >= m->n_instances
                                                 : strcmp(status, "receiving") != 0);
    if (complete) {
      r->n_skipped++;
      continue;
    }
    int stored = 0, refused = 0;
    int rc = rcy_ingest_retrieve(&stored, &refused, pl->pipe, pl->cfg, pl->site, m->study_uid, pl->site->poll_timeout_s,
                                 pl->stop, &err);
    r->n_instances += stored;
    if (rc || refused) {
      r->n_failed++;
      char msg[RCY_ERROR_MESSAGE_MAX + 80]; /* the UID and the message: cut to r->error's size by set_error */
      if (rc) snprintf(msg, sizeof msg, "study %s: %s", m->study_uid, err.message);
      else snprintf(msg, sizeof msg, "study %s: %d instance(s) refused by the checks", m->study_uid, refused);
      set_error(r, msg);
      rcy_log(RCY_LOG_WARN, "poll", "site %s: retrieving %s: %d stored, %s", pl->site->id, m->study_uid, stored,
              rc ? err.message : "some refused by the checks");
    } else {
      r->n_retrieved++;
      rcy_log(RCY_LOG_INFO, "poll", "site %s: retrieved %s (%d instance(s))", pl->site->id, m->study_uid, stored);
    }
  }
}

/* The delay before the next attempt after a poll: poll_interval after a success, else 5 s doubling with the
 * failures in a row, capped at poll_interval. */
static int next_delay_s(const rcy_ingest_site *site, int ok, int failures_in_row) {
  if (ok) return site->poll_interval_s;
  long d = POLL_BACKOFF_FIRST_S;
  for (int i = 1; i < failures_in_row && d < site->poll_interval_s; i++) d *= 2;
  return (int)(d < site->poll_interval_s ? d : site->poll_interval_s);
}

/* One poll. *delay_s: when the next should be (daemon). */
static int run_poll(rcy_ingest_poll_result *r, poller *pl, const rcy_ingest_poll_options *o, int manual,
                    int *delay_s, rcy_error *err) {
  memset(r, 0, sizeof *r);
  const rcy_ingest_site *site = pl->site;
  const char *key = site->poll_patient_id;
  if (o && o->subject) {
    /* The value is not repeated: what does not match may be a hospital's patient ID, typed by mistake. */
    if (regexec(&pl->re, o->subject, 0, NULL, 0) != 0)
      return rcy_error_set(err, RCY_EINVAL, "--subject: the value does not match site %s's subject_pattern %s: only"
                           " registry subjects are ever queried", site->id, site->subject_pattern);
    if (strpbrk(o->subject, "*?\\"))
      return rcy_error_set(err, RCY_EINVAL, "--subject: a wildcard or backslash in the value: one subject only");
    key = o->subject;
  }
  if (!key)
    return rcy_error_set(err, RCY_EINVAL,
                         "%s: [site:%s] subject_pattern: no literal prefix to query by; set poll_patient_id",
                         pl->cfg->path, site->id);
  rcy_archive_poll_state state;
  int found = 0;
  int rc = rcy_archive_poll_state_get(&state, &found, pl->db, site->id, err);
  if (rc) return rc;
  char from[9];
  if (o && o->since) {
    if (!valid_since(o->since)) return rcy_error_set(err, RCY_EINVAL, "--since: '%s' is not YYYY-MM-DD", o->since);
    rc = window_start(from, o->since, 0);
  } else if (state.last_success_at[0]) {
    rc = window_start(from, state.last_success_at, site->poll_margin_days);
  } else {
    rc = window_start(from, NULL, site->poll_since_days);
  }
  if (rc) return rcy_error_set(err, RCY_EINTERNAL, "site %s: cannot compute the date window", site->id);
  char window[11];
  snprintf(window, sizeof window, "%.4s-%.2s-%.2s", from, from + 4, from + 6);
  char started[21], finished[21];
  rcy_archive_timestamp(started, -1);

  rcy_dicom_peer peer;
  rcy_dicom_tls_client tls;
  rcy_ingest_site_node(&peer, &tls, pl->cfg, site, site->poll_timeout_s, o ? o->stop : NULL);
  rcy_dicom_find_query q = {key, from, NULL};
  match_list l = {NULL, 0, 0};
  rcy_error ferr = {0};
  int frc = rcy_dicom_find_studies(&r->n_matches, &peer, &q, POLL_MAX_MATCHES, collect, &l, &ferr);
  if (frc) {
    snprintf(r->outcome, sizeof r->outcome, "failed");
    set_error(r, ferr.message);
  } else {
    r->n_matches = (int)l.n;
    retrieve_matches(pl, &l, r);
    snprintf(r->outcome, sizeof r->outcome, "%s", r->n_failed ? "partial" : "ok");
  }
  free(l.m);
  rcy_archive_timestamp(finished, -1);
  int ok = strcmp(r->outcome, "ok") == 0;
  int partial_window = o && (o->subject || o->since);
  *delay_s = next_delay_s(site, ok, ok ? 0 : state.failures_in_row + 1);
  char next[21];
  const char *next_at = NULL;
  if (!manual && site->poll_interval_s > 0) {
    rcy_archive_timestamp(next, (long long)time(NULL) + *delay_s);
    next_at = next;
  }
  record(pl, r, started, finished, window, next_at, manual, !partial_window);
  rcy_log(ok ? RCY_LOG_INFO : RCY_LOG_WARN, "poll",
          "site %s: poll since %s %s: %d matched, %d skipped, %d retrieved (%d instances), %d refused, %d failed%s%s",
          site->id, window, r->outcome, r->n_matches, r->n_skipped, r->n_retrieved, r->n_instances, r->n_refused,
          r->n_failed, r->error[0] ? ": " : "", r->error);
  return RCY_OK;
}

static int poller_open(poller *pl, const rcy_ingest_config *cfg, const rcy_ingest_site *site, rcy_pipeline *pipe,
                       const volatile int *stop, rcy_error *err) {
  memset(pl, 0, sizeof *pl);
  pl->cfg = cfg;
  pl->site = site;
  pl->pipe = pipe;
  pl->stop = stop;
  if (regcomp(&pl->re, site->subject_pattern, REG_EXTENDED | REG_NOSUB) != 0)
    return rcy_error_set(err, RCY_EINVAL, "[site:%s] subject_pattern does not compile", site->id);
  pl->have_re = 1;
  rcy_store_location where = rcy_ingest_config_location(cfg);
  return rcy_store_open_at(&pl->db, &where, err);
}

static void poller_close(poller *pl) {
  if (pl->have_re) regfree(&pl->re);
  rcy_store_close(pl->db);
}

int rcy_ingest_poll_site(rcy_ingest_poll_result *out, const rcy_ingest_config *cfg, const char *site_id,
                         const rcy_ingest_poll_options *o, rcy_error *err) {
  memset(out, 0, sizeof *out);
  const rcy_ingest_site *site = rcy_ingest_config_site(cfg, site_id);
  if (!site) return rcy_error_set(err, RCY_ENOTFOUND, "%s: no [site:%s] section", cfg->path, site_id);
  if (!site->pacs_host)
    return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] pacs: not configured (host:port:AE_TITLE)", cfg->path,
                         site_id);
  poller pl;
  rcy_pipeline *pipe = NULL;
  int rc = rcy_pipeline_open(&pipe, cfg, err);
  if (!rc) rc = poller_open(&pl, cfg, site, pipe, o ? o->stop : NULL, err);
  int delay = 0;
  if (!rc) rc = run_poll(out, &pl, o, 1, &delay, err);
  if (pipe) poller_close(&pl);
  rcy_pipeline_close(pipe);
  return rc;
}

/* ---- the daemon's pollers ---- */

typedef struct {
  poller pl;
  pthread_t thread;
  int started;
} poller_thread;

struct rcy_pollers {
  poller_thread *t;
  size_t n;
};

/* 1 when now (local time) is inside the site's poll_hours (a window may span midnight). */
static int inside_hours(const rcy_ingest_site *s) {
  if (s->poll_hours_from_min < 0) return 1;
  time_t t = time(NULL);
  struct tm tm;
  localtime_r(&t, &tm);
  int now = tm.tm_hour * 60 + tm.tm_min;
  if (s->poll_hours_from_min < s->poll_hours_to_min)
    return now >= s->poll_hours_from_min && now < s->poll_hours_to_min;
  return now >= s->poll_hours_from_min || now < s->poll_hours_to_min;
}

static void *poller_main(void *arg) {
  poller *pl = arg;
  const rcy_ingest_site *s = pl->site;
  rcy_ingest_poll_options o = {NULL, NULL, pl->stop};
  time_t next = time(NULL); /* first poll at start: a poll cut by the last stop is completed now */
  int said_outside = 0;
  rcy_log(RCY_LOG_INFO, "poll", "site %s: polling %s:%d (AE %s) every %d s, %s", s->id, s->pacs_host,
          s->pacs_port, s->pacs_ae_title, s->poll_interval_s, s->pull_move ? "C-MOVE to our AE" : "C-GET");
  while (!*pl->stop) {
    if (time(NULL) < next) {
      struct timespec ts = {0, 200 * 1000 * 1000};
      nanosleep(&ts, NULL);
      continue;
    }
    if (!inside_hours(s)) {
      if (!said_outside)
        rcy_log(RCY_LOG_INFO, "poll", "site %s: outside poll_hours: waiting", s->id);
      said_outside = 1;
      next = time(NULL) + 30;
      continue;
    }
    said_outside = 0;
    rcy_ingest_poll_result r;
    rcy_error err = {0};
    int delay = s->poll_interval_s;
    if (run_poll(&r, pl, &o, 0, &delay, &err)) {
      rcy_log(RCY_LOG_ERROR, "poll", "site %s: %s", s->id, err.message);
      delay = s->poll_interval_s;
    }
    next = time(NULL) + delay;
  }
  return NULL;
}

int rcy_pollers_start(rcy_pollers **out, const rcy_ingest_config *cfg, rcy_pipeline *pipe,
                      const volatile int *stop, rcy_error *err) {
  *out = NULL;
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_sites; i++) n += cfg->sites[i].poll_interval_s > 0;
  if (!n) return RCY_OK;
  rcy_pollers *p = calloc(1, sizeof *p);
  if (!p || !(p->t = calloc(n, sizeof *p->t))) {
    free(p);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  int rc = RCY_OK;
  for (size_t i = 0; i < cfg->n_sites && !rc; i++) {
    if (cfg->sites[i].poll_interval_s <= 0) continue;
    poller_thread *t = &p->t[p->n++];
    rc = poller_open(&t->pl, cfg, &cfg->sites[i], pipe, stop, err);
    if (!rc && pthread_create(&t->thread, NULL, poller_main, &t->pl) != 0)
      rc = rcy_error_set(err, RCY_ENOMEM, "cannot start the poller of site %s", cfg->sites[i].id);
    if (!rc) t->started = 1;
  }
  *out = p;
  return rc;
}

void rcy_pollers_join(rcy_pollers *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) {
    if (p->t[i].started) pthread_join(p->t[i].thread, NULL);
    poller_close(&p->t[i].pl);
  }
  free(p->t);
  free(p);
}

/* ---- `recistry pull status` ---- */

int rcy_ingest_poll_status(const rcy_ingest_config *cfg, void (*fn)(void *ctx, const char *line), void *ctx,
                           rcy_error *err) {
  rcy_store *db = NULL;
  rcy_store_location where = rcy_ingest_config_location(cfg);
  int rc = rcy_store_open_at(&db, &where, err);
  for (size_t i = 0; !rc && i < cfg->n_sites; i++) {
    const rcy_ingest_site *s = &cfg->sites[i];
    rcy_archive_poll_state st;
    int found = 0;
    rc = rcy_archive_poll_state_get(&st, &found, db, s->id, err);
    if (rc) break;
    char line[1024], how[200];
    if (s->poll_interval_s > 0)
      snprintf(how, sizeof how, "polling on, every %d s, %s, query %s%s", s->poll_interval_s,
               s->pull_move ? "C-MOVE" : "C-GET", s->poll_patient_id ? s->poll_patient_id : "?",
               s->poll_hours_from_min >= 0 ? ", poll_hours set" : "");
    else
      snprintf(how, sizeof how, "polling off%s", s->pacs_host ? " (pacs configured: pull by hand)" : "");
    char outcome[320];
    if (st.last_error[0])
      snprintf(outcome, sizeof outcome, "%s (%s)", st.last_outcome, st.last_error);
    else
      snprintf(outcome, sizeof outcome, "%s", st.last_outcome[0] ? st.last_outcome : "none");
    const char *next = "-";
    if (s->poll_interval_s > 0) next = st.next_attempt_at[0] ? st.next_attempt_at : "at the daemon's start";
    snprintf(line, sizeof line,
             "site %s: %s; last successful poll %s; last outcome %s; next attempt %s; failures in a row %d", s->id,
             how, st.last_success_at[0] ? st.last_success_at : "never", outcome, next, st.failures_in_row);
    fn(ctx, line);
  }
  rcy_store_close(db);
  return rc;
}
