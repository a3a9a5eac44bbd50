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
 * Commands are sent one at a time, except in upstream_pipeline() (RFC
 * 2920, only when the provider offers PIPELINING): MAIL, RCPT... and
 * DATA in one write, then their replies read in the same order, so each
 * reply still maps to its command.
 *
 * Reuse costs no round trip: a transaction that ended with a reply to
 * the final dot (whatever its code) or with RSET leaves the session in
 * its initial state (RFC 5321 4.1.1.4), so upstream_check() sends RSET
 * only when a transaction may still be open.  Otherwise it only looks,
 * without waiting, for what a provider that gave up on an idle session
 * leaves behind: a 421, a TLS close or EOF make the socket readable,
 * and then the session is dead.  A session that died without a trace
 * fails its first command with no reply (upstream_replied() is 0),
 * before anything was committed: the caller retries on a new session.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
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


int
up_timeout_ms(const struct upstream *up)
{
	long long ms = (long long)up->timeouts[up_states[up->state].timeout] *
	    1000;

	return ms > INT_MAX ? INT_MAX : (int)ms;
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
up_write(struct upstream *up, const char *buf, size_t len, struct smtp_reply *r)
{
	long long deadline = mono_ms() + up_timeout_ms(up);
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
		    net_wait(up->fd, POLLOUT, deadline) <= 0) {
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
	long long left = deadline - mono_ms();

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
	} else if (net_wait(up->fd, POLLIN, deadline) <= 0) {
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
	long long deadline = mono_ms() + up_timeout_ms(up);
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
	up->replies++;
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

/* Anything to read on an idle session (a 421, a TLS close_notify, EOF)
 * is the provider ending it: 1 then, 0 if the socket is quiet. */
static int
idle_spoke(const struct upstream *up)
{
	struct pollfd pfd = { .fd = up->fd, .events = POLLIN };
	int rc;

	if (up->rpos < up->rlen || (up->tls && tls_pending(up->tls) > 0))
		return 1;
	while ((rc = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		;
	return rc != 0;
}

int
upstream_check(struct upstream *up)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];
	struct smtp_reply r;
	int code;

	up->replies = 0;
	if (up->broken || idle_spoke(up)) {
		up_break(up, NULL, UPF_CONNECT, "4.4.2", "%s closed the pooled "
		    "session", up->peer);
		log_dead(up);
		return -1;
	}
	if (up->open_txn &&
	    (code = up_command(up, UPS_RSET, &r, "RSET")) != 250) {
		if (code != 0)
			up_break(up, NULL, UPF_PROTOCOL, "4.5.0", "%s refused "
			    "RSET: %s", up->peer, up_said(&r, quote,
			    sizeof(quote)));
		log_dead(up);
		return -1;
	}
	up->open_txn = 0;
	up->replies = 0;
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
	long long deadline = mono_ms() + up_timeout_ms(up);

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

unsigned
upstream_replied(const struct upstream *up)
{
	return up->replies;
}

int
upstream_mail(struct upstream *up, const char *sender_path,
    const char *params, struct smtp_reply *r)
{
	int code = up_command(up, UPS_MAIL, r, "MAIL FROM:%s%s%s",
	    sender_path, params && *params ? " " : "", params ? params : "");

	if (code / 100 == 2)
		up->open_txn = 1;
	return code;
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
	up->open_txn = 0;
	up->state = UPS_READY;
	return code;
}

int
upstream_rset(struct upstream *up, struct smtp_reply *r)
{
	int code = up_command(up, UPS_RSET, r, "RSET");

	if (code == 250) {
		up->open_txn = 0;
		up->state = UPS_READY;
	}
	return code;
}

/* ---- pipelining ---- */

static const struct {
	const char	*verb;
	enum up_state	 state;
} pipe_verbs[] = {
	[UPV_MAIL] = { "MAIL FROM:", UPS_MAIL },
	[UPV_RCPT] = { "RCPT TO:", UPS_RCPT },
	[UPV_DATA] = { "DATA", UPS_DATA },
};

/* Queues one command of a batch; -1 with cmd->reply filled. */
static int
pipe_queue(struct upstream *up, struct upstream_cmd *cmd)
{
	char line[UP_CMD_MAX + 3];
	const char *params = cmd->params ? cmd->params : "";
	int n;

	n = snprintf(line, sizeof(line) - 2, "%s%s%s%s",
	    pipe_verbs[cmd->verb].verb, cmd->verb == UPV_DATA ? "" : cmd->path,
	    *params ? " " : "", params);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || !printable(line)) {
		reply_local(&cmd->reply, up->host, 501, "5.5.4", "%s: refusing "
		    "to send an overlong command or one with control "
		    "characters", up->peer);
		return -1;
	}
	memcpy(line + n, "\r\n", 3);
	return up_queue(up, line, (size_t)n + 2, &cmd->reply);
}

/* The reply to one command of a sent batch. */
static void
pipe_reply(struct upstream *up, struct upstream_cmd *cmd)
{
	if (up->broken) {
		cmd->reply = up->fail;
		cmd->code = 0;
		return;
	}
	up->state = pipe_verbs[cmd->verb].state;
	cmd->code = up_reply(up, &cmd->reply, 0);
	if (cmd->verb == UPV_MAIL && cmd->code / 100 == 2)
		up->open_txn = 1;
	if (cmd->verb == UPV_DATA && cmd->code == 354)
		up->state = UPS_BODY;
}

size_t
upstream_pipeline(struct upstream *up, struct upstream_cmd *cmd, size_t n)
{
	size_t i, got = 0;

	for (i = 0; i < n; i++) {
		cmd[i].code = 0;
		memset(&cmd[i].reply, 0, sizeof(cmd[i].reply));
	}
	if (up->broken) {
		for (i = 0; i < n; i++)
			cmd[i].reply = up->fail;
		return 0;
	}
	up->state = UPS_MAIL;
	for (i = 0; i < n; i++)
		if (pipe_queue(up, &cmd[i]) == -1)
			break;
	if (i < n || up_flush(up, &cmd[0].reply) == -1) {
		/* nothing was read: the batch is dropped, the session with it */
		if (!up->broken)
			up_break(up, NULL, UPF_PROTOCOL, "5.5.4", "%s",
			    cmd[i < n ? i : 0].reply.text);
		for (i = 0; i < n; i++)
			cmd[i].reply = up->fail;
		return 0;
	}
	for (i = 0; i < n; i++) {
		pipe_reply(up, &cmd[i]);
		if (cmd[i].code != 0)
			got++;
	}
	return got;
}
