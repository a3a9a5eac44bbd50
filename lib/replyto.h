/*
 * replyto — whether a From: rewritten to the account gets a Reply-To:
 * with the original address ([milter] reply-to in smarthost.conf(5), the
 * reply-to= option of a relay.map(5) line).
 *
 *   original  always;
 *   none      never: replies go to the account's mailbox;
 *   auto      only when the original address can receive mail from
 *             outside: its domain is not within local-domains and has an
 *             MX record (not a null MX) or, without MX, an A or AAAA
 *             record.  A DNS failure counts as "cannot": no Reply-To:
 *             is better than one that loses replies, which reach the
 *             account's mailbox instead.
 *
 * DNS goes through the caller's libspf2 DNS layer (align_dns()), so the
 * milter's resolver, cache and dns-timeout apply.  A Reply-To: the message
 * already has is the caller's business: it is kept, whatever this says.
 */
#ifndef SMARTHOST_REPLYTO_H
#define SMARTHOST_REPLYTO_H

#include <stddef.h>

#include "conf.h"
#include "route.h"

struct SPF_dns_server_struct;

enum replyto_outcome {
	RT_ADD,			/* add Reply-To: */
	RT_NONE_OPTION,		/* reply-to = none */
	RT_NONE_LOCAL,		/* auto: domain within local-domains */
	RT_NONE_NOMAIL,		/* auto: no MX, A or AAAA (or a null MX) */
	RT_NONE_DNSFAIL,	/* auto: the lookup failed for now */
};

/* The decision for the original address's domain (normalised) on route
 * r.  dns may be NULL only when r->reply_to is not auto. */
enum replyto_outcome replyto_decide(const struct conf *, const struct route *r,
	    const char *domain, struct SPF_dns_server_struct *dns);

/* Non-zero when domain (normalised) is within local-domains. */
int	replyto_local(const struct conf *, const char *domain);

/* 1 when the domain has an MX that is not null, else an A or AAAA
 * record; 0 when it has none; -1 on a DNS failure. */
int	replyto_domain_receives(struct SPF_dns_server_struct *dns,
	    const char *domain);

/* "added", "none:option", "none:local-domain", "none:no-mx",
 * "none:dns-failure": for log lines. */
const char *replyto_token(enum replyto_outcome);
/* One sentence on why, naming the domain, into buf.  Returns buf. */
char	*replyto_explain(enum replyto_outcome, const struct route *r,
	    const char *domain, char *buf, size_t size);

#endif
