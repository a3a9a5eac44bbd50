/*
 * upstream_int — what pool.c needs of upstream.c beyond upstream.h: how
 * to open, check and close one session, and the session object itself.
 * Nothing outside the client side (pool.c, upstream.c) includes this.
 *
 * upstream_open() runs connect, TLS (implicit or STARTTLS), EHLO and AUTH
 * to a ready session or fails with a synthetic reply and a reason.
 * upstream_check() is the first command on a pooled session before it is
 * reused: RSET, and a session that does not answer 250 is dead.
 */
#ifndef SMARTHOST_RELAY_UPSTREAM_INT_H
#define SMARTHOST_RELAY_UPSTREAM_INT_H

#include <time.h>

#include "conf.h"
#include "preset.h"
#include "tls.h"
#include "upstream.h"

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
};

struct upstream *upstream_open(const struct upstream_params *,
	    struct smtp_reply *r, enum upstream_fail *why);
/* 0 if the session answered RSET with 250, else -1 (then close it). */
int	upstream_check(struct upstream *);
/* 1 if the session can carry another transaction. */
int	upstream_usable(const struct upstream *);
/* Sends QUIT when the session is healthy, then frees everything. */
void	upstream_close(struct upstream *);
/* A new reference to the session's newest TLS session, or NULL. */
struct tls_session *upstream_tls_session(struct upstream *);
int	upstream_tls_resumed(const struct upstream *);

/* The pool's bookkeeping, kept in the session. */
struct upstream_pooling {
	void		*owner;		/* the pool's account entry */
	struct upstream	*next;		/* idle list */
	long long	 idle_since;	/* ms, CLOCK_MONOTONIC */
	unsigned	 msgs;		/* transactions carried */
	int		 reused;
};
struct upstream_pooling *upstream_pooling(struct upstream *);

#endif
