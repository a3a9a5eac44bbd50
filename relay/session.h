/*
 * session — what the relay's server side (server.c: the dialogue) and its
 * transaction handling (txn.c: MAIL, RCPT, DATA) share about one client
 * connection.  Internal to the relay's server side.
 */
#ifndef SMARTHOST_RELAY_SESSION_H
#define SMARTHOST_RELAY_SESSION_H

#include <time.h>

#include "addr.h"
#include "answer.h"
#include "clientio.h"
#include "route.h"
#include "sentrec.h"
#include "server.h"
#include "util.h"

#define CMD_MAX		1024	/* command line, with CRLF */
#define DATA_CHUNK	4096	/* message bytes handed upstream at once */

struct txn {
	int		 active;
	struct config	*cfg;
	struct route	 route;
	const struct account *acct;
	struct upstream	*up;
	char		 sender[ADDR_PATH_MAX + 1];	/* printable */
	int		 rewrite;
	int		 reserved;	/* holds a limits reservation */
	int		 reused;
	int		 used;		/* a provider session took part */
	unsigned	 rcpts;		/* accepted by the provider */
	int		 code;		/* last reply code of the txn */
	char		 reply[ANSWER_MAX + 1];	/* last non-2xx reply */
	char		 broken[ANSWER_MAX + 1];	/* upstream lost: answer */
	struct timespec	 t0;		/* MAIL: transaction-timeout runs */
	struct sentrec_txn rec;		/* for the sent log */
};

struct session {
	struct relay	*relay;
	struct cio	 io;
	const char	*client;
	int		 helo;
	unsigned	 errors;
	unsigned	 timeout;	/* client-timeout: each read, write */
	unsigned	 txn_timeout, session_timeout;
	long long	 t0;		/* session start (mono_ms) */
	char		 qid[64];	/* XFORWARD IDENT */
	struct txn	 t;
};

/* server.c: queue a reply ("250 2.0.0 Ok" from code and text, or a whole
 * line); inside a transaction the code is remembered for its log line.
 * Both return 0. */
int	server_say(struct session *, int code, const char *fmt, ...)
	    SH_PRINTF(3, 4);
int	server_say_line(struct session *, const char *line);

/* txn.c: the transaction commands; txn_data returns -1 when the
 * connection must close (no reply after the final dot). */
int	txn_mail(struct session *, const char *arg);
int	txn_rcpt(struct session *, const char *arg);
int	txn_data(struct session *, const char *arg);
/* End the transaction (if any) with status "sent", "deferred",
 * "bounced" or "aborted": log it, settle the limits, give the provider
 * session back (reusable: may be kept for the next message). */
void	txn_end(struct session *, const char *status, int reusable);
/* The account's message size limit, 0 if unknown. */
unsigned long txn_max_size(const struct account *);

#endif
