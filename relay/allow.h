/*
 * allow — which clients may talk to the relay (conf allow-clients).
 *
 * Entries are addresses or networks in CIDR form ("127.0.0.0/8", "::1",
 * "192.0.2.10", "2001:db8::/32").  An IPv4-mapped IPv6 client
 * (::ffff:127.0.0.1) is matched as IPv4.  Clients on a unix socket are
 * allowed by allow-clients: the socket's permissions and allow-users
 * decide.  Nothing matches an empty list: the relay is never an open
 * relay by accident.
 *
 * allow-users: which local users may send through the relay.  Anyone
 * else on this host could otherwise hand the relay mail with any sender
 * and From:, past every check of the milter.  The owner of the client's
 * socket (peeruid.h) must be in the list (user names or numeric uids;
 * default Postfix's mail_owner and root, as whom Sendmail delivers).
 * That holds for every client the kernel finds on this host: loopback,
 * a unix socket, or another local address.  A TCP client on another host
 * has no owner here and is governed by allow-clients alone.  A loopback
 * client whose owner cannot be found, or any failed lookup, is temporary
 * trouble (421 4.3.0: the MTA keeps the mail and retries), never a pass.
 */
#ifndef SMARTHOST_RELAY_ALLOW_H
#define SMARTHOST_RELAY_ALLOW_H

#include <stddef.h>
#include <sys/socket.h>

#include "conf.h"

/* Non-zero if the client address sa is within one of nets. */
int	allow_client(const struct strlist *nets, const struct sockaddr *sa);
/* 0 if every entry parses, else -1 and the first bad one in err. */
int	allow_check(const struct strlist *nets, char *err, size_t errsize);

enum allow_owner {
	ALLOW_OWNER_OK,		/* allowed user, or a client on another host */
	ALLOW_OWNER_REFUSED,	/* 554 5.7.1 */
	ALLOW_OWNER_UNKNOWN,	/* lookup failed: 421 4.3.0 */
};

/* Whether the owner of the client end of the accepted connection fd
 * (peer address sa) is in users.  Unless ALLOW_OWNER_OK: the SMTP reply
 * line in reply, and the log line's text after "client=NAME " in why
 * ("uid=65534 user=nobody refused: not in allow-users"). */
enum allow_owner allow_owner(const struct strlist *users, int fd,
	    const struct sockaddr *sa, char *reply, size_t rsize, char *why,
	    size_t wsize);
/* Non-zero if sa is a loopback address: 127.0.0.0/8, ::1, or
 * ::ffff:127.0.0.0/104. */
int	allow_loopback(const struct sockaddr *sa);
/* "127.0.0.1:4321", "[::1]:4321" or "unix" for logs.  Returns buf. */
const char *allow_name(const struct sockaddr *sa, char *buf, size_t size);

#endif
