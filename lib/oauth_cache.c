/*
 * oauth_cache — the refresh grant and the per-account access-token cache
 * (see oauth.h).
 *
 * One entry per account name, created on first use and kept for the life
 * of the process.  An entry holds the access token, its expiry and whether
 * a refresh is under way.  A caller that finds the token due either starts
 * the refresh (reading the token file for the newest refresh token, POST,
 * save, all without the lock held) or waits on the entry's condition
 * variable for the one under way and takes its outcome: callers never
 * stampede the token endpoint, and a failed refresh is reported to all who
 * waited for it, and to every caller for OAUTH_RETRY_AFTER seconds, without
 * a second request.  With a share set (oauth_share.c) the file is
 * compared with the shared token set first and the refresh is one for
 * every relay.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "oauth_int.h"
#include "util.h"

struct entry {
	char		*account;
	struct entry	*next;
	char		*access;	/* NULL until the first load */
	time_t		 expires_at, obtained_at;
	int		 loaded;	/* the file was read once */
	int		 busy;		/* a refresh is under way */
	int		 stale;		/* the provider refused the token */
	unsigned long	 gen;		/* refreshes finished */
	char		 error[512];	/* of the last refresh, "" if none */
	time_t		 failed_at;	/* when it failed */
	pthread_cond_t	 done;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;
static unsigned long nrefreshes;

int
oauth_refresh(const struct oauth_endpoints *e, struct oauth_token *t,
    time_t now, char *err, size_t errsize)
{
	char msg[512], *form = NULL;
	json_t *o = NULL;
	long status;
	int rc = -1;

	if (t->refresh_token == NULL) {
		snprintf(err, errsize, "no refresh token");
		return -1;
	}
	form = oauth_form_add(form, "grant_type", "refresh_token");
	form = oauth_form_add(form, "refresh_token", t->refresh_token);
	form = oauth_form_add(form, "client_id", e->client_id);
	if (e->client_secret)
		form = oauth_form_add(form, "client_secret", e->client_secret);
	if (e->scope[0] && e->provider != OAUTHP_GOOGLE)
		form = oauth_form_add(form, "scope", e->scope);
	status = oauth_http_post(e->token_url, e->ca_file, form, &o, msg,
	    sizeof(msg));
	free_secret(form);
	if (status == -1)
		snprintf(err, errsize, "%s", msg);
	else if (status != 200)
		oauth_http_error(o, status, err, errsize);
	else
		rc = oauth_token_from_json(o, now, t, err, errsize);
	json_decref(o);
	return rc;
}

static struct entry *
entry_get(const char *account)
{
	struct entry *e;

	for (e = entries; e; e = e->next)
		if (strcasecmp(e->account, account) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	e->account = xstrdup(account);
	pthread_cond_init(&e->done, NULL);
	e->next = entries;
	entries = e;
	return e;
}

static int
entry_valid(const struct entry *e, time_t now)
{
	struct oauth_token t = { .expires_at = e->expires_at,
	    .obtained_at = e->obtained_at };

	return e->access != NULL && now < e->expires_at -
	    oauth_token_margin(&t);
}

/* Puts tok's access token into the entry (which takes it). */
static void
entry_take(struct entry *e, struct oauth_token *tok)
{
	free_secret(e->access);
	e->access = tok->access_token;
	e->expires_at = tok->expires_at;
	e->obtained_at = tok->obtained_at;
	tok->access_token = NULL;
}

/* The provider's words cut where needed so that what to run survives. */
static void
hint(char *err, size_t errsize, const char *account, const char *what)
{
	char tail[300];
	int room;

	snprintf(tail, sizeof(tail), "; run \"smarthostctl oauth %s\" again",
	    account);
	room = (int)errsize - (int)strlen(tail) - (int)strlen(account) - 40;
	if (room < 0)
		room = 0;
	snprintf(err, errsize, "OAuth2 token of account %s: %.*s%s", account,
	    room, what, tail);
}

/* Root (smarthostctl probe) saves a refreshed token as the service user's,
 * so that the relay can go on rewriting it. */
static int
save(const struct conf *c, const char *path, const struct oauth_token *tok,
    char *err, size_t errsize)
{
	struct passwd pwbuf, *pw = NULL;
	char buf[1024];

	if (geteuid() == 0 && c->user && *c->user)
		(void)getpwnam_r(c->user, &pwbuf, buf, sizeof(buf), &pw);
	return oauth_token_save(path, tok, pw ? pw->pw_uid : (uid_t)-1,
	    pw ? pw->pw_gid : (gid_t)-1, err, errsize);
}

struct saving {
	const struct conf	*c;
	const char		*path;
};

static int
save_to(const void *arg, const struct oauth_token *tok, char *err,
    size_t errsize)
{
	const struct saving *sv = arg;

	return save(sv->c, sv->path, tok, err, errsize);
}

/* The file, or a newer shared token set (saved to the file), then (when
 * its access token is due too) the token endpoint.  Runs without the
 * lock; the result goes to tok or err. */
static int
obtain(const struct conf *c, const struct account *a, int stale,
    struct oauth_token *tok, int *refreshed, char *err, size_t errsize)
{
	struct oauth_endpoints ep;
	struct saving sv = { c, NULL };
	char msg[512], what[600], *path;
	int rc, took;

	*refreshed = 0;
	if ((path = oauth_token_path(c, a->name, err, errsize)) == NULL)
		return -1;
	sv.path = path;
	rc = oauth_token_load(path, tok, msg, sizeof(msg));
	took = rc != -1 && oauth_share_newer(a->name, tok) == 1;
	if (rc == -1 || tok->refresh_token == NULL) {
		hint(err, errsize, a->name, rc == -1 ? msg :
		    "no refresh token stored");
		free(path);
		return -1;
	}
	if ((!stale || took) && tok->access_token && time(NULL) <
	    tok->expires_at - oauth_token_margin(tok)) {
		rc = took ? save(c, path, tok, msg, sizeof(msg)) : 0;
		if (rc == -1) {
			snprintf(what, sizeof(what), "saving the shared "
			    "token failed: %s", msg);
			hint(err, errsize, a->name, what);
		}
		free(path);
		return rc;
	}
	if (oauth_endpoints(c, a, &ep, err, errsize) == -1) {
		free(path);
		return -1;
	}
	rc = oauth_share_refresh(a->name, &ep, tok, save_to, &sv, refreshed,
	    msg, sizeof(msg));
	if (rc == -1) {
		snprintf(what, sizeof(what), "refresh failed: %s", msg);
		hint(err, errsize, a->name, what);
	}
	free(path);
	return rc;
}

static int
copy_out(const struct entry *e, char *buf, size_t size, char *err,
    size_t errsize)
{
	if (xstrlcpy(buf, e->access, size) >= size) {
		wipe(buf, size);
		snprintf(err, errsize, "access token of account %s too long",
		    e->account);
		return -1;
	}
	return 0;
}

/* Runs the refresh for e (lock held on entry and on return). */
static int
refresh_entry(struct entry *e, const struct conf *c,
    const struct account *a, char *err, size_t errsize)
{
	struct oauth_token tok = { 0 };
	int rc, refreshed;

	e->busy = 1;
	pthread_mutex_unlock(&lock);
	rc = obtain(c, a, e->stale, &tok, &refreshed, e->error,
	    sizeof(e->error));
	pthread_mutex_lock(&lock);
	e->busy = 0;
	e->loaded = 1;
	e->gen++;
	nrefreshes += refreshed;
	if (rc == 0) {
		e->error[0] = '\0';
		e->stale = 0;
		entry_take(e, &tok);
	} else {
		e->failed_at = time(NULL);
		snprintf(err, errsize, "%s", e->error);
	}
	oauth_token_clear(&tok);
	pthread_cond_broadcast(&e->done);
	return rc;
}

int
oauth_access_token(const struct conf *c, const struct account *a,
    char *buf, size_t size, char *err, size_t errsize)
{
	struct entry *e;
	unsigned long gen;
	int rc;

	oauth_init();
	pthread_mutex_lock(&lock);
	e = entry_get(a->name);
	gen = e->gen;
	while (e->busy)
		pthread_cond_wait(&e->done, &lock);
	if ((e->gen != gen && e->error[0]) ||	/* the one we waited for */
	    (e->error[0] && time(NULL) - e->failed_at < OAUTH_RETRY_AFTER)) {
		snprintf(err, errsize, "%s", e->error);
		rc = -1;
	} else if (entry_valid(e, time(NULL)))
		rc = 0;
	else
		rc = refresh_entry(e, c, a, err, errsize);
	if (rc == 0)
		rc = copy_out(e, buf, size, err, errsize);
	pthread_mutex_unlock(&lock);
	return rc;
}

void
oauth_forget(const char *account)
{
	struct entry *e;

	pthread_mutex_lock(&lock);
	e = entry_get(account);
	free_secret(e->access);
	e->access = NULL;
	e->stale = 1;
	pthread_mutex_unlock(&lock);
}

unsigned long
oauth_refreshes(void)
{
	unsigned long n;

	pthread_mutex_lock(&lock);
	n = nrefreshes;
	pthread_mutex_unlock(&lock);
	return n;
}
