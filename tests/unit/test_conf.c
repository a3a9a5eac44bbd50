/*
 * Unit tests for lib/conf*.c: defaults, every value type, every parse
 * error with its exact file:line message, account blocks, the text writer
 * round trip, and the man page against the option table.
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

#include "conf.h"

#include "diag_text.h"

/* Parse text as t.conf; the conf, and the diagnostics in *msgs. */
static struct conf *
parse(const char *text, char **msgs)
{
	struct diag d;
	struct conf *c;

	diag_init(&d);
	c = conf_parse(text, strlen(text), "t.conf", &d);
	*msgs = diag_text(&d);
	diag_free(&d);
	return c;
}

static void
test_defaults(void **state)
{
	struct conf *c = conf_defaults();

	assert_string_equal(c->relay_map, SYSCONFDIR "/smarthost/relay.map");
	assert_string_equal(c->secrets, SYSCONFDIR "/smarthost/secrets");
	assert_string_equal(c->state_dir, "/var/lib/smarthost");
	assert_string_equal(c->user, "smarthost");
	assert_int_equal(c->local_domains.n, 0);
	assert_string_equal(c->milter_socket,
	    "unix:/run/smarthost/milter.sock");
	assert_int_equal(c->no_route, ACT_REJECT);
	assert_int_equal(c->unauthorized, ACT_REJECT);
	assert_int_equal(c->sender_mismatch, ACT_REJECT);
	assert_int_equal(c->from_header, ACT_REJECT);
	assert_int_equal(c->dmarc, ACT_REJECT);
	assert_string_equal(c->trace_header, "X-Smarthost");
	assert_int_equal(c->dns_timeout, 10);
	assert_int_equal(c->reply_to, REPLYTO_AUTO);
	assert_string_equal(c->relay_listen, "127.0.0.1:10025");
	assert_int_equal(c->relay_allow.n, 2);
	assert_string_equal(c->relay_allow.v[0], "127.0.0.0/8");
	assert_string_equal(c->relay_allow.v[1], "::1");
	assert_string_equal(c->control_socket, "/run/smarthost/control.sock");
	assert_int_equal(c->auth_failure, AUTHFAIL_DEFER);
	assert_int_equal(c->auth_cooloff, 600);
	assert_int_equal(c->quota_cooloff, 3600);
	assert_null(c->null_sender_account);
	assert_int_equal(c->null_sender, NULLS_REJECT);
	assert_int_equal(c->connect_timeout, 30);
	assert_int_equal(c->command_timeout, 300);
	assert_int_equal(c->data_timeout, 600);
	assert_int_equal(c->idle_timeout, 60);
	assert_int_equal(c->msgs_per_session, 100);
	assert_int_equal(c->max_clients, 100);
	assert_null(c->ca_file);
	assert_int_equal(c->naccounts, 0);
	assert_string_equal(action_name(ACT_TAG), "tag");
	assert_string_equal(action_name(99), "?");
	conf_free(c);
}

static void
test_account_defaults(void **state)
{
	struct account *a = account_new("x@example.com");

	assert_string_equal(a->name, "x@example.com");
	assert_null(a->login);
	assert_null(a->host);
	assert_null(a->preset);
	assert_int_equal(a->port, 0);
	assert_int_equal(a->tls, -1);
	assert_int_equal(a->auth.n, 0);
	assert_int_equal(a->sender_must_match, TRI_UNKNOWN);
	assert_int_equal(a->auth_kind, AUTHK_PASSWORD);
	assert_int_equal(a->max_connections, 0);
	account_free(a);
}

/* The table itself: unique names per section, help everywhere, every
 * default accepted by its own parser. */
static void
test_table(void **state)
{
	struct conf *c = conf_defaults();
	struct account *a = account_new("t");
	char err[512];

	assert_true(conf_noptions >= 50);
	for (size_t i = 0; i < conf_noptions; i++) {
		const struct conf_option *o = &conf_options[i];
		void *base = strcmp(o->section, "account") == 0 ?
		    (void *)a : (void *)c;

		assert_non_null(o->help);
		assert_ptr_equal(conf_option_find(o->section, o->name), o);
		assert_true(o->type != OPT_ENUM || o->choices != NULL);
		/* durations are bounded: milliseconds of them fit an int */
		if (o->type == OPT_SECONDS && (o->max == 0 ||
		    o->max > CONF_SECONDS_MAX))
			fail_msg("%s: a duration without .max = "
			    "CONF_SECONDS_MAX", o->name);
		if (o->def && conf_set(o, base, o->def, err, sizeof(err)))
			fail_msg("default of %s: %s", o->name, err);
	}
	assert_null(conf_option_find("relay", "no-such"));
	assert_null(conf_option_find("milter", "listen"));
	account_free(a);
	conf_free(c);
}

static const struct {
	const char *section, *name, *in, *out, *err;
} values[] = {
	/* strings, paths, header names */
	{ "milter", "trace-header", "X-Route", "X-Route", NULL },
	{ "milter", "trace-header", "X Route", NULL,
	  "trace-header: \"X Route\" is not a header field name" },
	{ "global", "relay-map", "/srv/relay.map", "/srv/relay.map", NULL },
	{ "global", "relay-map", "relay.map", NULL,
	  "relay-map: \"relay.map\" is not an absolute path" },
	{ "global", "user", "", NULL, "user: empty value" },
	/* lists */
	{ "global", "local-domains", "Example.COM, office.lan  b.org",
	  "example.com office.lan b.org", NULL },
	{ "global", "local-domains", "a..b", NULL,
	  "local-domains: empty label in domain \"a..b\"" },
	{ "global", "local-domains", "", "", NULL },
	{ "relay", "allow-clients", "10.0.0.0/8,2001:DB8::/32 ::1",
	  "10.0.0.0/8 2001:db8::/32 ::1", NULL },
	{ "relay", "allow-clients", "10.0.0.0/33", NULL,
	  "allow-clients: \"10.0.0.0/33\" is not an IP address or network "
	  "(192.0.2.0/24, 2001:db8::/32)" },
	{ "relay", "allow-users", "postfix, root 65534 Debian-exim _mta host$",
	  "postfix root 65534 Debian-exim _mta host$", NULL },
	{ "relay", "allow-users", "root@host", NULL,
	  "allow-users: \"root@host\" is not a user name or numeric uid" },
	{ "relay", "allow-users", "12ab", NULL,
	  "allow-users: \"12ab\" is not a user name or numeric uid" },
	{ "relay", "allow-users", "-root", NULL,
	  "allow-users: \"-root\" is not a user name or numeric uid" },
	{ "account", "auth", "plain Login", "PLAIN LOGIN", NULL },
	{ "account", "auth", "cram-md5", NULL,
	  "auth: \"cram-md5\" is not one of plain, login, xoauth2" },
	/* numbers */
	{ "relay", "max-clients", "250", "250", NULL },
	{ "relay", "max-clients", "abc", NULL,
	  "max-clients: \"abc\" is not a number" },
	{ "relay", "max-clients", "-1", NULL,
	  "max-clients: \"-1\" is not a number" },
	{ "relay", "max-clients", "0", NULL,
	  "max-clients: \"0\" is out of range (1 to 4294967295)" },
	{ "relay", "max-clients", "99999999999999999999999", NULL,
	  "max-clients: \"99999999999999999999999\" is not a number" },
	{ "relay", "sent-log-days", "0", "0", NULL },
	{ "relay", "sent-log-days", "90", "90", NULL },
	{ "relay", "sent-log-days", "3651", NULL,
	  "sent-log-days: \"3651\" is out of range (0 to 3650)" },
	{ "account", "port", "465", "465", NULL },
	{ "account", "port", "abc", NULL, "port: \"abc\" is not a number" },
	{ "account", "port", "70000", NULL,
	  "port: \"70000\" is out of range (1 to 65535)" },
	/* durations */
	{ "relay", "connect-timeout", "30", "30s", NULL },
	{ "relay", "connect-timeout", "30s", "30s", NULL },
	{ "relay", "connect-timeout", "90", "90s", NULL },
	{ "relay", "command-timeout", "10m", "10m", NULL },
	{ "relay", "command-timeout", "120", "2m", NULL },
	{ "relay", "auth-cooloff", "2h", "2h", NULL },
	{ "relay", "auth-cooloff", "1D", "1d", NULL },
	{ "relay", "connect-timeout", "5x", NULL, "connect-timeout: \"5x\" "
	  "is not a duration (30, 30s, 10m, 2h, 1d)" },
	{ "relay", "connect-timeout", "1h30m", NULL, "connect-timeout: "
	  "\"1h30m\" is not a duration (30, 30s, 10m, 2h, 1d)" },
	{ "relay", "connect-timeout", "0", NULL,
	  "connect-timeout: \"0\" is out of range (1 to 86400)" },
	{ "relay", "auth-cooloff", "99999999d", NULL,
	  "auth-cooloff: \"99999999d\" is out of range (0 to 86400)" },
	/* at most a day: milliseconds of it stay far from int's limit */
	{ "relay", "command-timeout", "1d", "1d", NULL },
	{ "relay", "data-timeout", "86400", "1d", NULL },
	{ "relay", "data-timeout", "86401", NULL,
	  "data-timeout: \"86401\" is out of range (1 to 86400)" },
	{ "relay", "connect-timeout", "2147484s", NULL,
	  "connect-timeout: \"2147484s\" is out of range (1 to 86400)" },
	{ "relay", "idle-timeout", "25h", NULL,
	  "idle-timeout: \"25h\" is out of range (1 to 86400)" },
	{ "relay", "quota-cooloff", "2d", NULL,
	  "quota-cooloff: \"2d\" is out of range (0 to 86400)" },
	{ "milter", "dns-timeout", "24h", "1d", NULL },
	{ "milter", "dns-timeout", "1441m", NULL,
	  "dns-timeout: \"1441m\" is out of range (1 to 86400)" },
	{ "account", "idle-timeout", "1d", "1d", NULL },
	{ "account", "idle-timeout", "4294967s", NULL,
	  "idle-timeout: \"4294967s\" is out of range (1 to 86400)" },
	/* booleans and enums */
	{ "account", "sender-must-match", "yes", "yes", NULL },
	{ "account", "sender-must-match", "OFF", "no", NULL },
	{ "account", "sender-must-match", "0", "no", NULL },
	{ "account", "sender-must-match", "maybe", NULL,
	  "sender-must-match: \"maybe\" is not yes or no" },
	{ "milter", "dmarc", "Tag", "tag", NULL },
	{ "milter", "dmarc", "rejekt", NULL, "dmarc: \"rejekt\" is not one "
	  "of reject, tempfail, accept, tag, off" },
	{ "milter", "reply-to", "original", "original", NULL },
	{ "milter", "reply-to", "NONE", "none", NULL },
	{ "milter", "reply-to", "auto", "auto", NULL },
	{ "milter", "reply-to", "always", NULL, "reply-to: \"always\" is not "
	  "one of original, none, auto" },
	{ "relay", "auth-failure", "bounce", "bounce", NULL },
	{ "relay", "null-sender", "bounce", NULL,
	  "null-sender: \"bounce\" is not one of reject, defer" },
	{ "account", "tls", "STARTTLS", "starttls", NULL },
	{ "account", "tls", "ssl", NULL,
	  "tls: \"ssl\" is not one of implicit, starttls" },
	{ "account", "oauth-provider", "Google", "google", NULL },
	{ "account", "oauth-provider", "yahoo", NULL, "oauth-provider: "
	  "\"yahoo\" is not one of microsoft, google, custom" },
	/* checked strings */
	{ "relay", "listen", "[::1]:2525", "[::1]:2525", NULL },
	{ "relay", "listen", "unix:/run/r.sock", "unix:/run/r.sock", NULL },
	{ "relay", "listen", "10025", NULL, "listen: \"10025\" is not "
	  "ADDRESS:PORT, [IPV6]:PORT or unix:PATH" },
	{ "relay", "listen", "::1:25", NULL, "listen: \"::1:25\" is not "
	  "ADDRESS:PORT, [IPV6]:PORT or unix:PATH" },
	{ "relay", "listen", "localhost:10025", NULL, "listen: "
	  "\"localhost:10025\" is not ADDRESS:PORT, [IPV6]:PORT or unix:PATH" },
	{ "milter", "socket", "inet:8891@127.0.0.1", "inet:8891@127.0.0.1",
	  NULL },
	{ "milter", "socket", "tcp:8891", NULL, "socket: \"tcp:8891\" is not "
	  "a milter socket (unix:PATH, inet:PORT@HOST or inet6:PORT@HOST)" },
	{ "account", "provider", "EXMAIL.qq.com", "exmail.qq.com", NULL },
	{ "account", "provider", "nosuch.example", NULL, "provider: unknown "
	  "provider \"nosuch.example\" (smarthostctl providers lists them)" },
	{ "account", "login", "Boss@MAIL.Example.COM", "Boss@mail.example.com",
	  NULL },
	{ "account", "login", "a b@example.com", NULL, "login: \"a b@example."
	  "com\" contains white space or control characters" },
	{ "account", "host", "SMTP.Example.com", "smtp.example.com", NULL },
	{ "account", "host", "::1", "::1", NULL },
	{ "account", "dkim-domain", "*", "*", NULL },
	{ "account", "spf-include", "_SPF.Google.com.", "_spf.google.com",
	  NULL },
	{ "account", "spf-include", "spf.163.com", "spf.163.com", NULL },
	{ "account", "spf-include", "_spf..example", NULL, "spf-include: "
	  "empty label in domain \"_spf..example\"" },
	{ "account", "oauth-token-url", "https://login.example/token",
	  "https://login.example/token", NULL },
	{ "account", "oauth-token-url", "http://127.0.0.1:8443/t",
	  "http://127.0.0.1:8443/t", NULL },
	{ "account", "oauth-token-url", "http://evil.example/t", NULL,
	  "oauth-token-url: \"http://evil.example/t\" is not an https:// URL" },
};

static void
test_values(void **state)
{
	char err[512], out[512];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const struct conf_option *o = conf_option_find(
		    values[i].section, values[i].name);
		struct conf *c = conf_defaults();
		struct account *a = account_new("t");
		void *base = strcmp(values[i].section, "account") == 0 ?
		    (void *)a : (void *)c;
		int rc;

		assert_non_null(o);
		if (o->type == OPT_LIST)	/* start from an empty list */
			strlist_free((struct strlist *)((char *)base +
			    o->offset));
		err[0] = '\0';
		rc = conf_set(o, base, values[i].in, err, sizeof(err));
		if (values[i].err) {
			assert_int_equal(rc, -1);
			assert_string_equal(err, values[i].err);
		} else {
			if (rc != 0)
				fail_msg("%s = %s: %s", values[i].name,
				    values[i].in, err);
			assert_string_equal(conf_format(o, base, out,
			    sizeof(out)), values[i].out);
		}
		account_free(a);
		conf_free(c);
	}
}

/* OPT_SIZE has no option in the table yet: test it on a struct of ours. */
static void
test_size(void **state)
{
	struct { unsigned long size; } s = { 0 };
	const struct conf_option o = { .section = "relay", .name = "max-size",
	    .type = OPT_SIZE, .offset = 0, .help = "" };
	static const struct { const char *in, *out; unsigned long v; } ok[] = {
		{ "512", "512", 512 }, { "64K", "64K", 65536 },
		{ "10M", "10M", 10485760 }, { "1g", "1G", 1073741824 },
		{ "2048", "2K", 2048 },
	};
	char err[256], out[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(conf_set(&o, &s, ok[i].in, err, sizeof(err)),
		    0);
		assert_int_equal(s.size, ok[i].v);
		assert_string_equal(conf_format(&o, &s, out, sizeof(out)),
		    ok[i].out);
	}
	assert_int_equal(conf_set(&o, &s, "10MB", err, sizeof(err)), -1);
	assert_string_equal(err,
	    "max-size: \"10MB\" is not a size (512, 64K, 10M, 1G)");
	assert_int_equal(conf_set(&o, &s, "99999999999999G", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "max-size: \"99999999999999G\" is not a size "
	    "(512, 64K, 10M, 1G)");
}

static const struct {
	const char *text, *msgs;
} errors[] = {
	{ "[global]\nuser = mail\n", "" },
	{ "[relay]\ncommand-timeout = 1d\n# more than a day\n"
	  "data-timeout = 1d1s\nidle-timeout = 2d\n",
	  "t.conf:4: data-timeout: \"1d1s\" is not a duration (30, 30s, 10m, "
	  "2h, 1d)\nt.conf:5: idle-timeout: \"2d\" is out of range (1 to "
	  "86400)\n" },
	{ "[account x]\nidle-timeout = 90000\n",
	  "t.conf:2: idle-timeout: \"90000\" is out of range (1 to 86400)\n" },
	{ "[relay]\nbogus = 1\n",
	  "t.conf:2: unknown option \"bogus\" in [relay]\n" },
	{ "[account a@b.example]\nlisten = 1\n",
	  "t.conf:2: unknown option \"listen\" in [account a@b.example]\n" },
	{ "[relay]\nlisten = 127.0.0.1:1\n# c\nlisten = 127.0.0.1:2\n",
	  "t.conf:4: duplicate option \"listen\" in [relay] (first on line "
	  "2)\n" },
	{ "[relay]\nmax-clients = 5\n[milter]\n[relay]\nmax-clients = 6\n",
	  "t.conf:5: duplicate option \"max-clients\" in [relay] (first on "
	  "line 2)\n" },
	{ "[account x]\nport = 1\n[account y]\nport = 2\n", "" },
	{ "[account x]\nport = 1\nport = 2\n",
	  "t.conf:3: duplicate option \"port\" in [account x] (first on line "
	  "2)\n" },
	{ "[account x]\n[account X]\n",
	  "t.conf:2: duplicate [account X] (first on line 1)\n" },
	{ "[account]\nport = 1\n",
	  "t.conf:1: account section without a name (write [account NAME])\n" },
	{ "[account a b]\n",
	  "t.conf:1: account name \"a b\" contains white space\n" },
	{ "[smtp]\nport = 1\n", "t.conf:1: unknown section [smtp] (expected "
	  "[global], [milter], [relay] or [account NAME])\n" },
	{ "[relay main]\n", "t.conf:1: section [relay] takes no name\n" },
	{ "[relay\nlisten = x\n", "t.conf:1: missing \"]\" in section line\n" },
	{ "[relay] x\n", "t.conf:1: text after \"]\" in section line\n" },
	{ "[relay] # comment\n[milter] ; comment\n", "" },
	{ "user = x\n", "t.conf:1: option \"user\" outside a section (add "
	  "[global], [milter], [relay] or [account NAME] above it)\n" },
	{ "[global]\nthis is not an option\n", "t.conf:2: cannot parse line: "
	  "expected \"name = value\" or \"[section]\"\n" },
	{ "[global]\nuser smarthost\n[relay]\nmax-clients 5\n",
	  "t.conf:2: cannot parse line: expected \"name = value\" or "
	  "\"[section]\"\n"
	  "t.conf:4: cannot parse line: expected \"name = value\" or "
	  "\"[section]\"\n" },
	{ "[relay]\nmax-clients = abc\nconnect-timeout = 5x\n",
	  "t.conf:2: max-clients: \"abc\" is not a number\n"
	  "t.conf:3: connect-timeout: \"5x\" is not a duration (30, 30s, 10m, "
	  "2h, 1d)\n" },
	{ "[account x]\nport = abc\n",
	  "t.conf:2: port: \"abc\" is not a number\n" },
	{ "[milter]\ndmarc = rejekt\n", "t.conf:2: dmarc: \"rejekt\" is not "
	  "one of reject, tempfail, accept, tag, off\n" },
	{ "[milter]\nreply-to = yes\n", "t.conf:2: reply-to: \"yes\" is not "
	  "one of original, none, auto\n" },
	{ "[relay]\nreply-to = none\n", "t.conf:2: unknown option "
	  "\"reply-to\" in [relay]\n" },
	{ "[account x]\nport = 465\n  tls = implicit\n",
	  "t.conf:3: indented line continues \"port\", which takes one value "
	  "(remove the indentation)\n" },
	{ "[account x]\nauth = xoauth2\n login\n",
	  "t.conf:2: auth: xoauth2 cannot be combined with password "
	  "mechanisms (account x)\n" },
	{ "[account x]\nprovider = nosuch\n", "t.conf:2: provider: unknown "
	  "provider \"nosuch\" (smarthostctl providers lists them)\n" },
	{ "[account x]\nauth = login\noauth-tenant = t\noauth-scope = s\n",
	  "t.conf:3: warning: oauth-tenant has no effect: account x does not "
	  "use auth = xoauth2\n" },
	{ "[account office@outlook.com]\noauth-tenant = t\n", "" },
	{ "[global]\n= x\n  user = a\nuser = b\n",
	  "t.conf:2: unknown option \"\" in [global]\n"
	  "t.conf:4: duplicate option \"user\" in [global] (first on line "
	  "3)\n" },
	{ "\xEF\xBB\xBF[global]\nuser = a\n", "" },
	{ "[global]\r\nuser = a\r\n", "" },
	{ "[account "		/* 49 characters between the brackets */
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nport = 1\n", "" },
	{ "[account "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nport = 1\n",
	  "t.conf:1: section name longer than 49 characters\n" },
};

static void
test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct conf *c;
		char *msgs;

		c = parse(errors[i].text, &msgs);
		if (strcmp(msgs ? msgs : "", errors[i].msgs) != 0)
			fail_msg("case %zu:\n%s\nwant:\n%s", i, msgs,
			    errors[i].msgs);
		free(msgs);
		conf_free(c);
	}
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[global]\nuser = a\0b\nstate-dir = /s\n";
	struct diag d;
	struct conf *c;
	char *msgs;

	diag_init(&d);
	c = conf_parse(text, sizeof(text) - 1, "t.conf", &d);
	msgs = diag_text(&d);
	assert_string_equal(msgs, "t.conf:2: NUL byte in line\n");
	assert_string_equal(c->user, "smarthost");
	assert_string_equal(c->state_dir, "/s");
	free(msgs);
	diag_free(&d);
	conf_free(c);
}

static void
test_long_line(void **state)
{
	char text[600], *msgs;
	struct conf *c;

	snprintf(text, sizeof(text), "[global]\nlocal-domains = %0*d\n"
	    "user = ok\n", 250, 0);
	c = parse(text, &msgs);
	assert_string_equal(msgs,
	    "t.conf:2: line longer than 199 characters\n");
	assert_string_equal(c->user, "ok");	/* the next line still counts */
	free(msgs);
	conf_free(c);
}

static const char accounts_conf[] =
	"# accounts\n"
	"[global]\n"
	"local-domains = company.cn,\n"
	"    office.lan\n"
	"  lab.office.lan\n"
	"[account exmail-shared]\n"
	"provider = exmail.qq.com\n"
	"login = Shared@Company.CN\n"
	"max-connections = 4\n"
	"allowed-users = alice bob\n"
	"    carol ; joined in May\n"
	"\n"
	"[account boss@163.com]\n"
	"daily-messages = 200\n"
	"sender-must-match = no\n"
	"[account custom]\n"
	"host = smtp.example.net\n"
	"port = 587\n"
	"tls = starttls\n"
	"auth = login ; inline comment\n"
	"ca-file = /etc/ssl/example.pem\n"
	"[account ms]\n"
	"auth = xoauth2\n"
	"oauth-provider = microsoft\n"
	"oauth-tenant = contoso.example\n";

static void
test_accounts(void **state)
{
	struct account *a;
	struct conf *c;
	char *msgs;

	c = parse(accounts_conf, &msgs);
	assert_string_equal(msgs, "");
	assert_int_equal(c->local_domains.n, 3);
	assert_string_equal(c->local_domains.v[2], "lab.office.lan");
	assert_int_equal(c->naccounts, 4);

	a = conf_account(c, "EXMAIL-shared");
	assert_non_null(a);
	assert_string_equal(a->file, "t.conf");
	assert_int_equal(a->line, 6);
	assert_int_equal(conf_account(c, "boss@163.com")->line, 13);
	assert_non_null(a->preset);
	assert_string_equal(a->preset->name, "exmail.qq.com");
	assert_string_equal(a->login, "Shared@company.cn");
	assert_int_equal(a->max_connections, 4);
	assert_int_equal(a->allowed_users.n, 3);
	assert_true(strlist_contains(&a->allowed_users, "BOB"));
	assert_true(strlist_contains(&a->allowed_users, "carol"));
	assert_false(strlist_contains(&a->allowed_users, "dave"));
	assert_int_equal(a->tls, -1);

	a = conf_account(c, "boss@163.com");
	assert_non_null(a->preset);
	assert_string_equal(a->preset->name, "163.com");
	assert_int_equal(a->daily_msgs, 200);
	assert_int_equal(a->sender_must_match, TRI_NO);
	assert_int_equal(a->auth_kind, AUTHK_PASSWORD);

	a = conf_account(c, "custom");
	assert_null(a->preset);
	assert_string_equal(a->host, "smtp.example.net");
	assert_int_equal(a->port, 587);
	assert_int_equal(a->tls, TLS_STARTTLS);
	assert_int_equal(a->auth.n, 1);
	assert_string_equal(a->auth.v[0], "LOGIN");
	assert_int_equal(a->sender_must_match, TRI_UNKNOWN);

	a = conf_account(c, "ms");
	assert_int_equal(a->auth_kind, AUTHK_XOAUTH2);
	assert_string_equal(a->oauth_provider, "microsoft");
	assert_null(conf_account(c, "nobody"));
	free(msgs);
	conf_free(c);
}

/* conf_write() output parses back to the same output. */
static void
test_write_roundtrip(void **state)
{
	char *out1 = NULL, *out2 = NULL, *msgs, in[256], want[256];
	size_t n1 = 0, n2 = 0;
	struct conf *c, *c2;
	FILE *fp;

	c = parse(accounts_conf, &msgs);
	free(msgs);
	fp = open_memstream(&out1, &n1);
	conf_write(fp, c, 0);
	fclose(fp);
	c2 = parse(out1, &msgs);
	assert_string_equal(msgs, "");
	free(msgs);
	fp = open_memstream(&out2, &n2);
	conf_write(fp, c2, 0);
	fclose(fp);
	assert_string_equal(out1, out2);
	assert_non_null(strstr(out1, "\n[account custom]\nhost = "
	    "smtp.example.net\nport = 587\ntls = starttls\nauth = LOGIN\n"));
	free(out1);
	free(out2);
	conf_free(c2);

	fp = open_memstream(&out1, &n1);
	conf_write(fp, c, 1);
	fclose(fp);
	assert_string_equal(out1, "[global]\nlocal-domains = company.cn "
	    "office.lan lab.office.lan\n\n[milter]\n\n[relay]\n\n"
	    "[account exmail-shared]\nprovider = exmail.qq.com\nlogin = "
	    "Shared@company.cn\nmax-connections = 4\nallowed-users = alice "
	    "bob carol\n\n[account boss@163.com]\ndaily-messages = 200\n"
	    "sender-must-match = no\n\n[account custom]\nhost = "
	    "smtp.example.net\nport = 587\ntls = starttls\nauth = LOGIN\n"
	    "ca-file = /etc/ssl/example.pem\n\n[account ms]\nauth = XOAUTH2\n"
	    "oauth-provider = microsoft\noauth-tenant = contoso.example\n");
	free(out1);
	conf_free(c);

	/* a value starting with ';' stays a value when written back */
	c = parse("[account x]\nlogin=;x\nallowed-users=;a b\n", &msgs);
	assert_string_equal(msgs, "");
	free(msgs);
	fp = open_memstream(&out1, &n1);
	conf_write(fp, c, 1);
	fclose(fp);
	assert_non_null(strstr(out1, "\nlogin =;x\nallowed-users =;a b\n"));
	free(out1);
	conf_free(c);

	/* a value as long as a line may be is written without spaces */
	snprintf(in, sizeof(in), "[account x]\nsender-refusal=%0184d\n", 0);
	c = parse(in, &msgs);
	assert_string_equal(msgs, "");
	free(msgs);
	fp = open_memstream(&out1, &n1);
	conf_write(fp, c, 1);
	fclose(fp);
	snprintf(want, sizeof(want), "\nsender-refusal=%0184d\n", 0);
	assert_non_null(strstr(out1, want));
	free(out1);
	conf_free(c);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/test_conf.XXXXXX", buf[512];
	struct diag d;
	struct conf *c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_true(write(fd, "[relay]\nmax-clients = 7\nx = 1\n", 30) == 30);
	close(fd);
	diag_init(&d);
	c = conf_load(path, 0, &d);
	assert_int_equal(c->max_clients, 7);
	assert_string_equal(c->path, path);
	assert_int_equal(d.n, 1);
	snprintf(buf, sizeof(buf), "%s:3: unknown option \"x\" in [relay]",
	    path);
	assert_string_equal(diag_format(&d.v[0], buf + 256, 256), buf);
	conf_free(c);
	diag_free(&d);
	unlink(path);

	diag_init(&d);		/* now missing */
	c = conf_load(path, CONF_MISSING_OK, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(c->max_clients, 100);
	conf_free(c);
	c = conf_load(path, 0, &d);
	assert_int_equal(diag_errors(&d), 1);
	snprintf(buf, sizeof(buf), "%s: cannot open: No such file or "
	    "directory", path);
	assert_string_equal(diag_format(&d.v[0], buf + 256, 256), buf);
	conf_free(c);
	diag_free(&d);
}

#define MAN_BEGIN ".\\\" BEGIN OPTIONS: written by conf_write_mdoc()\n"
#define MAN_END ".\\\" END OPTIONS\n"

static char *
read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		fail_msg("cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* SMARTHOST_UPDATE_MAN=1: write the generated block into the page. */
static void
update_man(const char *path, const char *page, const char *begin,
    const char *end, const char *block)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "%.*s%s%s", (int)(begin - page + strlen(MAN_BEGIN)),
	    page, block, end);
	fclose(fp);
}

/* The first literal display of EXAMPLES parses without a diagnostic. */
static void
check_example(const char *path, const char *page)
{
	const char *ex = strstr(page, "\n.Sh EXAMPLES\n"), *b, *e;
	char *text, *msgs;
	struct conf *c;

	b = ex ? strstr(ex, "\n.Bd -literal -offset indent\n") : NULL;
	e = b ? strstr(b + 1, "\n.Ed\n") : NULL;
	if (e == NULL)
		fail_msg("%s: no example in EXAMPLES", path);
	b += strlen("\n.Bd -literal -offset indent\n");
	text = strndup(b, (size_t)(e - b + 1));
	c = parse(text, &msgs);
	if (*msgs)
		fail_msg("%s: the example has errors:\n%s", path, msgs);
	assert_int_equal(c->dmarc, ACT_TAG);
	assert_int_equal(conf_account(c, "exmail-shared")->allowed_users.n, 3);
	free(msgs);
	free(text);
	conf_free(c);
}

/* The table drives the man page: the page holds exactly what
 * conf_write_mdoc() writes, and names every option and no other. */
static void
test_man_page(void **state)
{
	const char *top = getenv("SMARTHOST_TOP");
	char path[4096], *page, *block = NULL, *begin, *end, *p;
	size_t n = 0;
	FILE *fp;

	if (top == NULL)
		fail_msg("SMARTHOST_TOP is not set (the repository root; "
		    "tests/harness/run-tests sets it)");
	snprintf(path, sizeof(path), "%s/man/smarthost.conf.5", top);
	page = read_all(path);
	fp = open_memstream(&block, &n);
	conf_write_mdoc(fp);
	fclose(fp);
	begin = strstr(page, MAN_BEGIN);
	end = begin ? strstr(begin, MAN_END) : NULL;
	if (begin == NULL || end == NULL)
		fail_msg("%s: no BEGIN/END OPTIONS markers", path);
	if (getenv("SMARTHOST_UPDATE_MAN"))
		update_man(path, page, begin, end, block);
	else if (strncmp(begin + strlen(MAN_BEGIN), block,
	    (size_t)(end - begin) - strlen(MAN_BEGIN)) != 0 ||
	    (size_t)(end - begin) - strlen(MAN_BEGIN) != strlen(block))
		fail_msg("%s differs from the option table: run "
		    "SMARTHOST_UPDATE_MAN=1 SMARTHOST_TOP=. build/tests/"
		    "test_conf", path);
	for (size_t i = 0; i < conf_noptions; i++) {
		char want[128];

		snprintf(want, sizeof(want), "\n.It Cm %s ",
		    conf_options[i].name);
		if (strstr(page, want) == NULL)
			fail_msg("%s: option %s is not documented", path,
			    conf_options[i].name);
	}
	for (p = page; (p = strstr(p, "\n.It Cm ")) != NULL; p++) {
		char name[128] = "";
		int found = 0;

		sscanf(p + 8, "%127s", name);
		for (size_t i = 0; i < conf_noptions; i++)
			found |= strcmp(conf_options[i].name, name) == 0;
		if (!found)
			fail_msg("%s documents \"%s\", which is no option",
			    path, name);
	}
	check_example(path, page);
	free(block);
	free(page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_account_defaults),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_man_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
