/*
 * listen — see listen.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "safedir.h"
#include "util.h"

#define BACKLOG 128

/* Bound in a directory opened without following a link, root's or ours
 * and writable by no one else; mode 0666 (Postfix's smtp client connects
 * as its own user) comes from the umask, not from a chmod by path.  Only
 * a socket left at path is removed first. */
static int
bind_unix(int fd, const struct sockaddr_un *sun, char *err, size_t errsize)
{
	const char *base;
	char *dir = safedir_split(sun->sun_path, &base);
	struct stat st;
	mode_t old;
	int dfd, rc = -1;

	dfd = safedir_open(AT_FDCWD, dir, NULL, 0, (uid_t)-1, (gid_t)-1, 0, err,
	    errsize);
	free(dir);
	if (dfd == -1)
		return -1;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISSOCK(st.st_mode))
		snprintf(err, errsize, "unix:%s: exists and is not a socket",
		    sun->sun_path);
	else {
		(void)unlinkat(dfd, base, 0);
		old = umask(0111);
		rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
		umask(old);
		if (rc == -1 || (rc = listen(fd, BACKLOG)) == -1)
			snprintf(err, errsize, "unix:%s: %s", sun->sun_path,
			    strerror(errno));
	}
	close(dfd);
	return rc;
}

static int
listen_unix(const char *path, char *err, size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (xstrlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errsize, "unix:%s: path too long", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind_unix(fd, &sun, err, errsize) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* "host:port" or "[v6]:port" into host and port. */
static int
split_hostport(const char *spec, char *host, size_t hsize, const char **port)
{
	const char *colon;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':' ||
		    (size_t)(close - spec - 1) >= hsize)
			return -1;
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = '\0';
		*port = close + 2;
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= hsize)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	*port = colon + 1;
	return 0;
}

static int
listen_inet(const char *spec, char *err, size_t errsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res;
	char host[256];
	const char *port;
	int fd, rc, one = 1;

	if (split_hostport(spec, host, sizeof(host), &port) != 0 || !*port) {
		snprintf(err, errsize, "listen \"%s\": expected HOST:PORT, "
		    "[IPV6]:PORT or unix:PATH", spec);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, BACKLOG) == -1) {
		snprintf(err, errsize, "listen %s: %s", spec, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
listen_open(const char *spec, char *err, size_t errsize)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0)
		fd = listen_unix(spec + 5, err, errsize);
	else
		fd = listen_inet(spec, err, errsize);
	if (fd != -1)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

void
listen_close(int fd, const char *spec)
{
	if (fd == -1)
		return;
	close(fd);
	if (strncmp(spec, "unix:", 5) == 0)
		(void)unlink(spec + 5);
}
