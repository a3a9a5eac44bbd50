/*
 * redislimit_conn — the limits-store's one connection (see
 * redislimit_int.h): a socket, plain for redis:// and through tls.c for
 * rediss://, every step bounded by the store's timeout; hiredis formats
 * each command and its reader parses each reply.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "redislimit_int.h"
#include "util.h"

/* Drops the connection, if any (mu held). */
void
rl_conn_close(struct redislimit *r)
{
	if (r->tls != NULL)
		tls_close(r->tls);
	if (r->fd != -1)
		close(r->fd);
	if (r->rd != NULL)
		redisReaderFree(r->rd);
	r->tls = NULL;
	r->fd = -1;
	r->rd = NULL;
}

/* Redis is unreachable (mu held): drop the connection, say so once. */
void
rl_went_down(struct redislimit *r, const char *reason)
{
	char why[256];

	xstrlcpy(why, reason, sizeof(why));
	rl_conn_close(r);
	r->next_try = mono_ms() + r->backoff;
	r->backoff = r->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    r->backoff * 2;
	if (!r->up)
		return;
	__atomic_store_n(&r->up, 0, __ATOMIC_RELAXED);
	/* a window not over: the next reconnection opens a new one */
	__atomic_store_n(&r->settle_until, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->settle_open, 0, __ATOMIC_RELAXED);
	r->down_since = time(NULL);
	xstrlcpy(r->err, why, sizeof(r->err));
	log_warnx("limits-store %s: unreachable (%s): local share %s in "
	    "force until it is back", r->url, why, r->share);
}

/* Milliseconds left until deadline, at least 1 (the call then says that
 * it timed out). */
static int
left_ms(long long deadline)
{
	long long left = deadline - mono_ms();

	return left < 1 ? 1 : (int)left;
}

/* All of buf to Redis before deadline: 0, or -1 with err. */
static int
send_all(struct redislimit *r, const char *buf, size_t len,
    long long deadline, char *err, size_t errsize)
{
	ssize_t n;

	if (r->tls != NULL)
		return tls_write(r->tls, buf, len, left_ms(deadline), err,
		    errsize);
	while (len > 0) {
		n = send(r->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			snprintf(err, errsize, "write failed: %s",
			    strerror(errno));
			return -1;
		} else if (n == -1 && errno == EAGAIN &&
		    net_wait(r->fd, POLLOUT, deadline) <= 0) {
			snprintf(err, errsize, "write timed out");
			return -1;
		}
	}
	return 0;
}

/* Some bytes from Redis before deadline: their number, or -1 with err
 * (a closed connection too). */
static ssize_t
recv_some(struct redislimit *r, char *buf, size_t size, long long deadline,
    char *err, size_t errsize)
{
	ssize_t n;

	if (r->tls != NULL)
		n = tls_read(r->tls, buf, size, left_ms(deadline), err,
		    errsize);
	else {
		while ((n = recv(r->fd, buf, size, MSG_DONTWAIT)) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			if (errno == EAGAIN &&
			    net_wait(r->fd, POLLIN, deadline) <= 0) {
				snprintf(err, errsize, "read timed out");
				return -1;
			}
		if (n == -1)
			snprintf(err, errsize, "read failed: %s",
			    strerror(errno));
	}
	if (n == 0)
		snprintf(err, errsize, "connection closed by Redis");
	return n > 0 ? n : -1;
}

/* The reply to the command in cmd/len, read before deadline; NULL with
 * err. */
static redisReply *
exchange(struct redislimit *r, const char *cmd, size_t len,
    long long deadline, char *err, size_t errsize)
{
	char buf[4096];
	void *rep = NULL;
	ssize_t n;

	if (send_all(r, cmd, len, deadline, err, errsize) != 0)
		return NULL;
	while (redisReaderGetReply(r->rd, &rep) == REDIS_OK && rep == NULL) {
		if ((n = recv_some(r, buf, sizeof(buf), deadline, err,
		    errsize)) == -1)
			return NULL;
		if (redisReaderFeed(r->rd, buf, (size_t)n) != REDIS_OK)
			break;
	}
	if (rep == NULL)
		snprintf(err, errsize, "bad reply: %s", r->rd->errstr);
	return rep;
}

/* One command on the connection (mu held): its reply, or NULL with
 * Redis marked unreachable (an error reply too).  The encoded command
 * is wiped: it may hold the password. */
redisReply *
rl_command(struct redislimit *r, int argc, const char **argv)
{
	redisReply *rep;
	char *cmd, why[256];
	int len;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0) {
		rl_went_down(r, "out of memory");
		return NULL;
	}
	rep = exchange(r, cmd, (size_t)len, mono_ms() + r->timeout_ms, why,
	    sizeof(why));
	explicit_bzero(cmd, (size_t)len);
	redisFreeCommand(cmd);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%.*s", (int)rep->len, rep->str);
		freeReplyObject(rep);
		rep = NULL;
	}
	if (rep == NULL)
		rl_went_down(r, why);
	return rep;
}

/* A TCP connection, with TLS for rediss://: 0, or -1 with err (the log
 * line names the URL). */
int
rl_conn_open(struct redislimit *r, char *err, size_t errsize)
{
	if ((r->fd = net_connect(r->host, r->port, (int)r->timeout_ms, err,
	    errsize)) == -1)
		return -1;
	if (r->tls_ctx != NULL && (r->tls = tls_connect(r->tls_ctx, r->fd,
	    r->host, NULL, (int)r->timeout_ms, err, errsize)) == NULL)
		return -1;
	if ((r->rd = redisReaderCreate()) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	return 0;
}
