/* The daemon's INI configuration (inih): [archive], [dicom], [policy], one [site:ID] per site and the
 * [peer:NAME] sections of query/retrieve (config_peers.c). Every
 * error names the file, the section and the key, so a site administrator can fix it without reading code. */
#include "ingest_internal.h"
#include "recistry/log.h"

#include <ini.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rcy_ingest_config *cfg;
  rcy_error *err;
  int failed;
} parse_ctx;

static int fail(parse_ctx *p, const char *section, const char *key, const char *fmt, const char *value) {
  char what[256];
  snprintf(what, sizeof what, fmt, value ? value : "");
  rcy_error_set(p->err, RCY_EINVAL, "%s: [%s] %s: %s", p->cfg->path, section, key, what);
  p->failed = 1;
  return 0;
}

static int set_str(parse_ctx *p, char **dst, const char *value) {
  free(*dst);
  *dst = strdup(value);
  if (!*dst) {
    rcy_error_set(p->err, RCY_ENOMEM, "out of memory reading %s", p->cfg->path);
    p->failed = 1;
    return 0;
  }
  return 1;
}

/* [policy] private_allow = GGGG[:Private Creator], ... : odd groups (4 hex digits), each optionally narrowed to
 * the block of one Private Creator (exact, case-sensitive, no comma). */
static int parse_private_allow(parse_ctx *p, const char *section, const char *key, const char *value) {
  rcy_ingest_config *c = p->cfg;
  for (size_t i = 0; i < c->n_private_allow; i++) free(c->private_allow[i].creator);
  free(c->private_allow);
  c->private_allow = NULL;
  c->n_private_allow = 0;
  const char *s = value;
  while (*s) {
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    while (len && (*s == ' ' || *s == '\t')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    char entry[128];
    if (len == 0 || len >= sizeof entry) return fail(p, section, key, "empty or overlong entry in '%s'", value);
    memcpy(entry, s, len);
    entry[len] = '\0';
    char *colon = strchr(entry, ':');
    if (colon) *colon = '\0';
    char *hex_end;
    unsigned long g = strtoul(entry, &hex_end, 16);
    if (strlen(entry) != 4 || *hex_end || !(g & 1) || g <= 0x0007 || g == 0xffff)
      return fail(p, section, key, "'%s': expected GGGG (an odd private group, 4 hex digits) or GGGG:Creator",
                  entry);
    const char *creator = colon ? colon + 1 : NULL;
    if (creator && (!creator[0] || strlen(creator) > 64))
      return fail(p, section, key, "'%s': the Private Creator must be 1-64 characters", creator);
    rcy_private_block *grown = realloc(c->private_allow, (c->n_private_allow + 1) * sizeof *grown);
    if (!grown) return fail(p, section, key, "out of memory%s", "");
    c->private_allow = grown;
    grown[c->n_private_allow].group = (unsigned)g;
    grown[c->n_private_allow].creator = NULL;
    if (creator && !(grown[c->n_private_allow].creator = strdup(creator)))
      return fail(p, section, key, "out of memory%s", "");
    c->n_private_allow++;
    if (!end) break;
    s = end + 1;
  }
  return 1;
}

static int parse_int(parse_ctx *p, const char *section, const char *key, const char *value, int lo, int hi,
                     int *out) {
  char *end;
  long v = strtol(value, &end, 10);
  if (!value[0] || *end || v < lo || v > hi) {
    char fmt[96];
    snprintf(fmt, sizeof fmt, "'%%s' is not an integer between %d and %d", lo, hi);
    return fail(p, section, key, fmt, value);
  }
  *out = (int)v;
  return 1;
}

static int valid_ae(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 16) return 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] == '\\' || (unsigned char)v[i] < 0x20) return 0;
  return 1;
}

static rcy_ingest_site *site_for(parse_ctx *p, const char *id) {
  rcy_ingest_config *c = p->cfg;
  for (size_t i = 0; i < c->n_sites; i++)
    if (strcmp(c->sites[i].id, id) == 0) return &c->sites[i];
  rcy_ingest_site *s = realloc(c->sites, (c->n_sites + 1) * sizeof *s);
  if (!s) return NULL;
  c->sites = s;
  s = &c->sites[c->n_sites++];
  memset(s, 0, sizeof *s);
  s->poll_since_days = 365;
  s->poll_margin_days = 1;
  s->poll_timeout_s = 10;
  s->poll_hours_from_min = s->poll_hours_to_min = -1;
  s->id = strdup(id);
  return s->id ? s : NULL;
}

static int add_hosts(parse_ctx *p, rcy_ingest_site *s, const char *value) {
  char *copy = strdup(value);
  if (!copy) return set_str(p, &copy, value);
  char *save = NULL;
  for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
    char **h = realloc(s->hosts, (s->n_hosts + 1) * sizeof *h);
    if (!h || !(h[s->n_hosts] = strdup(tok))) {
      if (h) s->hosts = h;
      free(copy);
      rcy_error_set(p->err, RCY_ENOMEM, "out of memory");
      p->failed = 1;
      return 0;
    }
    s->hosts = h;
    s->n_hosts++;
  }
  free(copy);
  return 1;
}

static int site_key(parse_ctx *p, const char *section, rcy_ingest_site *s, const char *key, const char *value) {
  if (strcmp(key, "name") == 0) return set_str(p, &s->name, value);
  if (strcmp(key, "ae_title") == 0) {
    if (!valid_ae(value)) return fail(p, section, key, "'%s' is not a valid AE title (1-16 characters)", value);
    return set_str(p, &s->ae_title, value);
  }
  if (strcmp(key, "hosts") == 0) return add_hosts(p, s, value);
  if (strcmp(key, "subject_pattern") == 0) {
    regex_t re;
    if (regcomp(&re, value, REG_EXTENDED | REG_NOSUB) != 0)
      return fail(p, section, key, "'%s' is not a valid POSIX extended regular expression", value);
    regfree(&re);
    return set_str(p, &s->subject_pattern, value);
  }
  if (strcmp(key, "pacs") == 0) {
    /* host:port:AE */
    char host[256], ae[64];
    int port;
    const char *c1 = strchr(value, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || (size_t)(c1 - value) >= sizeof host || strlen(c2 + 1) >= sizeof ae)
      return fail(p, section, key, "'%s' is not host:port:AE_TITLE", value);
    memcpy(host, value, (size_t)(c1 - value));
    host[c1 - value] = '\0';
    char portstr[16];
    size_t np = (size_t)(c2 - c1 - 1);
    if (np == 0 || np >= sizeof portstr) return fail(p, section, key, "'%s' is not host:port:AE_TITLE", value);
    memcpy(portstr, c1 + 1, np);
    portstr[np] = '\0';
    if (!parse_int(p, section, key, portstr, 1, 65535, &port)) return 0;
    snprintf(ae, sizeof ae, "%s", c2 + 1);
    if (!host[0] || !valid_ae(ae)) return fail(p, section, key, "'%s' is not host:port:AE_TITLE", value);
    s->pacs_port = port;
    return set_str(p, &s->pacs_host, host) && set_str(p, &s->pacs_ae_title, ae);
  }
  if (strcmp(key, "retrieve") == 0) {
    if (strcmp(value, "get") == 0) s->pull_move = 0;
    else if (strcmp(value, "move") == 0) s->pull_move = 1;
    else return fail(p, section, key, "'%s' must be get or move", value);
    return 1;
  }
  if (strcmp(key, "tls") == 0) {
    if (rcy_ingest_tls_mode(&s->tls, value)) return fail(p, section, key, "'%s' must be required or off", value);
    return 1;
  }
  if (strcmp(key, "tls_certificate") == 0) return set_str(p, &s->tls_certificate, value);
  if (strcmp(key, "pacs_tls") == 0) {
    if (rcy_ingest_tls_mode(&s->pacs_tls, value))
      return fail(p, section, key, "'%s' must be required or off", value);
    return 1;
  }
  if (strcmp(key, "pacs_certificate") == 0) return set_str(p, &s->pacs_certificate, value);
  if (strcmp(key, "poll_interval") == 0) return parse_int(p, section, key, value, 0, 7 * 86400, &s->poll_interval_s);
  if (strcmp(key, "poll_since_days") == 0) return parse_int(p, section, key, value, 1, 36500, &s->poll_since_days);
  if (strcmp(key, "poll_timeout") == 0) return parse_int(p, section, key, value, 1, 600, &s->poll_timeout_s);
  if (strcmp(key, "poll_margin_days") == 0) return parse_int(p, section, key, value, 0, 365, &s->poll_margin_days);
  if (strcmp(key, "poll_hours") == 0) {
    int h1, m1, h2, m2, used = 0;
    if (sscanf(value, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) != 4 || (size_t)used != strlen(value) ||
        strlen(value) != 11 || h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
      return fail(p, section, key, "'%s' is not HH:MM-HH:MM (local time, e.g. 20:00-06:00)", value);
    s->poll_hours_from_min = h1 * 60 + m1;
    s->poll_hours_to_min = h2 * 60 + m2;
    if (s->poll_hours_from_min == s->poll_hours_to_min)
      return fail(p, section, key, "'%s' is an empty window (start equals end)", value);
    return 1;
  }
  if (strcmp(key, "poll_patient_id") == 0) {
    char why[160];
    if (rcy_ingest_poll_key_check(value, why, sizeof why)) return fail(p, section, key, "%s", why);
    s->poll_patient_id_explicit = 1;
    return set_str(p, &s->poll_patient_id, value);
  }
  return fail(p, section, key, "unknown key%s", "");
}

static int handler(void *user, const char *section, const char *key, const char *value) {
  parse_ctx *p = user;
  rcy_ingest_config *c = p->cfg;
  if (p->failed) return 0;
  if (strcmp(section, "archive") == 0) {
    if (strcmp(key, "path") == 0) return set_str(p, &c->archive, value);
    if (strcmp(key, "database") == 0) return set_str(p, &c->database, value);
    if (strcmp(key, "sync") == 0) {
      /* Only one way remains (fdatasync, rename, directory fsync): `journal` relied on a file system
       * journal that ext4 may be formatted without, and then lost renames on power loss. An old
       * configuration asking for it gets the safe way, with a warning. */
      if (strcmp(value, "portable") == 0) return 1;
      if (strcmp(value, "journal") == 0) {
        rcy_log(RCY_LOG_WARN, "ingest", "[archive] sync = journal is no longer supported (unsafe on a file system "
                "without a journal): files are made durable the portable way; remove the line");
        return 1;
      }
      return fail(p, section, key, "'%s' must be portable (the default)", value);
    }
  } else if (strcmp(section, "dicom") == 0) {
    if (strcmp(key, "ae_title") == 0) {
      if (!valid_ae(value)) return fail(p, section, key, "'%s' is not a valid AE title (1-16 characters)", value);
      return set_str(p, &c->ae_title, value);
    }
    if (strcmp(key, "port") == 0) return parse_int(p, section, key, value, 1, 65535, &c->port);
    if (strcmp(key, "tls_port") == 0) return parse_int(p, section, key, value, 1, 65535, &c->tls_port);
    if (strcmp(key, "bind") == 0) return set_str(p, &c->bind, value);
    if (strcmp(key, "max_associations") == 0) return parse_int(p, section, key, value, 1, 1024, &c->max_associations);
    if (strcmp(key, "stable_age") == 0) return parse_int(p, section, key, value, 0, 86400 * 30, &c->stable_age_s);
    if (strcmp(key, "idle_timeout") == 0) return parse_int(p, section, key, value, 1, 86400, &c->idle_timeout_s);
    if (strcmp(key, "max_connections") == 0) return parse_int(p, section, key, value, 1, 65536, &c->max_connections);
    if (strcmp(key, "max_connections_per_host") == 0)
      return parse_int(p, section, key, value, 1, 65536, &c->max_connections_per_host);
    if (strcmp(key, "association_timeout") == 0)
      return parse_int(p, section, key, value, 1, 3600, &c->association_timeout_s);
    if (strcmp(key, "tls_certificate") == 0) return set_str(p, &c->tls_certificate, value);
    if (strcmp(key, "tls_private_key") == 0) return set_str(p, &c->tls_private_key, value);
  } else if (strcmp(section, "policy") == 0) {
    if (strcmp(key, "phi") == 0) {
      if (strcmp(value, "reject") == 0) c->phi = RCY_PHI_REJECT;
      else if (strcmp(value, "quarantine") == 0) c->phi = RCY_PHI_QUARANTINE;
      else return fail(p, section, key, "'%s' must be reject or quarantine", value);
      return 1;
    }
    if (strcmp(key, "private_tags") == 0) {
      if (strcmp(value, "refuse") == 0) c->private_tags = RCY_PRIVATE_REFUSE;
      else if (strcmp(value, "quarantine") == 0) c->private_tags = RCY_PRIVATE_QUARANTINE;
      else if (strcmp(value, "allow") == 0) c->private_tags = RCY_PRIVATE_ALLOW;
      else return fail(p, section, key, "'%s' must be refuse, quarantine or allow", value);
      return 1;
    }
    if (strcmp(key, "private_allow") == 0) return parse_private_allow(p, section, key, value);
  } else if (strncmp(section, "site:", 5) == 0) {
    const char *id = section + 5;
    if (!id[0] || strlen(id) > 64 || strpbrk(id, "/\\ .")) return fail(p, section, key, "bad site ID in section name%s", "");
    rcy_ingest_site *s = site_for(p, id);
    if (!s) {
      rcy_error_set(p->err, RCY_ENOMEM, "out of memory");
      p->failed = 1;
      return 0;
    }
    return site_key(p, section, s, key, value);
  } else if (strncmp(section, "peer:", 5) == 0) {
    char why[256];
    if (rcy_ingest_peer_key(c, section + 5, key, value, why, sizeof why)) return fail(p, section, key, "%s", why);
    return 1;
  } else if (strcmp(section, "http") == 0 || strcmp(section, "dose") == 0) {
    return 1; /* the same file configures `recistry serve` ([http], and [dose] for the dose and cohort pages),
                 which checks its own sections */
  } else {
    return fail(p, section, key, "unknown section (expected archive, dicom, policy, http, dose, site:ID or peer:NAME)%s",
                "");
  }
  return fail(p, section, key, "unknown key%s", "");
}

static int validate(rcy_ingest_config *c, rcy_error *err) {
  if (!c->archive) return rcy_error_set(err, RCY_EINVAL, "%s: [archive] path: missing", c->path);
  if (!c->ae_title) return rcy_error_set(err, RCY_EINVAL, "%s: [dicom] ae_title: missing", c->path);
  if (!c->port && !c->tls_port) return rcy_error_set(err, RCY_EINVAL, "%s: [dicom] port: missing", c->path);
  if (c->tls_port && (!c->tls_certificate || !c->tls_private_key))
    return rcy_error_set(err, RCY_EINVAL, "%s: [dicom] tls_certificate / tls_private_key: required with tls_port",
                         c->path);
  if (c->n_sites == 0) return rcy_error_set(err, RCY_EINVAL, "%s: no [site:ID] section: no site could send", c->path);
  for (size_t i = 0; i < c->n_sites; i++) {
    rcy_ingest_site *s = &c->sites[i];
    if (!s->ae_title) return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] ae_title: missing", c->path, s->id);
    if (!s->subject_pattern)
      return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] subject_pattern: missing", c->path, s->id);
    if (s->tls == RCY_TLS_REQUIRED && !c->tls_port)
      return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] tls: required, but [dicom] tls_port is not set", c->path,
                           s->id);
    if (s->tls == RCY_TLS_REQUIRED && !s->tls_certificate)
      return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] tls_certificate: required with tls = required", c->path,
                           s->id);
    if (s->poll_interval_s > 0 && !s->pacs_host)
      return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] poll_interval: needs pacs = host:port:AE_TITLE", c->path,
                           s->id);
    if (s->pacs_tls == RCY_TLS_REQUIRED) {
      if (!s->pacs_host)
        return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] pacs_tls: needs pacs = host:port:AE_TITLE", c->path,
                             s->id);
      if (!s->pacs_certificate)
        return rcy_error_set(err, RCY_EINVAL,
                             "%s: [site:%s] pacs_certificate: required with pacs_tls = required (the node's "
                             "certificate, PEM: the only one trusted when we call it)", c->path, s->id);
      if (!c->tls_certificate || !c->tls_private_key)
        return rcy_error_set(err, RCY_EINVAL,
                             "%s: [site:%s] pacs_tls: [dicom] tls_certificate and tls_private_key are required (the "
                             "certificate we present to the node)", c->path, s->id);
    } else if (s->pacs_certificate) {
      return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] pacs_certificate: set, but pacs_tls is not required",
                           c->path, s->id);
    }
    if (!s->poll_patient_id) {
      /* The privacy rule: only the registry's subjects are ever asked for, so the query key comes from the
       * subject pattern; a pattern with no literal prefix would ask the node for every patient. */
      char key[65], why[200];
      if (rcy_ingest_poll_key_from_pattern(key, sizeof key, s->subject_pattern, why, sizeof why) == 0) {
        if (!(s->poll_patient_id = strdup(key))) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
      } else if (s->poll_interval_s > 0) {
        return rcy_error_set(err, RCY_EINVAL,
                             "%s: [site:%s] subject_pattern: %s, so polling (poll_interval) cannot derive a Patient"
                             " ID query from it; set poll_patient_id = PREFIX* to the registry's subject prefix",
                             c->path, s->id, why);
      }
    }
    /* A node delivering a C-MOVE calls with its pacs AE title, which tells the daemon whose site it is. */
    for (size_t j = 0; s->pacs_ae_title && j < c->n_sites; j++) {
      const rcy_ingest_site *o = &c->sites[j];
      if (j < i && o->pacs_ae_title && strcmp(o->pacs_ae_title, s->pacs_ae_title) == 0)
        return rcy_error_set(err, RCY_EINVAL,
                             "%s: [site:%s] pacs: AE title %s is already site %s's node (the sites of C-MOVE"
                             " deliveries could not be told apart)", c->path, s->id, s->pacs_ae_title, o->id);
      if (j != i && o->ae_title && strcmp(o->ae_title, s->pacs_ae_title) == 0)
        return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] pacs: AE title %s is site %s's calling AE title",
                             c->path, s->id, s->pacs_ae_title, o->id);
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->sites[j].ae_title, s->ae_title) == 0)
        return rcy_error_set(err, RCY_EINVAL, "%s: [site:%s] ae_title: %s is already the AE title of site %s",
                             c->path, s->id, s->ae_title, c->sites[j].id);
  }
  return rcy_ingest_peers_validate(c, err);
}

int rcy_ingest_config_load(rcy_ingest_config **out, const char *path, rcy_error *err) {
  *out = NULL;
  rcy_ingest_config *c = calloc(1, sizeof *c);
  if (!c || !(c->path = strdup(path))) {
    free(c);
    return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  }
  c->max_associations = 16;
  c->stable_age_s = 60;
  c->idle_timeout_s = 60;
  c->max_connections = 64;
  c->max_connections_per_host = 8;
  c->association_timeout_s = 10;
  parse_ctx p = {c, err, 0};
  int line = ini_parse(path, handler, &p);
  int rc = RCY_OK;
  if (line == -1) rc = rcy_error_set(err, RCY_ENOTFOUND, "%s: cannot open the configuration file", path);
  else if (line == -2) rc = rcy_error_set(err, RCY_ENOMEM, "out of memory reading %s", path);
  else if (p.failed) {
    if (line > 0) {
      size_t n = strlen(err ? err->message : "");
      if (err) snprintf(err->message + n, sizeof err->message - n, " (line %d)", line);
    }
    rc = err ? err->code : RCY_EINVAL;
  } else if (line > 0) rc = rcy_error_set(err, RCY_EINVAL, "%s: line %d: syntax error", path, line);
  else rc = validate(c, err);
  if (rc) {
    rcy_ingest_config_free(c);
    return rc;
  }
  *out = c;
  return RCY_OK;
}

void rcy_ingest_config_free(rcy_ingest_config *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_sites; i++) {
    rcy_ingest_site *s = &c->sites[i];
    free(s->id);
    free(s->name);
    free(s->ae_title);
    for (size_t j = 0; j < s->n_hosts; j++) free(s->hosts[j]);
    free(s->hosts);
    free(s->subject_pattern);
    free(s->pacs_host);
    free(s->pacs_ae_title);
    free(s->tls_certificate);
    free(s->pacs_certificate);
    free(s->poll_patient_id);
  }
  free(c->sites);
  rcy_ingest_peers_free(c);
  for (size_t i = 0; i < c->n_private_allow; i++) free(c->private_allow[i].creator);
  free(c->private_allow);
  free(c->path);
  free(c->archive);
  free(c->database);
  free(c->ae_title);
  free(c->bind);
  free(c->tls_certificate);
  free(c->tls_private_key);
  free(c);
}

const rcy_ingest_site *rcy_ingest_config_site(const rcy_ingest_config *c, const char *site_id) {
  for (size_t i = 0; i < c->n_sites; i++)
    if (strcmp(c->sites[i].id, site_id) == 0) return &c->sites[i];
  return NULL;
}

rcy_store_location rcy_ingest_config_location(const rcy_ingest_config *c) {
  rcy_store_location where = {c->archive, c->database};
  return where;
}

void rcy_ingest_site_node(rcy_dicom_peer *peer, rcy_dicom_tls_client *tls, const rcy_ingest_config *cfg,
                          const rcy_ingest_site *site, int timeout_s, const volatile int *stop) {
  *tls = (rcy_dicom_tls_client){cfg->tls_certificate, cfg->tls_private_key, site->pacs_certificate};
  *peer = (rcy_dicom_peer){.host = site->pacs_host,
                           .port = site->pacs_port,
                           .ae_title = site->pacs_ae_title,
                           .our_ae_title = cfg->ae_title,
                           .use_move = site->pull_move,
                           .move_destination = cfg->ae_title,
                           .timeout_s = timeout_s,
                           .stop = stop,
                           .tls = site->pacs_tls == RCY_TLS_REQUIRED ? tls : NULL};
}

int rcy_ingest_tls_mode(rcy_tls_mode *out, const char *value) {
  if (strcmp(value, "required") == 0) *out = RCY_TLS_REQUIRED;
  else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0) *out = RCY_TLS_OFF;
  else return -1;
  return 0;
}
