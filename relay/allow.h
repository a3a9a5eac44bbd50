/*
 * allow — which clients may talk to the relay (conf allow-clients).
 *
 * Entries are addresses or networks in CIDR form ("127.0.0.0/8", "::1",
 * "192.0.2.10", "2001:db8::/32").  An IPv4-mapped IPv6 client
 * (::ffff:127.0.0.1) is matched as IPv4.  Clients on a unix socket are
 * always allowed: the socket's permissions decide.  Nothing matches an
 * empty list: the relay is never an open relay by accident.
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
/* "127.0.0.1:4321", "[::1]:4321" or "unix" for logs.  Returns buf. */
const char *allow_name(const struct sockaddr *sa, char *buf, size_t size);

#endif
