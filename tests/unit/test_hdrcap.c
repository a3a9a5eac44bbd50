/*
 * Unit tests for lib/hdrcap.c: Message-ID, From: address and Postfix's
 * queue id picked out of a header section fed in pieces of every size
 * (fields folded across pieces), in Postfix's exact Received: formats;
 * only the topmost Received: counts, nothing after the header section,
 * over-long fields are skipped without harm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hdrcap.h"

struct hcase {
	const char	*name;
	const char	*msg;
	const char	*msgid, *from, *qid;
};

static const struct hcase cases[] = {
	{ "postfix smtpd",
	  "Received: from client.test (localhost [127.0.0.1])\r\n"
	  "\tby office.test (Postfix) with ESMTP id 4QXyZ1abcD\r\n"
	  "\tfor <bob@example.org>; Fri,  4 Dec 2026 22:00:00 +0000 (UTC)\r\n"
	  "From: \"Alice A.\" <Alice@Office.LAN>\r\n"
	  "To: bob@example.org\r\n"
	  "Message-ID: <20261204.1@office.lan>\r\n"
	  "Subject: hi\r\n"
	  "\r\n"
	  "Message-ID: <body@x>\r\n",
	  "20261204.1@office.lan", "alice@office.lan", "4QXyZ1abcD" },
	{ "postfix pickup, long queue id",
	  "Received: by office.test (Postfix, from userid 0)\r\n"
	  "\tid 4QXyZ15Fm3z9xYw; Fri,  4 Dec 2026 22:00:00 +0000 (UTC)\r\n"
	  "message-id:\r\n <folded@office.lan>\r\n"
	  "FROM : bob@office.lan\r\n"
	  "\r\n",
	  "folded@office.lan", "bob@office.lan", "4QXyZ15Fm3z9xYw" },
	{ "postfix via esmtps, first Received only",
	  "Received: from c.test (c.test [127.0.0.1])\r\n"
	  "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))"
	  "\r\n\t(No client certificate requested)\r\n"
	  "\tby office.test (Postfix) with ESMTPS id 9ABCDEF012\r\n"
	  "\tfor <x@y.test>; Fri,  4 Dec 2026 22:00:00 +0000 (UTC)\r\n"
	  "Received: by other.test (Postfix) id 1111111111;\r\n"
	  "\r\n",
	  "", "", "9ABCDEF012" },
	{ "topmost Received is not Postfix's",
	  "Received: from a by b with SMTP id 1234; date\r\n"
	  "Received: by office.test (Postfix) with ESMTP id 4QXyZ1abcD;\r\n"
	  "Message-ID: bare@id\r\n"
	  "\r\n",
	  "bare@id", "", "" },
	{ "no header section end, bare LF lines",
	  "Message-ID: <lf@office.lan>\n"
	  "From: Carol <carol@office.lan>\n",
	  "lf@office.lan", "carol@office.lan", "" },
	{ "first of two, unparsable From",
	  "Message-ID: <one@x>\r\n"
	  "Message-ID: <two@x>\r\n"
	  "From: \"unbalanced <a@b>\r\n"
	  "From: d@office.lan\r\n"
	  "\r\n",
	  "one@x", "", "" },
	{ "a TAB in a quoted local part: no From: address",
	  "From: \"a\tb\"@office.lan\r\n"
	  "\r\n",
	  "", "", "" },
	{ "Message-ID with a blank in it",
	  "Message-ID: <a b@x>\r\n"
	  "\r\n",
	  "", "", "" },
};

static void
run(const struct hcase *c, size_t piece)
{
	struct hdrcap h;
	size_t len = strlen(c->msg);

	hdrcap_init(&h);
	for (size_t off = 0; off < len; off += piece)
		hdrcap_feed(&h, c->msg + off, len - off < piece ? len - off :
		    piece);
	hdrcap_end(&h);
	if (strcmp(h.message_id, c->msgid) != 0 ||
	    strcmp(h.from, c->from) != 0 || strcmp(h.queue_id, c->qid) != 0)
		fail_msg("%s (pieces of %zu): got msgid \"%s\" from \"%s\" "
		    "qid \"%s\"", c->name, piece, h.message_id, h.from,
		    h.queue_id);
}

static void
test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t piece = 1; piece <= strlen(cases[i].msg) + 1;
		    piece++)
			run(&cases[i], piece);
}

/* A field longer than the buffer is skipped; the fields around it are
 * still found, and an over-long topmost Received: uses up "topmost". */
static void
test_overlong(void **state)
{
	size_t n = 3 * HDRCAP_FIELD_MAX, off = 0;
	char *msg = malloc(n + 512);
	struct hdrcap h;

	assert_non_null(msg);
	off += (size_t)sprintf(msg, "Received: from x by office.test "
	    "(Postfix) with ESMTP id 4QXyZ1abcD");
	for (size_t i = 0; i < HDRCAP_FIELD_MAX; i++)
		msg[off++] = i % 70 == 69 ? '\n' : i % 70 == 0 ? '\t' : 'x';
	off += (size_t)sprintf(msg + off, "\r\nReceived: by office.test "
	    "(Postfix) id 2222222222;\r\nX-Long: ");
	memset(msg + off, 'y', HDRCAP_FIELD_MAX);
	off += HDRCAP_FIELD_MAX;
	sprintf(msg + off, "\r\nMessage-ID: <after@long>\r\n\r\n");
	hdrcap_init(&h);
	hdrcap_feed(&h, msg, strlen(msg));
	hdrcap_end(&h);
	assert_string_equal(h.message_id, "after@long");
	assert_string_equal(h.queue_id, "");
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_overlong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
