/*
 * redistoken — OAuth2 token sets shared through Redis (see redistoken.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>

#include "conf_norm.h"
#include "redistoken.h"
#include "util.h"

#define KEY_MAX		600

/* Deletes KEYS[1] only if it holds ARGV[1]. */
static const char UNLOCK[] =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  return redis.call('DEL', KEYS[1])\n"
"end\n"
"return 0\n";

static int
loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char h[256];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n < sizeof(h)) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		return a6.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&a6);
}

int
redistoken_safe(const char *url, const char *password, char *why,
    size_t whysize)
{
	char host[256], err[512];
	unsigned port, db;
	int tls;

	if (password == NULL || *password == '\0') {
		snprintf(why, whysize, "no Redis password in the secrets file");
		return 0;
	}
	if (conf_redis_url(url, host, sizeof(host), &port, &db, &tls, err,
	    sizeof(err)) != 0) {
		snprintf(why, whysize, "%s", err);
		return 0;
	}
	if (tls || loopback(host))
		return 1;
	snprintf(why, whysize, "plain redis:// to %s, not a loopback "
	    "address", host);
	return 0;
}

int
redistoken_get(struct redislimit *r, const char *password,
    const char *account, struct oauth_token *tok, int *unreadable)
{
	char key[KEY_MAX];
	const char *argv[] = { "GET", key };
	redisReply *rep;
	int rc = 0;

	*unreadable = 0;
	memset(tok, 0, sizeof(*tok));
	redislimit_key(key, sizeof(key), "oauth", account);
	if ((rep = redislimit_call(r, 2, argv)) == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_STRING) {
		if (oauth_unseal(rep->str, password, account, key, tok) == 0)
			rc = 1;
		else
			*unreadable = 1;
	}
	freeReplyObject(rep);
	return rc;
}

int
redistoken_put(struct redislimit *r, const char *password,
    const char *account, const struct oauth_token *tok)
{
	char key[KEY_MAX], keep[16], *sealed;
	const char *argv[] = { "SET", key, NULL, "EX", keep };
	redisReply *rep;

	redislimit_key(key, sizeof(key), "oauth", account);
	snprintf(keep, sizeof(keep), "%d", REDISTOKEN_KEEP);
	if ((sealed = oauth_seal(tok, password, account, key)) == NULL)
		return -1;
	argv[2] = sealed;
	rep = redislimit_call(r, 5, argv);
	free(sealed);
	if (rep == NULL)
		return -1;
	freeReplyObject(rep);
	return 0;
}

int
redistoken_lock(struct redislimit *r, const char *account,
    const char *holder, unsigned ms)
{
	char key[KEY_MAX], px[16];
	const char *argv[] = { "SET", key, holder, "NX", "PX", px };
	redisReply *rep;
	int rc;

	redislimit_key(key, sizeof(key), "oauth-lock", account);
	snprintf(px, sizeof(px), "%u", ms);
	if ((rep = redislimit_call(r, 6, argv)) == NULL)
		return -1;
	rc = rep->type == REDIS_REPLY_STATUS;	/* "OK"; nil when taken */
	freeReplyObject(rep);
	return rc;
}

int
redistoken_unlock(struct redislimit *r, const char *account,
    const char *holder)
{
	char key[KEY_MAX];
	const char *argv[] = { "EVAL", UNLOCK, "1", key, holder };
	redisReply *rep;
	int rc;

	redislimit_key(key, sizeof(key), "oauth-lock", account);
	if ((rep = redislimit_call(r, 5, argv)) == NULL)
		return -1;
	rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	return rc;
}
