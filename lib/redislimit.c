/*
 * redislimit — limits shared through Redis (see redislimit.h); the
 * connection itself is in redislimit_conn.c.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "conf_norm.h"
#include "log.h"
#include "redislimit_int.h"
#include "util.h"

/* Adds this relay's message count of the day if the total stays within
 * the limit (KEYS[1] the day's hash; ARGV: field, new value, limit,
 * expiry).  The refused case still writes the relay's value without it. */
static const char RESERVE[] =
"local v = redis.call('HGETALL', KEYS[1])\n"
"local total = tonumber(ARGV[2])\n"
"for i = 1, #v, 2 do\n"
"  if string.sub(v[i], 1, 2) == 'm:' and v[i] ~= ARGV[1] then\n"
"    total = total + tonumber(v[i + 1])\n"
"  end\n"
"end\n"
"local lim = tonumber(ARGV[3])\n"
"if lim > 0 and total > lim then\n"
"  redis.call('HSET', KEYS[1], ARGV[1], tonumber(ARGV[2]) - 1)\n"
"  redis.call('EXPIREAT', KEYS[1], ARGV[4])\n"
"  return {0, total - 1}\n"
"end\n"
"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
"redis.call('EXPIREAT', KEYS[1], ARGV[4])\n"
"return {1, total}\n";

/* This relay's counts (ARGV: msgs field, value, rcpts field, value,
 * expiry). */
static const char PUT[] =
"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])\n"
"redis.call('EXPIREAT', KEYS[1], ARGV[5])\n"
"return 1\n";

/* Lease end times come from Redis's clock, the same for every relay. */
#define NOW_MS \
"local t = redis.call('TIME')\n" \
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* Takes a lease if fewer than ARGV[1] are live (ARGV: max, lease ms, id,
 * relay); a relay refused says that it waits (KEYS[2], for a second). */
static const char LEASE_GET[] = NOW_MS
"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"
"if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then\n"
"  redis.call('SET', KEYS[2], ARGV[4], 'PX', 1000)\n"
"  return 0\n"
"end\n"
"redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])\n"
"if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then\n"
"  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
"end\n"
"return 1\n";

/* Extends leases (ARGV: lease ms, "1" to add missing ones back, then one
 * id per key). */
static const char LEASE_RENEW[] = NOW_MS
"local e = now + tonumber(ARGV[1])\n"
"for i = 1, #KEYS do\n"
"  if ARGV[2] == '1' then\n"
"    redis.call('ZADD', KEYS[i], e, ARGV[i + 2])\n"
"  else\n"
"    redis.call('ZADD', KEYS[i], 'XX', e, ARGV[i + 2])\n"
"  end\n"
"  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[1]) then\n"
"    redis.call('PEXPIRE', KEYS[i], ARGV[1])\n"
"  end\n"
"end\n"
"return #KEYS\n";

static const char LEASE_COUNT[] = NOW_MS
"return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')\n";

static const char COOL_GET[] =
"local v = redis.call('GET', KEYS[1])\n"
"if not v then return {-2, ''} end\n"
"return {redis.call('PTTL', KEYS[1]), v}\n";

void
redislimit_key(char *buf, size_t size, const char *kind, const char *account)
{
	size_t n;

	n = (size_t)snprintf(buf, size, "smarthost:%s:", kind);
	for (; *account && n + 1 < size; account++)
		buf[n++] = (char)tolower((unsigned char)*account);
	buf[n < size ? n : size - 1] = '\0';
}

static int	leases_script(struct redislimit *, int);

static void
hms(time_t t, char *buf, size_t size)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%H:%M:%S", &tm);
}

/* Reachable again after an outage (mu held): the settling window opens
 * (see redislimit.h). */
static void
settle_start(struct redislimit *r)
{
	time_t now = time(NULL), until;
	char end[16];

	until = now + REDISLIMIT_BACKOFF_MAX + r->lease_ms / 1000 +
	    REDISLIMIT_RESYNC;
	hms(until, end, sizeof(end));
	__atomic_store_n(&r->back_since, now, __ATOMIC_RELAXED);
	__atomic_store_n(&r->settle_until, until, __ATOMIC_RELAXED);
	__atomic_store_n(&r->settle_open, 1, __ATOMIC_RELAXED);
	log_info("limits-store %s: reachable again: limits are shared again, "
	    "with the local share %s in force as well until %s, while the "
	    "other relays write their counts again", r->url, r->share, end);
}

/* Connected, or -1 (mu held); retries after the backoff only.  A new
 * connection adds the leases held back at once, before any other call
 * can take one (Redis may have lost them, or never had those taken while
 * it was away). */
static int
connect_now(struct redislimit *r)
{
	const char *auth[2] = { "AUTH", r->password };
	char db[16], err[256];
	const char *sel[2] = { "SELECT", db };
	redisReply *rep;

	if (r->fd != -1)
		return 0;
	if (mono_ms() < r->next_try)
		return -1;
	if (rl_conn_open(r, err, sizeof(err)) != 0) {
		rl_went_down(r, err);
		return -1;
	}
	if (r->password != NULL) {
		if ((rep = rl_command(r, 2, auth)) == NULL)
			return -1;
		freeReplyObject(rep);
	}
	if (r->db != 0) {
		snprintf(db, sizeof(db), "%u", r->db);
		if ((rep = rl_command(r, 2, sel)) == NULL)
			return -1;
		freeReplyObject(rep);
	}
	if (r->nleases > 0 && leases_script(r, 1) != 0)
		return -1;
	if (!r->up)
		settle_start(r);
	__atomic_store_n(&r->up, 1, __ATOMIC_RELAXED);
	r->epoch++;
	r->backoff = BACKOFF_MIN_MS;
	return 0;
}

/* One command (mu taken here), after connecting if need be; with fresh
 * 0 only on the connection there is.  Its reply, or NULL: unreachable. */
static redisReply *
call(struct redislimit *r, int fresh, int argc, const char **argv)
{
	redisReply *rep = NULL;

	pthread_mutex_lock(&r->mu);
	if (fresh ? connect_now(r) == 0 : r->fd != -1)
		rep = rl_command(r, argc, argv);
	pthread_mutex_unlock(&r->mu);
	return rep;
}

/* A command whose reply tells nothing more: 0, or -1 (unreachable). */
static int
call_done(struct redislimit *r, int argc, const char **argv)
{
	redisReply *rep = call(r, 1, argc, argv);

	if (rep == NULL)
		return -1;
	freeReplyObject(rep);
	return 0;
}

/* EVAL script with nkeys keys then args (mu taken here); NULL if
 * unreachable. */
static redisReply *
eval(struct redislimit *r, const char *script, int nkeys, int argc,
    const char **argv)
{
	const char *v[16];
	char nk[16];

	if (argc + 3 > (int)(sizeof(v) / sizeof(v[0])))
		return NULL;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	v[0] = "EVAL";
	v[1] = script;
	v[2] = nk;
	memcpy(v + 3, argv, sizeof(*argv) * (size_t)argc);
	return call(r, 1, argc + 3, v);
}

static long long
int_at(const redisReply *rep, size_t i)
{
	if (rep->type != REDIS_REPLY_ARRAY || i >= rep->elements)
		return 0;
	return rep->element[i]->type == REDIS_REPLY_INTEGER ?
	    rep->element[i]->integer : 0;
}

/* Extends the leases held, or adds them back with readd (mu held,
 * connected): 0, or -1 (Redis went away). */
static int
leases_script(struct redislimit *r, int readd)
{
	const char **v;
	char ms[32], nk[16];
	struct lease *l;
	size_t n = 0, i;
	redisReply *rep;
	int rc = -1;

	v = xcalloc(5 + 2 * r->nleases, sizeof(*v));
	snprintf(ms, sizeof(ms), "%u", r->lease_ms);
	snprintf(nk, sizeof(nk), "%lu", r->nleases);
	v[0] = "EVAL";
	v[1] = LEASE_RENEW;
	v[2] = nk;
	for (l = r->leases, i = 0; l; l = l->next, i++) {
		v[3 + i] = l->key;
		v[3 + r->nleases + 2 + i] = l->id;
	}
	v[3 + r->nleases] = ms;
	v[4 + r->nleases] = readd ? "1" : "0";
	n = 5 + 2 * r->nleases;
	if ((rep = rl_command(r, (int)n, v)) != NULL) {
		freeReplyObject(rep);
		rc = 0;
	}
	free(v);
	return rc;
}

/* Asks Redis (mu held, connected): a connection it closed (a restart)
 * is marked unreachable, to be connected again. */
static void
ping_locked(struct redislimit *r)
{
	const char *argv[] = { "PING" };
	redisReply *rep;

	if ((rep = rl_command(r, 1, argv)) != NULL)
		freeReplyObject(rep);
}

/* Extends the leases held (mu held); a reconnection adds them back. */
static void
renew(struct redislimit *r)
{
	if (r->nleases > 0 && connect_now(r) == 0)
		(void)leases_script(r, 0);
}

static void *
renewer(void *arg)
{
	struct redislimit *r = arg;
	struct timespec ts;
	long long every = r->lease_ms / 3 < 500 ? 500 : r->lease_ms / 3;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += every / 1000;
		ts.tv_nsec += (every % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->wake, &r->mu, &ts);
		if (r->stop)
			break;
		if (r->fd == -1)
			(void)connect_now(r);
		else if (r->nleases == 0)
			ping_locked(r);
		renew(r);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct redislimit *
redislimit_new(const char *url, const char *ca_file, const char *relay,
    const char *password, const char *share, unsigned lease_seconds,
    unsigned timeout_ms, char *err, size_t errsize)
{
	struct redislimit *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t attr;
	char e[256];
	int tls;

	if (conf_redis_url(url, r->host, sizeof(r->host), &r->port, &r->db,
	    &tls, err, errsize) != 0) {
		free(r);
		return NULL;
	}
	if (tls && (r->tls_ctx = tls_ctx_new(ca_file, e, sizeof(e))) == NULL) {
		snprintf(err, errsize, "limits-store %s: %s", url, e);
		free(r);
		return NULL;
	}
	r->fd = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	r->url = xstrdup(url);
	r->relay = xstrdup(relay);
	r->password = password ? xstrdup(password) : NULL;
	r->share = xstrdup(share);
	r->lease_ms = lease_seconds * 1000;
	r->timeout_ms = timeout_ms;
	r->up = 1;		/* until a call says otherwise */
	r->backoff = BACKOFF_MIN_MS;
	pthread_mutex_lock(&r->mu);
	(void)connect_now(r);
	pthread_mutex_unlock(&r->mu);
	if (pthread_create(&r->renewer, NULL, renewer, r) != 0) {
		log_errx("limits-store: cannot start the lease renewal thread");
		abort();
	}
	return r;
}

void
redislimit_set_share(struct redislimit *r, const char *share)
{
	pthread_mutex_lock(&r->mu);
	free(r->share);
	r->share = xstrdup(share);
	pthread_mutex_unlock(&r->mu);
}

static int
same_password(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static void
free_password(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void
redislimit_free(struct redislimit *r)
{
	struct lease *l;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->renewer, NULL);
	while ((l = r->leases) != NULL) {
		r->leases = l->next;
		free(l);
	}
	rl_conn_close(r);
	tls_ctx_free(r->tls_ctx);
	free_password(r->password);
	free(r->url);
	free(r->relay);
	free(r->share);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void
redislimit_set_password(struct redislimit *r, const char *password)
{
	pthread_mutex_lock(&r->mu);
	if (!same_password(r->password, password)) {
		free_password(r->password);
		r->password = password ? xstrdup(password) : NULL;
		rl_conn_close(r);	/* log in anew */
	}
	pthread_mutex_unlock(&r->mu);
}

const char *
redislimit_url(const struct redislimit *r)
{
	return r->url;
}

int
redislimit_up(struct redislimit *r, time_t *since, char *err, size_t errsize)
{
	int up;

	pthread_mutex_lock(&r->mu);
	up = r->up;
	*since = r->down_since;
	xstrlcpy(err, r->err, errsize);
	pthread_mutex_unlock(&r->mu);
	return up;
}

unsigned long
redislimit_epoch(struct redislimit *r)
{
	unsigned long e;

	pthread_mutex_lock(&r->mu);
	e = r->epoch;
	pthread_mutex_unlock(&r->mu);
	return e;
}

int
redislimit_settling(struct redislimit *r, time_t now, time_t *since,
    time_t *until)
{
	time_t end = __atomic_load_n(&r->settle_until, __ATOMIC_RELAXED);

	*since = __atomic_load_n(&r->back_since, __ATOMIC_RELAXED);
	*until = end;
	if (end == 0)
		return 0;
	if (now < end)
		return 1;
	if (__atomic_exchange_n(&r->settle_open, 0, __ATOMIC_RELAXED))
		log_info("limits-store %s: settled: the relays have had time "
		    "to write their counts again; limits are shared without "
		    "the local share again", r->url);
	return 0;
}

static void
day_key(char *buf, size_t size, const char *account, long day)
{
	char k[KEY_MAX];

	redislimit_key(k, sizeof(k), "day", account);
	snprintf(buf, size, "%s:%ld", k, day);
}

int
redislimit_reserve(struct redislimit *r, const char *account, long day,
    time_t expire_at, unsigned daily, unsigned mine, unsigned *total)
{
	char key[KEY_MAX + 16], field[300], val[16], lim[16], exp[24];
	const char *argv[] = { key, field, val, lim, exp };
	redisReply *rep;
	int rc;

	day_key(key, sizeof(key), account, day);
	snprintf(field, sizeof(field), "m:%s", r->relay);
	snprintf(val, sizeof(val), "%u", mine + 1);
	snprintf(lim, sizeof(lim), "%u", daily);
	snprintf(exp, sizeof(exp), "%lld", (long long)expire_at);
	if ((rep = eval(r, RESERVE, 1, 5, argv)) == NULL)
		return -1;
	rc = int_at(rep, 0) == 1;
	*total = (unsigned)int_at(rep, 1);
	freeReplyObject(rep);
	return rc;
}

int
redislimit_put(struct redislimit *r, const char *account, long day,
    time_t expire_at, unsigned msgs, unsigned rcpts)
{
	char key[KEY_MAX + 16], mf[300], rf[300], mv[16], rv[16], exp[24];
	const char *argv[] = { key, mf, mv, rf, rv, exp };
	redisReply *rep;

	day_key(key, sizeof(key), account, day);
	snprintf(mf, sizeof(mf), "m:%s", r->relay);
	snprintf(rf, sizeof(rf), "r:%s", r->relay);
	snprintf(mv, sizeof(mv), "%u", msgs);
	snprintf(rv, sizeof(rv), "%u", rcpts);
	snprintf(exp, sizeof(exp), "%lld", (long long)expire_at);
	if ((rep = eval(r, PUT, 1, 6, argv)) == NULL)
		return -1;
	freeReplyObject(rep);
	return 0;
}

int
redislimit_get(struct redislimit *r, const char *account, long day,
    unsigned *msgs, unsigned *rcpts)
{
	char key[KEY_MAX + 16];
	const char *argv[] = { "HGETALL", key };
	redisReply *rep;
	const char *f;

	*msgs = *rcpts = 0;
	day_key(key, sizeof(key), account, day);
	if ((rep = call(r, 1, 2, argv)) == NULL)
		return -1;
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY &&
	    i + 1 < rep->elements; i += 2) {
		f = rep->element[i]->str;
		if (f == NULL || rep->element[i + 1]->str == NULL)
			continue;
		if (strncmp(f, "m:", 2) == 0)
			*msgs += (unsigned)strtoul(rep->element[i + 1]->str,
			    NULL, 10);
		else if (strncmp(f, "r:", 2) == 0)
			*rcpts += (unsigned)strtoul(rep->element[i + 1]->str,
			    NULL, 10);
	}
	freeReplyObject(rep);
	return 0;
}

int
redislimit_cool_set(struct redislimit *r, const char *account,
    unsigned seconds, const char *reason)
{
	char key[KEY_MAX], secs[16];
	const char *argv[] = { "SET", key, reason && *reason ? reason :
	    "an earlier failure", "EX", secs };

	redislimit_key(key, sizeof(key), "cool", account);
	snprintf(secs, sizeof(secs), "%u", seconds ? seconds : 1);
	return call_done(r, 5, argv);
}

int
redislimit_cool_get(struct redislimit *r, const char *account,
    unsigned *seconds, char *reason, size_t reasonsize)
{
	char key[KEY_MAX];
	const char *argv[] = { key };
	redisReply *rep;
	long long ms;
	int rc;

	redislimit_key(key, sizeof(key), "cool", account);
	if ((rep = eval(r, COOL_GET, 1, 1, argv)) == NULL)
		return -1;
	ms = int_at(rep, 0);
	rc = ms > 0;
	*seconds = ms > 0 ? (unsigned)((ms + 999) / 1000) : 0;
	reason[0] = '\0';
	if (rc && rep->elements > 1 && rep->element[1]->str != NULL)
		str_printable(reason, reasonsize, rep->element[1]->str,
		    rep->element[1]->len);
	freeReplyObject(rep);
	return rc;
}

int
redislimit_cool_clear(struct redislimit *r, const char *account)
{
	char key[KEY_MAX];
	const char *argv[] = { "DEL", key };

	redislimit_key(key, sizeof(key), "cool", account);
	return call_done(r, 2, argv);
}

int
redislimit_lease_get(struct redislimit *r, const char *account,
    unsigned max, char *id, size_t idsize)
{
	char key[KEY_MAX], want[KEY_MAX], mx[16], ms[16], lid[128];
	const char *argv[] = { key, want, mx, ms, lid, r->relay };
	struct lease *l;
	redisReply *rep;
	int rc;

	redislimit_key(key, sizeof(key), "sessions", account);
	redislimit_key(want, sizeof(want), "want", account);
	snprintf(mx, sizeof(mx), "%u", max);
	snprintf(ms, sizeof(ms), "%u", r->lease_ms);
	snprintf(lid, sizeof(lid), "%s#%lu", r->relay,
	    __atomic_add_fetch(&r->nleases_made, 1, __ATOMIC_RELAXED));
	if ((rep = eval(r, LEASE_GET, 2, 6, argv)) == NULL) {
		rc = -1;	/* unreachable: kept to be added back */
	} else {
		rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
		freeReplyObject(rep);
	}
	if (rc != 0) {
		l = xcalloc(1, sizeof(*l));
		xstrlcpy(l->key, key, sizeof(l->key));
		xstrlcpy(l->id, lid, sizeof(l->id));
		pthread_mutex_lock(&r->mu);
		l->next = r->leases;
		r->leases = l;
		r->nleases++;
		pthread_mutex_unlock(&r->mu);
		xstrlcpy(id, lid, idsize);
	}
	return rc;
}

void
redislimit_lease_put(struct redislimit *r, const char *account,
    const char *id)
{
	char key[KEY_MAX];
	const char *argv[] = { "ZREM", key, id };
	struct lease **pp, *l;

	redislimit_key(key, sizeof(key), "sessions", account);
	pthread_mutex_lock(&r->mu);
	for (pp = &r->leases; (l = *pp) != NULL; pp = &l->next)
		if (strcmp(l->id, id) == 0) {
			*pp = l->next;
			free(l);
			r->nleases--;
			break;
		}
	pthread_mutex_unlock(&r->mu);
	(void)call_done(r, 3, argv);
}

int
redislimit_lease_count(struct redislimit *r, const char *account,
    unsigned *n)
{
	char key[KEY_MAX];
	const char *argv[] = { key };
	redisReply *rep;

	redislimit_key(key, sizeof(key), "sessions", account);
	if ((rep = eval(r, LEASE_COUNT, 1, 1, argv)) == NULL)
		return -1;
	*n = rep->type == REDIS_REPLY_INTEGER ? (unsigned)rep->integer : 0;
	freeReplyObject(rep);
	return 0;
}

int
redislimit_lease_wanted(struct redislimit *r, const char *account)
{
	char key[KEY_MAX];
	const char *argv[] = { "GET", key };
	redisReply *rep;
	int wanted;

	redislimit_key(key, sizeof(key), "want", account);
	if ((rep = call(r, 0, 2, argv)) == NULL)	/* no reconnection */
		return -1;
	wanted = rep->type == REDIS_REPLY_STRING &&
	    strcmp(rep->str, r->relay) != 0;
	freeReplyObject(rep);
	return wanted;
}

int
redislimit_reachable(const struct redislimit *r)
{
	return __atomic_load_n(&r->up, __ATOMIC_RELAXED);
}

int
redislimit_ping(struct redislimit *r)
{
	const char *argv[] = { "PING" };

	return call_done(r, 1, argv);
}

void *
redislimit_call(struct redislimit *r, int argc, const char **argv)
{
	redisReply *rep = NULL;

	pthread_mutex_lock(&r->mu);
	if (connect_now(r) == 0)
		rep = rl_command(r, argc, argv);
	pthread_mutex_unlock(&r->mu);
	return rep;
}
