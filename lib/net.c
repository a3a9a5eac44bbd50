/*
 * net — see net.h.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "util.h"

int
net_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		if ((left = deadline - mono_ms()) <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc >= 0 || errno != EINTR)
			return rc;
	}
}

int
net_connect_addr(const struct addrinfo *ai, int timeout_ms, int *errnum,
    char *err, size_t errsize)
{
	long long deadline = mono_ms() + timeout_ms;
	socklen_t sl = sizeof(int);
	int fd, e = 0, rc;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		if (errnum)
			*errnum = errno;
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			e = errno;
		else if ((rc = net_wait(fd, POLLOUT, deadline)) == 0)
			e = ETIMEDOUT;
		else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &sl) == -1)
			e = errno;
	}
	if (e != 0) {
		if (errnum)
			*errnum = e;
		snprintf(err, errsize, "%s", e == ETIMEDOUT ?
		    "connection timed out" : strerror(e));
		close(fd);
		return -1;
	}
	return fd;
}

int
net_connect(const char *host, unsigned port, int timeout_ms, char *err,
    size_t errsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV }, *res, *ai;
	char service[16];
	int rc, fd = -1;

	snprintf(service, sizeof(service), "%u", port);
	snprintf(err, errsize, "no address");
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		snprintf(err, errsize, "%s", rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = net_connect_addr(ai, timeout_ms, NULL, err, errsize);
	freeaddrinfo(res);
	return fd;
}
