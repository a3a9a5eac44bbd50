/*
 * Unit tests for relay/limit.c (daily counters, midnight reset, cool-off,
 * the state file) and relay/answer.c (provider replies as Postfix gets
 * them, the quota table).  The relay's modules are compiled in directly:
 * they are not part of the library.
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

#include "../../relay/limit.c"
#include "../../relay/answer.c"

/* 2026-03-10 12:00:00 UTC; TZ=UTC is set in main(). */
#define NOON ((time_t)1773144000)

static void
test_daily_messages(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));

	assert_string_equal(err, "");
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 3, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	/* one delivered + one in flight = the limit */
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "daily limit of 2 messages for account "
	    "a@163.com reached; resets at 00:00 UTC");
	/* a failed transaction gives its reservation back */
	limit_release(l, "a@163.com", 0, 0, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 1, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON + 60, why,
	    sizeof(why)), -1);
	/* next local day: counting starts over */
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON + 12 * 3600,
	    why, sizeof(why)), 0);
	/* other accounts and limit 0 are independent */
	assert_int_equal(limit_reserve(l, "b@qq.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_free(l);
}

static void
test_daily_recipients(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));
	unsigned m, r;

	assert_int_equal(limit_reserve(l, "a@gmail.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@gmail.com", 1, 4, NOON);
	limit_get(l, "a@gmail.com", NOON, &m, &r);
	assert_int_equal(m, 1);
	assert_int_equal(r, 4);
	assert_true(limits_rcpt_ok(l, "a@gmail.com", 5, 0, NOON, why,
	    sizeof(why)));
	assert_false(limits_rcpt_ok(l, "a@gmail.com", 5, 1, NOON, why,
	    sizeof(why)));
	assert_string_equal(why, "daily limit of 5 recipients for account "
	    "a@gmail.com reached; resets at 00:00 UTC");
	limit_free(l);
}

static void
test_cooloff(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));

	assert_false(limit_cooling(l, "a@163.com", NOON, why, sizeof(why)));
	limit_cooloff(l, "a@163.com", 600, "smtp.163.com said: 535 "
	    "Error: authentication failed", NOON);
	assert_true(limit_cooling(l, "a@163.com", NOON + 599, why,
	    sizeof(why)));
	assert_string_equal(why, "account a@163.com is cooling off until "
	    "12:10:00 after: smtp.163.com said: 535 Error: authentication "
	    "failed");
	assert_false(limit_cooling(l, "a@163.com", NOON + 600, why,
	    sizeof(why)));
	assert_false(limit_cooling(l, "b@163.com", NOON, why, sizeof(why)));
	/* a new code ends the cool-off at once */
	limit_cooloff(l, "a@163.com", 600, "refused", NOON);
	limit_cooloff_clear(l, "A@163.com");
	assert_false(limit_cooling(l, "a@163.com", NOON + 1, why,
	    sizeof(why)));
	limit_free(l);
}

static void
test_state_file(void **state)
{
	char dir[] = "/tmp/test_limits.XXXXXX", err[256], why[256], *path;
	struct limits *l;
	unsigned m, r;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/%s", dir, LIMIT_FILE);
	l = limit_open(dir, NOON, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(limit_reserve(l, "a@163.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 2, NOON);
	limit_cooloff(l, "q@qq.com", 3600, "quota", NOON);
	/* not yet: the last write is younger than the interval */
	assert_int_equal(limit_save(l, NOON + 1, 0, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(limit_save(l, NOON + LIMIT_SAVE_INTERVAL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), 0);
	limit_free(l);

	/* a restart reads it back; a garbage line is ignored */
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("garbage line\n", fp);
	fclose(fp);
	l = limit_open(dir, NOON + 10, err, sizeof(err));
	assert_string_equal(err, "");
	limit_get(l, "a@163.com", NOON + 10, &m, &r);
	assert_int_equal(m, 1);
	assert_int_equal(r, 2);
	assert_true(limit_cooling(l, "q@qq.com", NOON + 10, why,
	    sizeof(why)));
	assert_string_equal(why, "account q@qq.com is cooling off until "
	    "13:00:00 after: quota");
	/* forced save with nothing changed writes nothing new */
	assert_int_equal(limit_save(l, NOON + 11, 1, err, sizeof(err)), 0);
	limit_free(l);
	unlink(path);
	rmdir(dir);
	free(path);
}

static const struct {
	int code, local;
	const char *enh, *host, *text, *want;
	int quota;
} answers[] = {
	{ 553, 0, "", "smtp.163.com", "Mail from must equal authorized user",
	  "553 5.0.0 smtp.163.com said: 553 Mail from must equal authorized "
	  "user", 0 },
	{ 550, 0, "5.4.5", "smtp.gmail.com", "Daily sending quota exceeded.",
	  "550 5.4.5 smtp.gmail.com said: 550 5.4.5 Daily sending quota "
	  "exceeded.", 1 },
	{ 451, 0, "", "smtp.163.com", "MI:SFQ Session too many",
	  "451 4.0.0 smtp.163.com said: 451 MI:SFQ Session too many", 1 },
	{ 421, 0, "", "smtp.163.com", "HL:ICC connection too many",
	  "421 4.0.0 smtp.163.com said: 421 HL:ICC connection too many", 1 },
	{ 554, 0, "", "smtp.163.com", "MI:STC too many",
	  "554 5.0.0 smtp.163.com said: 554 MI:STC too many", 1 },
	{ 550, 0, "", "smtp.163.com", "RP:RCL too many recipients",
	  "550 5.0.0 smtp.163.com said: 550 RP:RCL too many recipients", 1 },
	{ 550, 0, "5.1.1", "smtp.qq.com", "Mailbox not found",
	  "550 5.1.1 smtp.qq.com said: 550 5.1.1 Mailbox not found", 0 },
	/* an enhanced code of the wrong class is replaced */
	{ 450, 0, "5.1.1", "mx.test", "busy",
	  "450 4.0.0 mx.test said: 450 5.1.1 busy", 0 },
	{ 250, 0, "2.0.0", "mx.test", "Ok: queued",
	  "250 2.0.0 mx.test said: 250 2.0.0 Ok: queued", 0 },
	/* the client side's own replies already name the host */
	{ 451, 1, "4.4.1", "smtp.test",
	  "smtp.test[127.0.0.1]:465: connection refused",
	  "451 4.4.1 smtp.test[127.0.0.1]:465: connection refused", 0 },
	/* control characters never reach Postfix */
	{ 550, 0, "", "mx.test", "bad\001text", "550 5.0.0 mx.test said: 550 "
	  "bad?text", 0 },
};

static void
test_answers(void **state)
{
	char buf[ANSWER_MAX + 1];
	struct smtp_reply r;

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.code = answers[i].code;
		r.local = answers[i].local;
		xstrlcpy(r.enhanced, answers[i].enh, sizeof(r.enhanced));
		xstrlcpy(r.host, answers[i].host, sizeof(r.host));
		xstrlcpy(r.text, answers[i].text, sizeof(r.text));
		answer_relayed(&r, buf, sizeof(buf));
		assert_string_equal(buf, answers[i].want);
		assert_int_equal(answer_is_quota(&r), answers[i].quota);
	}
	memset(&r, 0, sizeof(r));
	r.code = 550;
	xstrlcpy(r.enhanced, "5.4.5", sizeof(r.enhanced));
	xstrlcpy(r.host, "smtp.gmail.com", sizeof(r.host));
	xstrlcpy(r.text, "Daily sending quota exceeded", sizeof(r.text));
	answer_recoded(&r, 451, "4.7.1", "account a@gmail.com cooling off "
	    "for 3600 s", buf, sizeof(buf));
	assert_string_equal(buf, "451 4.7.1 smtp.gmail.com said: 550 5.4.5 "
	    "Daily sending quota exceeded; account a@gmail.com cooling off "
	    "for 3600 s");
	/* long texts are cut to one reply line */
	memset(r.text, 'x', sizeof(r.text) - 1);
	r.text[sizeof(r.text) - 1] = '\0';
	answer_relayed(&r, buf, sizeof(buf));
	assert_int_equal(strlen(buf), ANSWER_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_messages),
		cmocka_unit_test(test_daily_recipients),
		cmocka_unit_test(test_cooloff),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_answers),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
