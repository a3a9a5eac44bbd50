/*
 * Unit tests for lib/reply.c: well-formed and malformed replies from an
 * untrusted peer, table-driven (each case is the reply's lines).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"

static const struct {
	const char *lines[4];	/* fed in order until NULL */
	int rc;			/* of the last line fed */
	int code;
	const char *enhanced, *text, *err;
} cases[] = {
	{ { "250 OK" }, 1, 250, "", "OK", NULL },
	{ { "250" }, 1, 250, "", "", NULL },
	{ { "553 5.7.1 Mail from must equal authorized user" }, 1, 553,
	  "5.7.1", "Mail from must equal authorized user", NULL },
	{ { "250-smtp.test", "250-PIPELINING", "250 AUTH PLAIN LOGIN" }, 1,
	  250, "", "smtp.test; PIPELINING; AUTH PLAIN LOGIN", NULL },
	{ { "451-4.7.1 first", "451 4.7.1 second" }, 1, 451, "4.7.1",
	  "first; second", NULL },
	{ { "550 4.5.4 wrong class" }, 1, 550, "", "4.5.4 wrong class",
	  NULL },
	{ { "535 5.7.8" }, 1, 535, "5.7.8", "", NULL },
	{ { "550 5.1234.1 too many digits" }, 1, 550, "",
	  "5.1234.1 too many digits", NULL },
	{ { "250 caf\xc3\xa9\x1b[0m" }, 1, 250, "", "caf???[0m", NULL },
	{ { "250-first" }, 0, 250, "", "first", NULL },
	{ { "25 short" }, -1, 0, "", "", "reply without a valid code" },
	{ { "2x0 bad" }, -1, 0, "", "", "reply without a valid code" },
	{ { "150 preliminary" }, -1, 0, "", "", "reply without a valid code" },
	{ { "260 bad second digit" }, -1, 0, "", "",
	  "reply without a valid code" },
	{ { "250_OK" }, -1, 0, "", "",
	  "reply code not followed by space or hyphen" },
	{ { "250-one", "251 two" }, -1, 250, "", "one",
	  "reply code changes from 250 to 251 in a multi-line reply" },
	{ { "" }, -1, 0, "", "", "reply without a valid code" },
};

static void
test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_reply r;
		struct reply_parse p;
		char err[128] = "";
		int rc = 0;

		reply_begin(&p, &r, "smtp.test");
		for (size_t j = 0; j < 4 && cases[i].lines[j]; j++)
			rc = reply_line(&p, cases[i].lines[j],
			    strlen(cases[i].lines[j]), NULL, NULL, err,
			    sizeof(err));
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(r.code, cases[i].code);
		assert_string_equal(r.enhanced, cases[i].enhanced);
		assert_string_equal(r.text, cases[i].text);
		assert_string_equal(r.host, "smtp.test");
		assert_int_equal(r.local, 0);
		if (cases[i].err)
			assert_string_equal(err, cases[i].err);
	}
}

static void
test_limits(void **state)
{
	char line[REPLY_LINE_MAX + 2], err[128];
	struct smtp_reply r;
	struct reply_parse p;

	memset(line, 'x', sizeof(line));
	memcpy(line, "250-", 4);
	reply_begin(&p, &r, "h");
	assert_int_equal(reply_line(&p, line, REPLY_LINE_MAX + 1, NULL, NULL,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "reply line longer than 2048 bytes");
	/* the longest allowed line is accepted, the text cut to fit */
	assert_int_equal(reply_line(&p, line, REPLY_LINE_MAX, NULL, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(strlen(r.text), SMTP_REPLY_TEXT_MAX - 1);
	reply_begin(&p, &r, "h");
	for (int i = 0; i < REPLY_LINES_MAX; i++)
		assert_int_equal(reply_line(&p, "250-x", 5, NULL, NULL, err,
		    sizeof(err)), 0);
	assert_int_equal(reply_line(&p, "250 x", 5, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "reply longer than 100 lines");
	assert_true(strlen(r.text) < SMTP_REPLY_TEXT_MAX);
}

static void
test_text_and_local(void **state)
{
	struct smtp_reply r;
	struct reply_parse p;
	const char *t;
	size_t tl;
	char err[64];

	reply_begin(&p, &r, "smtp.test");
	assert_int_equal(reply_line(&p, "250-AUTH PLAIN LOGIN", 20, &t, &tl,
	    err, sizeof(err)), 0);
	assert_int_equal(tl, 16);
	assert_memory_equal(t, "AUTH PLAIN LOGIN", 16);
	/* an embedded NUL is text, made printable */
	assert_int_equal(reply_line(&p, "250 a\0b", 7, NULL, NULL, err,
	    sizeof(err)), 1);
	assert_string_equal(r.text, "AUTH PLAIN LOGIN; a?b");
	reply_local(&r, "smtp.test", 451, "4.4.1", "connect to %s: %s",
	    "smtp.test[127.0.0.1]:465", "Connection refused");
	assert_int_equal(r.local, 1);
	assert_int_equal(r.code, 451);
	assert_string_equal(r.enhanced, "4.4.1");
	assert_string_equal(r.text,
	    "connect to smtp.test[127.0.0.1]:465: Connection refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_text_and_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
