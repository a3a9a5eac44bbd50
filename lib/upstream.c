/*
 * upstream — one SMTP client session to a provider (see upstream.h and
 * upstream_int.h): its bytes, replies and commands, the transaction, the
 * check before reuse and the close.  Opening it is upstream_open.c.
 *
 * The session is an object with a state (enum up_state), a name for each
 * state used in every message ("lost connection with smtp.test[127.0.0.1]:465
 * while sending RCPT TO") and a timeout for each state: connect-timeout for
 * connecting and the TLS handshake, command-timeout for replies to
 * commands, data-timeout for the message body and the reply to the final
 * dot.  Replies are read line by line through reply.c, which refuses
 * what no conforming server sends.
 *
 * Once a read or write fails, the session is broken: every later call
 * answers with the same synthetic reply and the pool closes it.
 * Commands are sent one at a time (no pipelining): each reply maps to
 * its command by construction.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reply.h"
#include "tls.h"
#include "upstream.h"
#include "upstream_int.h"
#include "util.h"

static const struct {
	const char	*doing;		/* "lost connection ... while %s" */
	enum up_timeout	 timeout;
} up_states[] = {
	[UPS_CONNECT]	= { "connecting", TO_CONNECT },
	[UPS_TLS]	= { "performing the TLS handshake", TO_CONNECT },
	[UPS_GREETING]	= { "receiving the greeting", TO_COMMAND },
	[UPS_EHLO]	= { "sending EHLO", TO_COMMAND },
	[UPS_STARTTLS]	= { "sending STARTTLS", TO_COMMAND },
	[UPS_AUTH]	= { "authenticating", TO_COMMAND },
	[UPS_READY]	= { "idle", TO_COMMAND },
	[UPS_RSET]	= { "sending RSET", TO_CHECK },
	[UPS_MAIL]	= { "sending MAIL FROM", TO_COMMAND },
	[UPS_RCPT]	= { "sending RCPT TO", TO_COMMAND },
	[UPS_DATA]	= { "sending DATA", TO_COMMAND },
	[UPS_BODY]	= { "sending the message body", TO_DATA },
	[UPS_DOT]	= { "waiting for the reply to the end of the message",
			    TO_DATA },
	[UPS_QUIT]	= { "sending QUIT", TO_QUIT },
	[UPS_BROKEN]	= { "broken", TO_QUIT },
};


long long
up_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
up_timeout_ms(const struct upstream *up)
{
	return (int)up->timeouts[up_states[up->state].timeout] * 1000;
}

/* Mark the session broken with a synthetic reply; copies it to r. */
void
up_break(struct upstream *up, struct smtp_reply *r, enum upstream_fail why,
    const char *enhanced, const char *fmt, ...)
{
	char text[SMTP_REPLY_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_local(&up->fail, up->host, enhanced[0] == '5' ? 554 : 451,
	    enhanced, "%s", text);
	up->broken = why;
	up->state = UPS_BROKEN;
	if (r && r != &up->fail)
		*r = up->fail;
}

static void
io_failed(struct upstream *up, struct smtp_reply *r, const char *err)
{
	const char *doing = up_states[up->state].doing;

	if (err == NULL)
		up_break(up, r, UPF_CONNECT, "4.4.2", "lost connection with "
		    "%s while %s", up->peer, doing);
	else
		up_break(up, r, UPF_CONNECT, "4.4.2", "%s: %s while %s",
		    up->peer, err, doing);
}

/* "554 5.7.1 text": a provider's reply quoted in a synthetic one. */
const char *
up_said(const struct smtp_reply *r, char *buf, size_t size)
{
	snprintf(buf, size, "%d%s%s%s%s", r->code, r->enhanced[0] ? " " : "",
	    r->enhanced, r->text[0] ? " " : "", r->text);
	return buf;
}

/* ---- bytes ---- */

int
up_wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int rc;

	for (;;) {
		if ((left = deadline - up_now_ms()) <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc >= 0 || errno != EINTR)
			return rc;
	}
}

int
up_write(struct upstream *up, const char *buf, size_t len, struct smtp_reply *r)
{
	long long deadline = up_now_ms() + up_timeout_ms(up);
	char err[256];
	ssize_t n;

	if (up->tls) {
		if (tls_write(up->tls, buf, len, up_timeout_ms(up), err,
		    sizeof(err)) == -1) {
			io_failed(up, r, err);
			return -1;
		}
		return 0;
	}
	while (len > 0) {
		n = send(up->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			io_failed(up, r, strerror(errno));
			return -1;
		} else if (n < 0 && errno == EAGAIN &&
		    up_wait_fd(up->fd, POLLOUT, deadline) <= 0) {
			io_failed(up, r, "timed out");
			return -1;
		}
	}
	return 0;
}

static int
up_flush(struct upstream *up, struct smtp_reply *r)
{
	int rc = up_write(up, up->wbuf, up->wlen, r);

	up->wlen = 0;
	return rc;
}

static int
up_queue(struct upstream *up, const char *buf, size_t len,
    struct smtp_reply *r)
{
	while (len > 0) {
		size_t n = sizeof(up->wbuf) - up->wlen;

		if (n > len)
			n = len;
		memcpy(up->wbuf + up->wlen, buf, n);
		up->wlen += n;
		buf += n;
		len -= n;
		if (up->wlen == sizeof(up->wbuf) && up_flush(up, r) == -1)
			return -1;
	}
	return 0;
}

/* More bytes into rbuf: 1, or -1 with the session broken. */
static int
up_fill(struct upstream *up, long long deadline, struct smtp_reply *r)
{
	char err[256];
	ssize_t n;
	long long left = deadline - up_now_ms();

	if (up->rpos > 0) {
		memmove(up->rbuf, up->rbuf + up->rpos, up->rlen - up->rpos);
		up->rlen -= up->rpos;
		up->rpos = 0;
	}
	if (left <= 0) {
		io_failed(up, r, "timed out");
		return -1;
	}
	if (up->tls) {
		n = tls_read(up->tls, up->rbuf + up->rlen,
		    sizeof(up->rbuf) - up->rlen, (int)left, err, sizeof(err));
	} else if (up_wait_fd(up->fd, POLLIN, deadline) <= 0) {
		snprintf(err, sizeof(err), "timed out");
		n = -1;
	} else if ((n = read(up->fd, up->rbuf + up->rlen,
	    sizeof(up->rbuf) - up->rlen)) < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 1;
		snprintf(err, sizeof(err), "%s", strerror(errno));
	}
	if (n <= 0) {
		io_failed(up, r, n == 0 ? NULL : err);
		return -1;
	}
	up->rlen += (size_t)n;
	return 1;
}

/* The next line (CRLF or LF stripped) or -1 with the session broken. */
static int
up_getline(struct upstream *up, long long deadline, const char **line,
    size_t *len, struct smtp_reply *r)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = memchr(up->rbuf + up->rpos, '\n', up->rlen - up->rpos);
		if (nl) {
			*line = up->rbuf + up->rpos;
			n = (size_t)(nl - *line);
			up->rpos += n + 1;
			if (n > 0 && (*line)[n - 1] == '\r')
				n--;
			*len = n;
			return 0;
		}
		if (up->rlen - up->rpos > REPLY_LINE_MAX + 1) {
			up_break(up, r, UPF_PROTOCOL, "4.5.0", "%s: reply line "
			    "longer than %d bytes while %s", up->peer,
			    REPLY_LINE_MAX, up_states[up->state].doing);
			return -1;
		}
		if (up_fill(up, deadline, r) == -1)
			return -1;
	}
}

/* ---- replies and commands ---- */

static void ehlo_keyword(struct upstream *, const char *, size_t);

/* Reads one reply into r; returns its code, or 0 with the session
 * broken and r synthetic.  ehlo: collect capabilities. */
int
up_reply(struct upstream *up, struct smtp_reply *r, int ehlo)
{
	long long deadline = up_now_ms() + up_timeout_ms(up);
	char err[128], quote[SMTP_REPLY_TEXT_MAX + 32];
	struct reply_parse p;
	const char *line, *text;
	size_t len, tlen;
	int rc, first = 1;

	reply_begin(&p, r, up->host);
	do {
		if (up_getline(up, deadline, &line, &len, r) == -1)
			return 0;
		if ((rc = reply_line(&p, line, len, &text, &tlen, err,
		    sizeof(err))) == -1) {
			up_break(up, r, UPF_PROTOCOL, "4.5.0", "%s: %s while "
			    "%s", up->peer, err, up_states[up->state].doing);
			return 0;
		}
		if (ehlo && !first)
			ehlo_keyword(up, text, tlen);
		first = 0;
	} while (rc == 0);
	if (r->code == 421)	/* the server is closing the session */
		up_break(up, NULL, UPF_CONNECT, "4.4.2", "%s closed the "
		    "session: %s", up->peer, up_said(r, quote, sizeof(quote)));
	return r->code;
}

/* Arguments from outside go on the wire only without control
 * characters (UTF-8 is fine: SMTPUTF8 addresses). */
static int
printable(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

/* Sends a command (without CRLF) and reads its reply. */
int
up_command(struct upstream *up, enum up_state st, struct smtp_reply *r,
    const char *fmt, ...)
{
	char cmd[UP_CMD_MAX + 3];
	va_list ap;
	int n;

	if (up->broken) {
		*r = up->fail;
		return 0;
	}
	up->state = st;
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 2 || !printable(cmd)) {
		reply_local(r, up->host, 501, "5.5.4", "%s: refusing to send "
		    "an overlong command or one with control characters",
		    up->peer);
		return 0;
	}
	memcpy(cmd + n, "\r\n", 3);
	if (up_queue(up, cmd, (size_t)n + 2, r) == -1 || up_flush(up, r) == -1)
		return 0;
	return up_reply(up, r, st == UPS_EHLO);
}

static void
ehlo_keyword(struct upstream *up, const char *t, size_t len)
{
	char kw[256];
	static const struct { const char *name; unsigned cap; } caps[] = {
		{ "PIPELINING", UPCAP_PIPELINING },
		{ "8BITMIME", UPCAP_8BITMIME },
		{ "SMTPUTF8", UPCAP_SMTPUTF8 },
		{ "DSN", UPCAP_DSN },
		{ "STARTTLS", UPCAP_STARTTLS },
	};

	str_printable(kw, sizeof(kw), t, len);
	if (up->trace) {
		if (up->trace->ehlo[0])
			xstrlcat(up->trace->ehlo, "\n",
			    sizeof(up->trace->ehlo));
		xstrlcat(up->trace->ehlo, kw, sizeof(up->trace->ehlo));
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcasecmp(kw, caps[i].name) == 0)
			up->caps |= caps[i].cap;
	if (strncasecmp(kw, "SIZE", 4) == 0 && (kw[4] == ' ' || !kw[4])) {
		up->caps |= UPCAP_SIZE;
		up->max_size = strtoul(kw + 4, NULL, 10);
	}
	if (strncasecmp(kw, "AUTH ", 5) == 0) {
		up->caps |= UPCAP_AUTH;
		xstrlcpy(up->auth_offered, kw + 5, sizeof(up->auth_offered));
	}
}

static void
log_dead(const struct upstream *up)
{
	char reason[SMTP_REPLY_TEXT_MAX + 8];

	log_info("host=%s session=dead reason=%s", up->peer,
	    log_quote(reason, sizeof(reason), up->fail.text));
}

int
upstream_check(struct upstream *up)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];
	struct smtp_reply r;
	int code;

	/* a reply nobody asked for (a 421 before closing) means dead; one
	 * still in the socket is read as the reply to RSET */
	if (up->broken || up->rpos < up->rlen ||
	    (up->tls && tls_pending(up->tls) > 0)) {
		up_break(up, NULL, UPF_CONNECT, "4.4.2", "%s closed the pooled "
		    "session", up->peer);
		log_dead(up);
		return -1;
	}
	if ((code = up_command(up, UPS_RSET, &r, "RSET")) != 250) {
		if (code != 0)
			up_break(up, NULL, UPF_PROTOCOL, "4.5.0", "%s refused "
			    "RSET: %s", up->peer, up_said(&r, quote,
			    sizeof(quote)));
		log_dead(up);
		return -1;
	}
	up->state = UPS_READY;
	return 0;
}

/* Healthy and not inside DATA: whatever MAIL or RCPT left open, the RSET
 * before reuse clears. */
int
upstream_usable(const struct upstream *up)
{
	return !up->broken && up->state != UPS_BODY && up->state != UPS_DOT;
}

/* After QUIT: wait (QUIT's timeout) for the server to close, so that a
 * slot freed after upstream_close() is free at the provider too. */
static void
up_drain(struct upstream *up)
{
	long long deadline = up_now_ms() + up_timeout_ms(up);

	do
		up->rpos = up->rlen;
	while (up_fill(up, deadline, NULL) == 1);
}

void
upstream_close(struct upstream *up)
{
	struct smtp_reply r;

	if (up == NULL)
		return;
	if (upstream_usable(up) && up->state != UPS_CONNECT &&
	    up_command(up, UPS_QUIT, &r, "QUIT") == 221)
		up_drain(up);
	if (up->tls)
		tls_close(up->tls);
	if (up->fd != -1)
		close(up->fd);
	wipe(up->wbuf, sizeof(up->wbuf));
	free(up);
}

struct tls_session *
upstream_tls_session(struct upstream *up)
{
	return up->tls ? tls_session_get(up->tls) : NULL;
}

int
upstream_tls_resumed(const struct upstream *up)
{
	return up->tls ? tls_resumed(up->tls) : 0;
}

struct upstream_pooling *
upstream_pooling(struct upstream *up)
{
	return &up->pooling;
}

int
upstream_reused(const struct upstream *up)
{
	return up->pooling.reused;
}

unsigned
upstream_caps(const struct upstream *up)
{
	return up->caps & 0xff;
}

unsigned long
upstream_max_size(const struct upstream *up)
{
	return up->max_size;
}

/* ---- one transaction ---- */

int
upstream_mail(struct upstream *up, const char *sender_path,
    const char *params, struct smtp_reply *r)
{
	return up_command(up, UPS_MAIL, r, "MAIL FROM:%s%s%s", sender_path,
	    params && *params ? " " : "", params ? params : "");
}

int
upstream_rcpt(struct upstream *up, const char *rcpt_path,
    const char *params, struct smtp_reply *r)
{
	return up_command(up, UPS_RCPT, r, "RCPT TO:%s%s%s", rcpt_path,
	    params && *params ? " " : "", params ? params : "");
}

int
upstream_data_start(struct upstream *up, struct smtp_reply *r)
{
	int code = up_command(up, UPS_DATA, r, "DATA");

	if (code == 354)
		up->state = UPS_BODY;
	return code;
}

int
upstream_data_write(struct upstream *up, const char *buf, size_t len)
{
	if (up->broken || up->state != UPS_BODY)
		return -1;
	return up_queue(up, buf, len, NULL);
}

int
upstream_data_end(struct upstream *up, struct smtp_reply *r)
{
	int code;

	if (up->broken) {
		*r = up->fail;
		return 0;
	}
	if (up->state != UPS_BODY) {
		reply_local(r, up->host, 451, "4.3.0", "%s: end of message "
		    "outside DATA", up->peer);
		return 0;
	}
	if (up_queue(up, ".\r\n", 3, r) == -1 || up_flush(up, r) == -1)
		return 0;
	up->state = UPS_DOT;
	if ((code = up_reply(up, r, 0)) == 0) {
		up_break(up, r, UPF_CONNECT, "4.4.2", "%s: no reply to the end "
		    "of the message (%s); it may have been delivered, and a "
		    "retry may deliver it twice", up->peer, up->fail.text);
		return 0;
	}
	up->pooling.msgs++;
	up->state = UPS_READY;
	return code;
}

int
upstream_rset(struct upstream *up, struct smtp_reply *r)
{
	int code = up_command(up, UPS_RSET, r, "RSET");

	if (code == 250)
		up->state = UPS_READY;
	return code;
}
