/*
 * pool_limit — a provider's limit on an account's sessions, as the relay's
 * pool keeps it per account entry (relay/pool_limit.c; only pool.c uses
 * it).
 *
 * When the provider refuses a new session because the account has too
 * many (NetEase's 421 HL:ICC), pool_limit_reason() names the refusal and
 * pool_limit_set() shrinks the entry's bound to the sessions logged in at
 * that moment (at least 1) for quota-cooloff; pool_limit_bound() applies
 * it to the bound in force until it has passed, pool_limit_clear() ends
 * it at a reload.  The caller holds the pool's lock for all of them.
 */
#ifndef SMARTHOST_RELAY_POOL_LIMIT_H
#define SMARTHOST_RELAY_POOL_LIMIT_H

#include <time.h>

#include "pool.h"
#include "upstream.h"

struct pool_limit {
	unsigned	 cap;		/* sessions allowed, 0: no limit */
	long long	 until;		/* monotonic ms */
	time_t		 at;		/* when it was set */
	const char	*reason;	/* "421 HL:ICC" */
};

/* The provider's reason when r (a failure at stage why) refuses a new
 * session because the account has too many, else NULL. */
const char *pool_limit_reason(const struct smtp_reply *r,
	    enum upstream_fail why);
/* The provider refused one more session while nlogged were logged in:
 * they become the limit for cooloff seconds (logged with account and
 * host). */
void	pool_limit_set(struct pool_limit *, unsigned nlogged,
	    unsigned cooloff, const char *reason, const char *account,
	    const char *host);
/* A new session logged in, nlogged now: the provider took one more than
 * the limit says, so the limit grows to it. */
void	pool_limit_opened(struct pool_limit *, unsigned nlogged);
/* max, or the limit while it lasts (the smaller). */
unsigned pool_limit_bound(struct pool_limit *, unsigned max);
void	pool_limit_clear(struct pool_limit *);
/* The limit's fields of a `smarthostctl status` entry. */
void	pool_limit_stat(const struct pool_limit *, struct pool_stat *);

#endif
