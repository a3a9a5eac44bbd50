/*
 * pool_lease — the pool's side of session leases shared with other relays
 * (relay/pool_lease.c over the hooks of pool_set_leases(); only pool.c
 * uses it).
 *
 * Without leases (no hooks set) every function here lets the pool go on
 * alone: a lease id "" is none, the bound is the account's own.
 */
#ifndef SMARTHOST_RELAY_POOL_LEASE_H
#define SMARTHOST_RELAY_POOL_LEASE_H

#include <stddef.h>
#include <time.h>

#include "route.h"
#include "upstream.h"

#define POOL_LEASE_MAX	128	/* a lease id */

struct pool;
struct pool_acct;

/* A lease for a new session of a (outside the lock): 0 with its id (""
 * without leases or while their store is unreachable), or -1 when other
 * relays hold them all. */
int	pool_lease_take(struct pool *, struct pool_acct *a, char *id,
	    size_t idsize);
/* Gives a session's lease back (outside the lock); id "" is none. */
void	pool_lease_put(struct pool *, struct pool_acct *a, const char *id);
/* Non-zero when a session of a holding lease id, given back, is to be
 * closed so that its lease passes to a relay waiting for one (outside
 * the lock). */
int	pool_lease_wanted(struct pool *, struct pool_acct *a, const char *id);
/* The bound of an account of max sessions under the lease store's state
 * (lock held). */
unsigned pool_lease_bound(const struct pool *, unsigned max);
/* Moves the idle sessions of accounts another relay waits for to
 * *closing (lock held; asks the lease store without it).  Returns 0
 * without leases, else 1: the reaper checks again within
 * POOL_LEASE_CHECK_MS. */
int	pool_lease_give(struct pool *, struct upstream **closing);
/* Sleeps POOL_LEASE_POLL_MS before the next try for a lease: 0, or -1
 * when the deadline has passed. */
int	pool_lease_poll(const struct timespec *deadline);
/* The reply when the wait for a lease ended. */
void	pool_lease_reply(const struct route *, unsigned wait,
	    struct smtp_reply *r, enum upstream_fail *why);

#endif
