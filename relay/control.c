/*
 * control — see control.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "route.h"
#include "safedir.h"
#include "server.h"
#include "store.h"

struct control {
	int		 fd;
	int		 wake[2];	/* control_close() -> the thread */
	char		*path;
	int		 dirfd;		/* its directory */
	const char	*base;		/* its name there (in path) */
	dev_t		 dev;		/* the socket file we made */
	ino_t		 ino;
	struct relay	*relay;
	pthread_t	 thread;
	int		 running;
	time_t		 started;
	time_t		 loaded;	/* atomic */
};

/* ---- the socket ---- */

/* Does a process answer on the unix socket at sun? */
static int
in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), used;

	if (fd == -1)
		return 0;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

/* The socket's directory, made root's (0755) if missing, opened without
 * following a symbolic link; it must belong to root, to us or to uid and
 * be writable by no one else, so that nothing can be swapped in between
 * bind() and fchownat(). */
static int
open_dir(struct control *c, uid_t uid, gid_t gid, char *err, size_t errsize)
{
	char *dir = safedir_split(c->path, &c->base);

	c->dirfd = safedir_open(AT_FDCWD, dir, NULL, 0755, uid, gid,
	    SAFEDIR_CREATE, err, errsize);
	free(dir);
	return c->dirfd == -1 ? -1 : 0;
}

/* A leftover socket of a relay that is gone is removed; anything else
 * at path is left alone.  0, or -1 with err. */
static int
clear_path(const struct control *c, const struct sockaddr_un *sun, char *err,
    size_t errsize)
{
	struct stat st;

	if (fstatat(c->dirfd, c->base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errsize, "%s exists and is not a socket",
		    sun->sun_path);
		return -1;
	}
	if (in_use(sun)) {
		snprintf(err, errsize, "%s: another process (a running "
		    "smarthost-relay?) answers on it", sun->sun_path);
		return -1;
	}
	(void)unlinkat(c->dirfd, c->base, 0);
	return 0;
}

/* Bound with mode 0600 from the start (umask), then given to uid/gid
 * without following a link: nothing is changed by path. */
static int
bind_socket(struct control *c, const struct sockaddr_un *sun, uid_t uid,
    gid_t gid, char *err, size_t errsize)
{
	struct stat st;
	mode_t old;
	int rc;

	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);	/* no moment with wider permissions */
	rc = bind(c->fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc == 0 && fstatat(c->dirfd, c->base, &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		rc = -2;
	else if (rc == 0 && !S_ISSOCK(st.st_mode)) {
		errno = EEXIST;		/* swapped: not ours to remove */
		rc = -2;
	}
	if (rc != 0 || (uid != (uid_t)-1 && fchownat(c->dirfd, c->base, uid,
	    gid, AT_SYMLINK_NOFOLLOW) == -1) || listen(c->fd, 16) == -1) {
		snprintf(err, errsize, "%s: %s", c->path, strerror(errno));
		if (rc == 0)
			(void)unlinkat(c->dirfd, c->base, 0);
		return -1;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;
}

struct control *
control_open(const char *path, uid_t uid, gid_t gid, char *err,
    size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control *c;

	if (path == NULL || *path == '\0') {
		snprintf(err, errsize, "no control-socket configured");
		return NULL;
	}
	if (xstrlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errsize, "%s: path too long for a socket", path);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	c->fd = c->dirfd = -1;
	c->wake[0] = c->wake[1] = -1;
	c->started = c->loaded = time(NULL);
	if (open_dir(c, uid, gid, err, errsize) != 0 ||
	    clear_path(c, &sun, err, errsize) != 0 ||
	    bind_socket(c, &sun, uid, gid, err, errsize) != 0) {
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		control_close(c);
		return NULL;
	}
	return c;
}

/* ---- one request ---- */

/* Only root and the relay's own user; others are told and logged. */
static int
caller_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char line[200];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return 0;
	}
	if (cr.uid == 0 || cr.uid == geteuid())
		return 1;
	log_warnx("control: refused uid=%u pid=%d: neither root nor the "
	    "relay's user (uid %u)", (unsigned)cr.uid, (int)cr.pid,
	    (unsigned)geteuid());
	snprintf(line, sizeof(line), "error permission denied: uid %u is "
	    "neither root nor the relay's user (uid %u)\n", (unsigned)cr.uid,
	    (unsigned)geteuid());
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL);
	return 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request line within CONTROL_TIMEOUT; 0, or -1. */
static int
read_request(int fd, char *buf, size_t size)
{
	long long deadline = mono_ms() + CONTROL_TIMEOUT * 1000;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;
	char *nl;

	while (len + 1 < size) {
		long long left = deadline - mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		if ((n = recv(fd, buf + len, size - 1 - len, 0)) <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (nl > buf && nl[-1] == '\r')
				nl[-1] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Write all of buf within CONTROL_TIMEOUT. */
static void
write_all(int fd, const char *buf, size_t len)
{
	long long deadline = mono_ms() + CONTROL_TIMEOUT * 1000;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		long long left = deadline - mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		if ((n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
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

static void
serve_one(struct control *c, int fd)
{
	char req[CONTROL_LINE_MAX + 1], shown[CONTROL_LINE_MAX + 3];
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	if (!caller_ok(fd))
		return;
	if (read_request(fd, req, sizeof(req)) != 0) {
		log_debug("control: no request line within %d s",
		    CONTROL_TIMEOUT);
		return;
	}
	if ((fp = open_memstream(&out, &len)) == NULL)
		return;
	if (strcmp(req, "status") == 0)
		put_status(fp, c);
	else
		fprintf(fp, "error unknown request %s: expected \"status\"\n",
		    log_quote(shown, sizeof(shown), req));
	if (fclose(fp) == 0)
		write_all(fd, out, len);
	free(out);
}

/* ---- the thread ---- */

static void *
control_thread(void *arg)
{
	struct control *c = arg;
	struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
	    { .fd = c->wake[0], .events = POLLIN } };
	int fd;

	for (;;) {
		if (poll(p, 2, -1) == -1 && errno != EINTR) {
			log_warn("control: poll");
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC |
		    SOCK_NONBLOCK)) == -1)
			continue;
		serve_one(c, fd);
		close(fd);
	}
	return NULL;
}

int
control_start(struct control *c, struct relay *rl, char *err,
    size_t errsize)
{
	sigset_t all, old;
	int rc;

	c->relay = rl;
	if (pipe2(c->wake, O_CLOEXEC) == -1) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	sigfillset(&all);	/* signals stay with the main thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->thread, NULL, control_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errsize, "pthread_create: %s", strerror(rc));
		return -1;
	}
	c->running = 1;
	return 0;
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
	struct stat st;

	if (c == NULL)
		return;
	if (c->running) {
		(void)write(c->wake[1], "x", 1);
		pthread_join(c->thread, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (c->wake[i] != -1)
			close(c->wake[i]);
	if (c->fd != -1) {
		close(c->fd);
		if (fstatat(c->dirfd, c->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == c->dev && st.st_ino == c->ino)
			(void)unlinkat(c->dirfd, c->base, 0);
	}
	if (c->dirfd != -1)
		close(c->dirfd);
	free(c->path);
	free(c);
}
