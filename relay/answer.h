/*
 * answer — what the relay answers Postfix when the provider (or the
 * relay's own client side) has spoken.
 *
 * A provider's reply reaches Postfix with its code and enhanced code and
 * its text prefixed by the host that said it:
 *   553 5.0.0 smtp.163.com said: 553 Mail from must equal authorized user
 * A reply without an enhanced code (or with one of the wrong class) gets
 * X.0.0 of its own class.  A synthetic reply (the client side's, for a
 * connect, TLS or AUTH failure) already names the host and is passed with
 * its own text.
 *
 * answer_is_quota() recognises the providers' "slow down" and quota
 * replies (shared/providers.md: Gmail 550 5.4.5, NetEase MI:SFQ, RP:QRC,
 * RP:RCL, MI:STC, HL:ICC, Microsoft SubmissionQuotaExceeded): the relay
 * defers those (4.7.1) and cools the account off instead of bouncing.
 * It reads only the code, the enhanced code and the diagnostic that
 * opens the text, never an address the provider echoes; a reply with an
 * addressing status (X.1.Y) is never one.
 */
#ifndef SMARTHOST_RELAY_ANSWER_H
#define SMARTHOST_RELAY_ANSWER_H

#include <stddef.h>

#include "upstream.h"

/* Longest reply line the relay writes, without CRLF. */
#define ANSWER_MAX 900

/* The provider's reply as it goes to Postfix (code, enhanced, text). */
void	answer_relayed(const struct smtp_reply *, char *buf, size_t size);
/* The same words under another code: "451 4.7.1 HOST said: 550 ...;
 * SUFFIX".  enhanced must be of code's class or ""; suffix may be NULL. */
void	answer_recoded(const struct smtp_reply *, int code,
	    const char *enhanced, const char *suffix, char *buf, size_t size);
/* Non-zero for a provider's quota or rate-limit reply. */
int	answer_is_quota(const struct smtp_reply *);
/* The reply's enhanced code if it is well-formed and of the reply's
 * class, else "4.0.0" / "5.0.0" ("2.0.0" for 2xx, "" otherwise). */
const char *answer_enhanced(const struct smtp_reply *, char *buf,
	    size_t size);

#endif
