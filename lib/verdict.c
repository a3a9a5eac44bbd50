/*
 * verdict — see verdict.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verdict.h"
#include "util.h"

#define VERDICT_MAX_FROM	4	/* mailboxes parsed to count them */

void
verdict_reply(struct verdict *v, int temp, const char *code, const char *x5,
    const char *fmt, ...)
{
	va_list ap;

	xstrlcpy(v->rcode, temp ? "451" : code, sizeof(v->rcode));
	snprintf(v->xcode, sizeof(v->xcode), "%c%s", temp ? '4' : '5', x5 + 1);
	va_start(ap, fmt);
	vsnprintf(v->text, sizeof(v->text), fmt, ap);
	va_end(ap);
}

enum judgement
verdict_act(int action)
{
	switch (action) {
	case ACT_REJECT:	return J_REJECT;
	case ACT_TEMPFAIL:	return J_TEMPFAIL;
	default:		return J_CONTINUE;
	}
}

const char *
verdict_maploc(const struct map_entry *e, char *buf, size_t size)
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
sender_text(const struct route *r)
{
	return r->sender_key[0] ? r->sender_key : "<>";
}

static enum judgement
no_route(const struct conf *conf, const struct route *r, struct verdict *v)
{
	enum judgement j = verdict_act(conf->no_route);
	const char *s = sender_text(r);

	v->reason = "no route";
	if (conf->no_route == ACT_ACCEPT || conf->no_route == ACT_TAG ||
	    conf->no_route == ACT_OFF)
		return J_ACCEPT;
	verdict_reply(v, j == J_TEMPFAIL, "550", "5.7.1", "no route for "
	    "sender %s in relay.map: add a line for %s, @%s or *", s, s,
	    r->sender.domain);
	return j;
}

/* Where allowed-users is set: the account block, else the map line. */
static void
account_loc(const struct account *a, const struct map_entry *e, char *buf,
    size_t size)
{
	const char *f = a->file ? strrchr(a->file, '/') : NULL;

	if (a->file == NULL)
		verdict_maploc(e, buf, size);
	else
		snprintf(buf, size, "%s line %u", f ? f + 1 : a->file, a->line);
}

static enum judgement
authorization(const struct conf *conf, const struct route *r,
    const struct verdict_client *cl, struct verdict *v)
{
	const struct account *a = r->account;
	char loc[256];
	enum judgement j;

	if (cl->auth == NULL || a->allowed_users.n == 0 ||
	    (*cl->auth && strlist_contains(&a->allowed_users, cl->auth)))
		return J_CONTINUE;
	v->reason = "unauthorized";
	if ((j = verdict_act(conf->unauthorized)) == J_CONTINUE)
		return j;
	account_loc(a, r->entry, loc, sizeof(loc));
	if (*cl->auth)
		verdict_reply(v, j == J_TEMPFAIL, "550", "5.7.1", "%s may not "
		    "send as %s: account %s (%s) allows only its "
		    "allowed-users; add %s there or send as your own address",
		    cl->auth, sender_text(r), a->name, loc, cl->auth);
	else
		verdict_reply(v, j == J_TEMPFAIL, "550", "5.7.1",
		    "unauthenticated client %s may not send as %s: account %s "
		    "(%s) is limited to its allowed-users; log in (SMTP AUTH) "
		    "first", cl->addr, sender_text(r), a->name, loc);
	return j;
}

static enum judgement
sender_rule(const struct conf *conf, const struct route *r, struct verdict *v)
{
	char loc[256];
	enum judgement j;

	if (!r->envelope_differs || r->rewrite ||
	    r->sender_must_match != TRI_YES)
		return J_CONTINUE;
	v->reason = "sender mismatch";
	if ((j = verdict_act(conf->sender_mismatch)) == J_CONTINUE)
		return j;
	verdict_maploc(r->entry, loc, sizeof(loc));
	verdict_reply(v, j == J_TEMPFAIL, "553", "5.7.1", "%s requires the "
	    "envelope sender to be the account login %s (it says: %s); add "
	    "'rewrite' to %s or send as %s", r->host ? r->host :
	    r->account->name, r->login, r->sender_refusal ? r->sender_refusal :
	    "other senders are refused", loc, r->login);
	return j;
}

/* "<a@b>" whether or not the MTA kept the angle brackets. */
static const char *
path_text(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		xstrlcpy(buf, s, size);
	else
		snprintf(buf, size, "<%s>", s);
	return buf;
}

static enum judgement
utf8_address(const char *addr, struct verdict *v)
{
	char p[ADDR_PATH_MAX + 4];

	v->reason = "SMTPUTF8";
	verdict_reply(v, 0, "553", "5.6.7", "%s: UTF-8 addresses (SMTPUTF8) "
	    "cannot be sent through the provider accounts, which do not "
	    "offer SMTPUTF8; use an ASCII address",
	    path_text(addr, p, sizeof(p)));
	return J_REJECT;
}

enum judgement
verdict_recipient(const struct verdict_client *cl, int internal,
    const char *rcpt, struct verdict *v)
{
	char p[ADDR_PATH_MAX + 4];

	if (!internal && (cl->auth == NULL || *cl->auth == '\0')) {
		v->reason = "untrusted client";
		verdict_reply(v, 0, "550", "5.7.1", "%s: relaying refused: "
		    "client %s is neither authenticated nor in "
		    "internal-networks; outbound mail needs SMTP AUTH",
		    path_text(rcpt, p, sizeof(p)), *cl->addr ? cl->addr :
		    "local");
		return J_REJECT;
	}
	if (!str_is_ascii(rcpt))
		return utf8_address(rcpt, v);
	return J_CONTINUE;
}

/* The providers offer no SMTPUTF8: Postfix would bounce such mail. */
static enum judgement
smtputf8(const struct verdict_client *cl, struct verdict *v)
{
	char p[ADDR_PATH_MAX + 4];

	if (!str_is_ascii(cl->sender))
		return utf8_address(cl->sender, v);
	if (!cl->smtputf8)
		return J_CONTINUE;
	v->reason = "SMTPUTF8";
	verdict_reply(v, 0, "553", "5.6.7", "%s: SMTPUTF8 mail cannot be sent "
	    "through the provider accounts, which do not offer SMTPUTF8; send "
	    "it without SMTPUTF8 (ASCII addresses, RFC 2047 encoded headers)",
	    path_text(cl->sender, p, sizeof(p)));
	return J_REJECT;
}

enum judgement
verdict_envelope(const struct conf *conf, const struct route *r,
    const struct verdict_client *cl, struct verdict *v)
{
	enum judgement j;

	if ((j = smtputf8(cl, v)) != J_CONTINUE)
		return j;
	switch (r->status) {
	case ROUTE_BAD_ADDRESS:
		v->reason = "bad sender address";
		verdict_reply(v, 0, "553", "5.1.7", "bad sender address %s: %s",
		    cl->sender, cl->route_err ? cl->route_err : "");
		return J_REJECT;
	case ROUTE_NULL_SENDER:
		/* Bounces: the relay applies its null-sender policy. */
		v->reason = "null sender";
		return J_ACCEPT;
	case ROUTE_NONE:
		return no_route(conf, r, v);
	case ROUTE_OK:
		break;
	}
	if ((j = authorization(conf, r, cl, v)) != J_CONTINUE)
		return j;
	return sender_rule(conf, r, v);
}

int
verdict_from(const struct conf *conf, const struct route *r, size_t nfrom,
    const char *from, struct mailbox *out, struct verdict *v)
{
	struct mailbox mb[VERDICT_MAX_FROM];
	char err[256] = "";
	size_t n = 0;
	int temp = verdict_act(conf->from_header) == J_TEMPFAIL;
	const char *s = r->sender_key;

	if (nfrom == 1 && addr_parse_mailboxes(from, mb, VERDICT_MAX_FROM, &n,
	    err, sizeof(err)) == 0 && n == 1) {
		*out = mb[0];
		return 0;
	}
	v->reason = "bad From header";
	if (nfrom == 0)
		verdict_reply(v, temp, "550", "5.6.0", "message from %s has no "
		    "From: header; add one (From: Name <%s>)", s, s);
	else if (nfrom > 1)
		verdict_reply(v, temp, "550", "5.6.0", "message from %s has %zu "
		    "From: headers; RFC 5322 allows exactly one", s, nfrom);
	else if (n > 1)
		verdict_reply(v, temp, "550", "5.6.0", "From: header of %s names "
		    "%zu addresses; a provider accepts exactly one", s, n);
	else
		verdict_reply(v, temp, "550", "5.6.0", "From: header of %s does "
		    "not parse: %s", s, n == 0 && *err ? err : "no address");
	return -1;
}

/*
 * What makes DMARC pass.  When the envelope sender already is the login
 * in the From: domain, sending "as the login" changes nothing: that
 * domain's SPF record must authorise the provider (its include), or the
 * mail must carry a DKIM signature of the domain.  Otherwise: send as the
 * login, or through an account of the From: domain.
 */
static void
alignment_fix(const struct route *r, const struct align_input *in,
    char *buf, size_t size)
{
	const char *d = in->from_domain;

	if (in->env_addr == NULL || r->login == NULL || in->env_domain ==
	    NULL || strcasecmp(in->env_addr, r->login) != 0 ||
	    strcasecmp(in->env_domain, d) != 0) {
		snprintf(buf, size, "send as %s or through an account of %s",
		    r->login, d);
		return;
	}
	if (in->spf_include && *in->spf_include)
		snprintf(buf, size, "add include:%s to the SPF record of %s, "
		    "or DKIM-sign its mail for %s", in->spf_include, d, d);
	else
		snprintf(buf, size, "let the SPF record of %s authorise the "
		    "servers of %s, or DKIM-sign its mail for %s", d,
		    r->host ? r->host : r->account->name, d);
}

enum judgement
verdict_alignment(const struct conf *conf, const struct route *r,
    const struct align_input *in, const struct align_result *al,
    struct verdict *v)
{
	enum judgement j = verdict_act(conf->dmarc);
	char fix[512];

	switch (align_refuses(al)) {
	case 0:
		return J_CONTINUE;
	case 2:
		if (j == J_CONTINUE)
			return j;
		v->reason = "DNS failure";
		verdict_reply(v, 1, "451", "4.4.3", "%s; try again later",
		    al->why);
		return J_TEMPFAIL;
	}
	v->reason = "DMARC would fail";
	alignment_fix(r, in, fix, sizeof(fix));
	verdict_reply(v, j == J_TEMPFAIL, "550", "5.7.1", "%s: recipients "
	    "would %s this message from %s sent through %s; %s", al->why,
	    strcmp(al->policy, "reject") == 0 ? "reject" : "junk",
	    in->from_domain, r->account->name, fix);
	return j;
}
