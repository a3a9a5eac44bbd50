/*
 * Unit tests for lib/reply.c: well-formed and malformed replies from an
 * untrusted peer, table-driven (each case is the reply's lines); and for
 * relay/answer.c's quota classifier on replies parsed the same way:
 * providers' quota replies (shared/providers.md) are recognised, replies
 * that merely echo an address holding a quota word are not.  The relay's
 * answer.c is compiled in directly: it is not part of the library.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reply.h"
#include "../../relay/answer.c"

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

/* Replies as the provider sends them; quota: what answer_is_quota()
 * must say. */
static const struct {
	const char *lines[4];
	int quota;
} quota_cases[] = {
	/* Gmail (providers.md row gmail.com), one line and multi-line */
	{ { "550 5.4.5 Daily sending quota exceeded." }, 1 },
	{ { "550-5.4.5 Daily user sending quota exceeded. For more",
	    "550 5.4.5 information see the sending limits page" }, 1 },
	{ { "421 4.7.0 Daily user sending quota exceeded." }, 1 },
	/* NetEase rate codes (providers.md row 163.com) */
	{ { "451 MI:SFQ Sender sending frequency over limit" }, 1 },
	{ { "451 RP:QRC 163 smtp too many recipients" }, 1 },
	{ { "550 RP:RCL too many recipients" }, 1 },
	{ { "554 MI:STC too many messages today" }, 1 },
	{ { "421 HL:ICC too many connections" }, 1 },
	{ { "451 MI:SFQ" }, 1 },
	/* Microsoft: the diagnostic opens the text */
	{ { "554 5.2.0 STOREDRV.Submission.Exception:"
	    "SubmissionQuotaExceededException; Failed to process message" },
	  1 },
	/* addresses echoed by the provider are never read */
	{ { "550 5.1.1 <SubmissionQuotaExceeded@example.net>: Recipient "
	    "address rejected: User unknown" }, 0 },
	{ { "550 <SubmissionQuotaExceeded@example.net>: Recipient address "
	    "rejected: User unknown" }, 0 },
	{ { "550 SubmissionQuotaExceeded@example.net: Recipient address "
	    "rejected" }, 0 },
	{ { "550 5.1.1 <\"MI:SFQ\"@example.net>: User unknown" }, 0 },
	{ { "550 <\"RP:RCL\"@example.net>: User unknown" }, 0 },
	{ { "550 <Daily.sending.quota.exceeded@example.net> unknown" }, 0 },
	{ { "553 5.7.1 <a@b.test>: Sender address rejected: "
	    "SubmissionQuotaExceeded" }, 0 },
	/* an addressing status speaks of one address, whatever it says */
	{ { "550 5.1.1 SubmissionQuotaExceeded" }, 0 },
	{ { "450 4.1.1 MI:SFQ" }, 0 },
	/* the words later in the text, or as part of a longer token */
	{ { "550 5.7.1 Message refused: Daily sending quota exceeded" }, 0 },
	{ { "451 4.3.0 Try again; MI:SFQ" }, 0 },
	{ { "451 MI:SFQX other" }, 0 },
	{ { "452 4.2.2 Mailbox full: quota exceeded" }, 0 },
	/* NetEase codes only under the code they come with */
	{ { "250 MI:SFQ" }, 0 },
	{ { "553 Mail from must equal authorized user" }, 0 },
};

static void
test_quota(void **state)
{
	for (size_t i = 0; i < sizeof(quota_cases) / sizeof(quota_cases[0]);
	    i++) {
		struct smtp_reply r;
		struct reply_parse p;
		char err[128] = "";
		int rc = 0;

		reply_begin(&p, &r, "smtp.test");
		for (size_t j = 0; j < 4 && quota_cases[i].lines[j]; j++)
			rc = reply_line(&p, quota_cases[i].lines[j],
			    strlen(quota_cases[i].lines[j]), NULL, NULL, err,
			    sizeof(err));
		assert_int_equal(rc, 1);
		if (answer_is_quota(&r) != quota_cases[i].quota)
			fail_msg("case %zu \"%s\": quota %d, expected %d", i,
			    quota_cases[i].lines[0], !quota_cases[i].quota,
			    quota_cases[i].quota);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_text_and_local),
		cmocka_unit_test(test_quota),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
