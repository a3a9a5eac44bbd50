/*
 * upstream-drive — exercises the relay's client side (pool, upstream,
 * TLS, AUTH) without its server side, for tests/relay/upstream-*.t and
 * the benchmark.
 *
 *	upstream-drive -c CONF -f SENDER -t RCPT [-n MSGS] [-j THREADS]
 *	    [-w WAIT] [-p PAUSE_MS] [-k] [-b BODY_BYTES] [-R CONF2]
 *
 * Loads CONF (with its relay map and secrets) as the relay does, routes
 * SENDER, and sends MSGS messages from each of THREADS threads through one
 * pool, pausing PAUSE_MS between messages (-k: close the session after
 * each message instead of pooling it).  With -R, it then reloads from
 * CONF2 (pool_reconfigure(), as on SIGHUP) and does it all once more.
 * Prints one line per message:
 *
 *	SENT code=250 reused=1 text="..."
 *	FAIL why=UPF_TLS code=451 enhanced=4.7.5 local=1 text="..."
 *
 * then one STATS line per account and a TIME line; exits 0 if every
 * message got a 2xx reply, 1 otherwise, 2 on usage or configuration
 * errors.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "route.h"
#include "pool.h"
#include "util.h"

static const char *why_names[] = {
	[UPF_NONE] = "UPF_NONE", [UPF_CONNECT] = "UPF_CONNECT",
	[UPF_TLS] = "UPF_TLS", [UPF_AUTH] = "UPF_AUTH",
	[UPF_LIMIT] = "UPF_LIMIT", [UPF_PROTOCOL] = "UPF_PROTOCOL",
};

static struct {
	struct pool	*pool;
	struct route	 route;
	const char	*secret;
	unsigned	 gen;		/* secrets_generation() of secret */
	const char	*rcpt;
	unsigned	 msgs, wait, pause_ms, body_bytes;
	int		 keep;
	pthread_mutex_t	 out;
	int		 failed;
} g = { .msgs = 1, .wait = 10, .keep = 1 };

static void
report(const char *what, const struct smtp_reply *r, enum upstream_fail why,
    int reused)
{
	char text[SMTP_REPLY_TEXT_MAX + 16];

	log_quote(text, sizeof(text), r->text);
	pthread_mutex_lock(&g.out);
	if (strcmp(what, "SENT") == 0)
		printf("SENT code=%d reused=%d text=%s\n", r->code, reused,
		    text);
	else
		printf("FAIL why=%s code=%d enhanced=%s local=%d text=%s\n",
		    why_names[why], r->code, r->enhanced[0] ? r->enhanced : "-",
		    r->local, text);
	fflush(stdout);
	if (strcmp(what, "SENT") != 0 || r->code / 100 != 2)
		g.failed = 1;
	pthread_mutex_unlock(&g.out);
}

static int
send_body(struct upstream *up, unsigned n)
{
	static const char fill[] = "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789012345\r\n";
	char line[128];
	int len;

	len = snprintf(line, sizeof(line), "From: <%s>\r\nTo: <%s>\r\n"
	    "Subject: upstream test %u\r\n\r\n", g.route.login, g.rcpt, n);
	if (upstream_data_write(up, line, (size_t)len) == -1)
		return -1;
	for (unsigned done = 0; done < g.body_bytes; done += sizeof(fill) - 1)
		if (upstream_data_write(up, fill, sizeof(fill) - 1) == -1)
			return -1;
	return upstream_data_write(up, "end of test\r\n", 13);
}

/* One transaction; returns the final reply's code (0: local failure). */
static int
transaction(struct upstream *up, unsigned n, struct smtp_reply *r)
{
	char path[512];

	snprintf(path, sizeof(path), "<%s>", g.route.login);
	if (upstream_mail(up, path, NULL, r) != 250)
		return 0;
	snprintf(path, sizeof(path), "<%s>", g.rcpt);
	if (upstream_rcpt(up, path, NULL, r) / 100 != 2)
		return 0;
	if (upstream_data_start(up, r) != 354)
		return 0;
	send_body(up, n);
	return upstream_data_end(up, r);
}

static void *
worker(void *arg)
{
	struct smtp_reply r;
	enum upstream_fail why;
	struct upstream *up;
	int code, reused;

	for (unsigned i = 0; i < g.msgs; i++) {
		if (i > 0 && g.pause_ms)
			usleep(g.pause_ms * 1000);
		up = pool_get(g.pool, &g.route, g.secret, g.gen, g.wait, &r,
		    &why);
		if (up == NULL) {
			report("FAIL", &r, why, 0);
			continue;
		}
		reused = upstream_reused(up);
		code = transaction(up, i, &r);
		report(code ? "SENT" : "FAIL", &r, code ? UPF_NONE :
		    UPF_PROTOCOL, reused);
		pool_put(g.pool, up, g.keep && code / 100 == 2);
	}
	return NULL;
}

static void
print_stats(void)
{
	struct pool_stat st[16];
	size_t n = pool_stats(g.pool, st, 16);

	for (size_t i = 0; i < n && i < 16; i++)
		printf("STATS account=%s open=%u busy=%u peak=%u opened=%lu "
		    "full=%lu resumed=%lu reuses=%lu\n", st[i].account,
		    st[i].open, st[i].busy, st[i].peak, st[i].opened,
		    st[i].full_handshakes, st[i].resumed_handshakes,
		    st[i].reuses);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct config *
load(const char *conf, const char *sender)
{
	struct config *cfg;
	struct diag d;
	char err[256];

	diag_init(&d);
	cfg = config_load(conf, CONFIG_SECRETS, &d);
	diag_print(&d, stderr);
	if (diag_errors(&d)) {
		diag_free(&d);
		exit(2);
	}
	diag_free(&d);
	if (route_lookup(cfg, sender, &g.route, err, sizeof(err)) !=
	    ROUTE_OK) {
		fprintf(stderr, "no route for %s: %s\n", sender, err);
		exit(2);
	}
	g.secret = cfg->secrets ? secrets_get(cfg->secrets,
	    g.route.account->name) : NULL;
	g.gen = secrets_generation(cfg->secrets, g.route.account->name);
	return cfg;
}

static void
run(unsigned threads)
{
	pthread_t tid[64];

	for (unsigned i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, NULL);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *conf2 = NULL, *sender = NULL;
	unsigned threads = 1;
	struct config *cfg, *cfg2;
	double t0;
	int c;

	while ((c = getopt(argc, argv, "b:c:f:j:kn:p:R:t:w:")) != -1) {
		switch (c) {
		case 'b': g.body_bytes = (unsigned)atoi(optarg); break;
		case 'c': conf = optarg; break;
		case 'R': conf2 = optarg; break;
		case 'f': sender = optarg; break;
		case 'j': threads = (unsigned)atoi(optarg); break;
		case 'k': g.keep = 0; break;
		case 'n': g.msgs = (unsigned)atoi(optarg); break;
		case 'p': g.pause_ms = (unsigned)atoi(optarg); break;
		case 't': g.rcpt = optarg; break;
		case 'w': g.wait = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	if (!conf || !sender || !g.rcpt || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: upstream-drive -c CONF -f SENDER -t "
		    "RCPT [-n MSGS] [-j THREADS<=64] [-w WAIT] [-p PAUSE_MS] "
		    "[-k] [-b BYTES] [-R CONF2]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("upstream-drive", 1, 0);
	pthread_mutex_init(&g.out, NULL);
	cfg = load(conf, sender);
	g.pool = pool_new();
	pool_reconfigure(g.pool, cfg);
	t0 = now_s();
	run(threads);
	if (conf2) {
		cfg2 = load(conf2, sender);
		/* as the relay's reload: unchanged codes keep their
		 * generation */
		secrets_follow(cfg2->secrets, cfg->secrets);
		g.gen = secrets_generation(cfg2->secrets,
		    g.route.account->name);
		pool_reconfigure(g.pool, cfg2);
		config_unref(cfg);
		cfg = cfg2;
		printf("RELOADED\n");
		fflush(stdout);
		run(threads);
	}
	printf("TIME messages=%u seconds=%.3f\n", threads * g.msgs *
	    (conf2 ? 2 : 1), now_s() - t0);
	print_stats();
	pool_free(g.pool);
	config_unref(cfg);
	return g.failed;
}
