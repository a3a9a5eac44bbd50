/*
 * redislimit — the relay's limits shared by several relays through one
 * Redis (limits-store = redis://HOST:PORT[/DB] in smarthost.conf(5)).
 *
 * Keys (ACCOUNT lowercased):
 *   smarthost:day:ACCOUNT:YYYYMMDD  hash, per relay "m:RELAY" (messages
 *        counted or reserved) and "r:RELAY" (recipients), absolute values
 *        written by that relay; expires at the day's reset time.  The
 *        day's totals are the sums over relays, so a relay that writes
 *        its values again after Redis lost them (a restart without
 *        persistence) counts nothing twice.
 *   smarthost:cool:ACCOUNT  the cool-off reason, expiring when it ends.
 *   smarthost:sessions:ACCOUNT  sorted set of session leases, member
 *        "RELAY#N", score the lease's end (ms, Redis's clock).
 *   smarthost:want:ACCOUNT  the relay last refused a lease (1 s).
 * Checks that must be atomic (reserve a message under the daily limit,
 * take a lease under max-connections) are Lua scripts.
 *
 * One connection, one call at a time; every call (connection, TLS
 * handshake, command and reply) is bounded by the timeout given to
 * redislimit_new().  hiredis encodes the commands and parses the replies;
 * the bytes go over a socket of net.c, through tls.c for rediss://, so
 * that a certificate that does not verify is one more reason for Redis
 * to be unreachable ("certificate verify failed: ...").  A failed call marks Redis
 * unreachable: calls then return -1 at once, without waiting, until a
 * reconnection succeeds (tried at most every second, the delay doubling
 * up to 30 s; the renewal thread tries too).  Each successful
 * (re)connection increments redislimit_epoch(), so that callers can write
 * their state again.  The renewal thread extends the leases this process
 * holds every lease/3 seconds (and, holding none, pings Redis, so that a
 * connection lost to a restart is noticed even while idle); each
 * reconnection first adds them all back, those taken while Redis was
 * unreachable included.
 *
 * A reconnection that follows a time unreachable (not the first
 * connection of a process that started with Redis up) opens a settling
 * window (redislimit_settling()): Redis may have come back empty and
 * hold only the part of the relays already back.  Every other relay
 * notices the outage within lease/3 and reconnects at most
 * REDISLIMIT_BACKOFF_MAX seconds (its backoff) plus lease/3 after Redis
 * is back, and writes its state within REDISLIMIT_RESYNC seconds of
 * that; so the window lasts REDISLIMIT_BACKOFF_MAX + lease +
 * REDISLIMIT_RESYNC seconds, during which callers keep their local share
 * as a bound as well.  Its start is logged with the reconnection, its end
 * once, by the first redislimit_settling() call after it.
 *
 * Functions return -1 when Redis is unreachable (the caller falls back to
 * its local limits), other values as documented.
 */
#ifndef SMARTHOST_REDISLIMIT_H
#define SMARTHOST_REDISLIMIT_H

#include <stddef.h>
#include <time.h>

#define REDISLIMIT_BACKOFF_MAX	30	/* s: the longest backoff */
#define REDISLIMIT_RESYNC	5	/* s: callers write state again */

struct redislimit;

/* url: redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB] (TLS with the
 * server's certificate verified against ca_file, NULL or "": the system
 * store, and its name against HOST); relay: this relay's stable name (its
 * share of the day's counts is kept under it); password may be NULL;
 * share names the fallback in the log ("1/2").  Tries to connect once
 * (a failure is logged, not returned); NULL only for a bad URL or CA file
 * (err says why). */
struct redislimit *redislimit_new(const char *url, const char *ca_file,
	    const char *relay, const char *password, const char *share,
	    unsigned lease_seconds, unsigned timeout_ms, char *err,
	    size_t errsize);
void	redislimit_free(struct redislimit *);
/* The local share ("1/2") named in the log while Redis is unreachable. */
void	redislimit_set_share(struct redislimit *, const char *share);
/* A reloaded password (NULL: none); used from the next connection. */
void	redislimit_set_password(struct redislimit *, const char *password);
const char *redislimit_url(const struct redislimit *);

/* 1 reachable (as far as the last call knows), else 0 with the time it
 * became unreachable in *since and why in err. */
int	redislimit_up(struct redislimit *, time_t *since, char *err,
	    size_t errsize);
/* The same without waiting for a call in progress (no err, no since). */
int	redislimit_reachable(const struct redislimit *);
/* Ask Redis now (0, or -1: unreachable), e.g. before reporting. */
int	redislimit_ping(struct redislimit *);
/* The number of successful connections so far. */
unsigned long redislimit_epoch(struct redislimit *);
/* 1 if now is within the settling window after a reconnection that
 * followed an outage, with the reconnection's time in *since and the
 * window's end in *until; else 0 (the first call at or after the end
 * logs it).  Lock-free: may be called under the caller's locks. */
int	redislimit_settling(struct redislimit *, time_t now, time_t *since,
	    time_t *until);

/* Set this relay's message count of account's day to mine + 1 if the
 * day's total with it stays within daily (0: no limit).  1 done, 0 the
 * limit is reached, -1; *total is the day's total (with it if done). */
int	redislimit_reserve(struct redislimit *, const char *account, long day,
	    time_t expire_at, unsigned daily, unsigned mine,
	    unsigned *total);
/* Write this relay's counts of account's day (msgs with its
 * reservations). 0 or -1. */
int	redislimit_put(struct redislimit *, const char *account, long day,
	    time_t expire_at, unsigned msgs, unsigned rcpts);
/* The day's totals over every relay: 0 or -1. */
int	redislimit_get(struct redislimit *, const char *account, long day,
	    unsigned *msgs, unsigned *rcpts);

/* Cool account off for seconds on every relay (0 or -1). */
int	redislimit_cool_set(struct redislimit *, const char *account,
	    unsigned seconds, const char *reason);
/* 1 cooling (with its remaining seconds and reason), 0 not, -1. */
int	redislimit_cool_get(struct redislimit *, const char *account,
	    unsigned *seconds, char *reason, size_t reasonsize);
int	redislimit_cool_clear(struct redislimit *, const char *account);

/* Take a session lease of account if fewer than max live: 1 (its id in
 * id), 0 all taken, -1 unreachable: the lease (its id in id) is then held
 * all the same, so that the session the caller opens on its local share
 * counts for the other relays once Redis is back. */
int	redislimit_lease_get(struct redislimit *, const char *account,
	    unsigned max, char *id, size_t idsize);
/* Give a lease back (kept renewed no more, even if Redis is away). */
void	redislimit_lease_put(struct redislimit *, const char *account,
	    const char *id);
/* 1 if another relay was refused a lease of account in the last second,
 * 0 if not, -1. */
int	redislimit_lease_wanted(struct redislimit *, const char *account);
/* Live leases of account over every relay: 0 or -1. */
int	redislimit_lease_count(struct redislimit *, const char *account,
	    unsigned *n);

/* For the other users of the connection (redistoken.h): one command,
 * argv[0] its name (EVAL with the script, the number of keys, ...),
 * under the connection's lock, connecting first when needed.  The
 * redisReply (freeReplyObject() it), or NULL: unreachable, or an error
 * reply (then marked unreachable, as any call). */
void	*redislimit_call(struct redislimit *, int argc, const char **argv);
/* The key "smarthost:KIND:account" (account lowercased), cut to size. */
void	redislimit_key(char *buf, size_t size, const char *kind,
	    const char *account);

#endif
