/*
 * Unit tests for lib/replyto.c: when a rewritten From: gets Reply-To:.
 *
 * DNS is a libspf2 zone (no network): an MX, a null MX, a domain with
 * only an A or only an AAAA record, one that does not exist, one whose
 * lookups fail.  Each case asserts the outcome, its log token and its
 * explanation.
 */
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "conf.h"
#include "replyto.h"
#include "route.h"

static const struct {
	const char *name;
	ns_type type;
	int herrno;
	const char *data;
} zone[] = {
	{ "mx.test", ns_t_mx, NETDB_SUCCESS, "mail.mx.test" },
	{ "nullmx.test", ns_t_mx, NETDB_SUCCESS, "." },
	{ "nullmx.test", ns_t_a, NETDB_SUCCESS, "192.0.2.9" },
	{ "aonly.test", ns_t_mx, NO_DATA, NULL },
	{ "aonly.test", ns_t_a, NETDB_SUCCESS, "192.0.2.10" },
	{ "v6only.test", ns_t_mx, NO_DATA, NULL },
	{ "v6only.test", ns_t_a, NO_DATA, NULL },
	{ "v6only.test", ns_t_aaaa, NETDB_SUCCESS, "2001:db8::25" },
	{ "bare.test", ns_t_mx, NO_DATA, NULL },
	{ "bare.test", ns_t_a, NO_DATA, NULL },
	{ "bare.test", ns_t_aaaa, NO_DATA, NULL },
	{ "down.test", ns_t_any, TRY_AGAIN, NULL },
	{ "office.lan", ns_t_mx, NETDB_SUCCESS, "mail.office.lan" },
};

struct fixture {
	SPF_dns_server_t *dns;
	struct conf	*conf;
};

static int
setup(void **state)
{
	static struct fixture f;

	f.dns = SPF_dns_zone_new(NULL, "zone", 0);
	assert_non_null(f.dns);
	for (size_t i = 0; i < sizeof(zone) / sizeof(zone[0]); i++)
		assert_int_equal(SPF_dns_zone_add_str(f.dns, zone[i].name,
		    zone[i].type, zone[i].herrno, zone[i].data),
		    SPF_E_SUCCESS);
	assert_int_equal(SPF_dns_zone_add_str(f.dns, "*", ns_t_any,
	    HOST_NOT_FOUND, NULL), SPF_E_SUCCESS);
	f.conf = conf_defaults();
	strlist_add(&f.conf->local_domains, "office.lan");
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	SPF_dns_free(f->dns);
	conf_free(f->conf);
	return 0;
}

static void
test_receives(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *domain; int want; } cases[] = {
		{ "mx.test", 1 },
		{ "nullmx.test", 0 },	/* RFC 7505: no A/AAAA fallback */
		{ "aonly.test", 1 },
		{ "v6only.test", 1 },
		{ "bare.test", 0 },
		{ "nosuch.test", 0 },
		{ "down.test", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = replyto_domain_receives(f->dns, cases[i].domain);

		if (got != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].domain, got,
			    cases[i].want);
	}
}

static void
test_decide(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int mode, line;
		const char *domain;
		enum replyto_outcome want;
		const char *token, *why;
	} cases[] = {
		{ REPLYTO_AUTO, 0, "mx.test", RT_ADD, "added",
		  "mx.test receives mail from outside" },
		{ REPLYTO_AUTO, 0, "office.lan", RT_NONE_LOCAL,
		  "none:local-domain", "office.lan is in local-domains" },
		{ REPLYTO_AUTO, 0, "scan.office.lan", RT_NONE_LOCAL,
		  "none:local-domain", "scan.office.lan is in local-domains" },
		{ REPLYTO_AUTO, 0, "bare.test", RT_NONE_NOMAIL, "none:no-mx",
		  "bare.test has no MX or address record" },
		{ REPLYTO_AUTO, 0, "nullmx.test", RT_NONE_NOMAIL, "none:no-mx",
		  "nullmx.test has no MX or address record" },
		{ REPLYTO_AUTO, 1, "down.test", RT_NONE_DNSFAIL,
		  "none:dns-failure", "DNS failure looking up down.test" },
		{ REPLYTO_ORIGINAL, 1, "office.lan", RT_ADD, "added",
		  "the relay.map line's reply-to is original" },
		{ REPLYTO_ORIGINAL, 0, "down.test", RT_ADD, "added",
		  "[milter] reply-to is original" },
		{ REPLYTO_NONE, 0, "mx.test", RT_NONE_OPTION, "none:option",
		  "[milter] reply-to is none" },
		{ REPLYTO_NONE, 1, "mx.test", RT_NONE_OPTION, "none:option",
		  "the relay.map line's reply-to is none" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct route r = { .reply_to = cases[i].mode,
		    .reply_to_line = cases[i].line };
		enum replyto_outcome o = replyto_decide(f->conf, &r,
		    cases[i].domain, f->dns);

		if (o != cases[i].want)
			fail_msg("case %zu (%s): outcome %d, want %d", i,
			    cases[i].domain, (int)o, (int)cases[i].want);
		assert_string_equal(replyto_token(o), cases[i].token);
		assert_string_equal(replyto_explain(o, &r, cases[i].domain,
		    why, sizeof(why)), cases[i].why);
	}
}

/* original and none never look anything up. */
static void
test_no_dns(void **state)
{
	struct fixture *f = *state;
	struct route r = { .reply_to = REPLYTO_ORIGINAL };

	assert_int_equal(replyto_decide(f->conf, &r, "mx.test", NULL), RT_ADD);
	r.reply_to = REPLYTO_NONE;
	assert_int_equal(replyto_decide(f->conf, &r, "mx.test", NULL),
	    RT_NONE_OPTION);
	assert_true(replyto_local(f->conf, "office.lan"));
	assert_false(replyto_local(f->conf, "notoffice.lan"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_receives),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_no_dns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
