/*
 * net — TCP connections with a timeout, shared by the provider session
 * (upstream_open.c), the IMAP client (imap.c) and the Redis of the shared
 * limits (redislimit.c).
 *
 * Sockets are non-blocking and close-on-exec; the caller owns them.
 * Errors are words for a log line ("connection timed out", strerror()),
 * without the peer's name: callers say whom they tried.
 */
#ifndef SMARTHOST_NET_H
#define SMARTHOST_NET_H

#include <stddef.h>
#include <sys/types.h>

struct addrinfo;

/* Connect to one address within timeout_ms: the socket, or -1 with err
 * and the errno of the failure in *errnum (may be NULL). */
int	net_connect_addr(const struct addrinfo *ai, int timeout_ms,
	    int *errnum, char *err, size_t errsize);
/* Resolve host and try its addresses in turn (each within timeout_ms)
 * until one answers: the socket, or -1 with err (the resolver's words,
 * or the last address's failure). */
int	net_connect(const char *host, unsigned port, int timeout_ms,
	    char *err, size_t errsize);
/* poll() for events until the deadline (mono_ms()): >0 ready, 0 timed
 * out, -1 error (errno). */
int	net_wait(int fd, short events, long long deadline);

#endif
