/*
 * peeruid — see peeruid.h.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "peeruid.h"

#define DIAG_SEQ	1

struct diag_request {
	struct nlmsghdr		nlh;
	struct inet_diag_req_v2	req;
};

/* Address (network order, IPv4 in [0]) and port of sa; AF_INET for IPv4
 * and IPv4-mapped IPv6, AF_INET6 otherwise, -1 for other families. */
static int
endpoint(const struct sockaddr *sa, uint32_t addr[4], uint16_t *port)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &s4->sin_addr, 4);
		*port = s4->sin_port;
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	*port = s6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(addr, s6->sin6_addr.s6_addr, 16);
	return AF_INET6;
}

/* The client's socket as inet_diag names it: its own address and port as
 * source, the relay's as destination.  The family, or -1 with err. */
static int
client_sockid(int fd, const struct sockaddr *peer, struct inet_diag_sockid *id,
    char *err, size_t errsize)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int family;

	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1) {
		snprintf(err, errsize, "getsockname: %s", strerror(errno));
		return -1;
	}
	memset(id, 0, sizeof(*id));
	id->idiag_cookie[0] = id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	family = endpoint(peer, id->idiag_src, &id->idiag_sport);
	if (family == -1 || family != endpoint((struct sockaddr *)&local,
	    id->idiag_dst, &id->idiag_dport)) {
		snprintf(err, errsize, "client and relay addresses of "
		    "different families");
		return -1;
	}
	return family;
}

static int
diag_ask(int nl, int family, const struct inet_diag_sockid *id,
    char *err, size_t errsize)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct diag_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST;
	rq.nlh.nlmsg_seq = DIAG_SEQ;
	rq.req.sdiag_family = (uint8_t)family;
	rq.req.sdiag_protocol = IPPROTO_TCP;
	rq.req.idiag_states = ~0U;
	rq.req.id = *id;
	if (sendto(nl, &rq, sizeof(rq), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) != (ssize_t)sizeof(rq)) {
		snprintf(err, errsize, "sock_diag request: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The socket's address as compared with ours: an IPv4-mapped address
 * of an IPv6 socket as IPv4. */
static void
plain_addr(int family, const uint32_t in[4], uint32_t out[4])
{
	const struct in6_addr *a6 = (const void *)in;

	memcpy(out, in, 16);
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6)) {
		memset(out, 0, 16);
		out[0] = in[3];
	}
}

/* Whether the kernel's answer is the socket asked for: an exact lookup
 * that finds no connection may fall back to a listener on that port. */
static int
same_socket(const struct inet_diag_msg *m, const struct inet_diag_sockid *id)
{
	uint32_t src[4], dst[4];

	plain_addr(m->idiag_family, m->id.idiag_src, src);
	plain_addr(m->idiag_family, m->id.idiag_dst, dst);
	return m->id.idiag_sport == id->idiag_sport &&
	    m->id.idiag_dport == id->idiag_dport &&
	    memcmp(src, id->idiag_src, 16) == 0 &&
	    memcmp(dst, id->idiag_dst, 16) == 0;
}

/* One netlink message of the answer; -2 if it is not ours. */
static int
diag_message(const struct nlmsghdr *h, const struct inet_diag_sockid *id,
    uid_t *uid, char *err, size_t errsize)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	if (h->nlmsg_seq != DIAG_SEQ)
		return -2;
	if (h->nlmsg_type == NLMSG_ERROR &&
	    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e))) {
		if (e->error == -ENOENT)
			return PEERUID_REMOTE;
		snprintf(err, errsize, "sock_diag: %s", strerror(-e->error));
		return PEERUID_ERROR;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		snprintf(err, errsize, "sock_diag: unexpected answer type %u",
		    h->nlmsg_type);
		return PEERUID_ERROR;
	}
	if (!same_socket(m, id))
		return PEERUID_REMOTE;
	if (m->idiag_inode == 0) {
		snprintf(err, errsize, "the client's socket has no owner "
		    "(closed; state %u)", m->idiag_state);
		return PEERUID_ERROR;
	}
	*uid = m->idiag_uid;
	return PEERUID_FOUND;
}

static int
elapsed_ms(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int)((now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Wait (bounded) for the kernel's answer and read it. */
static enum peeruid_result
diag_answer(int nl, const struct inet_diag_sockid *id, uid_t *uid,
    char *err, size_t errsize)
{
	union { struct nlmsghdr h; char buf[8192]; } u;
	struct sockaddr_nl from;
	socklen_t fromlen;
	struct pollfd p = { .fd = nl, .events = POLLIN };
	struct timespec t0;
	const struct nlmsghdr *h;
	ssize_t n;
	int left, len, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((left = PEERUID_TIMEOUT_MS - elapsed_ms(&t0)) > 0) {
		if (poll(&p, 1, left) <= 0)
			continue;
		fromlen = sizeof(from);
		n = recvfrom(nl, u.buf, sizeof(u.buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			snprintf(err, errsize, "sock_diag answer: %s",
			    strerror(errno));
			return PEERUID_ERROR;
		}
		if (from.nl_pid != 0)
			continue;	/* not from the kernel */
		len = (int)n;
		for (h = &u.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			if ((rc = diag_message(h, id, uid, err, errsize)) != -2)
				return (enum peeruid_result)rc;
	}
	snprintf(err, errsize, "sock_diag: no answer within %d ms",
	    PEERUID_TIMEOUT_MS);
	return PEERUID_ERROR;
}

static enum peeruid_result
tcp_owner(int fd, const struct sockaddr *peer, uid_t *uid, char *err,
    size_t errsize)
{
	struct inet_diag_sockid id;
	enum peeruid_result r;
	int family, nl;

	if ((family = client_sockid(fd, peer, &id, err, errsize)) == -1)
		return PEERUID_ERROR;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl == -1) {
		snprintf(err, errsize, "netlink socket: %s", strerror(errno));
		return PEERUID_ERROR;
	}
	if (diag_ask(nl, family, &id, err, errsize) == -1)
		r = PEERUID_ERROR;
	else
		r = diag_answer(nl, &id, uid, err, errsize);
	close(nl);
	return r;
}

static enum peeruid_result
unix_owner(int fd, uid_t *uid, char *err, size_t errsize)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		snprintf(err, errsize, "SO_PEERCRED: %s", strerror(errno));
		return PEERUID_ERROR;
	}
	*uid = cred.uid;
	return PEERUID_FOUND;
}

enum peeruid_result
peeruid_get(int fd, const struct sockaddr *peer, uid_t *uid, char *err,
    size_t errsize)
{
	err[0] = '\0';
	if (peer->sa_family == AF_UNIX)
		return unix_owner(fd, uid, err, errsize);
	if (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)
		return tcp_owner(fd, peer, uid, err, errsize);
	snprintf(err, errsize, "address family %d", peer->sa_family);
	return PEERUID_ERROR;
}
