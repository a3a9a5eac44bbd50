/*
 * store — the relay's limits-store (smarthost.conf(5)): with "file" the
 * limits stay in limit.c's local state; with redis://HOST:PORT[/DB] the
 * daily counts, cool-offs (limit.c) and provider sessions (pool.c) are
 * shared through lib/redislimit.h with every relay of that Redis, each
 * named by its host name and listen address.  The Redis password is the
 * secrets file's line "redis PASSWORD".  While Redis is unreachable the
 * relay uses its share M/N (limits-share) of every account's
 * max-connections (at least 1) and daily limits, and keeps it as a bound
 * besides the shared ones while Redis settles after an outage
 * (redislimit_settling()).  The xoauth2 accounts'
 * tokens go through the same Redis when that is safe (tokenshare.h).
 */
#ifndef SMARTHOST_RELAY_STORE_H
#define SMARTHOST_RELAY_STORE_H

#include <stddef.h>

#include "config.h"

struct relay;

/* The store of cfg for rl (after its limits and pool exist): 0, or -1
 * with err (a bad URL; the configuration check refuses those). */
int	store_open(struct relay *, const struct config *, char *err,
	    size_t errsize);
/* A reload: the new password and share (a new URL, CA file or lease:
 * restart). */
void	store_reconfigure(struct relay *, const struct config *);
/* After the pool and the limits are freed. */
void	store_close(struct relay *);

/* For `smarthostctl status`: "" with the file, else
 * " limits_store=URL limits_store_up=1|0 limits_store_down_since=T
 * limits_store_back_since=T limits_store_settle_until=T limits_share=M/N"
 * (back_since and settle_until 0 unless it settles after an outage), and
 * why it is unreachable in err ("" if it is not). */
void	store_status(struct relay *, char *buf, size_t size, char *err,
	    size_t errsize);

#endif
