/*
 * pool_int — the pool's state, shared by relay/pool.c (the sessions) and
 * relay/pool_lease.c (leases of sessions shared with other relays); no
 * other file includes it.  Every field is under pool->lock unless said
 * otherwise.
 */
#ifndef SMARTHOST_RELAY_POOL_INT_H
#define SMARTHOST_RELAY_POOL_INT_H

#include <pthread.h>
#include <time.h>

#include "pool.h"
#include "pool_limit.h"
#include "tls.h"
#include "upstream.h"

#define POOL_TICKETS	8

/* An account entry: the sessions of one account key (see pool.c). */
struct pool_acct {
	struct pool_acct *next;
	char		*name, *host, *login, *ca_file;
	unsigned	 port;
	enum tls_mode	 tls;
	unsigned	 gen;		/* secrets_generation() of its code */
	int		 draining;
	struct tls_ctx	*tls_ctx;
	struct tls_session *tickets[POOL_TICKETS];	/* oldest first */
	int		 ntickets;
	struct upstream	*idle;		/* most recently used first */
	unsigned	 nidle, nbusy, waiters;
	unsigned	 nlogged;	/* sessions logged in, idle or busy */
	unsigned	 peak;		/* most logged in at once */
	unsigned	 max, msgs_per_session, idle_timeout;
	struct pool_limit limit;	/* the provider's session limit */
	unsigned long	 opened, full, resumed, reuses;
	pthread_cond_t	 freed;		/* a slot or idle session is free */
	struct pool	*pool;
};

/* Counters of drained entries, so that pool_stats() covers the whole
 * life of an account across reloads. */
struct pool_retired {
	struct pool_retired *next;
	struct pool_stat st;
};

struct pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* the reaper's */
	pthread_t	 reaper;
	int		 stop;
	struct pool_acct *accts;
	struct pool_retired *retired;
	unsigned	 connect_timeout, command_timeout, data_timeout;
	unsigned	 idle_timeout, msgs_per_session, quota_cooloff;
	char		*ca_file;
	struct pool_leases leases;	/* get == NULL: none */
};

/* Moves all idle sessions of a to *closing (they count as busy until
 * closed). */
void	pool_acct_close_idle(struct pool_acct *a, struct upstream **closing);

#endif
