/*
 * store — see store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_norm.h"
#include "limit.h"
#include "log.h"
#include "pool.h"
#include "redislimit.h"
#include "secrets.h"
#include "server.h"
#include "store.h"
#include "tokenshare.h"
#include "util.h"

#define STORE_TIMEOUT_MS	200	/* each Redis call */
#define STORE_PASSWORD		"redis"	/* its line in the secrets file */

struct store {
	struct redislimit *r;
	struct tokenshare *tokens;	/* xoauth2 tokens */
	unsigned	 m, n;		/* limits-share */
	char		*url;
	char		*ca_file;	/* limits-ca-file, NULL: the system's */
};

static unsigned
share(const struct store *st, unsigned max)
{
	unsigned v = (unsigned)((unsigned long long)max * st->m / st->n);

	return v ? v : 1;
}

static int
lease_get(void *arg, const char *account, unsigned max, char *id,
    size_t idsize)
{
	struct store *st = arg;

	return redislimit_lease_get(st->r, account, max, id, idsize);
}

static void
lease_put(void *arg, const char *account, const char *id)
{
	struct store *st = arg;

	redislimit_lease_put(st->r, account, id);
}

/* The share while Redis is unreachable or settles after an outage (the
 * other relays' leases may not be back yet). */
static unsigned
lease_bound(void *arg, unsigned max)
{
	struct store *st = arg;
	time_t since, until;

	return redislimit_reachable(st->r) && !redislimit_settling(st->r,
	    time(NULL), &since, &until) ? max : share(st, max);
}

static int
lease_wanted(void *arg, const char *account, unsigned held, unsigned max)
{
	struct store *st = arg;

	return (held == POOL_HELD_IDLE || held > share(st, max)) &&
	    redislimit_lease_wanted(st->r, account) == 1;
}

static const char *
password_of(const struct config *cfg)
{
	return cfg->secrets ? secrets_get(cfg->secrets, STORE_PASSWORD) : NULL;
}

static int
same_path(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

int
store_open(struct relay *rl, const struct config *cfg, char *err,
    size_t errsize)
{
	const struct conf *c = cfg->conf;
	struct pool_leases ls = { lease_get, lease_put, lease_bound,
	    lease_wanted, NULL };
	struct store *st;
	char *name;

	err[0] = '\0';
	if (c->limits_store == NULL || strcmp(c->limits_store, "file") == 0)
		return 0;
	st = xcalloc(1, sizeof(*st));
	if (conf_share(c->limits_share ? c->limits_share : "1/1", &st->m,
	    &st->n) != 0)
		st->m = st->n = 1;
	name = xasprintf("%s:%s", rl->hostname, c->relay_listen);
	st->r = redislimit_new(c->limits_store, c->limits_ca_file, name,
	    password_of(cfg), c->limits_share, c->limits_lease,
	    STORE_TIMEOUT_MS, err, errsize);
	free(name);
	if (st->r == NULL) {
		free(st);
		return -1;
	}
	st->tokens = tokenshare_open(st->r, c->limits_store, rl->hostname,
	    c->relay_listen, cfg);
	st->url = xstrdup(c->limits_store);
	st->ca_file = c->limits_ca_file ? xstrdup(c->limits_ca_file) : NULL;
	limit_set_store(rl->limits, st->r, st->m, st->n);
	ls.arg = st;
	pool_set_leases(rl->pool, &ls);
	rl->store = st;
	log_info("limits-store=%s limits-share=%s limits-lease=%us: limits "
	    "shared with the relays of this Redis", st->url,
	    c->limits_share, c->limits_lease);
	return 0;
}

void
store_reconfigure(struct relay *rl, const struct config *cfg)
{
	const struct conf *c = cfg->conf;
	struct store *st = rl->store;
	unsigned m, n;

	if (st == NULL ? (c->limits_store != NULL &&
	    strcmp(c->limits_store, "file") != 0) :
	    strcmp(st->url, c->limits_store ? c->limits_store : "file") != 0) {
		log_warnx("limits-store changed to %s: takes effect at "
		    "restart", c->limits_store);
		return;
	}
	if (st == NULL)
		return;
	if (!same_path(st->ca_file, c->limits_ca_file))
		log_warnx("limits-ca-file changed to %s: takes effect at "
		    "restart", c->limits_ca_file ? c->limits_ca_file :
		    "the system's");
	redislimit_set_password(st->r, password_of(cfg));
	tokenshare_reconfigure(st->tokens, cfg);
	if (conf_share(c->limits_share, &m, &n) == 0 &&
	    (m != st->m || n != st->n)) {
		/* the pool reads m and n without the limits' lock: a
		 * changed share is used from the next session on */
		st->m = m;
		st->n = n;
		redislimit_set_share(st->r, c->limits_share);
		limit_set_store(rl->limits, st->r, m, n);
	}
}

void
store_close(struct relay *rl)
{
	struct store *st = rl->store;

	if (st == NULL)
		return;
	rl->store = NULL;
	tokenshare_close(st->tokens);
	redislimit_free(st->r);
	free(st->url);
	free(st->ca_file);
	free(st);
}

void
store_status(struct relay *rl, char *buf, size_t size, char *err,
    size_t errsize)
{
	struct store *st = rl->store;
	time_t since, back, until;
	size_t n;
	int up, settling;

	buf[0] = err[0] = '\0';
	if (st == NULL)
		return;
	(void)redislimit_ping(st->r);	/* the state now, not at the last call */
	up = redislimit_up(st->r, &since, err, errsize);
	if (up)
		err[0] = '\0';
	settling = up && redislimit_settling(st->r, time(NULL), &back, &until);
	snprintf(buf, size, " limits_store=%s limits_store_up=%d "
	    "limits_store_down_since=%lld limits_store_back_since=%lld "
	    "limits_store_settle_until=%lld limits_share=%u/%u", st->url, up,
	    up ? 0LL : (long long)since, settling ? (long long)back : 0LL,
	    settling ? (long long)until : 0LL, st->m, st->n);
	if ((n = strlen(buf)) < size)
		tokenshare_status(st->tokens, buf + n, size - n);
}
