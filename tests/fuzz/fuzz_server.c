/*
 * fuzz_server — the relay's SMTP server side (relay/server.c,
 * relay/clientio.c) on arbitrary client bytes, as one pipelined burst,
 * with a provider that accepts everything.  Besides memory errors, checks
 * that every reply line the relay writes is a well-formed SMTP reply
 * ("NNN" then ' ' or '-', printable, at most 1000 bytes with CRLF) and
 * that the session ends (EOF closes it).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../relay/server.c"
#include "../../relay/txn.c"
#include "../../relay/txn_batch.c"
#include "../../relay/clientio.c"
#include "../../relay/dataend.c"
#include "../../relay/answer.c"
#include "../../relay/limit.c"
#include "../../relay/sentrec.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- a provider that says yes ---- */

struct upstream {
	int	 unused;
};

static struct upstream up;
static int pipelining;		/* inputs of odd length: PIPELINING offered */

static int
ok(struct smtp_reply *r, int code)
{
	memset(r, 0, sizeof(*r));
	r->code = code;
	xstrlcpy(r->enhanced, code == 354 ? "" : "2.0.0", sizeof(r->enhanced));
	xstrlcpy(r->text, "Ok", sizeof(r->text));
	xstrlcpy(r->host, "smtp.test", sizeof(r->host));
	return code;
}

struct upstream *
pool_get(struct pool *p, const struct route *rt, const char *secret,
    unsigned gen, unsigned wait, struct smtp_reply *r, enum upstream_fail *why)
{
	return &up;
}

void
pool_put(struct pool *p, struct upstream *u, int reusable)
{
}

int
upstream_reused(const struct upstream *u)
{
	return 0;
}

unsigned
upstream_caps(const struct upstream *u)
{
	return UPCAP_SIZE | UPCAP_8BITMIME |
	    (pipelining ? UPCAP_PIPELINING : 0);
}

unsigned long
upstream_max_size(const struct upstream *u)
{
	return 0;
}

int
upstream_mail(struct upstream *u, const char *s, const char *p,
    struct smtp_reply *r)
{
	if (s[0] != '<' || s[strlen(s) - 1] != '>')
		abort();	/* the relay always sends a bracketed path */
	return ok(r, 250);
}

int
upstream_rcpt(struct upstream *u, const char *s, const char *p,
    struct smtp_reply *r)
{
	if (s[0] != '<' || s[strlen(s) - 1] != '>' || strpbrk(s, "\r\n"))
		abort();
	return ok(r, 250);
}

int
upstream_data_start(struct upstream *u, struct smtp_reply *r)
{
	return ok(r, 354);
}

int
upstream_data_write(struct upstream *u, const char *buf, size_t len)
{
	/* every piece the relay passes on is data, never the final dot */
	if (len == 0 || len > DATA_CHUNK + 1)
		abort();
	return 0;
}

int
upstream_data_end(struct upstream *u, struct smtp_reply *r)
{
	return ok(r, 250);
}

int
upstream_rset(struct upstream *u, struct smtp_reply *r)
{
	return ok(r, 250);
}

unsigned
upstream_replied(const struct upstream *u)
{
	return 1;
}

size_t
upstream_pipeline(struct upstream *u, struct upstream_cmd *cmd, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((i == 0) != (cmd[i].verb == UPV_MAIL) ||
		    (cmd[i].verb == UPV_DATA && i != n - 1))
			abort();	/* MAIL first, DATA last */
		cmd[i].code = cmd[i].verb == UPV_MAIL ? upstream_mail(u,
		    cmd[i].path, cmd[i].params, &cmd[i].reply) :
		    cmd[i].verb == UPV_RCPT ? upstream_rcpt(u, cmd[i].path,
		    cmd[i].params, &cmd[i].reply) :
		    upstream_data_start(u, &cmd[i].reply);
	}
	return n;
}

/* ---- the relay ---- */

static struct relay rl;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_server.XXXXXX", *path, *text, err[64];
	struct diag d;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		abort();
	path = xasprintf("%s/relay.map", dir);
	fp = fopen(path, "w");
	fputs("a@test.example acc\n@office.test acc rewrite\n* acc\n", fp);
	fclose(fp);
	text = xasprintf("[global]\nrelay-map = %s\n[relay]\n"
	    "null-sender-account = acc\n[account acc]\nhost = smtp.test\n"
	    "login = a@test.example\ndaily-recipients = 1000000\n", path);
	free(path);
	path = xasprintf("%s/smarthost.conf", dir);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	diag_init(&d);
	rl.config = config_load(path, 0, &d);
	if (diag_errors(&d)) {
		diag_print(&d, stderr);
		abort();
	}
	diag_free(&d);
	unlink(path);
	free(path);
	path = xasprintf("%s/relay.map", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	free(text);
	pthread_mutex_init(&rl.mu, NULL);
	pthread_cond_init(&rl.idle, NULL);
	xstrlcpy(rl.hostname, "relay.test", sizeof(rl.hostname));
	rl.limits = limit_open(NULL, 0, err, sizeof(err));
	log_init("fuzz_server", 0, 0);	/* syslog: quiet here */
	return 0;
}

struct reader {
	int	 fd;
	char	*out;
	size_t	 len, cap;
};

static void *
read_all(void *arg)
{
	struct reader *rd = arg;
	ssize_t n;

	for (;;) {
		if (rd->len + 4096 > rd->cap) {
			rd->cap = rd->cap * 2 + 8192;
			rd->out = xreallocarray(rd->out, rd->cap, 1);
		}
		if ((n = read(rd->fd, rd->out + rd->len, 4096)) <= 0)
			break;
		rd->len += (size_t)n;
	}
	return NULL;
}

static void
bad_reply(const char *p, const char *end)
{
	fprintf(stderr, "bad reply line: \"");
	for (; p < end && *p != '\n'; p++)
		fprintf(stderr, (unsigned char)*p < 0x20 ||
		    (unsigned char)*p > 0x7e ? "\\x%02x" : "%c",
		    (unsigned char)*p);
	fprintf(stderr, "\"\n");
	abort();
}

/* Every line "NNN[ -]text", printable, CRLF-terminated, <= 1000 bytes. */
static void
check_replies(const char *p, size_t len)
{
	const char *end = p + len, *eol;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL || eol == p || eol[-1] != '\r' ||
		    eol - p + 1 > 1000 || eol - p < 5)
			bad_reply(p, end);
		for (int i = 0; i < 3; i++)
			if (p[i] < '0' || p[i] > '9')
				bad_reply(p, end);
		if (p[3] != ' ' && p[3] != '-')
			bad_reply(p, end);
		for (const char *q = p; q < eol - 1; q++)
			if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
				bad_reply(p, end);
		p = eol + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = { 0 };
	pthread_t t;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	rd.fd = sv[0];
	pipelining = size & 1;
	pthread_create(&t, NULL, read_all, &rd);
	/* the whole input is queued before the relay reads: one burst */
	if (size > 0 && write(sv[0], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[0], SHUT_WR);
	server_run(&rl, sv[1], "fuzz");
	pthread_join(t, NULL);
	close(sv[0]);
	check_replies(rd.out ? rd.out : "", rd.len);
	free(rd.out);
	limit_free(rl.limits);
	rl.limits = limit_open(NULL, 0, (char[64]){ 0 }, 64);
	return 0;
}
