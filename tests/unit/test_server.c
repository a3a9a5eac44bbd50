/*
 * Unit tests for the relay's SMTP server side (relay/server.c, relay/txn*.c,
 * relay/clientio.c): whole dialogues over a socketpair, the provider
 * played by a scripted stand-in for relay/upstream.h (server_fake.h; the
 * real client side is tested end to end in tests/relay/).  Each case
 * asserts the exact transcript Postfix would see and what reached the
 * "provider".  Here: the dialogue, routes and policies, limits, syntax;
 * pipelining and failing sessions are in test_server_pipe.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../relay/server.c"
#include "../../relay/txn.c"
#include "../../relay/txn_batch.c"
#include "../../relay/clientio.c"
#include "../../relay/dataend.c"
#include "../../relay/answer.c"
#include "../../relay/limit.c"
#include "server_fake.h"

static void
test_transaction(void **state)
{
	fake_reset();
	fk.rcpt_bad = "<bad@dest.test>";
	check("EHLO client.test\r\n"
	    "XFORWARD NAME=localhost ADDR=127.0.0.1 IDENT=4XyzQ1\r\n"
	    "MAIL FROM:<a1@test.example> SIZE=120 BODY=8BITMIME\r\n"
	    "RCPT TO:<one@dest.test>\r\n"
	    "RCPT TO:<bad@dest.test>\r\n"
	    "DATA\r\n"
	    "Subject: x\r\n\r\n..dot line\r\nlast line\r\n.\r\n"
	    "QUIT\r\n",
	    GREETING EHLO_REPLY
	    "250 2.0.0 Ok\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "550 5.1.1 smtp.test said: 550 5.1.1 Mailbox not found\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\r\n"
	    "221 2.0.0 Bye\r\n");
	assert_string_equal(fk.env, "<a1@test.example>");
	assert_string_equal(fk.params, "SIZE=120 BODY=8BITMIME");
	assert_string_equal(fk.rcpts, "<one@dest.test><bad@dest.test>");
	assert_string_equal(fk.data, "Subject: x\r\n\r\n..dot line\r\n"
	    "last line\r\n");
	assert_int_equal(fk.gets, 1);
	assert_int_equal(fk.puts, 1);
	assert_int_equal(fk.reusable, 1);
}

/* A line far longer than the relay's buffers passes through in pieces,
 * and a dot after it is still found at the start of a line only. */
static void
test_long_data_line(void **state)
{
	char *line = xmalloc(10002), *input, *want;

	memset(line, 'y', 10000);
	line[0] = '.';
	line[1] = '.';
	line[10000] = '\0';
	fake_reset();
	input = xasprintf("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<r@dest.test>\r\nDATA\r\n%s\r\n.x\r\n.\r\nQUIT\r\n",
	    line);
	free(converse(input));
	want = xasprintf("%s\r\n.x\r\n", line);
	assert_string_equal(fk.data, want);
	assert_int_equal(fk.reusable, 1);
	free(want);
	free(input);

	/* the CR of a CRLF at the end of a piece: nothing doubled */
	line[DATA_CHUNK - 2] = '\0';
	fake_reset();
	input = xasprintf("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<r@dest.test>\r\nDATA\r\n%s\r\nend\r\n.\r\nQUIT\r\n",
	    line);
	free(converse(input));
	want = xasprintf("%s\r\nend\r\n", line);
	assert_string_equal(fk.data, want);
	free(want);
	free(input);
	free(line);
}

static void
test_rewrite_and_provider_refusal(void **state)
{
	fake_reset();
	/* rewrite: the provider sees the login */
	check("EHLO c\r\nMAIL FROM:<scanner@office.lan>\r\nRSET\r\nQUIT\r\n",
	    GREETING EHLO_REPLY
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	assert_string_equal(fk.env, "<a1@test.example>");
	assert_int_equal(fk.rsets, 1);
	assert_int_equal(fk.reusable, 1);
	/* a provider refusal without enhanced code, prefixed by its host */
	fake_reset();
	fk.mail_code = 553;
	fk.mail_enh = "";
	fk.mail_text = "Mail from must equal authorized user";
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<x@dest.test>\r\nDATA\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "553 5.0.0 smtp.test said: 553 Mail from must equal authorized "
	    "user\r\n"
	    "503 5.5.1 need MAIL before RCPT\r\n"
	    "503 5.5.1 need MAIL before DATA\r\n"
	    "221 2.0.0 Bye\r\n");
}

/* The option for the null sender's account, as smarthost.conf spells it. */
#define NULL_SENDER_OPT "null-sender-account"

static void
test_routes_and_policies(void **state)
{
	char *got;

	fake_reset();
	got = xasprintf(GREETING "250 relay.test\r\n"
	    "550 5.7.1 no route for sender <nobody@else.test> in "
	    "%s/relay.map: add a line for it (or @domain, or *)\r\n"
	    "550 5.7.1 null sender (bounce or DSN) not relayed: no account "
	    "for <> (set [relay] " NULL_SENDER_OPT " in smarthost.conf or add "
	    "a \"<>\" line to %s/relay.map)\r\n"
	    "501 5.1.7 bad sender address: ", dir, dir);
	{
		char *out = converse("HELO c\r\n"
		    "MAIL FROM:<nobody@else.test>\r\nMAIL FROM:<>\r\n"
		    "MAIL FROM:<a@@b>\r\nQUIT\r\n");
		assert_memory_equal(out, got, strlen(got));
		free(out);
	}
	free(got);
	assert_int_equal(fk.gets, 0);

	/* defer policy; then a null-sender account: MAIL as its login */
	load_config("null-sender = defer\n");
	got = xasprintf(GREETING "250 relay.test\r\n"
	    "450 4.7.1 null sender (bounce or DSN) not relayed: no account "
	    "for <> (set [relay] " NULL_SENDER_OPT " in smarthost.conf or add "
	    "a \"<>\" line to %s/relay.map)\r\n221 2.0.0 Bye\r\n", dir);
	check("HELO c\r\nMAIL FROM:<>\r\nQUIT\r\n", got);
	free(got);
	/* the reply names the option as smarthost.conf spells it */
	load_config(NULL_SENDER_OPT " = test1\n");
	check("HELO c\r\nMAIL FROM:<>\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n221 2.0.0 Bye\r\n");
	assert_string_equal(fk.env, "<a1@test.example>");
	load_config("");
}

static void
test_auth_failure_cools_off(void **state)
{
	const char *want = GREETING "250 relay.test\r\n"
	    "454 4.7.0 smtp.test[127.0.0.1]:465: AUTH PLAIN refused: 535 "
	    "Error: authentication failed; no new attempt for account test1 "
	    "for 600 s\r\n"
	    "451 4.7.1 account test1 is cooling off until ";
	char *out;

	fake_reset();
	fk.get_fail = UPF_AUTH;
	out = converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "MAIL FROM:<a1@test.example>\r\nQUIT\r\n");
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out, " after: smtp.test[127.0.0.1]:465: AUTH "
	    "PLAIN refused: 535 Error: authentication failed\r\n221 2.0.0 "
	    "Bye\r\n"));
	/* the provider was asked once, not twice */
	assert_int_equal(fk.gets, 1);
	free(out);

	/* auth-failure = bounce */
	load_config("auth-failure = bounce\n");
	fake_reset();
	fk.get_fail = UPF_AUTH;
	out = converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\nQUIT\r\n");
	assert_non_null(strstr(out, "\r\n550 5.7.8 smtp.test[127.0.0.1]:465: "
	    "AUTH PLAIN refused: 535 Error: authentication failed\r\n"));
	free(out);
	load_config("");

	/* connection failures defer with the client side's reason */
	fake_reset();
	fk.get_fail = UPF_CONNECT;
	out = converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\nQUIT\r\n");
	assert_non_null(strstr(out, "\r\n451 4.4.1 smtp.test[127.0.0.1]:465: "
	    "connect: Connection refused\r\n"));
	free(out);
}

static void
test_quota_and_limits(void **state)
{
	char *out;

	fake_reset();
	fk.mail_code = 550;
	fk.mail_enh = "5.4.5";
	fk.mail_text = "Daily sending quota exceeded";
	out = converse("HELO c\r\nMAIL FROM:<x@office.lan>\r\n"
	    "MAIL FROM:<x@office.lan>\r\nQUIT\r\n");
	assert_non_null(strstr(out, "\r\n451 4.7.1 smtp.test said: 550 5.4.5 "
	    "Daily sending quota exceeded; account test1 cooling off for "
	    "3600 s\r\n451 4.7.1 account test1 is cooling off until "));
	assert_int_equal(fk.gets, 1);
	free(out);

	/* test2 allows one message a day */
	fake_reset();
	out = converse("HELO c\r\nMAIL FROM:<limited@test.example>\r\n"
	    "RCPT TO:<r@dest.test>\r\nDATA\r\nhi\r\n.\r\n"
	    "MAIL FROM:<limited@test.example>\r\nQUIT\r\n");
	assert_non_null(strstr(out, "queued as 12345\r\n451 4.7.1 daily limit "
	    "of 1 messages for account test2 reached; resets at 00:00 "));
	free(out);

	/* test3 allows two recipients a day: the third is deferred alone */
	fake_reset();
	out = converse("HELO c\r\nMAIL FROM:<a3@test.example>\r\n"
	    "RCPT TO:<r1@dest.test>\r\nRCPT TO:<r2@dest.test>\r\n"
	    "RCPT TO:<r3@dest.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
	assert_non_null(strstr(out, "Ok\r\n452 4.7.1 daily limit of 2 "
	    "recipients for account test3 reached; resets at 00:00 "));
	assert_non_null(strstr(out, "queued as 12345\r\n"));
	assert_string_equal(fk.rcpts, "<r1@dest.test><r2@dest.test>");
	free(out);
}

static void
test_syntax(void **state)
{
	char *input, longline[1200];

	fake_reset();
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	input = xasprintf("MAIL FROM:<a1@test.example>\r\nEHLO\r\nHELO c\r\n"
	    "RCPT TO:<a@b.test>\r\nDATA\r\nFOO\r\nVRFY x\r\n%s\r\n\r\n"
	    "MAIL FROM:<a1@test.example> SMTPUTF8\r\nMAIL TO:<x>\r\n"
	    "MAIL FROM:<a1@test.example> SIZE=abc\r\n"
	    "MAIL FROM:<a1@test.example>\r\nRCPT TO:<>\r\nDATA\r\n"
	    "MAIL FROM:<a1@test.example>\r\nNOOP\r\nQUIT\r\n", longline);
	check(input, GREETING
	    "503 5.5.1 send HELO or EHLO first\r\n"
	    "501 5.5.4 syntax: EHLO hostname\r\n"
	    "250 relay.test\r\n"
	    "503 5.5.1 need MAIL before RCPT\r\n"
	    "503 5.5.1 need MAIL before DATA\r\n"
	    "500 5.5.2 command not recognized\r\n"
	    "502 5.5.1 command not implemented\r\n"
	    "500 5.5.2 line too long (limit 1024)\r\n"
	    "500 5.5.2 empty command\r\n"
	    "555 5.5.4 unsupported MAIL parameter SMTPUTF8\r\n"
	    "501 5.5.4 syntax: MAIL FROM:<address>\r\n"
	    "501 5.5.4 bad SIZE parameter\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "501 5.1.3 bad recipient address: null address\r\n"
	    "554 5.5.1 no valid recipients\r\n"
	    "503 5.5.1 nested MAIL command\r\n"
	    "250 2.0.0 Ok\r\n"
	    "221 2.0.0 Bye\r\n");
	free(input);
}

/* SMTP smuggling: only <CR><LF>.<CR><LF> ends a message.  A message
 * with a bare <LF> or <CR> is read to its real end and refused with
 * 550 5.5.2, the provider session is closed (its DATA never ended) and
 * the "transaction" hidden in the message never reaches the provider. */
static void
test_smuggling(void **state)
{
	static const struct {
		const char *end, *bare, *sent;
	} v[] = {
#define HDR "Subject: x\r\n\r\n"
		{ "\n.\n", "LF", HDR }, { "\n.\r\n", "LF", HDR },
		{ "\r\n.\n", "LF", HDR "line\r\n" }, { "\r.\r", "CR", HDR },
		{ "\r\n.\r", "CR", HDR "line\r\n" },
		{ "\r\n.\r\r\n", "CR", HDR "line\r\n" },
#undef HDR
	};
	char in[1024], want[2048];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fake_reset();
		snprintf(in, sizeof(in), "EHLO client.test\r\n"
		    "MAIL FROM:<a1@test.example>\r\n"
		    "RCPT TO:<one@dest.test>\r\n"
		    "DATA\r\n"
		    "Subject: x\r\n\r\nline%s"
		    "MAIL FROM:<a3@test.example>\r\n"
		    "RCPT TO:<two@dest.test>\r\n"
		    "DATA\r\n"
		    "smuggled\r\n.\r\n"
		    "QUIT\r\n", v[i].end);
		snprintf(want, sizeof(want), GREETING EHLO_REPLY
		    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
		    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
		    "354 End data with <CR><LF>.<CR><LF>\r\n"
		    "550 5.5.2 relay.test Error: bare <%s> received: lines end "
		    "with <CR><LF> (RFC 5321 2.3.8); message refused\r\n",
		    v[i].bare);
		check(in, want);
		assert_string_equal(fk.env, "<a1@test.example>");
		assert_string_equal(fk.rcpts, "<one@dest.test>");
		assert_int_equal(fk.gets, 1);
		assert_int_equal(fk.data_starts, 1);
		assert_int_equal(fk.data_ends, 0);
		assert_int_equal(fk.puts, 1);
		assert_int_equal(fk.reusable, 0);
		/* only whole <CR><LF> lines before the bare character
		 * reached the provider */
		assert_string_equal(fk.data, v[i].sent);
	}
}

/* A line of dots and a terminator split over pieces of the stream are
 * message content as they should be: stuffed lines pass unchanged. */
static void
test_dot_lines(void **state)
{
	fake_reset();
	check("EHLO client.test\r\n"
	    "MAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\n"
	    "DATA\r\n"
	    "..\r\n...\r\n.. x\r\n\r\n.\r\n"
	    "QUIT\r\n",
	    GREETING EHLO_REPLY
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\r\n"
	    "221 2.0.0 Bye\r\n");
	assert_string_equal(fk.data, "..\r\n...\r\n.. x\r\n\r\n");
	assert_int_equal(fk.data_ends, 1);
	assert_int_equal(fk.reusable, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_long_data_line),
		cmocka_unit_test(test_rewrite_and_provider_refusal),
		cmocka_unit_test(test_routes_and_policies),
		cmocka_unit_test(test_auth_failure_cools_off),
		cmocka_unit_test(test_quota_and_limits),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_dot_lines),
	};

	log_init("test_relay_server", 1, 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
