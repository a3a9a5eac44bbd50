/*
 * ctlsock — see ctlsock.h.
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

#include "ctlsock.h"
#include "diag.h"
#include "log.h"
#include "safedir.h"
#include "util.h"

struct ctlsock {
	int		 fd;
	int		 wake[2];	/* ctlsock_close() -> the thread */
	char		*path;
	char		*daemon;
	int		 dirfd;		/* its directory */
	const char	*base;		/* its name there (in path) */
	dev_t		 dev;		/* the socket file we made */
	ino_t		 ino;
	ctlsock_fn	*fn;
	void		*arg;
	pthread_t	 thread;
	int		 running;
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
open_dir(struct ctlsock *c, uid_t uid, gid_t gid, char *err, size_t errsize)
{
	char *dir = safedir_split(c->path, &c->base);

	c->dirfd = safedir_open(AT_FDCWD, dir, NULL, 0755, uid, gid,
	    SAFEDIR_CREATE, err, errsize);
	free(dir);
	return c->dirfd == -1 ? -1 : 0;
}

/* A leftover socket of a daemon that is gone is removed; anything else
 * at path is left alone.  0, or -1 with err. */
static int
clear_path(const struct ctlsock *c, const struct sockaddr_un *sun, char *err,
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
		    "smarthost-%s?) answers on it", sun->sun_path, c->daemon);
		return -1;
	}
	(void)unlinkat(c->dirfd, c->base, 0);
	return 0;
}

/* Bound with mode 0600 from the start (umask), then given to uid/gid
 * without following a link: nothing is changed by path. */
static int
bind_socket(struct ctlsock *c, const struct sockaddr_un *sun, uid_t uid,
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

struct ctlsock *
ctlsock_open(const char *path, const char *daemon, uid_t uid, gid_t gid,
    char *err, size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctlsock *c;

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
	c->daemon = xstrdup(daemon);
	c->fd = c->dirfd = -1;
	c->wake[0] = c->wake[1] = -1;
	if (open_dir(c, uid, gid, err, errsize) != 0 ||
	    clear_path(c, &sun, err, errsize) != 0 ||
	    bind_socket(c, &sun, uid, gid, err, errsize) != 0) {
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		ctlsock_close(c);
		return NULL;
	}
	return c;
}

/* ---- one request ---- */

/* Only root and the daemon's own user; others are told and logged. */
static int
caller_ok(const struct ctlsock *c, int fd)
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
	    "%s's user (uid %u)", (unsigned)cr.uid, (int)cr.pid, c->daemon,
	    (unsigned)geteuid());
	snprintf(line, sizeof(line), "error permission denied: uid %u is "
	    "neither root nor the %s's user (uid %u)\n", (unsigned)cr.uid,
	    c->daemon, (unsigned)geteuid());
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL);
	return 0;
}

/* One request line within CTLSOCK_TIMEOUT; 0, or -1. */
static int
read_request(int fd, char *buf, size_t size)
{
	long long deadline = mono_ms() + CTLSOCK_TIMEOUT * 1000;
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

/* Write all of buf within CTLSOCK_TIMEOUT. */
static void
write_all(int fd, const char *buf, size_t len)
{
	long long deadline = mono_ms() + CTLSOCK_TIMEOUT * 1000;
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

static void
serve_one(struct ctlsock *c, int fd)
{
	char req[CTLSOCK_LINE_MAX + 1];
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	if (!caller_ok(c, fd))
		return;
	if (read_request(fd, req, sizeof(req)) != 0) {
		log_debug("control: no request line within %d s",
		    CTLSOCK_TIMEOUT);
		return;
	}
	if ((fp = open_memstream(&out, &len)) == NULL)
		return;
	c->fn(c->arg, req, fp);
	if (fclose(fp) == 0)
		write_all(fd, out, len);
	free(out);
}

/* ---- the thread ---- */

static void *
ctlsock_thread(void *arg)
{
	struct ctlsock *c = arg;
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
ctlsock_start(struct ctlsock *c, ctlsock_fn *fn, void *arg, char *err,
    size_t errsize)
{
	sigset_t all, old;
	int rc;

	c->fn = fn;
	c->arg = arg;
	if (pipe2(c->wake, O_CLOEXEC) == -1) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	sigfillset(&all);	/* signals stay with the main thread */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->thread, NULL, ctlsock_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errsize, "pthread_create: %s", strerror(rc));
		return -1;
	}
	c->running = 1;
	return 0;
}

void
ctlsock_close(struct ctlsock *c)
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
	free(c->daemon);
	free(c->path);
	free(c);
}

/* ---- the reload reply ---- */

void
ctlsock_put_reload(FILE *out, const char *daemon, int applied,
    const struct diag *d)
{
	char buf[2048];

	fprintf(out, "%s reload %d\nresult %s\n", daemon,
	    CTLSOCK_RELOAD_VERSION, applied ? "applied" : "refused");
	for (size_t i = 0; d != NULL && i < d->n; i++) {
		diag_format(&d->v[i], buf, sizeof(buf));
		for (char *p = buf; *p; p++)
			if (*p < 0x20 || *p >= 0x7f)
				*p = '?';
		fprintf(out, "diag %s\n", buf);
	}
	fputs("end\n", out);
}
