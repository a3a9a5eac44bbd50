/*
 * peeruid — which user owns the client end of a connection the relay
 * accepted (Linux only).
 *
 * A unix-socket client: SO_PEERCRED, the uid of the process that
 * connected.  A TCP client: the kernel's socket table is asked through
 * NETLINK_SOCK_DIAG (inet_diag, one SOCK_DIAG_BY_FAMILY request for the
 * exact 4-tuple seen from the client's side: source = the client's
 * address and port, destination = the relay's), and the reply's
 * idiag_uid is the owner of that socket.  This finds the client only when
 * its socket lives in the relay's own network namespace, i.e. on this
 * host (loopback or any other local address); for a client on another
 * host the kernel has no such socket and the answer is PEERUID_REMOTE.
 * An IPv4-mapped IPv6 client (::ffff:127.0.0.1 on a [::] listener) is
 * looked up as IPv4.
 *
 * A client socket the kernel still knows but that has lost its owner
 * (closed and orphaned, or in TIME_WAIT, where the kernel reports uid 0)
 * is not trusted: PEERUID_ERROR, never a uid.  No privileges are needed,
 * so this works after the relay has dropped to its own user.  Each call
 * opens and closes its own netlink socket; replies are awaited at most
 * PEERUID_TIMEOUT_MS.
 */
#ifndef SMARTHOST_RELAY_PEERUID_H
#define SMARTHOST_RELAY_PEERUID_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PEERUID_TIMEOUT_MS	2000

enum peeruid_result {
	PEERUID_FOUND,		/* *uid is the owner */
	PEERUID_REMOTE,		/* TCP: no such socket on this host */
	PEERUID_ERROR,		/* lookup failed: reason in err */
};

/* The owner of the client end of the accepted connection fd, whose peer
 * address is peer (as accept() gave it). */
enum peeruid_result peeruid_get(int fd, const struct sockaddr *peer,
	    uid_t *uid, char *err, size_t errsize);

#endif
