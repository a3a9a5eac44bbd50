/*
 * Unit tests for lib/preset.c: every preset resolves by name and by each of
 * its domains, rows are complete and unambiguous, and the facts the relay
 * and the milter depend on (163's default port, refusal texts) are exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "preset.h"

static const struct {
	const char *name, *host;
	unsigned short port;
	enum tls_mode tls;
	const char *domains[PRESET_MAX_DOMAINS];
} expect[] = {
	{ "163.com", "smtp.163.com", 465, TLS_IMPLICIT, { "163.com" } },
	{ "126.com", "smtp.126.com", 465, TLS_IMPLICIT, { "126.com" } },
	{ "yeah.net", "smtp.yeah.net", 465, TLS_IMPLICIT, { "yeah.net" } },
	{ "vip.163.com", "smtp.vip.163.com", 465, TLS_IMPLICIT,
	  { "vip.163.com" } },
	{ "qiye.163.com", "smtp.qiye.163.com", 465, TLS_IMPLICIT, { NULL } },
	{ "qq.com", "smtp.qq.com", 465, TLS_IMPLICIT, { "qq.com" } },
	{ "foxmail.com", "smtp.qq.com", 465, TLS_IMPLICIT, { "foxmail.com" } },
	{ "exmail.qq.com", "smtp.exmail.qq.com", 465, TLS_IMPLICIT, { NULL } },
	{ "aliyun.com", "smtp.aliyun.com", 465, TLS_IMPLICIT, { "aliyun.com" } },
	{ "qiye.aliyun.com", "smtp.qiye.aliyun.com", 465, TLS_IMPLICIT,
	  { NULL } },
	{ "sina.com", "smtp.sina.com", 465, TLS_IMPLICIT, { "sina.com" } },
	{ "sina.cn", "smtp.sina.cn", 465, TLS_IMPLICIT, { "sina.cn" } },
	{ "sohu.com", "smtp.sohu.com", 465, TLS_IMPLICIT, { "sohu.com" } },
	{ "139.com", "smtp.139.com", 465, TLS_IMPLICIT, { "139.com" } },
	{ "189.cn", "smtp.189.cn", 465, TLS_IMPLICIT, { "189.cn" } },
	{ "gmail.com", "smtp.gmail.com", 465, TLS_IMPLICIT,
	  { "gmail.com", "googlemail.com" } },
	{ "google-workspace", "smtp.gmail.com", 465, TLS_IMPLICIT, { NULL } },
	{ "outlook.com", "smtp-mail.outlook.com", 587, TLS_STARTTLS,
	  { "outlook.com", "hotmail.com", "live.com" } },
	{ "office365", "smtp.office365.com", 587, TLS_STARTTLS, { NULL } },
	{ "yahoo.com", "smtp.mail.yahoo.com", 465, TLS_IMPLICIT,
	  { "yahoo.com" } },
	{ "icloud.com", "smtp.mail.me.com", 587, TLS_STARTTLS,
	  { "icloud.com", "me.com", "mac.com" } },
	{ "zoho.com", "smtp.zoho.com", 465, TLS_IMPLICIT, { "zoho.com" } },
	{ "yandex.ru", "smtp.yandex.ru", 465, TLS_IMPLICIT, { "yandex.ru" } },
	{ "yandex.com", "smtp.yandex.com", 465, TLS_IMPLICIT,
	  { "yandex.com" } },
	{ "fastmail.com", "smtp.fastmail.com", 465, TLS_IMPLICIT,
	  { "fastmail.com" } },
	{ "gmx.net", "mail.gmx.net", 465, TLS_IMPLICIT,
	  { "gmx.net", "gmx.de", "gmx.at", "gmx.ch" } },
	{ "gmx.com", "mail.gmx.com", 465, TLS_IMPLICIT, { "gmx.com" } },
};
#define NEXPECT (sizeof(expect) / sizeof(expect[0]))

static size_t
ndomains(const struct preset *p)
{
	size_t n = 0;

	while (n < PRESET_MAX_DOMAINS && p->domains[n])
		n++;
	return n;
}

static void
test_expected_rows(void **state)
{
	size_t n;

	preset_all(&n);
	assert_int_equal(n, NEXPECT);
	for (size_t i = 0; i < NEXPECT; i++) {
		const struct preset *p = preset_by_name(expect[i].name);
		size_t nd = 0;

		assert_non_null(p);
		assert_string_equal(p->name, expect[i].name);
		assert_string_equal(p->host, expect[i].host);
		assert_int_equal(p->ports[0].port, expect[i].port);
		assert_int_equal(p->ports[0].tls, expect[i].tls);
		assert_null(p->ports[0].note);
		for (; nd < PRESET_MAX_DOMAINS && expect[i].domains[nd]; nd++) {
			assert_string_equal(p->domains[nd],
			    expect[i].domains[nd]);
			assert_ptr_equal(preset_by_domain(
			    expect[i].domains[nd]), p);
		}
		assert_int_equal(ndomains(p), nd);
	}
}

static void
test_case_insensitive_name(void **state)
{
	assert_ptr_equal(preset_by_name("QQ.COM"), preset_by_name("qq.com"));
	assert_ptr_equal(preset_by_name("Office365"),
	    preset_by_name("office365"));
	assert_null(preset_by_name("example.com"));
	assert_null(preset_by_name(""));
	assert_null(preset_by_name(NULL));
}

static void
test_rows_complete(void **state)
{
	size_t n;
	const struct preset *all = preset_all(&n);

	for (size_t i = 0; i < n; i++) {
		const struct preset *p = &all[i];

		assert_non_null(p->name);
		assert_non_null(p->title);
		assert_non_null(p->host);
		assert_true(p->nports >= 1 && p->nports <= PRESET_MAX_PORTS);
		for (size_t j = 0; j < PRESET_MAX_PORTS; j++)
			assert_true((j < p->nports) == (p->ports[j].port != 0));
		assert_non_null(p->default_auth);
		assert_non_null(p->source);
		assert_non_null(strstr(p->source, "providers.md row '"));
		assert_non_null(p->code_howto);
		assert_non_null(p->auth_failure_hint);
		assert_true(p->max_connections >= 1 && p->max_connections <= 5);
		/* a refusal text only where the sender rule is known */
		if (p->sender_refusal)
			assert_int_equal(p->sender_must_match, TRI_YES);
		/* port 25 is never implicit TLS nor plain */
		for (size_t j = 0; j < p->nports; j++)
			if (p->ports[j].port == 25)
				assert_int_equal(p->ports[j].tls, TLS_STARTTLS);
	}
}

static void
test_no_duplicates(void **state)
{
	size_t n;
	const struct preset *all = preset_all(&n);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(strcasecmp(all[i].name,
			    all[j].name), 0);
			for (size_t a = 0; a < ndomains(&all[i]); a++)
				for (size_t b = 0; b < ndomains(&all[j]); b++)
					assert_string_not_equal(
					    all[i].domains[a],
					    all[j].domains[b]);
		}
}

static void
test_163(void **state)
{
	const struct preset *p = preset_by_domain("163.com");
	int seen994 = 0;

	assert_non_null(p);
	assert_int_equal(p->ports[0].port, 465);
	assert_int_equal(p->ports[0].tls, TLS_IMPLICIT);
	for (size_t j = 1; j < p->nports; j++)
		if (p->ports[j].port == 994) {
			seen994 = 1;
			assert_non_null(p->ports[j].note);
			assert_non_null(strstr(p->ports[j].note,
			    "not re-checked"));
		}
	assert_true(seen994);
	assert_string_equal(p->auth, "LOGIN PLAIN XOAUTH2");
	assert_int_equal(p->sender_must_match, TRI_YES);
	assert_string_equal(p->sender_refusal,
	    "553 Mail from must equal authorized user");
	assert_non_null(strstr(p->auth_failure_hint, "授权码"));
	assert_non_null(strstr(p->auth_failure_hint,
	    "550 User has no permission"));
	assert_int_equal(p->max_size, 73400320);
	assert_string_equal(p->dkim_domain, "163.com");
	assert_string_equal(p->spf_include, "spf.163.com");
}

static void
test_refusals_and_rules(void **state)
{
	static const char qq[] =
	    "501 mail from address must be same as authorization user";
	const struct preset *g = preset_by_name("gmail.com");

	assert_string_equal(preset_by_name("qq.com")->sender_refusal, qq);
	assert_string_equal(preset_by_name("foxmail.com")->sender_refusal, qq);
	assert_string_equal(preset_by_name("exmail.qq.com")->sender_refusal,
	    qq);
	assert_string_equal(preset_by_name("126.com")->sender_refusal,
	    "553 Mail from must equal authorized user");
	assert_int_equal(g->sender_must_match, TRI_NO);
	assert_int_equal(g->rewrites_from, 1);
	assert_null(g->sender_refusal);
	assert_int_equal(g->max_rcpt_per_msg, 100);
	assert_int_equal(g->max_size, 35882577);
	assert_string_equal(g->oauth, "google");
	assert_string_equal(preset_by_name("outlook.com")->default_auth,
	    "XOAUTH2");
	assert_string_equal(preset_by_name("office365")->oauth, "microsoft");
	assert_int_equal(preset_by_name("sohu.com")->sender_must_match,
	    TRI_UNKNOWN);
	assert_null(preset_by_name("yeah.net")->auth);
	assert_string_equal(preset_by_name("qiye.163.com")->dkim_domain, "*");
	assert_null(preset_by_name("189.cn")->dkim_domain);
}

static void
test_enterprise_no_domains(void **state)
{
	static const char *const ent[] = { "qiye.163.com", "exmail.qq.com",
	    "qiye.aliyun.com", "google-workspace", "office365" };

	for (size_t i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
		const struct preset *p = preset_by_name(ent[i]);

		assert_non_null(p);
		assert_null(p->domains[0]);
		assert_null(preset_by_domain(ent[i]));
	}
}

static void
test_unknown_domain(void **state)
{
	assert_null(preset_by_domain("example.com"));
	assert_null(preset_by_domain("mail.163.com"));	/* not subdomains */
	assert_null(preset_by_domain("company.cn"));
	assert_null(preset_by_domain(""));
	assert_null(preset_by_domain(NULL));
	assert_string_equal(tls_mode_name(TLS_IMPLICIT), "implicit");
	assert_string_equal(tls_mode_name(TLS_STARTTLS), "starttls");
}

/* IMAP servers for smarthost-return(8), from the table's IMAP column:
 * implicit TLS on 993; only NetEase's consumer mailboxes want ID before
 * SELECT; a preset without a recorded IMAP server has none. */
static void
test_imap(void **state)
{
	static const struct { const char *name, *host; int id; } want[] = {
		{ "163.com", "imap.163.com", 1 },
		{ "126.com", "imap.126.com", 1 },
		{ "yeah.net", "imap.yeah.net", 1 },
		{ "qq.com", "imap.qq.com", 0 },
		{ "foxmail.com", "imap.qq.com", 0 },
		{ "exmail.qq.com", "imap.exmail.qq.com", 0 },
		{ "gmail.com", "imap.gmail.com", 0 },
		{ "office365", "outlook.office365.com", 0 },
		{ "outlook.com", "outlook.office365.com", 0 },
		{ "sina.cn", NULL, 0 },
	};
	const struct preset *all;
	size_t n;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct preset *p = preset_by_name(want[i].name);

		assert_non_null(p);
		if (want[i].host == NULL) {
			assert_null(p->imap_host);
			continue;
		}
		assert_string_equal(p->imap_host, want[i].host);
		assert_int_equal(p->imap_port, 993);
		assert_int_equal(p->imap_id, want[i].id);
	}
	all = preset_all(&n);
	for (size_t i = 0; i < n; i++)
		if (all[i].imap_host != NULL)
			assert_int_equal(all[i].imap_port, 993);
		else
			assert_int_equal(all[i].imap_port, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_rows),
		cmocka_unit_test(test_case_insensitive_name),
		cmocka_unit_test(test_rows_complete),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_163),
		cmocka_unit_test(test_refusals_and_rules),
		cmocka_unit_test(test_enterprise_no_domains),
		cmocka_unit_test(test_unknown_domain),
		cmocka_unit_test(test_imap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
