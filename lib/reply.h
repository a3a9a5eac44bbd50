/*
 * reply — SMTP replies from an untrusted peer, checked line by line, and
 * the synthetic replies the client side makes for local failures.
 *
 * reply_line() takes each line as read (without CRLF) and refuses what a
 * conforming server never sends: a line longer than REPLY_LINE_MAX, more
 * than REPLY_LINES_MAX lines, a code that is not three digits in 200..559,
 * a separator other than ' ' or '-', or a continuation line whose code
 * differs from the first.  The text is made printable, multi-line texts
 * are joined with "; " and cut to fit struct smtp_reply; an enhanced
 * status code (RFC 3463) whose class matches the reply's is moved from the
 * text to r->enhanced.
 */
#ifndef SMARTHOST_REPLY_H
#define SMARTHOST_REPLY_H

#include <stddef.h>

#include "upstream.h"
#include "util.h"

#define REPLY_LINE_MAX	2048	/* bytes, CRLF excluded */
#define REPLY_LINES_MAX	100

struct reply_parse {
	struct smtp_reply *r;
	int		 lines;
	size_t		 textlen;
};

/* Start a new reply into r from host. */
void	reply_begin(struct reply_parse *, struct smtp_reply *r,
	    const char *host);
/* 1: that was the last line; 0: more follow; -1: malformed, err says
 * why.  If text is not NULL, *text and *textlen point at the raw text of
 * this line after the code and separator, for EHLO keywords. */
int	reply_line(struct reply_parse *, const char *line, size_t len,
	    const char **text, size_t *textlen, char *err, size_t errsize);
/* A synthetic reply: local = 1. */
void	reply_local(struct smtp_reply *r, const char *host, int code,
	    const char *enhanced, const char *fmt, ...) SH_PRINTF(5, 6);

#endif
