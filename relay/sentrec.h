/*
 * sentrec — the relay's side of the sent log (lib/sentlog.h): what one
 * transaction gathers for it, and the rows written when it ends.
 *
 * A transaction the provider answered MAIL for gives one row per outcome
 * Postfix was told: the recipients the provider accepted, with the
 * outcome of the message ("sent" with the provider's reply after the
 * dot, or "bounced" / "deferred" with the relay's answer, also when DATA
 * itself was refused); the recipients refused with 5xx ("bounced") and
 * with 4xx ("deferred"), each with the last refusal; or, when MAIL
 * itself was refused, one row without recipients.  Accepted recipients
 * of a transaction that ended before DATA got an answer get no row
 * (Postfix sends the message again).  Message-ID and From: come from the
 * header section as it streams (hdrcap.h); the queue id from XFORWARD
 * IDENT when Postfix sends it, else from Postfix's Received:.
 *
 * A write that fails (the database busy past its 50 ms timeout, full,
 * broken) is logged and skipped: the mail goes on.  The main thread
 * calls sentrec_maintain() about once a second: it opens the log when
 * sent-log-days is not 0 (retrying hourly after a failure), checkpoints
 * the WAL (the writes never do: SENTLOG_NOCHECKPOINT), and prunes it at
 * once and then hourly, on a handle of its own.  sent-log-days = 0 on
 * reload stops the writes.
 */
#ifndef SMARTHOST_RELAY_SENTREC_H
#define SMARTHOST_RELAY_SENTREC_H

#include <time.h>

#include "answer.h"
#include "conf.h"
#include "hdrcap.h"
#include "upstream.h"

struct session;
struct sentrec;

/* Per transaction (in struct txn; all zero at MAIL). */
struct sentrec_txn {
	int		 handed;	/* the provider answered MAIL */
	int		 data;		/* the message body was streamed */
	int		 data_refused;	/* the code DATA itself got, if not 354 */
	struct hdrcap	 hdr;
	char		*bounced, *deferred;	/* refused recipients */
	char		*accepted;
	char		 bounce_reply[ANSWER_MAX + 1];
	char		 defer_reply[ANSWER_MAX + 1];
	char		 reply[ANSWER_MAX + 1];	/* the provider's to DATA */
};

struct sentrec *sentrec_new(void);
void	sentrec_free(struct sentrec *);
/* Main thread: open when enabled, prune at start and hourly. */
void	sentrec_maintain(struct sentrec *, const struct conf *, time_t now);

/* The relay answered RCPT path (bracketed) with code and line. */
void	sentrec_rcpt(struct sentrec_txn *, const char *path, int code,
	    const char *line);
/* DATA itself refused: the relay answered code and line. */
void	sentrec_data_refused(struct sentrec_txn *, int code, const char *line);
/* The provider's reply to the end of DATA. */
void	sentrec_data_reply(struct sentrec_txn *, const struct smtp_reply *);
/* At the end of the transaction (txn_end): write its rows, free what it
 * gathered. */
void	sentrec_txn_end(struct sentrec *, struct session *, const char *status);

#endif
