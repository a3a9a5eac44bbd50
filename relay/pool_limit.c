/*
 * pool_limit — a provider's limit on an account's sessions (see
 * pool_limit.h).
 *
 * A provider's "too many sessions" refusal of a new session (NetEase's
 * 421 HL:ICC, at the greeting or at AUTH) shrinks the entry's bound to
 * the sessions logged in at that moment (at least 1) until quota-cooloff
 * has passed or the next reload; the refused caller, and every other
 * one, then waits for a logged-in session instead of opening a new one
 * (pool.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool_limit.h"
#include "util.h"

/* Provider replies refusing a new session because the account has too
 * many (shared/providers.md), searched in the refusal's text. */
static const struct {
	const char	*word, *reason;
} session_limit_replies[] = {
	{ "HL:ICC", "421 HL:ICC" },		/* NetEase: too many connections */
};

const char *
pool_limit_reason(const struct smtp_reply *r, enum upstream_fail why)
{
	if (why != UPF_CONNECT && why != UPF_AUTH)
		return NULL;
	for (size_t i = 0; i < sizeof(session_limit_replies) /
	    sizeof(session_limit_replies[0]); i++)
		if (strstr(r->text, session_limit_replies[i].word) != NULL)
			return session_limit_replies[i].reason;
	return NULL;
}

void
pool_limit_set(struct pool_limit *l, unsigned nlogged, unsigned cooloff,
    const char *reason, const char *account, const char *host)
{
	unsigned n = nlogged ? nlogged : 1;

	if (l->cap == 0 || n < l->cap)
		l->cap = n;
	l->until = mono_ms() + (long long)cooloff * 1000;
	l->at = time(NULL);
	l->reason = reason;
	log_warnx("account=%s host=%s provider refused a new session (%s): "
	    "sessions limited to %u for %u s", account, host, reason,
	    l->cap, cooloff);
}

void
pool_limit_opened(struct pool_limit *l, unsigned nlogged)
{
	if (l->cap != 0 && nlogged > l->cap)
		l->cap = nlogged;
}

unsigned
pool_limit_bound(struct pool_limit *l, unsigned max)
{
	if (l->cap != 0 && mono_ms() >= l->until)
		l->cap = 0;
	return l->cap != 0 && l->cap < max ? l->cap : max;
}

void
pool_limit_clear(struct pool_limit *l)
{
	l->cap = 0;
}

void
pool_limit_stat(const struct pool_limit *l, struct pool_stat *st)
{
	st->limit = l->cap;
	st->limit_at = l->at;
	st->limit_until = time(NULL) + (time_t)((l->until - mono_ms() + 999) /
	    1000);
	xstrlcpy(st->limit_reason, l->reason, sizeof(st->limit_reason));
}
