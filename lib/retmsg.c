/*
 * retmsg — Message-IDs a notice or reply refers to (see retmsg.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retmsg.h"
#include "util.h"

/* A line of msg: [*p, end of line) with *next at the following line. */
static size_t
line_at(const char *msg, size_t len, size_t p, size_t *next)
{
	const char *nl = memchr(msg + p, '\n', len - p);
	size_t e = nl ? (size_t)(nl - msg) : len;

	*next = nl ? e + 1 : len;
	if (e > p && msg[e - 1] == '\r')
		e--;
	return e - p;
}

/* Offset of the body: after the first empty line (len if none). */
static size_t
body_start(const char *msg, size_t len)
{
	size_t p = 0, next, n;

	while (p < len) {
		n = line_at(msg, len, p, &next);
		if (n == 0)
			return next;
		p = next;
	}
	return len;
}

/* The unfolded value of the first header field name in the lines
 * [from, to) of msg (allocated), or NULL.  prefix: also accept lines
 * starting with white space or '>' (quoted headers in a body). */
static char *
field_value(const char *msg, size_t from, size_t to, const char *name,
    int quoted, size_t *found_at)
{
	size_t nl = strlen(name), p = from, next, n, k;
	char *v = NULL;
	size_t vl = 0;

	while (p < to) {
		const char *l = msg + p;

		n = line_at(msg, to, p, &next);
		k = 0;
		while (quoted && k < n && (l[k] == ' ' || l[k] == '\t' ||
		    l[k] == '>'))
			k++;
		if (n - k > nl && strncasecmp(l + k, name, nl) == 0 &&
		    l[k + nl] == ':') {
			v = xstrndup(l + k + nl + 1, n - k - nl - 1);
			vl = strlen(v);
			/* continuation lines */
			while (next < to && (msg[next] == ' ' ||
			    msg[next] == '\t')) {
				size_t nn, m = line_at(msg, to, next, &nn);

				v = xreallocarray(v, vl + m + 2, 1);
				v[vl++] = ' ';
				memcpy(v + vl, msg + next, m);
				vl += m;
				v[vl] = '\0';
				next = nn;
			}
			if (found_at)
				*found_at = next;
			return v;
		}
		p = next;
	}
	return NULL;
}

/* Each "<id>" in s, in order (reverse: last first), to fn. */
static int
each_id(const char *s, int reverse, enum retmsg_kind kind,
    int (*fn)(enum retmsg_kind, const char *, void *), void *arg)
{
	const char *ids[64], *p = s, *lt, *gt;
	size_t lens[64], n = 0;
	char id[RETMSG_ID_MAX + 1];
	int rc;

	while (n < 64 && (lt = strchr(p, '<')) != NULL &&
	    (gt = strchr(lt + 1, '>')) != NULL) {
		const char *inner;

		/* "<a <b@c>": the ID is the innermost */
		while ((inner = memchr(lt + 1, '<', (size_t)(gt - lt - 1))))
			lt = inner;
		ids[n] = lt + 1;
		lens[n++] = (size_t)(gt - lt - 1);
		p = gt + 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = reverse ? n - 1 - i : i;

		if (lens[j] == 0 || lens[j] > RETMSG_ID_MAX ||
		    strcspn(ids[j], " \t\r\n") < lens[j])
			continue;
		memcpy(id, ids[j], lens[j]);
		id[lens[j]] = '\0';
		if ((rc = fn(kind, id, arg)) != 0)
			return rc;
	}
	return 0;
}

static int
from_is_daemon(const char *v)
{
	const char *p = strrchr(v, '<'), *at;
	size_t n;

	p = p ? p + 1 : v;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((at = strchr(p, '@')) == NULL)
		return 0;
	n = (size_t)(at - p);
	return (n == 13 && strncasecmp(p, "mailer-daemon", n) == 0) ||
	    (n == 10 && strncasecmp(p, "postmaster", n) == 0);
}

int
retmsg_is_notice(const char *msg, size_t len)
{
	size_t hend = body_start(msg, len);
	char *v;
	int notice = 0;

	if ((v = field_value(msg, 0, hend, "Content-Type", 0, NULL))) {
		const char *p = v + strspn(v, " \t");

		notice |= strncasecmp(p, "multipart/report", 16) == 0;
		free(v);
	}
	if ((v = field_value(msg, 0, hend, "Return-Path", 0, NULL))) {
		char *p = v + strspn(v, " \t");

		notice |= strncmp(p, "<>", 2) == 0;
		free(v);
	}
	if ((v = field_value(msg, 0, hend, "X-Failed-Recipients", 0, NULL))) {
		notice = 1;
		free(v);
	}
	if ((v = field_value(msg, 0, hend, "From", 0, NULL))) {
		notice |= from_is_daemon(v);
		free(v);
	}
	return notice;
}

/* Every Message-ID line of the body, in order. */
static int
body_ids(const char *msg, size_t len, size_t from,
    int (*fn)(enum retmsg_kind, const char *, void *), void *arg)
{
	size_t at = from;
	char *v;
	int rc;

	while (at < len && (v = field_value(msg, at, len, "Message-ID", 1,
	    &at)) != NULL) {
		rc = each_id(v, 0, RETMSG_DSN, fn, arg);
		free(v);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
retmsg_scan(const char *msg, size_t len,
    int (*fn)(enum retmsg_kind, const char *, void *), void *arg)
{
	size_t hend = body_start(msg, len);
	int notice = retmsg_is_notice(msg, len), rc = 0;
	enum retmsg_kind k = notice ? RETMSG_DSN : RETMSG_REPLY;
	char *v;

	if (notice && (rc = body_ids(msg, len, hend, fn, arg)) != 0)
		return rc;
	if ((v = field_value(msg, 0, hend, "In-Reply-To", 0, NULL))) {
		rc = each_id(v, 0, k, fn, arg);
		free(v);
		if (rc != 0)
			return rc;
	}
	if ((v = field_value(msg, 0, hend, "References", 0, NULL))) {
		rc = each_id(v, 1, k, fn, arg);
		free(v);
	}
	return rc;
}

const char *
retmsg_kind_name(enum retmsg_kind k)
{
	return k == RETMSG_DSN ? "dsn" : "reply";
}
