/*
 * addr_header — RFC 5322 header values (see addr.h): mailbox lists and
 * formatting a mailbox for a rewritten From:.
 *
 * A small lexer (atoms, quoted strings, domain literals, specials; white
 * space and nested comments skipped but noted) runs under a
 * recursive-descent reader of the mailbox-list grammar, with the obsolete
 * forms RFC 5322 section 4 tells readers to accept.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "addr_int.h"
#include "util.h"

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
	return addr_fail_in(lx->err, lx->errsize, what, lx->v, lx->vlen);
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
		while (lx->p < lx->end && addr_is_wsp(*lx->p)) {
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
	if (addr_is_atext((unsigned char)*lx->p)) {
		while (lx->p < lx->end && addr_is_atext((unsigned char)*lx->p))
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
	    addr_echo(e, lx->t.s, lx->t.len > 32 ? 32 : lx->t.len));
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
		return addr_fail(lx->err, lx->errsize,
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
	return addr_norm_domain(dom, n, a->domain, lx->v, lx->vlen, lx->err,
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
			return addr_fail(lx->err, lx->errsize,
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
		return addr_fail(lx->err, lx->errsize, "no address in header value");
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
		return addr_fail(err, errsize, "header value longer than 998 "
		    "characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return addr_fail(err, errsize, "header value contains a "
			    "NUL character");
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			c = (unsigned char)s[++i];
		if (c == '\r' || c == '\n') {
			if (c == '\n' && i + 1 < len && addr_is_wsp(s[i + 1]))
				continue;
			return addr_fail(err, errsize, "header value contains a "
			    "line break");
		}
		if (addr_is_ctl(c) && c != '\t')
			return addr_fail(err, errsize, "header value contains a "
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
		if (!(addr_is_atext((unsigned char)s[i]) ||
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
		else if (!addr_is_atext((unsigned char)s[i]))
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
		if (addr_is_ctl((unsigned char)*p) && *p != '\t')
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
