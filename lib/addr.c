/*
 * addr — see addr.h.
 *
 * The path parser scans characters (RFC 5321 has no comments or folding);
 * the header parser runs a small lexer (atoms, quoted strings, domain
 * literals, specials; white space and nested comments skipped but noted)
 * under a recursive-descent reader of the mailbox-list grammar, with the
 * obsolete forms RFC 5322 section 4 tells readers to accept.  Error
 * messages that concern the syntax quote the offending input, printable
 * and cut to ECHO_MAX characters, so they can go into an SMTP reply.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "util.h"

#define ECHO_MAX	64
#define ECHO_SIZE	(ECHO_MAX * 2 + 1)

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Printable copy of untrusted input for a message, '"' and '\' escaped,
 * at most ECHO_MAX input characters. */
static const char *
echo(char *buf, const char *s, size_t len)
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

static int
fail_in(char *err, size_t errsize, const char *what, const char *s,
    size_t len)
{
	char e[ECHO_SIZE];

	snprintf(err, errsize, "%s in \"%s\"", what, echo(e, s, len));
	return -1;
}

static int
fail(char *err, size_t errsize, const char *what)
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
static int
norm_domain(const char *s, size_t len, char *out, const char *all,
    size_t alllen, char *err, size_t errsize)
{
	char dom[ADDR_HEADER_MAX + 1];

	if (len == 0)
		return fail_in(err, errsize, "empty domain", all, alllen);
	if (len >= sizeof(dom))
		return fail(err, errsize, "domain longer than 253 characters");
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
	return fail_in(ps->err, ps->errsize, what, ps->s, ps->len);
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
		if (is_ctl((unsigned char)*p)) {
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
		while (ps->p < ps->end && (is_atext(*ps->p) || *ps->p == '.'))
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
		return fail(ps->err, ps->errsize,
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
	return norm_domain(start, (size_t)(ps->p - start), a->domain,
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
		return fail(err, errsize, "address contains a NUL character");
	if (memchr(s, '\r', len) != NULL || memchr(s, '\n', len) != NULL)
		return fail(err, errsize, "address contains a line break");
	ps.p = s;
	ps.end = s + len;
	while (ps.p < ps.end && is_wsp(*ps.p))
		ps.p++;
	while (ps.end > ps.p && is_wsp(ps.end[-1]))
		ps.end--;
	ps.s = ps.p;
	ps.len = (size_t)(ps.end - ps.p);
	for (const char *p = ps.p; p < ps.end; p++)
		if (is_ctl((unsigned char)*p))
			return fail(err, errsize,
			    "address contains a control character");
	if (ps.len == 0)
		return fail(err, errsize, "empty address");
	if (ps.len + (*ps.s == '<' ? 0 : 2) > ADDR_PATH_MAX)
		return fail(err, errsize, "path longer than 256 characters");
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
		if (!is_atext((unsigned char)c[i]) && c[i] != '.')
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
		return fail(err, errsize, "null address <> not allowed here");
	addr_key(&a, key, keysize);
	return 0;
}

/*
 * RFC 5322 header values: the lexer.
 */

enum tok_type { T_END, T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct tok {
	enum tok_type	 type;
	const char	*s;		/* raw text, quotes included */
	size_t		 len;
	int		 ws;		/* white space or a comment before it */
};

struct lex {
	const char	*p, *end;
	const char	*v;		/* the unfolded value, for messages */
	size_t		 vlen;
	struct tok	 t;		/* current token */
	char		*err;
	size_t		 errsize;
};

static int
lex_fail(struct lex *lx, const char *what)
{
	return fail_in(lx->err, lx->errsize, what, lx->v, lx->vlen);
}

/* Skip a comment (nested, with quoted-pairs); lx->p is on '('. */
static int
lex_comment(struct lex *lx)
{
	int depth = 0;

	for (; lx->p < lx->end; lx->p++) {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		else if (*lx->p == '(')
			depth++;
		else if (*lx->p == ')' && --depth == 0) {
			lx->p++;
			return 0;
		}
	}
	return lex_fail(lx, "unbalanced parenthesis");
}

/* Scan to the closing delimiter of a quoted string or domain literal. */
static int
lex_delimited(struct lex *lx, char close, const char *what)
{
	const char *p = lx->p + 1;

	for (; p < lx->end && *p != close; p++)
		if (*p == '\\' && p + 1 < lx->end)
			p++;
		else if (close == ']' && *p == '[')
			break;
	if (p >= lx->end || *p != close)
		return lex_fail(lx, what);
	lx->t.type = close == '"' ? T_QSTR : T_DLIT;
	lx->t.len = (size_t)(p + 1 - lx->p);
	lx->p = p + 1;
	return 0;
}

static int
lex_next(struct lex *lx)
{
	lx->t.ws = 0;
	for (;;) {
		while (lx->p < lx->end && is_wsp(*lx->p)) {
			lx->p++;
			lx->t.ws = 1;
		}
		if (lx->p >= lx->end || *lx->p != '(')
			break;
		if (lex_comment(lx) < 0)
			return -1;
		lx->t.ws = 1;
	}
	lx->t.s = lx->p;
	lx->t.len = 1;
	if (lx->p >= lx->end) {
		lx->t.type = T_END;
		lx->t.len = 0;
		return 0;
	}
	switch (*lx->p) {
	case '"':
		return lex_delimited(lx, '"', "unbalanced quote");
	case '[':
		return lex_delimited(lx, ']', "unbalanced square bracket");
	case ']':
		return lex_fail(lx, "unbalanced square bracket");
	case ')':
		return lex_fail(lx, "unbalanced parenthesis");
	}
	if (is_atext((unsigned char)*lx->p)) {
		while (lx->p < lx->end && is_atext((unsigned char)*lx->p))
			lx->p++;
		lx->t.type = T_ATOM;
		lx->t.len = (size_t)(lx->p - lx->t.s);
		return 0;
	}
	lx->t.type = T_SPECIAL;
	lx->p++;
	return 0;
}

static int
is_special(const struct tok *t, char c)
{
	return t->type == T_SPECIAL && *t->s == c;
}

static int
lex_unexpected(struct lex *lx)
{
	char e[ECHO_SIZE], what[ECHO_SIZE + 32];

	snprintf(what, sizeof(what), "unexpected \"%s\"",
	    echo(e, lx->t.s, lx->t.len > 32 ? 32 : lx->t.len));
	return lex_fail(lx, what);
}

/*
 * RFC 5322 header values: the grammar.
 */

/* A run of words and dots: a display name or a local part, not known
 * until the token after it. */
struct words {
	char	 display[ADDR_DISPLAY_MAX];
	size_t	 dlen;
	char	 local[ADDR_LOCAL_MAX + 3];
	size_t	 llen;
	size_t	 nwords;
	int	 dtoolong, ltoolong;
	int	 spaced;		/* two words with only white space between */
	int	 touching;		/* two words with nothing between */
};

static void
words_display(struct words *w, const struct tok *t, int first)
{
	const char *s = t->s, *end = t->s + t->len;

	if (t->ws && !first && w->dlen + 1 < sizeof(w->display))
		w->display[w->dlen++] = ' ';
	else if (t->ws && !first)
		w->dtoolong = 1;
	if (t->type == T_QSTR) {
		s++;
		end--;
	}
	for (; s < end; s++) {
		if (t->type == T_QSTR && *s == '\\')
			s++;
		if (w->dlen + 1 >= sizeof(w->display)) {
			w->dtoolong = 1;
			break;
		}
		w->display[w->dlen++] = *s;
	}
	w->display[w->dlen] = '\0';
}

static void
words_local(struct words *w, const struct tok *t, enum tok_type prev)
{
	if (t->type != T_SPECIAL && (prev == T_ATOM || prev == T_QSTR)) {
		if (t->ws)
			w->spaced = 1;
		else
			w->touching = 1;
	}
	if (t->type != T_SPECIAL)
		w->nwords++;
	if (w->llen + t->len > ADDR_LOCAL_MAX) {
		w->ltoolong = 1;
		return;
	}
	memcpy(w->local + w->llen, t->s, t->len);
	w->llen += t->len;
	w->local[w->llen] = '\0';
}

static int
words_read(struct lex *lx, struct words *w)
{
	enum tok_type prev = T_END;
	int first = 1;

	memset(w, 0, sizeof(*w));
	while (lx->t.type == T_ATOM || lx->t.type == T_QSTR ||
	    is_special(&lx->t, '.')) {
		words_display(w, &lx->t, first);
		words_local(w, &lx->t, prev);
		prev = lx->t.type;
		first = 0;
		if (lex_next(lx) < 0)
			return -1;
	}
	return 0;
}

/* The words just read are a local part: check and copy it. */
static int
words_to_local(struct lex *lx, const struct words *w, struct addr *a,
    int angle)
{
	if (w->nwords == 0 && w->llen > 0)
		return lex_fail(lx, "invalid local part");
	if (w->nwords == 0 || strcmp(w->local, "\"\"") == 0)
		return lex_fail(lx, "empty local part");
	if (w->spaced && !angle)
		return lex_fail(lx, "display name without angle brackets");
	if (w->spaced || w->touching)
		return lex_fail(lx, "invalid local part");
	if (w->ltoolong)
		return fail(lx->err, lx->errsize,
		    "local part longer than 64 characters");
	memcpy(a->local, w->local, w->llen + 1);
	return 0;
}

/* After '@': dot-atom (obs: CFWS around the dots) or domain literal. */
static int
hdr_domain(struct lex *lx, struct addr *a)
{
	char dom[ADDR_HEADER_MAX + 1];
	size_t n = 0;

	if (lex_next(lx) < 0)
		return -1;
	if (lx->t.type == T_DLIT) {
		memcpy(dom, lx->t.s, lx->t.len);
		n = lx->t.len;
		if (lex_next(lx) < 0)
			return -1;
	} else
		while ((lx->t.type == T_ATOM && (n == 0 || dom[n - 1] == '.')) ||
		    is_special(&lx->t, '.')) {
			memcpy(dom + n, lx->t.s, lx->t.len);
			n += lx->t.len;
			if (lex_next(lx) < 0)
				return -1;
		}
	return norm_domain(dom, n, a->domain, lx->v, lx->vlen, lx->err,
	    lx->errsize);
}

/* obs-route "@a,@b:" inside angle brackets: skipped. */
static int
hdr_route(struct lex *lx)
{
	int hop = 0;

	for (;;) {
		if (is_special(&lx->t, ':') && hop)
			return lex_next(lx);
		if (is_special(&lx->t, '>') || lx->t.type == T_END)
			return lex_fail(lx, hop == 1 ? "empty local part" :
			    "malformed source route");
		if (is_special(&lx->t, '@'))
			hop++;
		else if (!(lx->t.type == T_ATOM || lx->t.type == T_DLIT ||
		    is_special(&lx->t, '.') || is_special(&lx->t, ',')))
			return lex_fail(lx, "malformed source route");
		if (lex_next(lx) < 0)
			return -1;
	}
}

/* lx->t is '<'. */
static int
hdr_angle(struct lex *lx, struct addr *a)
{
	struct words w;

	if (lex_next(lx) < 0)
		return -1;
	if (is_special(&lx->t, '>'))
		return lex_fail(lx, "empty address");
	if (is_special(&lx->t, '@') && hdr_route(lx) < 0)
		return -1;
	if (words_read(lx, &w) < 0)
		return -1;
	if (lx->t.type == T_END)
		return lex_fail(lx, "unbalanced angle bracket");
	if (!is_special(&lx->t, '@')) {
		if (is_special(&lx->t, '>'))
			return lex_fail(lx, "missing @");
		return lex_unexpected(lx);
	}
	if (words_to_local(lx, &w, a, 1) < 0 || hdr_domain(lx, a) < 0)
		return -1;
	if (lx->t.type == T_END)
		return lex_fail(lx, "unbalanced angle bracket");
	if (!is_special(&lx->t, '>'))
		return lex_unexpected(lx);
	return lex_next(lx);
}

static int
hdr_mailbox(struct lex *lx, struct mailbox *mb)
{
	struct words w;

	memset(mb, 0, sizeof(*mb));
	if (words_read(lx, &w) < 0)
		return -1;
	if (is_special(&lx->t, '<')) {
		if (w.dtoolong)
			return fail(lx->err, lx->errsize,
			    "display name longer than 511 characters");
		memcpy(mb->display, w.display, w.dlen + 1);
		return hdr_angle(lx, &mb->addr);
	}
	if (is_special(&lx->t, '@')) {
		if (words_to_local(lx, &w, &mb->addr, 0) < 0)
			return -1;
		return hdr_domain(lx, &mb->addr);
	}
	if (is_special(&lx->t, ':'))
		return lex_fail(lx, "group syntax not allowed");
	if (is_special(&lx->t, '>'))
		return lex_fail(lx, "unbalanced angle bracket");
	if (w.nwords > 0 && (lx->t.type == T_END || is_special(&lx->t, ',')))
		return lex_fail(lx, "missing @");
	return lex_unexpected(lx);
}

static int
hdr_list(struct lex *lx, struct mailbox *mb, size_t max, size_t *n)
{
	struct mailbox m;

	if (lex_next(lx) < 0)
		return -1;
	for (;;) {
		while (is_special(&lx->t, ','))		/* obs-mbox-list */
			if (lex_next(lx) < 0)
				return -1;
		if (lx->t.type == T_END)
			break;
		if (hdr_mailbox(lx, &m) < 0)
			return -1;
		if (*n < max)
			mb[*n] = m;
		(*n)++;
		if (is_special(&lx->t, ';'))
			return lex_fail(lx, "group syntax not allowed");
		if (is_special(&lx->t, '>'))
			return lex_fail(lx, "unbalanced angle bracket");
		if (lx->t.type != T_END && !is_special(&lx->t, ','))
			return lex_fail(lx, "trailing garbage after address");
	}
	if (*n == 0)
		return fail(lx->err, lx->errsize, "no address in header value");
	return 0;
}

/* Unfold into v (ADDR_HEADER_MAX + 1): CRLF or LF followed by white
 * space is folding and goes; any other CR or LF, NUL or control refuses. */
static int
hdr_unfold(const char *s, size_t len, char *v, size_t *vlen, char *err,
    size_t errsize)
{
	size_t o = 0;

	if (len > ADDR_HEADER_MAX)
		return fail(err, errsize, "header value longer than 998 "
		    "characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return fail(err, errsize, "header value contains a "
			    "NUL character");
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			c = (unsigned char)s[++i];
		if (c == '\r' || c == '\n') {
			if (c == '\n' && i + 1 < len && is_wsp(s[i + 1]))
				continue;
			return fail(err, errsize, "header value contains a "
			    "line break");
		}
		if (is_ctl(c) && c != '\t')
			return fail(err, errsize, "header value contains a "
			    "control character");
		v[o++] = (char)c;
	}
	v[o] = '\0';
	*vlen = o;
	return 0;
}

int
addr_parse_mailboxes_len(const char *value, size_t len, struct mailbox *mb,
    size_t max, size_t *n, char *err, size_t errsize)
{
	char v[ADDR_HEADER_MAX + 1];
	struct lex lx = { .err = err, .errsize = errsize };

	*n = 0;
	if (hdr_unfold(value, len, v, &lx.vlen, err, errsize) < 0)
		return -1;
	lx.v = lx.p = v;
	lx.end = v + lx.vlen;
	if (hdr_list(&lx, mb, max, n) < 0) {
		*n = 0;
		return -1;
	}
	return 0;
}

int
addr_parse_mailboxes(const char *value, struct mailbox *mb, size_t max,
    size_t *n, char *err, size_t errsize)
{
	return addr_parse_mailboxes_len(value, strlen(value), mb, max, n, err,
	    errsize);
}

/*
 * Formatting.
 */

struct out {
	char	*buf;
	size_t	 size, len;
	int	 full;
};

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->size) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Words of atext separated by single spaces: writable bare. */
static int
phrase_plain(const char *s, size_t n)
{
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(is_atext((unsigned char)s[i]) ||
		    (s[i] == ' ' && s[i + 1] != ' ')))
			return 0;
	return 1;
}

static void
out_phrase(struct out *o, const char *s, size_t n)
{
	if (phrase_plain(s, n)) {
		out_put(o, s, n);
		return;
	}
	out_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out_put(o, "\\", 1);
		out_put(o, s + i, 1);
	}
	out_put(o, "\"", 1);
}

/* RFC 2047 encoded-word: =?charset?B|Q?text?= with no '?' or space in
 * charset and text and nothing a phrase cannot hold. */
static int
is_encoded_word(const char *s, size_t n)
{
	size_t i = 2, q = 0;

	if (n < 8 || n > 75 || strncmp(s, "=?", 2) != 0 ||
	    strncmp(s + n - 2, "?=", 2) != 0)
		return 0;
	for (; i < n - 2; i++) {
		if (s[i] == '?')
			q++;
		else if (!is_atext((unsigned char)s[i]))
			return 0;
		if (s[i] == '?' && q == 1 && (i == 2 || i + 2 >= n - 2 ||
		    strchr("BbQq", s[i + 1]) == NULL || s[i + 2] != '?'))
			return 0;
	}
	return q == 2;
}

/* Encoded words go out bare; the runs of other words between them are
 * each one phrase, quoted if they need it. */
static void
out_display(struct out *o, const char *d)
{
	const char *run = NULL, *p = d, *w;
	size_t n;

	for (;;) {
		w = p;
		while (*p && *p != ' ')
			p++;
		n = (size_t)(p - w);
		if (is_encoded_word(w, n)) {
			if (run) {
				out_phrase(o, run, (size_t)(w - 1 - run));
				out_put(o, " ", 1);
				run = NULL;
			}
			out_put(o, w, n);
			if (*p)
				out_put(o, " ", 1);
		} else if (!run)
			run = w;
		if (*p == '\0')
			break;
		p++;
	}
	if (run)
		out_phrase(o, run, (size_t)(p - run));
}

int
addr_format_mailbox(const char *display, const char *key, char *buf,
    size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (size == 0 || key[0] == '\0')
		return -1;
	buf[0] = '\0';
	for (const char *p = display; *p; p++)
		if (is_ctl((unsigned char)*p) && *p != '\t')
			return -1;
	if (display[0] == '\0')
		out_put(&o, key, strlen(key));
	else {
		out_display(&o, display);
		out_put(&o, " <", 2);
		out_put(&o, key, strlen(key));
		out_put(&o, ">", 1);
	}
	if (o.full) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
