/*
 * imap — a small IMAP4rev1 client (RFC 3501) over verified TLS, enough
 * for smarthost-return(8) to read one mailbox: LOGIN or AUTHENTICATE
 * XOAUTH2, ID (RFC 2971), CAPABILITY, SELECT, and any other command whose
 * untagged answers the caller parses.
 *
 * TLS is implicit (port 993) and always verified through tls.c; there is
 * no plain-text IMAP.  Every read and write takes the connection's
 * timeout.  Answers are distrusted: a line is at most IMAP_LINE_MAX
 * bytes, a literal at most IMAP_LITERAL_MAX, a response at most
 * IMAP_LITERALS literals; anything larger is a protocol error.
 *
 * imap_cmd() sends one tagged command and hands each untagged response
 * ("* ..." with its literals) to a callback; it returns the tagged
 * status, with the server's text (made printable) in text.  A failure of
 * the connection itself is IMAP_FAIL with the reason in text; the
 * connection is then unusable.  Secrets (the code, a bearer token) exist
 * only in command buffers that are wiped after sending; no message of
 * this module contains one.
 */
#ifndef SMARTHOST_IMAP_H
#define SMARTHOST_IMAP_H

#include <stddef.h>

#define IMAP_LINE_MAX		(1024 * 1024)
#define IMAP_LITERAL_MAX	(64 * 1024 * 1024)
#define IMAP_LITERALS		8
#define IMAP_TEXT_MAX		512	/* a tagged answer's text */

enum imap_status { IMAP_OK, IMAP_NO, IMAP_BAD, IMAP_FAIL };

struct imap;

/* One untagged response: line is the text after "* " with each literal
 * left as its "{N}" marker (NUL-terminated), lit[i] / litlen[i] the
 * literals in order. */
struct imap_resp {
	const char	*line;
	size_t		 len;
	const char	*lit[IMAP_LITERALS];
	size_t		 litlen[IMAP_LITERALS];
	size_t		 nlit;
};

typedef void (*imap_untagged_fn)(const struct imap_resp *, void *arg);

/* Connect to host:port (every address in turn), TLS handshake verified
 * against ca_file (NULL: the system store), read the greeting.  NULL with
 * a message in err ("imap.qq.com:993: certificate verify failed: ..."). */
struct imap *imap_connect(const char *host, unsigned port,
	    const char *ca_file, int timeout_ms, char *err, size_t errsize);
/* LOGOUT (best effort) and free. */
void	imap_close(struct imap *);

/* Send "TAG " + the formatted command; fn (may be NULL) gets every
 * untagged response. */
enum imap_status imap_cmd(struct imap *, imap_untagged_fn fn, void *arg,
	    char *text, size_t textsize, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/* LOGIN with login and secret as quoted strings (a secret holding CR, LF
 * or NUL is refused). */
enum imap_status imap_login(struct imap *, const char *login,
	    const char *secret, char *text, size_t textsize);
/* AUTHENTICATE XOAUTH2 with an initial response (RFC 4959). */
enum imap_status imap_xoauth2(struct imap *, const char *login,
	    const char *token, char *text, size_t textsize);
/* ID ("name" "smarthost" "version" VERSION): some servers (NetEase)
 * refuse SELECT before it. */
enum imap_status imap_id(struct imap *, const char *version, char *text,
	    size_t textsize);
/* Asks CAPABILITY; then imap_has() tells whether the server named cap. */
enum imap_status imap_capability(struct imap *, char *text, size_t textsize);
int	imap_has(const struct imap *, const char *cap);
/* SELECT mailbox (a plain atom or quoted name); *uidvalidity from the
 * server's UIDVALIDITY (0 when it sent none). */
enum imap_status imap_select(struct imap *, const char *mailbox,
	    unsigned long long *uidvalidity, char *text, size_t textsize);
/* "host:port" for messages. */
const char *imap_peer(const struct imap *);

#endif
