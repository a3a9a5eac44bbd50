/*
 * oauth_share — an account's token set refreshed once for every relay
 * and shared through the callbacks of oauth_share_set() (see oauth.h).
 *
 * The refresh takes the share's lock of the account first.  The holder
 * reads the shared set again (another relay may have refreshed between
 * the caller's read and the lock), refreshes, puts the new set, saves its
 * token file and gives the lock back.  A relay that finds the lock taken
 * looks for a newer set every OAUTH_SHARE_POLL_MS and tries the lock
 * again (the holder may have failed); it takes a newer set with a valid
 * access token as soon as one appears and saves it in its own token file.
 * It refreshes on its own when the share is unreachable or the lock did
 * not come free within OAUTH_SHARE_LOCK_MS (a holder that died).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "oauth_int.h"
#include "util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct oauth_share share;
static int have_share;

void
oauth_share_set(const struct oauth_share *s)
{
	pthread_mutex_lock(&mu);
	have_share = s != NULL;
	if (s != NULL)
		share = *s;
	pthread_mutex_unlock(&mu);
}

/* A copy of the callbacks, 0 when there are none. */
static int
current(struct oauth_share *s)
{
	int have;

	pthread_mutex_lock(&mu);
	have = have_share;
	if (have)
		*s = share;
	pthread_mutex_unlock(&mu);
	return have;
}

static int
valid(const struct oauth_token *t)
{
	return t->access_token != NULL && time(NULL) < t->expires_at -
	    oauth_token_margin(t);
}

static int
newer(const struct oauth_share *s, const char *account,
    struct oauth_token *tok)
{
	struct oauth_token t = { 0 };
	int rc = s->get(s->arg, account, &t);

	if (rc == 1 && t.refresh_token != NULL && t.obtained_at >
	    tok->obtained_at) {
		oauth_token_clear(tok);
		*tok = t;
		return 1;
	}
	oauth_token_clear(&t);
	return rc == -1 ? -1 : 0;
}

int
oauth_share_newer(const char *account, struct oauth_token *tok)
{
	struct oauth_share s;

	return current(&s) ? newer(&s, account, tok) : 0;
}

static void
nap(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Until the lock is ours (1), the share is unreachable (-1), the lock
 * stays taken too long (0), or another relay's newer set with a valid
 * access token replaced tok (2). */
static int
lock_or_wait(const struct oauth_share *s, const char *account,
    struct oauth_token *tok)
{
	long long deadline = mono_ms() + OAUTH_SHARE_LOCK_MS +
	    OAUTH_SHARE_POLL_MS;
	int rc;

	while ((rc = s->lock(s->arg, account, OAUTH_SHARE_LOCK_MS)) == 0 &&
	    mono_ms() < deadline) {
		nap(OAUTH_SHARE_POLL_MS);
		if (newer(s, account, tok) == 1 && valid(tok))
			return 2;
	}
	if (rc == 1 && newer(s, account, tok) == 1 && valid(tok)) {
		s->unlock(s->arg, account);
		return 2;
	}
	return rc;
}

int
oauth_share_refresh(const char *account, const struct oauth_endpoints *ep,
    struct oauth_token *tok, oauth_save_fn *save, const void *arg,
    int *refreshed, char *err, size_t errsize)
{
	struct oauth_share s;
	int shared = current(&s), held = 0, rc;

	*refreshed = 0;
	if (shared && (held = lock_or_wait(&s, account, tok)) == 2)
		return save(arg, tok, err, errsize);
	*refreshed = 1;
	rc = oauth_refresh(ep, tok, time(NULL), err, errsize);
	if (rc == 0 && shared && held != -1)
		(void)s.put(s.arg, account, tok);
	if (rc == 0)
		rc = save(arg, tok, err, errsize);
	if (held == 1)
		s.unlock(s.arg, account);
	return rc;
}
