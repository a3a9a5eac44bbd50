/*
 * replyto — see replyto.h.
 *
 * An MX lookup answers most domains in one query; only a domain without
 * MX records (NODATA) costs the A and AAAA queries that RFC 5321 section
 * 5.1 falls back to.  NXDOMAIN ends the search at once.
 */
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <spf2/spf.h>

#include "domain.h"
#include "replyto.h"

/* 1 found, 0 none (*stop set when the name does not exist or has only
 * a null MX: no fallback to A/AAAA), -1 on
 * a failure. */
static int
dns_has(SPF_dns_server_t *dns, const char *domain, ns_type type,
    int *stop)
{
	SPF_dns_rr_t *rr = SPF_dns_lookup(dns, domain, type, 1);
	int r = 0;

	if (rr == NULL)
		return -1;
	if (rr->herrno == TRY_AGAIN || rr->herrno == NO_RECOVERY)
		r = -1;
	else if (rr->herrno == HOST_NOT_FOUND)
		*stop = 1;
	else if (rr->herrno == NETDB_SUCCESS)
		for (int i = 0; i < rr->num_rr && r == 0; i++)
			/* RFC 7505 null MX: "." expands to "" */
			if (type != ns_t_mx || (rr->rr[i]->mx[0] != '\0' &&
			    strcmp(rr->rr[i]->mx, ".") != 0))
				r = 1;
	if (type == ns_t_mx && r == 0 && rr->herrno == NETDB_SUCCESS &&
	    rr->num_rr > 0)
		*stop = 1;	/* only a null MX: stop here */
	SPF_dns_rr_free(rr);
	return r;
}

int
replyto_domain_receives(struct SPF_dns_server_struct *dns, const char *domain)
{
	int nx = 0, r;

	if ((r = dns_has(dns, domain, ns_t_mx, &nx)) != 0 || nx)
		return r;
	if ((r = dns_has(dns, domain, ns_t_a, &nx)) != 0 || nx)
		return r;
	return dns_has(dns, domain, ns_t_aaaa, &nx);
}

int
replyto_local(const struct conf *c, const char *domain)
{
	for (size_t i = 0; i < c->local_domains.n; i++)
		if (domain_within(domain, c->local_domains.v[i]))
			return 1;
	return 0;
}

enum replyto_outcome
replyto_decide(const struct conf *c, const struct route *r,
    const char *domain, struct SPF_dns_server_struct *dns)
{
	switch (r->reply_to) {
	case REPLYTO_ORIGINAL:
		return RT_ADD;
	case REPLYTO_NONE:
		return RT_NONE_OPTION;
	default:
		break;
	}
	if (replyto_local(c, domain))
		return RT_NONE_LOCAL;
	switch (replyto_domain_receives(dns, domain)) {
	case 1:
		return RT_ADD;
	case 0:
		return RT_NONE_NOMAIL;
	default:
		return RT_NONE_DNSFAIL;
	}
}

const char *
replyto_token(enum replyto_outcome o)
{
	switch (o) {
	case RT_ADD:		return "added";
	case RT_NONE_OPTION:	return "none:option";
	case RT_NONE_LOCAL:	return "none:local-domain";
	case RT_NONE_NOMAIL:	return "none:no-mx";
	case RT_NONE_DNSFAIL:	return "none:dns-failure";
	}
	return "?";
}

char *
replyto_explain(enum replyto_outcome o, const struct route *r,
    const char *domain, char *buf, size_t size)
{
	const char *src = r->reply_to_line ? "the relay.map line's reply-to" :
	    "[milter] reply-to";

	switch (o) {
	case RT_ADD:
		if (r->reply_to == REPLYTO_ORIGINAL)
			snprintf(buf, size, "%s is original", src);
		else
			snprintf(buf, size, "%s receives mail from outside",
			    domain);
		break;
	case RT_NONE_OPTION:
		snprintf(buf, size, "%s is none", src);
		break;
	case RT_NONE_LOCAL:
		snprintf(buf, size, "%s is in local-domains", domain);
		break;
	case RT_NONE_NOMAIL:
		snprintf(buf, size, "%s has no MX or address record", domain);
		break;
	case RT_NONE_DNSFAIL:
		snprintf(buf, size, "DNS failure looking up %s", domain);
		break;
	}
	return buf;
}
