/*
 * pool — authenticated sessions per account, shared by the relay's
 * client threads (see pool.h).
 *
 * An account entry is keyed by account name, host, port, TLS mode, login,
 * CA file and the generation of the authorization code its sessions
 * logged in with (secrets_generation()).  When a route or a reload brings
 * a different key for the same name, the old entry is drained: its idle
 * sessions are closed at once, its busy ones when they are given back,
 * and a new entry takes over (for that moment the account may have more
 * sessions than its bound).  A request that still carries an older
 * generation than the live entry (a transaction that began before the
 * reload) never takes that entry's sessions.
 *
 * pool_get() takes the most recently used idle session and checks it with
 * upstream_check() before handing it out (no round trip after a clean
 * transaction: a session the provider closed is seen before MAIL and is
 * replaced by a new one without the caller noticing; one that died
 * unseen fails MAIL with no reply, and txn.c takes another); otherwise it opens
 * a new session if the account is below account_max_connections(), else
 * waits for a slot up to wait_seconds.  Connecting, TLS and AUTH happen
 * outside the lock in a reserved slot.  pool_put() keeps a healthy session
 * idle unless it has carried messages-per-session transactions; a reaper
 * thread closes sessions idle longer than idle-timeout.
 *
 * A provider's "too many sessions" refusal of a new session shrinks the
 * entry's bound for a while (pool_limit.c); the refused caller, and every
 * other one, then waits for a logged-in session instead of opening a new
 * one.  With leases of sessions shared with other relays (pool_lease.c),
 * a new session first takes a lease, and sessions are given up when
 * another relay waits for one.  The entries and the pool itself are in
 * pool_int.h.
 *
 * TLS resumption: each entry keeps the newest POOL_TICKETS sessions its
 * connections received; each new connection takes the newest one (a TLS
 * 1.3 ticket is used once) and adds the ones it receives in turn, so
 * concurrent reconnects each have a ticket of their own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "secrets.h"
#include "tls.h"
#include "pool.h"
#include "pool_int.h"
#include "pool_lease.h"
#include "pool_limit.h"
#include "upstream_int.h"
#include "util.h"

#define POOL_LIMIT_TRIES 4	/* opens refused for too many sessions, per get */

static void
cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

static int
str_same(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static const char *
acct_ca_file(const struct pool *pool, const struct account *a)
{
	return a && a->ca_file ? a->ca_file : pool->ca_file;
}

/* ---- account entries (pool->lock held) ---- */

static void
acct_free(struct pool_acct *a)
{
	free(a->name);
	free(a->host);
	free(a->login);
	free(a->ca_file);
	tls_ctx_free(a->tls_ctx);
	while (a->ntickets > 0)
		tls_session_free(a->tickets[--a->ntickets]);
	pthread_cond_destroy(&a->freed);
	free(a);
}

static void
retire_counters(struct pool *pool, const struct pool_acct *a)
{
	struct pool_retired *r;

	for (r = pool->retired; r; r = r->next)
		if (strcmp(r->st.account, a->name) == 0)
			break;
	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		xstrlcpy(r->st.account, a->name, sizeof(r->st.account));
		r->next = pool->retired;
		pool->retired = r;
	}
	if (a->peak > r->st.peak)
		r->st.peak = a->peak;
	r->st.opened += a->opened;
	r->st.full_handshakes += a->full;
	r->st.resumed_handshakes += a->resumed;
	r->st.reuses += a->reuses;
}

/* Unlinks and frees a drained entry nobody uses any more. */
static void
acct_release(struct pool *pool, struct pool_acct *a)
{
	struct pool_acct **pp;

	if (!a->draining || a->nbusy || a->nidle || a->waiters)
		return;
	for (pp = &pool->accts; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			retire_counters(pool, a);
			acct_free(a);
			return;
		}
}

void
pool_acct_close_idle(struct pool_acct *a, struct upstream **closing)
{
	struct upstream *up;

	while ((up = a->idle) != NULL) {
		a->idle = upstream_pooling(up)->next;
		upstream_pooling(up)->next = *closing;
		*closing = up;
		a->nidle--;
		a->nbusy++;		/* until closed: see close_all() */
	}
}

/* Marks a draining; its idle sessions are moved to *closing. */
static void
acct_drain(struct pool *pool, struct pool_acct *a, struct upstream **closing)
{
	a->draining = 1;
	pool_acct_close_idle(a, closing);
	pthread_cond_broadcast(&a->freed);
	acct_release(pool, a);
}

static unsigned	acct_max(struct pool_acct *);

/* Closes sessions outside the lock, then frees their slots: a slot is
 * free only once the provider has seen the session go. */
static void
close_all(struct pool *pool, struct upstream *list)
{
	struct upstream *next;
	struct pool_acct *a;
	char lease[POOL_LEASE_MAX];

	for (; list; list = next) {
		next = upstream_pooling(list)->next;
		a = upstream_pooling(list)->owner;
		xstrlcpy(lease, upstream_pooling(list)->lease, sizeof(lease));
		upstream_close(list);
		pool_lease_put(pool, a, lease);
		pthread_mutex_lock(&pool->lock);
		a->nbusy--;
		a->nlogged--;
		pthread_cond_broadcast(&a->freed);
		acct_release(pool, a);
		pthread_mutex_unlock(&pool->lock);
	}
}

static int
acct_matches(const struct pool_acct *a, const char *name, const char *host,
    unsigned port, enum tls_mode tls, const char *login, const char *ca,
    unsigned gen)
{
	return strcmp(a->name, name) == 0 && str_same(a->host, host) &&
	    a->port == port && a->tls == tls && str_same(a->login, login) &&
	    str_same(a->ca_file, ca) && a->gen == gen;
}

static struct pool_acct *
acct_new(struct pool *pool, const struct route *rt, const char *ca,
    unsigned gen, char *err, size_t errsize)
{
	struct pool_acct *a = xcalloc(1, sizeof(*a));

	if ((a->tls_ctx = tls_ctx_new(ca, err, errsize)) == NULL) {
		free(a);
		return NULL;
	}
	a->name = xstrdup(rt->account->name);
	a->host = xstrdup(rt->host);
	a->login = xstrdup(rt->login ? rt->login : rt->account->name);
	a->ca_file = ca ? xstrdup(ca) : NULL;
	a->port = rt->port;
	a->tls = rt->tls;
	a->gen = gen;
	a->pool = pool;
	cond_init(&a->freed);
	a->next = pool->accts;
	pool->accts = a;
	return a;
}

/* The live entry for the route's account and code generation gen, made
 * if needed; entries of the same name with another key are drained,
 * except those of a newer generation than gen (the caller's code is the
 * older one: it neither takes their sessions nor closes them). */
static struct pool_acct *
acct_get(struct pool *pool, const struct route *rt, unsigned gen,
    struct upstream **closing, char *err, size_t errsize)
{
	const struct account *acc = rt->account;
	const char *ca = acct_ca_file(pool, acc);
	const char *login = rt->login ? rt->login : acc->name;
	struct pool_acct *a, *found = NULL, *next;

	for (a = pool->accts; a; a = next) {
		next = a->next;
		if (a->draining || strcmp(a->name, acc->name) != 0 ||
		    a->gen > gen)
			continue;
		if (acct_matches(a, acc->name, rt->host, rt->port, rt->tls,
		    login, ca, gen))
			found = a;
		else
			acct_drain(pool, a, closing);
	}
	if (found == NULL && (found = acct_new(pool, rt, ca, gen, err,
	    errsize)) == NULL)
		return NULL;
	found->max = account_max_connections(acc);
	if (found->max == 0)
		found->max = 1;
	found->msgs_per_session = acc->msgs_per_session ?
	    acc->msgs_per_session : pool->msgs_per_session;
	found->idle_timeout = acc->idle_timeout ? acc->idle_timeout :
	    pool->idle_timeout;
	return found;
}

/* ---- the reaper ---- */

/* Moves expired idle sessions of every entry to *closing; returns the
 * next time one expires (now + 60 s if none), in ms. */
static long long
reap(struct pool *pool, long long now, struct upstream **closing)
{
	long long next = now + 60000, until;
	struct pool_acct *a;
	struct upstream **pp, *up;

	for (a = pool->accts; a; a = a->next) {
		/* over a bound that shrank (the lease store went away) */
		while ((up = a->idle) != NULL &&
		    a->nidle + a->nbusy > acct_max(a)) {
			a->idle = upstream_pooling(up)->next;
			upstream_pooling(up)->next = *closing;
			*closing = up;
			a->nidle--;
			a->nbusy++;	/* until closed */
		}
		for (pp = &a->idle; (up = *pp) != NULL; ) {
			until = upstream_pooling(up)->idle_since +
			    (long long)a->idle_timeout * 1000;
			if (until > now) {
				if (until < next)
					next = until;
				pp = &upstream_pooling(up)->next;
				continue;
			}
			*pp = upstream_pooling(up)->next;
			upstream_pooling(up)->next = *closing;
			*closing = up;
			a->nidle--;
			a->nbusy++;	/* until closed */
		}
	}
	return next;
}

static void *
reaper(void *arg)
{
	struct pool *pool = arg;
	struct upstream *closing;
	struct timespec ts;
	long long next;

	pthread_mutex_lock(&pool->lock);
	while (!pool->stop) {
		closing = NULL;
		next = reap(pool, mono_ms(), &closing);
		if (pool_lease_give(pool, &closing) &&
		    next > mono_ms() + POOL_LEASE_CHECK_MS)
			next = mono_ms() + POOL_LEASE_CHECK_MS;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		if (closing) {
			pthread_mutex_unlock(&pool->lock);
			close_all(pool, closing);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		pthread_cond_timedwait(&pool->wake, &pool->lock, &ts);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* ---- the pool ---- */

struct pool *
pool_new(void)
{
	struct pool *pool = xcalloc(1, sizeof(*pool));

	pthread_mutex_init(&pool->lock, NULL);
	cond_init(&pool->wake);
	pool->connect_timeout = 30;
	pool->command_timeout = 300;
	pool->data_timeout = 600;
	pool->idle_timeout = 60;
	pool->msgs_per_session = 100;
	pool->quota_cooloff = 3600;
	if (pthread_create(&pool->reaper, NULL, reaper, pool) != 0) {
		log_errx("pool: cannot start the reaper thread");
		abort();
	}
	return pool;
}

/* The key an account has in cfg, as route_lookup() would give it. */
static int
acct_current(const struct pool *pool, const struct config *cfg,
    const struct pool_acct *a)
{
	const struct account *acc = config_account(cfg, a->name);
	const char *host;

	if (acc == NULL)
		return 0;
	host = account_host(acc);
	return acct_matches(a, a->name, host, account_port(acc),
	    account_tls(acc), acc->login ? acc->login : acc->name,
	    acct_ca_file(pool, acc), cfg->secrets ?
	    secrets_generation(cfg->secrets, a->name) : 0);
}

void
pool_reconfigure(struct pool *pool, const struct config *cfg)
{
	const struct conf *c = cfg->conf;
	struct upstream *closing = NULL;
	struct pool_acct *a, *next;

	pthread_mutex_lock(&pool->lock);
	pool->connect_timeout = c->connect_timeout;
	pool->command_timeout = c->command_timeout;
	pool->data_timeout = c->data_timeout;
	pool->idle_timeout = c->idle_timeout;
	pool->msgs_per_session = c->msgs_per_session;
	pool->quota_cooloff = c->quota_cooloff;
	free(pool->ca_file);
	pool->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
	for (a = pool->accts; a; a = next) {
		next = a->next;
		pool_limit_clear(&a->limit);	/* it lasts until now */
		if (!a->draining && !acct_current(pool, cfg, a))
			acct_drain(pool, a, &closing);
	}
	pthread_mutex_unlock(&pool->lock);
	close_all(pool, closing);
}

void
pool_free(struct pool *pool)
{
	struct upstream *closing = NULL;
	struct pool_acct *a, *next;
	struct pool_retired *r;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = 1;
	pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	pthread_join(pool->reaper, NULL);
	pthread_mutex_lock(&pool->lock);
	for (a = pool->accts; a; a = next) {
		next = a->next;
		acct_drain(pool, a, &closing);
	}
	pthread_mutex_unlock(&pool->lock);
	close_all(pool, closing);
	pthread_mutex_lock(&pool->lock);
	for (a = pool->accts; a; a = next) {	/* busy at exit: leak-free */
		next = a->next;
		acct_free(a);
	}
	while ((r = pool->retired) != NULL) {
		pool->retired = r->next;
		free(r);
	}
	pthread_mutex_unlock(&pool->lock);
	free(pool->ca_file);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* ---- sessions ---- */

/* Keeps a session received by a connection (lock held). */
static void
ticket_push(struct pool_acct *a, struct tls_session *t)
{
	if (a->ntickets == POOL_TICKETS) {
		tls_session_free(a->tickets[0]);
		memmove(a->tickets, a->tickets + 1,
		    sizeof(a->tickets[0]) * (POOL_TICKETS - 1));
		a->ntickets--;
	}
	a->tickets[a->ntickets++] = t;
}

/* The bound in force: max under the lease store's state, or the
 * provider's session limit while it lasts (lock held). */
static unsigned
acct_max(struct pool_acct *a)
{
	return pool_limit_bound(&a->limit, pool_lease_bound(a->pool, a->max));
}

/* Opens a session in the slot the caller reserved.  *retry is set when
 * the provider refused it for too many sessions while others of the
 * account live: the caller may wait for one of them. */
static struct upstream *
pool_open(struct pool *pool, struct pool_acct *a, const struct route *rt,
    const char *secret, const char *lease, struct smtp_reply *r,
    enum upstream_fail *why, int *retry)
{
	const struct account *acc = rt->account;
	struct upstream_params p = {
		.account = a->name, .host = a->host, .port = a->port,
		.tls = a->tls, .login = a->login, .secret = secret,
		.auth = &acc->auth, .tls_ctx = a->tls_ctx,
		.default_auth = acc->preset ? acc->preset->default_auth : NULL,
	};
	struct tls_session *resume = NULL, *t;
	struct upstream *up;
	const char *limited;

	pthread_mutex_lock(&pool->lock);
	p.connect_timeout = pool->connect_timeout;
	p.command_timeout = pool->command_timeout;
	p.data_timeout = pool->data_timeout;
	if (a->ntickets > 0)
		p.resume = resume = a->tickets[--a->ntickets];
	pthread_mutex_unlock(&pool->lock);

	up = upstream_open(&p, r, why);
	tls_session_free(resume);
	if (up == NULL)
		pool_lease_put(pool, a, lease);
	else
		xstrlcpy(upstream_pooling(up)->lease, lease,
		    sizeof(upstream_pooling(up)->lease));

	pthread_mutex_lock(&pool->lock);
	if (up == NULL) {
		a->nbusy--;
		if ((limited = pool_limit_reason(r, *why)) != NULL) {
			pool_limit_set(&a->limit, a->nlogged,
			    pool->quota_cooloff, limited, a->name, a->host);
			*retry = !a->draining && a->nidle + a->nbusy > 0;
		}
		pthread_cond_broadcast(&a->freed);
		acct_release(pool, a);
	} else {
		a->opened++;
		if (++a->nlogged > a->peak)
			a->peak = a->nlogged;
		pool_limit_opened(&a->limit, a->nlogged);
		if (upstream_tls_resumed(up))
			a->resumed++;
		else
			a->full++;
		while ((t = upstream_tls_session(up)) != NULL)
			ticket_push(a, t);
		upstream_pooling(up)->owner = a;
	}
	pthread_mutex_unlock(&pool->lock);
	return up;
}

/* Checks a pooled session (taken under the lock, upstream_check()); a
 * dead one is replaced in the same slot. */
static struct upstream *
pool_reuse(struct pool *pool, struct pool_acct *a, struct upstream *up,
    const struct route *rt, const char *secret, struct smtp_reply *r,
    enum upstream_fail *why, int *retry)
{
	if (upstream_check(up) == 0) {
		pthread_mutex_lock(&pool->lock);
		a->reuses++;
		pthread_mutex_unlock(&pool->lock);
		upstream_pooling(up)->reused = 1;
		*why = UPF_NONE;
		return up;
	}
	char lease[POOL_LEASE_MAX];

	xstrlcpy(lease, upstream_pooling(up)->lease, sizeof(lease));
	upstream_close(up);	/* its lease goes to the new session */
	pthread_mutex_lock(&pool->lock);
	a->nlogged--;
	pthread_mutex_unlock(&pool->lock);
	return pool_open(pool, a, rt, secret, lease, r, why, retry);
}

/* Takes the most recently used idle session, or reserves a slot for a
 * new one (returns NULL then); the entry stays alive while busy. */
static struct upstream *
take_slot(struct pool_acct *a)
{
	struct upstream *up = a->idle;

	if (up) {
		a->idle = upstream_pooling(up)->next;
		upstream_pooling(up)->next = NULL;
		a->nidle--;
	}
	a->nbusy++;
	return up;
}

static void
limit_reply(struct pool_acct *a, unsigned wait, struct smtp_reply *r,
    enum upstream_fail *why)
{
	reply_local(r, a->host, 451, "4.4.5", "all %u sessions of account "
	    "%s with %s are busy (waited %u s)", acct_max(a), a->name, a->host,
	    wait);
	*why = UPF_LIMIT;
}

/* Gives back the slot the caller reserved, unused. */
static void
slot_free(struct pool *pool, struct pool_acct *a)
{
	pthread_mutex_lock(&pool->lock);
	a->nbusy--;
	pthread_cond_broadcast(&a->freed);
	acct_release(pool, a);
	pthread_mutex_unlock(&pool->lock);
}

/* One try of pool_get(): a session, or NULL with *retry set when the
 * caller should wait for another of the account's sessions. */
static struct upstream *
get_once(struct pool *pool, const struct route *rt, const char *secret,
    unsigned gen, const struct timespec *deadline, unsigned wait_seconds,
    struct smtp_reply *r, enum upstream_fail *why, int *retry,
    int *lease_wait)
{
	struct upstream *closing = NULL, *up;
	struct pool_acct *a;
	char err[256], lease[POOL_LEASE_MAX];
	int expired = 0, rc;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		a = acct_get(pool, rt, gen, &closing, err, sizeof(err));
		if (a == NULL || a->idle || a->nidle + a->nbusy < acct_max(a) ||
		    expired)
			break;
		a->waiters++;
		rc = pthread_cond_timedwait(&a->freed, &pool->lock, deadline);
		a->waiters--;
		acct_release(pool, a);
		expired = rc == ETIMEDOUT;
	}
	if (a == NULL || (!a->idle && a->nidle + a->nbusy >= acct_max(a))) {
		if (a)
			limit_reply(a, wait_seconds, r, why);
		pthread_mutex_unlock(&pool->lock);
		close_all(pool, closing);
		if (a == NULL) {
			reply_local(r, rt->host, 451, "4.7.5", "account %s: %s",
			    rt->account->name, err);
			*why = UPF_TLS;
		}
		return NULL;
	}
	up = take_slot(a);
	pthread_mutex_unlock(&pool->lock);
	close_all(pool, closing);
	if (up)
		return pool_reuse(pool, a, up, rt, secret, r, why, retry);
	if (pool_lease_take(pool, a, lease, sizeof(lease)) != 0) {
		slot_free(pool, a);
		*lease_wait = 1;
		return NULL;
	}
	return pool_open(pool, a, rt, secret, lease, r, why, retry);
}

struct upstream *
pool_get(struct pool *pool, const struct route *rt, const char *secret,
    unsigned gen, unsigned wait_seconds, struct smtp_reply *r,
    enum upstream_fail *why)
{
	struct upstream *up;
	struct timespec deadline;
	int retry = 1, lease_wait;

	if (rt->account == NULL || rt->host == NULL) {
		reply_local(r, "", 451, "4.3.5", "no account or provider host "
		    "for this sender");
		*why = UPF_CONNECT;
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_seconds;
	for (unsigned tries = 0; retry && tries < POOL_LIMIT_TRIES; ) {
		retry = lease_wait = 0;
		up = get_once(pool, rt, secret, gen, &deadline, wait_seconds,
		    r, why, &retry, &lease_wait);
		if (up != NULL)
			return up;
		if (lease_wait) {	/* no event to wait for: poll */
			if (pool_lease_poll(&deadline) != 0) {
				pool_lease_reply(rt, wait_seconds, r, why);
				return NULL;
			}
			retry = 1;
		} else
			tries++;
	}
	return NULL;
}

void
pool_put(struct pool *pool, struct upstream *up, int reusable)
{
	struct upstream_pooling *pl;
	struct pool_acct *a;
	int keep;

	if (up == NULL)
		return;
	pl = upstream_pooling(up);
	a = pl->owner;
	if (reusable && pool_lease_wanted(pool, a, pl->lease))
		reusable = 0;	/* its lease goes to the relay waiting */
	pthread_mutex_lock(&pool->lock);
	keep = reusable && upstream_usable(up) && !a->draining &&
	    pl->msgs < a->msgs_per_session &&
	    a->nidle + a->nbusy <= acct_max(a);
	if (keep) {
		a->nbusy--;
		pl->reused = 0;
		pl->idle_since = mono_ms();
		pl->next = a->idle;
		a->idle = up;
		a->nidle++;
		pthread_cond_broadcast(&a->freed);
		pthread_cond_signal(&pool->wake);
	}
	pthread_mutex_unlock(&pool->lock);
	if (!keep) {
		pl->next = NULL;
		close_all(pool, up);
	}
}

/* The entry for name in v[0..*n), added if there is room. */
static struct pool_stat *
stat_slot(struct pool_stat *v, size_t max, size_t *n, const char *name)
{
	size_t i;

	for (i = 0; i < *n && i < max; i++)
		if (strcmp(v[i].account, name) == 0)
			return &v[i];
	if ((*n)++ >= max)
		return NULL;
	memset(&v[i], 0, sizeof(v[i]));
	xstrlcpy(v[i].account, name, sizeof(v[i].account));
	return &v[i];
}

size_t
pool_stats(struct pool *pool, struct pool_stat *v, size_t max)
{
	const struct pool_retired *r;
	struct pool_acct *a;
	struct pool_stat *st;
	size_t n = 0;

	pthread_mutex_lock(&pool->lock);
	for (a = pool->accts; a; a = a->next) {
		if ((st = stat_slot(v, max, &n, a->name)) == NULL)
			continue;
		st->open += a->nidle + a->nbusy;
		st->busy += a->nbusy;
		if (a->peak > st->peak)
			st->peak = a->peak;
		if (!a->draining && acct_max(a) < a->max && a->limit.cap != 0)
			pool_limit_stat(&a->limit, st);
		st->opened += a->opened;
		st->full_handshakes += a->full;
		st->resumed_handshakes += a->resumed;
		st->reuses += a->reuses;
	}
	for (r = pool->retired; r; r = r->next) {
		if ((st = stat_slot(v, max, &n, r->st.account)) == NULL)
			continue;
		if (r->st.peak > st->peak)
			st->peak = r->st.peak;
		st->opened += r->st.opened;
		st->full_handshakes += r->st.full_handshakes;
		st->resumed_handshakes += r->st.resumed_handshakes;
		st->reuses += r->st.reuses;
	}
	pthread_mutex_unlock(&pool->lock);
	return n;
}
