/* Ingest: the DICOM front door of the archive. Reads the site configuration (INI), decides which
 * associations to accept (calling AE, called AE, peer host, TLS), checks every instance (site, subject
 * pattern, anonymisation), stores it durably and indexes it, quarantines what is not anonymised when asked to,
 * audits every association, and marks studies complete (or qc-warning) once they have been silent for
 * stable_age seconds. `recistry ingest`, `recistry pull` and the QC of `recistry studies` sit on this API. */
#ifndef RECISTRY_INGEST_H
#define RECISTRY_INGEST_H

#include <stddef.h>

#include "recistry/error.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (src/ingest/config.c) ---- */

typedef enum { RCY_PHI_REJECT = 0, RCY_PHI_QUARANTINE = 1 } rcy_phi_policy;
typedef enum { RCY_TLS_OFF = 0, RCY_TLS_REQUIRED = 1 } rcy_tls_mode;
/* [policy] private_tags: what an instance with private data elements outside private_allow gets. */
typedef enum { RCY_PRIVATE_REFUSE = 0, RCY_PRIVATE_QUARANTINE = 1, RCY_PRIVATE_ALLOW = 2 } rcy_private_policy;

/* One [policy] private_allow entry: an odd group, and the Private Creator of the block (NULL: any creator). */
typedef struct rcy_private_block {
  unsigned group;
  char *creator;
} rcy_private_block;

typedef struct rcy_ingest_site {
  char *id;              /* "S014": section [site:S014], must equal the instances' Clinical Trial Site ID */
  char *name;
  char *ae_title;        /* calling AE title the site must use */
  char **hosts;          /* allowed peer addresses; none = any */
  size_t n_hosts;
  char *subject_pattern; /* POSIX extended regular expression */
  char *pacs_host;       /* the site's node for pulls (NULL when not configured) */
  int pacs_port;
  char *pacs_ae_title;
  int pull_move;         /* retrieve = move: C-MOVE to our AE; default C-GET */
  /* Polling the node (src/ingest/poll.c; docs/ingest.md "Polling sites"). */
  int poll_interval_s;   /* poll_interval: 0 = the daemon does not poll this site */
  int poll_since_days;   /* the first poll's window: studies of the last N days (default 365) */
  int poll_margin_days;  /* later polls: since the last successful poll's date minus N days (default 1) */
  int poll_hours_from_min, poll_hours_to_min; /* poll_hours = HH:MM-HH:MM, local time; -1 = any time */
  char *poll_patient_id; /* the C-FIND Patient ID key: poll_patient_id, else derived from subject_pattern
                            (its literal prefix + "*"); NULL when neither gives one (no polling then) */
  int poll_patient_id_explicit; /* 1: from poll_patient_id */
  int poll_timeout_s;    /* poll_timeout: association set-up and each wait for the node (default 10) */
  rcy_tls_mode tls;
  char *tls_certificate; /* the site's certificate (PEM), trusted on the TLS port */
  rcy_tls_mode pacs_tls; /* pacs_tls = required: pulls and polls reach the node over DICOM TLS only */
  char *pacs_certificate; /* the node's certificate (PEM), the only one trusted when we call it */
} rcy_ingest_site;

/* One [peer:NAME] section: a node that may query and retrieve (a PACS, a workstation), or a C-MOVE
 * destination. A site's AE has no query right unless a peer names it too. */
#define RCY_PEER_FIND 1u
#define RCY_PEER_MOVE 2u
#define RCY_PEER_GET 4u
typedef struct rcy_ingest_peer {
  char *name;            /* NAME of [peer:NAME] */
  char *ae_title;        /* its AE title: calling AE of its associations, called AE as a move destination */
  char **hosts;          /* the addresses its associations must come from (none = any); hosts[0] is where
                            C-MOVE sends to it */
  size_t n_hosts;
  int port;              /* its storage SCP's port, as a C-MOVE destination (0 = not a destination) */
  unsigned rights;       /* RCY_PEER_* bits */
  int all_sites;         /* sites = * */
  char **sites;          /* the sites whose studies it may find and retrieve */
  size_t n_sites;
  rcy_tls_mode tls;      /* tls = required: it calls our TLS port only, and C-MOVE reaches it over TLS */
  char *tls_certificate; /* its certificate (PEM): trusted on our TLS port for its AE alone, and as a C-MOVE
                            destination the only one trusted */
} rcy_ingest_peer;

typedef struct rcy_ingest_config {
  char *path;            /* the INI file, for messages */
  char *archive;         /* [archive] path */
  char *database;        /* [archive] database: a PostgreSQL URI, or NULL for DIR/recistry.db */
  char *ae_title;        /* [dicom] */
  char *bind;
  int port;
  int tls_port;
  char *tls_certificate;
  char *tls_private_key;
  int max_associations;
  int stable_age_s;
  int idle_timeout_s;
  int max_connections;          /* [dicom] open TCP/TLS connections in all, associated or not */
  int max_connections_per_host; /* [dicom] open connections from one peer address */
  int association_timeout_s;    /* [dicom] TLS handshake + A-ASSOCIATE-RQ must arrive within this */
  rcy_phi_policy phi;    /* [policy] phi */
  rcy_private_policy private_tags;  /* [policy] private_tags (default refuse) */
  rcy_private_block *private_allow; /* [policy] private_allow */
  size_t n_private_allow;
  rcy_ingest_site *sites;
  size_t n_sites;
  rcy_ingest_peer *peers; /* [peer:NAME] sections (src/ingest/config_peers.c) */
  size_t n_peers;
} rcy_ingest_config;

/* Loads and validates an INI file. Errors name the file, the section and the key (and the line for syntax). */
int rcy_ingest_config_load(rcy_ingest_config **out, const char *path, rcy_error *err);
void rcy_ingest_config_free(rcy_ingest_config *config);
const rcy_ingest_site *rcy_ingest_config_site(const rcy_ingest_config *config, const char *site_id);
/* The archive the configuration names ([archive] path and database), for rcy_store_open_at; the strings
 * stay the configuration's. */
rcy_store_location rcy_ingest_config_location(const rcy_ingest_config *config);

/* ---- the checks on one instance (src/ingest/checks.c) ---- */

/* The attributes of the anonymisation profile the check looks at (PS3.15 E.1-1 rows; docs/ingest.md lists
 * them with their action codes and what recistry does). */
size_t rcy_ingest_phi_tags(const uint32_t **tags);

/* ---- the daemon (src/ingest/daemon.c) ---- */

/* Runs the daemon until *stop becomes non-zero (set it from a signal handler), then finishes the associations
 * in flight and returns 0 (with *stop set: the pollers stop on it too). On start it removes leftover
 * temporary files and indexes any file that reached its final name without its index row (a crash between
 * the two); once listening it starts a poller thread per site with poll_interval (src/ingest/poll.c). */
int rcy_ingest_run(const rcy_ingest_config *config, volatile int *stop, rcy_error *err);

/* Pulls one study from a site's node (C-GET, or C-MOVE to our AE when the site is configured so: then the
 * daemon must be running to receive it) through the same checks. Counts of instances stored / refused. */
int rcy_ingest_pull(int *n_stored, int *n_refused, const rcy_ingest_config *config, const char *site_id,
                    const char *study_uid, rcy_error *err);

/* ---- polling the sites' nodes (src/ingest/poll.c) ---- */

/* The C-FIND Patient ID key for a subject pattern: its literal prefix (after ^) followed by "*", or the
 * whole value when the pattern is one literal (^...$). Writes why (no file/section) and returns RCY_EINVAL
 * when the pattern has no usable literal prefix (not anchored by ^, an alternation, nothing literal first). */
int rcy_ingest_poll_key_from_pattern(char *key, size_t cap, const char *pattern, char *why, size_t why_len);
/* Checks an explicit poll_patient_id: 1-64 characters, no backslash, starting with a literal character
 * (never `*` or `?` alone). 0, or RCY_EINVAL with why. */
int rcy_ingest_poll_key_check(const char *key, char *why, size_t why_len);

typedef struct rcy_ingest_poll_result {
  char outcome[16];      /* ok | failed | partial */
  int n_matches;         /* studies the node returned */
  int n_skipped;         /* already complete in the archive */
  int n_retrieved;       /* retrieved without error */
  int n_instances;       /* instances the node reported sent */
  int n_refused;         /* never retrieved: the Patient ID does not match subject_pattern (or a bad UID) */
  int n_failed;          /* retrieves that failed */
  char error[RCY_ERROR_MESSAGE_MAX]; /* the first failure ("" when ok) */
} rcy_ingest_poll_result;

/* Options of one poll. subject: query this one subject only (must match the site's pattern); since:
 * YYYY-MM-DD, the window's start instead of the one the site's state gives. Either makes the poll a partial
 * one that does not move the site's state (its window). stop: NULL, or the daemon's stop flag. */
typedef struct rcy_ingest_poll_options {
  const char *subject;
  const char *since;
  const volatile int *stop;
} rcy_ingest_poll_options;

/* One poll of one site by hand (`recistry pull --site S [--subject ID] [--since DATE]`): C-FIND, then C-GET
 * through a pipeline of its own (or C-MOVE to our AE: the daemon must be running). Recorded in the archive's
 * polls table and audit log. Returns 0 when the poll ran (its outcome is in *out, possibly failed); non-zero
 * for what prevented it (unknown site, no pacs, a subject outside the pattern). */
int rcy_ingest_poll_site(rcy_ingest_poll_result *out, const rcy_ingest_config *config, const char *site_id,
                         const rcy_ingest_poll_options *options, rcy_error *err);

/* `recistry pull status`: one line per site, through fn. */
int rcy_ingest_poll_status(const rcy_ingest_config *config, void (*fn)(void *ctx, const char *line), void *ctx,
                           rcy_error *err);

/* ---- whole files from an HTTP sender (src/ingest/receive_file.c): STOW-RS ---- */

/* The ingest pipeline for callers that hold a whole Part 10 file rather than a C-STORE (the reader server's
 * STOW-RS): the same checks (site, subject pattern, anonymisation, private elements), the same durable store
 * and index, the same group commit. Thread-safe: one receiver serves every request thread. */
typedef struct rcy_ingest_receiver rcy_ingest_receiver;
int rcy_ingest_receiver_open(rcy_ingest_receiver **out, const rcy_ingest_config *config, rcy_error *err);
void rcy_ingest_receiver_close(rcy_ingest_receiver *receiver);

typedef struct rcy_ingest_file_result {
  int stored;         /* 1: durable and indexed now or before (an identical duplicate) */
  int quarantined;    /* 1: kept aside by the anonymisation check (not stored) */
  unsigned status;    /* the DIMSE status a C-STORE of it would have got (0 when stored) */
  char comment[65];   /* Error Comment (no PHI; 64 characters at most, as DIMSE carries) */
  char sop_class_uid[65], sop_instance_uid[65], study_uid[65]; /* from the data set; "" when unreadable */
} rcy_ingest_file_result;

/* Checks, stores and indexes one Part 10 file sent for site_id (the sender's site plays the calling AE's
 * part; NULL: the site the data set names, for an administrator). study_uid: when non-NULL the instance must belong to that study (else 0xA900). The outcome, refusals
 * included, is in *out; the return value is non-zero only when the receiver itself failed. */
int rcy_ingest_receive_file(rcy_ingest_file_result *out, rcy_ingest_receiver *receiver, const char *site_id,
                            const char *study_uid, const void *bytes, size_t len, rcy_error *err);

/* ---- study QC (src/ingest/qc.c) ---- */

typedef struct rcy_ingest_qc_result {
  rcy_archive_finding *findings; /* owned; messages allocated */
  size_t n_findings;
  int warning;                   /* 1 when any finding is a warning or an error */
} rcy_ingest_qc_result;

/* QC of a study's slices: series count, per image series slice gaps, inconsistent spacing, slice thickness
 * above 5 mm (RECIST 1.1: too thick for 10 mm lesions), mixed orientation. Pure computation. */
int rcy_ingest_qc_slices(rcy_ingest_qc_result *out, const rcy_archive_slice *slices, size_t n, rcy_error *err);
void rcy_ingest_qc_result_clear(rcy_ingest_qc_result *result);
/* Checks every study silent since `stable_age_s` seconds and records complete / qc-warning with its findings.
 * Returns the number of studies checked in *n_checked. */
int rcy_ingest_check_stable(int *n_checked, rcy_store *store, int stable_age_s, rcy_error *err);

/* ---- verification (src/ingest/verify.c) ---- */

/* Every index row against its file (exists, size, SHA-256) and every file under storage/ against the index.
 * Each mismatch is reported through fn (a line naming the path and what differs); *n_mismatches counts them.
 * Rows whose SHA-256 is still pending (RCY_ARCHIVE_SHA256_PENDING: the daemon hashes after the Success) have
 * existence and size checked and are counted in *n_pending (may be NULL), not as mismatches. */
int rcy_ingest_verify(int *n_mismatches, int *n_pending, const rcy_store_location *archive,
                      void (*fn)(void *ctx, const char *line), void *ctx, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
