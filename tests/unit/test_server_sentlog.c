/*
 * Unit tests for the relay's sent-log rows (relay/sentrec.c) through whole
 * dialogues over a socketpair, the provider played by the scripted
 * stand-in of server_fake.h, the log a real SQLite file in the test's
 * state directory: accepted and refused recipients (pipelined and not),
 * Message-ID, From: and the queue id (XFORWARD IDENT, else Postfix's
 * Received:), a refused DATA, a refused MAIL, no reply after the dot, a
 * transaction that never reaches DATA, and sent-log-days = 0.
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

#define MSG "Received: from client.test (localhost [127.0.0.1])\r\n" \
	"\tby office.test (Postfix) with ESMTP id 4QRcv1abcD\r\n" \
	"\tfor <one@dest.test>; Fri,  4 Dec 2026 22:00:00 +0000 (UTC)\r\n" \
	"From: A <a1@test.example>\r\n" \
	"Message-ID: <t1@office.lan>\r\n" \
	"Subject: x\r\n\r\nbody\r\n.\r\n"

/* A new sent log, opened as the relay does (main thread). */
static void
start_log(const char *extra)
{
	const char *suffix[] = { "", "-wal", "-shm" };
	char path[512];

	load_config(extra);
	sentrec_free(rl.sent);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, SENTLOG_FILE,
		    suffix[i]);
		unlink(path);
	}
	rl.sent = sentrec_new();
	sentrec_maintain(rl.sent, rl.config->conf, time(NULL));
}

/* "status rcpts qid msgid from reply" of each row, oldest first. */
static int
row(const struct sentlog_entry *e, void *arg)
{
	char *all = arg, line[1200];

	snprintf(line, sizeof(line), "%s|%s|%s|%s|%s|%s|%s|%s\n", e->status,
	    e->rcpts, e->queue_id ? e->queue_id : "-",
	    e->message_id ? e->message_id : "-",
	    e->header_from ? e->header_from : "-", e->env_from, e->login,
	    e->reply ? e->reply : "-");
	/* newest first from the query: prepend */
	memmove(all + strlen(line), all, strlen(all) + 1);
	memcpy(all, line, strlen(line));
	return 0;
}

static void
expect_rows(const char *sender, const char *want)
{
	char err[512], all[8192] = "";
	struct sentlog *sl = sentlog_open(dir, SENTLOG_RDONLY, err,
	    sizeof(err));

	if (sl == NULL)
		fail_msg("%s", err);
	assert_true(sentlog_query(sl, sender, row, all) >= 0);
	sentlog_close(sl);
	assert_string_equal(all, want);
}

static void
test_recipients_and_header(void **state)
{
	fake_reset();
	start_log("sent-log-days = 30");
	fk.rcpt_bad = "<bad@dest.test>";
	fk.rcpt_quota = "<busy@dest.test>";
	free(converse("EHLO client.test\r\n"
	    "XFORWARD NAME=localhost ADDR=127.0.0.1 IDENT=4XyzQ1\r\n"
	    "MAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nRCPT TO:<bad@dest.test>\r\n"
	    "RCPT TO:<two@dest.test>\r\nRCPT TO:<busy@dest.test>\r\n"
	    "DATA\r\n" MSG "QUIT\r\n"));
	expect_rows("a1@test.example",
	    "sent|one@dest.test two@dest.test|4XyzQ1|t1@office.lan|"
	    "a1@test.example|a1@test.example|a1@test.example|"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\n"
	    "bounced|bad@dest.test|4XyzQ1|t1@office.lan|a1@test.example|"
	    "a1@test.example|a1@test.example|"
	    "550 5.1.1 smtp.test said: 550 5.1.1 Mailbox not found\n"
	    "deferred|busy@dest.test|4XyzQ1|t1@office.lan|a1@test.example|"
	    "a1@test.example|a1@test.example|451 4.7.1 smtp.test said: 451 "
	    "RP:QRC 163 smtp too many recipients; account test1 cooling off "
	    "for 3600 s\n");
}

/* Without pipelining, without XFORWARD: the queue id from Received:;
 * the envelope sender as Postfix gave it under a rewrite route. */
static void
test_received_and_rewrite(void **state)
{
	fake_reset();
	start_log("sent-log-days = 30");
	fk.no_pipelining = 1;
	free(converse("HELO c\r\nMAIL FROM:<scanner@office.lan>\r\n"
	    "RCPT TO:<one@dest.test>\r\nDATA\r\n" MSG "QUIT\r\n"));
	expect_rows("scanner@office.lan",
	    "sent|one@dest.test|4QRcv1abcD|t1@office.lan|a1@test.example|"
	    "scanner@office.lan|a1@test.example|"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\n");
}

static void
test_refusals(void **state)
{
	fake_reset();
	start_log("sent-log-days = 30");
	/* DATA refused: the accepted recipients, deferred, no header */
	fk.data_code = 451;
	free(converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nDATA\r\nQUIT\r\n"));
	/* MAIL refused: one row without recipients */
	fake_reset();
	fk.mail_code = 553;
	fk.mail_enh = "5.7.1";
	fk.mail_text = "sender not allowed";
	free(converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<x@dest.test>\r\nDATA\r\nQUIT\r\n"));
	/* no reply after the dot: deferred with the relay's answer */
	fake_reset();
	fk.end_code = 0;
	free(converse("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<three@dest.test>\r\nDATA\r\n" MSG "QUIT\r\n"));
	/* RSET before DATA: the provider never had the message: no row */
	fake_reset();
	check("HELO c\r\nMAIL FROM:<a1@test.example>\r\n"
	    "RCPT TO:<four@dest.test>\r\nRSET\r\nQUIT\r\n",
	    GREETING "250 relay.test\r\n"
	    "250 2.1.0 smtp.test said: 250 2.1.0 Ok\r\n"
	    "250 2.1.5 smtp.test said: 250 2.1.5 Ok\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
	expect_rows("a1@test.example",
	    "deferred|one@dest.test|-|-|-|a1@test.example|a1@test.example|"
	    "451 4.3.0 smtp.test said: 451 4.3.0 DATA not now\n"
	    "bounced||-|-|-|a1@test.example|a1@test.example|"
	    "553 5.7.1 smtp.test said: 553 5.7.1 sender not allowed\n"
	    "deferred|three@dest.test|4QRcv1abcD|t1@office.lan|"
	    "a1@test.example|a1@test.example|a1@test.example|451 4.4.2 "
	    "smtp.test[127.0.0.1]:465: timeout after end of data\n");
}

/* sent-log-days = 0 on reload: nothing more is written. */
static void
test_off(void **state)
{
	const char *one = "sent|one@dest.test|4QRcv1abcD|t1@office.lan|"
	    "a1@test.example|a3@test.example|a3@test.example|"
	    "250 2.0.0 smtp.test said: 250 2.0.0 Ok: queued as 12345\n";

	fake_reset();
	start_log("sent-log-days = 30");
	free(converse("HELO c\r\nMAIL FROM:<a3@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nDATA\r\n" MSG "QUIT\r\n"));
	expect_rows("a3@test.example", one);
	load_config("sent-log-days = 0");
	free(converse("HELO c\r\nMAIL FROM:<a3@test.example>\r\n"
	    "RCPT TO:<one@dest.test>\r\nDATA\r\n" MSG "QUIT\r\n"));
	assert_int_equal(fk.data_ends, 2);
	expect_rows("a3@test.example", one);
	sentrec_free(rl.sent);
	rl.sent = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recipients_and_header),
		cmocka_unit_test(test_received_and_rewrite),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_off),
	};

	log_init("test_server_sentlog", 1, 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
