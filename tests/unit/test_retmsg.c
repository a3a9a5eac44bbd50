/*
 * Unit tests for lib/retmsg.c, table-driven: which messages are notices,
 * and which Message-IDs, of which kind and in which order, a notice or a
 * reply names (RFC 3464 reports with message/rfc822 or
 * text/rfc822-headers parts, plain-text notices quoting headers with
 * "> " or indentation, folded header lines, In-Reply-To before
 * References last-to-first, CRLF or LF line ends).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "retmsg.h"

struct tcase {
	const char	*name;
	const char	*msg;
	int		 notice;
	const char	*want;	/* "kind:id kind:id ..." */
};

static const struct tcase cases[] = {
{ "rfc3464 report",
  "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.qq.com\r\n"
  "Message-ID: <own@mx.qq.com>\r\n"
  "Content-Type: multipart/report; report-type=delivery-status;\r\n"
  "\tboundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
  "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
  "Final-Recipient: rfc822; bob@example.net\r\n\r\n"
  "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: alice@office.lan\r\n"
  "Message-ID: <a1@office.lan>\r\n\r\nbody\r\n--b--\r\n",
  1, "dsn:a1@office.lan" },
{ "text/rfc822-headers, folded Message-ID",
  "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
  "Content-Type: multipart/report; report-type=delivery-status; "
  "boundary=x\n\n--x\nContent-Type: text/rfc822-headers\n\n"
  "Message-Id:\n <a2@office.lan>\nSubject: hi\n--x--\n",
  1, "dsn:a2@office.lan" },
{ "plain notice quoting with > ",
  "From: postmaster@163.com\nSubject: failure\n\n"
  "Your mail could not be delivered.\n> From: alice@office.lan\n"
  ">    Message-ID: <a3@office.lan>\n",
  1, "dsn:a3@office.lan" },
{ "plain notice, indented, X-Failed-Recipients",
  "From: \"Mail System\" <bounces@provider.example>\n"
  "X-Failed-Recipients: bob@example.net\n\n  Message-ID: <a4@office.lan>\n"
  "  Message-ID: <a5@office.lan>\n",
  1, "dsn:a4@office.lan dsn:a5@office.lan" },
{ "reply: In-Reply-To, then References last first",
  "From: Bob <bob@example.net>\nIn-Reply-To: <r1@office.lan>\n"
  "References: <r0@office.lan>\n <r1@office.lan>\n\n"
  "Message-ID: <not-a-header@x>\n",
  0, "reply:r1@office.lan reply:r1@office.lan reply:r0@office.lan" },
{ "an ordinary message names nothing in its body",
  "From: carol@example.org\nSubject: lunch\n\nMessage-ID: <a6@office.lan>\n",
  0, "" },
{ "Return-Path <> alone makes a notice",
  "Return-Path: <>\nFrom: someone@example.org\n\n"
  "Original-Message-ID: <no@x>\nMessage-ID: <a7@office.lan>\n",
  1, "dsn:a7@office.lan" },
{ "a notice's own In-Reply-To counts as a notice",
  "From: MAILER-DAEMON@mx.example\nIn-Reply-To: <a8@office.lan>\n\n"
  "no headers quoted\n",
  1, "dsn:a8@office.lan" },
{ "postmaster must be the local part",
  "From: postmaster-help@example.org\n\nMessage-ID: <a9@office.lan>\n",
  0, "" },
{ "empty IDs and IDs with blanks are skipped",
  "From: bob@example.net\nIn-Reply-To: <> <ok@office.lan> <a\tb@x>\n\n",
  0, "reply:ok@office.lan" },
{ "a stray '<' before an ID",
  "From: bob@example.net\nReferences: <r <in@office.lan>\n\n",
  0, "reply:in@office.lan" },
};

struct got {
	char	buf[1024];
	int	stop_after;	/* 0: never */
	int	n;
};

static int
collect(enum retmsg_kind k, const char *id, void *arg)
{
	struct got *g = arg;
	size_t l = strlen(g->buf);

	snprintf(g->buf + l, sizeof(g->buf) - l, "%s%s:%s", l ? " " : "",
	    retmsg_kind_name(k), id);
	return ++g->n == g->stop_after ? 7 : 0;
}

static void
test_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct got g = { .buf = "" };

		if (retmsg_is_notice(c->msg, strlen(c->msg)) != c->notice)
			fail_msg("%s: notice %d, want %d", c->name, !c->notice,
			    c->notice);
		assert_int_equal(retmsg_scan(c->msg, strlen(c->msg), collect,
		    &g), 0);
		if (strcmp(g.buf, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, g.buf,
			    c->want);
	}
}

/* The callback's non-zero answer stops the scan and is returned. */
static void
test_stop(void **state)
{
	const struct tcase *c = &cases[3];
	struct got g = { .buf = "", .stop_after = 1 };

	assert_int_equal(retmsg_scan(c->msg, strlen(c->msg), collect, &g), 7);
	assert_string_equal(g.buf, "dsn:a4@office.lan");
}

/* A message that is all header, or ends inside a folded line, or has no
 * line end at all, is read without running past its end. */
static void
test_edges(void **state)
{
	static const char *const msgs[] = {
		"From: MAILER-DAEMON@x\nMessage-ID: <h@x>",
		"From: MAILER-DAEMON@x\n\nMessage-ID:\n ",
		"In-Reply-To: <unterminated@x",
		"",
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct got g = { .buf = "" };

		assert_int_equal(retmsg_scan(msgs[i], strlen(msgs[i]), collect,
		    &g), 0);
		assert_string_equal(g.buf, "");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
