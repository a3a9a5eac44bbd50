/*
 * align — see align.h.  SPF through libspf2, DMARC records through the
 * same libspf2 DNS layer, organizational domains through libpsl.
 */
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_cache.h>
#include <spf2/spf_dns_resolv.h>
#include <opendkim/dkim.h>
#include <libpsl.h>

#include "addr.h"
#include "align.h"
#include "route.h"
#include "util.h"

#define ALIGN_INCLUDE_DEPTH	5
#define ALIGN_CACHE_BITS	10
#define ALIGN_ERR_TTL		30	/* seconds a DNS failure is remembered */
#define ALIGN_MIN_TTL		30	/* seconds an answer is, at least */
#define ALIGN_SPF_REUSE		10	/* seconds an SPF verdict is reused */
#define ALIGN_SPF_SLOTS		64

/* An SPF verdict for an envelope sender and a provider's SPF record name
 * ("sender\nrecord"): the milter judges the same pair over and over. */
struct spf_memo {
	char	 key[ADDR_KEY_MAX + DOMAIN_MAX + 24];
	time_t	 at;
	int	 verdict;
	char	 ip[48];
};

struct align {
	SPF_dns_server_t	*dns;
	SPF_dns_server_t	*own_resolv;	/* owned layers, NULL if injected */
	SPF_dns_server_t	*own_cache;
	SPF_server_t		*spf;
	DKIM_LIB		*dkim;
	const psl_ctx_t		*psl;
	psl_ctx_t		*own_psl;
	pthread_mutex_t		 memo_lock;
	struct spf_memo		 memo[ALIGN_SPF_SLOTS];
};

static const char *const verdict_names[] = {
	"none", "pass", "fail", "softfail", "neutral", "temperror",
	"permerror", "unknown",
};

const char *
align_verdict_name(int v)
{
	if (v < 0 || (size_t)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "unknown";
	return verdict_names[v];
}

/*
 * libopendkim's key lookup, through the same DNS layer as SPF and DMARC,
 * so that a key record that does not exist (NXDOMAIN, or no TXT record:
 * a permanent "no key", RFC 6376 6.1.2) is told apart from a lookup that
 * failed for now (SERVFAIL, timeout).  The DKIM handle's user context is
 * the struct align (dkimcheck_new()).
 */
static DKIM_CBSTAT
dkim_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct align *a = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char name[2 * DOMAIN_MAX + 16];
	SPF_dns_rr_t *rr;
	DKIM_CBSTAT st = DKIM_CBSTAT_TRYAGAIN;

	if (a == NULL || sel == NULL || dom == NULL ||
	    (size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel,
	    dom) >= sizeof(name))
		return DKIM_CBSTAT_ERROR;
	if ((rr = SPF_dns_lookup(a->dns, name, ns_t_txt, 1)) == NULL)
		return DKIM_CBSTAT_TRYAGAIN;
	if (rr->herrno == HOST_NOT_FOUND || rr->herrno == NO_DATA ||
	    (rr->herrno == NETDB_SUCCESS && rr->num_rr == 0))
		st = DKIM_CBSTAT_NOTFOUND;
	else if (rr->herrno == NETDB_SUCCESS && strlen(rr->rr[0]->txt) <
	    buflen) {
		memcpy(buf, rr->rr[0]->txt, strlen(rr->rr[0]->txt) + 1);
		st = DKIM_CBSTAT_CONTINUE;
	} else if (rr->herrno == NETDB_SUCCESS)
		st = DKIM_CBSTAT_ERROR;		/* longer than libopendkim takes */
	SPF_dns_rr_free(rr);
	return st;
}

static int
dkim_setup(struct align *a, const struct align_opts *o, char *err,
    size_t errsize)
{
	unsigned flags = DKIM_LIBFLAGS_FIXCRLF;
	int method = DKIM_QUERY_FILE;
	unsigned timeout = o->dns_timeout;

	if ((a->dkim = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errsize, "libopendkim: initialisation failed");
		return -1;
	}
	if (dkim_options(a->dkim, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK)
		goto fail;
	if (timeout && dkim_options(a->dkim, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT,
	    &timeout, sizeof(timeout)) != DKIM_STAT_OK)
		goto fail;
	if (o->dkim_keyfile == NULL)
		return dkim_set_key_lookup(a->dkim, dkim_key_lookup) ==
		    DKIM_STAT_OK ? 0 : (snprintf(err, errsize, "libopendkim: "
		    "cannot set the key lookup"), -1);
	if (dkim_options(a->dkim, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD,
	    &method, sizeof(method)) != DKIM_STAT_OK ||
	    dkim_options(a->dkim, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
	    (void *)(uintptr_t)o->dkim_keyfile, strlen(o->dkim_keyfile)) !=
	    DKIM_STAT_OK)
		goto fail;
	return 0;
fail:
	snprintf(err, errsize, "libopendkim: cannot set options");
	return -1;
}

static int
dns_setup(struct align *a, const struct align_opts *o, char *err,
    size_t errsize)
{
	SPF_dns_server_t *below = o->dns;

	if (below != NULL && !o->cache) {
		a->dns = below;
		return 0;
	}
	if (below == NULL &&
	    (below = a->own_resolv = SPF_dns_resolv_new(NULL, "resolv", 0)) ==
	    NULL) {
		snprintf(err, errsize, "libspf2: cannot initialise the resolver");
		return -1;
	}
	a->own_cache = SPF_dns_cache_new(below, "cache", 0, ALIGN_CACHE_BITS);
	if (a->own_cache == NULL) {
		snprintf(err, errsize, "libspf2: cannot create the DNS cache");
		return -1;
	}
	/* Answers live for their own TTL but at least ALIGN_MIN_TTL: libspf2's
	 * resolver layer records no TTL (every answer has 0, which the cache
	 * keeps for the rest of the current second only); failures for
	 * ALIGN_ERR_TTL. */
	SPF_dns_cache_set_ttl(a->own_cache, ALIGN_MIN_TTL, ALIGN_ERR_TTL, 0, 0);
	a->dns = a->own_cache;
	return 0;
}

struct align *
align_new(const struct align_opts *o, char *err, size_t errsize)
{
	struct align *a = xcalloc(1, sizeof(*a));

	pthread_mutex_init(&a->memo_lock, NULL);
	if (dns_setup(a, o, err, errsize) < 0)
		goto fail;
	if ((a->spf = SPF_server_new_dns(a->dns, 0)) == NULL) {
		snprintf(err, errsize, "libspf2: cannot create an SPF server");
		goto fail;
	}
	if (dkim_setup(a, o, err, errsize) < 0)
		goto fail;
	a->own_psl = psl_latest(NULL);
	a->psl = a->own_psl ? a->own_psl : psl_builtin();
	if (a->psl == NULL) {
		snprintf(err, errsize, "libpsl: no public suffix list (install "
		    "the publicsuffix package)");
		goto fail;
	}
	return a;
fail:
	align_free(a);
	return NULL;
}

void
align_free(struct align *a)
{
	if (a == NULL)
		return;
	if (a->spf)
		SPF_server_free(a->spf);
	if (a->own_cache) {
		/* SPF_dns_free() frees the layers below: keep an injected one */
		if (a->own_resolv == NULL)
			a->own_cache->layer_below = NULL;
		SPF_dns_free(a->own_cache);
	} else if (a->own_resolv)
		SPF_dns_free(a->own_resolv);
	if (a->dkim)
		dkim_close(a->dkim);
	if (a->own_psl)
		psl_free(a->own_psl);
	pthread_mutex_destroy(&a->memo_lock);
	free(a);
}

SPF_dns_server_t *
align_dns(struct align *a)
{
	return a->dns;
}

void *
align_dkimlib(struct align *a)
{
	return a->dkim;
}

void
align_org_domain(const struct align *a, const char *domain, char *out,
    size_t size)
{
	const char *reg = psl_registrable_domain(a->psl, domain);

	xstrlcpy(out, reg ? reg : domain, size);
}

const char *
align_spf_include(const struct account *acct)
{
	if (acct == NULL)
		return NULL;
	if (acct->spf_include && *acct->spf_include)
		return acct->spf_include;
	return acct->preset ? acct->preset->spf_include : NULL;
}

const char *
align_dkim_domain(const struct account *acct)
{
	const char *d;

	if (acct == NULL)
		return NULL;
	if (acct->dkim_domain && *acct->dkim_domain)
		return acct->dkim_domain;
	d = acct->preset ? acct->preset->dkim_domain : NULL;
	if (d == NULL || *d == '\0' || strcmp(d, "*") == 0)
		return NULL;
	return d;
}

/*
 * DNS: TXT records starting with prefix.  1 and the record in out, 0 when
 * there is none (or more than one: both SPF and DMARC then ignore them),
 * -1 on a DNS failure.
 */
static int
dns_txt(struct align *a, const char *name, const char *prefix, char *out,
    size_t size)
{
	SPF_dns_rr_t *rr;
	size_t plen = strlen(prefix);
	int found = 0, ret;

	rr = SPF_dns_lookup(a->dns, name, ns_t_txt, 1);
	if (rr == NULL)
		return -1;
	if (rr->herrno == TRY_AGAIN || rr->herrno == NO_RECOVERY) {
		SPF_dns_rr_free(rr);
		return -1;
	}
	for (int i = 0; rr->herrno == NETDB_SUCCESS && i < rr->num_rr; i++) {
		const char *t = rr->rr[i]->txt;

		if (strncasecmp(t, prefix, plen) != 0 ||
		    (t[plen] != '\0' && t[plen] != ' ' && t[plen] != ';'))
			continue;
		if (found++ == 0)
			xstrlcpy(out, t, size);
	}
	ret = found == 1;
	SPF_dns_rr_free(rr);
	return ret;
}

/* The first ip4 (else ip6) a provider's SPF record authorises, following
 * include:/redirect= depth levels deep. */
static int
provider_ip(struct align *a, const char *name, int depth, char *ip,
    size_t size)
{
	char rec[1024], *save = NULL, *tok;
	char next[4][DOMAIN_MAX + 1];
	size_t nnext = 0;
	int r;

	if ((r = dns_txt(a, name, "v=spf1", rec, sizeof(rec))) <= 0)
		return r;
	*ip = '\0';
	for (tok = strtok_r(rec, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		const char *arg = NULL;

		if (*tok == '+')
			tok++;
		if (strncasecmp(tok, "ip4:", 4) == 0) {
			xstrlcpy(ip, tok + 4, size);
			break;
		}
		if (strncasecmp(tok, "ip6:", 4) == 0 && *ip == '\0')
			xstrlcpy(ip, tok + 4, size);
		else if (strncasecmp(tok, "include:", 8) == 0)
			arg = tok + 8;
		else if (strncasecmp(tok, "redirect=", 9) == 0)
			arg = tok + 9;
		if (arg && nnext < 4)
			xstrlcpy(next[nnext++], arg, sizeof(next[0]));
	}
	if (*ip) {
		ip[strcspn(ip, "/")] = '\0';
		return 1;
	}
	for (size_t i = 0; depth > 0 && i < nnext; i++)
		if ((r = provider_ip(a, next[i], depth - 1, ip, size)) != 0)
			return r;
	return 0;
}

static int
spf_verdict(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return AV_PASS;
	case SPF_RESULT_FAIL:		return AV_FAIL;
	case SPF_RESULT_SOFTFAIL:	return AV_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return AV_NEUTRAL;
	case SPF_RESULT_NONE:		return AV_NONE;
	case SPF_RESULT_TEMPERROR:	return AV_TEMPERROR;
	case SPF_RESULT_PERMERROR:	return AV_PERMERROR;
	default:			return AV_UNKNOWN;
	}
}

/* libspf2: the policy of from's domain for r->spf_ip. */
static int
spf_eval(struct align *a, const char *from, struct align_result *r)
{
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t e;
	int v;

	req = SPF_request_new(a->spf);
	if ((strchr(r->spf_ip, ':') ?
	    SPF_request_set_ipv6_str(req, r->spf_ip) :
	    SPF_request_set_ipv4_str(req, r->spf_ip)) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, from) != 0) {
		SPF_request_free(req);
		return AV_PERMERROR;
	}
	e = SPF_request_query_mailfrom(req, &resp);
	v = resp ? spf_verdict(SPF_response_result(resp)) : AV_TEMPERROR;
	/* libspf2 leaves the result "invalid" when DNS failed. */
	if (v == AV_UNKNOWN)
		v = e == SPF_E_DNS_ERROR ? AV_TEMPERROR : AV_PERMERROR;
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	return v;
}

static struct spf_memo *
memo_slot(struct align *a, const char *key)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &a->memo[h % ALIGN_SPF_SLOTS];
}

/* The verdict (in *v) and address of an SPF check of key less than
 * ALIGN_SPF_REUSE seconds old: 1, else 0. */
static int
memo_get(struct align *a, const char *key, int *v, struct align_result *r)
{
	struct spf_memo *m = memo_slot(a, key);
	time_t now = time(NULL);
	int hit = 0;

	pthread_mutex_lock(&a->memo_lock);
	if (m->at != 0 && now >= m->at && now - m->at < ALIGN_SPF_REUSE &&
	    strcmp(m->key, key) == 0) {
		xstrlcpy(r->spf_ip, m->ip, sizeof(r->spf_ip));
		*v = m->verdict;
		hit = 1;
	}
	pthread_mutex_unlock(&a->memo_lock);
	return hit;
}

/* Remember a verdict (not a DNS failure: that is retried each time). */
static void
memo_put(struct align *a, const char *key, int verdict,
    const struct align_result *r)
{
	struct spf_memo *m = memo_slot(a, key);

	if (verdict == AV_TEMPERROR)
		return;
	pthread_mutex_lock(&a->memo_lock);
	xstrlcpy(m->key, key, sizeof(m->key));
	xstrlcpy(m->ip, r->spf_ip, sizeof(m->ip));
	m->verdict = verdict;
	m->at = time(NULL);
	pthread_mutex_unlock(&a->memo_lock);
}

/* SPF of the envelope domain for the provider's address; the same
 * sender and provider within ALIGN_SPF_REUSE seconds get the verdict of
 * the first check. */
static int
spf_check(struct align *a, const struct align_input *in,
    struct align_result *r)
{
	char from[ADDR_KEY_MAX + 16], key[sizeof(a->memo[0].key)];
	int v, ipr, memo;

	if (in->spf_include == NULL || *in->spf_include == '\0')
		return AV_UNKNOWN;
	if (in->env_addr && strchr(in->env_addr, '@'))
		xstrlcpy(from, in->env_addr, sizeof(from));
	else
		snprintf(from, sizeof(from), "postmaster@%s", in->env_domain);
	memo = (size_t)snprintf(key, sizeof(key), "%s\n%s", from,
	    in->spf_include) < sizeof(key);
	if (memo && memo_get(a, key, &v, r))
		return v;
	ipr = provider_ip(a, in->spf_include, ALIGN_INCLUDE_DEPTH, r->spf_ip,
	    sizeof(r->spf_ip));
	if (ipr <= 0)
		return ipr < 0 ? AV_TEMPERROR : AV_UNKNOWN;
	v = spf_eval(a, from, r);
	if (memo)
		memo_put(a, key, v, r);
	return v;
}


struct dmarc_rec {
	char	 p[12], sp[12];
	int	 adkim_strict, aspf_strict;
};

/* Parse "v=DMARC1; p=reject; adkim=s".  -1 if not a DMARC record. */
static int
dmarc_parse(char *rec, struct dmarc_rec *d)
{
	char *save = NULL, *tag;
	int first = 1;

	memset(d, 0, sizeof(*d));
	for (tag = strtok_r(rec, ";", &save); tag;
	    tag = strtok_r(NULL, ";", &save), first = 0) {
		char *eq = strchr(tag, '='), *k, *v;

		if (eq == NULL)
			continue;
		*eq = '\0';
		k = str_trim(tag);
		v = str_trim(eq + 1);
		if (first && (strcasecmp(k, "v") != 0 ||
		    strcasecmp(v, "DMARC1") != 0))
			return -1;
		if (strcasecmp(k, "p") == 0)
			xstrlcpy(d->p, str_lower(v), sizeof(d->p));
		else if (strcasecmp(k, "sp") == 0)
			xstrlcpy(d->sp, str_lower(v), sizeof(d->sp));
		else if (strcasecmp(k, "adkim") == 0)
			d->adkim_strict = strcasecmp(v, "s") == 0;
		else if (strcasecmp(k, "aspf") == 0)
			d->aspf_strict = strcasecmp(v, "s") == 0;
	}
	return first ? -1 : 0;
}

static int
valid_policy(const char *p)
{
	return strcmp(p, "none") == 0 || strcmp(p, "quarantine") == 0 ||
	    strcmp(p, "reject") == 0;
}

/* The From domain's DMARC record, or its organizational domain's
 * (RFC 7489 6.6.3).  1 found, 0 none, -1 DNS failure. */
static int
dmarc_lookup(struct align *a, const char *from, struct align_result *r)
{
	char name[DOMAIN_MAX + 16], rec[1024], org[DOMAIN_MAX + 1];
	struct dmarc_rec d;
	const char *at = from;
	int f;

	snprintf(name, sizeof(name), "_dmarc.%s", from);
	f = dns_txt(a, name, "v=DMARC1", rec, sizeof(rec));
	if (f == 0) {
		align_org_domain(a, from, org, sizeof(org));
		if (strcmp(org, from) == 0)
			return 0;
		at = org;
		snprintf(name, sizeof(name), "_dmarc.%s", org);
		f = dns_txt(a, name, "v=DMARC1", rec, sizeof(rec));
	}
	if (f <= 0)
		return f;
	if (dmarc_parse(rec, &d) < 0)
		return 0;
	xstrlcpy(r->dmarc_domain, at, sizeof(r->dmarc_domain));
	/* An invalid p= is p=none (6.6.3 step 6, as for a record with rua). */
	xstrlcpy(r->policy, valid_policy(d.p) ? d.p : "none",
	    sizeof(r->policy));
	if (at != from && valid_policy(d.sp))
		xstrlcpy(r->policy, d.sp, sizeof(r->policy));
	r->adkim_strict = d.adkim_strict;
	r->aspf_strict = d.aspf_strict;
	return 1;
}

static int
aligned(struct align *a, const char *d1, const char *d2, int strict)
{
	char o1[DOMAIN_MAX + 1], o2[DOMAIN_MAX + 1];

	if (d1 == NULL || d2 == NULL || *d1 == '\0' || *d2 == '\0')
		return 0;
	if (strcasecmp(d1, d2) == 0)
		return 1;
	if (strict)
		return 0;
	align_org_domain(a, d1, o1, sizeof(o1));
	align_org_domain(a, d2, o2, sizeof(o2));
	return strcasecmp(o1, o2) == 0;
}

/* DKIM: the provider's signature and every verified one; the aligned
 * d= is the one shown. */
static void
dkim_check(struct align *a, const struct align_input *in,
    struct align_result *r)
{
	const char *doms[ALIGN_MAX_SIGS + 1];
	size_t n = 0;

	if (in->dkim_domain && *in->dkim_domain)
		doms[n++] = in->dkim_domain;
	for (size_t i = 0; i < in->nsig && i < ALIGN_MAX_SIGS; i++)
		doms[n++] = in->sig_domains[i];
	r->dkim = n ? AV_PASS : in->sig_temperror ? AV_TEMPERROR : AV_NONE;
	if (n)
		xstrlcpy(r->dkim_domain, doms[0], sizeof(r->dkim_domain));
	for (size_t i = 0; i < n; i++)
		if (aligned(a, doms[i], in->from_domain, r->adkim_strict)) {
			r->dkim_aligned = 1;
			xstrlcpy(r->dkim_domain, doms[i], sizeof(r->dkim_domain));
			break;
		}
}

static void
explain(const struct align_input *in, struct align_result *r)
{
	const char *spf = align_verdict_name(r->spf);

	if (r->dmarc == AV_TEMPERROR) {
		snprintf(r->why, sizeof(r->why), "DNS lookup failed while "
		    "checking DMARC for %s (spf=%s, dkim=%s)", in->from_domain,
		    spf, align_verdict_name(r->dkim));
		return;
	}
	char nokey[DOMAIN_MAX + 64] = "";

	if (in->sig_nokey && *in->sig_nokey)
		snprintf(nokey, sizeof(nokey), "%skey record %s does not exist",
		    r->dkim == AV_PASS ? "; " : ": ", in->sig_nokey);
	snprintf(r->why, sizeof(r->why), "From domain %s publishes DMARC "
	    "p=%s%s but neither SPF (%s for %s%s) nor DKIM (%s%s%s%s) aligns "
	    "with it", in->from_domain, r->policy,
	    r->adkim_strict || r->aspf_strict ? " (strict)" : "", spf,
	    in->env_domain ? in->env_domain : "",
	    r->spf == AV_PASS ? ", not aligned" : "",
	    r->dkim == AV_PASS ? "d=" : align_verdict_name(r->dkim),
	    r->dkim == AV_PASS ? r->dkim_domain : "",
	    r->dkim == AV_PASS ? ", not aligned" : "", nokey);
}

int
align_check(struct align *a, const struct align_input *in,
    struct align_result *r)
{
	int rec;

	memset(r, 0, sizeof(*r));
	r->spf = spf_check(a, in, r);
	rec = in->from_domain ? dmarc_lookup(a, in->from_domain, r) : 0;
	dkim_check(a, in, r);
	r->spf_aligned = r->spf == AV_PASS &&
	    aligned(a, in->env_domain, in->from_domain, r->aspf_strict);
	if (rec < 0)
		r->dmarc = AV_TEMPERROR;
	else if (rec == 0)
		r->dmarc = AV_NONE;
	else if (r->spf_aligned || r->dkim_aligned)
		r->dmarc = AV_PASS;
	else if (r->spf == AV_TEMPERROR || r->dkim == AV_TEMPERROR)
		r->dmarc = AV_TEMPERROR;
	else
		r->dmarc = AV_FAIL;
	if (r->dmarc == AV_FAIL || r->dmarc == AV_TEMPERROR)
		explain(in, r);
	return r->dmarc;
}

char *
align_format(const struct align_result *r, char *buf, size_t size)
{
	char dkim[DOMAIN_MAX + 32] = "", dmarc[64] = "";

	if (r->dkim == AV_PASS)
		snprintf(dkim, sizeof(dkim), " (d=%s)", r->dkim_domain);
	if (r->dmarc != AV_NONE && r->dmarc != AV_TEMPERROR)
		snprintf(dmarc, sizeof(dmarc), " (p=%s)", r->policy);
	snprintf(buf, size, "spf=%s; dkim=%s%s; dmarc=%s%s",
	    align_verdict_name(r->spf), align_verdict_name(r->dkim), dkim,
	    align_verdict_name(r->dmarc), dmarc);
	return buf;
}

int
align_route_input(const struct route *r, const char *from_key,
    struct align_input *in)
{
	const char *at = r->login ? strrchr(r->login, '@') : NULL;
	const char *login_dom = at ? at + 1 : r->sender.domain;
	const char *fat = from_key ? strrchr(from_key, '@') : NULL;
	int env = r->rewrite && r->envelope_differs && r->login;
	int from = r->rewrite && r->login && from_key &&
	    strcasecmp(from_key, r->login) != 0;

	memset(in, 0, sizeof(*in));
	in->env_addr = env ? r->login : r->sender_key;
	in->env_domain = env ? login_dom : r->sender.domain;
	in->from_domain = from ? login_dom : fat ? fat + 1 : NULL;
	in->spf_include = align_spf_include(r->account);
	in->dkim_domain = align_dkim_domain(r->account);
	return from;
}

int
align_refuses(const struct align_result *r)
{
	if (r->dmarc == AV_TEMPERROR)
		return 2;
	return r->dmarc == AV_FAIL && strcmp(r->policy, "none") != 0;
}
