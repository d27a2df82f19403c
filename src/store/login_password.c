/* The login of a request that carries the password itself (HTTP Basic, for DICOMweb tools): throttling, the
 * password, the bookkeeping of a success, in one place for every such request.
 *
 * A tool sends the password with every request, and a viewer asks for hundreds of frames; libsodium's
 * interactive Argon2id costs about 0.3 s of CPU per check, which would make each request slow and the server
 * easy to exhaust. So a credential checked once is remembered for a few minutes, in memory only:
 *   - what is kept is a keyed BLAKE2b of (name, password), under a key drawn at random when the cache is made
 *     and never stored: a memory dump does not give passwords, nor hashes to attack offline without the key;
 *   - with it, a keyed hash of the account's stored argon2id string at the time of the check: a new password or
 *     a re-created account no longer matches, without anyone having to clear the cache;
 *   - a hit still reads the account (its role and site now, not as remembered) and still honours a lock on the
 *     name or the peer (read only: a hit is not a guess, so it neither counts as a failure nor resets one);
 *   - a miss is an ordinary login (rcy_store_login_attempt, Argon2id, rcy_store_login_succeeded).
 * Only a correct password can hit, so the cache gives a guesser nothing: each wrong guess is a miss, counted and
 * throttled as before. */
#include "store_internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 64 /* accounts in use by tools at once; the least recently checked one gives way */

typedef struct {
  char name[RCY_NAME_MAX + 1];
  unsigned char credential[crypto_generichash_BYTES]; /* keyed BLAKE2b of name, NUL, password */
  unsigned char stored[crypto_generichash_BYTES];     /* keyed BLAKE2b of the argon2id string it was checked on */
  long long expires_s;                                /* CLOCK_MONOTONIC; 0 = empty */
} slot;

struct rcy_credential_cache {
  pthread_mutex_t lock;
  unsigned char key[crypto_generichash_KEYBYTES];
  int ttl_s;
  slot slots[SLOTS];
};

static long long monotonic_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec;
}

int rcy_credential_cache_new(rcy_credential_cache **out, int ttl_s, rcy_error *err) {
  *out = NULL;
  if (ttl_s < 0 || ttl_s > 3600)
    return rcy_error_set(err, RCY_EINVAL, "credential cache lifetime %d s is not within 0..3600 s", ttl_s);
  if (sodium_init() < 0) return rcy_error_set(err, RCY_EINTERNAL, "libsodium failed to initialise");
  rcy_credential_cache *c = calloc(1, sizeof *c);
  if (!c) return rcy_error_set(err, RCY_ENOMEM, "out of memory");
  pthread_mutex_init(&c->lock, NULL);
  crypto_generichash_keygen(c->key);
  c->ttl_s = ttl_s;
  *out = c;
  return RCY_OK;
}

void rcy_credential_cache_free(rcy_credential_cache *c) {
  if (!c) return;
  pthread_mutex_destroy(&c->lock);
  sodium_memzero(c, sizeof *c);
  free(c);
}

static void mac(unsigned char out[crypto_generichash_BYTES], const rcy_credential_cache *c, const char *a,
                const char *b) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, c->key, sizeof c->key, crypto_generichash_BYTES);
  crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1); /* the NUL separates a from b */
  if (b) crypto_generichash_update(&st, (const unsigned char *)b, strlen(b));
  crypto_generichash_final(&st, out, crypto_generichash_BYTES);
  sodium_memzero(&st, sizeof st);
}

static int hit(rcy_credential_cache *c, const char *name, const unsigned char *credential,
               const unsigned char *stored) {
  long long now = monotonic_s();
  int found = 0;
  pthread_mutex_lock(&c->lock);
  for (int i = 0; i < SLOTS && !found; i++) {
    const slot *s = &c->slots[i];
    found = s->expires_s > now && strcmp(s->name, name) == 0 &&
            sodium_memcmp(s->credential, credential, crypto_generichash_BYTES) == 0 &&
            sodium_memcmp(s->stored, stored, crypto_generichash_BYTES) == 0;
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

static void remember(rcy_credential_cache *c, const char *name, const unsigned char *credential,
                     const unsigned char *stored) {
  long long now = monotonic_s();
  pthread_mutex_lock(&c->lock);
  /* This account's slot if it has one (a tool switching passwords keeps one slot), else the oldest. */
  int pick = 0;
  for (int i = 0; i < SLOTS; i++) {
    if (strcmp(c->slots[i].name, name) == 0) {
      pick = i;
      break;
    }
    if (c->slots[i].expires_s < c->slots[pick].expires_s) pick = i;
  }
  slot *s = &c->slots[pick];
  snprintf(s->name, sizeof s->name, "%s", name);
  memcpy(s->credential, credential, crypto_generichash_BYTES);
  memcpy(s->stored, stored, crypto_generichash_BYTES);
  s->expires_s = now + c->ttl_s;
  pthread_mutex_unlock(&c->lock);
}

int rcy_store_login_password(rcy_user *out, int *retry_after_s, int *from_cache, rcy_store *store,
                             rcy_credential_cache *cache, const char *name, const char *password, const char *peer,
                             rcy_error *err) {
  *retry_after_s = 0;
  if (from_cache) *from_cache = 0;
  if (!name || !password) return rcy_error_set(err, RCY_EDENIED, "wrong name or password");
  char stored_hash[crypto_pwhash_STRBYTES];
  unsigned char credential[crypto_generichash_BYTES], stored[crypto_generichash_BYTES];
  int rc;
  if (cache && cache->ttl_s > 0) {
    mac(credential, cache, name, password);
    rcy_user user;
    rc = rcy_store_user_load(&user, stored_hash, store, name, err);
    if (rc == RCY_OK) {
      mac(stored, cache, stored_hash, NULL);
      if (hit(cache, name, credential, stored)) {
        if ((rc = rcy_store_login_locked(retry_after_s, store, name, peer, err))) return rc;
        *out = user;
        if (from_cache) *from_cache = 1;
        return RCY_OK;
      }
    } else if (rc != RCY_ENOTFOUND) {
      return rc;
    } /* no such account: refused below exactly as a wrong password is (counted, same time) */
  }
  if ((rc = rcy_store_login_attempt(retry_after_s, store, name, peer, err))) return rc;
  if ((rc = rcy_store_user_verify(out, stored_hash, store, name, password, err))) return rc;
  if ((rc = rcy_store_login_succeeded(store, out->name, peer, err))) return rc;
  if (cache && cache->ttl_s > 0) {
    mac(stored, cache, stored_hash, NULL); /* the string the password was just verified against */
    remember(cache, out->name, credential, stored);
  }
  sodium_memzero(stored_hash, sizeof stored_hash);
  return RCY_OK;
}
