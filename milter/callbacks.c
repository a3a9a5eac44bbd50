/*
 * callbacks — libmilter glue.  A struct mconn per connection (smfi_setpriv)
 * holds the configuration snapshot taken at connect; its struct mmsg is
 * reset at MAIL and on abort.  A message is outbound when one of its
 * recipients is outside local-domains, whatever the client; such a
 * recipient is refused when the client is neither SASL-authenticated nor
 * in internal-networks (judge_recipient()).  Mail with no recipient
 * outside local-domains is accepted untouched and costs no DNS lookup.
 * The header of an outbound message is kept until the end of headers,
 * within MILTER_MAX_HEADERS and MILTER_MAX_HEADER_BYTES: past them the
 * message is refused with a 452 and nothing more is kept.  Internal
 * errors are temporary failures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"
#include "util.h"

struct align *milter_align;

static struct mconn *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void
free_headers(struct mmsg *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	m->hdrs = NULL;
	m->nhdrs = 0;
}

static void
msg_reset(struct mmsg *m)
{
	free(m->sender);
	free(m->from);
	free_headers(m);
	dkimcheck_free(m->dkim);
	memset(m, 0, sizeof(*m));
}

static sfsistat
fi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct mconn *c = xcalloc(1, sizeof(*c));
	/* No reply to connect, headers and end of headers: two round trips
	 * fewer per message plus one per header. */
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_HDR_LEADSPC | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HDR |
	    SMFIP_NR_EOH;

	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	log_debug("negotiate: MTA offers actions %#lx steps %#lx, we ask %#lx %#lx", f0, f1, *pf0, *pf1);
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->can_skip = (*pf1 & SMFIP_SKIP) != 0;
	c->nr_conn = (*pf1 & SMFIP_NR_CONN) != 0;
	c->nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
	c->nr_eoh = (*pf1 & SMFIP_NR_EOH) != 0;
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static sfsistat
fi_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct mconn *c = conn_get(ctx);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}
	/* Without a snapshot, MAIL is refused (the reply here may be off). */
	if (c->cfg == NULL && (c->cfg = snapshot_get()) == NULL)
		return c->nr_conn ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	c->internal = netmatch(&c->cfg->conf->internal_networks, sa);
	netmatch_format(sa, c->addr, sizeof(c->addr));
	return c->nr_conn ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static void
macro(SMFICTX *ctx, const char *name, char *buf, size_t size)
{
	const char *v = smfi_getsymval(ctx, (char *)(uintptr_t)name);

	if (v && *v)
		xstrlcpy(buf, v, size);
}

/* The ESMTP parameters of MAIL include SMTPUTF8. */
static int
has_smtputf8(char **argv)
{
	for (size_t i = 1; argv[0] && argv[i]; i++)
		if (strcasecmp(argv[i], "SMTPUTF8") == 0)
			return 1;
	return 0;
}

static sfsistat
fi_envfrom(SMFICTX *ctx, char **argv)
{
	struct mconn *c = conn_get(ctx);

	if (c == NULL || c->cfg == NULL)
		return SMFIS_TEMPFAIL;
	msg_reset(&c->msg);
	c->msg.sender = xstrdup(argv[0] ? argv[0] : "");
	c->msg.smtputf8 = has_smtputf8(argv);
	macro(ctx, "i", c->msg.qid, sizeof(c->msg.qid));
	macro(ctx, "{auth_authen}", c->msg.auth, sizeof(c->msg.auth));
	return SMFIS_CONTINUE;
}

static sfsistat
verdict_status(SMFICTX *ctx, struct mconn *c, enum judgement j)
{
	switch (j) {
	case J_REJECT:
		judge_setreply(ctx, &c->msg.v);
		return SMFIS_REJECT;
	case J_TEMPFAIL:
		judge_setreply(ctx, &c->msg.v);
		return SMFIS_TEMPFAIL;
	default:
		return SMFIS_CONTINUE;
	}
}

static sfsistat
fi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mconn *c = conn_get(ctx);
	struct mmsg *m;

	if (c == NULL || c->cfg == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->msg;
	if (rcpt_is_local(c->cfg, argv[0]))
		return SMFIS_CONTINUE;
	if (judge_recipient(c, argv[0]) != J_CONTINUE) {
		judge_setreply(ctx, &m->rv);
		return SMFIS_REJECT;
	}
	if (!m->envelope_done) {
		judge_envelope(c);
		if (m->verdict == J_REJECT || m->verdict == J_TEMPFAIL)
			judge_log(c, m->verdict == J_REJECT ? "reject" :
			    "tempfail");
	}
	if (m->verdict == J_REJECT || m->verdict == J_TEMPFAIL)
		return verdict_status(ctx, c, m->verdict);
	m->outbound = 1;
	return SMFIS_CONTINUE;
}

/* The reply judge_header_limit() prepared (and logged). */
static sfsistat
header_refusal(SMFICTX *ctx, struct mconn *c)
{
	judge_setreply(ctx, &c->msg.v);
	return SMFIS_TEMPFAIL;
}

static int
is_dkimsig(const char *name)
{
	return strcasecmp(name, "DKIM-Signature") == 0;
}

static sfsistat
fi_header(SMFICTX *ctx, char *name, char *value)
{
	struct mconn *c = conn_get(ctx);
	struct mmsg *m;

	if (c == NULL || c->cfg == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->msg;
	if (!m->outbound)	/* no outbound recipient left */
		return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_ACCEPT;
	if (judge_header_limit(c, name, value)) {
		free_headers(m);
		if (c->nr_hdr)	/* refused at the end of headers or body */
			return SMFIS_NOREPLY;
		judge_setreply(ctx, &m->v);
		return SMFIS_TEMPFAIL;
	}
	if (strcasecmp(name, "From") == 0 && m->nfrom++ == 0)
		m->from = xstrdup(value);
	else if (strcasecmp(name, "Reply-To") == 0)
		m->nreplyto++;
	else if (c->cfg->conf->trace_header &&
	    strcasecmp(name, c->cfg->conf->trace_header) == 0)
		m->ntrace++;
	else if (is_dkimsig(name))
		m->dkimsig = 1;
	m->hdrs = xreallocarray(m->hdrs, m->nhdrs + 1, sizeof(*m->hdrs));
	m->hdrs[m->nhdrs].name = xstrdup(name);
	m->hdrs[m->nhdrs++].value = xstrdup(value);
	return c->nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Existing signatures are verified only when there are some. */
static void
dkim_start(struct mconn *c)
{
	struct mmsg *m = &c->msg;
	char err[256];

	if (!m->dkimsig || m->verdict != J_CONTINUE)
		return;
	if ((m->dkim = dkimcheck_new(milter_align, *m->qid ? m->qid : "msg",
	    err, sizeof(err))) == NULL) {
		log_warnx("qid=%s dkim: %s", *m->qid ? m->qid : "-", err);
		return;
	}
	for (size_t i = 0; i < m->nhdrs; i++)
		dkimcheck_header(m->dkim, m->hdrs[i].name, m->hdrs[i].value);
	dkimcheck_eoh(m->dkim);
}

static sfsistat
fi_eoh(SMFICTX *ctx)
{
	struct mconn *c = conn_get(ctx);
	struct mmsg *m;

	if (c == NULL || c->cfg == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->msg;
	if (!m->outbound)
		return c->nr_eoh ? SMFIS_NOREPLY : SMFIS_ACCEPT;
	if (m->hdr_overflow && !c->nr_eoh)
		return header_refusal(ctx, c);
	if (!m->hdr_overflow)
		dkim_start(c);
	free_headers(m);
	return c->nr_eoh ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
fi_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct mconn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (!c->msg.outbound)
		return SMFIS_ACCEPT;
	if (c->msg.hdr_overflow)
		return header_refusal(ctx, c);
	if (c->msg.dkim == NULL)
		return c->can_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	dkimcheck_body(c->msg.dkim, buf, len);
	return SMFIS_CONTINUE;
}

static sfsistat
fi_eom(SMFICTX *ctx)
{
	struct mconn *c = conn_get(ctx);
	struct mmsg *m;
	enum judgement j;

	if (c == NULL || c->cfg == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->msg;
	if (!m->outbound)
		return SMFIS_ACCEPT;
	if (m->hdr_overflow)
		return header_refusal(ctx, c);
	if (*m->qid == '\0')
		macro(ctx, "i", m->qid, sizeof(m->qid));
	j = message_judge(ctx, c);
	judge_log(c, j == J_REJECT ? "reject" : j == J_TEMPFAIL ? "tempfail" :
	    "accept");
	return j == J_CONTINUE ? SMFIS_ACCEPT : verdict_status(ctx, c, j);
}

static sfsistat
fi_abort(SMFICTX *ctx)
{
	struct mconn *c = conn_get(ctx);

	if (c)
		msg_reset(&c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
fi_close(SMFICTX *ctx)
{
	struct mconn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	msg_reset(&c->msg);
	if (c->cfg)
		config_unref(c->cfg);
	free(c);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = MILTER_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.xxfi_connect = fi_connect,
	.xxfi_envfrom = fi_envfrom,
	.xxfi_envrcpt = fi_envrcpt,
	.xxfi_header = fi_header,
	.xxfi_eoh = fi_eoh,
	.xxfi_body = fi_body,
	.xxfi_eom = fi_eom,
	.xxfi_abort = fi_abort,
	.xxfi_close = fi_close,
	.xxfi_negotiate = fi_negotiate,
};
