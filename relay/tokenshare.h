/*
 * tokenshare — the relay's OAuth2 tokens shared with the other relays of
 * its limits-store (lib/redistoken.h), so that each xoauth2 account's
 * token is refreshed once for all of them and the refresh token a
 * provider rotates reaches every relay (lib/oauth.h, "Sharing").
 *
 * Only when lib/redistoken.h's redistoken_safe() allows it (a Redis
 * password, and rediss:// or a loopback address); otherwise each relay
 * refreshes from its own token file as with limits-store = file, and says
 * so once in the log (when it has an xoauth2 account) and in every
 * `smarthostctl status`.  A token set that does not open with this
 * relay's password is ignored and logged once per account.  A reload
 * brings the new password (and with it the decision) from the next call.
 */
#ifndef SMARTHOST_RELAY_TOKENSHARE_H
#define SMARTHOST_RELAY_TOKENSHARE_H

#include <stddef.h>

#include "config.h"
#include "redislimit.h"

struct tokenshare;

/* Through r (url), for the relay on host listening on listen, with cfg's
 * password (secrets line "redis PASSWORD"): sets the oauth share when
 * allowed. */
struct tokenshare *tokenshare_open(struct redislimit *r, const char *url,
	    const char *host, const char *listen, const struct config *cfg);
/* A reload: cfg's password, the decision taken anew. */
void	tokenshare_reconfigure(struct tokenshare *, const struct config *cfg);
/* Unsets the oauth share and frees (while no token is asked for). */
void	tokenshare_close(struct tokenshare *);
/* For `smarthostctl status`: " oauth_shared=1", or " oauth_shared=0
 * oauth_not_shared=\"WHY\"" (without WHY if buf is too short for it). */
void	tokenshare_status(struct tokenshare *, char *buf, size_t size);

#endif
