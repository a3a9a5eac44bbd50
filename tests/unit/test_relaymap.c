/*
 * Unit tests for lib/relaymap.c: every pattern kind and its precedence
 * whatever the line order, case folding, IDN patterns, "<>" against "*",
 * every bad line with its exact file:line message, and the load time of
 * a generated 100,000-line map.
 */
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

#include "diag.h"
#include "relaymap.h"
#include "util.h"

/* Most specific first in meaning, deliberately shuffled in the file. */
static const char map_text[] =
    "# sender            account           options\n"
    "*                   office@qq.com     rewrite\n"
    "@.example.com       sub-acct\n"
    "\n"
    "   @example.com     dom-acct          # trailing comment\n"
    "Boss@Example.COM    Boss@163.COM\n"
    "@a.example.com      a-acct\n"
    "@.b.example.com\tb-sub\n"
    "<>                  bounce@163.com\n"
    "@例子.测试           idn-acct\n"
    "@.xn--fsqu00a.xn--0zwm56d idn-sub\n"
    "alice@例子.测试      alice-acct\n"
    "scanner@office.lan  alerts@163.com    rewrite\n"
    "x@y.org             acct              rewrite,rewrite\n"
    "z@y.org             acct              rewrite rewrite\n"
    "@[192.0.2.1]        literal-acct\n"
    "o@y.org             acct              rewrite,reply-to=original\n"
    "n@y.org             acct              reply-to=none rewrite\n"
    "a@y.org             acct              reply-to=auto\n";

static const struct {
	const char *sender;	/* as addr_key() makes it */
	const char *key;	/* matching pattern, NULL = none */
} lookups[] = {
	{ "boss@example.com", "boss@example.com" },
	{ "other@example.com", "@example.com" },
	{ "x@a.example.com", "@a.example.com" },
	{ "x@c.a.example.com", "@.example.com" },
	{ "x@c.b.example.com", "@.b.example.com" },
	{ "x@d.c.b.example.com", "@.b.example.com" },
	{ "x@b.example.com", "@.example.com" },
	{ "x@example.org", "*" },
	{ "x@badexample.com", "*" },
	{ "", "<>" },
	{ "<>", "<>" },
	{ "x@xn--fsqu00a.xn--0zwm56d", "@xn--fsqu00a.xn--0zwm56d" },
	{ "alice@xn--fsqu00a.xn--0zwm56d", "alice@xn--fsqu00a.xn--0zwm56d" },
	{ "x@sub.xn--fsqu00a.xn--0zwm56d", "@.xn--fsqu00a.xn--0zwm56d" },
	{ "x@[192.0.2.1]", "@[192.0.2.1]" },
	{ "x@[192.0.2.2]", "*" },
	{ "scanner@office.lan", "scanner@office.lan" },
	{ "x@office.lan", "*" },
};

static struct relaymap *
parse(const char *text, struct diag *d)
{
	return relaymap_parse(text, strlen(text), "relay.map", d);
}

static void
test_precedence(void **state)
{
	struct diag d;
	struct relaymap *m;
	const struct map_entry *e;

	diag_init(&d);
	m = parse(map_text, &d);
	diag_print(&d, stderr);
	assert_int_equal(diag_errors(&d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(relaymap_count(m), 17);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		e = relaymap_lookup(m, lookups[i].sender);
		assert_non_null(e);
		if (strcmp(e->key, lookups[i].key) != 0)
			fail_msg("%s matched %s, expected %s",
			    lookups[i].sender, e->key, lookups[i].key);
	}
	relaymap_free(m);
	diag_free(&d);
}

static void
test_entries(void **state)
{
	struct diag d;
	struct relaymap *m;
	const struct map_entry *e;

	diag_init(&d);
	m = parse(map_text, &d);
	e = relaymap_entry(m, 0);
	assert_int_equal(e->kind, MAP_ANY);
	assert_string_equal(e->account, "office@qq.com");
	assert_int_equal(e->opts, MAP_REWRITE);
	assert_int_equal(e->line, 2);
	assert_string_equal(e->file, "relay.map");
	/* address patterns and accounts are folded like Postfix keys */
	e = relaymap_get(m, "boss@example.com");
	assert_non_null(e);
	assert_int_equal(e->kind, MAP_EXACT);
	assert_string_equal(e->account, "boss@163.com");
	assert_int_equal(e->opts, 0);
	assert_int_equal(e->line, 6);
	/* bare account names are kept as written */
	assert_string_equal(relaymap_get(m, "@.example.com")->account,
	    "sub-acct");
	assert_int_equal(relaymap_get(m, "@.example.com")->kind,
	    MAP_SUBDOMAIN);
	assert_int_equal(relaymap_get(m, "@example.com")->kind, MAP_DOMAIN);
	assert_int_equal(relaymap_get(m, "<>")->kind, MAP_NULL);
	assert_int_equal(relaymap_get(m, "x@y.org")->opts, MAP_REWRITE);
	assert_int_equal(relaymap_get(m, "z@y.org")->opts, MAP_REWRITE);
	/* reply-to=: one flag each, beside rewrite, in any order */
	assert_int_equal(relaymap_get(m, "o@y.org")->opts,
	    MAP_REWRITE | MAP_REPLYTO_ORIGINAL);
	assert_int_equal(relaymap_get(m, "n@y.org")->opts,
	    MAP_REWRITE | MAP_REPLYTO_NONE);
	assert_int_equal(relaymap_get(m, "a@y.org")->opts, MAP_REPLYTO_AUTO);
	assert_int_equal(relaymap_get(m, "z@y.org")->opts & MAP_REPLYTO_MASK,
	    0);
	assert_null(relaymap_get(m, "Boss@Example.COM"));
	assert_null(relaymap_get(m, "@b.example.com"));
	assert_null(relaymap_entry(m, relaymap_count(m)));
	assert_string_equal(map_kind_name(MAP_SUBDOMAIN), "subdomain");
	assert_string_equal(map_kind_name(MAP_NULL), "null");
	relaymap_free(m);
	diag_free(&d);
}

/* "*" never takes the null sender; without "*" nothing matches. */
static void
test_null_vs_any(void **state)
{
	struct diag d;
	struct relaymap *m;

	diag_init(&d);
	m = parse("* office@qq.com\n", &d);
	assert_null(relaymap_lookup(m, ""));
	assert_string_equal(relaymap_lookup(m, "a@b.c")->key, "*");
	relaymap_free(m);
	m = parse("<> bounce@163.com\n@b.c acct\n", &d);
	assert_string_equal(relaymap_lookup(m, "")->key, "<>");
	assert_null(relaymap_lookup(m, "a@x.c"));
	assert_null(relaymap_lookup(m, "a@a.b.c"));
	assert_string_equal(relaymap_lookup(m, "a@b.c")->key, "@b.c");
	relaymap_free(m);
	m = parse("", &d);
	assert_int_equal(relaymap_count(m), 0);
	assert_null(relaymap_lookup(m, ""));
	assert_null(relaymap_lookup(m, "a@b.c"));
	relaymap_free(m);
	assert_int_equal(d.n, 0);
	diag_free(&d);
}

static void
test_add_implicit(void **state)
{
	struct diag d;
	struct relaymap *m;
	const struct map_entry *dup = NULL;
	struct map_entry *e;

	diag_init(&d);
	m = parse("alerts@163.com other\n* alerts@163.com rewrite\n", &d);
	assert_null(relaymap_add(m, "alerts@163.com", MAP_EXACT,
	    "alerts@163.com", 0, 0, &dup));
	assert_non_null(dup);
	assert_int_equal(dup->line, 1);
	e = relaymap_add(m, "boss@163.com", MAP_EXACT, "boss@163.com", 0, 0,
	    &dup);
	assert_non_null(e);
	assert_int_equal(e->line, 0);
	assert_ptr_equal(relaymap_entry(m, 2), e);
	assert_ptr_equal(relaymap_lookup(m, "boss@163.com"), e);
	relaymap_free(m);
	diag_free(&d);
}

static const struct {
	const char *text;
	const char *msg;	/* the one diagnostic, formatted */
} bad[] = {
	{ "foo bar\n", "relay.map:1: bad pattern \"foo\": expected "
	  "local@domain, @domain, @.domain, * or <>" },
	{ "# c\n@a..b acct\n", "relay.map:2: bad pattern \"@a..b\": empty "
	  "label in domain \"a..b\"" },
	{ "@ acct\n", "relay.map:1: bad pattern \"@\": empty domain" },
	{ "@.x_y.com acct\n", "relay.map:1: bad pattern \"@.x_y.com\": "
	  "invalid character '_' in domain \"x_y.com\"" },
	{ "@.[192.0.2.1] acct\n", "relay.map:1: bad pattern "
	  "\"@.[192.0.2.1]\": an address literal has no subdomains" },
	{ "a@@b.com x\n", "relay.map:1: bad pattern \"a@@b.com\": invalid "
	  "character '@' in domain \"@b.com\"" },
	{ "@x.com @163.com\n", "relay.map:1: bad account \"@163.com\": empty "
	  "local part in \"@163.com\"" },
	{ "@x.com a@b..com\n", "relay.map:1: bad account \"a@b..com\": empty "
	  "label in domain \"b..com\"" },
	{ "@x.com\n", "relay.map:1: missing account after pattern \"@x.com\"" },
	{ "@x.com # acct\n", "relay.map:1: missing account after pattern "
	  "\"@x.com\"" },
	{ "@x.com acct rewrit\n", "relay.map:1: unknown option \"rewrit\"" },
	{ "@x.com acct rewrite,bogus\n", "relay.map:1: unknown option "
	  "\"bogus\"" },
	{ "@x.com acct rewrite extra\n", "relay.map:1: unknown option "
	  "\"extra\"" },
	{ "@x.com acct rewrite,,rewrite\n", "relay.map:1: empty option in "
	  "\"rewrite,,rewrite\"" },
	{ "@x.com acct reply-to=always\n", "relay.map:1: bad reply-to "
	  "\"always\": expected original, none or auto" },
	{ "@x.com acct reply-to=\n", "relay.map:1: bad reply-to \"\": "
	  "expected original, none or auto" },
	{ "@x.com acct reply-to=None\n", "relay.map:1: bad reply-to "
	  "\"None\": expected original, none or auto" },
	{ "@x.com acct reply-to=none,reply-to=auto\n", "relay.map:1: "
	  "reply-to given twice" },
	{ "@x.com acct reply-to=none reply-to=none\n", "relay.map:1: "
	  "reply-to given twice" },
	{ "@x.com acct reply-to\n", "relay.map:1: unknown option "
	  "\"reply-to\"" },
	{ "@x.com a\n\n@X.COM. b\n", "relay.map:3: duplicate pattern "
	  "\"@X.COM.\" (first at relay.map:1)" },
	{ "* a\n# c\n* b rewrite\n", "relay.map:3: duplicate pattern \"*\" "
	  "(first at relay.map:1)" },
	{ "<> a\n<> b\n", "relay.map:2: duplicate pattern \"<>\" "
	  "(first at relay.map:1)" },
	{ "@例子.测试 a\n@xn--fsqu00a.xn--0zwm56d b\n", "relay.map:2: "
	  "duplicate pattern \"@xn--fsqu00a.xn--0zwm56d\" (first at "
	  "relay.map:1)" },
	{ "@x.com a\r\n", "relay.map:1: carriage return in line "
	  "(DOS line endings?)" },
	{ "@x.com a\n* b\r", "relay.map:2: carriage return in line "
	  "(DOS line endings?)" },
};

static void
check_one(const char *text, size_t len, const char *msg)
{
	struct diag d;
	struct relaymap *m;
	char buf[1024];

	diag_init(&d);
	m = relaymap_parse(text, len, "relay.map", &d);
	if (d.n != 1)
		fail_msg("%zu diagnostics for %s, expected %s", d.n, text, msg);
	assert_int_equal(diag_errors(&d), 1);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)), msg);
	relaymap_free(m);
	diag_free(&d);
}

static void
test_bad_lines(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_one(bad[i].text, strlen(bad[i].text), bad[i].msg);
	check_one("@x.com a\n@y.com\0 b\n", 19,
	    "relay.map:2: NUL byte in line");
}

static void
test_line_length(void **state)
{
	char text[RELAYMAP_LINE_MAX + 64];
	struct diag d;
	struct relaymap *m;
	size_t n;

	/* exactly RELAYMAP_LINE_MAX characters: accepted */
	n = (size_t)snprintf(text, sizeof(text), "@x.com a #");
	memset(text + n, 'c', RELAYMAP_LINE_MAX - n);
	strcpy(text + RELAYMAP_LINE_MAX, "\n");
	diag_init(&d);
	m = parse(text, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(relaymap_count(m), 1);
	relaymap_free(m);
	/* one more: refused, and the next line still counted as line 2 */
	text[RELAYMAP_LINE_MAX] = 'c';
	strcpy(text + RELAYMAP_LINE_MAX + 1, "\n* b\n");
	check_one(text, strlen(text),
	    "relay.map:1: line longer than 1024 characters");
	m = parse(text, &d);
	assert_int_equal(relaymap_count(m), 1);
	assert_int_equal(relaymap_entry(m, 0)->line, 2);
	relaymap_free(m);
	diag_free(&d);
}

/* A bad file keeps its good lines and reports every bad one. */
static void
test_many_errors(void **state)
{
	struct diag d;
	struct relaymap *m;
	char buf[512];

	diag_init(&d);
	m = parse("@a.com x\nbad x\n@b.com\n@c.com y\n@a.com z\n", &d);
	assert_int_equal(diag_errors(&d), 3);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[1].line, 3);
	assert_string_equal(diag_format(&d.v[2], buf, sizeof(buf)),
	    "relay.map:5: duplicate pattern \"@a.com\" (first at "
	    "relay.map:1)");
	assert_int_equal(relaymap_count(m), 2);
	assert_string_equal(relaymap_lookup(m, "q@a.com")->account, "x");
	relaymap_free(m);
	diag_free(&d);
}

static void
test_load_errors(void **state)
{
	char dir[] = "/tmp/test_relaymap.XXXXXX", path[256], buf[256];
	struct diag d;
	struct relaymap *m;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/relay.map", dir);
	diag_init(&d);
	m = relaymap_load(path, &d);
	assert_int_equal(relaymap_count(m), 0);
	snprintf(path, sizeof(path), "%s/relay.map: cannot read: No such "
	    "file or directory", dir);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)), path);
	relaymap_free(m);
	diag_free(&d);
	m = relaymap_load(dir, &d);
	snprintf(path, sizeof(path), "%s: cannot read: not a regular file",
	    dir);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)), path);
	relaymap_free(m);
	diag_free(&d);
	assert_int_equal(rmdir(dir), 0);
}

#define BIG_LINES 100000

static void
write_big_map(const char *path)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	for (unsigned i = 0; i < BIG_LINES; i++)
		switch (i % 4) {
		case 0: fprintf(fp, "User%u@Dept%u.Example.com acct%u\n",
			    i, i % 997, i % 50); break;
		case 1: fprintf(fp, "@dom%u.example.org acct%u rewrite\n",
			    i, i % 50); break;
		case 2: fprintf(fp, "@.zone%u.example.net user%u@163.com\n",
			    i, i); break;
		default: fprintf(fp, "# comment %u\n", i); break;
		}
	fprintf(fp, "* office@qq.com rewrite\n");
	assert_int_equal(fclose(fp), 0);
}

static void
test_big_map(void **state)
{
	char dir[] = "/tmp/test_relaymap.XXXXXX", path[64];
	struct timespec t0, t1;
	struct diag d;
	struct relaymap *m;
	double ms;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/relay.map", dir);
	write_big_map(path);
	diag_init(&d);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	m = relaymap_load(path, &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("loaded %u-line map (%zu entries) in %.1f ms\n",
	    BIG_LINES + 1, relaymap_count(m), ms);
	assert_int_equal(d.n, 0);
	assert_int_equal(relaymap_count(m), BIG_LINES / 4 * 3 + 1);
	assert_string_equal(relaymap_lookup(m,
	    "user40@dept40.example.com")->account, "acct40");
	assert_string_equal(relaymap_lookup(m,
	    "x@dom99997.example.org")->account, "acct47");
	assert_string_equal(relaymap_lookup(m,
	    "x@a.b.zone99998.example.net")->account, "user99998@163.com");
	assert_string_equal(relaymap_lookup(m,
	    "user41@dept40.example.com")->key, "*");
	assert_int_equal(relaymap_entry(m, relaymap_count(m) - 1)->line,
	    BIG_LINES + 1);
	relaymap_free(m);
	diag_free(&d);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_null_vs_any),
		cmocka_unit_test(test_add_implicit),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_big_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
