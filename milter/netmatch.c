/*
 * netmatch — is a client address in internal-networks?  See milter.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter.h"
#include "util.h"

/* The 4 or 16 address bytes of sa (IPv4-mapped IPv6 as IPv4). */
static int
sa_bytes(const struct sockaddr *sa, unsigned char *b)
{
	if (sa->sa_family == AF_INET) {
		memcpy(b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(b, a->s6_addr + 12, 4);
			return AF_INET;
		}
		memcpy(b, a->s6_addr, 16);
		return AF_INET6;
	}
	return -1;
}

static int
prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ net[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static int
net_contains(const char *net, int af, const unsigned char *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char nb[16];
	const char *slash;
	unsigned max = af == AF_INET ? 32 : 128, bits = max;

	xstrlcpy(buf, net, sizeof(buf));
	if ((slash = strchr(buf, '/')) != NULL) {
		bits = (unsigned)strtoul(slash + 1, NULL, 10);
		buf[slash - buf] = '\0';
	}
	if (inet_pton(af, buf, nb) != 1 || bits > max)
		return 0;
	return prefix_match(a, nb, bits);
}

int
netmatch(const struct strlist *nets, const struct sockaddr *sa)
{
	unsigned char a[16];
	int af;

	if (sa == NULL)
		return 1;
	if ((af = sa_bytes(sa, a)) < 0)
		return sa->sa_family == AF_UNIX;
	for (size_t i = 0; i < nets->n; i++)
		if (net_contains(nets->v[i], af, a))
			return 1;
	return 0;
}

void
netmatch_format(const struct sockaddr *sa, char *buf, size_t size)
{
	unsigned char a[16];
	int af;

	*buf = '\0';
	if (sa == NULL || (af = sa_bytes(sa, a)) < 0 ||
	    inet_ntop(af, a, buf, (socklen_t)size) == NULL)
		xstrlcpy(buf, "local", size);
}
