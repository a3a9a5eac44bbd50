/*
 * Unit tests for lib/route.c: senders as SMTP carries them, resolved
 * through a configuration written to a temporary directory, with the
 * effective host, port, TLS mode, login and sender rule; the implicit
 * login route after a rewrite; the null sender; every preset through a
 * map line "x@DOMAIN x@DOMAIN"; port/TLS fallbacks of account_port() and
 * account_tls().
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

#include "route.h"

#include "conf_fixture.h"

static struct config *
load(const char *conf_extra, const char *map)
{
	return fixture_load(conf_extra, map, 1);
}

static int
setup(void **state)
{
	return fixture_setup("/tmp/test_route.XXXXXX");
}

static const char conf_text[] =
    "[account exmail-shared]\n"
    "provider = exmail.qq.com\n"
    "login = shared@company.cn\n"
    "[account office-relay]\n"
    "host = smtp.office.example\n"
    "port = 587\n"
    "login = relay@office.example\n"
    "sender-must-match = no\n";

static const char map_text[] =
    "boss@163.com          boss@163.com\n"
    "@company.cn           exmail-shared\n"
    "scanner@office.lan    alerts@163.com     rewrite\n"
    "*                     office@qq.com      rewrite\n"
    "@office.example       office-relay\n";

#define NETEASE_553	"553 Mail from must equal authorized user"
#define TENCENT_501	"501 mail from address must be same as authorization user"

static const struct {
	const char *sender;
	const char *key;		/* sender_key */
	const char *pattern;		/* entry->key */
	unsigned line;			/* entry->line */
	const char *account, *host;
	unsigned port;
	enum tls_mode tls;
	const char *login;
	int rewrite, must_match;
	const char *refusal;
	int differs;
} cases[] = {
	{ "<Boss@163.COM>", "boss@163.com", "boss@163.com", 1, "boss@163.com",
	  "smtp.163.com", 465, TLS_IMPLICIT, "boss@163.com", 0, TRI_YES,
	  NETEASE_553, 0 },
	{ "boss@163.com", "boss@163.com", "boss@163.com", 1, "boss@163.com",
	  "smtp.163.com", 465, TLS_IMPLICIT, "boss@163.com", 0, TRI_YES,
	  NETEASE_553, 0 },
	{ "<scanner@office.lan>", "scanner@office.lan", "scanner@office.lan",
	  3, "alerts@163.com", "smtp.163.com", 465, TLS_IMPLICIT,
	  "alerts@163.com", 1, TRI_YES, NETEASE_553, 1 },
	/* after the rewrite: the implicit login route, not "*" */
	{ "<alerts@163.com>", "alerts@163.com", "alerts@163.com", 0,
	  "alerts@163.com", "smtp.163.com", 465, TLS_IMPLICIT,
	  "alerts@163.com", 0, TRI_YES, NETEASE_553, 0 },
	{ "<someone@else.org>", "someone@else.org", "*", 4, "office@qq.com",
	  "smtp.qq.com", 465, TLS_IMPLICIT, "office@qq.com", 1, TRI_YES,
	  TENCENT_501, 1 },
	{ "<office@qq.com>", "office@qq.com", "office@qq.com", 0,
	  "office@qq.com", "smtp.qq.com", 465, TLS_IMPLICIT, "office@qq.com",
	  0, TRI_YES, TENCENT_501, 0 },
	{ "<Anna@Company.CN>", "anna@company.cn", "@company.cn", 2,
	  "exmail-shared", "smtp.exmail.qq.com", 465, TLS_IMPLICIT,
	  "shared@company.cn", 0, TRI_YES, TENCENT_501, 1 },
	{ "<a@office.example>", "a@office.example", "@office.example", 5,
	  "office-relay", "smtp.office.example", 587, TLS_STARTTLS,
	  "relay@office.example", 0, TRI_NO, NULL, 1 },
};

static void
test_routes(void **state)
{
	struct config *c = load(conf_text, map_text);
	struct route r;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(route_lookup(c, cases[i].sender, &r, err,
		    sizeof(err)), ROUTE_OK);
		assert_int_equal(r.status, ROUTE_OK);
		assert_string_equal(r.sender_key, cases[i].key);
		assert_string_equal(r.entry->key, cases[i].pattern);
		assert_int_equal(r.entry->line, cases[i].line);
		assert_string_equal(r.account->name, cases[i].account);
		assert_string_equal(r.host, cases[i].host);
		assert_int_equal(r.port, cases[i].port);
		assert_int_equal(r.tls, cases[i].tls);
		assert_string_equal(r.login, cases[i].login);
		assert_int_equal(r.rewrite, cases[i].rewrite);
		assert_int_equal(r.sender_must_match, cases[i].must_match);
		if (cases[i].refusal)
			assert_string_equal(r.sender_refusal, cases[i].refusal);
		else
			assert_null(r.sender_refusal);
		assert_int_equal(r.envelope_differs, cases[i].differs);
	}
	config_unref(c);
}

static void
test_not_ok(void **state)
{
	struct config *c = load(conf_text, map_text);
	struct route r;
	char err[256];

	assert_int_equal(route_lookup(c, "<>", &r, err, sizeof(err)),
	    ROUTE_NULL_SENDER);
	assert_true(r.sender.null);
	assert_string_equal(r.sender_key, "");
	assert_null(r.entry);
	assert_int_equal(route_lookup(c, "<a@b.com", &r, err, sizeof(err)),
	    ROUTE_BAD_ADDRESS);
	assert_true(err[0] != '\0');
	assert_null(r.entry);
	assert_int_equal(route_lookup(c, "<a@b..com>", &r, err, sizeof(err)),
	    ROUTE_BAD_ADDRESS);
	assert_non_null(strstr(err, "empty label"));
	config_unref(c);
	/* without "*" an unmatched sender has no route; "<>" line works */
	c = load("", "@x.cn boss@163.com\n<> bounce@163.com\n");
	assert_int_equal(route_lookup(c, "<a@y.cn>", &r, err, sizeof(err)),
	    ROUTE_NONE);
	assert_null(r.entry);
	assert_int_equal(route_lookup(c, "<>", &r, err, sizeof(err)),
	    ROUTE_OK);
	assert_string_equal(r.account->name, "bounce@163.com");
	assert_int_equal(r.envelope_differs, 1);
	assert_int_equal(route_lookup(c, "<a@sub.x.cn>", &r, err,
	    sizeof(err)), ROUTE_NONE);
	config_unref(c);
}

/* IDN: patterns and senders in either form meet in the A-label form. */
static void
test_idn(void **state)
{
	struct config *c = load("", "@例子.测试  boss@163.com\n"
	    "@.xn--fsqu00a.xn--0zwm56d  office@qq.com\n"
	    "@bücher.de  alerts@163.com\n");
	static const struct {
		const char *sender, *key, *pattern;
	} want[] = {
		{ "<a@例子.测试>", "a@xn--fsqu00a.xn--0zwm56d",
		  "@xn--fsqu00a.xn--0zwm56d" },
		{ "<a@XN--FSQU00A.xn--0zwm56d>", "a@xn--fsqu00a.xn--0zwm56d",
		  "@xn--fsqu00a.xn--0zwm56d" },
		{ "<a@b.例子.测试>", "a@b.xn--fsqu00a.xn--0zwm56d",
		  "@.xn--fsqu00a.xn--0zwm56d" },
		{ "<Max@BÜCHER.de>", "max@xn--bcher-kva.de",
		  "@xn--bcher-kva.de" },
		{ "<max@xn--bcher-kva.de>", "max@xn--bcher-kva.de",
		  "@xn--bcher-kva.de" },
	};
	struct route r;
	char err[256];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (route_lookup(c, want[i].sender, &r, err, sizeof(err)) !=
		    ROUTE_OK)
			fail_msg("%s: status %d %s", want[i].sender, r.status,
			    err);
		assert_string_equal(r.sender_key, want[i].key);
		assert_string_equal(r.entry->key, want[i].pattern);
	}
	config_unref(c);
}

/* Every preset with a mail domain routes through "x@DOMAIN x@DOMAIN". */
static void
test_every_preset(void **state)
{
	const struct preset *all;
	struct config *c;
	struct route r;
	char *map = xstrdup(""), *old, sender[300], err[256];
	size_t n, lines = 0;

	all = preset_all(&n);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; all[i].domains[j] != NULL; j++) {
			old = map;
			map = xasprintf("%sx@%s x@%s\n", old,
			    all[i].domains[j], all[i].domains[j]);
			free(old);
			lines++;
		}
	c = load("", map);
	free(map);
	assert_int_equal(relaymap_count(c->map), lines);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; all[i].domains[j] != NULL; j++) {
			snprintf(sender, sizeof(sender), "<X@%s>",
			    all[i].domains[j]);
			assert_int_equal(route_lookup(c, sender, &r, err,
			    sizeof(err)), ROUTE_OK);
			assert_ptr_equal(r.account->preset, &all[i]);
			assert_string_equal(r.host, all[i].host);
			assert_int_equal(r.port, all[i].ports[0].port);
			assert_int_equal(r.tls, all[i].ports[0].tls);
			assert_int_equal(r.sender_must_match,
			    all[i].sender_must_match);
			assert_int_equal(r.envelope_differs, 0);
			assert_int_equal(account_max_connections(r.account),
			    all[i].max_connections ? all[i].max_connections :
			    2);
		}
	config_unref(c);
}

static void
test_port_tls(void **state)
{
	struct config *c = load(
	    "[account p25]\nprovider = 163.com\nlogin = a@163.com\nport = 25\n"
	    "[account qqs]\nprovider = qq.com\nlogin = b@qq.com\n"
	    "tls = starttls\n"
	    "[account g587]\nlogin = c@gmail.com\nport = 587\n"
	    "[account own]\nhost = mail.example.net\nlogin = d@example.net\n"
	    "[account own25]\nhost = mail.example.net\nlogin = e@example.net\n"
	    "port = 25\nmax-connections = 7\n"
	    "[account owns]\nhost = mail.example.net\nlogin = f@example.net\n"
	    "tls = starttls\n",
	    "@a.cn p25\n@b.cn qqs\n@c.cn g587\n@d.cn own\n@e.cn own25\n"
	    "@f.cn owns\n");
	static const struct {
		const char *name;
		unsigned port;
		enum tls_mode tls;
	} want[] = {
		{ "p25", 25, TLS_STARTTLS },
		{ "qqs", 587, TLS_STARTTLS },
		{ "g587", 587, TLS_STARTTLS },
		{ "own", 465, TLS_IMPLICIT },
		{ "own25", 25, TLS_STARTTLS },
		{ "owns", 587, TLS_STARTTLS },
	};
	const struct account *a;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		a = config_account(c, want[i].name);
		assert_non_null(a);
		if (account_port(a) != want[i].port ||
		    account_tls(a) != want[i].tls)
			fail_msg("%s: port %u tls %d", want[i].name,
			    account_port(a), account_tls(a));
	}
	assert_int_equal(account_max_connections(config_account(c, "own25")),
	    7);
	assert_int_equal(account_max_connections(config_account(c, "own")),
	    2);
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_not_ok),
		cmocka_unit_test(test_idn),
		cmocka_unit_test(test_every_preset),
		cmocka_unit_test(test_port_tls),
	};
	return cmocka_run_group_tests(tests, setup, fixture_teardown);
}
