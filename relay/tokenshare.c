/*
 * tokenshare — see tokenshare.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "oauth.h"
#include "redistoken.h"
#include "secrets.h"
#include "tokenshare.h"
#include "util.h"

#define TOKENSHARE_PASSWORD	"redis"	/* its line in the secrets file */

struct warned {
	struct warned	*next;
	char		*account;
};

struct tokenshare {
	pthread_mutex_t	 mu;
	struct redislimit *r;
	char		*url, *holder;
	char		*password;	/* NULL if none */
	int		 shared;
	char		 why[300];	/* when not */
	struct warned	*warned;	/* accounts whose set did not open */
};

static const char *
password_of(const struct config *cfg)
{
	return cfg->secrets ? secrets_get(cfg->secrets,
	    TOKENSHARE_PASSWORD) : NULL;
}

static int
any_xoauth2(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i]->auth_kind == AUTHK_XOAUTH2)
			return 1;
	return 0;
}

/* The password for one call (free_secret() it). */
static char *
password_now(struct tokenshare *ts)
{
	char *p;

	pthread_mutex_lock(&ts->mu);
	p = ts->password ? xstrdup(ts->password) : NULL;
	pthread_mutex_unlock(&ts->mu);
	return p;
}

/* Says once per account that its set does not open. */
static void
unreadable(struct tokenshare *ts, const char *account)
{
	struct warned *w;
	char name[300];

	pthread_mutex_lock(&ts->mu);
	for (w = ts->warned; w; w = w->next)
		if (strcasecmp(w->account, account) == 0)
			break;
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->account = xstrdup(account);
		w->next = ts->warned;
		ts->warned = w;
		log_warnx("account=%s oauth: the token set in limits-store %s "
		    "does not open with this relay's Redis password: ignored, "
		    "the token file is used (logged once)",
		    log_quote(name, sizeof(name), account), ts->url);
	}
	pthread_mutex_unlock(&ts->mu);
}

static int
get(void *arg, const char *account, struct oauth_token *tok)
{
	struct tokenshare *ts = arg;
	char *pw = password_now(ts);
	int rc, bad;

	rc = redistoken_get(ts->r, pw, account, tok, &bad);
	free_secret(pw);
	if (bad)
		unreadable(ts, account);
	return rc;
}

static int
put(void *arg, const char *account, const struct oauth_token *tok)
{
	struct tokenshare *ts = arg;
	char *pw = password_now(ts);
	int rc;

	rc = redistoken_put(ts->r, pw, account, tok);
	free_secret(pw);
	return rc;
}

static int
lock(void *arg, const char *account, unsigned ms)
{
	struct tokenshare *ts = arg;

	return redistoken_lock(ts->r, account, ts->holder, ms);
}

static void
unlock(void *arg, const char *account)
{
	struct tokenshare *ts = arg;

	(void)redistoken_unlock(ts->r, account, ts->holder);
}

/* Takes cfg's password and decides (mu not held); logs a change, or the
 * first decision, when cfg has an xoauth2 account. */
static void
decide(struct tokenshare *ts, const struct config *cfg, int first)
{
	struct oauth_share s = { get, put, lock, unlock, ts };
	const char *pw = password_of(cfg);
	char why[sizeof(ts->why)] = "";
	int shared = redistoken_safe(ts->url, pw, why, sizeof(why));
	int changed;

	pthread_mutex_lock(&ts->mu);
	free_secret(ts->password);
	ts->password = pw && *pw ? xstrdup(pw) : NULL;
	changed = first || shared != ts->shared;
	ts->shared = shared;
	xstrlcpy(ts->why, why, sizeof(ts->why));
	pthread_mutex_unlock(&ts->mu);
	oauth_share_set(shared ? &s : NULL);
	if (!changed || !any_xoauth2(cfg))
		return;
	if (shared)
		log_info("oauth tokens are shared through %s: each account's "
		    "token is refreshed once for all relays (stored "
		    "encrypted)", ts->url);
	else
		log_warnx("oauth tokens are not shared through %s: needs a "
		    "password and rediss:// or a loopback address (%s); each "
		    "relay refreshes its own", ts->url, why);
}

struct tokenshare *
tokenshare_open(struct redislimit *r, const char *url, const char *host,
    const char *listen, const struct config *cfg)
{
	struct tokenshare *ts = xcalloc(1, sizeof(*ts));

	pthread_mutex_init(&ts->mu, NULL);
	ts->r = r;
	ts->url = xstrdup(url);
	/* the relay's name in the limits-store, and this process */
	ts->holder = xasprintf("%s:%s#%ld", host, listen, (long)getpid());
	decide(ts, cfg, 1);
	return ts;
}

void
tokenshare_reconfigure(struct tokenshare *ts, const struct config *cfg)
{
	decide(ts, cfg, 0);
}

void
tokenshare_close(struct tokenshare *ts)
{
	struct warned *w;

	if (ts == NULL)
		return;
	oauth_share_set(NULL);
	while ((w = ts->warned) != NULL) {
		ts->warned = w->next;
		free(w->account);
		free(w);
	}
	free_secret(ts->password);
	free(ts->url);
	free(ts->holder);
	pthread_mutex_destroy(&ts->mu);
	free(ts);
}

void
tokenshare_status(struct tokenshare *ts, char *buf, size_t size)
{
	char why[sizeof(ts->why)], line[300];
	int shared;

	pthread_mutex_lock(&ts->mu);
	shared = ts->shared;
	xstrlcpy(why, ts->why, sizeof(why));
	pthread_mutex_unlock(&ts->mu);
	for (char *p = why; *p; p++)	/* a quoted value of control.h */
		if (*p == '"' || *p == '\\' || *p < ' ' || *p >= 0x7f)
			*p = '\'';
	if (shared)
		xstrlcpy(line, " oauth_shared=1", sizeof(line));
	else
		snprintf(line, sizeof(line), " oauth_shared=0 "
		    "oauth_not_shared=\"%.200s\"", why);
	if (xstrlcpy(buf, line, size) >= size)	/* never a cut quote */
		xstrlcpy(buf, shared ? " oauth_shared=1" : " oauth_shared=0",
		    size);
}
