/*
 * addr — RFC 5321 paths and RFC 5322 mailboxes.
 *
 * addr_parse_path() reads what follows "MAIL FROM:" / "RCPT TO:" as a
 * milter or the relay sees it: "<local@domain>", "<>", or a bare
 * "local@domain" (Postfix's milter macros strip nothing, sendmail's may).
 * addr_parse_mailboxes() reads a From:/Reply-To:/Sender: header value:
 * a mailbox-list with display names, quoted strings, comments (nested),
 * angle addresses, groups are refused.  Both refuse CR, LF, NUL and
 * over-long input with a precise message naming what is wrong.
 *
 * A parsed address keeps the local part as written (quoted local parts
 * keep their quotes) and the domain normalised by domain_normalize().
 * addr_key() is the lookup key every table uses: local part lower-cased,
 * "@", normalised domain — so "Boss@163.COM" and "boss@163.com" are the
 * same key, as in Postfix lookup tables.
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

/* Format a mailbox for a header: display name quoted when it needs to be
 * (RFC 5322 specials), encoded words kept as they are.  Returns -1 if it
 * does not fit. */
int	addr_format_mailbox(const char *display, const char *addr_key,
	    char *buf, size_t size);

#endif
