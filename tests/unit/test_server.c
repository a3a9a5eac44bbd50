/*
 * Unit tests for the relay's SMTP server side (relay/server.c, relay/txn*.c,
 * relay/clientio.c): whole dialogues over a socketpair, the provider
 * played by a scripted stand-in for relay/upstream.h (the real client
 * side is tested end to end in tests/relay/).  Each case asserts the exact
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
#include "../../relay/answer.c"
#include "../../relay/limit.c"

/* ---- the scripted provider ---- */

struct upstream {
	int	 reused;
};

static struct upstream fake_up;

static struct {
	enum upstream_fail get_fail;	/* pool_get fails so */
	int		 mail_code;
	const char	*mail_enh, *mail_text;
	const char	*rcpt_bad;	/* this recipient gets 550 5.1.1 */
	const char	*rcpt_quota;	/* this one gets 451 RP:QRC */
	const char	*rcpt_lost;	/* the session dies at this one */
	int		 write_fail;	/* upstream_data_write fails */
	int		 end_code;	/* 0: no reply after the dot */
	int		 no_pipelining;	/* the provider does not offer it */
	int		 dead;		/* pooled sessions dead before MAIL */
	int		 replied;	/* replies on the session taken */
	int		 gets, puts, reusable, rsets;
	int		 batches, batch_n, data_starts, rcpts_ok;
	char		 batch[64];	/* verbs of the last batch: "MRRD" */
	char		 secret[64];
	char		 env[300], params[64], rcpts[1024], data[32768];
} fk;

static struct relay rl;

static void
fake_reset(void)
{
	char err[256];

	limit_free(rl.limits);
	rl.limits = limit_open(NULL, time(NULL), err, sizeof(err));
	memset(&fk, 0, sizeof(fk));
	fk.mail_code = 250;
	fk.mail_enh = "2.1.0";
	fk.mail_text = "Ok";
	fk.end_code = 250;
}

static int
fake_reply(struct smtp_reply *r, int code, const char *enh, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->code = code;
	xstrlcpy(r->enhanced, enh, sizeof(r->enhanced));
	xstrlcpy(r->text, text, sizeof(r->text));
	xstrlcpy(r->host, "smtp.test", sizeof(r->host));
	return code;
}

struct upstream *
pool_get(struct pool *p, const struct route *rt, const char *secret,
    unsigned wait, struct smtp_reply *r, enum upstream_fail *why)
{
	fk.gets++;
	xstrlcpy(fk.secret, secret ? secret : "(none)", sizeof(fk.secret));
	fk.replied = 0;
	fk.rcpts_ok = 0;
	fake_up.reused = fk.dead > 0;
	if (fk.get_fail == UPF_NONE)
		return &fake_up;
	*why = fk.get_fail;
	if (fk.get_fail == UPF_AUTH) {
		fake_reply(r, 535, "5.7.8", "smtp.test[127.0.0.1]:465: AUTH "
		    "PLAIN refused: 535 Error: authentication failed");
	} else
		fake_reply(r, 451, "4.4.1", "smtp.test[127.0.0.1]:465: "
		    "connect: Connection refused");
	r->local = 1;
	return NULL;
}

void
pool_put(struct pool *p, struct upstream *u, int reusable)
{
	fk.puts++;
	fk.reusable = reusable;
}

unsigned
upstream_replied(const struct upstream *u)
{
	return (unsigned)fk.replied;
}

int
upstream_reused(const struct upstream *u)
{
	return u->reused;
}

unsigned
upstream_caps(const struct upstream *u)
{
	return (fk.no_pipelining ? 0 : UPCAP_PIPELINING) | UPCAP_SIZE |
	    UPCAP_8BITMIME;
}

unsigned long
upstream_max_size(const struct upstream *u)
{
	return 0;
}

int
upstream_mail(struct upstream *u, const char *sender, const char *params,
    struct smtp_reply *r)
{
	xstrlcpy(fk.env, sender, sizeof(fk.env));
	xstrlcpy(fk.params, params ? params : "", sizeof(fk.params));
	if (fk.dead > 0) {	/* a pooled session that died while idle */
		fk.dead--;
		fake_reply(r, 0, "4.4.2", "lost connection with "
		    "smtp.test[127.0.0.1]:465 while sending MAIL FROM");
		r->local = 1;
		return 0;
	}
	fk.replied++;
	return fake_reply(r, fk.mail_code, fk.mail_enh, fk.mail_text);
}

int
upstream_rcpt(struct upstream *u, const char *rcpt, const char *params,
    struct smtp_reply *r)
{
	xstrlcat(fk.rcpts, rcpt, sizeof(fk.rcpts));
	if (fk.rcpt_bad && strcmp(rcpt, fk.rcpt_bad) == 0)
		return fake_reply(r, 550, "5.1.1", "Mailbox not found");
	if (fk.rcpt_quota && strcmp(rcpt, fk.rcpt_quota) == 0)
		return fake_reply(r, 451, "", "RP:QRC 163 smtp too many "
		    "recipients");
	if (fk.rcpt_lost && strcmp(rcpt, fk.rcpt_lost) == 0) {
		fake_reply(r, 0, "", "smtp.test[127.0.0.1]:465: connection "
		    "closed by the provider");
		r->local = 1;
		return 0;
	}
	fk.rcpts_ok++;
	return fake_reply(r, 250, "2.1.5", "Ok");
}

int
upstream_data_start(struct upstream *u, struct smtp_reply *r)
{
	fk.data_starts++;
	if (fk.rcpts_ok == 0)	/* as a server does */
		return fake_reply(r, 554, "5.5.1", "No valid recipients");
	return fake_reply(r, 354, "", "go ahead");
}

/* The provider reads a pipelined batch one command after the other
 * and stops answering once the connection is gone. */
size_t
upstream_pipeline(struct upstream *u, struct upstream_cmd *cmd, size_t n)
{
	size_t i, got = 0;
	int mail_ok = 0;

	fk.batches++;
	fk.batch_n = (int)n;
	for (i = 0; i < n && i < sizeof(fk.batch) - 1; i++)
		fk.batch[i] = "MRD"[cmd[i].verb];
	fk.batch[i] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && cmd[i - 1].code == 0) {
			cmd[i].code = 0;
			cmd[i].reply = cmd[i - 1].reply;
			continue;
		}
		if (i > 0 && !mail_ok)
			cmd[i].code = fake_reply(&cmd[i].reply, 503, "5.5.1",
			    "MAIL first");
		else if (cmd[i].verb == UPV_MAIL)
			cmd[i].code = upstream_mail(u, cmd[i].path,
			    cmd[i].params, &cmd[i].reply);
		else if (cmd[i].verb == UPV_RCPT)
			cmd[i].code = upstream_rcpt(u, cmd[i].path,
			    cmd[i].params, &cmd[i].reply);
		else
			cmd[i].code = upstream_data_start(u, &cmd[i].reply);
		if (cmd[i].verb == UPV_MAIL)
			mail_ok = cmd[i].code / 100 == 2;
		got += cmd[i].code != 0;
	}
	return got;
}

int
upstream_data_write(struct upstream *u, const char *buf, size_t len)
{
	size_t have = strlen(fk.data);

	if (fk.write_fail)
		return -1;
	assert_true(have + len < sizeof(fk.data));
	memcpy(fk.data + have, buf, len);
	fk.data[have + len] = '\0';
	return 0;
}

int
upstream_data_end(struct upstream *u, struct smtp_reply *r)
{
	if (fk.end_code == 0) {
		fake_reply(r, 0, "", "smtp.test[127.0.0.1]:465: timeout "
		    "after end of data");
		r->local = 1;
		return 0;
	}
	return fake_reply(r, fk.end_code, "2.0.0", "Ok: queued as 12345");
}

int
upstream_rset(struct upstream *u, struct smtp_reply *r)
{
	fk.rsets++;
	return fake_reply(r, 250, "2.0.0", "Ok");
}

/* ---- the relay under test ---- */
static char dir[] = "/tmp/test_relay_server.XXXXXX";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	free(path);
}

static void
load_config(const char *extra_relay)
{
	char *conf, *path = xasprintf("%s/smarthost.conf", dir);
	struct diag d;
	struct config *cfg;

	conf = xasprintf("[global]\nrelay-map = %s/relay.map\n"
	    "state-dir = %s\n[relay]\n%s\n"
	    "[account test1]\nhost = smtp.test\nport = 465\n"
	    "tls = implicit\nlogin = a1@test.example\n"
	    "[account test2]\nhost = smtp.test\nlogin = a2@test.example\n"
	    "daily-messages = 1\n"
	    "[account test3]\nhost = smtp.test\nlogin = a3@test.example\n"
	    "daily-recipients = 2\n", dir, dir, extra_relay);
	write_file("smarthost.conf", conf, 0644);
	diag_init(&d);
	cfg = config_load(path, 0, &d);
	diag_print(&d, stderr);
	assert_int_equal(diag_errors(&d), 0);
	diag_free(&d);
	relay_swap_config(&rl, cfg);
	free(conf);
	free(path);
}

static int
setup(void **state)
{
	char err[256];

	assert_non_null(mkdtemp(dir));
	write_file("relay.map",
	    "a1@test.example    test1\n"
	    "@office.lan        test1   rewrite\n"
	    "limited@test.example test2\n"
	    "a3@test.example test3\n", 0644);
	pthread_mutex_init(&rl.mu, NULL);
	pthread_cond_init(&rl.idle, NULL);
	xstrlcpy(rl.hostname, "relay.test", sizeof(rl.hostname));
	rl.limits = limit_open(NULL, time(NULL), err, sizeof(err));
	load_config("");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	relay_swap_config(&rl, NULL);
	limit_free(rl.limits);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int server_fd;

static void *
server_thread(void *arg)
{
	server_run(&rl, server_fd, "test");
	return NULL;
}

/* Send input (all of it at once: pipelined), return everything the
 * server said until it closed. */
static char *
converse(const char *input)
{
	int sv[2];
	pthread_t t;
	size_t len = 0, cap = 65536;
	char *out = xmalloc(cap);
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	server_fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, server_thread, NULL), 0);
	assert_int_equal(write(sv[0], input, strlen(input)),
	    (ssize_t)strlen(input));
	shutdown(sv[0], SHUT_WR);
	while ((n = read(sv[0], out + len, cap - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(sv[0]);
	pthread_join(t, NULL);
	return out;
}

static void
check(const char *input, const char *want)
{
	char *got = converse(input);

	assert_string_equal(got, want);
	free(got);
}

#define GREETING "220 relay.test ESMTP smarthost-relay\r\n"
#define EHLO_REPLY "250-relay.test\r\n250-PIPELINING\r\n250-SIZE\r\n" \
	"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250 XFORWARD NAME ADDR PROTO HELO IDENT SOURCE\r\n"

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
	    "Subject: x\r\n\r\n..dot line\r\nbare lf\n.\r\n"
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
	    "bare lf\r\n");
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

static void
test_routes_and_policies(void **state)
{
	char *got;

	fake_reset();
	got = xasprintf(GREETING "250 relay.test\r\n"
	    "550 5.7.1 no route for sender <nobody@else.test> in "
	    "%s/relay.map: add a line for it (or @domain, or *)\r\n"
	    "550 5.7.1 null sender (bounce or DSN) not relayed: no account "
	    "for <> (set null_sender_account in smarthost.conf or add a "
	    "\"<>\" line to %s/relay.map)\r\n"
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
	    "for <> (set null_sender_account in smarthost.conf or add a "
	    "\"<>\" line to %s/relay.map)\r\n221 2.0.0 Bye\r\n", dir);
	check("HELO c\r\nMAIL FROM:<>\r\nQUIT\r\n", got);
	free(got);
	load_config("null-sender-account = test1\n");
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
		cmocka_unit_test(test_no_reply_after_dot),
		cmocka_unit_test(test_failures_mid_transaction),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_dead_pooled_session),
		cmocka_unit_test(test_syntax),
	};

	log_init("test_relay_server", 1, 0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
