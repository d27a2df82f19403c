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
  rcy_tls_mode tls;
  char *tls_certificate; /* the site's certificate (PEM), trusted on the TLS port */
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
 * in flight and returns 0. On start it removes leftover temporary files and indexes any file that reached
 * its final name without its index row (a crash between the two). */
int rcy_ingest_run(const rcy_ingest_config *config, volatile int *stop, rcy_error *err);

/* Pulls one study from a site's node (C-GET, or C-MOVE to our AE when the site is configured so: then the
 * daemon must be running to receive it) through the same checks. Counts of instances stored / refused. */
int rcy_ingest_pull(int *n_stored, int *n_refused, const rcy_ingest_config *config, const char *site_id,
                    const char *study_uid, rcy_error *err);

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
 * Each mismatch is reported through fn (a line naming the path and what differs); *n_mismatches counts them. */
int rcy_ingest_verify(int *n_mismatches, const rcy_store_location *archive,
                      void (*fn)(void *ctx, const char *line), void *ctx, rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
