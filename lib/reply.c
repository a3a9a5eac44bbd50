/*
 * reply — see reply.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reply.h"
#include "util.h"

void
reply_begin(struct reply_parse *p, struct smtp_reply *r, const char *host)
{
	memset(r, 0, sizeof(*r));
	xstrlcpy(r->host, host ? host : "", sizeof(r->host));
	p->r = r;
	p->lines = 0;
	p->textlen = 0;
}

static size_t
digits(const char *s, size_t len, size_t max)
{
	size_t n = 0;

	while (n < len && n <= max && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

/* Length of an enhanced code "C.SSS.DDD" of class c at s, followed by a
 * space or the end; 0 if there is none. */
static size_t
enhanced_len(const char *s, size_t len, char c)
{
	size_t i, n;

	if (len < 5 || s[0] != c || s[1] != '.')
		return 0;
	i = 2;
	if ((n = digits(s + i, len - i, 3)) == 0 || n > 3)
		return 0;
	i += n;
	if (i >= len || s[i] != '.')
		return 0;
	i++;
	if ((n = digits(s + i, len - i, 3)) == 0 || n > 3)
		return 0;
	i += n;
	if (i < len && s[i] != ' ')
		return 0;
	return i;
}

static void
append_text(struct reply_parse *p, const char *s, size_t len)
{
	struct smtp_reply *r = p->r;
	size_t room = sizeof(r->text) - p->textlen;

	if (len == 0 || room <= 3)
		return;
	if (p->textlen > 0) {
		memcpy(r->text + p->textlen, "; ", 3);
		p->textlen += 2;
		room -= 2;
	}
	str_printable(r->text + p->textlen, room, s, len);
	p->textlen += strlen(r->text + p->textlen);
}

static int
check_code(struct reply_parse *p, const char *line, size_t len,
    char *err, size_t errsize)
{
	int code;

	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || !isdigit((unsigned char)line[2])) {
		snprintf(err, errsize, "reply without a valid code");
		return -1;
	}
	if (len > 3 && line[3] != ' ' && line[3] != '-') {
		snprintf(err, errsize, "reply code not followed by space or "
		    "hyphen");
		return -1;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	if (p->lines > 0 && code != p->r->code) {
		snprintf(err, errsize, "reply code changes from %d to %d in "
		    "a multi-line reply", p->r->code, code);
		return -1;
	}
	p->r->code = code;
	return 0;
}

int
reply_line(struct reply_parse *p, const char *line, size_t len,
    const char **text, size_t *textlen, char *err, size_t errsize)
{
	struct smtp_reply *r = p->r;
	const char *t;
	size_t tl, el;

	if (len > REPLY_LINE_MAX) {
		snprintf(err, errsize, "reply line longer than %d bytes",
		    REPLY_LINE_MAX);
		return -1;
	}
	if (p->lines >= REPLY_LINES_MAX) {
		snprintf(err, errsize, "reply longer than %d lines",
		    REPLY_LINES_MAX);
		return -1;
	}
	if (check_code(p, line, len, err, errsize) == -1)
		return -1;
	t = len > 4 ? line + 4 : "";
	tl = len > 4 ? len - 4 : 0;
	if (text) {
		*text = t;
		*textlen = tl;
	}
	el = enhanced_len(t, tl, line[0]);
	if (p->lines == 0 && el > 0 && el < sizeof(r->enhanced))
		memcpy(r->enhanced, t, el);
	if (el > 0 && el == strlen(r->enhanced) &&
	    memcmp(t, r->enhanced, el) == 0) {
		t += el;
		tl -= el;
		for (; tl > 0 && *t == ' '; t++, tl--)
			;
	}
	append_text(p, t, tl);
	p->lines++;
	return len > 3 && line[3] == '-' ? 0 : 1;
}

void
reply_local(struct smtp_reply *r, const char *host, int code,
    const char *enhanced, const char *fmt, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->code = code;
	r->local = 1;
	xstrlcpy(r->enhanced, enhanced ? enhanced : "", sizeof(r->enhanced));
	xstrlcpy(r->host, host ? host : "", sizeof(r->host));
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}
