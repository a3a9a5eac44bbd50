/*
 * Unit tests for the relay's SMTP server side, continued from
 * test_server.c (same stand-in provider, server_fake.h): provider replies
 * missing after the dot or mid-transaction, PIPELINING batches towards
 * the provider, pooled sessions found dead.  Each case asserts the exact
 * transcript Postfix would see and what reached the "provider".
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
#include "../../relay/sentrec.c"
#include "server_fake.h"

static void
test_no_reply_after_dot(void **state)
{
	fake_reset();
	fk.end_code = 0;
	check("HELO c\r\nMAIL FROM:<a2@test.example>\r\n"
	    "RCPT TO:<r@dest.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "451 4.4.2 smtp.test[127.0.0.1]:465: timeout after end of data"
	    "\r\n");
	assert_int_equal(fk.reusable, 0);
}

static void
test_failures_mid_transaction(void **state)
{
	char *out;

	/* a quota reply to one recipient defers it and cools the account */
	fake_reset();
	fk.rcpt_quota = "<q@dest.test>";
	out = converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<ok@dest.test>\r\nRCPT TO:<q@dest.test>\r\n"
	    "DATA\r\nhi\r\n.\r\nQUIT\r\n");
	assert_non_null(strstr(out, "\r\n250 2.1.5 smtp.test said: 250 2.1.5 "
	    "Ok\r\n451 4.7.1 smtp.test said: 451 RP:QRC 163 smtp too many "
	    "recipients; account test1 cooling off for 3600 s\r\n354 "));
	assert_non_null(strstr(out, "\r\n250 2.0.0 smtp.test said: 250 2.0.0 "
	    "Ok: queued as 12345\r\n221 2.0.0 Bye\r\n"));
	free(out);

	/* the session dies at RCPT: this and later commands get 4.4.2 */
	fake_reset();
	fk.rcpt_lost = "<x@dest.test>";
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<x@dest.test>\r\nRCPT TO:<y@dest.test>\r\n"
	    "DATA\r\nRSET\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "451 4.4.2 smtp.test[127.0.0.1]:465: connection closed by the "
	    "provider\r\n"
	    "451 4.4.2 smtp.test[127.0.0.1]:465: connection closed by the "
	    "provider\r\n"
	    "554 5.5.1 no valid recipients\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(fk.puts, 1);
	assert_int_equal(fk.reusable, 0);

	/* the connection drops while the message is sent: not delivered,
	 * deferred, and the client's session goes on */
	fake_reset();
	fk.write_fail = 1;
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<x@dest.test>\r\nDATA\r\nline 1\r\nline 2\r\n.\r\n"
	    "NOOP\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "451 4.4.2 smtp.test: connection lost while sending the message "
	    "(not delivered)\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(fk.reusable, 0);
}

/* With PIPELINING upstream, what Postfix sent behind MAIL goes up in one
 * batch; each reply still answers its own command, per recipient. */
static void
test_pipelined(void **state)
{
	const char *in = "HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nRCPT TO:<bad@dest.test>\r\n"
	    "RCPT TO:<two@dest.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n";
	const char *want = GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "550 5.1.1 smtp.test said: 550 5.1.1 Mailbox not found\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\r\n"
	    "221 2.0.0 Bye\r\n";

	fake_reset();
	fk.rcpt_bad = "<bad@dest.test>";
	check(in, want);
	assert_int_equal(fk.batches, 1);
	assert_string_equal(fk.batch, "MRRRD");
	assert_string_equal(fk.data, "hi\r\n");
	assert_int_equal(fk.reusable, 1);

	/* the same dialogue one command at a time without PIPELINING */
	fake_reset();
	fk.rcpt_bad = "<bad@dest.test>";
	fk.no_pipelining = 1;
	check(in, want);
	assert_int_equal(fk.batches, 0);
	assert_int_equal(fk.data_starts, 1);
	assert_string_equal(fk.data, "hi\r\n");

	/* a refused MAIL: its refusal, then 503s as from any pipelining
	 * server; nothing delivered */
	fake_reset();
	fk.mail_code = 553;
	fk.mail_enh = "";
	fk.mail_text = "Mail from must equal authorized user";
	check(in, GREETING "250 relay.test\r\n"
	    "553 5.0.0 smtp.test said: 553 Mail from must equal authorized "
	    "user\r\n"
	    "503 5.5.1 need MAIL before RCPT\r\n"
	    "503 5.5.1 need MAIL before RCPT\r\n"
	    "503 5.5.1 need MAIL before RCPT\r\n"
	    "503 5.5.1 need MAIL before DATA\r\n"
	    "500 5.5.2 command not recognized\r\n"
	    "500 5.5.2 command not recognized\r\n"
	    "221 2.0.0 Bye\r\n");
	assert_int_equal(fk.batches, 1);
	assert_string_equal(fk.batch, "MRRRD");
	assert_string_equal(fk.rcpts, "");
	assert_string_equal(fk.data, "");

	/* every recipient refused: DATA is answered here, no body is sent */
	fake_reset();
	fk.rcpt_bad = "<bad@dest.test>";
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<bad@dest.test>\r\nDATA\r\nRSET\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "550 5.1.1 smtp.test said: 550 5.1.1 Mailbox not found\r\n"
	    "554 5.5.1 no valid recipients\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	assert_string_equal(fk.batch, "MRD");
	assert_int_equal(fk.data_starts, 1);
	assert_string_equal(fk.data, "");

	/* a recipient refused here stops the batch; it and the rest go
	 * the ordinary way */
	fake_reset();
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nRCPT TO:<two@dest.test> NOTIFY=NEVER\r\n"
	    "RCPT TO:<three@dest.test>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "555 5.5.4 unsupported RCPT parameter NOTIFY\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\r\n"
	    "221 2.0.0 Bye\r\n");
	assert_int_equal(fk.batches, 1);
	assert_string_equal(fk.batch, "MR");
	assert_string_equal(fk.rcpts, "<one@dest.test><three@dest.test>");
}

/* A pooled session that died while idle fails MAIL with no reply at all:
 * the transaction moves to another session before Postfix hears of it;
 * after MAIL_TRIES sessions the failure is Postfix's. */
static void
test_dead_pooled_session(void **state)
{
	for (int pipe = 0; pipe < 2; pipe++) {
		fake_reset();
		fk.no_pipelining = pipe;
		fk.dead = 2;
		check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
		    "RCPT TO:<one@dest.test>\r\nDATA\r\nhi\r\n.\r\n"
		    "QUIT\r\n",
		    GREETING "250 relay.test\r\n"
		    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
		    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
		    "354 End data with <CR><LF>.<CR><LF>\r\n"
		    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as "
		    "12345\r\n221 2.0.0 Bye\r\n");
		assert_int_equal(fk.gets, 3);
		assert_int_equal(fk.puts, 3);
		assert_int_equal(fk.reusable, 1);
		assert_string_equal(fk.data, "hi\r\n");
	}

	fake_reset();
	fk.dead = 3;
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "451 4.4.2 lost connection with smtp.test[127.0.0.1]:465 while "
	    "sending MAIL FROM\r\n221 2.0.0 Bye\r\n");
	assert_int_equal(fk.gets, 3);
	assert_int_equal(fk.reusable, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_reply_after_dot),
		cmocka_unit_test(test_failures_mid_transaction),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_dead_pooled_session),
	};

	log_init("test_relay_server_pipe", 1, 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
