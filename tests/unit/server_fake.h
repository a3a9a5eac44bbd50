/*
 * Shared by tests/unit/test_server*.c, each one translation unit that
 * includes the relay's server-side .c files first: the scripted stand-in
 * for relay/upstream.h and relay/pool.c (struct fk: what it answers and
 * what reached it; fake_reset() before each case), the relay under test
 * with its configuration in a temporary directory (setup/teardown), and
 * converse()/check(): a whole dialogue over a socketpair.
 */

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
	int		 data_code;	/* DATA gets this, not 354 (0: 354) */
	int		 no_pipelining;	/* the provider does not offer it */
	int		 dead;		/* pooled sessions dead before MAIL */
	int		 replied;	/* replies on the session taken */
	int		 gets, puts, reusable, rsets;
	int		 batches, batch_n, data_starts, rcpts_ok;
	int		 data_ends;	/* final dots sent */
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
    unsigned gen, unsigned wait, struct smtp_reply *r, enum upstream_fail *why)
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
	if (fk.data_code)
		return fake_reply(r, fk.data_code, "4.3.0", "DATA not now");
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
	fk.data_ends++;
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
