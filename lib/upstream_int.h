/*
 * upstream_int — the client side's own view of a session, beyond
 * upstream.h: for the code that opens and owns sessions (the relay's
 * pool, smarthostctl probe) and for upstream.c and upstream_open.c.
 *
 * For the owner: how to open, check and close one session.  upstream_open()
 * (upstream_open.c) runs connect, TLS (implicit or STARTTLS), EHLO and
 * AUTH to a ready session or fails with a synthetic reply and a reason.
 * upstream_check() looks at a pooled session before it is reused: one
 * the provider closed or spoke on unasked is dead; one whose last
 * transaction ended cleanly (a reply to the final dot, or RSET) is in
 * the initial state (RFC 5321 4.1.1.4) and needs no command at all;
 * any other gets RSET, and a session that does not answer 250 is dead.
 *
 * For upstream_open.c: the session object and the up_*() primitives of
 * upstream.c (bytes, replies, commands, failures) it is built from.
 */
#ifndef SMARTHOST_UPSTREAM_INT_H
#define SMARTHOST_UPSTREAM_INT_H

#include <time.h>

#include "conf.h"
#include "reply.h"
#include "preset.h"
#include "tls.h"
#include "upstream.h"

/* What opening a session saw, step by step, for people
 * (smarthostctl probe); the relay passes none. */
struct upstream_trace {
	enum upstream_fail stage;	/* UPF_NONE: got as far as AUTH */
	char		 peer[400];	/* "host[addr]:port" last tried */
	int		 connect_errno;	/* why the last connect failed */
	int		 tls_done;
	char		 tls[128];	/* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
	struct tls_cert	 cert;
	char		 ehlo[1024];	/* keywords of the last EHLO */
	char		 auth_mech[32];	/* tried, "" if none */
	struct smtp_reply auth_reply;	/* the provider's last answer to it */
};

struct upstream_params {
	const char	*account;	/* name, for messages */
	const char	*host;
	unsigned	 port;
	enum tls_mode	 tls;
	const char	*login;
	const char	*secret;	/* NULL: none configured */
	const struct strlist *auth;	/* account's mechanisms, may be empty */
	const char	*default_auth;	/* preset's, may be NULL */
	struct tls_ctx	*tls_ctx;
	const struct tls_session *resume;	/* may be NULL */
	unsigned	 connect_timeout, command_timeout, data_timeout;
	struct upstream_trace *trace;	/* NULL, or filled while opening */
};

struct upstream *upstream_open(const struct upstream_params *,
	    struct smtp_reply *r, enum upstream_fail *why);
/* 0 if the session looks alive (and, when a transaction may be open,
 * answered RSET with 250), else -1 (then close it).  No round trip
 * after a clean transaction: a session that dies unnoticed shows as a
 * failure of the first command, with no reply (upstream_replied()). */
int	upstream_check(struct upstream *);
/* 1 if the session can carry another transaction. */
int	upstream_usable(const struct upstream *);
/* Sends QUIT when the session is healthy, then frees everything. */
void	upstream_close(struct upstream *);
/* One of the TLS sessions the server gave this session, newest first
 * (the caller owns it), or NULL when none is left. */
struct tls_session *upstream_tls_session(struct upstream *);
int	upstream_tls_resumed(const struct upstream *);

/* The pool's bookkeeping, kept in the session. */
struct upstream_pooling {
	void		*owner;		/* the pool's account entry */
	struct upstream	*next;		/* idle list */
	long long	 idle_since;	/* ms, CLOCK_MONOTONIC */
	unsigned	 msgs;		/* transactions carried */
	int		 reused;
	char		 lease[128];	/* shared session lease id, or "" */
};
struct upstream_pooling *upstream_pooling(struct upstream *);

/* ---- the session object, shared by upstream.c and upstream_open.c ---- */

#define UPCAP_STARTTLS	0x100		/* internal: not in upstream_caps() */
#define UPCAP_AUTH	0x200
#define UP_RBUF		(REPLY_LINE_MAX + 512)
#define UP_WBUF		16384
#define UP_CMD_MAX	2048
#define UP_CHECK_TIMEOUT 15		/* seconds for RSET on a pooled session */
#define UP_QUIT_TIMEOUT	5

enum up_state {
	UPS_CONNECT, UPS_TLS, UPS_GREETING, UPS_EHLO, UPS_STARTTLS, UPS_AUTH,
	UPS_READY, UPS_RSET, UPS_MAIL, UPS_RCPT, UPS_DATA, UPS_BODY, UPS_DOT,
	UPS_QUIT, UPS_BROKEN,
};

enum up_timeout { TO_CONNECT, TO_COMMAND, TO_DATA, TO_CHECK, TO_QUIT };

struct upstream {
	enum up_state	 state;
	int		 fd;
	struct tls_conn	*tls;
	char		 host[256];
	char		 peer[400];	/* "host[addr]:port" */
	unsigned	 timeouts[TO_QUIT + 1];	/* seconds */
	char		 rbuf[UP_RBUF];
	size_t		 rpos, rlen;
	char		 wbuf[UP_WBUF];
	size_t		 wlen;
	unsigned	 caps;
	unsigned long	 max_size;
	char		 auth_offered[256];
	enum upstream_fail broken;	/* UPF_NONE while healthy */
	int		 open_txn;	/* MAIL accepted, no dot reply or RSET yet */
	unsigned	 replies;	/* replies read since upstream_check() */
	struct smtp_reply fail;		/* why it broke */
	struct upstream_pooling pooling;
	struct upstream_trace *trace;	/* while opening; may be NULL */
};

/* The current state's timeout. */
int	up_timeout_ms(const struct upstream *);
/* Marks the session broken with a synthetic reply (copied to r if not
 * NULL). */
void	up_break(struct upstream *, struct smtp_reply *r, enum upstream_fail,
	    const char *enhanced, const char *fmt, ...) SH_PRINTF(5, 6);
/* "554 5.7.1 text": a provider's reply quoted in a synthetic one. */
const char *up_said(const struct smtp_reply *, char *buf, size_t size);
/* Writes all of buf now: 0, or -1 with the session broken. */
int	up_write(struct upstream *, const char *buf, size_t len,
	    struct smtp_reply *r);
/* Reads one reply: its code, or 0 with the session broken (r synthetic).
 * ehlo: collect capabilities. */
int	up_reply(struct upstream *, struct smtp_reply *r, int ehlo);
/* Sends a command (without CRLF) in state st and reads its reply. */
int	up_command(struct upstream *, enum up_state st, struct smtp_reply *r,
	    const char *fmt, ...) SH_PRINTF(4, 5);

#endif
