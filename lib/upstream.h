/*
 * upstream — one authenticated SMTP client session to a provider: the
 * relay's client side (relay/pool.c shares sessions between its threads)
 * and `smarthostctl probe` both go through it.  Callers never see a
 * socket, an SSL object or a secret.
 *
 * A struct upstream is one connected, TLS-verified, authenticated session
 * (or a failure that says why); upstream_int.h opens and closes one.
 * Every reply is a struct smtp_reply: the upstream's code, enhanced status
 * code and text (multi-line replies joined with "; "), or a synthetic
 * reply made by the client side for a local failure (connect, TLS, AUTH
 * refused, timeout), always with a 4xx/5xx code, an enhanced code and a
 * text naming the host ("smtp.163.com[1.2.3.4]:465: certificate verify
 * failed: hostname mismatch").  `local` tells which.
 */
#ifndef SMARTHOST_UPSTREAM_H
#define SMARTHOST_UPSTREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "route.h"

#define SMTP_REPLY_TEXT_MAX 1024

struct smtp_reply {
	int	code;			/* 250, 451, 553, ... */
	char	enhanced[16];		/* "5.7.1" or "" if the peer gave none */
	char	text[SMTP_REPLY_TEXT_MAX];	/* printable, without code */
	int	local;			/* made by smarthost, not the provider */
	char	host[256];		/* who said it: "smtp.163.com" */
};

/* Why a session could not be had; lets the server side choose the
 * enhanced code and whether to cool the account off. */
enum upstream_fail {
	UPF_NONE,
	UPF_CONNECT,		/* DNS, refused, timeout: 4.4.x */
	UPF_TLS,		/* handshake, verification, no STARTTLS: 4.7.x */
	UPF_AUTH,		/* code refused: 4.7.x (or 5.7.x per policy) */
	UPF_LIMIT,		/* pool bound reached and wait timed out */
	UPF_PROTOCOL,		/* garbage from the provider */
};

struct upstream;

/* capabilities learned from EHLO after TLS and AUTH */
#define UPCAP_PIPELINING	0x01
#define UPCAP_8BITMIME		0x02
#define UPCAP_SMTPUTF8		0x04
#define UPCAP_SIZE		0x08
#define UPCAP_DSN		0x10

/* Statistics for logs and `smarthostctl status`. */
int	upstream_reused(const struct upstream *);	/* not new for this transaction */
unsigned upstream_caps(const struct upstream *);
unsigned long upstream_max_size(const struct upstream *);

/* One transaction.  Each returns the reply's code (0 on a local failure
 * where r is synthetic).  Pipelining, where the provider offers it, is
 * the client side's business. */
int	upstream_mail(struct upstream *, const char *sender_path,
	    const char *params, struct smtp_reply *r);
int	upstream_rcpt(struct upstream *, const char *rcpt_path,
	    const char *params, struct smtp_reply *r);
int	upstream_data_start(struct upstream *, struct smtp_reply *r);
/* Message lines as received from Postfix, CRLF-terminated, already
 * dot-stuffed as on the wire; the client side passes them through. */
int	upstream_data_write(struct upstream *, const char *buf, size_t len);
/* Sends "." and reads the final reply.  No reply: code 0, r->local set,
 * and the outcome is unknown (the caller answers 4xx and closes). */
int	upstream_data_end(struct upstream *, struct smtp_reply *r);
int	upstream_rset(struct upstream *, struct smtp_reply *r);

/* Replies read on this session since the pool handed it out: 0 after a
 * failed first command means the provider never saw the transaction
 * (a pooled session that died while idle), so it may be retried on a
 * new session. */
unsigned upstream_replied(const struct upstream *);

/* RFC 2920 pipelining, when upstream_caps() has UPCAP_PIPELINING: MAIL,
 * each RCPT and optionally DATA go out in one write, then the replies
 * are read in order into cmd[i].reply / cmd[i].code (0 with the
 * session's synthetic failure for each reply that never came).  DATA
 * answered 354 leaves the session in the message body, as
 * upstream_data_start() does.  Returns the number of replies read. */
enum upstream_verb { UPV_MAIL, UPV_RCPT, UPV_DATA };
struct upstream_cmd {
	enum upstream_verb verb;
	const char	*path;		/* "<addr>" for MAIL and RCPT */
	const char	*params;	/* may be NULL */
	int		 code;
	struct smtp_reply reply;
};
size_t	upstream_pipeline(struct upstream *, struct upstream_cmd *cmd,
	    size_t n);

#endif
