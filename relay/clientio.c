/*
 * clientio — see clientio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clientio.h"
#include "util.h"

void
cio_init(struct cio *c, int fd, unsigned timeout)
{
	int flags;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout = timeout ? timeout : 300;
	/* a client that does not read its replies must not block us */
	flags = fcntl(fd, F_GETFL);
	if (flags != -1)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void
cio_deadline(struct cio *c, long long at)
{
	c->deadline = at;
}

#define STOP_CHECK_MS 500	/* how often a waiting reader looks at *stop */

static int
stop_requested(const struct cio *c)
{
	return c->stoppable && c->stop != NULL &&
	    __atomic_load_n(c->stop, __ATOMIC_RELAXED);
}

/* Wait for events, at most c->timeout seconds and not past the
 * deadline (in slices, so a stop request is seen); -1 on timeout, error
 * or stop. */
static int
wait_fd(struct cio *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	long long left = (long long)c->timeout * 1000, now;
	int n, slice;

	if (c->deadline != 0 && (now = mono_ms()) + left > c->deadline)
		left = c->deadline > now ? c->deadline - now : 0;
	if (c->nowait || left <= 0) {
		if (!c->nowait)
			c->timedout = 1;
		c->dead = 1;
		return -1;
	}
	for (;;) {
		if (events == POLLIN && stop_requested(c)) {
			c->stopped = 1;
			return -1;
		}
		slice = left > STOP_CHECK_MS ? STOP_CHECK_MS : (int)left;
		n = poll(&p, 1, slice);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			break;
		if (n == 0 && (left -= slice) <= 0) {
			c->timedout = 1;
			break;
		}
	}
	c->dead = 1;
	return -1;
}

int
cio_flush(struct cio *c)
{
	size_t off = 0;
	ssize_t n;

	while (!c->dead && off < c->olen) {
		n = send(c->fd, c->out + off, c->olen - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_fd(c, POLLOUT) == 0)
			continue;
		c->dead = 1;
	}
	c->olen = 0;
	return c->dead ? -1 : 0;
}

static int
reply_v(struct cio *c, const char *fmt, va_list ap)
{
	char line[CIO_OUT_SIZE / 2];
	int n;

	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	memcpy(line + n, "\r\n", 2);
	n += 2;
	if (c->olen + (size_t)n > sizeof(c->out))
		cio_flush(c);
	memcpy(c->out + c->olen, line, (size_t)n);
	c->olen += (size_t)n;
	return c->dead ? -1 : 0;
}

int
cio_reply(struct cio *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_v(c, fmt, ap);
	va_end(ap);
	return rc;
}

void
cio_last_reply(struct cio *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->timedout)
		return;
	c->dead = 0;
	c->nowait = 1;
	va_start(ap, fmt);
	reply_v(c, fmt, ap);
	va_end(ap);
	cio_flush(c);
	c->dead = 1;
}

static int
fill(struct cio *c)
{
	ssize_t n;

	if (c->ipos > 0) {
		memmove(c->in, c->in + c->ipos, c->iend - c->ipos);
		c->iend -= c->ipos;
		c->ipos = 0;
	}
	if (cio_flush(c) != 0)
		return -1;
	do {
		if (wait_fd(c, POLLIN) != 0)
			return -1;
		n = read(c->fd, c->in + c->iend, sizeof(c->in) - c->iend);
	} while (n == -1 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK));
	if (n <= 0) {
		c->dead = 1;
		return n == 0 ? 0 : -1;
	}
	c->iend += (size_t)n;
	return 1;
}

int
cio_read(struct cio *c, char *buf, size_t size, size_t *len, int *complete)
{
	size_t avail, take;
	char *lf;
	int rc;

	for (;;) {
		avail = c->iend - c->ipos;
		lf = memchr(c->in + c->ipos, '\n', avail);
		if (lf != NULL || avail >= size - 1 ||
		    avail == sizeof(c->in))	/* full: hand out a piece */
			break;
		if (c->dead)
			return avail ? -1 : 0;
		if ((rc = fill(c)) <= 0)
			return rc;
	}
	take = lf ? (size_t)(lf - (c->in + c->ipos)) + 1 : avail;
	if (take > size - 1)
		take = size - 1;
	memcpy(buf, c->in + c->ipos, take);
	buf[take] = '\0';
	c->ipos += take;
	*len = take;
	*complete = take > 0 && buf[take - 1] == '\n';
	return 1;
}

int
cio_peek(const struct cio *c, size_t *off, const char **line, size_t *len)
{
	const char *start = c->in + c->ipos + *off, *lf;

	if (c->ipos + *off >= c->iend)
		return 0;
	lf = memchr(start, '\n', c->iend - c->ipos - *off);
	if (lf == NULL)
		return 0;
	*line = start;
	*len = (size_t)(lf - start) + 1;
	*off += *len;
	return 1;
}
