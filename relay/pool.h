/*
 * pool — the relay's authenticated sessions per account, shared between
 * its client threads (relay/pool.c, pool_lease.c, pool_limit.c).
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
 *
 * With leases (pool_set_leases(): several relays sharing one provider
 * account), every new session first takes a lease of the account; while
 * all are taken by other relays pool_get() polls for one every
 * POOL_LEASE_POLL_MS until its wait ends, and a relay that holds more
 * than its share of them closes sessions given back instead of keeping
 * them idle, and its idle sessions of the account, so that their leases
 * pass to the waiting relay.
 */
#ifndef SMARTHOST_RELAY_POOL_H
#define SMARTHOST_RELAY_POOL_H

#include <stddef.h>

#include "config.h"
#include "route.h"
#include "upstream.h"

struct pool;

#define POOL_LEASE_POLL_MS	50
#define POOL_LEASE_CHECK_MS	250
#define POOL_HELD_IDLE		(~0u)

struct pool *pool_new(void);

/* Session leases shared with other relays.  get: 1 with the lease's id,
 * 0 when all max of the account are taken, -1 when the store is
 * unreachable (the session goes ahead under the bound that bound()
 * gives, with the id, if any, of a lease the store adds once it is back);
 * put gives one back; wanted: non-zero when another relay waits for a
 * lease of the account while this one holds more than its share of max
 * with held sessions (the session given back is then closed), or, with
 * held POOL_HELD_IDLE, at all (idle sessions are closed: checked every
 * POOL_LEASE_CHECK_MS by the reaper). */
struct pool_leases {
	int	(*get)(void *arg, const char *account, unsigned max, char *id,
		    size_t idsize);
	void	(*put)(void *arg, const char *account, const char *id);
	unsigned (*bound)(void *arg, unsigned max);
	int	(*wanted)(void *arg, const char *account, unsigned held,
		    unsigned max);
	void	*arg;
};
/* Use leases (copied; NULL: none) from now on. */
void	pool_set_leases(struct pool *, const struct pool_leases *);
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
