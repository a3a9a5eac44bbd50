/*
 * imap — the small IMAP client (see imap.h): a buffered reader of lines
 * and literals over tls.c, tagged commands, and the few commands
 * smarthost-return needs.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "imap.h"
#include "net.h"
#include "tls.h"
#include "util.h"

#define IMAP_READ_CHUNK	16384

struct imap {
	int		 fd;
	struct tls_ctx	*ctx;
	struct tls_conn	*tls;
	int		 timeout_ms;
	unsigned	 tag;
	char		 peer[300];
	char		*caps;		/* last CAPABILITY answer, upper-case */
	char		*buf;		/* read buffer */
	size_t		 len, pos, cap;
	int		 broken;
};

struct resp {
	char		*line;
	size_t		 len, cap;
	char		*lit[IMAP_LITERALS];
	size_t		 litlen[IMAP_LITERALS];
	size_t		 nlit;
};

static void
resp_clear(struct resp *r)
{
	free(r->line);
	for (size_t i = 0; i < r->nlit; i++)
		free(r->lit[i]);
	memset(r, 0, sizeof(*r));
}

static void
resp_append(struct resp *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->line = xreallocarray(r->line, r->cap, 1);
	}
	memcpy(r->line + r->len, s, n);
	r->len += n;
	r->line[r->len] = '\0';
}

static int
fail(struct imap *im, char *err, size_t errsize, const char *what)
{
	im->broken = 1;
	snprintf(err, errsize, "%s: %s", im->peer, what);
	return -1;
}

/* At least want bytes unread in the buffer. */
static int
fill(struct imap *im, size_t want, char *err, size_t errsize)
{
	char e[256] = "";
	ssize_t n;

	if (im->pos > 0 && im->pos == im->len)
		im->pos = im->len = 0;
	while (im->len - im->pos < want) {
		if (im->pos > 0) {
			memmove(im->buf, im->buf + im->pos, im->len - im->pos);
			im->len -= im->pos;
			im->pos = 0;
		}
		if (im->cap - im->len < IMAP_READ_CHUNK) {
			im->cap = im->len + (want > IMAP_READ_CHUNK ?
			    want : IMAP_READ_CHUNK) + IMAP_READ_CHUNK;
			im->buf = xreallocarray(im->buf, im->cap, 1);
		}
		n = tls_read(im->tls, im->buf + im->len, im->cap - im->len,
		    im->timeout_ms, e, sizeof(e));
		if (n < 0)
			return fail(im, err, errsize, e);
		if (n == 0)
			return fail(im, err, errsize, "connection closed");
		im->len += (size_t)n;
	}
	return 0;
}

/* The next line without CRLF into *line (pointing into the buffer, valid
 * until the next read), its length in *n. */
static int
read_line(struct imap *im, const char **line, size_t *n, char *err,
    size_t errsize)
{
	size_t scanned = 0;
	char *nl;

	for (;;) {
		nl = im->len - im->pos > scanned ? memchr(im->buf + im->pos +
		    scanned, '\n', im->len - im->pos - scanned) : NULL;
		if (nl != NULL)
			break;
		scanned = im->len - im->pos;
		if (scanned > IMAP_LINE_MAX)
			return fail(im, err, errsize, "line too long");
		if (fill(im, scanned + 1, err, errsize) == -1)
			return -1;
	}
	*line = im->buf + im->pos;
	*n = (size_t)(nl - *line);
	im->pos += *n + 1;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return 0;
}

/* "{N}" or "{N+}" at the end of a line: N, else -1. */
static long long
literal_size(const char *line, size_t n)
{
	size_t i;
	long long v = 0;

	if (n < 3 || line[n - 1] != '}')
		return -1;
	i = n - 2;
	if (line[i] == '+')
		i--;
	if (line[i] < '0' || line[i] > '9')
		return -1;
	while (i > 0 && line[i] >= '0' && line[i] <= '9')
		i--;
	if (line[i] != '{')
		return -1;
	for (i++; line[i] != '}' && line[i] != '+'; i++) {
		v = v * 10 + (line[i] - '0');
		if (v > IMAP_LITERAL_MAX)
			return IMAP_LITERAL_MAX + 1LL;
	}
	return v;
}

/* One whole response: a line and, for each literal it announces, the
 * literal and the rest of the response. */
static int
read_resp(struct imap *im, struct resp *r, char *err, size_t errsize)
{
	const char *line;
	size_t n;
	long long lit;

	resp_clear(r);
	for (;;) {
		if (read_line(im, &line, &n, err, errsize) == -1)
			return -1;
		resp_append(r, line, n);
		if (r->len > IMAP_LINE_MAX)
			return fail(im, err, errsize, "response too long");
		if ((lit = literal_size(line, n)) < 0)
			return 0;
		if (lit > IMAP_LITERAL_MAX)
			return fail(im, err, errsize, "literal too large");
		if (r->nlit == IMAP_LITERALS)
			return fail(im, err, errsize, "too many literals");
		if (fill(im, (size_t)lit, err, errsize) == -1)
			return -1;
		r->lit[r->nlit] = xmalloc((size_t)lit + 1);
		memcpy(r->lit[r->nlit], im->buf + im->pos, (size_t)lit);
		r->lit[r->nlit][lit] = '\0';
		r->litlen[r->nlit++] = (size_t)lit;
		im->pos += (size_t)lit;
	}
}

static int
send_all(struct imap *im, const char *s, size_t n, char *err,
    size_t errsize)
{
	char e[256] = "";

	if (tls_write(im->tls, s, n, im->timeout_ms, e, sizeof(e)) == -1)
		return fail(im, err, errsize, e);
	return 0;
}

static void
set_text(char *text, size_t textsize, const char *s)
{
	if (textsize > 0)
		str_printable(text, textsize, s, strlen(s));
}

/* "CAPABILITY A B C" as an untagged answer, or "[CAPABILITY A B C]" as a
 * response code anywhere in s. */
static void
note_caps(struct imap *im, const char *s)
{
	const char *p = strcasestr(s, "[CAPABILITY ");
	const char *end;

	if (p != NULL)
		p += strlen("[CAPABILITY ");
	else if (strncasecmp(s, "CAPABILITY ", 11) == 0)
		p = s + 11;
	else
		return;
	end = strchr(p, ']');
	free(im->caps);
	im->caps = end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
	for (char *c = im->caps; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
}

/* Read until the tagged answer to tag, handing untagged ones to fn and
 * answering a continuation request with an empty line (which cancels an
 * AUTHENTICATE exchange: its error then comes tagged). */
static enum imap_status
wait_tagged(struct imap *im, const char *tag, imap_untagged_fn fn,
    void *arg, char *text, size_t textsize)
{
	struct resp r = { 0 };
	size_t tl = strlen(tag);
	enum imap_status st = IMAP_FAIL;
	char err[512];

	for (;;) {
		if (read_resp(im, &r, err, sizeof(err)) == -1) {
			set_text(text, textsize, err);
			break;
		}
		if (r.len >= 2 && strncmp(r.line, "* ", 2) == 0) {
			struct imap_resp ur = { .line = r.line + 2,
			    .len = r.len - 2, .nlit = r.nlit };

			for (size_t i = 0; i < r.nlit; i++) {
				ur.lit[i] = r.lit[i];
				ur.litlen[i] = r.litlen[i];
			}
			if (strncasecmp(ur.line, "CAPABILITY ", 11) == 0 ||
			    strncasecmp(ur.line, "OK [CAPABILITY ", 15) == 0)
				note_caps(im, ur.line);
			if (fn)
				fn(&ur, arg);
			continue;
		}
		if (r.len >= 1 && r.line[0] == '+') {
			if (send_all(im, "\r\n", 2, err, sizeof(err)) == -1) {
				set_text(text, textsize, err);
				break;
			}
			continue;
		}
		if (r.len > tl && strncmp(r.line, tag, tl) == 0 &&
		    r.line[tl] == ' ') {
			const char *s = r.line + tl + 1;

			if (strncasecmp(s, "OK", 2) == 0)
				st = IMAP_OK;
			else if (strncasecmp(s, "NO", 2) == 0)
				st = IMAP_NO;
			else
				st = IMAP_BAD;
			if (st == IMAP_OK)
				note_caps(im, s);
			set_text(text, textsize, s);
			break;
		}
		im->broken = 1;
		snprintf(err, sizeof(err), "%s: unexpected answer", im->peer);
		set_text(text, textsize, err);
		break;
	}
	resp_clear(&r);
	return st;
}

/* Send an already formatted command line (without tag and CRLF). */
static enum imap_status
send_cmd(struct imap *im, const char *cmd, imap_untagged_fn fn, void *arg,
    char *text, size_t textsize)
{
	char tag[16], err[512];
	size_t n = strlen(cmd) + sizeof(tag) + 3;
	char *line;
	int rc;

	if (im->broken) {
		snprintf(err, sizeof(err), "%s: connection lost", im->peer);
		set_text(text, textsize, err);
		return IMAP_FAIL;
	}
	snprintf(tag, sizeof(tag), "S%u", ++im->tag);
	line = xmalloc(n);
	snprintf(line, n, "%s %s\r\n", tag, cmd);
	rc = send_all(im, line, strlen(line), err, sizeof(err));
	wipe(line, n);
	free(line);
	if (rc == -1) {
		set_text(text, textsize, err);
		return IMAP_FAIL;
	}
	return wait_tagged(im, tag, fn, arg, text, textsize);
}

enum imap_status
imap_cmd(struct imap *im, imap_untagged_fn fn, void *arg, char *text,
    size_t textsize, const char *fmt, ...)
{
	enum imap_status st;
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) == -1)
		abort();
	va_end(ap);
	st = send_cmd(im, cmd, fn, arg, text, textsize);
	free(cmd);
	return st;
}

/* s as an IMAP quoted string appended to out; -1 if it cannot be. */
static int
quote(char *out, size_t size, const char *s)
{
	size_t o = strlen(out);

	if (o + 1 >= size)
		return -1;
	out[o++] = '"';
	for (; *s; s++) {
		if (*s == '\r' || *s == '\n')
			return -1;
		if (o + 3 >= size)
			return -1;
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

enum imap_status
imap_login(struct imap *im, const char *login, const char *secret,
    char *text, size_t textsize)
{
	char cmd[2048] = "LOGIN ";
	enum imap_status st;

	if (quote(cmd, sizeof(cmd), login) == -1 ||
	    xstrlcat(cmd, " ", sizeof(cmd)) >= sizeof(cmd) ||
	    quote(cmd, sizeof(cmd), secret) == -1) {
		wipe(cmd, sizeof(cmd));
		set_text(text, textsize, "login or code too long or holds "
		    "a line break");
		return IMAP_BAD;
	}
	st = send_cmd(im, cmd, NULL, NULL, text, textsize);
	wipe(cmd, sizeof(cmd));
	return st;
}

enum imap_status
imap_xoauth2(struct imap *im, const char *login, const char *token,
    char *text, size_t textsize)
{
	char *names[] = { (char *)"XOAUTH2" };
	const struct strlist want = { .v = names, .n = 1 };
	const struct auth_mech *m = auth_choose(&want, NULL, "XOAUTH2");
	char *line = xmalloc(AUTH_LINE_MAX), err[256];
	enum imap_status st = IMAP_BAD;
	size_t n;

	/* "AUTH XOAUTH2 <base64>\r\n" written 8 bytes in, so that
	 * "AUTHENTICATE" over its first 12 bytes makes the command */
	if (m == NULL || auth_line(m, 0, login, token, line + 8,
	    AUTH_LINE_MAX - 8, err, sizeof(err)) == -1 ||
	    strncmp(line + 8, "AUTH ", 5) != 0)
		set_text(text, textsize, m ? err : "no XOAUTH2");
	else {
		memcpy(line, "AUTHENTICATE", 12);
		n = strlen(line);
		if (n >= 2 && line[n - 2] == '\r')
			line[n - 2] = '\0';
		st = send_cmd(im, line, NULL, NULL, text, textsize);
	}
	wipe(line, AUTH_LINE_MAX);
	free(line);
	return st;
}

enum imap_status
imap_id(struct imap *im, const char *version, char *text, size_t textsize)
{
	char cmd[256] = "ID (\"name\" \"smarthost\" \"version\" ";

	if (quote(cmd, sizeof(cmd), version) == -1)
		return IMAP_BAD;
	xstrlcat(cmd, " \"vendor\" \"smarthost\")", sizeof(cmd));
	return send_cmd(im, cmd, NULL, NULL, text, textsize);
}

enum imap_status
imap_capability(struct imap *im, char *text, size_t textsize)
{
	return send_cmd(im, "CAPABILITY", NULL, NULL, text, textsize);
}

int
imap_has(const struct imap *im, const char *cap)
{
	size_t n = strlen(cap);

	for (const char *p = im->caps; p && *p; ) {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, cap, n) == 0 && (p[n] == ' ' ||
		    p[n] == '\0'))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

static void
select_cb(const struct imap_resp *r, void *arg)
{
	const char *p = strcasestr(r->line, "[UIDVALIDITY ");

	if (strncasecmp(r->line, "OK ", 3) == 0 && p != NULL)
		*(unsigned long long *)arg = strtoull(p + 13, NULL, 10);
}

enum imap_status
imap_select(struct imap *im, const char *mailbox,
    unsigned long long *uidvalidity, char *text, size_t textsize)
{
	*uidvalidity = 0;
	return imap_cmd(im, select_cb, uidvalidity, text, textsize,
	    "SELECT %s", mailbox);
}

const char *
imap_peer(const struct imap *im)
{
	return im->peer;
}

struct imap *
imap_connect(const char *host, unsigned port, const char *ca_file,
    int timeout_ms, char *err, size_t errsize)
{
	struct imap *im = xcalloc(1, sizeof(*im));
	struct resp r = { 0 };
	char e[256] = "";

	im->fd = -1;
	im->timeout_ms = timeout_ms;
	snprintf(im->peer, sizeof(im->peer), "%s:%u", host, port);
	if ((im->ctx = tls_ctx_new(ca_file, e, sizeof(e))) == NULL) {
		snprintf(err, errsize, "%s: %s", im->peer, e);
		goto bad;
	}
	if ((im->fd = net_connect(host, port, timeout_ms, e,
	    sizeof(e))) == -1) {
		snprintf(err, errsize, "%s: %s", im->peer, e);
		goto bad;
	}
	if ((im->tls = tls_connect(im->ctx, im->fd, host, NULL, timeout_ms,
	    e, sizeof(e))) == NULL) {
		snprintf(err, errsize, "%s: %s", im->peer, e);
		goto bad;
	}
	if (read_resp(im, &r, err, errsize) == -1)
		goto bad;
	if (strncasecmp(r.line, "* OK", 4) != 0) {
		char p[200];

		snprintf(err, errsize, "%s: greeting: %s", im->peer,
		    str_printable(p, sizeof(p), r.line, r.len));
		goto bad;
	}
	note_caps(im, r.line + 2);
	resp_clear(&r);
	return im;
bad:
	resp_clear(&r);
	im->broken = 1;
	imap_close(im);
	return NULL;
}

void
imap_close(struct imap *im)
{
	char text[64];

	if (im == NULL)
		return;
	if (im->tls != NULL && !im->broken)
		(void)send_cmd(im, "LOGOUT", NULL, NULL, text, sizeof(text));
	if (im->tls != NULL)
		tls_close(im->tls);
	if (im->fd != -1)
		close(im->fd);
	tls_ctx_free(im->ctx);
	free(im->caps);
	free(im->buf);
	free(im);
}
