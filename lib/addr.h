/*
 * addr — RFC 5321 paths and RFC 5322 mailboxes.
 *
 * addr_parse_path() reads what follows "MAIL FROM:" / "RCPT TO:" as a
 * milter or the relay sees it: "<local@domain>", "<>", or a bare
 * "local@domain" (Postfix's milter macros strip nothing, sendmail's may),
 * without ESMTP parameters (the caller splits those off).  Blanks around
 * it are ignored; a source route "<@a,@b:u@c>" is accepted and ignored
 * (RFC 5321 4.1.2).  A bare path counts with the brackets it lacks
 * against ADDR_PATH_MAX.
 *
 * addr_parse_mailboxes() reads a From:/Reply-To:/Sender: header value:
 * a mailbox-list with display names, quoted strings, comments (nested,
 * anywhere white space may go), angle addresses and the obsolete forms
 * RFC 5322 section 4 asks readers to accept (dots in display names,
 * routes, white space around '@' and '.', empty list elements).  Groups
 * ("undisclosed-recipients:;") and "<>" are refused.  Folding (a line
 * break followed by a blank) is unfolded; ADDR_HEADER_MAX applies to the
 * value as given.  A comment is never taken as a display name.
 *
 * Both refuse NUL, any other line break, control characters and
 * over-long input.  Messages are one line, no trailing period, suitable
 * after "553 5.1.7 "; those about syntax quote the input (printable,
 * '"' and '\' escaped, cut at 64 characters), e.g.
 *	unbalanced quote in "\"Bob <bob@example.com>"
 * Bytes from 0x80 up count as atom text (RFC 6531/6532 UTF-8); IDN
 * domains are converted to A-labels.  Unquoted local parts may hold dots
 * anywhere ("taro..x.@docomo.ne.jp" is deployed), but not dots alone.
 *
 * A parsed address keeps the local part as written (quoted local parts
 * keep their quotes) and the domain normalised by domain_normalize().
 * addr_key() is the lookup key every table uses: the local part in its
 * canonical form (quoted only if it must be: "Bob"@x -> bob@x), ASCII
 * lower-cased, "@", normalised domain — so "Boss@163.COM" and
 * "boss@163.com" are the same key, as in Postfix lookup tables.  A key
 * parses back to itself in a header, and as a path when it fits one.
 */
#ifndef SMARTHOST_ADDR_H
#define SMARTHOST_ADDR_H

#include <stddef.h>

#include "domain.h"

#define ADDR_LOCAL_MAX	64		/* RFC 5321 4.5.3.1.1 */
#define ADDR_PATH_MAX	256		/* RFC 5321 4.5.3.1.3, with <> */
#define ADDR_KEY_MAX	(ADDR_LOCAL_MAX + 1 + DOMAIN_MAX + 1)
#define ADDR_HEADER_MAX	998		/* RFC 5322 2.1.1 line limit */
#define ADDR_DISPLAY_MAX 512

struct addr {
	int	null;			/* "<>": local and domain empty */
	char	local[ADDR_LOCAL_MAX + 3];	/* as written, quotes kept */
	char	domain[DOMAIN_MAX + 1];		/* normalised */
};

struct mailbox {
	char	display[ADDR_DISPLAY_MAX];	/* as written, unquoted; "" if none */
	struct addr addr;
};

/* 0 on success; -1 with a one-line message in err (no trailing period,
 * suitable after "5.1.7 "). */
int	addr_parse_path(const char *s, struct addr *a, char *err, size_t errsize);
/* The same for len bytes that may hold a NUL (refused as such): for
 * text read off the wire. */
int	addr_parse_path_len(const char *s, size_t len, struct addr *a,
	    char *err, size_t errsize);

/* Parse a header value into at most max mailboxes; *n is how many the
 * value holds (it may exceed max: the caller refuses that).  0 on
 * success; -1 with a message in err. */
int	addr_parse_mailboxes(const char *value, struct mailbox *mb, size_t max,
	    size_t *n, char *err, size_t errsize);
int	addr_parse_mailboxes_len(const char *value, size_t len,
	    struct mailbox *mb, size_t max, size_t *n, char *err,
	    size_t errsize);

/* The lookup key "local@domain" (local part lower-cased), or "" for the
 * null address.  Returns buf. */
char	*addr_key(const struct addr *a, char *buf, size_t size);

/* Parse and normalise an address written in a configuration file
 * (bare "local@domain"); fills key (ADDR_KEY_MAX).  0 or -1 with err. */
int	addr_key_from_string(const char *s, char *key, size_t keysize,
	    char *err, size_t errsize);

/* Format a mailbox for a header: "key" without a display name, else
 * "display <key>".  The display name is written bare when it is atoms
 * separated by single spaces, else quoted with '"' and '\' escaped;
 * RFC 2047 encoded words stay bare and only the runs of words between
 * them are quoted.  The result parses back to the same display and key.
 * Returns -1 (buf "") if it does not fit, the key is empty or the display
 * name holds a control character other than TAB. */
int	addr_format_mailbox(const char *display, const char *addr_key,
	    char *buf, size_t size);

#endif
