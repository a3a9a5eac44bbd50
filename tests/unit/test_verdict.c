/*
 * Unit tests for lib/verdict.c: the milter's decision steps on routes
 * from a configuration written to a temporary directory, one table row
 * per case with the exact reply: the envelope steps (bad address, null
 * sender, no route under each action, allowed-users with a SASL login,
 * without one and not known, the provider's sender rule with and without
 * rewrite), the From: check, and the alignment step on fixed results
 * (with the fix it names: "send as" the login, or the domain's SPF
 * record when the envelope already is the login); SMTPUTF8 (a UTF-8
 * sender, the parameter) and the recipient step (a client neither
 * authenticated nor internal, a UTF-8 recipient).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "verdict.h"

#include "conf_fixture.h"

static const char map_text[] =
    "boss@163.com         boss@163.com\n"
    "printer@office.test  alerts@163.com\n"
    "scanner@office.test  alerts@163.com   rewrite\n"
    "team@163.com         team@163.com\n"
    "ops@company.test     ent-ops\n";

static struct config *
load(const char *milter_section)
{
	struct config *c;
	char *text;

	text = xasprintf("[milter]\n%s"
	    "[account team@163.com]\nallowed-users = alice\n"
	    "[account ent-ops]\nprovider = exmail.qq.com\n"
	    "login = ops@company.test\n", milter_section);
	c = fixture_load(text, map_text, 0);
	free(text);
	return c;
}

static int
setup(void **state)
{
	return fixture_setup("/tmp/test_verdict.XXXXXX");
}

struct env_case {
	const char	*milter;	/* [milter] lines */
	const char	*sender;
	const char	*auth;		/* NULL: not known */
	enum judgement	 want;
	const char	*reply;		/* "553 5.7.1 text", NULL: none */
	const char	*reason;
};

static const struct env_case env_cases[] = {
	{ "", "<boss@163.com>", "", J_CONTINUE, NULL, NULL },
	{ "", "<>", "", J_ACCEPT, NULL, "null sender" },
	{ "", "<a b@c>", "", J_REJECT, "553 5.1.7 bad sender address <a b@c>: ",
	    "bad sender address" },
	{ "", "<x@elsewhere.test>", "", J_REJECT, "550 5.7.1 no route for "
	    "sender x@elsewhere.test in relay.map: add a line for "
	    "x@elsewhere.test, @elsewhere.test or *", "no route" },
	{ "no-route = tempfail\n", "<x@elsewhere.test>", "", J_TEMPFAIL,
	    "451 4.7.1 no route for sender x@elsewhere.test in relay.map: add "
	    "a line for x@elsewhere.test, @elsewhere.test or *", "no route" },
	{ "no-route = accept\n", "<x@elsewhere.test>", "", J_ACCEPT, NULL,
	    "no route" },
	{ "", "<printer@office.test>", "", J_REJECT, "553 5.7.1 smtp.163.com "
	    "requires the envelope sender to be the account login "
	    "alerts@163.com (it says: 553 Mail from must equal authorized "
	    "user); add 'rewrite' to relay.map line 2 or send as "
	    "alerts@163.com", "sender mismatch" },
	{ "sender-mismatch = tag\n", "<printer@office.test>", "", J_CONTINUE,
	    NULL, "sender mismatch" },
	{ "", "<scanner@office.test>", "", J_CONTINUE, NULL, NULL },
	{ "", "<team@163.com>", "alice", J_CONTINUE, NULL, NULL },
	{ "", "<team@163.com>", NULL, J_CONTINUE, NULL, NULL },
	{ "", "<team@163.com>", "carol", J_REJECT, "550 5.7.1 carol may not "
	    "send as team@163.com: account team@163.com (smarthost.conf line "
	    "LINE) allows only its allowed-users; add carol there or send as "
	    "your own address", "unauthorized" },
	{ "", "<team@163.com>", "", J_REJECT, "550 5.7.1 unauthenticated "
	    "client 10.1.2.3 may not send as team@163.com: account "
	    "team@163.com (smarthost.conf line LINE) is limited to its "
	    "allowed-users; log in (SMTP AUTH) first", "unauthorized" },
};

/* The expected reply with LINE replaced by the account block's line. */
static void
expected(const char *want, const struct config *c, char *buf, size_t size)
{
	const struct account *a = config_account(c, "team@163.com");
	const char *p = strstr(want, "LINE");
	char line[16];

	if (p == NULL) {
		xstrlcpy(buf, want, size);
		return;
	}
	assert_non_null(a);
	snprintf(line, sizeof(line), "%u", a->line);
	snprintf(buf, size, "%.*s%s%s", (int)(p - want), want, line, p + 4);
}

static void
test_envelope(void **state)
{
	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		const struct env_case *t = &env_cases[i];
		struct config *c = load(t->milter);
		struct route r;
		struct verdict v = { .reason = NULL };
		char err[256], got[1100], want[1100];
		struct verdict_client cl = { t->sender, err, t->auth,
		    "10.1.2.3", 0 };
		enum judgement j;

		route_lookup(c, t->sender, &r, err, sizeof(err));
		j = verdict_envelope(c->conf, &r, &cl, &v);
		if (j != t->want)
			fail_msg("%s: judgement %d, want %d", t->sender, j,
			    t->want);
		if (t->reason == NULL)
			assert_null(v.reason);
		else
			assert_string_equal(v.reason, t->reason);
		if (t->reply != NULL) {
			snprintf(got, sizeof(got), "%s %s %s", v.rcode,
			    v.xcode, v.text);
			expected(t->reply, c, want, sizeof(want));
			/* a reply ending in ": " goes on with the parser's
			 * own message: compared up to there */
			if (strlen(want) >= 2 && strcmp(want + strlen(want) - 2,
			    ": ") == 0 ? strncmp(got, want, strlen(want)) != 0 :
			    strcmp(got, want) != 0)
				fail_msg("%s: reply \"%s\", want \"%s\"",
				    t->sender, got, want);
		}
		config_unref(c);
	}
}

struct utf8_case {
	const char	*sender;
	int		 smtputf8;	/* MAIL had the parameter */
	const char	*reply;		/* NULL: no SMTPUTF8 finding */
};

static const struct utf8_case utf8_cases[] = {
	{ "<\xe5\xbc\xa0\xe4\xb8\x89@lab.test>", 1, "553 5.6.7 "
	    "<\xe5\xbc\xa0\xe4\xb8\x89@lab.test>: UTF-8 addresses (SMTPUTF8) "
	    "cannot be sent through the provider accounts, which do not offer "
	    "SMTPUTF8; use an ASCII address" },
	{ "<\xe5\xbc\xa0\xe4\xb8\x89@lab.test>", 0, "553 5.6.7 "
	    "<\xe5\xbc\xa0\xe4\xb8\x89@lab.test>: UTF-8 addresses (SMTPUTF8) "
	    "cannot be sent through the provider accounts, which do not offer "
	    "SMTPUTF8; use an ASCII address" },
	{ "<boss@163.com>", 1, "553 5.6.7 <boss@163.com>: SMTPUTF8 mail cannot "
	    "be sent through the provider accounts, which do not offer "
	    "SMTPUTF8; send it without SMTPUTF8 (ASCII addresses, RFC 2047 "
	    "encoded headers)" },
	{ "boss@163.com", 1, "553 5.6.7 <boss@163.com>: SMTPUTF8 mail cannot "
	    "be sent through the provider accounts, which do not offer "
	    "SMTPUTF8; send it without SMTPUTF8 (ASCII addresses, RFC 2047 "
	    "encoded headers)" },
	{ "<boss@163.com>", 0, NULL },
};

/* SMTPUTF8 comes first among the envelope steps. */
static void
test_smtputf8(void **state)
{
	struct config *c = load("");

	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	    i++) {
		const struct utf8_case *t = &utf8_cases[i];
		struct verdict v = { .reason = NULL };
		struct route r;
		char err[256], got[1100];
		struct verdict_client cl = { t->sender, err, "", "10.1.2.3",
		    t->smtputf8 };
		enum judgement j;

		route_lookup(c, t->sender, &r, err, sizeof(err));
		j = verdict_envelope(c->conf, &r, &cl, &v);
		if (t->reply == NULL) {
			assert_int_equal(j, J_CONTINUE);
			assert_null(v.reason);
			continue;
		}
		assert_int_equal(j, J_REJECT);
		assert_string_equal(v.reason, "SMTPUTF8");
		snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
		assert_string_equal(got, t->reply);
	}
	config_unref(c);
}

struct rcpt_case {
	const char	*auth;		/* NULL: not known */
	int		 internal;
	const char	*rcpt;
	const char	*reply;		/* NULL: J_CONTINUE */
	const char	*reason;
};

#define UNTRUSTED(r) "550 5.7.1 " r ": relaying refused: client 192.0.2.7 " \
	"is neither authenticated nor in internal-networks; outbound mail " \
	"needs SMTP AUTH"

static const struct rcpt_case rcpt_cases[] = {
	{ "", 0, "<friend@example.net>", UNTRUSTED("<friend@example.net>"),
	    "untrusted client" },
	{ NULL, 0, "friend@example.net", UNTRUSTED("<friend@example.net>"),
	    "untrusted client" },
	{ "", 0, "<\xe6\x9d\x8e\xe5\x9b\x9b@example.net>",
	    UNTRUSTED("<\xe6\x9d\x8e\xe5\x9b\x9b@example.net>"),
	    "untrusted client" },
	{ "alice", 0, "<friend@example.net>", NULL, NULL },
	{ "", 1, "<friend@example.net>", NULL, NULL },
	{ "alice", 0, "<\xe6\x9d\x8e\xe5\x9b\x9b@example.net>", "553 5.6.7 "
	    "<\xe6\x9d\x8e\xe5\x9b\x9b@example.net>: UTF-8 addresses "
	    "(SMTPUTF8) cannot be sent through the provider accounts, which "
	    "do not offer SMTPUTF8; use an ASCII address", "SMTPUTF8" },
};

static void
test_recipient(void **state)
{
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]);
	    i++) {
		const struct rcpt_case *t = &rcpt_cases[i];
		struct verdict v = { .reason = NULL };
		struct verdict_client cl = { "<boss@163.com>", NULL, t->auth,
		    "192.0.2.7", 0 };
		enum judgement j = verdict_recipient(&cl, t->internal, t->rcpt,
		    &v);
		char got[1100];

		if (t->reply == NULL) {
			assert_int_equal(j, J_CONTINUE);
			assert_null(v.reason);
			continue;
		}
		assert_int_equal(j, J_REJECT);
		assert_string_equal(v.reason, t->reason);
		snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
		assert_string_equal(got, t->reply);
	}
}

struct from_case {
	size_t		 nfrom;
	const char	*from;
	const char	*reply;		/* NULL: accepted */
};

static const struct from_case from_cases[] = {
	{ 1, "Boss <boss@163.com>", NULL },
	{ 0, NULL, "550 5.6.0 message from boss@163.com has no From: header; "
	    "add one (From: Name <boss@163.com>)" },
	{ 2, "Boss <boss@163.com>", "550 5.6.0 message from boss@163.com has "
	    "2 From: headers; RFC 5322 allows exactly one" },
	{ 1, "a@163.com, b@163.com", "550 5.6.0 From: header of boss@163.com "
	    "names 2 addresses; a provider accepts exactly one" },
};

static void
test_from(void **state)
{
	struct config *c = load("");
	struct route r;
	char err[256], got[1100];

	assert_int_equal(route_lookup(c, "<boss@163.com>", &r, err,
	    sizeof(err)), ROUTE_OK);
	for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]);
	    i++) {
		const struct from_case *t = &from_cases[i];
		struct verdict v = { .reason = NULL };
		struct mailbox mb;
		int rc = verdict_from(c->conf, &r, t->nfrom, t->from, &mb, &v);

		if (t->reply == NULL) {
			assert_int_equal(rc, 0);
			assert_string_equal(mb.addr.domain, "163.com");
			continue;
		}
		assert_int_equal(rc, -1);
		assert_string_equal(v.reason, "bad From header");
		snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
		assert_string_equal(got, t->reply);
	}
	config_unref(c);
}

static void
test_alignment(void **state)
{
	struct config *c = load("");
	struct config *ct = load("dmarc = tag\n");
	struct route r;
	struct align_input in = { .from_domain = "strict.test" };
	struct align_result al = { .dmarc = AV_FAIL, .policy = "reject",
	    .why = "From domain strict.test publishes DMARC p=reject" };
	struct verdict v = { .reason = NULL };
	char err[256], got[1100];

	assert_int_equal(route_lookup(c, "<boss@163.com>", &r, err,
	    sizeof(err)), ROUTE_OK);
	assert_int_equal(verdict_alignment(c->conf, &r, &in, &al, &v),
	    J_REJECT);
	snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
	assert_string_equal(got, "550 5.7.1 From domain strict.test publishes "
	    "DMARC p=reject: recipients would reject this message from "
	    "strict.test sent through boss@163.com; send as boss@163.com or "
	    "through an account of strict.test");
	assert_int_equal(verdict_alignment(ct->conf, &r, &in, &al, &v),
	    J_CONTINUE);
	al.dmarc = AV_TEMPERROR;
	assert_int_equal(verdict_alignment(c->conf, &r, &in, &al, &v),
	    J_TEMPFAIL);
	assert_string_equal(v.rcode, "451");
	assert_string_equal(v.xcode, "4.4.3");
	assert_int_equal(verdict_alignment(ct->conf, &r, &in, &al, &v),
	    J_CONTINUE);
	al.dmarc = AV_PASS;
	assert_int_equal(verdict_alignment(c->conf, &r, &in, &al, &v),
	    J_CONTINUE);
	config_unref(c);
	config_unref(ct);
}

/* The envelope sender already is the login, in the From: domain, and
 * that domain's SPF does not name the provider: the fix is its SPF
 * record (the preset's include) or a DKIM signature, not "send as". */
static void
test_alignment_own_domain(void **state)
{
	struct config *c = load("");
	struct route r;
	struct align_input in;
	struct align_result al = { .dmarc = AV_FAIL, .spf = AV_FAIL,
	    .dkim = AV_NONE, .policy = "reject",
	    .why = "From domain company.test publishes DMARC p=reject but "
	    "neither SPF (fail for company.test) nor DKIM (none) aligns with "
	    "it" };
	struct verdict v = { .reason = NULL };
	char err[256], got[1100];

	(void)state;
	assert_int_equal(route_lookup(c, "<ops@company.test>", &r, err,
	    sizeof(err)), ROUTE_OK);
	assert_int_equal(align_route_input(&r, "ops@company.test", &in), 0);
	assert_string_equal(in.env_addr, "ops@company.test");
	assert_string_equal(in.spf_include, "spf.mail.qq.com");
	assert_int_equal(verdict_alignment(c->conf, &r, &in, &al, &v),
	    J_REJECT);
	snprintf(got, sizeof(got), "%s %s %s", v.rcode, v.xcode, v.text);
	assert_string_equal(got, "550 5.7.1 From domain company.test publishes "
	    "DMARC p=reject but neither SPF (fail for company.test) nor DKIM "
	    "(none) aligns with it: recipients would reject this message from "
	    "company.test sent through ent-ops; add include:spf.mail.qq.com to "
	    "the SPF record of company.test, or DKIM-sign its mail for "
	    "company.test");
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_smtputf8),
		cmocka_unit_test(test_recipient),
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_alignment_own_domain),
	};

	return cmocka_run_group_tests(tests, setup, fixture_teardown);
}
