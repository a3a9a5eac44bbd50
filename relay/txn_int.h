/*
 * txn_int — the pieces of one transaction that txn.c (the ordinary path)
 * and txn_batch.c (MAIL with pipelined RCPTs and DATA) share.  Not for
 * the rest of the relay, which uses session.h.
 */
#ifndef SMARTHOST_RELAY_TXN_INT_H
#define SMARTHOST_RELAY_TXN_INT_H

#include <stddef.h>

#include "session.h"

/* The first command on a reused session got no reply: the session died
 * idle; closes it and returns 1 if the caller should try another. */
int	txn_mail_retry(struct session *, int code, const struct smtp_reply *,
	    int may_retry);
/* Answers Postfix's MAIL with the provider's reply; a refusal ends the
 * transaction. */
void	txn_mail_answer(struct session *, int code, const struct smtp_reply *);
/* 0 if RCPT arg (count recipients so far) passes the local checks, with
 * the path to forward; else the local refusal in why. */
int	txn_rcpt_refusal(struct session *, const char *arg, unsigned count,
	    char *path, size_t psize, char *why, size_t wsize);
/* Answers Postfix's RCPT path with the provider's reply; 0 (the session
 * goes on). */
int	txn_rcpt_answer(struct session *, const char *path, int code,
	    const struct smtp_reply *);
/* The provider's reply to DATA: 354 streams the message. */
int	txn_data_started(struct session *, int code, const struct smtp_reply *);
/* MAIL and what Postfix pipelined behind it in one upstream write;
 * 1 if the caller should retry MAIL on another session. */
int	txn_mail_pipelined(struct session *, const char *env,
	    const char *params, int may_retry);

#endif
