/* The [peer:NAME] sections of the daemon's INI: who may query (C-FIND) and retrieve (C-MOVE, C-GET) from
 * the archive, from which addresses, which sites' studies it may see, and where C-MOVE may send (a peer with
 * a host and a port). Kept apart from config.c, which calls these for the [peer:...] keys; messages follow
 * its form (file, section, key). */
#include "ingest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rcy_ingest_peer *peer_for(rcy_ingest_config *c, const char *name) {
  for (size_t i = 0; i < c->n_peers; i++)
    if (strcmp(c->peers[i].name, name) == 0) return &c->peers[i];
  rcy_ingest_peer *p = realloc(c->peers, (c->n_peers + 1) * sizeof *p);
  if (!p) return NULL;
  c->peers = p;
  p = &c->peers[c->n_peers];
  memset(p, 0, sizeof *p);
  if (!(p->name = strdup(name))) return NULL;
  c->n_peers++;
  return p;
}

/* Splits a comma/blank separated list into *items (appending). -1 on allocation failure. */
static int add_list(char ***items, size_t *n, const char *value) {
  char *copy = strdup(value);
  if (!copy) return -1;
  char *save = NULL;
  int rc = 0;
  for (char *tok = strtok_r(copy, " ,\t", &save); tok && !rc; tok = strtok_r(NULL, " ,\t", &save)) {
    char **grown = realloc(*items, (*n + 1) * sizeof *grown);
    if (grown) *items = grown;
    if (!grown || !(grown[*n] = strdup(tok))) rc = -1;
    else (*n)++;
  }
  free(copy);
  return rc;
}

static int peer_valid_ae(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 16) return 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] == '\\' || (unsigned char)v[i] < 0x20) return 0;
  return 1;
}

int rcy_ingest_peer_key(rcy_ingest_config *c, const char *name, const char *key, const char *value, char *why,
                        size_t len) {
  if (!name[0] || strlen(name) > 64 || strpbrk(name, "/\\ ")) {
    snprintf(why, len, "bad peer name in section name");
    return -1;
  }
  rcy_ingest_peer *p = peer_for(c, name);
  if (!p) {
    snprintf(why, len, "out of memory");
    return -1;
  }
  if (strcmp(key, "ae") == 0 || strcmp(key, "ae_title") == 0) {
    if (!peer_valid_ae(value)) {
      snprintf(why, len, "'%s' is not a valid AE title (1-16 characters)", value);
      return -1;
    }
    free(p->ae_title);
    if (!(p->ae_title = strdup(value))) goto oom;
    return 0;
  }
  if (strcmp(key, "host") == 0 || strcmp(key, "hosts") == 0) {
    if (!value[0]) {
      snprintf(why, len, "empty (leave the key out to accept any address)");
      return -1;
    }
    if (add_list(&p->hosts, &p->n_hosts, value)) goto oom;
    return 0;
  }
  if (strcmp(key, "port") == 0) {
    char *end;
    long v = strtol(value, &end, 10);
    if (!value[0] || *end || v < 1 || v > 65535) {
      snprintf(why, len, "'%s' is not an integer between 1 and 65535", value);
      return -1;
    }
    p->port = (int)v;
    return 0;
  }
  if (strcmp(key, "rights") == 0) {
    char **items = NULL;
    size_t n = 0;
    if (add_list(&items, &n, value)) goto oom;
    int rc = 0;
    p->rights = 0;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(items[i], "find") == 0) p->rights |= RCY_PEER_FIND;
      else if (strcmp(items[i], "move") == 0) p->rights |= RCY_PEER_MOVE;
      else if (strcmp(items[i], "get") == 0) p->rights |= RCY_PEER_GET;
      else if (strcmp(items[i], "none") != 0 && !rc) {
        snprintf(why, len, "'%s' is not a right (find, move, get, or none)", items[i]);
        rc = -1;
      }
    }
    rcy_archive_strings_free(items, n);
    return rc;
  }
  if (strcmp(key, "sites") == 0) {
    for (size_t i = 0; i < p->n_sites; i++) free(p->sites[i]);
    free(p->sites);
    p->sites = NULL;
    p->n_sites = 0;
    p->all_sites = strcmp(value, "*") == 0;
    if (p->all_sites) return 0;
    if (!value[0]) {
      snprintf(why, len, "empty: list site IDs (S014, S015) or * for every site");
      return -1;
    }
    if (add_list(&p->sites, &p->n_sites, value)) goto oom;
    for (size_t i = 0; i < p->n_sites; i++)
      if (strcmp(p->sites[i], "*") == 0) {
        snprintf(why, len, "'*' means every site and stands alone");
        return -1;
      }
    return 0;
  }
  if (strcmp(key, "tls") == 0) {
    if (!rcy_ingest_tls_mode(&p->tls, value)) return 0;
    snprintf(why, len, "'%s' must be required or off", value);
    return -1;
  }
  if (strcmp(key, "tls_certificate") == 0) {
    free(p->tls_certificate);
    if (!(p->tls_certificate = strdup(value))) goto oom;
    return 0;
  }
  snprintf(why, len, "unknown key (expected ae, host, port, rights, sites, tls, tls_certificate)");
  return -1;
oom:
  snprintf(why, len, "out of memory");
  return -1;
}

int rcy_ingest_peers_validate(const rcy_ingest_config *c, rcy_error *err) {
  for (size_t i = 0; i < c->n_peers; i++) {
    const rcy_ingest_peer *p = &c->peers[i];
    if (!p->ae_title) return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] ae: missing", c->path, p->name);
    if (p->port && !p->n_hosts)
      return rcy_error_set(err, RCY_EINVAL,
                           "%s: [peer:%s] host: required with port (where C-MOVE sends; never taken from a request)",
                           c->path, p->name);
    if (p->tls == RCY_TLS_REQUIRED && !p->tls_certificate)
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] tls_certificate: required with tls = required (its "
                           "certificate, PEM)", c->path, p->name);
    if (p->tls != RCY_TLS_REQUIRED && p->tls_certificate)
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] tls_certificate: set, but tls is not required", c->path,
                           p->name);
    if (p->tls == RCY_TLS_REQUIRED && (!c->tls_certificate || !c->tls_private_key))
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] tls: [dicom] tls_certificate and tls_private_key are "
                           "required (the certificate we present to it)", c->path, p->name);
    if (p->tls == RCY_TLS_REQUIRED && p->rights && !c->tls_port)
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] tls: required, but [dicom] tls_port is not set (where it"
                           " would call)", c->path, p->name);
    if (p->rights && !p->all_sites && !p->n_sites)
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] sites: missing (site IDs, or * for every site)", c->path,
                           p->name);
    for (size_t j = 0; j < p->n_sites; j++)
      if (!rcy_ingest_config_site(c, p->sites[j]))
        return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] sites: %s is not a [site:ID] of this file", c->path,
                             p->name, p->sites[j]);
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->peers[j].ae_title, p->ae_title) == 0)
        return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] ae: %s is already the AE title of peer %s", c->path,
                             p->name, p->ae_title, c->peers[j].name);
    if (c->ae_title && strcmp(c->ae_title, p->ae_title) == 0)
      return rcy_error_set(err, RCY_EINVAL, "%s: [peer:%s] ae: %s is our own AE title ([dicom] ae_title)", c->path,
                           p->name, p->ae_title);
  }
  return RCY_OK;
}

void rcy_ingest_peers_free(rcy_ingest_config *c) {
  for (size_t i = 0; i < c->n_peers; i++) {
    rcy_ingest_peer *p = &c->peers[i];
    free(p->name);
    free(p->ae_title);
    rcy_archive_strings_free(p->hosts, p->n_hosts);
    rcy_archive_strings_free(p->sites, p->n_sites);
    free(p->tls_certificate);
  }
  free(c->peers);
  c->peers = NULL;
  c->n_peers = 0;
}

const rcy_ingest_peer *rcy_ingest_config_peer(const rcy_ingest_config *c, const char *ae_title) {
  for (size_t i = 0; i < c->n_peers; i++)
    if (strcmp(c->peers[i].ae_title, ae_title) == 0) return &c->peers[i];
  return NULL;
}
