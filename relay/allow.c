/*
 * allow — see allow.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "util.h"

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
