/*
 * Unit tests for lib/addr.c: RFC 5321 paths -> key or exact message,
 * RFC 5322 header values -> (count, display, key) or exact message,
 * mailbox formatting and its round trip through the header parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char *in, *key;
} good_paths[] = {
	{ "<bob@example.com>", "bob@example.com" },
	{ "bob@example.com", "bob@example.com" },
	{ "  <Boss@163.COM>\t", "boss@163.com" },
	{ "<>", "" },
	{ "<@a.example,@b.example:joe@c.example>", "joe@c.example" },
	{ "<@a.example:joe@c.example>", "joe@c.example" },
	{ "<\"john smith\"@example.com>", "\"john smith\"@example.com" },
	{ "<\"Bob\"@example.com>", "bob@example.com" },
	{ "<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com" },
	{ "<\"a\\b\"@example.com>", "ab@example.com" },
	{ "<user@例子.测试>", "user@xn--fsqu00a.xn--0zwm56d" },
	{ "<user@BÜCHER.de>", "user@xn--bcher-kva.de" },
	{ "<用户@例子.测试>", "用户@xn--fsqu00a.xn--0zwm56d" },
	{ "<postmaster@[192.0.2.1]>", "postmaster@[192.0.2.1]" },
	{ "<postmaster@[IPv6:2001:db8::1]>", "postmaster@[IPv6:2001:db8::1]" },
	{ "<a+tag@example.com.>", "a+tag@example.com" },
	{ "<taro..x.@docomo.ne.jp>", "taro..x.@docomo.ne.jp" },
	{ "<!#$%&'*+-/=?^_`{|}~@example.com>", "!#$%&'*+-/=?^_`{|}~@example.com" },
	{ "<" L64 "@example.com>", L64 "@example.com" },
	{ "<\".\"@example.com>", "\".\"@example.com" },
	{ "<\"a.b\"@example.com>", "a.b@example.com" },
};

static const struct {
	const char *in, *err;
} bad_paths[] = {
	{ "", "empty address" },
	{ "  ", "empty address" },
	{ "<bob@example.com", "unbalanced angle bracket in \"<bob@example.com\"" },
	{ "bob@example.com>", "unbalanced angle bracket in \"bob@example.com>\"" },
	{ "<bob@example.com>>",
	  "unbalanced angle bracket in \"<bob@example.com>>\"" },
	{ "<>>", "unbalanced angle bracket in \"<>>\"" },
	{ "<> x", "trailing garbage after address in \"<> x\"" },
	{ "<bob>", "missing @ in \"<bob>\"" },
	{ "bob", "missing @ in \"bob\"" },
	{ "<@example.com>", "empty local part in \"<@example.com>\"" },
	{ "@example.com", "empty local part in \"@example.com\"" },
	{ "<\"\"@example.com>", "empty local part in \"<\\\"\\\"@example.com>\"" },
	{ "<..@example.com>", "invalid local part in \"<..@example.com>\"" },
	{ "<\"bob@example.com>", "unbalanced quote in \"<\\\"bob@example.com>\"" },
	{ "<bob@example.com> SIZE=100",
	  "trailing garbage after address in \"<bob@example.com> SIZE=100\"" },
	{ "<bob smith@example.com>",
	  "invalid character ' ' in local part in \"<bob smith@example.com>\"" },
	{ "<<bob@example.com>>",
	  "invalid character '<' in local part in \"<<bob@example.com>>\"" },
	{ "<bob@exam ple.com>",
	  "invalid character ' ' in domain \"exam ple.com\"" },
	{ "<bob@>", "empty domain in \"<bob@>\"" },
	{ "<bob@a\xff.com>", "invalid internationalized domain \"a?.com\": "
	  "string encoding error" },
	{ "<bob@a..b>", "empty label in domain \"a..b\"" },
	{ "<bob@example.com>\r\n", "address contains a line break" },
	{ "<b\nob@example.com>", "address contains a line break" },
	{ "<b\x01ob@example.com>", "address contains a control character" },
	{ "<@a,b:joe@c.example>", "malformed source route in "
	  "\"<@a,b:joe@c.example>\"" },
	{ "<a" L64 "@example.com>", "local part longer than 64 characters" },
	{ "<\"a\x7f\"@example.com>", "address contains a control character" },
};

static void
test_good_paths(void **state)
{
	char key[ADDR_KEY_MAX], err[256];
	struct addr a;

	for (size_t i = 0; i < sizeof(good_paths) / sizeof(good_paths[0]);
	    i++) {
		if (addr_parse_path(good_paths[i].in, &a, err, sizeof(err))) {
			print_error("path %s: %s\n", good_paths[i].in, err);
			fail();
		}
		assert_string_equal(addr_key(&a, key, sizeof(key)),
		    good_paths[i].key);
		assert_int_equal(a.null, good_paths[i].key[0] == '\0');
	}
}

static void
test_bad_paths(void **state)
{
	char err[256];
	struct addr a;

	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]);
	    i++) {
		assert_int_equal(addr_parse_path(bad_paths[i].in, &a, err,
		    sizeof(err)), -1);
		assert_string_equal(err, bad_paths[i].err);
	}
}

static void
test_path_limits(void **state)
{
	char in[400], err[256], key[ADDR_KEY_MAX];
	struct addr a;

	/* "<" 60 "@" 193 ">" = 256 octets: the longest path allowed. */
	memset(in, 'a', sizeof(in));
	in[0] = '<';
	in[61] = '@';
	for (size_t i = 62 + 50; i < 62 + 193; i += 51)
		in[i] = '.';
	in[255] = '>';
	in[256] = '\0';
	assert_int_equal(addr_parse_path(in, &a, err, sizeof(err)), 0);
	memmove(in + 62, in + 61, 196);		/* one more: 257 */
	assert_int_equal(addr_parse_path(in, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "path longer than 256 characters");
	/* bare: counted with the brackets it lacks */
	assert_int_equal(addr_parse_path(in + 2, &a, err, sizeof(err)), -1);
	assert_string_equal(err, "path longer than 256 characters");
	assert_int_equal(addr_parse_path_len("<a@b.c>\0x", 9, &a, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "address contains a NUL character");
	assert_int_equal(addr_parse_path_len("<a@B.c>xyz", 7, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(addr_key(&a, key, sizeof(key)), "a@b.c");
}

static void
test_key_from_string(void **state)
{
	char key[ADDR_KEY_MAX], err[256];

	assert_int_equal(addr_key_from_string("Alerts@163.COM", key,
	    sizeof(key), err, sizeof(err)), 0);
	assert_string_equal(key, "alerts@163.com");
	assert_int_equal(addr_key_from_string("<>", key, sizeof(key), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "null address <> not allowed here");
	assert_int_equal(addr_key_from_string("alerts", key, sizeof(key),
	    err, sizeof(err)), -1);
	assert_string_equal(err, "missing @ in \"alerts\"");
}

static const struct {
	const char *in;
	size_t n;
	const char *display, *key;
} good_headers[] = {
	{ "bob@example.com", 1, "", "bob@example.com" },
	{ "Bob Smith <Bob@Example.com>", 1, "Bob Smith", "bob@example.com" },
	{ "\"Smith, Bob\" <bob@example.com>", 1, "Smith, Bob",
	  "bob@example.com" },
	{ "\"Bob\" <bob@example.com> (work)", 1, "Bob", "bob@example.com" },
	{ "Bob (the (nested) boss) Smith <bob@example.com>", 1, "Bob Smith",
	  "bob@example.com" },
	{ "=?UTF-8?B?5byg5LiJ?= <zhang@163.com>", 1, "=?UTF-8?B?5byg5LiJ?=",
	  "zhang@163.com" },
	{ "John Q. Public <jqp@example.com>", 1, "John Q. Public",
	  "jqp@example.com" },
	{ "\"Bob \\\"B\\\" Smith\" <bob@example.com>", 1, "Bob \"B\" Smith",
	  "bob@example.com" },
	{ "a@example.com, B <b@example.com>", 2, "", "a@example.com" },
	{ "Joe <@a.example,@b.example:joe@c.example>", 1, "Joe",
	  "joe@c.example" },
	{ "Bob\r\n <bob@example.com>", 1, "Bob", "bob@example.com" },
	{ "Bob\n\t<bob@example.com>", 1, "Bob", "bob@example.com" },
	{ "bob (Bob Smith) @ example . com", 1, "", "bob@example.com" },
	{ "张三 <zhang@例子.测试>", 1, "张三", "zhang@xn--fsqu00a.xn--0zwm56d" },
	{ "\"joe smith\"@example.com", 1, "", "\"joe smith\"@example.com" },
	{ "\"Joe\".smith@example.com", 1, "", "joe.smith@example.com" },
	{ ",a@b.com,,  c@d.com,", 2, "", "a@b.com" },
	{ "<bob@[192.0.2.1]>", 1, "", "bob@[192.0.2.1]" },
	{ "\"\" <bob@example.com>", 1, "", "bob@example.com" },
	{ ".\"\"@example.com", 1, "", "\".\"@example.com" },
	{ "(c)Bob(c)<bob(c)@(c)example.com(c)>(c)", 1, "Bob",
	  "bob@example.com" },
};

static const struct {
	const char *in, *err;
} bad_headers[] = {
	{ "undisclosed-recipients:;",
	  "group syntax not allowed in \"undisclosed-recipients:;\"" },
	{ "\"Bob <bob@example.com>",
	  "unbalanced quote in \"\\\"Bob <bob@example.com>\"" },
	{ "Bob (work <bob@example.com>",
	  "unbalanced parenthesis in \"Bob (work <bob@example.com>\"" },
	{ "Bob) <bob@example.com>",
	  "unbalanced parenthesis in \"Bob) <bob@example.com>\"" },
	{ "Bob <bob@example.com",
	  "unbalanced angle bracket in \"Bob <bob@example.com\"" },
	{ "Bob <bob@example.com>>",
	  "unbalanced angle bracket in \"Bob <bob@example.com>>\"" },
	{ "[bob@example.com", "unbalanced square bracket in "
	  "\"[bob@example.com\"" },
	{ "John Smith@example.com", "display name without angle brackets "
	  "in \"John Smith@example.com\"" },
	{ "a\"b\"@example.com", "invalid local part in "
	  "\"a\\\"b\\\"@example.com\"" },
	{ "bob", "missing @ in \"bob\"" },
	{ "Bob <bob>", "missing @ in \"Bob <bob>\"" },
	{ "<>", "empty address in \"<>\"" },
	{ "Bob <@example.com>", "empty local part in \"Bob <@example.com>\"" },
	{ "..@example.com", "invalid local part in \"..@example.com\"" },
	{ "", "no address in header value" },
	{ " , (comment) ", "no address in header value" },
	{ "Bob <bob@example.com>\r\nBcc: x@example.com",
	  "header value contains a line break" },
	{ "Bob <bob@example.com>\r", "header value contains a line break" },
	{ "Bob\r <bob@example.com>", "header value contains a line break" },
	{ "Bob\r\n\r\n <bob@example.com>",
	  "header value contains a line break" },
	{ "B\x01ob <bob@example.com>", "header value contains a control "
	  "character" },
	{ "Bob <bob@example.com>, x", "missing @ in "
	  "\"Bob <bob@example.com>, x\"" },
	{ "Bob <bob@example.com> extra", "trailing garbage after address in "
	  "\"Bob <bob@example.com> extra\"" },
	{ "Bob <bob@exam_ple.com>",
	  "invalid character '_' in domain \"exam_ple.com\"" },
	{ "bob@exam ple.com", "trailing garbage after address in "
	  "\"bob@exam ple.com\"" },
	{ "Bob <bob@exam ple.com>",
	  "unexpected \"ple\" in \"Bob <bob@exam ple.com>\"" },
	{ "Bob <bob@exam..ple.com>",
	  "empty label in domain \"exam..ple.com\"" },
	{ "Bob <bob@example.com;>",
	  "unexpected \";\" in \"Bob <bob@example.com;>\"" },
	{ "Team: a@example.com, b@example.com;",
	  "group syntax not allowed in \"Team: a@example.com, b@example.com;\"" },
	{ "<" L64 "a@example.com>", "local part longer than 64 characters" },
};

static void
test_good_headers(void **state)
{
	struct mailbox mb[2];
	char key[ADDR_KEY_MAX], err[256];
	size_t n;

	for (size_t i = 0; i < sizeof(good_headers) / sizeof(good_headers[0]);
	    i++) {
		if (addr_parse_mailboxes(good_headers[i].in, mb, 2, &n, err,
		    sizeof(err))) {
			print_error("header %s: %s\n", good_headers[i].in, err);
			fail();
		}
		assert_int_equal(n, good_headers[i].n);
		assert_string_equal(mb[0].display, good_headers[i].display);
		assert_string_equal(addr_key(&mb[0].addr, key, sizeof(key)),
		    good_headers[i].key);
	}
}

static void
test_bad_headers(void **state)
{
	struct mailbox mb[2];
	char err[256];
	size_t n;

	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]);
	    i++) {
		assert_int_equal(addr_parse_mailboxes(bad_headers[i].in, mb, 2,
		    &n, err, sizeof(err)), -1);
		assert_string_equal(err, bad_headers[i].err);
		assert_int_equal(n, 0);
	}
}

static void
test_header_limits(void **state)
{
	char in[1100], err[256];
	struct mailbox mb[1];
	size_t n;

	/* more mailboxes than room: all counted, the first stored */
	assert_int_equal(addr_parse_mailboxes("a@x.com, b@x.com, c@x.com", mb,
	    1, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(mb[0].addr.local, "a");
	/* 998 characters pass, 999 do not */
	memset(in, 'a', 998);
	memcpy(in, "\"", 1);
	memcpy(in + 998 - 17, "\" <b@example.com>", 18);
	assert_int_equal(strlen(in), 998);
	assert_int_equal(addr_parse_mailboxes(in, mb, 1, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "display name longer than 511 characters");
	memmove(in + 1, in, 999);
	in[0] = ' ';
	assert_int_equal(addr_parse_mailboxes(in, mb, 1, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "header value longer than 998 characters");
	memcpy(in, "\"", 1);
	memset(in + 1, 'd', 511);
	memcpy(in + 512, "\" <b@example.com>", 18);
	assert_int_equal(addr_parse_mailboxes(in, mb, 1, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(mb[0].display), 511);
	memmove(in + 2, in + 1, 530);
	in[1] = 'd';
	assert_int_equal(addr_parse_mailboxes(in, mb, 1, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "display name longer than 511 characters");
	assert_int_equal(addr_parse_mailboxes_len("a@b.com\0", 8, mb, 1, &n,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "header value contains a NUL character");
}

static const struct {
	const char *display, *key, *out;
} formats[] = {
	{ "", "bob@example.com", "bob@example.com" },
	{ "Bob Smith", "bob@example.com", "Bob Smith <bob@example.com>" },
	{ "Smith, Bob", "bob@example.com", "\"Smith, Bob\" <bob@example.com>" },
	{ "John Q. Public", "jqp@example.com",
	  "\"John Q. Public\" <jqp@example.com>" },
	{ "Bob \"B\" Smith", "b@x.com", "\"Bob \\\"B\\\" Smith\" <b@x.com>" },
	{ "a\\b", "b@x.com", "\"a\\\\b\" <b@x.com>" },
	{ "=?UTF-8?B?5byg5LiJ?=", "zhang@163.com",
	  "=?UTF-8?B?5byg5LiJ?= <zhang@163.com>" },
	{ "=?UTF-8?B?5byg5LiJ?= (Sales)", "zhang@163.com",
	  "=?UTF-8?B?5byg5LiJ?= \"(Sales)\" <zhang@163.com>" },
	{ "Sales: =?utf-8?q?Zhang?= Jr.", "z@163.com",
	  "\"Sales:\" =?utf-8?q?Zhang?= \"Jr.\" <z@163.com>" },
	{ "=?UTF-8?B?5byg?=  =?UTF-8?B?5LiJ?=", "z@163.com",
	  "=?UTF-8?B?5byg?= \"\" =?UTF-8?B?5LiJ?= <z@163.com>" },
	{ "=?x?Q?a.b?=", "z@163.com", "\"=?x?Q?a.b?=\" <z@163.com>" },
	{ "张三", "zhang@163.com", "张三 <zhang@163.com>" },
	{ " lead", "a@b.com", "\" lead\" <a@b.com>" },
	{ "two  spaces", "a@b.com", "\"two  spaces\" <a@b.com>" },
	{ "Joe", "\"joe smith\"@example.com",
	  "Joe <\"joe smith\"@example.com>" },
};

static void
test_format(void **state)
{
	char buf[256], key[ADDR_KEY_MAX], err[256];
	struct mailbox mb[1];
	size_t n;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		assert_int_equal(addr_format_mailbox(formats[i].display,
		    formats[i].key, buf, sizeof(buf)), 0);
		assert_string_equal(buf, formats[i].out);
		/* and back */
		if (addr_parse_mailboxes(buf, mb, 1, &n, err, sizeof(err))) {
			print_error("reparse %s: %s\n", buf, err);
			fail();
		}
		assert_int_equal(n, 1);
		assert_string_equal(mb[0].display, formats[i].display);
		assert_string_equal(addr_key(&mb[0].addr, key, sizeof(key)),
		    formats[i].key);
	}
	assert_int_equal(addr_format_mailbox("a\r\nb", "a@b.com", buf,
	    sizeof(buf)), -1);
	assert_int_equal(addr_format_mailbox("Bob", "", buf, sizeof(buf)), -1);
	assert_int_equal(addr_format_mailbox("Bob", "bob@example.com", buf,
	    21), -1);
	assert_int_equal(addr_format_mailbox("Bob", "bob@example.com", buf,
	    22), 0);
	assert_string_equal(buf, "Bob <bob@example.com>");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_paths),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_key_from_string),
		cmocka_unit_test(test_good_headers),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
