/*
 * addr — see addr.h.
 *
 * This file holds RFC 5321 paths, keys and the helpers both parsers use;
 * addr_header.c holds RFC 5322 header values and formatting.
 *
 * The path parser scans characters (RFC 5321 has no comments or folding).
 * Error
 * messages that concern the syntax quote the offending input, printable
 * and cut to ECHO_MAX characters, so they can go into an SMTP reply.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "addr_int.h"
#include "util.h"

int
addr_is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int
addr_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
addr_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Printable copy of untrusted input for a message, '"' and '\' escaped,
 * at most ECHO_MAX input characters. */
const char *
addr_echo(char *buf, const char *s, size_t len)
{
	size_t o = 0;

	if (len > ECHO_MAX)
		len = ECHO_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
	return buf;
}

int
addr_fail_in(char *err, size_t errsize, const char *what, const char *s,
    size_t len)
{
	char e[ECHO_SIZE];

	snprintf(err, errsize, "%s in \"%s\"", what, addr_echo(e, s, len));
	return -1;
}

int
addr_fail(char *err, size_t errsize, const char *what)
{
	snprintf(err, errsize, "%s", what);
	return -1;
}

/* "'x'" for a printable character, "0xNN" otherwise. */
static const char *
char_name(char *buf, size_t size, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "0x%02X", c);
	return buf;
}

/* Normalise [s, s + len) as a domain into out (DOMAIN_MAX + 1); the
 * message is made printable ASCII like every other. */
int
addr_norm_domain(const char *s, size_t len, char *out, const char *all,
    size_t alllen, char *err, size_t errsize)
{
	char dom[ADDR_HEADER_MAX + 1];

	if (len == 0)
		return addr_fail_in(err, errsize, "empty domain", all, alllen);
	if (len >= sizeof(dom))
		return addr_fail(err, errsize, "domain longer than 253 characters");
	memcpy(dom, s, len);
	dom[len] = '\0';
	if (domain_normalize(dom, out, DOMAIN_MAX + 1, err, errsize) == 0)
		return 0;
	for (char *p = err; *p; p++)		/* it quotes the domain */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -1;
}

/*
 * RFC 5321 paths.
 */

struct pscan {
	const char	*p, *end;	/* cursor */
	const char	*s;		/* the trimmed path, for messages */
	size_t		 len;
	char		*err;
	size_t		 errsize;
};

static int
path_fail(struct pscan *ps, const char *what)
{
	return addr_fail_in(ps->err, ps->errsize, what, ps->s, ps->len);
}

/* "@a,@b:" — accepted and ignored (RFC 5321 4.1.2, C.). */
static int
path_route(struct pscan *ps)
{
	const char *p = ps->p, *hop;

	for (;;) {
		if (p >= ps->end || *p != '@')
			return path_fail(ps, "malformed source route");
		hop = ++p;
		while (p < ps->end && *p != ',' && *p != ':' && *p != '>')
			p++;
		if (p == hop || p >= ps->end || *p == '>')
			return path_fail(ps, "malformed source route");
		if (*p++ == ':') {
			ps->p = p;
			return 0;
		}
	}
}

/* Quoted-string local part: qtextSMTP and quoted-pairSMTP, UTF-8 kept. */
static int
path_quoted(struct pscan *ps)
{
	char cn[8], what[64];
	const char *p = ps->p + 1;

	for (; p < ps->end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < ps->end)
			p++;
		else if (*p == '\\')
			break;
		if (addr_is_ctl((unsigned char)*p)) {
			snprintf(what, sizeof(what), "invalid character %s in "
			    "local part", char_name(cn, sizeof(cn), *p));
			return path_fail(ps, what);
		}
	}
	if (p >= ps->end)
		return path_fail(ps, "unbalanced quote");
	ps->p = p + 1;
	return 0;
}

static int
path_local(struct pscan *ps, struct addr *a)
{
	char cn[8], what[64];
	const char *start = ps->p;
	size_t len;

	if (ps->p < ps->end && *ps->p == '"') {
		if (path_quoted(ps) < 0)
			return -1;
	} else
		while (ps->p < ps->end && (addr_is_atext(*ps->p) || *ps->p == '.'))
			ps->p++;
	len = (size_t)(ps->p - start);
	if (ps->p < ps->end && *ps->p != '@' && *ps->p != '>') {
		snprintf(what, sizeof(what), "invalid character %s in local "
		    "part", char_name(cn, sizeof(cn), *ps->p));
		return path_fail(ps, what);
	}
	if (ps->p == ps->end || *ps->p != '@')
		return path_fail(ps, "missing @");
	if (len == 0 || (len == 2 && *start == '"'))
		return path_fail(ps, "empty local part");
	if (*start != '"' && strspn(start, ".") >= len)
		return path_fail(ps, "invalid local part");
	if (len > ADDR_LOCAL_MAX)
		return addr_fail(ps->err, ps->errsize,
		    "local part longer than 64 characters");
	memcpy(a->local, start, len);
	a->local[len] = '\0';
	ps->p++;
	return 0;
}

static int
path_domain(struct pscan *ps, struct addr *a)
{
	const char *start = ps->p;

	if (ps->p < ps->end && *ps->p == '[') {
		while (ps->p < ps->end && *ps->p != ']')
			ps->p++;
		if (ps->p < ps->end)
			ps->p++;
	} else
		while (ps->p < ps->end && *ps->p != '>')
			ps->p++;
	return addr_norm_domain(start, (size_t)(ps->p - start), a->domain,
	    ps->s, ps->len, ps->err, ps->errsize);
}

static int
path_body(struct pscan *ps, struct addr *a)
{
	int angle = 0;

	if (*ps->p == '<') {
		angle = 1;
		ps->p++;
		if (ps->p < ps->end && *ps->p == '>') {
			a->null = 1;
			ps->p++;
			goto tail;
		}
		if (ps->p < ps->end && *ps->p == '@' &&
		    memchr(ps->p, ':', (size_t)(ps->end - ps->p)) != NULL &&
		    path_route(ps) < 0)
			return -1;
	}
	if (path_local(ps, a) < 0 || path_domain(ps, a) < 0)
		return -1;
	if (angle && ps->p == ps->end)
		return path_fail(ps, "unbalanced angle bracket");
	if (angle && *ps->p == '>')
		ps->p++;
tail:
	if (ps->p < ps->end && *ps->p == '>')
		return path_fail(ps, "unbalanced angle bracket");
	if (ps->p != ps->end)
		return path_fail(ps, "trailing garbage after address");
	return 0;
}

int
addr_parse_path_len(const char *s, size_t len, struct addr *a, char *err,
    size_t errsize)
{
	struct pscan ps = { .err = err, .errsize = errsize };

	memset(a, 0, sizeof(*a));
	if (memchr(s, '\0', len) != NULL)
		return addr_fail(err, errsize, "address contains a NUL character");
	if (memchr(s, '\r', len) != NULL || memchr(s, '\n', len) != NULL)
		return addr_fail(err, errsize, "address contains a line break");
	ps.p = s;
	ps.end = s + len;
	while (ps.p < ps.end && addr_is_wsp(*ps.p))
		ps.p++;
	while (ps.end > ps.p && addr_is_wsp(ps.end[-1]))
		ps.end--;
	ps.s = ps.p;
	ps.len = (size_t)(ps.end - ps.p);
	for (const char *p = ps.p; p < ps.end; p++)
		if (addr_is_ctl((unsigned char)*p))
			return addr_fail(err, errsize,
			    "address contains a control character");
	if (ps.len == 0)
		return addr_fail(err, errsize, "empty address");
	if (ps.len + (*ps.s == '<' ? 0 : 2) > ADDR_PATH_MAX)
		return addr_fail(err, errsize, "path longer than 256 characters");
	if (path_body(&ps, a) < 0) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

int
addr_parse_path(const char *s, struct addr *a, char *err, size_t errsize)
{
	return addr_parse_path_len(s, strlen(s), a, err, errsize);
}

/*
 * Canonical local part and key.
 */

/* The local part without quoting, quoted-pairs resolved. */
static size_t
local_content(const char *local, char *out, size_t size)
{
	size_t o = 0;
	int q = 0;

	for (const char *p = local; *p && o + 1 < size; p++) {
		if (*p == '"')
			q = !q;
		else if (q && *p == '\\' && p[1])
			out[o++] = *++p;
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	return o;
}

/* Quotes only when needed: an unquoted dot-string (dots anywhere, as the
 * parsers accept, but not dots alone) stays bare, anything else is one
 * quoted string. */
static void
local_canon(const char *local, char *out, size_t size)
{
	char c[ADDR_LOCAL_MAX + 3];
	size_t n = local_content(local, c, sizeof(c)), o = 0;
	int plain = strspn(c, ".") < n;

	for (size_t i = 0; i < n; i++)
		if (!addr_is_atext((unsigned char)c[i]) && c[i] != '.')
			plain = 0;
	if (plain) {
		xstrlcpy(out, c, size);
		return;
	}
	if (o + 1 < size)
		out[o++] = '"';
	for (size_t i = 0; i < n && o + 3 < size; i++) {
		if (c[i] == '"' || c[i] == '\\')
			out[o++] = '\\';
		out[o++] = c[i];
	}
	if (o + 1 < size)
		out[o++] = '"';
	out[o] = '\0';
}

char *
addr_key(const struct addr *a, char *buf, size_t size)
{
	char local[ADDR_LOCAL_MAX + 3];

	if (size == 0)
		return buf;
	if (a->null) {
		buf[0] = '\0';
		return buf;
	}
	local_canon(a->local, local, sizeof(local));
	str_lower(local);
	snprintf(buf, size, "%s@%s", local, a->domain);
	return buf;
}

int
addr_key_from_string(const char *s, char *key, size_t keysize,
    char *err, size_t errsize)
{
	struct addr a;

	if (addr_parse_path(s, &a, err, errsize) < 0)
		return -1;
	if (a.null)
		return addr_fail(err, errsize, "null address <> not allowed here");
	addr_key(&a, key, keysize);
	return 0;
}
