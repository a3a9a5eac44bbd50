/*
 * Unit tests for lib/redislimit.c (the limits shared through Redis) and
 * the option checks it relies on (conf_redis_url, conf_share), against a
 * real redis-server started here on a free loopback port: reservations
 * that stop exactly at the limit across two relays, counts written again
 * after Redis lost them, session leases (the bound, a relay waiting, a
 * lease given back, the lease of a process that stopped renewing it
 * running out, a lease taken while Redis was away counted once it is
 * back), cool-offs set and cleared from either side, an unreachable
 * Redis answering -1 at once, and relay/limit.c's daily limit over two
 * relays when Redis restarts empty (the relay back first stays within
 * its share until the other has written its counts again).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf_norm.h"
#include "redislimit.h"
#include "../../relay/limit.c"	/* not in the library */

extern char **environ;

static pid_t	redis_pid, outage_pid;	/* outage: test_lease_outage's */
static unsigned	redis_port;
static char	url[64], dead_url[64];
static char	dir[] = "/tmp/test_redislimit.XXXXXX";

#include "redis_server.h"

static int
setup(void **state)
{
	unsigned port = redis_free_port();

	if (mkdtemp(dir) == NULL || redis_start(dir, port, &redis_pid) != 0)
		return -1;
	redis_port = port;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", port);
	snprintf(dead_url, sizeof(dead_url), "redis://127.0.0.1:%u",
	    redis_free_port());
	return 0;
}

static int
teardown(void **state)
{
	redis_stop(&redis_pid);
	redis_stop(&outage_pid);		/* that test failed */
	rmdir(dir);
	return 0;
}

static struct redislimit *
relay(const char *name, const char *u, unsigned lease)
{
	char err[256];
	struct redislimit *r = redislimit_new(u, NULL, name, NULL, "1/2",
	    lease, 200, err, sizeof(err));

	assert_non_null(r);
	return r;
}

static void
test_urls(void **state)
{
	static const struct {
		const char	*url, *host;
		unsigned	 port, db;
		int		 tls;
	} good[] = {
		{ "redis://10.0.0.5:6379/2", "10.0.0.5", 6379, 2, 0 },
		{ "redis://cache.example:7000", "cache.example", 7000, 0, 0 },
		{ "rediss://cache.example:6380", "cache.example", 6380, 0, 1 },
		{ "rediss://10.0.0.5:6380/1000", "10.0.0.5", 6380, 1000, 1 },
	};
	static const struct {
		const char	*url, *says;
	} bad[] = {
		{ "redis://:pw@h:1", "no password in the URL (not quoted here): "
		    "it goes in the "
		    "secrets file" },
		{ "rediss://u:pw@h:1/0", "no password in the URL" },
		{ "redis://h", "\"redis://h\": no port (HOST:PORT)" },
		{ "rediss://h/1", "no port" },
		{ "redis://h:0", "the port \"0\" is not a number from 1 to "
		    "65535" },
		{ "rediss://h:65536", "the port \"65536\" is not" },
		{ "rediss://h:", "the port \"\" is not" },
		{ "rediss://h:12345678901234567890", "the port" },
		{ "rediss://h:6380/x", "the database \"x\" is not a number "
		    "from 0 to 1000" },
		{ "rediss://h:6380/1001", "the database \"1001\"" },
		{ "rediss://:6380", "\"\" is not a host name or IPv4 address" },
		{ "rediss://h_x:6380", "\"h_x\" is not a host name" },
		{ "redis+tls://h:6380", "is not file, redis://HOST:PORT[/DB] "
		    "or rediss://HOST:PORT[/DB]" },
		{ "http://h:1", "is not file, redis://" },
	};
	char host[256], err[256];
	unsigned port, db, m, n;
	int tls;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(conf_redis_url(good[i].url, host,
		    sizeof(host), &port, &db, &tls, err, sizeof(err)), 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		assert_int_equal(db, good[i].db);
		assert_int_equal(tls, good[i].tls);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(conf_redis_url(bad[i].url, host,
		    sizeof(host), &port, &db, &tls, err, sizeof(err)), -1);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].url,
			    err, bad[i].says);
		assert_null(strstr(err, "pw@"));
	}
	assert_int_equal(conf_share("1/2", &m, &n), 0);
	assert_true(m == 1 && n == 2);
	assert_int_equal(conf_share("3/2", &m, &n), -1);
	assert_int_equal(conf_share("0/2", &m, &n), -1);
	assert_int_equal(conf_share("1", &m, &n), -1);
}

/* rediss:// to a Redis that speaks no TLS: unreachable with the
 * handshake's failure; a CA file that cannot be read is refused at once. */
static void
test_tls_refused(void **state)
{
	char u[80], err[256];
	struct redislimit *r;
	unsigned msgs, rcpts;
	time_t since;

	snprintf(u, sizeof(u), "rediss://127.0.0.1:%u", redis_port);
	r = redislimit_new(u, NULL, "a", NULL, "1/2", 30, 500, err,
	    sizeof(err));
	assert_non_null(r);
	assert_int_equal(redislimit_get(r, "p", 1, &msgs, &rcpts), -1);
	assert_int_equal(redislimit_up(r, &since, err, sizeof(err)), 0);
	if (strstr(err, "TLS handshake") == NULL)
		fail_msg("not a handshake failure: %s", err);
	redislimit_free(r);
	assert_null(redislimit_new(u, "/nonexistent/ca.pem", "a", NULL, "1/2",
	    30, 500, err, sizeof(err)));
	if (strstr(err, "cannot load trusted certificates from "
	    "/nonexistent/ca.pem") == NULL)
		fail_msg("CA file: %s", err);
}

static void
test_reserve_exact(void **state)
{
	struct redislimit *a = relay("a", url, 30), *b = relay("b", url, 30);
	unsigned total, msgs, rcpts;

	/* limit 3 over both: a, b, a pass; b's second is refused */
	assert_int_equal(redislimit_reserve(a, "Acc", 1, 4102444800, 3, 0,
	    &total), 1);
	assert_int_equal(total, 1);
	assert_int_equal(redislimit_reserve(b, "acc", 1, 4102444800, 3, 0,
	    &total), 1);
	assert_int_equal(redislimit_reserve(a, "acc", 1, 4102444800, 3, 1,
	    &total), 1);
	assert_int_equal(total, 3);
	assert_int_equal(redislimit_reserve(b, "acc", 1, 4102444800, 3, 1,
	    &total), 0);
	assert_int_equal(total, 3);
	/* another day counts apart */
	assert_int_equal(redislimit_reserve(b, "acc", 2, 4102444800, 3, 0,
	    &total), 1);
	assert_int_equal(total, 1);
	assert_int_equal(redislimit_put(a, "acc", 1, 4102444800, 2, 5), 0);
	assert_int_equal(redislimit_get(b, "acc", 1, &msgs, &rcpts), 0);
	assert_int_equal(msgs, 3);
	assert_int_equal(rcpts, 5);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_leases(void **state)
{
	struct redislimit *a = relay("a", url, 30), *b = relay("b", url, 30);
	struct redislimit *c = relay("c", url, 2);
	char id1[128], id2[128], id3[128];
	unsigned n;
	struct timespec ts = { 2, 300000000 };

	assert_int_equal(redislimit_lease_get(a, "s", 2, id1, sizeof(id1)), 1);
	assert_int_equal(redislimit_lease_get(b, "s", 2, id2, sizeof(id2)), 1);
	assert_int_equal(redislimit_lease_wanted(a, "s"), 0);
	assert_int_equal(redislimit_lease_get(b, "s", 2, id3, sizeof(id3)), 0);
	assert_int_equal(redislimit_lease_wanted(a, "s"), 1);
	assert_int_equal(redislimit_lease_wanted(b, "s"), 0);	/* its own */
	assert_int_equal(redislimit_lease_count(a, "s", &n), 0);
	assert_int_equal(n, 2);
	redislimit_lease_put(a, "s", id1);
	assert_int_equal(redislimit_lease_get(b, "s", 2, id3, sizeof(id3)), 1);
	redislimit_lease_put(b, "s", id2);
	redislimit_lease_put(b, "s", id3);
	/* c takes both, then stops renewing (as a killed process): they
	 * run out after its lease of 2 s */
	assert_int_equal(redislimit_lease_get(c, "t", 2, id1, sizeof(id1)), 1);
	assert_int_equal(redislimit_lease_get(c, "t", 2, id2, sizeof(id2)), 1);
	redislimit_free(c);
	assert_int_equal(redislimit_lease_get(a, "t", 2, id3, sizeof(id3)), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(redislimit_lease_get(a, "t", 2, id3, sizeof(id3)), 1);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_renewed(void **state)
{
	struct redislimit *a = relay("a", url, 2), *b = relay("b", url, 30);
	char id[128], other[128];
	struct timespec ts = { 3, 0 };

	/* a lease kept renewed outlives its lease time */
	assert_int_equal(redislimit_lease_get(a, "u", 1, id, sizeof(id)), 1);
	nanosleep(&ts, NULL);
	assert_int_equal(redislimit_lease_get(b, "u", 1, other,
	    sizeof(other)), 0);
	redislimit_lease_put(a, "u", id);
	assert_int_equal(redislimit_lease_get(b, "u", 1, other,
	    sizeof(other)), 1);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_cooloff(void **state)
{
	struct redislimit *a = relay("a", url, 30), *b = relay("b", url, 30);
	char reason[256];
	unsigned secs;

	assert_int_equal(redislimit_cool_get(b, "c", &secs, reason,
	    sizeof(reason)), 0);
	assert_int_equal(redislimit_cool_set(a, "C", 600, "535 refused"), 0);
	assert_int_equal(redislimit_cool_get(b, "c", &secs, reason,
	    sizeof(reason)), 1);
	assert_true(secs > 590 && secs <= 600);
	assert_string_equal(reason, "535 refused");
	assert_int_equal(redislimit_cool_clear(b, "c"), 0);
	assert_int_equal(redislimit_cool_get(a, "c", &secs, reason,
	    sizeof(reason)), 0);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_unreachable(void **state)
{
	struct redislimit *d = relay("d", dead_url, 30);
	struct timespec t0, t1;
	unsigned total;
	time_t since;
	char err[256], id[128];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(redislimit_reserve(d, "x", 1, 4102444800, 3, 0,
	    &total), -1);
	assert_int_equal(redislimit_lease_get(d, "x", 2, id, sizeof(id)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(redislimit_up(d, &since, err, sizeof(err)), 0);
	assert_int_equal(redislimit_reachable(d), 0);
	assert_true(since > 0);
	assert_true(err[0] != '\0');
	redislimit_free(d);
}

/* A lease taken while Redis is unreachable (the relay opens the session
 * on its local share) is held all the same and added to Redis as soon as
 * the relay reconnects: another relay is refused it until it is given
 * back. */
static void
test_lease_outage(void **state)
{
	unsigned port = redis_free_port();
	char u[64], id[128] = "", other[128];
	struct redislimit *a, *b;
	struct timespec ts = { 0, 50000000 };
	int i;

	snprintf(u, sizeof(u), "redis://127.0.0.1:%u", port);
	a = relay("a", u, 30);
	assert_int_equal(redislimit_lease_get(a, "w", 1, id, sizeof(id)), -1);
	assert_true(id[0] != '\0');
	assert_int_equal(redis_start(dir, port, &outage_pid), 0);
	/* a call reconnects (after the 1 s backoff) */
	for (i = 0; i < 100 && redislimit_ping(a) != 0; i++)
		nanosleep(&ts, NULL);
	assert_int_equal(redislimit_reachable(a), 1);
	b = relay("b", u, 30);
	assert_int_equal(redislimit_lease_get(b, "w", 1, other,
	    sizeof(other)), 0);
	redislimit_lease_put(a, "w", id);
	assert_int_equal(redislimit_lease_get(b, "w", 1, other,
	    sizeof(other)), 1);
	redislimit_free(a);
	redislimit_free(b);
	redis_stop(&outage_pid);
}

/* Not within two minutes of local midnight: the test moves the clock
 * on by 40 s and must stay in one day. */
static void
away_from_midnight(void)
{
	time_t now = time(NULL);
	struct timespec ts = { 0, 0 };

	if (reset_at(now) - now < 120) {
		ts.tv_sec = reset_at(now) - now + 1;
		nanosleep(&ts, NULL);
	}
}

/* redislimit_ping(r) until Redis answers (at most 5 s; a reconnection
 * waits for the 1 s backoff): 1 reachable, 0 not. */
static int
reconnect(struct redislimit *r)
{
	struct timespec ts = { 0, 50000000 };

	for (int i = 0; i < 100; i++) {
		if (redislimit_ping(r) == 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Two relays' limits (relay/limit.c), daily limit 20, share 1/2; b has
 * counted 10 when Redis restarts empty.  a reconnects first: Redis then
 * holds a's part of the day alone, so a stays within its share (10)
 * until b, idle, has noticed the restart and written its counts again
 * (its periodic limit_save()): the total over both never passes 20.  Then the
 * shared limit refuses both with its own text; 5 given back by b are
 * still refused to a (over its share) while the store settles, and taken
 * by a once the window (30 s backoff + 3 s lease + 5 s) is over. */
static void
test_limits_restart(void **state)
{
	unsigned port = redis_free_port(), ma, mb, ra_, msgs, rcpts, na = 0;
	char u[64], why[512], settles[256];
	struct redislimit *ra, *rb;
	struct limits *la, *lb;
	time_t later;
	int i;

	away_from_midnight();
	snprintf(u, sizeof(u), "redis://127.0.0.1:%u", port);
	snprintf(settles, sizeof(settles), "daily limit of 20 messages for "
	    "account acc reached (this relay's share 1/2: 10, while "
	    "limits-store %s settles after an outage, until ", u);
	assert_int_equal(redis_start(dir, port, &outage_pid), 0);
	ra = relay("a", u, 3);
	rb = relay("b", u, 3);
	la = limit_open(NULL, time(NULL), why, sizeof(why));
	lb = limit_open(NULL, time(NULL), why, sizeof(why));
	limit_set_store(la, ra, 1, 2);
	limit_set_store(lb, rb, 1, 2);
	for (i = 0; i < 10; i++) {
		assert_int_equal(limit_reserve(lb, "acc", 20, time(NULL), why,
		    sizeof(why)), 0);
		assert_int_equal(limit_count(lb, "acc", 1, time(NULL)), 0);
	}
	redis_stop(&outage_pid);
	assert_int_equal(redis_start(dir, port, &outage_pid), 0);
	assert_true(reconnect(ra));
	/* a takes what it can */
	for (i = 0; i < 25 && limit_reserve(la, "acc", 20, time(NULL), why,
	    sizeof(why)) == 0; i++) {
		assert_int_equal(limit_count(la, "acc", 1, time(NULL)), 0);
		na++;
	}
	limit_get(la, "acc", time(NULL), &ma, &ra_);
	limit_get(lb, "acc", time(NULL), &mb, &ra_);
	if (ma + mb > 20)
		fail_msg("relay a, back first, took %u messages besides b's "
		    "%u: %u over both, limit 20 (last refusal: %s)", ma, mb,
		    ma + mb, why);
	assert_int_equal(na, 10);
	if (strstr(why, settles) == NULL)
		fail_msg("refusal: %s", why);
	assert_int_equal(limits_rcpt_ok(la, "acc", 20, 0, time(NULL), why,
	    sizeof(why)), 0);
	if (strstr(why, "daily limit of 20 recipients for account acc "
	    "reached (this relay's share 1/2: 10, while limits-store ") ==
	    NULL || strstr(why, " settles after an outage") == NULL)
		fail_msg("recipients' refusal: %s", why);
	/* b, idle (no call of its own), notices the restart at its renewal
	 * thread's ping, reconnects, and its periodic limit_save() (every
	 * second in the relay) writes its counts again: within 2 lease/3
	 * and a backoff (5 s here) */
	msgs = 0;
	for (i = 0; i < 50 && msgs != 20; i++) {
		assert_int_equal(limit_save(lb, time(NULL), 0, why,
		    sizeof(why)), 0);
		assert_int_equal(redislimit_get(ra, "acc", day_of(time(NULL)),
		    &msgs, &rcpts), 0);
		if (msgs != 20)
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	assert_int_equal(msgs, 20);
	assert_int_equal(rcpts, 20);
	assert_int_equal(limit_reserve(la, "acc", 20, time(NULL), why,
	    sizeof(why)), -1);
	if (strstr(why, "daily limit of 20 messages for account acc reached; "
	    "resets at ") == NULL)
		fail_msg("a's refusal at the total: %s", why);
	assert_int_equal(limit_reserve(lb, "acc", 20, time(NULL), why,
	    sizeof(why)), -1);
	if (strstr(why, "reached; resets at ") == NULL)
		fail_msg("b's refusal at the total: %s", why);
	/* b gives 5 back: a, at its share, waits for the window's end */
	for (i = 0; i < 5; i++)
		limit_uncount(lb, "acc", 1, time(NULL));
	assert_int_equal(limit_reserve(la, "acc", 20, time(NULL), why,
	    sizeof(why)), -1);
	if (strstr(why, settles) == NULL)
		fail_msg("refusal with 15 over both: %s", why);
	later = time(NULL) + 30 + 3 + 5 + 2;
	for (na = 0, i = 0; i < 10 && limit_reserve(la, "acc", 20, later, why,
	    sizeof(why)) == 0; i++) {
		assert_int_equal(limit_count(la, "acc", 1, later), 0);
		na++;
	}
	assert_int_equal(na, 5);
	if (strstr(why, "reached; resets at ") == NULL)
		fail_msg("a's refusal after the window: %s", why);
	assert_int_equal(redislimit_get(rb, "acc", day_of(later), &msgs,
	    &rcpts), 0);
	assert_int_equal(msgs, 20);
	limit_free(la);
	limit_free(lb);
	redislimit_free(ra);
	redislimit_free(rb);
	redis_stop(&outage_pid);
}

/* Last: the server then wants a password (the secrets file's "redis"
 * line in the relay). */
static void
test_password(void **state)
{
	char cmd[128], err[256];
	struct redislimit *with, *without;
	unsigned msgs, rcpts;
	time_t since;

	snprintf(cmd, sizeof(cmd), "redis-cli -p %u config set requirepass "
	    "s3cret-pw >/dev/null", redis_port);
	assert_int_equal(system(cmd), 0);
	with = redislimit_new(url, NULL, "a", "s3cret-pw", "1/2", 30, 200, err,
	    sizeof(err));
	without = relay("b", url, 30);
	assert_int_equal(redislimit_get(with, "p", 1, &msgs, &rcpts), 0);
	assert_int_equal(redislimit_get(without, "p", 1, &msgs, &rcpts), -1);
	assert_int_equal(redislimit_up(without, &since, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "NOAUTH"));
	assert_null(strstr(err, "s3cret"));
	redislimit_free(with);
	redislimit_free(without);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_reserve_exact),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_renewed),
		cmocka_unit_test(test_cooloff),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_lease_outage),
		cmocka_unit_test(test_limits_restart),
		cmocka_unit_test(test_password),
	};

	signal(SIGPIPE, SIG_IGN);	/* as the relay: see tls.h */
	return cmocka_run_group_tests(tests, setup, teardown);
}
