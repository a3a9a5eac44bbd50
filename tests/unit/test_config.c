/*
 * Unit tests for lib/config.c: small smarthost.conf / relay.map / secrets
 * files in a temporary directory, resolved into a snapshot — preset
 * accounts by address, [account] blocks with provider =, the implicit
 * login routes, and every account error with its exact file:line message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static char dir[64];
static char conf_path[128], map_path[128], secrets_path[128];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* smarthost.conf = the [global] lines for this directory + extra. */
static struct config *
load(const char *conf_extra, const char *map, int flags, struct diag *d)
{
	char *text;

	text = xasprintf("[global]\nrelay-map = %s\nsecrets = %s\n%s",
	    map_path, secrets_path, conf_extra);
	write_file(conf_path, text, 0644);
	free(text);
	write_file(map_path, map, 0644);
	diag_init(d);
	return config_load(conf_path, flags, d);
}

/* Every diagnostic formatted, "DIR" standing for the directory. */
static char *
diags(const struct diag *d)
{
	static char out[4096];
	char buf[1024], *p;
	size_t dl = strlen(dir);

	out[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		diag_format(&d->v[i], buf, sizeof(buf));
		while ((p = strstr(buf, dir)) != NULL) {
			memmove(p + 3, p + dl, strlen(p + dl) + 1);
			memcpy(p, "DIR", 3);
		}
		xstrlcat(out, buf, sizeof(out));
		xstrlcat(out, "\n", sizeof(out));
	}
	return out;
}

static int
setup(void **state)
{
	xstrlcpy(dir, "/tmp/test_config.XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/smarthost.conf", dir);
	snprintf(map_path, sizeof(map_path), "%s/relay.map", dir);
	snprintf(secrets_path, sizeof(secrets_path), "%s/secrets", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(conf_path);
	unlink(map_path);
	unlink(secrets_path);
	return rmdir(dir);
}

static const char blocks[] =
    "[account exmail-shared]\n"			/* line 4 */
    "provider = exmail.qq.com\n"
    "login = Shared@Company.cn\n"
    "\n"
    "[account office-relay]\n"			/* line 8 */
    "host = smtp.office.example\n"
    "port = 587\n"
    "login = relay@office.example\n"
    "\n"
    "[account unused]\n"			/* line 13: no host, unused */
    "login = nobody@nowhere.example\n";

static const char sketch[] =
    "# sender              account            options\n"
    "boss@163.com          boss@163.com\n"
    "@company.cn           exmail-shared\n"
    "scanner@office.lan    alerts@163.com     rewrite\n"
    "*                     office@qq.com      rewrite\n"
    "@office.example       office-relay\n";

static void
test_sketch(void **state)
{
	struct diag d;
	struct config *c = load(blocks, sketch, 0, &d);
	const struct map_entry *e;
	struct account *a;

	assert_string_equal(diags(&d), "");
	assert_null(c->secrets);
	/* 3 blocks, then the implicit preset accounts in map order */
	assert_int_equal(c->naccounts, 6);
	assert_string_equal(c->accounts[3]->name, "boss@163.com");
	assert_string_equal(c->accounts[4]->name, "alerts@163.com");
	assert_string_equal(c->accounts[5]->name, "office@qq.com");
	a = config_account(c, "exmail-shared");
	assert_non_null(a);
	assert_true(a->used);
	assert_non_null(a->preset);
	assert_string_equal(a->preset->name, "exmail.qq.com");
	a = config_account(c, "alerts@163.com");
	assert_non_null(a);
	assert_string_equal(a->login, "alerts@163.com");
	assert_string_equal(a->preset->name, "163.com");
	assert_null(a->file);
	assert_ptr_equal(config_account(c, "Alerts@163.COM"), a);
	assert_null(config_account(c, "Exmail-Shared"));
	assert_null(config_account(c, "nobody@163.org"));
	assert_false(config_account(c, "unused")->used);
	/* implicit login routes: same account, never "*" */
	e = relaymap_lookup(c->map, "alerts@163.com");
	assert_non_null(e);
	assert_int_equal(e->line, 0);
	assert_int_equal(e->kind, MAP_EXACT);
	assert_int_equal(e->opts, 0);
	assert_ptr_equal(config_account(c, e->account),
	    config_account(c, "alerts@163.com"));
	e = relaymap_lookup(c->map, "office@qq.com");
	assert_int_equal(e->line, 0);
	assert_string_equal(e->account, "office@qq.com");
	e = relaymap_lookup(c->map, "shared@company.cn");
	assert_int_equal(e->line, 0);
	assert_string_equal(e->account, "exmail-shared");
	e = relaymap_lookup(c->map, "relay@office.example");
	assert_int_equal(e->line, 0);
	assert_string_equal(e->account, "office-relay");
	/* the map's own line for a login stays */
	e = relaymap_lookup(c->map, "boss@163.com");
	assert_int_equal(e->line, 2);
	/* the unused block gets no route */
	assert_string_equal(relaymap_lookup(c->map,
	    "nobody@nowhere.example")->key, "*");
	assert_int_equal(relaymap_count(c->map), 5 + 4);
	config_unref(c);
	diag_free(&d);
}

/* A map line for a login that names another account wins, with a
 * warning: the rewritten envelope would leave through that account. */
static void
test_own_line_wins(void **state)
{
	struct diag d;
	struct config *c = load("", "alerts@163.com  office@qq.com\n"
	    "scanner@office.lan  alerts@163.com rewrite\n", 0, &d);
	const struct map_entry *e;

	assert_string_equal(diags(&d), "DIR/relay.map:1: warning: "
	    "\"alerts@163.com\" is the login of account \"alerts@163.com\", "
	    "but this line routes it to account \"office@qq.com\"\n");
	assert_int_equal(diag_errors(&d), 0);
	e = relaymap_lookup(c->map, "alerts@163.com");
	assert_int_equal(e->line, 1);
	assert_string_equal(e->account, "office@qq.com");
	/* office@qq.com's own login route was added */
	assert_int_equal(relaymap_lookup(c->map, "office@qq.com")->line, 0);
	config_unref(c);
	diag_free(&d);
}

static void
test_unknown_account(void **state)
{
	struct diag d;
	struct config *c = load("",
	    "@x.com     nobody@example.org\n"
	    "@y.com     ghost\n"
	    "@z.com     ghost\n"
	    "@w.com     Nobody@Example.ORG rewrite\n"
	    "*          office@qq.com\n", 0, &d);

	assert_string_equal(diags(&d),
	    "DIR/relay.map:1: unknown account \"nobody@example.org\" (no "
	    "[account nobody@example.org] block in DIR/smarthost.conf and no "
	    "preset for domain example.org)\n"
	    "DIR/relay.map:2: unknown account \"ghost\" (no [account ghost] "
	    "block in DIR/smarthost.conf)\n");
	assert_int_equal(diag_errors(&d), 2);
	assert_null(config_account(c, "ghost"));
	assert_non_null(config_account(c, "office@qq.com"));
	config_unref(c);
	diag_free(&d);
}

static void
test_no_host_no_login(void **state)
{
	struct diag d;
	struct config *c = load(
	    "[account lan]\n"			/* line 4 */
	    "login = x@office.lan\n"
	    "[account nologin]\n"		/* line 6 */
	    "host = smtp.example.net\n",
	    "@office.lan   lan\n@example.net  nologin\n", 0, &d);

	assert_string_equal(diags(&d),
	    "DIR/smarthost.conf:4: account \"lan\" has no host (set host or "
	    "provider in [account lan])\n"
	    "DIR/smarthost.conf:6: account \"nologin\" has no login address "
	    "(set login in [account nologin])\n");
	config_unref(c);
	diag_free(&d);
}

static void
test_one_login_two_accounts(void **state)
{
	struct diag d;
	struct config *c = load(
	    "[account a]\n"			/* line 4 */
	    "provider = exmail.qq.com\n"
	    "login = Shared@Company.cn\n"
	    "[account b]\n"			/* line 7 */
	    "provider = exmail.qq.com\n"
	    "login = shared@company.cn\n"
	    "[account boss-alt]\n"		/* line 10 */
	    "provider = 163.com\n"
	    "login = boss@163.com\n",
	    "@a.cn  a\n"
	    "@b.cn  b\n"
	    "@c.cn  boss@163.com\n"
	    "@d.cn  boss-alt\n", 0, &d);

	assert_string_equal(diags(&d),
	    "DIR/smarthost.conf:10: account \"boss-alt\" has the same login "
	    "\"boss@163.com\" as account \"boss@163.com\" (DIR/relay.map:3)\n"
	    "DIR/smarthost.conf:7: account \"b\" has the same login "
	    "\"shared@company.cn\" as account \"a\" (DIR/smarthost.conf:4)\n");
	config_unref(c);
	diag_free(&d);
}

/* An [account] block named by an address: login defaults to it and its
 * domain's preset applies; the map may spell it differently. */
static void
test_address_block(void **state)
{
	struct diag d;
	struct config *c = load("[account Boss@163.com]\nmax-connections = 1\n",
	    "@x.cn  boss@163.com\n", 0, &d);
	struct account *a;

	assert_string_equal(diags(&d), "");
	a = config_account(c, "boss@163.com");
	assert_non_null(a);
	assert_non_null(a->file);
	assert_int_equal(a->line, 4);
	assert_string_equal(a->login, "boss@163.com");
	assert_string_equal(a->preset->name, "163.com");
	assert_int_equal(c->naccounts, 1);
	assert_ptr_equal(config_account(c, relaymap_lookup(c->map,
	    "boss@163.com")->account), a);
	config_unref(c);
	diag_free(&d);
}

static void
test_null_sender_account(void **state)
{
	struct diag d;
	struct config *c = load("[relay]\nnull-sender-account = "
	    "Bounce@163.com\n", "* office@qq.com\n", 0, &d);
	const struct map_entry *e;

	assert_string_equal(diags(&d), "");
	e = relaymap_lookup(c->map, "");
	assert_non_null(e);
	assert_int_equal(e->kind, MAP_NULL);
	assert_int_equal(e->line, 0);
	assert_string_equal(e->account, "bounce@163.com");
	assert_true(config_account(c, "bounce@163.com")->used);
	config_unref(c);
	/* the map's own "<>" line wins */
	c = load("[relay]\nnull-sender-account = bounce@163.com\n",
	    "<> office@qq.com\n", 0, &d);
	assert_string_equal(diags(&d), "");
	assert_string_equal(relaymap_lookup(c->map, "")->account,
	    "office@qq.com");
	config_unref(c);
	diag_free(&d);
}

static void
test_secrets(void **state)
{
	struct diag d;
	struct config *c;

	write_file(secrets_path, "# account code\nboss@163.com abcdabcdabcd\n"
	    "exmail-shared  efgh efgh\n", 0600);
	c = load(blocks, sketch, CONFIG_SECRETS, &d);
	assert_string_equal(diags(&d),
	    "DIR/relay.map:4: warning: no authorization code for account "
	    "\"alerts@163.com\"\n"
	    "DIR/relay.map:5: warning: no authorization code for account "
	    "\"office@qq.com\"\n"
	    "DIR/relay.map:6: warning: no authorization code for account "
	    "\"office-relay\"\n");
	assert_int_equal(diag_errors(&d), 0);
	assert_non_null(c->secrets);
	assert_string_equal(secrets_get(c->secrets, "boss@163.com"),
	    "abcdabcdabcd");
	config_unref(c);
	diag_free(&d);
	/* a world-readable file is refused whole: an error */
	assert_int_equal(chmod(secrets_path, 0644), 0);
	c = load(blocks, sketch, CONFIG_SECRETS, &d);
	assert_null(c->secrets);
	assert_true(diag_errors(&d) >= 1);
	config_unref(c);
	diag_free(&d);
}

/* config_load_subst(): another map and secrets file stand in for those
 * smarthost.conf names, and diagnostics name the stand-ins. */
static void
test_subst(void **state)
{
	struct config_subst subst;
	struct diag d;
	struct config *c;
	char alt_map[160], alt_secrets[160];

	snprintf(alt_map, sizeof(alt_map), "%s/.relay.map.edit", dir);
	snprintf(alt_secrets, sizeof(alt_secrets), "%s/.secrets.edit", dir);
	write_file(secrets_path, "boss@163.com abcdabcdabcd\n", 0600);
	write_file(alt_map, "boss@163.com boss@163.com\n"
	    "other@163.com nosuch\n", 0600);
	write_file(alt_secrets, "boss@163.com changed-code\n", 0600);
	c = load("", "boss@163.com boss@163.com\n", CONFIG_SECRETS, &d);
	assert_string_equal(diags(&d), "");
	config_unref(c);
	diag_free(&d);
	subst = (struct config_subst){ alt_map, alt_secrets };
	diag_init(&d);
	c = config_load_subst(conf_path, CONFIG_SECRETS, &subst, &d);
	assert_string_equal(diags(&d), "DIR/.relay.map.edit:2: unknown account "
	    "\"nosuch\" (no [account nosuch] block in DIR/smarthost.conf)\n");
	assert_string_equal(c->conf->relay_map, alt_map);
	assert_string_equal(secrets_get(c->secrets, "boss@163.com"),
	    "changed-code");
	config_unref(c);
	diag_free(&d);
	/* only the secrets: the map named is read */
	subst = (struct config_subst){ NULL, alt_secrets };
	diag_init(&d);
	c = config_load_subst(conf_path, CONFIG_SECRETS, &subst, &d);
	assert_string_equal(diags(&d), "");
	assert_string_equal(c->conf->relay_map, map_path);
	config_unref(c);
	diag_free(&d);
	unlink(alt_map);
	unlink(alt_secrets);
}

/* xoauth2 accounts need no code, but an application's client ID and,
 * once authorized, a token file. */
static void
test_xoauth2_secrets(void **state)
{
	struct diag d;
	struct config *c;
	char *extra, tokdir[192], tok[256];

	write_file(secrets_path, "", 0600);
	extra = xasprintf("state-dir = %s\n[account ms]\n"
	    "host = smtp.office365.com\nlogin = ms@contoso.example\n"
	    "auth = xoauth2\noauth-client-id = 0000-1111\n", dir);
	c = load(extra, "ms@contoso.example ms\n"
	    "office@outlook.com office@outlook.com\n", CONFIG_SECRETS, &d);
	assert_string_equal(diags(&d),
	    "DIR/relay.map:1: warning: no OAuth2 token for account \"ms\" "
	    "yet: run \"smarthostctl oauth ms\"\n"
	    "DIR/relay.map:2: warning: account \"office@outlook.com\" uses "
	    "auth = xoauth2 but has no oauth-client-id (the application "
	    "registered with the provider, see INSTALL)\n");
	config_unref(c);
	diag_free(&d);
	/* authorized: no warning for ms */
	snprintf(tokdir, sizeof(tokdir), "%s/oauth", dir);
	snprintf(tok, sizeof(tok), "%s/ms.json", tokdir);
	assert_int_equal(mkdir(tokdir, 0700), 0);
	write_file(tok, "{\"refresh_token\": \"rt\"}\n", 0600);
	c = load(extra, "ms@contoso.example ms\n", CONFIG_SECRETS, &d);
	assert_string_equal(diags(&d), "");
	config_unref(c);
	diag_free(&d);
	/* a token file others may read is named */
	assert_int_equal(chmod(tok, 0644), 0);
	c = load(extra, "ms@contoso.example ms\n", CONFIG_SECRETS, &d);
	assert_string_equal(diags(&d), "DIR/relay.map:1: warning: account "
	    "\"ms\": DIR/oauth/ms.json: not a regular file of mode 0600 "
	    "(mode 0644): refused\n");
	config_unref(c);
	diag_free(&d);
	unlink(tok);
	rmdir(tokdir);
	free(extra);
}

static void
test_missing_files(void **state)
{
	struct diag d;
	struct config *c;
	char buf[512], want[512];

	unlink(conf_path);
	diag_init(&d);
	c = config_load(conf_path, 0, &d);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", conf_path);
	assert_true(d.n >= 1);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)), want);
	assert_non_null(c->map);
	config_unref(c);
	diag_free(&d);
	c = config_load(conf_path, CONFIG_MISSING_OK, &d);
	for (size_t i = 0; i < d.n; i++)
		assert_true(d.v[i].file == NULL ||
		    strcmp(d.v[i].file, conf_path) != 0);
	config_unref(c);
	diag_free(&d);
	/* a map that is missing is an error naming it */
	write_file(conf_path, "[global]\nrelay-map = /nonexistent/relay.map\n",
	    0644);
	c = config_load(conf_path, 0, &d);
	assert_string_equal(diags(&d), "/nonexistent/relay.map: cannot read: "
	    "No such file or directory\n");
	config_unref(c);
	diag_free(&d);
}

static void
test_refs(void **state)
{
	struct diag d;
	struct config *c = load("", "* office@qq.com\n", 0, &d);

	assert_int_equal(c->refs, 1);
	assert_ptr_equal(config_ref(c), c);
	assert_int_equal(c->refs, 2);
	config_unref(c);
	assert_int_equal(c->refs, 1);
	config_unref(c);		/* freed: ASan would see a leak or reuse */
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_xoauth2_secrets),
		cmocka_unit_test(test_sketch),
		cmocka_unit_test(test_own_line_wins),
		cmocka_unit_test(test_unknown_account),
		cmocka_unit_test(test_no_host_no_login),
		cmocka_unit_test(test_one_login_two_accounts),
		cmocka_unit_test(test_address_block),
		cmocka_unit_test(test_null_sender_account),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_refs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
