/*
 * auth — SMTP AUTH on the client side: which SASL mechanism to use and
 * the lines to send for it.
 *
 * auth_choose() takes the account's mechanisms in order of preference
 * (or, when the account names none, the preset's default followed by
 * PLAIN and LOGIN) and returns the first the server offered in its EHLO
 * AUTH line and this module implements.  auth_line() builds the AUTH
 * command (step 0) and the answer to each 334 challenge (steps 1, 2, ...)
 * with OpenSSL's base64 encoder; the raw credentials exist only in a
 * buffer that is wiped before it returns.  The line it fills holds the
 * encoded secret: the caller wipes it after sending and never logs it.
 *
 * Mechanisms are rows of a table in auth.c; the token mechanism XOAUTH2
 * is one more row whose "secret" is the bearer token.  Without an account
 * list, auth_choose() never falls back from a token mechanism to a
 * password one or back.
 */
#ifndef SMARTHOST_AUTH_H
#define SMARTHOST_AUTH_H

#include <stddef.h>

#include "conf.h"

struct auth_mech;

/* NULL if no usable mechanism is offered. */
const struct auth_mech *auth_choose(const struct strlist *want,
	    const char *preset_default, const char *offered);
const char *auth_mech_name(const struct auth_mech *);
/* 1 if the mechanism's secret is a bearer token (XOAUTH2). */
int	auth_mech_token(const struct auth_mech *);
/* RFC 4954: an AUTH command line may be 12288 octets long; Microsoft's
 * bearer tokens need more than a command line's usual 512. */
#define AUTH_LINE_MAX	12288

/* "PLAIN LOGIN XOAUTH2": what this module can do, for messages. */
const char *auth_supported(void);

/* The CRLF-terminated line for step (0 = the AUTH command).  0, or -1
 * with err set when the mechanism has no answer for that step or the
 * line does not fit. */
int	auth_line(const struct auth_mech *, unsigned step, const char *login,
	    const char *secret, char *line, size_t size, char *err,
	    size_t errsize);

#endif
