/*
 * message — the end-of-message steps of an outbound message: the From:
 * header, the rewrite of From: to the account (and Reply-To: where
 * replies to the original address can arrive, see replyto.h), the
 * alignment prediction and the trace header.  The envelope sender stays
 * as the client gave it, so that the MTA's own notices (bounces, delay
 * warnings) go back to the sender; smarthost-relay sends the login as
 * MAIL FROM for "rewrite" routes (route_sends_as_login()).  Called from
 * xxfi_eom with the headers collected by callbacks.c; returns J_CONTINUE
 * to accept.
 * The From: and alignment decisions are verdict_from() and
 * verdict_alignment() (verdict.h), as in "smarthostctl route --from".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"
#include "replyto.h"
#include "util.h"

struct outcome {
	struct mailbox	 from;		/* the one From: mailbox */
	int		 from_ok;
	int		 from_rewritten;	/* breaks existing signatures */
	struct align_result al;
	int		 aligned_checked;
};

/* Exactly one From: with exactly one mailbox. */
static enum judgement
from_check(struct mconn *c, struct outcome *o)
{
	struct mmsg *m = &c->msg;

	if (verdict_from(c->cfg->conf, &m->route, m->nfrom, m->from, &o->from,
	    &m->v) == 0) {
		o->from_ok = 1;
		return J_CONTINUE;
	}
	return verdict_act(c->cfg->conf->from_header);
}

static int
add_header(SMFICTX *ctx, const struct mconn *c, const char *name,
    const char *value)
{
	char *v = xasprintf("%s%s", c->leadspc ? " " : "", value);
	int r = smfi_addheader(ctx, (char *)(uintptr_t)name, v);

	free(v);
	return r == MI_SUCCESS ? 0 : -1;
}

/* Reply-To: the original address (orig), unless the message has one or
 * replyto_decide() says replies could not reach it. */
static int
reply_to(SMFICTX *ctx, struct mconn *c, const struct outcome *o,
    const char *orig)
{
	struct mmsg *m = &c->msg;
	char buf[ADDR_HEADER_MAX + 1];
	enum replyto_outcome rt;

	if (m->nreplyto > 0) {
		m->replyto = "kept";
		return 0;
	}
	rt = replyto_decide(c->cfg->conf, &m->route, o->from.addr.domain,
	    align_dns(milter_align));
	m->replyto = replyto_token(rt);
	if (rt != RT_ADD)
		return 0;
	if (addr_format_mailbox(o->from.display, orig, buf, sizeof(buf)) < 0)
		return -1;
	return add_header(ctx, c, "Reply-To", buf);
}

/* From: to the login; the original From to Reply-To where it can work.
 * The envelope is left alone: the relay sends the login. */
static int
rewrite(SMFICTX *ctx, struct mconn *c, struct outcome *o)
{
	struct mmsg *m = &c->msg;
	const struct route *r = &m->route;
	char buf[ADDR_HEADER_MAX + 1], orig[ADDR_KEY_MAX + 2], key[ADDR_KEY_MAX];
	char *v;

	if (!r->rewrite)
		return 0;
	if (!o->from_ok || strcmp(addr_key(&o->from.addr, key, sizeof(key)),
	    r->login) == 0)
		return 0;
	snprintf(orig, sizeof(orig), "%s@%s", o->from.addr.local,
	    o->from.addr.domain);
	if (addr_format_mailbox(o->from.display, r->login, buf,
	    sizeof(buf)) < 0)
		return -1;
	v = xasprintf("%s%s", c->leadspc ? " " : "", buf);
	if (smfi_chgheader(ctx, "From", 1, v) != MI_SUCCESS) {
		free(v);
		return -1;
	}
	free(v);
	o->from_rewritten = 1;
	return reply_to(ctx, c, o, orig);
}

static void
collect_sigs(struct mmsg *m, const struct outcome *o, struct align_input *in,
    struct dkimcheck_result *dr)
{
	if (m->dkim == NULL)
		return;
	/* A signature over the old From: no longer verifies. */
	if (!o->from_rewritten && dkimcheck_finish(m->dkim, dr) == 0) {
		for (size_t i = 0; i < dr->n; i++)
			in->sig_domains[in->nsig++] = dr->domains[i];
		in->sig_temperror = dr->temperror;
		in->sig_nokey = dr->nokey[0] ? dr->nokey : NULL;
		if (dr->n == 0)
			log_info("qid=%s dkim: %zu signature(s), none verifies: "
			    "%s", *m->qid ? m->qid : "-", dr->nsigs, dr->note);
	}
	dkimcheck_free(m->dkim);
	m->dkim = NULL;
}

static enum judgement
alignment(struct mconn *c, struct outcome *o)
{
	struct mmsg *m = &c->msg;
	const struct route *r = &m->route;
	struct align_input in;
	struct dkimcheck_result dr;
	char key[ADDR_KEY_MAX];

	if (c->cfg->conf->dmarc == ACT_OFF || !o->from_ok)
		return J_CONTINUE;
	align_route_input(r, addr_key(&o->from.addr, key, sizeof(key)), &in);
	collect_sigs(m, o, &in, &dr);
	align_check(milter_align, &in, &o->al);
	o->aligned_checked = 1;
	return verdict_alignment(c->cfg->conf, r, &in, &o->al, &m->v);
}

static enum judgement
rewrite_and_align(SMFICTX *ctx, struct mconn *c, struct outcome *o)
{
	struct mmsg *m = &c->msg;

	if (rewrite(ctx, c, o) < 0) {
		m->v.reason = "rewrite refused by the MTA";
		verdict_reply(&m->v, 1, "451", "4.3.0", "smarthost-milter "
		    "could not rewrite From: to %s; try again later",
		    m->route.login);
		return J_TEMPFAIL;
	}
	return alignment(c, o);
}

/* Remove every instance a client sent, then add ours. */
static int
trace(SMFICTX *ctx, struct mconn *c, const struct outcome *o)
{
	const struct mmsg *m = &c->msg;
	const char *name = c->cfg->conf->trace_header;
	char v[1024], verdicts[512] = "alignment=not checked";

	if (name == NULL || *name == '\0')
		return 0;
	for (size_t i = m->ntrace; i > 0; i--)
		if (smfi_chgheader(ctx, (char *)(uintptr_t)name, (int)i, NULL) !=
		    MI_SUCCESS)
			return -1;
	if (!m->have_route)
		snprintf(v, sizeof(v), "account=none; reason=%s", m->v.reason ?
		    m->v.reason : "no route");
	else {
		if (o->aligned_checked)
			align_format(&o->al, verdicts, sizeof(verdicts));
		snprintf(v, sizeof(v), "account=%s; host=%s; %s%s",
		    m->route.account->name, m->route.host ? m->route.host : "-",
		    (m->route.rewrite && m->route.envelope_differs) ||
		    o->from_rewritten ? "rewritten; " : "", verdicts);
	}
	return add_header(ctx, c, name, v);
}

enum judgement
message_judge(SMFICTX *ctx, struct mconn *c)
{
	struct mmsg *m = &c->msg;
	struct outcome o;
	enum judgement j;

	memset(&o, 0, sizeof(o));
	if (m->verdict == J_CONTINUE) {
		if ((j = from_check(c, &o)) != J_CONTINUE ||
		    (j = rewrite_and_align(ctx, c, &o)) != J_CONTINUE)
			return j;
	}
	if (trace(ctx, c, &o) < 0) {
		m->v.reason = "milter action refused by the MTA";
		verdict_reply(&m->v, 1, "451", "4.3.0", "smarthost-milter "
		    "could not change the message; try again later");
		return J_TEMPFAIL;
	}
	return J_CONTINUE;
}
