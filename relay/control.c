/*
 * control — see control.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctlsock.h"
#include "diag.h"
#include "log.h"
#include "route.h"
#include "server.h"
#include "store.h"

struct control {
	struct ctlsock	*sock;
	struct relay	*relay;
	control_reload_fn *reload;
	time_t		 started;
	time_t		 loaded;	/* atomic */
};

struct control *
control_open(const char *path, uid_t uid, gid_t gid, char *err,
    size_t errsize)
{
	struct ctlsock *sock;
	struct control *c;

	if ((sock = ctlsock_open(path, "relay", uid, gid, err,
	    errsize)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->sock = sock;
	c->started = c->loaded = time(NULL);
	return c;
}

/* ---- the status reply ---- */

/* " key=value", the value quoted unless it is a plain token. */
static void
put_str(FILE *fp, const char *key, const char *v)
{
	int plain = v != NULL && *v != '\0';

	if (v == NULL)
		v = "";
	for (const char *p = v; *p && plain; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			plain = 0;
	fprintf(fp, " %s=", key);
	if (plain) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', fp);
		fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', fp);
	}
	fputc('"', fp);
}

static unsigned
daily(unsigned own, const struct preset *p, int rcpts)
{
	if (own != 0 || p == NULL)
		return own;
	return rcpts ? p->daily_rcpts : p->daily_msgs;
}

static const struct pool_stat *
stat_of(const struct pool_stat *st, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].account, name) == 0)
			return &st[i];
	return NULL;
}

static void
put_account(FILE *fp, struct relay *rl, const struct account *a,
    const struct pool_stat *ps, time_t now)
{
	static const struct pool_stat none;
	struct limit_state ls;
	int cooling;

	if (ps == NULL)
		ps = &none;
	limit_state(rl->limits, a->name, now, &ls);
	cooling = ls.cool_until > now;
	fputs("account", fp);
	put_str(fp, "name", a->name);
	put_str(fp, "host", account_host(a));
	fprintf(fp, " port=%u", account_port(a));
	put_str(fp, "tls", tls_mode_name(account_tls(a)));
	put_str(fp, "login", a->login);
	fprintf(fp, " max_connections=%u open=%u busy=%u peak=%u opened=%lu "
	    "full_handshakes=%lu resumed_handshakes=%lu reuses=%lu",
	    account_max_connections(a), ps->open, ps->busy, ps->peak,
	    ps->opened, ps->full_handshakes, ps->resumed_handshakes,
	    ps->reuses);
	fprintf(fp, " session_limit=%u session_limit_at=%lld "
	    "session_limit_until=%lld", ps->limit, (long long)ps->limit_at,
	    (long long)ps->limit_until);
	put_str(fp, "session_limit_reason", ps->limit_reason);
	fprintf(fp, " messages=%u recipients=%u inflight=%u "
	    "daily_messages=%u daily_recipients=%u", ls.msgs, ls.rcpts,
	    ls.inflight, daily(a->daily_msgs, a->preset, 0),
	    daily(a->daily_rcpts, a->preset, 1));
	fprintf(fp, " cooloff_until=%lld", cooling ? (long long)ls.cool_until
	    : 0LL);
	put_str(fp, "cooloff_reason", cooling ? ls.cool_reason : "");
	fprintf(fp, " last_error_at=%lld", (long long)ls.error_at);
	put_str(fp, "last_error", ls.error);
	if (ls.shared)	/* over every relay of the limits-store */
		fprintf(fp, " total_messages=%u total_recipients=%u "
		    "total_sessions=%u", ls.total_msgs, ls.total_rcpts,
		    ls.total_sessions);
	fputc('\n', fp);
}

static void
put_status(FILE *fp, struct control *c)
{
	struct relay *rl = c->relay;
	struct config *cfg = relay_config(rl);
	size_t max = cfg->naccounts + 8, n;
	struct pool_stat *st = xcalloc(max, sizeof(*st));
	time_t now = time(NULL);
	unsigned clients;
	char store[512];

	n = pool_stats(rl->pool, st, max);
	pthread_mutex_lock(&rl->mu);
	clients = rl->nclients;
	pthread_mutex_unlock(&rl->mu);
	fprintf(fp, "smarthost-relay status %d\nrelay pid=%d now=%lld "
	    "started=%lld config_loaded=%lld clients=%u accounts=%zu",
	    CONTROL_VERSION, (int)getpid(), (long long)now,
	    (long long)c->started,
	    (long long)__atomic_load_n(&c->loaded, __ATOMIC_RELAXED),
	    clients, cfg->naccounts);
	put_str(fp, "config", cfg->conf->path);
	store_status(rl, store, sizeof(store));
	fputs(store, fp);
	fputc('\n', fp);
	for (size_t i = 0; i < cfg->naccounts; i++)
		put_account(fp, rl, cfg->accounts[i], stat_of(st,
		    n < max ? n : max, cfg->accounts[i]->name), now);
	fputs("end\n", fp);
	free(st);
	config_unref(cfg);
}

/* "reload": the same reload as SIGHUP's, answered with its outcome. */
static void
put_reload(FILE *fp, struct control *c)
{
	struct diag d;
	int applied;

	diag_init(&d);
	log_info("control: reload requested");
	applied = c->reload(c->relay, &d) == 0;
	ctlsock_put_reload(fp, "smarthost-relay", applied, &d);
	diag_free(&d);
}

static void
serve(void *arg, const char *req, FILE *fp)
{
	struct control *c = arg;
	char shown[CTLSOCK_LINE_MAX + 3];

	if (strcmp(req, "status") == 0)
		put_status(fp, c);
	else if (strcmp(req, "reload") == 0)
		put_reload(fp, c);
	else
		fprintf(fp, "error unknown request %s: expected \"status\" or "
		    "\"reload\"\n", log_quote(shown, sizeof(shown), req));
}

int
control_start(struct control *c, struct relay *rl, control_reload_fn *reload,
    char *err, size_t errsize)
{
	c->relay = rl;
	c->reload = reload;
	return ctlsock_start(c->sock, serve, c, err, errsize);
}

void
control_reloaded(struct control *c)
{
	if (c != NULL)
		__atomic_store_n(&c->loaded, time(NULL), __ATOMIC_RELAXED);
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	ctlsock_close(c->sock);
	free(c);
}
