/*
 * redistoken — OAuth2 token sets shared by the relays of one Redis (the
 * limits-store of redislimit.h), so that an account's token is refreshed
 * once for all of them (oauth.h, "Sharing").
 *
 * Keys (ACCOUNT lowercased):
 *   smarthost:oauth:ACCOUNT  the token set (refresh and access token, the
 *        access token's expiry, when it was obtained) sealed with
 *        oauth_seal(): AES-256-GCM under a key derived from the Redis
 *        password and the account name, the key name authenticated with
 *        it.  It expires REDISTOKEN_KEEP seconds after the last write (how
 *        long a refresh token stays good is not known; the access token's
 *        own expiry is inside).
 *   smarthost:oauth-lock:ACCOUNT  the relay refreshing the account's
 *        token (its name, set only if absent, with a time to live); given
 *        back by a Lua script that deletes it only if that relay still
 *        holds it.
 *
 * Tokens go only where redistoken_safe() allows it: Redis with a password,
 * over TLS (rediss://) or on a loopback address.  Calls use the
 * connection of redislimit.h and its rules: -1 at once while Redis is
 * unreachable.
 */
#ifndef SMARTHOST_REDISTOKEN_H
#define SMARTHOST_REDISTOKEN_H

#include <stddef.h>

#include "oauth.h"
#include "redislimit.h"

#define REDISTOKEN_KEEP		(30 * 86400)	/* seconds */

/* 1 if token sets may be stored in the Redis of url with password (NULL or
 * "": none): a password, and rediss:// or a loopback host (127.0.0.0/8,
 * ::1, localhost).  Else 0 with why ("no Redis password in the secrets
 * file", ...). */
int	redistoken_safe(const char *url, const char *password, char *why,
	    size_t whysize);

/* The account's token set into tok: 1; 0 none, or one that does not open
 * with password (*unreadable then 1); -1 unreachable. */
int	redistoken_get(struct redislimit *, const char *password,
	    const char *account, struct oauth_token *tok, int *unreadable);
/* tok sealed as the account's set: 0, or -1 (unreachable, or OpenSSL
 * failed). */
int	redistoken_put(struct redislimit *, const char *password,
	    const char *account, const struct oauth_token *tok);
/* The account's refresh lock for holder, ms milliseconds: 1 taken, 0 held
 * by another, -1 unreachable. */
int	redistoken_lock(struct redislimit *, const char *account,
	    const char *holder, unsigned ms);
/* Delete the lock if holder still holds it: 1 deleted, 0 not held, -1. */
int	redistoken_unlock(struct redislimit *, const char *account,
	    const char *holder);

#endif
