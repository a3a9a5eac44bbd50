/*
 * pool — the relay's authenticated sessions per account, shared between
 * its client threads (relay/pool.c).
 *
 * This is the only interface between the relay's server side (server.c:
 * the SMTP dialogue with Postfix) and its client side (pool.c over
 * lib/upstream.c, lib/tls.c, lib/auth.c).  The server side never sees a
 * socket, an SSL object or a secret.
 *
 * Sessions are taken from the pool per transaction and given back
 * afterwards; the pool bounds the number of sessions per account
 * (account_max_connections()), reuses idle ones (no RSET or NOOP round
 * trip after a clean transaction: a pooled session the provider closed is
 * seen before MAIL and replaced transparently), closes
 * them after the idle timeout and after messages-per-session, and resumes
 * TLS sessions on reconnect.  When the provider refuses a new session
 * because the account has too many (NetEase's 421 HL:ICC), the account's
 * bound shrinks to the sessions logged in at that moment until
 * quota-cooloff has passed or the next reload.
 */
#ifndef SMARTHOST_RELAY_POOL_H
#define SMARTHOST_RELAY_POOL_H

#include <stddef.h>

#include "config.h"
#include "route.h"
#include "upstream.h"

struct pool;

struct pool *pool_new(void);
/* Close idle sessions of accounts that are gone or changed after a
 * reload; sessions in use are closed when given back. */
void	pool_reconfigure(struct pool *, const struct config *);
void	pool_free(struct pool *);

/* Take a ready session for the route's account (blocks up to
 * wait_seconds for a free slot).  On failure returns NULL, fills *why and
 * a synthetic reply in *r. secret is the authorization code (may be NULL
 * for a route whose account has none: a local AUTH failure), gen its
 * secrets_generation(): only sessions that logged in with a code of that
 * generation are handed out. */
struct upstream *pool_get(struct pool *, const struct route *,
	    const char *secret, unsigned gen, unsigned wait_seconds,
	    struct smtp_reply *r, enum upstream_fail *why);
/* Give a session back; reusable = 0 closes it (after an error or a
 * transaction whose outcome is unknown). */
void	pool_put(struct pool *, struct upstream *, int reusable);

/* Counters per account for logs and `smarthostctl status`.  Sessions
 * being opened count as busy. */
struct pool_stat {
	char		 account[256];
	unsigned	 open;		/* connected or connecting now */
	unsigned	 busy;		/* of which in a transaction */
	unsigned	 peak;		/* most logged in at once */
	unsigned long	 opened;	/* sessions opened since start */
	unsigned long	 full_handshakes;
	unsigned long	 resumed_handshakes;
	unsigned long	 reuses;	/* transactions on a pooled session */
	/* the provider's session limit in force, 0: none */
	unsigned	 limit;
	time_t		 limit_at, limit_until;
	char		 limit_reason[32];	/* "421 HL:ICC" */
};
/* Fills up to max entries; returns the number of accounts (may be more
 * than max). */
size_t	pool_stats(struct pool *, struct pool_stat *, size_t max);

#endif
