/*
 * align — predict SPF, DKIM and DMARC for mail leaving through a provider.
 *
 * The question is not "did this message pass" (nobody has sent it yet) but
 * "when the provider sends it, will the recipient see an aligned pass?":
 *
 *   SPF   the envelope domain's policy (libspf2) evaluated for an address
 *         the provider's own SPF record authorises (the first ip4/ip6 of
 *         its include, following include:/redirect= a few levels);
 *   DKIM  pass for each d= of an existing signature that verifies (see
 *         dkimcheck.h), plus the domain the provider signs with;
 *   DMARC the From domain's _dmarc record, else its organizational
 *         domain's (libpsl), with adkim/aspf relaxed or strict; pass when
 *         SPF passes for an aligned envelope domain or a DKIM pass has an
 *         aligned d=.
 *
 * All DNS goes through one libspf2 DNS layer: the system resolver under a
 * cache by default (answers for their TTL but at least 30 s: the resolver
 * layer reports no TTL), or a layer the caller passes (a libspf2 zone in
 * tests); DKIM keys too, unless a key file is given.  A DNS failure
 * (SERVFAIL, timeout) is a temperror, never a guess; a DKIM key record
 * that does not exist (NXDOMAIN, no TXT) is a permanent "no key": that
 * signature does not count, and the explanation names the record.  One struct align
 * is shared by every thread (the cache locks itself); align_check() keeps
 * no state between calls but the SPF verdict of an envelope sender and
 * provider, reused for 10 s (a DNS failure is not kept).
 */
#ifndef SMARTHOST_ALIGN_H
#define SMARTHOST_ALIGN_H

#include <stddef.h>

#include "conf.h"
#include "domain.h"

struct SPF_dns_server_struct;		/* SPF_dns_server_t, <spf2/spf.h> */
struct align;

enum align_verdict {
	AV_NONE, AV_PASS, AV_FAIL, AV_SOFTFAIL, AV_NEUTRAL,
	AV_TEMPERROR, AV_PERMERROR, AV_UNKNOWN,
};

#define ALIGN_MAX_SIGS	8

struct align_opts {
	/* NULL: system resolver + TTL cache.  Else used as is, not freed
	 * (under the TTL cache too when cache is set). */
	struct SPF_dns_server_struct *dns;
	int		 cache;
	/* NULL: DKIM keys from DNS; else a libopendkim key file (tests). */
	const char	*dkim_keyfile;
	unsigned	 dns_timeout;	/* seconds for DKIM key queries; 0 = default */
};

struct align_input {
	const char	*env_addr;	/* envelope sender as the provider sends it */
	const char	*env_domain;	/* its domain (normalised) */
	const char	*from_domain;	/* From: domain (normalised) */
	const char	*spf_include;	/* provider's SPF record name, NULL = unknown */
	const char	*dkim_domain;	/* domain the provider signs with, or NULL */
	const char	*sig_domains[ALIGN_MAX_SIGS];	/* d= of verified signatures */
	size_t		 nsig;
	int		 sig_temperror;	/* a signature's key lookup failed for now */
	const char	*sig_nokey;	/* a signature's key record that does
					 * not exist ("s._domainkey.d"), or NULL */
};

struct align_result {
	int	 spf;			/* enum align_verdict */
	char	 spf_ip[48];		/* provider address SPF was evaluated for */
	int	 dkim;			/* AV_PASS if any signature will pass */
	char	 dkim_domain[DOMAIN_MAX + 1];	/* the aligned one if any, else first */
	int	 dmarc;			/* AV_PASS, AV_FAIL, AV_NONE, AV_TEMPERROR */
	char	 policy[12];		/* "none" "quarantine" "reject", "" if no record */
	char	 dmarc_domain[DOMAIN_MAX + 1];	/* where the record was found */
	int	 aspf_strict, adkim_strict;
	int	 spf_aligned, dkim_aligned;
	char	 why[1024];		/* one line when dmarc is not a pass */
};

/* NULL with a message in err. */
struct align	*align_new(const struct align_opts *, char *err, size_t errsize);
void		 align_free(struct align *);

/* Fill r.  Returns r->dmarc. */
int	align_check(struct align *, const struct align_input *,
	    struct align_result *r);

/* "spf=pass; dkim=pass (d=163.com); dmarc=pass (p=none)".  Returns buf. */
char	*align_format(const struct align_result *, char *buf, size_t size);
const char *align_verdict_name(int);

/* The organizational domain (libpsl) of a normalised domain, in out. */
void	align_org_domain(const struct align *, const char *domain, char *out,
	    size_t size);

/* Effective provider values for an account: the account's own option
 * over its preset.  dkim: NULL when nobody is known to sign; a preset's
 * "*" (customer's domain) counts only when the account names dkim-domain. */
const char *align_spf_include(const struct account *);
const char *align_dkim_domain(const struct account *);

/* The input for a route (route.h) and the From: address as the client
 * wrote it ("local@domain"), as the provider will send the message: with
 * "rewrite", envelope and From: become the login.  Signatures are left
 * to the caller.  Returns 1 when From: is rewritten (existing signatures
 * then break).  The strings point into r and from_key. */
struct route;
int	align_route_input(const struct route *r, const char *from_key,
	    struct align_input *in);

/* Would the milter refuse a message with this result?  1 for a DMARC
 * fail under p=quarantine or p=reject, 2 for a temperror, else 0. */
int	align_refuses(const struct align_result *);

/* The DNS layer every lookup goes through (for replyto.h). */
struct SPF_dns_server_struct *align_dns(struct align *);

/* For dkimcheck.c: the shared libopendkim handle (a DKIM_LIB *). */
void	*align_dkimlib(struct align *);

#endif
