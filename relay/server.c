/*
 * server — see server.h.  The dialogue: greeting, EHLO/HELO, XFORWARD,
 * RSET, NOOP, QUIT, syntax errors and line limits; MAIL, RCPT and DATA
 * are txn.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "session.h"
#include "util.h"

#define MAX_ERRORS	20	/* bad commands before 421 */

struct config *
relay_config(struct relay *rl)
{
	struct config *cfg;

	pthread_mutex_lock(&rl->mu);
	cfg = config_ref(rl->config);
	pthread_mutex_unlock(&rl->mu);
	return cfg;
}

void
relay_swap_config(struct relay *rl, struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&rl->mu);
	old = rl->config;
	rl->config = cfg;
	pthread_mutex_unlock(&rl->mu);
	if (old != NULL)
		config_unref(old);
}

void
server_refuse(int fd, const char *reply)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%s\r\n", reply);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL);
	close(fd);
}

/* Reply and remember the code as the transaction's last. */
int
server_say(struct session *s, int code, const char *fmt, ...)
{
	char text[ANSWER_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cio_reply(&s->io, "%d %s", code, text);
	if (s->t.active) {
		s->t.code = code;
		if (code >= 400)
			snprintf(s->t.reply, sizeof(s->t.reply), "%d %.880s",
			    code, text);
	}
	return 0;
}

/* A full reply line made by reply.h. */
int
server_say_line(struct session *s, const char *line)
{
	cio_reply(&s->io, "%s", line);
	if (s->t.active) {
		s->t.code = atoi(line);
		if (s->t.code >= 400)
			xstrlcpy(s->t.reply, line, sizeof(s->t.reply));
	}
	return 0;
}

/* SIZE to advertise: the largest account's limit, 0 if any is unknown. */
static unsigned long
advertised_size(const struct config *cfg)
{
	unsigned long max = 0;

	for (size_t i = 0; i < cfg->naccounts; i++) {
		unsigned long m = txn_max_size(cfg->accounts[i]);
		if (m == 0)
			return 0;
		if (m > max)
			max = m;
	}
	return max;
}

/* ---- the rest of the dialogue ---- */

static int
cmd_ehlo(struct session *s, const char *arg, int extended)
{
	struct config *cfg;
	unsigned long size;

	if (!*arg)
		return server_say(s, 501, "5.5.4 syntax: %s hostname",
		    extended ? "EHLO" : "HELO");
	txn_end(s, "aborted", 1);
	s->helo = 1;
	if (!extended)
		return server_say(s, 250, "%s", s->relay->hostname);
	cfg = relay_config(s->relay);
	size = advertised_size(cfg);
	config_unref(cfg);
	cio_reply(&s->io, "250-%s", s->relay->hostname);
	cio_reply(&s->io, "250-PIPELINING");
	if (size)
		cio_reply(&s->io, "250-SIZE %lu", size);
	else
		cio_reply(&s->io, "250-SIZE");
	cio_reply(&s->io, "250-8BITMIME");
	cio_reply(&s->io, "250-ENHANCEDSTATUSCODES");
	cio_reply(&s->io, "250 XFORWARD NAME ADDR PROTO HELO IDENT SOURCE");
	return 0;
}

/* XFORWARD: keep IDENT (Postfix's queue id) for the log line. */
static int
cmd_xforward(struct session *s, const char *arg)
{
	char buf[CMD_MAX], *tok, *save = NULL;
	size_t n;

	if (s->t.active)
		return server_say(s, 503, "5.5.1 XFORWARD inside a transaction");
	xstrlcpy(buf, arg, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strchr(tok, '=') == NULL)
			return server_say(s, 501, "5.5.4 bad XFORWARD attribute");
		if (strncasecmp(tok, "IDENT=", 6) != 0)
			continue;
		n = strspn(tok + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789.-_[]");
		snprintf(s->qid, sizeof(s->qid), "%.*s", (int)n, tok + 6);
	}
	return server_say(s, 250, "2.0.0 Ok");
}

/* One command; -1 ends the session. */
static int
command(struct session *s, char *line)
{
	char *arg = line + strcspn(line, " ");
	size_t vlen = (size_t)(arg - line);

	while (*arg == ' ')
		arg++;
#define IS(v) (vlen == sizeof(v) - 1 && strncasecmp(line, v, vlen) == 0)
	if (IS("EHLO") || IS("HELO"))
		cmd_ehlo(s, arg, IS("EHLO"));
	else if (IS("MAIL"))
		return txn_mail(s, arg);
	else if (IS("RCPT"))
		txn_rcpt(s, arg);
	else if (IS("DATA"))
		return txn_data(s, arg);
	else if (IS("RSET")) {
		txn_end(s, "aborted", 1);
		server_say(s, 250, "2.0.0 Ok");
	} else if (IS("NOOP"))
		server_say(s, 250, "2.0.0 Ok");
	else if (IS("XFORWARD"))
		cmd_xforward(s, arg);
	else if (IS("QUIT")) {
		txn_end(s, "aborted", 1);
		server_say(s, 221, "2.0.0 Bye");
		return -1;
	} else if (IS("VRFY") || IS("EXPN") || IS("STARTTLS") ||
	    IS("AUTH") || IS("BDAT") || IS("ETRN") || IS("HELP")) {
		s->errors++;
		server_say(s, 502, "5.5.1 command not implemented");
	} else {
		s->errors++;
		server_say(s, 500, "5.5.2 command not recognized");
	}
#undef IS
	return 0;
}

/* Read one command line; 1, 0 at EOF, or 2 after a too-long line. */
static int
read_command(struct session *s, char *line, size_t size)
{
	size_t len;
	int complete, rc, toolong = 0;

	for (;;) {
		if ((rc = cio_read(&s->io, line, size, &len, &complete)) <= 0)
			return 0;
		if (complete)
			break;
		toolong = 1;
	}
	if (toolong)
		return 2;
	if (memchr(line, '\0', len) != NULL)
		return 3;
	line[strcspn(line, "\r\n")] = '\0';
	return 1;
}

/* The deadline of what the client does next: the session's, or the
 * transaction's if that comes first (NOOP and the like extend
 * neither). */
static long long
session_deadline(const struct session *s)
{
	long long end = s->t0 + (long long)s->session_timeout * 1000, tend;

	if (!s->t.active)
		return end;
	tend = (long long)s->t.t0.tv_sec * 1000 + s->t.t0.tv_nsec / 1000000 +
	    (long long)s->txn_timeout * 1000;
	return tend < end ? tend : end;
}

/* The client timed out: say so (if it still listens) and log it; a
 * transaction still open is ended by the caller. */
static void
session_timedout(struct session *s)
{
	long long end = s->t0 + (long long)s->session_timeout * 1000;
	const char *what = "client";
	unsigned secs = s->timeout;

	if (s->io.deadline != 0 && mono_ms() >= s->io.deadline) {
		what = s->io.deadline < end ? "transaction" : "session";
		secs = s->io.deadline < end ? s->txn_timeout :
		    s->session_timeout;
	}
	log_info("client=%s timeout=%s seconds=%u", s->client, what, secs);
	cio_last_reply(&s->io, "421 4.4.2 %s Error: %s timeout exceeded "
	    "(%u s), closing", s->relay->hostname, what, secs);
}

static void
session_loop(struct session *s)
{
	char line[CMD_MAX + 1];
	int rc;

	cio_reply(&s->io, "220 %s ESMTP smarthost-relay", s->relay->hostname);
	for (;;) {
		/* a stopping relay closes sessions between transactions */
		s->io.stoppable = !s->t.active;
		cio_deadline(&s->io, session_deadline(s));
		if ((rc = read_command(s, line, sizeof(line))) <= 0)
			break;
		if (rc == 2) {
			s->errors++;
			server_say(s, 500, "5.5.2 line too long (limit %d)", CMD_MAX);
		} else if (rc == 3) {
			s->errors++;
			server_say(s, 500, "5.5.2 NUL character in command");
		} else if (line[0] == '\0') {
			s->errors++;
			server_say(s, 500, "5.5.2 empty command");
		} else if (command(s, line) != 0)
			break;
		if (s->errors >= MAX_ERRORS) {
			server_say(s, 421, "4.7.0 too many errors, closing");
			break;
		}
		if (s->io.dead)
			break;
	}
	if (s->io.stopped)
		server_say(s, 421, "4.3.2 %s smarthost-relay shutting down",
		    s->relay->hostname);
	else if (s->io.timedout)
		session_timedout(s);
	txn_end(s, "aborted", 0);
	cio_flush(&s->io);
}

void
server_run(struct relay *rl, int fd, const char *client)
{
	struct session *s = xcalloc(1, sizeof(*s));
	struct config *cfg = relay_config(rl);

	s->relay = rl;
	s->client = client;
	s->timeout = cfg->conf->client_timeout ? cfg->conf->client_timeout :
	    300;
	s->txn_timeout = cfg->conf->transaction_timeout ?
	    cfg->conf->transaction_timeout : 1800;
	s->session_timeout = cfg->conf->session_timeout ?
	    cfg->conf->session_timeout : 3600;
	s->t0 = mono_ms();
	config_unref(cfg);
	cio_init(&s->io, fd, s->timeout);
	s->io.stop = &rl->stopping;
	session_loop(s);
	close(fd);
	free(s);
}
