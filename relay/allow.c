/*
 * allow — see allow.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "log.h"
#include "peeruid.h"
#include "util.h"

#define PW_BUF	4096	/* getpwnam_r()'s scratch space */

struct net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;
};

static int
net_parse(const char *s, struct net *n)
{
	char buf[64], *slash, *end;
	unsigned long bits;

	if (xstrlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return -1;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		bits = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits > n->bits)
			return -1;
		n->bits = (unsigned)bits;
	}
	return 0;
}

static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* The client's family and address bytes; IPv4-mapped IPv6 as IPv4. */
static int
client_addr(const struct sockaddr *sa, unsigned char addr[16])
{
	const struct sockaddr_in6 *s6;

	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return sa->sa_family;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(addr, s6->sin6_addr.s6_addr, 16);
	return AF_INET6;
}

int
allow_client(const struct strlist *nets, const struct sockaddr *sa)
{
	unsigned char addr[16];
	struct net n;
	int family = client_addr(sa, addr);

	if (family == AF_UNIX)
		return 1;
	for (size_t i = 0; i < nets->n; i++)
		if (net_parse(nets->v[i], &n) == 0 && n.family == family &&
		    prefix_equal(addr, n.addr, n.bits))
			return 1;
	return 0;
}

int
allow_check(const struct strlist *nets, char *err, size_t errsize)
{
	struct net n;

	for (size_t i = 0; i < nets->n; i++)
		if (net_parse(nets->v[i], &n) != 0) {
			snprintf(err, errsize, "allow-clients: \"%s\" is not "
			    "an address or network", nets->v[i]);
			return -1;
		}
	return 0;
}

int
allow_loopback(const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family = client_addr(sa, addr);

	if (family == AF_INET)
		return addr[0] == 127;
	return family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)addr);
}

/* The uid an allow-users entry stands for: a number, or the uid of the
 * user it names; -1 if that user does not exist. */
static int
entry_uid(const char *e, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[PW_BUF], *end;
	unsigned long n;

	if (*e >= '0' && *e <= '9') {
		errno = 0;
		n = strtoul(e, &end, 10);
		if (*end != '\0' || errno != 0 || n != (uid_t)n)
			return -1;
		*uid = (uid_t)n;
		return 0;
	}
	if (getpwnam_r(e, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	*uid = pw.pw_uid;
	return 0;
}

static int
user_allowed(const struct strlist *users, uid_t uid)
{
	uid_t u;

	for (size_t i = 0; i < users->n; i++)
		if (entry_uid(users->v[i], &u) == 0 && u == uid)
			return 1;
	return 0;
}

/* uid's user name, log-safe, or "" if it has none. */
static char *
user_name(uid_t uid, char *name, size_t size)
{
	struct passwd pw, *res = NULL;
	char buf[PW_BUF];

	name[0] = '\0';
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		log_quote(name, size, pw.pw_name);
	return name;
}

enum allow_owner
allow_owner(const struct strlist *users, int fd, const struct sockaddr *sa,
    char *reply, size_t rsize, char *why, size_t wsize)
{
	enum peeruid_result r;
	char err[256], name[64];
	uid_t uid;

	r = peeruid_get(fd, sa, &uid, err, sizeof(err));
	if (r == PEERUID_REMOTE && !allow_loopback(sa))
		return ALLOW_OWNER_OK;	/* another host: allow-clients */
	if (r == PEERUID_REMOTE)
		xstrlcpy(err, "no socket on this host has the loopback "
		    "client's address and port", sizeof(err));
	if (r != PEERUID_FOUND) {
		snprintf(why, wsize, "refused: cannot tell which user "
		    "connects: %s", err);
		snprintf(reply, rsize, "421 4.3.0 smarthost-relay: cannot tell "
		    "which user owns this connection, try again later");
		return ALLOW_OWNER_UNKNOWN;
	}
	if (user_allowed(users, uid))
		return ALLOW_OWNER_OK;
	if (*user_name(uid, name, sizeof(name)) != '\0') {
		snprintf(why, wsize, "uid=%u user=%s refused: not in "
		    "allow-users", (unsigned)uid, name);
		snprintf(reply, rsize, "554 5.7.1 smarthost-relay: uid %u "
		    "(%s) may not send through the relay (not in allow-users)",
		    (unsigned)uid, name);
	} else {
		snprintf(why, wsize, "uid=%u refused: not in allow-users",
		    (unsigned)uid);
		snprintf(reply, rsize, "554 5.7.1 smarthost-relay: uid %u "
		    "may not send through the relay (not in allow-users)",
		    (unsigned)uid);
	}
	return ALLOW_OWNER_REFUSED;
}

const char *
allow_name(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else
		xstrlcpy(buf, "unix", size);
	return buf;
}
