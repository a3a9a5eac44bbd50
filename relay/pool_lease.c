/*
 * pool_lease — leases of provider sessions shared with other relays (see
 * pool_lease.h and pool_set_leases() in pool.h).
 *
 * With leases, every new session of an account first takes one of the
 * account's leases (pool_lease_take()); the session keeps its id and
 * gives it back when it closes (pool_lease_put()).  While other relays
 * hold them all, pool_get() polls for one every POOL_LEASE_POLL_MS
 * (pool_lease_poll()) until its wait ends.  So that a relay waiting for a
 * lease gets one, this relay gives up sessions: one given back while it
 * holds more than its share is closed instead of kept idle
 * (pool_lease_wanted()), and the reaper closes the idle sessions of an
 * account another relay waits for (pool_lease_give()).  While the lease
 * store is unreachable the bound is this relay's share of the account's
 * (pool_lease_bound()).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool_int.h"
#include "pool_lease.h"
#include "reply.h"
#include "util.h"

#define POOL_GIVE_MAX	16	/* accounts checked per round */

void
pool_set_leases(struct pool *pool, const struct pool_leases *ls)
{
	pthread_mutex_lock(&pool->lock);
	if (ls != NULL)
		pool->leases = *ls;
	else
		memset(&pool->leases, 0, sizeof(pool->leases));
	pthread_mutex_unlock(&pool->lock);
}

int
pool_lease_take(struct pool *pool, struct pool_acct *a, char *id,
    size_t idsize)
{
	const struct pool_leases *ls = &pool->leases;

	id[0] = '\0';
	if (ls->get == NULL || ls->get(ls->arg, a->name, a->max, id,
	    idsize) != 0)
		return 0;
	return -1;
}

void
pool_lease_put(struct pool *pool, struct pool_acct *a, const char *id)
{
	if (id[0] != '\0' && pool->leases.put != NULL)
		pool->leases.put(pool->leases.arg, a->name, id);
}

int
pool_lease_wanted(struct pool *pool, struct pool_acct *a, const char *id)
{
	return id[0] != '\0' && pool->leases.wanted != NULL &&
	    pool->leases.wanted(pool->leases.arg, a->name, a->nlogged, a->max);
}

unsigned
pool_lease_bound(const struct pool *pool, unsigned max)
{
	const struct pool_leases *ls = &pool->leases;

	return ls->bound != NULL ? ls->bound(ls->arg, max) : max;
}

int
pool_lease_give(struct pool *pool, struct upstream **closing)
{
	char *names[POOL_GIVE_MAX];
	int wanted[POOL_GIVE_MAX];
	struct pool_acct *a;
	size_t n = 0, i;

	if (pool->leases.wanted == NULL)
		return 0;
	for (a = pool->accts; a && n < POOL_GIVE_MAX; a = a->next)
		if (a->nidle > 0 && !a->draining)
			names[n++] = xstrdup(a->name);
	if (n == 0)
		return 1;
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < n; i++)
		wanted[i] = pool->leases.wanted(pool->leases.arg, names[i],
		    POOL_HELD_IDLE, 0);
	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < n; i++) {
		for (a = pool->accts; a && wanted[i]; a = a->next)
			if (!a->draining && strcmp(a->name, names[i]) == 0)
				pool_acct_close_idle(a, closing);
		free(names[i]);
	}
	return 1;
}

int
pool_lease_poll(const struct timespec *deadline)
{
	struct timespec now, ts = { 0, POOL_LEASE_POLL_MS * 1000000L };

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec &&
	    now.tv_nsec >= deadline->tv_nsec))
		return -1;
	nanosleep(&ts, NULL);
	return 0;
}

void
pool_lease_reply(const struct route *rt, unsigned wait, struct smtp_reply *r,
    enum upstream_fail *why)
{
	reply_local(r, rt->host, 451, "4.4.5", "all %u sessions of account "
	    "%s with %s are in use by the relays sharing its limits (waited "
	    "%u s)", account_max_connections(rt->account), rt->account->name,
	    rt->host, wait);
	*why = UPF_LIMIT;
}
