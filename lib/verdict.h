/*
 * verdict — the milter's outbound decision as pure functions, so that
 * smarthost-milter and "smarthostctl route --from" reach the same verdict
 * with the same reply for the same inputs (see smarthost-milter(8)).
 *
 * The steps, in the milter's order:
 *   verdict_recipient()  at each RCPT outside local-domains: may the
 *                        client use an account at all (SASL login or
 *                        internal-networks), is the address ASCII;
 *   verdict_envelope()   at the first outbound RCPT: SMTPUTF8 (the
 *                        providers offer none), the route (bad address,
 *                        null sender, no route), the account's
 *                        allowed-users, the provider's sender rule;
 *   verdict_from()       at the end of the message: exactly one From:
 *                        with exactly one mailbox;
 *   verdict_alignment()  the DMARC prediction (align.h) under [milter]
 *                        dmarc.
 * Each step's action comes from the [milter] section; a refusal fills a
 * struct verdict with the SMTP reply (5xx, or 451 with the 4.x.x twin
 * when the action is tempfail) naming the address, the relay.map line and
 * the fix.  Nothing here talks to an MTA or logs.
 */
#ifndef SMARTHOST_VERDICT_H
#define SMARTHOST_VERDICT_H

#include <stddef.h>

#include "addr.h"
#include "align.h"
#include "config.h"
#include "route.h"
#include "util.h"

/* What a step decided.  J_CONTINUE: go on with the next step. */
enum judgement { J_CONTINUE, J_ACCEPT, J_REJECT, J_TEMPFAIL };

struct verdict {
	char		 rcode[4], xcode[8];
	char		 text[1024];
	const char	*reason;	/* for the log line; NULL = none */
};

/* Who sends, as the MTA tells the milter. */
struct verdict_client {
	const char	*sender;	/* MAIL FROM argument as received */
	const char	*route_err;	/* route_lookup()'s message */
	const char	*auth;		/* SASL login, "" for none; NULL:
					 * unknown, the allowed-users step
					 * is skipped */
	const char	*addr;		/* client address, "" if local */
	int		 smtputf8;	/* MAIL FROM had SMTPUTF8 */
};

/* The outcome of a finding under a configured action (enum action). */
enum judgement verdict_act(int action);

/* A reply with a 5xx code, or 451 and the 4.x.x twin when temp. */
void	verdict_reply(struct verdict *, int temp, const char *code,
	    const char *x5, const char *fmt, ...) SH_PRINTF(5, 6);

/* "relay.map line 4", or "the implicit route of account X". */
const char *verdict_maploc(const struct map_entry *, char *buf, size_t size);

/* An outbound recipient rcpt (as the MTA gives it): J_REJECT with the
 * reply (550 5.7.1) when the client is neither authenticated (cl->auth
 * empty or NULL) nor internal, or (553 5.6.7) when rcpt is not ASCII;
 * else J_CONTINUE. */
enum judgement verdict_recipient(const struct verdict_client *, int internal,
	    const char *rcpt, struct verdict *);

/* The envelope steps for a route_lookup() result r. */
enum judgement verdict_envelope(const struct conf *, const struct route *r,
	    const struct verdict_client *, struct verdict *);

/* 0 with *out set when nfrom is 1 and from names exactly one mailbox;
 * else -1 with the reply in v: verdict_act(conf->from_header) is then
 * the outcome. */
int	verdict_from(const struct conf *, const struct route *r, size_t nfrom,
	    const char *from, struct mailbox *out, struct verdict *v);

/* The alignment step for align_check()'s result al on the input in. */
enum judgement verdict_alignment(const struct conf *, const struct route *r,
	    const struct align_input *in, const struct align_result *al,
	    struct verdict *);

#endif
