/*
 * Unit tests for lib/redistoken.c (OAuth2 token sets shared through the
 * limits-store's Redis), against a real redis-server started here on a
 * free loopback port: a set put by one relay is read back by another
 * with the same password, sealed in Redis (no token in clear, kept 30
 * days), and is "absent, unreadable" with another password; the refresh
 * lock is taken by one relay only, given back only by its holder, and
 * runs out after its time; an unreachable Redis answers -1.
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

#include <hiredis/hiredis.h>

#include "redistoken.h"
#include "util.h"

extern char **environ;

static pid_t	redis_pid;
static unsigned	redis_port;
static char	url[64], dead_url[64];
static char	dir[] = "/tmp/test_redistoken.XXXXXX";

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
	rmdir(dir);
	return 0;
}

static struct redislimit *
relay(const char *name, const char *u)
{
	char err[256];
	struct redislimit *r = redislimit_new(u, NULL, name, NULL, "1/2", 30, 200,
	    err, sizeof(err));

	assert_non_null(r);
	return r;
}

/* A command straight to the test's Redis (freeReplyObject() it). */
static redisReply *
raw(const char *cmd, const char *key)
{
	redisContext *c = redisConnect("127.0.0.1", (int)redis_port);
	redisReply *rep;

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	rep = redisCommand(c, "%s %s", cmd, key);
	assert_non_null(rep);
	redisFree(c);
	return rep;
}

static void
sample(struct oauth_token *t, time_t at)
{
	t->refresh_token = xstrdup("rt-shared-refresh-0123456789");
	t->access_token = xstrdup("at-shared-access-ABCDEFGHIJ");
	t->expires_at = at + 3600;
	t->obtained_at = at;
}

static void
test_put_get(void **state)
{
	struct redislimit *a = relay("a", url), *b = relay("b", url);
	struct oauth_token t = { 0 }, u = { 0 };
	redisReply *rep;
	int bad = -1;

	assert_int_equal(redistoken_get(b, "pw", "Ms", &u, &bad), 0);
	assert_int_equal(bad, 0);
	sample(&t, 1790000000);
	assert_int_equal(redistoken_put(a, "pw", "Ms", &t), 0);
	assert_int_equal(redistoken_get(b, "pw", "ms", &u, &bad), 1);
	assert_int_equal(bad, 0);
	assert_string_equal(u.refresh_token, t.refresh_token);
	assert_string_equal(u.access_token, t.access_token);
	assert_int_equal(u.obtained_at, t.obtained_at);
	assert_int_equal(u.expires_at, t.expires_at);
	oauth_token_clear(&u);

	rep = raw("GET", "smarthost:oauth:ms");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(strncmp(rep->str, "v1:", 3), 0);
	assert_null(strstr(rep->str, "rt-shared"));
	assert_null(strstr(rep->str, "at-shared"));
	freeReplyObject(rep);
	rep = raw("TTL", "smarthost:oauth:ms");
	assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
	assert_true(rep->integer > REDISTOKEN_KEEP - 60 &&
	    rep->integer <= REDISTOKEN_KEEP);
	freeReplyObject(rep);

	/* another password: absent, and said to be unreadable */
	assert_int_equal(redistoken_get(b, "other", "ms", &u, &bad), 0);
	assert_int_equal(bad, 1);
	assert_null(u.access_token);
	/* another account's key does not hold it */
	assert_int_equal(redistoken_get(b, "pw", "gm", &u, &bad), 0);
	assert_int_equal(bad, 0);
	oauth_token_clear(&t);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_lock(void **state)
{
	struct redislimit *a = relay("a", url), *b = relay("b", url);
	struct timespec ts = { 0, 400000000 };
	redisReply *rep;

	assert_int_equal(redistoken_lock(a, "L", "relay-a#1", 30000), 1);
	assert_int_equal(redistoken_lock(b, "l", "relay-b#2", 30000), 0);
	assert_int_equal(redistoken_lock(a, "l", "relay-a#1", 30000), 0);
	/* only the holder gives it back */
	assert_int_equal(redistoken_unlock(b, "l", "relay-b#2"), 0);
	rep = raw("GET", "smarthost:oauth-lock:l");
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_string_equal(rep->str, "relay-a#1");
	freeReplyObject(rep);
	assert_int_equal(redistoken_unlock(a, "l", "relay-a#1"), 1);
	assert_int_equal(redistoken_lock(b, "l", "relay-b#2", 300), 1);
	/* a holder that never gives it back: it runs out */
	assert_int_equal(redistoken_lock(a, "l", "relay-a#1", 30000), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(redistoken_lock(a, "l", "relay-a#1", 30000), 1);
	assert_int_equal(redistoken_unlock(b, "l", "relay-b#2"), 0);
	assert_int_equal(redistoken_unlock(a, "l", "relay-a#1"), 1);
	redislimit_free(a);
	redislimit_free(b);
}

static void
test_unreachable(void **state)
{
	struct redislimit *d = relay("d", dead_url);
	struct oauth_token t = { 0 }, u = { 0 };
	int bad;

	sample(&t, 1790000000);
	assert_int_equal(redistoken_put(d, "pw", "ms", &t), -1);
	assert_int_equal(redistoken_get(d, "pw", "ms", &u, &bad), -1);
	assert_int_equal(redistoken_lock(d, "ms", "d#1", 1000), -1);
	assert_int_equal(redistoken_unlock(d, "ms", "d#1"), -1);
	oauth_token_clear(&t);
	redislimit_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
