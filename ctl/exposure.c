/*
 * exposure — see exposure.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "exposure.h"
#include "util.h"

#define WHY	"could send through any account with a forged From:, " \
		"bypassing the milter's checks (allow-users sees only " \
		"clients on this host)"

/* Non-zero if "ADDRESS[/BITS]" lies inside loopback: 127.0.0.0/8, ::1
 * or ::ffff:127.0.0.0/104. */
static int
loopback_net(const char *net)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	const char *slash = strchr(net, '/');
	size_t len = slash ? (size_t)(slash - net) : strlen(net);
	unsigned long bits;

	if (len >= sizeof(addr))
		return 0;
	memcpy(addr, net, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, a) == 1) {
		bits = slash ? strtoul(slash + 1, NULL, 10) : 32;
		return a[0] == 127 && bits >= 8;
	}
	if (inet_pton(AF_INET6, addr, a) != 1)
		return 0;
	bits = slash ? strtoul(slash + 1, NULL, 10) : 128;
	if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)(const void *)a))
		return bits == 128;
	return IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a) &&
	    a[12] == 127 && bits >= 104;
}

/* Non-zero for unix:PATH, ADDRESS:PORT or [IPV6]:PORT on loopback. */
static int
loopback_listen(const char *spec)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *end;

	if (strncmp(spec, "unix:", 5) == 0)
		return 1;
	if (spec[0] == '[') {
		spec++;
		end = strchr(spec, ']');
	} else
		end = strrchr(spec, ':');
	if (end == NULL || (size_t)(end - spec) >= sizeof(host))
		return 0;
	memcpy(host, spec, (size_t)(end - spec));
	host[end - spec] = '\0';
	return loopback_net(host);
}

void
exposure_check(const struct conf *c, struct diag *d)
{
	const struct strlist *nets = &c->relay_allow;
	char wide[512] = "";

	if (c->relay_listen != NULL && !loopback_listen(c->relay_listen))
		diag_warning(d, c->path, 0, "listen = %s is neither loopback "
		    "nor a unix socket: other hosts can connect to the relay, "
		    "and one that allow-clients admits " WHY, c->relay_listen);
	for (size_t i = 0; i < nets->n; i++)
		if (!loopback_net(nets->v[i])) {
			if (wide[0])
				xstrlcat(wide, " ", sizeof(wide));
			xstrlcat(wide, nets->v[i], sizeof(wide));
		}
	if (wide[0])
		diag_warning(d, c->path, 0, "allow-clients admits %s, beyond "
		    "loopback (127.0.0.0/8, ::1): a client there " WHY, wide);
}
