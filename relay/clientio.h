/*
 * clientio — buffered, time-limited I/O on the relay's connection with
 * its SMTP client (Postfix).
 *
 * Input is read through a fixed buffer so pipelined commands are taken
 * one line at a time; output replies are collected and written when the
 * relay is about to wait for input (or the buffer fills), so a pipelined
 * batch gets its replies in one write.  cio_read() hands out at most one
 * line (through LF) or, for a line longer than the caller's buffer, the
 * next piece of it: message lines are streamed, never held whole.
 *
 * The socket is non-blocking: a client that stops taking its replies is
 * given up after the timeout, as one that stops sending.  Besides the
 * timeout per read or write, a deadline (cio_deadline) bounds the whole
 * wait however busy the client keeps the connection; past either, the
 * connection is dead with timedout set, and cio_last_reply() may still
 * try once, without waiting, to tell the client.
 */
#ifndef SMARTHOST_RELAY_CLIENTIO_H
#define SMARTHOST_RELAY_CLIENTIO_H

#include <stddef.h>

#include "util.h"

#define CIO_IN_SIZE	4096
#define CIO_OUT_SIZE	2048

struct cio {
	int	 fd;
	unsigned timeout;		/* seconds per read or write */
	char	 in[CIO_IN_SIZE];
	size_t	 ipos, iend;
	char	 out[CIO_OUT_SIZE];
	size_t	 olen;
	int	 dead;			/* EOF, timeout or write error */
	int	 timedout;		/* it was the timeout or deadline */
	long long deadline;		/* CLOCK_MONOTONIC ms; 0: none */
	int	 nowait;		/* last words: never wait */
	const int *stop;		/* non-zero: the relay is stopping */
	int	 stoppable;		/* waiting for input may end on *stop */
	int	 stopped;		/* it did */
};

void	cio_init(struct cio *, int fd, unsigned timeout);
/* Queue one reply line; CRLF is added.  -1 once the peer is gone. */
int	cio_reply(struct cio *, const char *fmt, ...) SH_PRINTF(2, 3);
int	cio_flush(struct cio *);
/* No reading or writing waits past at (mono_ms() clock, util.h; 0: no
 * deadline, only the timeout). */
void	cio_deadline(struct cio *, long long at);
/* After a timeout: queue a last reply line and try once, without
 * waiting, to write what is queued; the connection stays dead. */
void	cio_last_reply(struct cio *, const char *fmt, ...) SH_PRINTF(2, 3);
/* Next line or piece: 1 with *len bytes in buf (NUL-terminated, size >
 * 1) and *complete set when they end with LF; 0 on EOF; -1 on timeout or
 * error, or with c->stopped set when it had to wait while stoppable and
 * *stop became non-zero.  Flushes pending replies before waiting. */
int	cio_read(struct cio *, char *buf, size_t size, size_t *len,
	    int *complete);
/* The next complete line already buffered at *off bytes past what
 * cio_read() hands out next, without waiting or consuming: 1 with
 * *line and *len (through LF) and *off moved past it, else 0.  Valid
 * until the next cio_read(). */
int	cio_peek(const struct cio *, size_t *off, const char **line,
	    size_t *len);

#endif
