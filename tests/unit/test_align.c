/*
 * Unit tests for lib/align.c and lib/dkimcheck.c: the DMARC matrix.
 *
 * DNS is a libspf2 zone (no network); DKIM keys are made at test time with
 * OpenSSL and served to libopendkim from a key file in a temp dir.  Each
 * case asserts the exact verdict line the trace header would carry.
 */
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "align.h"
#include "dkimcheck.h"
#include "route.h"
#include "util.h"
#include "verdict.h"

static const struct { const char *name, *txt; int herrno; } zone[] = {
	{ "spf.163.test", "v=spf1 include:a.spf.163.test -all", 0 },
	{ "a.spf.163.test", "v=spf1 ip4:203.0.113.0/24 -all", 0 },
	{ "163.test", "v=spf1 include:spf.163.test -all", 0 },
	{ "_dmarc.163.test", "v=DMARC1; p=none", 0 },
	{ "spf.ent.test", "v=spf1 ip4:198.51.100.7 ip4:198.51.100.8 -all", 0 },
	{ "company.test", "v=spf1 include:spf.ent.test -all", 0 },
	{ "_dmarc.company.test", "v=DMARC1; p=reject; rua=mailto:d@company.test", 0 },
	{ "noinc.test", "v=spf1 ip4:192.0.2.1 -all", 0 },
	{ "_dmarc.noinc.test", "v=DMARC1; p=quarantine", 0 },
	{ "soft.test", "v=spf1 ip4:192.0.2.1 ~all", 0 },
	{ "_dmarc.soft.test", "v=DMARC1; p=reject", 0 },
	{ "signed.test", "v=spf1 ip4:192.0.2.1 -all", 0 },
	{ "_dmarc.signed.test", "v=DMARC1; p=reject", 0 },
	{ "strictfrom.test", "v=spf1 -all", 0 },
	{ "_dmarc.strictfrom.test", "v=DMARC1; p=reject; adkim=s; aspf=s", 0 },
	{ "relaxed.test", "v=spf1 include:spf.ent.test -all", 0 },
	{ "_dmarc.relaxed.test", "v=DMARC1; p=reject; sp=quarantine", 0 },
	{ "strict.test", "v=spf1 include:spf.ent.test -all", 0 },
	{ "_dmarc.strict.test", "v=DMARC1; p=reject; aspf=s; adkim=s", 0 },
	{ "nodmarc.test", "v=spf1 include:spf.ent.test -all", 0 },
	{ "ownspf.test", "v=spf1 ip4:192.0.2.1 -all", 0 },
	{ "_dmarc.ownspf.test", "v=DMARC1; p=reject", 0 },
	{ "broken.test", NULL, TRY_AGAIN },
	{ "_dmarc.broken.test", NULL, TRY_AGAIN },
	{ "spf.down.test", NULL, TRY_AGAIN },
};

enum sig { SIG_NONE, SIG_GOOD, SIG_TAMPERED };

static const struct {
	const char *what;
	const char *env, *from, *include, *dkim;
	enum sig sig;
	int dmarc;
	const char *trace;
} cases[] = {
	{ "consumer account sender", "boss@163.test", "163.test",
	  "spf.163.test", "163.test", SIG_NONE, AV_PASS,
	  "spf=pass; dkim=pass (d=163.test); dmarc=pass (p=none)" },
	{ "custom domain, enterprise provider, SPF include",
	  "sales@company.test", "company.test", "spf.ent.test", NULL,
	  SIG_NONE, AV_PASS,
	  "spf=pass; dkim=none; dmarc=pass (p=reject)" },
	{ "custom domain, enterprise provider, no SPF include",
	  "sales@noinc.test", "noinc.test", "spf.ent.test", NULL,
	  SIG_NONE, AV_FAIL,
	  "spf=fail; dkim=none; dmarc=fail (p=quarantine)" },
	{ "custom domain, softfail", "sales@soft.test", "soft.test",
	  "spf.ent.test", NULL, SIG_NONE, AV_FAIL,
	  "spf=softfail; dkim=none; dmarc=fail (p=reject)" },
	{ "custom domain, provider signs with the customer's domain",
	  "sales@noinc.test", "noinc.test", "spf.ent.test", "noinc.test",
	  SIG_NONE, AV_PASS,
	  "spf=fail; dkim=pass (d=noinc.test); dmarc=pass (p=quarantine)" },
	{ "locally DKIM-signed custom domain", "sales@signed.test",
	  "signed.test", "spf.ent.test", NULL, SIG_GOOD, AV_PASS,
	  "spf=fail; dkim=pass (d=signed.test); dmarc=pass (p=reject)" },
	{ "locally signed, body changed after signing", "sales@signed.test",
	  "signed.test", "spf.ent.test", NULL, SIG_TAMPERED, AV_FAIL,
	  "spf=fail; dkim=none; dmarc=fail (p=reject)" },
	{ "locally signed, rewritten to a consumer account",
	  "boss@163.test", "signed.test", "spf.163.test", "163.test",
	  SIG_GOOD, AV_PASS,
	  "spf=pass; dkim=pass (d=signed.test); dmarc=pass (p=reject)" },
	{ "From domain with strict DMARC via a consumer account",
	  "boss@163.test", "strictfrom.test", "spf.163.test", "163.test",
	  SIG_NONE, AV_FAIL,
	  "spf=pass; dkim=pass (d=163.test); dmarc=fail (p=reject)" },
	{ "subdomain From, relaxed: organizational record, sp=",
	  "news@relaxed.test", "news.relaxed.test", "spf.ent.test", NULL,
	  SIG_NONE, AV_PASS,
	  "spf=pass; dkim=none; dmarc=pass (p=quarantine)" },
	{ "subdomain From, strict aspf", "news@strict.test",
	  "news.strict.test", "spf.ent.test", NULL, SIG_NONE, AV_FAIL,
	  "spf=pass; dkim=none; dmarc=fail (p=reject)" },
	{ "subdomain From, strict, provider signs the parent",
	  "news@strict.test", "news.strict.test", "spf.ent.test",
	  "strict.test", SIG_NONE, AV_FAIL,
	  "spf=pass; dkim=pass (d=strict.test); dmarc=fail (p=reject)" },
	{ "no DMARC record", "a@nodmarc.test", "nodmarc.test",
	  "spf.ent.test", NULL, SIG_NONE, AV_NONE,
	  "spf=pass; dkim=none; dmarc=none" },
	{ "provider SPF unknown", "a@company.test", "company.test", NULL,
	  NULL, SIG_NONE, AV_FAIL,
	  "spf=unknown; dkim=none; dmarc=fail (p=reject)" },
	{ "DNS failure on the sender's domain", "a@broken.test",
	  "broken.test", "spf.ent.test", NULL, SIG_NONE, AV_TEMPERROR,
	  "spf=temperror; dkim=none; dmarc=temperror" },
	{ "DNS failure on the provider's include", "a@company.test",
	  "company.test", "spf.down.test", NULL, SIG_NONE, AV_TEMPERROR,
	  "spf=temperror; dkim=none; dmarc=temperror" },
};

struct fixture {
	SPF_dns_server_t *zone;
	struct align	*align;
	char		 dir[64], keyfile[96];
	char		*privkey;	/* PEM */
	char		*keytxt;	/* its key record */
};

static void
make_key(struct fixture *f)
{
	EVP_PKEY *k = EVP_RSA_gen(1024);
	unsigned char *der = NULL, b64[1024];
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int len;
	FILE *fp;

	assert_non_null(k);
	len = i2d_PUBKEY(k, &der);
	assert_true(len > 0 && (size_t)len < sizeof(b64) * 3 / 4);
	EVP_EncodeBlock(b64, der, len);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	n = BIO_get_mem_data(bio, &pem);
	f->privkey = xstrndup(pem, (size_t)n);
	snprintf(f->keyfile, sizeof(f->keyfile), "%s/keys", f->dir);
	assert_non_null(fp = fopen(f->keyfile, "w"));
	f->keytxt = xasprintf("v=DKIM1; k=rsa; p=%s", b64);
	fprintf(fp, "sel._domainkey.signed.test %s\n", f->keytxt);
	fclose(fp);
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(k);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct align_opts o = { 0 };
	char err[256];

	xstrlcpy(f->dir, "/tmp/test_align.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	make_key(f);
	f->zone = SPF_dns_zone_new(NULL, "zone", 0);
	assert_non_null(f->zone);
	for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		assert_int_equal(SPF_dns_zone_add_str(f->zone, zone[i].name,
		    zone[i].txt ? ns_t_txt : ns_t_any,
		    zone[i].txt ? NETDB_SUCCESS : zone[i].herrno,
		    zone[i].txt), SPF_E_SUCCESS);
	assert_int_equal(SPF_dns_zone_add_str(f->zone, "*", ns_t_any,
	    HOST_NOT_FOUND, NULL), SPF_E_SUCCESS);
	o.dns = f->zone;
	o.dkim_keyfile = f->keyfile;
	f->align = align_new(&o, err, sizeof(err));
	if (f->align == NULL)
		fail_msg("align_new: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	align_free(f->align);
	SPF_dns_free(f->zone);
	free(f->privkey);
	free(f->keytxt);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

static const char *const msg_headers[] = {
	"From", " Sales <sales@signed.test>",
	"To", " someone@example.net",
	"Subject", " quarterly\r\n\tfigures",
	"Date", " Sun, 22 Nov 2026 02:00:00 +0000",
};
static const char msg_body[] = "Hello,\r\n\r\nthe figures.\r\n";

/* Sign the test message with libopendkim; returns the header value. */
static char *
sign(struct fixture *f, const char *sel)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM_STAT st;
	DKIM *d;
	unsigned char hdr[2048];
	char buf[1024];

	assert_non_null(lib);
	d = dkim_sign(lib, (const unsigned char *)"t", NULL,
	    (unsigned char *)f->privkey, (const unsigned char *)sel,
	    (const unsigned char *)"signed.test", DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	assert_non_null(d);
	for (size_t i = 0; i < 8; i += 2) {
		snprintf(buf, sizeof(buf), "%s:%s", msg_headers[i],
		    msg_headers[i + 1]);
		assert_int_equal(dkim_header(d, (unsigned char *)buf,
		    strlen(buf)), DKIM_STAT_OK);
	}
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	assert_int_equal(dkim_body(d, (unsigned char *)msg_body,
	    strlen(msg_body)), DKIM_STAT_OK);
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	assert_int_equal(dkim_getsighdr(d, hdr, sizeof(hdr),
	    strlen("DKIM-Signature: ")), DKIM_STAT_OK);
	dkim_free(d);
	dkim_close(lib);
	return xasprintf(" %s", hdr);
}

/* Folded lines as Postfix hands them to a milter: LF, not CRLF. */
static char *
lf_only(const char *s)
{
	char *out = xstrdup(s), *o = out;

	for (; *s; s++)
		if (*s != '\r')
			*o++ = *s;
	*o = '\0';
	return out;
}

/* What the milter does: feed the message signed with selector sel,
 * collect verified d= (keys as align a finds them). */
static void
verify_with(struct fixture *f, struct align *a, const char *sel,
    enum sig sig, struct dkimcheck_result *res)
{
	char err[256], *sighdr = sign(f, sel), body[sizeof(msg_body)], *v;
	struct dkimcheck *c = dkimcheck_new(a, "msg", err, sizeof(err));

	if (c == NULL)
		fail_msg("dkimcheck_new: %s", err);
	assert_non_null(strchr(sighdr, '\n'));		/* folded */
	v = lf_only(sighdr);
	assert_int_equal(dkimcheck_header(c, "DKIM-Signature", v), 0);
	free(v);
	for (size_t i = 0; i < 8; i += 2) {
		v = lf_only(msg_headers[i + 1]);
		assert_int_equal(dkimcheck_header(c, msg_headers[i], v), 0);
		free(v);
	}
	assert_int_equal(dkimcheck_eoh(c), 0);
	memcpy(body, msg_body, sizeof(body));
	if (sig == SIG_TAMPERED)
		body[0] = 'J';
	assert_int_equal(dkimcheck_body(c, (unsigned char *)body,
	    strlen(body)), 0);
	assert_int_equal(dkimcheck_finish(c, res), 0);
	if (!res->temperror)	/* else libopendkim stopped at the key */
		assert_int_equal(res->nsigs, 1);
	dkimcheck_free(c);
	free(sighdr);
}

static void
verify(struct fixture *f, enum sig sig, struct dkimcheck_result *res)
{
	verify_with(f, f->align, "sel", sig, res);
}

static void
test_matrix(void **state)
{
	struct fixture *f = *state;
	struct align_input in;
	struct align_result r;
	struct dkimcheck_result dr;
	char line[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.env_addr = cases[i].env;
		in.env_domain = strchr(cases[i].env, '@') + 1;
		in.from_domain = cases[i].from;
		in.spf_include = cases[i].include;
		in.dkim_domain = cases[i].dkim;
		if (cases[i].sig != SIG_NONE) {
			verify(f, cases[i].sig, &dr);
			for (size_t j = 0; j < dr.n; j++)
				in.sig_domains[in.nsig++] = dr.domains[j];
		}
		align_check(f->align, &in, &r);
		align_format(&r, line, sizeof(line));
		if (strcmp(line, cases[i].trace) != 0 ||
		    r.dmarc != cases[i].dmarc)
			fail_msg("case \"%s\":\n  got      %s\n  expected %s",
			    cases[i].what, line, cases[i].trace);
	}
}

static void
test_explanations(void **state)
{
	struct fixture *f = *state;
	struct align_input in = {
		.env_addr = "boss@163.test", .env_domain = "163.test",
		.from_domain = "strictfrom.test", .spf_include = "spf.163.test",
		.dkim_domain = "163.test",
	};
	struct align_result r;

	assert_int_equal(align_check(f->align, &in, &r), AV_FAIL);
	assert_string_equal(r.spf_ip, "203.0.113.0");
	assert_string_equal(r.dmarc_domain, "strictfrom.test");
	assert_string_equal(r.why, "From domain strictfrom.test publishes "
	    "DMARC p=reject (strict) but neither SPF (pass for 163.test, not "
	    "aligned) nor DKIM (d=163.test, not aligned) aligns with it");
	in.env_addr = "a@broken.test";
	in.env_domain = in.from_domain = "broken.test";
	assert_int_equal(align_check(f->align, &in, &r), AV_TEMPERROR);
	assert_string_equal(r.why, "DNS lookup failed while checking DMARC "
	    "for broken.test (spf=temperror, dkim=pass)");
}

static void
test_org_domain(void **state)
{
	struct fixture *f = *state;
	static const char *const cases_org[][2] = {
		{ "news.relaxed.test", "relaxed.test" },
		{ "mail.163.com", "163.com" },
		{ "a.b.example.com.cn", "example.com.cn" },
		{ "shop.example.co.uk", "example.co.uk" },
		{ "com.cn", "com.cn" },
	};
	char out[DOMAIN_MAX + 1];

	for (size_t i = 0; i < sizeof(cases_org) / sizeof(cases_org[0]); i++) {
		align_org_domain(f->align, cases_org[i][0], out, sizeof(out));
		assert_string_equal(out, cases_org[i][1]);
	}
}

/* A DNS layer that counts the queries reaching it. */
static int nqueries;

static SPF_dns_rr_t *
count_lookup(SPF_dns_server_t *s, const char *domain, ns_type type, int cache)
{
	nqueries++;
	return SPF_dns_lookup(s->layer_below, domain, type, cache);
}

/* Answers are cached for their TTL (the zone's: a day): the same check
 * again asks DNS nothing. */
static void
test_cache(void **state)
{
	struct fixture *f = *state;
	SPF_dns_server_t counter = { .lookup = count_lookup,
	    .layer_below = f->zone, .name = "count" };
	struct align_opts o = { .dns = &counter, .cache = 1 };
	struct align_input in = {
		.env_addr = "boss@163.test", .env_domain = "163.test",
		.from_domain = "strictfrom.test", .spf_include = "spf.163.test",
		.dkim_domain = "163.test",
	};
	struct align_result r;
	struct align *a;
	char err[256];
	int first;

	if ((a = align_new(&o, err, sizeof(err))) == NULL)
		fail_msg("align_new: %s", err);
	nqueries = 0;
	assert_int_equal(align_check(a, &in, &r), AV_FAIL);
	first = nqueries;
	assert_true(first >= 4);	/* includes, SPF record, DMARC record */
	for (int i = 0; i < 50; i++)
		assert_int_equal(align_check(a, &in, &r), AV_FAIL);
	assert_int_equal(nqueries, first);
	align_free(a);			/* leaves the zone alone */
	assert_int_equal(align_check(f->align, &in, &r), AV_FAIL);
}

/* libspf2's resolver layer records no TTL: every answer comes up with
 * ttl 0, as this layer returns them. */
static SPF_dns_rr_t *
nottl_lookup(SPF_dns_server_t *s, const char *domain, ns_type type, int cache)
{
	SPF_dns_rr_t *rr;

	nqueries++;
	if ((rr = SPF_dns_lookup(s->layer_below, domain, type, cache)) != NULL)
		rr->ttl = 0;
	return rr;
}

/* Answers without a TTL (the system resolver's) are still cached: the
 * same check in a later second asks DNS nothing. */
static void
test_cache_no_ttl(void **state)
{
	struct fixture *f = *state;
	SPF_dns_server_t layer = { .lookup = nottl_lookup,
	    .layer_below = f->zone, .name = "nottl" };
	struct align_opts o = { .dns = &layer, .cache = 1 };
	struct align_input in = {
		.env_addr = "boss@163.test", .env_domain = "163.test",
		.from_domain = "strictfrom.test", .spf_include = "spf.163.test",
		.dkim_domain = "163.test",
	};
	struct align_result r;
	struct align *a;
	char err[256];
	time_t t0;
	int first;

	if ((a = align_new(&o, err, sizeof(err))) == NULL)
		fail_msg("align_new: %s", err);
	nqueries = 0;
	t0 = time(NULL);
	assert_int_equal(align_check(a, &in, &r), AV_FAIL);
	first = nqueries;
	assert_true(first >= 4);
	/* into the next second (at most 2 s) */
	for (int i = 0; i < 40 && time(NULL) <= t0 + 1; i++)
		usleep(50000);
	assert_true(time(NULL) > t0 + 1);
	assert_int_equal(align_check(a, &in, &r), AV_FAIL);
	assert_int_equal(nqueries, first);
	align_free(a);
}

/* A DNS layer that counts the SPF queries (names other than _dmarc.*). */
static int nspf;

static SPF_dns_rr_t *
spf_count_lookup(SPF_dns_server_t *s, const char *domain, ns_type type,
    int cache)
{
	if (strncmp(domain, "_dmarc.", 7) != 0)
		nspf++;
	return SPF_dns_lookup(s->layer_below, domain, type, cache);
}

/* The same sender and provider again: the SPF verdict of the first check
 * is reused (no SPF query; DMARC is looked up each time); a DNS failure
 * is not reused: the next check asks again. */
static void
test_spf_reuse(void **state)
{
	struct fixture *f = *state;
	SPF_dns_server_t counter = { .lookup = spf_count_lookup,
	    .layer_below = f->zone, .name = "spfcount" };
	struct align_opts o = { .dns = &counter };
	struct align_input in = {
		.env_addr = "boss@163.test", .env_domain = "163.test",
		.from_domain = "163.test", .spf_include = "spf.163.test",
		.dkim_domain = "163.test",
	};
	struct align_input down = {
		.env_addr = "x@company.test", .env_domain = "company.test",
		.from_domain = "company.test", .spf_include = "spf.down.test",
	};
	struct align_result r;
	struct align *a;
	char err[256];

	if ((a = align_new(&o, err, sizeof(err))) == NULL)
		fail_msg("align_new: %s", err);
	nspf = 0;
	assert_int_equal(align_check(a, &in, &r), AV_PASS);
	assert_int_equal(r.spf, AV_PASS);
	assert_true(nspf >= 3);		/* include chain, 163.test */
	nspf = 0;
	assert_int_equal(align_check(a, &in, &r), AV_PASS);
	assert_int_equal(r.spf, AV_PASS);
	assert_string_equal(r.spf_ip, "203.0.113.0");
	assert_int_equal(nspf, 0);
	in.env_addr = "other@163.test";	/* another sender: its own check */
	assert_int_equal(align_check(a, &in, &r), AV_PASS);
	assert_true(nspf >= 3);
	nspf = 0;
	align_check(a, &down, &r);
	assert_int_equal(r.spf, AV_TEMPERROR);
	assert_true(nspf >= 1);
	nspf = 0;
	align_check(a, &down, &r);
	assert_int_equal(r.spf, AV_TEMPERROR);
	assert_true(nspf >= 1);
	align_free(a);
}

/* What the provider will send: rewrite moves envelope and From: to the
 * login; the account's own spf-include/dkim-domain win over the preset. */
static void
test_route_input(void **state)
{
	struct account acct = { .name = "alerts", .spf_include = "spf.163.test",
	    .dkim_domain = "163.test" };
	struct route r = { .status = ROUTE_OK, .account = &acct,
	    .login = "alerts@163.test", .rewrite = 1, .envelope_differs = 1,
	    .sender_key = "scanner@office.test" };
	struct align_input in;

	(void)state;
	xstrlcpy(r.sender.domain, "office.test", sizeof(r.sender.domain));
	assert_int_equal(align_route_input(&r, "scanner@office.test", &in), 1);
	assert_string_equal(in.env_addr, "alerts@163.test");
	assert_string_equal(in.env_domain, "163.test");
	assert_string_equal(in.from_domain, "163.test");
	assert_string_equal(in.spf_include, "spf.163.test");
	assert_string_equal(in.dkim_domain, "163.test");
	assert_int_equal(align_route_input(&r, "alerts@163.test", &in), 0);
	r.rewrite = 0;
	assert_int_equal(align_route_input(&r, "boss@strict.test", &in), 0);
	assert_string_equal(in.env_addr, "scanner@office.test");
	assert_string_equal(in.env_domain, "office.test");
	assert_string_equal(in.from_domain, "strict.test");
	acct.dkim_domain = NULL;
	align_route_input(&r, "boss@strict.test", &in);
	assert_null(in.dkim_domain);
}

/* An account of the customer's own domain (the provider signs with
 * the customer's domain only when told to): the envelope sender is the
 * login, From: the same address, and the domain's SPF record does not
 * include the provider's.  The milter's reply says to fix that record. */
static void
test_advice(void **state)
{
	struct fixture *f = *state;
	struct account acct = { .name = "ent-ops",
	    .spf_include = "spf.163.test" };
	struct route r = { .status = ROUTE_OK, .account = &acct,
	    .login = "ops@ownspf.test", .host = "smtp.ent.test",
	    .sender_key = "ops@ownspf.test" };
	struct conf conf = { .dmarc = ACT_REJECT };
	struct align_input in;
	struct align_result al;
	struct verdict v = { .reason = NULL };
	char got[1200];

	xstrlcpy(r.sender.domain, "ownspf.test", sizeof(r.sender.domain));
	assert_int_equal(align_route_input(&r, "ops@ownspf.test", &in), 0);
	assert_int_equal(align_check(f->align, &in, &al), AV_FAIL);
	assert_int_equal(verdict_alignment(&conf, &r, &in, &al, &v), J_REJECT);
	snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
	assert_string_equal(got, "550 5.7.1 From domain ownspf.test publishes "
	    "DMARC p=reject but neither SPF (fail for ownspf.test) nor DKIM "
	    "(none) aligns with it: recipients would reject this message from "
	    "ownspf.test sent through ent-ops; add include:spf.163.test to the "
	    "SPF record of ownspf.test, or DKIM-sign its mail for ownspf.test");
	/* Another From: domain: sending as the login is the fix. */
	assert_int_equal(align_route_input(&r, "boss@strict.test", &in), 0);
	assert_int_equal(align_check(f->align, &in, &al), AV_FAIL);
	assert_int_equal(verdict_alignment(&conf, &r, &in, &al, &v), J_REJECT);
	assert_non_null(strstr(v.text, "; send as ops@ownspf.test or through "
	    "an account of strict.test"));
}

/*
 * DKIM keys from DNS (no key file): the same libspf2 layer, here the
 * zone.  A key record that does not exist (NXDOMAIN) is a permanent "no
 * key": the signature does not count, DMARC decides (a refusal under
 * p=reject, not a temperror) and the explanation names the record; a
 * lookup that fails for now (SERVFAIL) is a temperror.
 */
static void
test_dkim_dns_keys(void **state)
{
	struct fixture *f = *state;
	struct align_opts o = { .dns = f->zone };
	struct align_input in = {
		.env_addr = "sales@signed.test", .env_domain = "signed.test",
		.from_domain = "signed.test", .spf_include = "spf.163.test",
	};
	struct dkimcheck_result dr;
	struct align_result r;
	struct align *a;
	char err[256];

	assert_int_equal(SPF_dns_zone_add_str(f->zone,
	    "dns._domainkey.signed.test", ns_t_txt, NETDB_SUCCESS, f->keytxt),
	    SPF_E_SUCCESS);
	assert_int_equal(SPF_dns_zone_add_str(f->zone,
	    "down._domainkey.signed.test", ns_t_any, TRY_AGAIN, NULL),
	    SPF_E_SUCCESS);
	if ((a = align_new(&o, err, sizeof(err))) == NULL)
		fail_msg("align_new: %s", err);

	verify_with(f, a, "dns", SIG_GOOD, &dr);
	assert_int_equal(dr.n, 1);
	assert_string_equal(dr.domains[0], "signed.test");
	assert_int_equal(dr.temperror, 0);
	assert_string_equal(dr.nokey, "");

	verify_with(f, a, "gone", SIG_GOOD, &dr);	/* NXDOMAIN */
	assert_int_equal(dr.n, 0);
	assert_int_equal(dr.temperror, 0);
	assert_string_equal(dr.nokey, "gone._domainkey.signed.test");
	in.sig_temperror = dr.temperror;
	in.sig_nokey = dr.nokey;
	assert_int_equal(align_check(a, &in, &r), AV_FAIL);
	assert_int_equal(align_refuses(&r), 1);
	assert_string_equal(r.why, "From domain signed.test publishes DMARC "
	    "p=reject but neither SPF (fail for signed.test) nor DKIM (none: "
	    "key record gone._domainkey.signed.test does not exist) aligns "
	    "with it");

	/* The same from a key file without that selector. */
	verify_with(f, f->align, "gone", SIG_GOOD, &dr);
	assert_int_equal(dr.temperror, 0);
	assert_string_equal(dr.nokey, "gone._domainkey.signed.test");

	verify_with(f, a, "down", SIG_GOOD, &dr);	/* SERVFAIL */
	assert_int_equal(dr.n, 0);
	assert_int_equal(dr.temperror, 1);
	assert_string_equal(dr.nokey, "");
	in.sig_temperror = dr.temperror;
	in.sig_nokey = NULL;
	assert_int_equal(align_check(a, &in, &r), AV_TEMPERROR);
	assert_int_equal(align_refuses(&r), 2);
	align_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_explanations),
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_route_input),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_no_ttl),
		cmocka_unit_test(test_spf_reuse),
		cmocka_unit_test(test_advice),
		cmocka_unit_test(test_dkim_dns_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
