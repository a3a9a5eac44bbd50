/*
 * authcode — the OAuth2 authorization-code grant with PKCE (RFC 7636, S256)
 * for `smarthostctl oauth` (Google, or --browser).
 *
 * authcode_run() listens on 127.0.0.1:port (0: a port the kernel picks),
 * prints the authorization URL to open and how to forward the port over
 * SSH from a headless host, waits up to timeout seconds for the browser's
 * redirect to http://127.0.0.1:PORT/ with the code and the state it sent,
 * answers the browser with a short page and exchanges the code (with the
 * verifier) at the token endpoint.  Any local user can connect there, so
 * the listener serves several connections at once until the deadline, each
 * with a few seconds to send its request (a silent one cannot stall the
 * wait); requests for other paths get a 404 and requests with a missing or
 * wrong state a 400, and the wait goes on.  Only the redirect with the
 * right state ends it: with the code, or with the provider's error (shown
 * made printable and cut short: it is the provider's text for a
 * terminal).  0 with tok filled, or -1 with a message.
 */
#ifndef SMARTHOST_CTL_AUTHCODE_H
#define SMARTHOST_CTL_AUTHCODE_H

#include "conf.h"
#include "oauth.h"

int	authcode_run(const struct account *, const struct oauth_endpoints *,
	    unsigned port, unsigned timeout, struct oauth_token *tok,
	    char *err, size_t errsize);

#endif
