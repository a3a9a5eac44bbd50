/*
 * judge — the outbound decision, step by step (see smarthost-milter(8)):
 * route, authorization, provider sender rule (at the first outbound
 * RCPT), then From:, rewrite, alignment and the trace header (at the end
 * of the message).  Each refusal carries its own SMTP reply naming the
 * address, the relay.map line and the fix; each step's action comes from
 * the [milter] section.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"
#include "util.h"

/* A reply with a 5xx code, or 451 and the 4.x.x twin when temp. */
void
judge_reply(struct mreply *r, int temp, const char *code, const char *x5,
    const char *fmt, ...)
{
	va_list ap;

	xstrlcpy(r->rcode, temp ? "451" : code, sizeof(r->rcode));
	snprintf(r->xcode, sizeof(r->xcode), "%c%s", temp ? '4' : '5', x5 + 1);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

/* The outcome of a finding under the configured action. */
enum judgement
judge_act(int action)
{
	switch (action) {
	case ACT_REJECT:	return J_REJECT;
	case ACT_TEMPFAIL:	return J_TEMPFAIL;
	default:		return J_CONTINUE;
	}
}

/* "relay.map line 4" */
const char *
judge_maploc(const struct map_entry *e, char *buf, size_t size)
{
	const char *f = e && e->file ? strrchr(e->file, '/') : NULL;

	if (e == NULL || e->line == 0)
		snprintf(buf, size, "the implicit route of account %s",
		    e ? e->account : "?");
	else
		snprintf(buf, size, "%s line %u", f ? f + 1 :
		    e->file ? e->file : "relay.map", e->line);
	return buf;
}

static const char *
sender_text(const struct mmsg *m)
{
	return m->route.sender_key[0] ? m->route.sender_key : "<>";
}

static enum judgement
no_route(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	enum judgement j = judge_act(c->cfg->conf->no_route);
	const char *s = sender_text(m), *dom = m->route.sender.domain;

	m->reason = "no route";
	if (c->cfg->conf->no_route == ACT_ACCEPT ||
	    c->cfg->conf->no_route == ACT_TAG ||
	    c->cfg->conf->no_route == ACT_OFF)
		return J_ACCEPT;
	judge_reply(&m->reply, j == J_TEMPFAIL, "550", "5.7.1", "no route "
	    "for sender %s in relay.map: add a line for %s, @%s or *", s, s,
	    dom);
	return j;
}

/* Where allowed-users is set: the account block, else the map line. */
static void
account_loc(const struct account *a, const struct map_entry *e, char *buf,
    size_t size)
{
	const char *f = a->file ? strrchr(a->file, '/') : NULL;

	if (a->file == NULL)
		judge_maploc(e, buf, size);
	else
		snprintf(buf, size, "%s line %u", f ? f + 1 : a->file, a->line);
}

static enum judgement
authorization(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	const struct account *a = m->route.account;
	char loc[256];
	enum judgement j;

	if (a->allowed_users.n == 0 ||
	    (*m->auth && strlist_contains(&a->allowed_users, m->auth)))
		return J_CONTINUE;
	m->reason = "unauthorized";
	if ((j = judge_act(c->cfg->conf->unauthorized)) == J_CONTINUE)
		return j;
	account_loc(a, m->route.entry, loc, sizeof(loc));
	if (*m->auth)
		judge_reply(&m->reply, j == J_TEMPFAIL, "550", "5.7.1",
		    "%s may not send as %s: account %s (%s) allows only its "
		    "allowed-users; add %s there or send as your own address", m->auth,
		    sender_text(m), a->name, loc, m->auth);
	else
		judge_reply(&m->reply, j == J_TEMPFAIL, "550", "5.7.1",
		    "unauthenticated client %s may not send as %s: account %s "
		    "(%s) is limited to its allowed-users; log in (SMTP AUTH) "
		    "first", c->addr,
		    sender_text(m), a->name, loc);
	return j;
}

static enum judgement
sender_rule(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	const struct route *r = &m->route;
	char loc[256];
	enum judgement j;

	if (!r->envelope_differs || r->rewrite ||
	    r->sender_must_match != TRI_YES)
		return J_CONTINUE;
	m->reason = "sender mismatch";
	if ((j = judge_act(c->cfg->conf->sender_mismatch)) == J_CONTINUE)
		return j;
	judge_maploc(r->entry, loc, sizeof(loc));
	judge_reply(&m->reply, j == J_TEMPFAIL, "553", "5.7.1", "%s requires "
	    "the envelope sender to be the account login %s (it says: %s); "
	    "add 'rewrite' to %s or send as %s", r->host ? r->host : r->account->name,
	    r->login, r->sender_refusal ? r->sender_refusal :
	    "other senders are refused", loc, r->login);
	return j;
}

enum judgement
judge_envelope(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	char err[256];
	enum route_status st;
	enum judgement j;

	m->envelope_done = 1;
	st = route_lookup(c->cfg, m->sender ? m->sender : "", &m->route, err,
	    sizeof(err));
	m->have_route = st == ROUTE_OK;
	switch (st) {
	case ROUTE_BAD_ADDRESS:
		m->reason = "bad sender address";
		judge_reply(&m->reply, 0, "553", "5.1.7", "bad sender address "
		    "%s: %s", m->sender ? m->sender : "", err);
		return m->verdict = J_REJECT;
	case ROUTE_NULL_SENDER:
		/* Bounces: the relay applies its null-sender policy. */
		m->reason = "null sender";
		return m->verdict = J_ACCEPT;
	case ROUTE_NONE:
		return m->verdict = no_route(c);
	case ROUTE_OK:
		break;
	}
	if ((j = authorization(c)) != J_CONTINUE ||
	    (j = sender_rule(c)) != J_CONTINUE)
		return m->verdict = j;
	return m->verdict = J_CONTINUE;
}

int
rcpt_is_local(const struct config *cfg, const char *rcpt)
{
	const struct strlist *l = &cfg->conf->local_domains;
	struct addr a;
	char err[128];

	if (addr_parse_path(rcpt, &a, err, sizeof(err)) < 0)
		return 0;	/* the MTA refuses it; not ours to judge */
	if (a.null || a.domain[0] == '\0')
		return 1;
	for (size_t i = 0; i < l->n; i++)
		if (domain_within(a.domain, l->v[i]))
			return 1;
	return 0;
}

/* setreply wants '%' doubled. */
void
judge_setreply(SMFICTX *ctx, const struct mreply *r)
{
	char text[2 * sizeof(r->text)], *o = text;

	for (const char *p = r->text; *p && o < text + sizeof(text) - 2; p++) {
		if (*p == '%')
			*o++ = '%';
		*o++ = (*p == '\r' || *p == '\n') ? ' ' : *p;
	}
	*o = '\0';
	if (smfi_setreply(ctx, (char *)(uintptr_t)r->rcode,
	    (char *)(uintptr_t)r->xcode, text) != MI_SUCCESS)
		log_warnx("smfi_setreply %s %s failed", r->rcode, r->xcode);
}

void
judge_log(const struct mconn *c, const char *decision)
{
	const struct mmsg *m = &c->msg;
	char s[ADDR_PATH_MAX + 8], a[128], u[160], why[160];
	char rtext[sizeof(m->reply.text) + 16], q[sizeof(rtext) + 4];
	char r[sizeof(q) + 8] = "";

	if (strcmp(decision, "accept") != 0) {
		snprintf(rtext, sizeof(rtext), "%s %s %s", m->reply.rcode,
		    m->reply.xcode, m->reply.text);
		snprintf(r, sizeof(r), " reply=%s",
		    log_quote(q, sizeof(q), rtext));
	} else if (m->rewritten)
		snprintf(r, sizeof(r), " envelope=%s", m->route.login);
	log_info("qid=%s sender=%s account=%s decision=%s reason=%s "
	    "client=%s sasl=%s%s", *m->qid ? m->qid : "-",
	    log_quote(s, sizeof(s), m->sender ? m->sender : ""),
	    log_quote(a, sizeof(a), m->have_route ? m->route.account->name :
	    "-"), decision,
	    log_quote(why, sizeof(why), m->reason ? m->reason : "ok"),
	    *c->addr ? c->addr : "local",
	    log_quote(u, sizeof(u), *m->auth ? m->auth : "-"), r);
}
