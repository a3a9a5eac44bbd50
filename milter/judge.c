/*
 * judge — the envelope steps of the outbound decision at the first
 * outbound RCPT (route, authorization, provider sender rule: decided by
 * verdict_envelope(), the same code "smarthostctl route --from" runs),
 * the reply to the MTA and the log line.  message.c has the steps at the
 * end of the message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"
#include "util.h"

enum judgement
judge_envelope(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	char err[256];
	struct verdict_client cl = { m->sender ? m->sender : "", err, m->auth,
	    c->addr, m->smtputf8 };

	m->envelope_done = 1;
	m->have_route = route_lookup(c->cfg, cl.sender, &m->route, err,
	    sizeof(err)) == ROUTE_OK;
	return m->verdict = verdict_envelope(c->cfg->conf, &m->route, &cl,
	    &m->v);
}

enum judgement
judge_recipient(struct mconn *c, const char *rcpt)
{
	struct mmsg *m = &c->msg;
	struct verdict_client cl = { m->sender ? m->sender : "", NULL, m->auth,
	    c->addr, m->smtputf8 };
	enum judgement j;

	if ((j = verdict_recipient(&cl, c->internal, rcpt, &m->rv)) !=
	    J_CONTINUE)
		judge_log_verdict(c, "reject", &m->rv);
	return j;
}

int
judge_header_limit(struct mconn *c, const char *name, const char *value)
{
	struct mmsg *m = &c->msg;

	if (m->hdr_overflow)
		return 1;
	m->hdrbytes += strlen(name) + strlen(value) + 2;
	if (m->nhdrs < MILTER_MAX_HEADERS &&
	    m->hdrbytes <= MILTER_MAX_HEADER_BYTES)
		return 0;
	m->hdr_overflow = 1;
	m->v.reason = "header too large";
	verdict_reply(&m->v, 1, "452", "4.3.1", "message header %s; "
	    "smarthost-milter takes at most %d header fields and %d bytes of "
	    "header per message", m->nhdrs >= MILTER_MAX_HEADERS ?
	    "has too many fields" : "is too large", MILTER_MAX_HEADERS,
	    MILTER_MAX_HEADER_BYTES);
	/* verdict_reply()'s temporary code is 451; storage is 452. */
	xstrlcpy(m->v.rcode, "452", sizeof(m->v.rcode));
	judge_log(c, "tempfail");
	return 1;
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
judge_setreply(SMFICTX *ctx, const struct verdict *r)
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
	judge_log_verdict(c, decision, &c->msg.v);
}

void
judge_log_verdict(const struct mconn *c, const char *decision,
    const struct verdict *v)
{
	const struct mmsg *m = &c->msg;
	char s[ADDR_PATH_MAX + 8], a[128], u[160], why[160];
	char rtext[sizeof(m->v.text) + 16], q[sizeof(rtext) + 4];
	char r[sizeof(q) + 8] = "";

	if (strcmp(decision, "accept") != 0) {
		snprintf(rtext, sizeof(rtext), "%s %s %s", v->rcode,
		    v->xcode, v->text);
		snprintf(r, sizeof(r), " reply=%s",
		    log_quote(q, sizeof(q), rtext));
	} else if (m->have_route && route_sends_as_login(&m->route))
		/* Postfix keeps the sender; the relay sends the login */
		snprintf(r, sizeof(r), " relay-envelope=%s%s%s",
		    m->route.login, m->replyto ? " reply-to=" : "",
		    m->replyto ? m->replyto : "");
	else if (m->replyto)
		snprintf(r, sizeof(r), " reply-to=%s", m->replyto);
	log_info("qid=%s sender=%s account=%s decision=%s reason=%s "
	    "client=%s sasl=%s%s", *m->qid ? m->qid : "-",
	    log_quote(s, sizeof(s), m->sender ? m->sender : ""),
	    log_quote(a, sizeof(a), m->have_route ? m->route.account->name :
	    "-"), decision,
	    log_quote(why, sizeof(why), v->reason ? v->reason : "ok"),
	    *c->addr ? c->addr : "local",
	    log_quote(u, sizeof(u), *m->auth ? m->auth : "-"), r);
}
