/*
 * oauth_int — between the access-token cache (oauth_cache.c) and the
 * token sets shared with other relays (oauth_share.c); not for other
 * modules.
 */
#ifndef SMARTHOST_OAUTH_INT_H
#define SMARTHOST_OAUTH_INT_H

#include "oauth.h"

/* Saves a token set as the account's token file: 0, or -1 with err. */
typedef int oauth_save_fn(const void *arg, const struct oauth_token *,
	    char *err, size_t errsize);

/* With a share set: a shared token set of account newer than tok
 * (obtained later) replaces tok: 1; 0 when there is none (or no share),
 * -1 when the share is unreachable. */
int	oauth_share_newer(const char *account, struct oauth_token *tok);
/* Refreshes tok once for every relay of the share (without one: just
 * oauth_refresh()), saving the result with save: under the share's lock,
 * or by taking the set another relay refreshed meanwhile (then
 * *refreshed is 0).  0, or -1 with err. */
int	oauth_share_refresh(const char *account,
	    const struct oauth_endpoints *, struct oauth_token *tok,
	    oauth_save_fn *save, const void *arg, int *refreshed,
	    char *err, size_t errsize);

#endif
