/*
 * status — "smarthostctl status [--json]": what the running relay is
 * doing, asked over its control socket (control-socket in
 * smarthost.conf; protocol in relay/control.h and smarthost-relay(8)).
 *
 * Prints one block per account (sessions, handshakes, today's counts
 * against the daily limits, cool-off, last error) after a line about the
 * relay (pid, uptime, configuration load time, clients), or with --json
 * one object {"relay": {...}, "accounts": [...]} whose keys are the
 * protocol's.  Exit codes (smarthostctl(8)): EX_OK; EX_UNAVAILABLE when no
 * relay answers on the socket; EX_NOPERM when the socket or the relay
 * refuses the caller; EX_PROTOCOL for a reply that does not parse;
 * EX_NOINPUT without smarthost.conf.  That file is only read for the
 * socket's path and the state directory (the token files of xoauth2
 * accounts, shown without any token): a file with errors is reported and
 * its values still used.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "json.h"
#include "oauth.h"

#define STATUS_TIMEOUT	5		/* seconds for the whole answer */
#define STATUS_MAX	(1024 * 1024)	/* bytes of answer accepted */
#define FIELDS_MAX	48

/* One reply line: "KIND key=value ...", parsed in place. */
struct sline {
	char	*kind;
	size_t	 n;
	char	*key[FIELDS_MAX];
	char	*val[FIELDS_MAX];
};

struct status {
	struct sline	 relay;
	struct sline	*accounts;
	size_t		 naccounts;
	struct conf	*conf;		/* for xoauth2 accounts' token files */
};

/* ---- talking to the relay ---- */

static int
connect_socket(const struct ctl *c, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (xstrlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: %s: path too long for a socket\n",
		    c->progname, path);
		return -EX_CONFIG;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "%s: socket: %s\n", c->progname,
		    strerror(errno));
		return -EX_OSERR;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == EACCES || errno == EPERM) {
		fprintf(stderr, "%s: %s: %s: only root and the relay's user "
		    "may ask for its status\n", c->progname, path,
		    strerror(errno));
		close(fd);
		return -EX_NOPERM;
	}
	fprintf(stderr, "%s: smarthost-relay is not running (nothing answers "
	    "on %s: %s)\n", c->progname, path, strerror(errno));
	close(fd);
	return -EX_UNAVAILABLE;
}

/* Read until EOF within STATUS_TIMEOUT; the answer, NUL-terminated. */
static char *
read_answer(int fd, size_t *len)
{
	struct timespec t0, t;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t cap = 8192;
	char *buf = xmalloc(cap);
	ssize_t n;
	long left;

	*len = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = STATUS_TIMEOUT * 1000L - ((t.tv_sec - t0.tv_sec) * 1000L +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (*len + 1 >= cap) {
			if (cap >= STATUS_MAX)
				break;
			buf = xreallocarray(buf, 2, cap);
			cap *= 2;
		}
		if ((n = read(fd, buf + *len, cap - 1 - *len)) <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return buf;
}

/* ---- parsing ---- */

/* Cut one value at *pp (token or "quoted \" string"); NULL if bad. */
static char *
cut_value(char **pp)
{
	char *p = *pp, *v = p, *w;

	if (*p != '"') {
		p += strcspn(p, " ");
		if (*p)
			*p++ = '\0';
		*pp = p;
		return v;
	}
	for (w = v, p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		*w++ = *p;
	}
	if (*p != '"')
		return NULL;
	*w = '\0';
	p++;
	if (*p == ' ')
		p++;
	*pp = p;
	return v;
}

static int
parse_line(char *s, struct sline *l)
{
	char *p = s, *eq;

	memset(l, 0, sizeof(*l));
	l->kind = p;
	p += strcspn(p, " ");
	if (*p)
		*p++ = '\0';
	while (*p) {
		if ((eq = strchr(p, '=')) == NULL || l->n == FIELDS_MAX)
			return -1;
		*eq = '\0';
		l->key[l->n] = p;
		p = eq + 1;
		if ((l->val[l->n] = cut_value(&p)) == NULL)
			return -1;
		l->n++;
	}
	return 0;
}

static const char *
get(const struct sline *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->key[i], key) == 0)
			return l->val[i];
	return "";
}

static unsigned long
num(const struct sline *l, const char *key)
{
	return strtoul(get(l, key), NULL, 10);
}

/* The whole answer into st; 0, or an exit code after a message. */
static int
parse_answer(const struct ctl *c, char *buf, struct status *st)
{
	char *line, *save = NULL;
	int n = 0, end = 0;

	for (line = strtok_r(buf, "\n", &save); line && !end;
	    line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0 && strncmp(line, "error ", 6) == 0) {
			fprintf(stderr, "%s: smarthost-relay: %s\n",
			    c->progname, line + 6);
			return strstr(line, "permission denied") ? EX_NOPERM :
			    EX_SOFTWARE;
		}
		if (n == 0) {
			if (strncmp(line, "smarthost-relay status ", 23) != 0)
				break;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			end = 1;
			continue;
		}
		st->accounts = xreallocarray(st->accounts,
		    st->naccounts + 1, sizeof(*st->accounts));
		if (parse_line(line, &st->accounts[st->naccounts]) != 0)
			break;
		if (strcmp(st->accounts[st->naccounts].kind, "relay") == 0)
			st->relay = st->accounts[st->naccounts];
		else if (strcmp(st->accounts[st->naccounts].kind,
		    "account") == 0)
			st->naccounts++;
	}
	if (!end || st->relay.kind == NULL) {
		fprintf(stderr, "%s: the relay's answer is %s\n", c->progname,
		    n == 0 ? "empty" : "incomplete or garbled");
		return EX_PROTOCOL;
	}
	return EX_OK;
}

/* ---- output ---- */

static const char *
when(time_t t, char *buf, size_t size)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static const char *
clock_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, size, "%H:%M:%S", &tm);
	return buf;
}

static const char *
span(long s, char *buf, size_t size)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, size, "%ldd%02ldh%02ldm", s / 86400,
		    s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, size, "%ldh%02ldm%02lds", s / 3600,
		    s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lds", s);
	return buf;
}

static const char *
of_limit(unsigned long limit, char *buf, size_t size)
{
	if (limit == 0)
		snprintf(buf, size, "no daily limit");
	else
		snprintf(buf, size, "daily limit %lu", limit);
	return buf;
}

static void
print_account(const struct sline *a, time_t now)
{
	char b1[64], b2[64];
	unsigned long until = num(a, "cooloff_until"), err = num(a,
	    "last_error_at");

	printf("\naccount %s  (%s via %s:%s, TLS %s)\n", get(a, "name"),
	    get(a, "login"), get(a, "host"), get(a, "port"), get(a, "tls"));
	printf("  sessions    %lu open, %lu busy (at most %lu; peak %lu; "
	    "%lu opened)\n", num(a, "open"), num(a, "busy"),
	    num(a, "max_connections"), num(a, "peak"), num(a, "opened"));
	if (num(a, "session_limit") != 0)
		printf("  limited     sessions limited to %lu by the provider "
		    "(%s at %s) until %s\n", num(a, "session_limit"),
		    get(a, "session_limit_reason"),
		    clock_time((time_t)num(a, "session_limit_at"), b1,
		    sizeof(b1)), when((time_t)num(a, "session_limit_until"),
		    b2, sizeof(b2)));
	printf("  handshakes  %lu full, %lu resumed; %lu transactions on "
	    "reused sessions\n", num(a, "full_handshakes"),
	    num(a, "resumed_handshakes"), num(a, "reuses"));
	printf("  today       %lu messages (%s), %lu recipients (%s), "
	    "%lu in flight\n", num(a, "messages"),
	    of_limit(num(a, "daily_messages"), b1, sizeof(b1)),
	    num(a, "recipients"), of_limit(num(a, "daily_recipients"), b2,
	    sizeof(b2)), num(a, "inflight"));
	if (*get(a, "total_messages"))
		printf("  all relays  %lu messages, %lu recipients today; "
		    "%lu sessions\n", num(a, "total_messages"),
		    num(a, "total_recipients"), num(a, "total_sessions"));
	if (until != 0)
		printf("  cool-off    until %s (%s left): %s\n",
		    when((time_t)until, b1, sizeof(b1)),
		    span((long)(until - (unsigned long)now), b2, sizeof(b2)),
		    get(a, "cooloff_reason"));
	else
		printf("  cool-off    no\n");
	if (err != 0)
		printf("  last error  %s (%s ago): %s\n",
		    when((time_t)err, b1, sizeof(b1)),
		    span((long)now - (long)err, b2, sizeof(b2)),
		    get(a, "last_error"));
	else
		printf("  last error  none since the relay started\n");
}

/* The token file of an xoauth2 account (or of any account that has one):
 * what the relay refreshes its access token from.  Never a token. */
static void
print_oauth(const struct conf *conf, const char *name, time_t now)
{
	const struct account *acct = conf_account(conf, name);
	int xoauth2 = acct && acct->auth_kind == AUTHK_XOAUTH2;
	struct oauth_state os;
	char err[1024], b1[64], b2[64];

	if (oauth_token_state(conf, name, &os, err, sizeof(err)) == -1) {
		if (xoauth2)
			printf("  oauth       %s\n", err);
	} else if (!os.present) {
		if (xoauth2)
			printf("  oauth       no token: run \"smarthostctl oauth "
			    "%s\"\n", name);
	} else if (os.expires_at == 0 || os.expired)
		printf("  oauth       token stored; access token due, "
		    "refreshed at the next use\n");
	else
		printf("  oauth       token stored; access token valid until "
		    "%s (%s left)\n", when(os.expires_at, b1, sizeof(b1)),
		    span((long)(os.expires_at - now), b2, sizeof(b2)));
}

/* The shared limits-store, if any: "limits-store redis://...: shared by
 * the relays, local share 1/2 while unreachable" (or "reachable again
 * since ..., local share 1/2 in force until ..." while it settles after
 * an outage), and why it is unreachable ("  why         certificate
 * verify failed: ..."). */
static void
print_store(const struct sline *r)
{
	char b[64], e[64];

	if (*get(r, "limits_store") == '\0')
		return;
	if (num(r, "limits_store_up") && num(r, "limits_store_settle_until"))
		printf("limits-store %s: reachable again since %s, local share "
		    "%s in force until %s\n", get(r, "limits_store"),
		    clock_time((time_t)num(r, "limits_store_back_since"), b,
		    sizeof(b)), get(r, "limits_share"),
		    clock_time((time_t)num(r, "limits_store_settle_until"), e,
		    sizeof(e)));
	else if (num(r, "limits_store_up"))
		printf("limits-store %s: reachable, limits shared by its "
		    "relays (local share %s if it fails)\n",
		    get(r, "limits_store"), get(r, "limits_share"));
	else
		printf("limits-store %s: unreachable since %s, local share "
		    "%s in force\n", get(r, "limits_store"),
		    clock_time((time_t)num(r, "limits_store_down_since"), b,
		    sizeof(b)), get(r, "limits_share"));
	if (*get(r, "limits_store_error") != '\0')
		printf("  why         %s\n", get(r, "limits_store_error"));
}

/* Whether the relay shares its OAuth2 tokens through the limits-store:
 * "oauth: shared" or "oauth: not shared (WHY)"; nothing with the file. */
static void
print_oauth_share(const struct sline *r)
{
	if (*get(r, "oauth_shared") == '\0')
		return;
	if (num(r, "oauth_shared"))
		printf("oauth: shared\n");
	else
		printf("oauth: not shared (%s)\n", get(r, "oauth_not_shared"));
}

static void
print_text(const struct status *st)
{
	const struct sline *r = &st->relay;
	time_t now = (time_t)num(r, "now");
	char b1[64], b2[64], b3[64];

	printf("smarthost-relay pid %s, up %s (since %s), configuration "
	    "loaded %s, %lu client%s connected, %zu account%s\n",
	    get(r, "pid"),
	    span((long)now - (long)num(r, "started"), b1, sizeof(b1)),
	    when((time_t)num(r, "started"), b2, sizeof(b2)),
	    when((time_t)num(r, "config_loaded"), b3, sizeof(b3)),
	    num(r, "clients"), num(r, "clients") == 1 ? "" : "s",
	    st->naccounts, st->naccounts == 1 ? "" : "s");
	print_store(r);
	print_oauth_share(r);
	for (size_t i = 0; i < st->naccounts; i++) {
		print_account(&st->accounts[i], now);
		if (st->conf)
			print_oauth(st->conf, get(&st->accounts[i], "name"),
			    now);
	}
}

static int
is_text_key(const char *k)
{
	static const char *const text[] = { "name", "host", "tls", "login",
	    "cooloff_reason", "last_error", "config", "session_limit_reason",
	    "limits_store", "limits_share", "limits_store_error", NULL };

	for (size_t i = 0; text[i]; i++)
		if (strcmp(k, text[i]) == 0)
			return 1;
	return 0;
}

static void
json_fields(struct json *j, const struct sline *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *v = l->val[i];
		if (!is_text_key(l->key[i]) && *v && strspn(v, "0123456789") ==
		    strlen(v))
			json_uint(j, l->key[i], strtoul(v, NULL, 10));
		else
			json_str(j, l->key[i], v);
	}
}

/* "oauth_token": stored, "oauth_expires_at": the access token's expiry
 * (0: none yet), for accounts with a token file. */
static void
json_oauth(struct json *j, const struct conf *conf, const char *name)
{
	struct oauth_state os;
	char err[1024];

	if (conf == NULL || oauth_token_state(conf, name, &os, err,
	    sizeof(err)) == -1 || !os.present)
		return;
	json_bool(j, "oauth_token", 1);
	json_uint(j, "oauth_expires_at", (unsigned long)os.expires_at);
}

static void
print_json(const struct status *st)
{
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_open(&j, "relay", '{');
	json_fields(&j, &st->relay);
	json_uint(&j, "uptime", num(&st->relay, "now") -
	    num(&st->relay, "started"));
	json_close(&j, '}');
	json_open(&j, "accounts", '[');
	for (size_t i = 0; i < st->naccounts; i++) {
		json_open(&j, NULL, '{');
		json_fields(&j, &st->accounts[i]);
		json_bool(&j, "cooling_off",
		    num(&st->accounts[i], "cooloff_until") != 0);
		json_oauth(&j, st->conf, get(&st->accounts[i], "name"));
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	putchar('\n');
}

/* ---- the command ---- */

static char *
socket_path(const struct ctl *c, struct conf **confp)
{
	struct diag d;
	struct conf *conf;
	char *path;

	diag_init(&d);
	conf = conf_load(c->conf_path, 0, &d);
	if (diag_errors(&d) > 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "%s: %s has errors; asking the relay anyway\n",
		    c->progname, c->conf_path);
	}
	path = xstrdup(conf->control_socket ? conf->control_socket : "");
	*confp = conf;
	diag_free(&d);
	return path;
}

int
cmd_status(const struct ctl *c, int argc, char **argv)
{
	struct status st;
	struct conf *conf;
	char *path, *buf;
	size_t len;
	int json = 0, fd, ex;

	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--json"))
			json = 1;
		else
			return ctl_usage(c, argv[0]);
	}
	if (ctl_missing(c->conf_path)) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path,
		    strerror(ENOENT));
		return EX_NOINPUT;
	}
	path = socket_path(c, &conf);
	fd = connect_socket(c, path);
	free(path);
	if (fd < 0) {
		conf_free(conf);
		return -fd;
	}
	/* a refusal may already be waiting: read the answer regardless */
	(void)send(fd, "status\n", 7, MSG_NOSIGNAL);
	buf = read_answer(fd, &len);
	close(fd);
	memset(&st, 0, sizeof(st));
	st.conf = conf;
	if ((ex = parse_answer(c, buf, &st)) == EX_OK) {
		if (json)
			print_json(&st);
		else
			print_text(&st);
	}
	free(st.accounts);
	free(buf);
	conf_free(conf);
	return ex;
}
