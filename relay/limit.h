/*
 * limit — per-account daily counters and cool-off state of the relay.
 *
 * For each account: messages and recipients relayed today (local day),
 * messages in flight (reserved at MAIL, counted before the final dot or
 * given back when the transaction ends) and a cool-off time before which
 * the relay does not contact the provider for that account (after a
 * refused authorization code or a provider's quota reply).  Counters
 * reset at local midnight.  This is the relay's local backend; the relay
 * uses nothing but these functions, so a shared one can stand beside it.
 *
 * The state survives restarts in STATE_DIR: every counted message is
 * first appended to the journal STATE_DIR/relay-limits.journal (see
 * lib/journal.h) and limit_count() returns only once that record is on disk
 * (transactions counting at the same time share one fsync).  The
 * snapshot STATE_DIR/relay-limits has one line per account, "ACCOUNT DAY
 * MSGS RCPTS COOLOFF_UNTIL [REASON]", and "journal-seq N": the journal's
 * records up to N are in it.  limit_save() compacts (writes the snapshot
 * atomically: temporary file, fsync, rename; then empties the journal) at
 * most every LIMIT_SAVE_INTERVAL seconds, with force at exit, and
 * limit_open() after replaying a journal that held records.  A snapshot
 * line that does not parse is ignored; so is a torn or damaged journal
 * record (reported by limit_open).  Files are opened without following
 * symbolic links and must belong to the effective user.
 *
 * When the journal cannot be written or synced (disk full, I/O error),
 * counting goes on in memory, limit_count() returns -1, and every
 * account with a daily limit is refused by limit_reserve() and
 * limits_rcpt_ok() until a compaction succeeds (retried by limit_save()
 * every LIMIT_SAVE_INTERVAL seconds); both events are logged.
 *
 * Shared limits: limit_set_store() makes the counts, reservations and
 * cool-offs common to every relay of one Redis (lib/redislimit.h).  The
 * local state above is still kept (it is this relay's part of the day's
 * counts and is written to Redis again after a reconnection), but the
 * daily limits are checked against the totals over all relays, a
 * reservation is taken in Redis atomically (so the relays together never
 * pass a daily message limit), and a cool-off set or cleared on one relay
 * holds for all.  While Redis is unreachable each relay checks its own
 * counts against its share M/N of every daily limit (limits-share); the
 * refusal says so.  So it does, besides the totals, while the store
 * settles after an outage (redislimit_settling(): Redis may have come
 * back empty, with the other relays' part not written again yet).
 * limit_save() (the relay calls it every second) writes this relay's
 * counts again after each reconnection, the relay idle too, and logs the
 * end of a settling window.
 *
 * All functions take the current time so tests can move the clock; all
 * are thread-safe.  A limit of 0 means no limit.  The refusal texts are
 * complete sentences for an SMTP reply, without code.
 */
#ifndef SMARTHOST_RELAY_LIMIT_H
#define SMARTHOST_RELAY_LIMIT_H

#include <stddef.h>
#include <time.h>

#define LIMIT_SAVE_INTERVAL	5
#define LIMIT_FILE		"relay-limits"
#define LIMIT_JOURNAL		"relay-limits.journal"

struct limits;
struct redislimit;

/* Opens (and reads) the state of state_dir; never fails: a missing or
 * unreadable file starts from zero and *err says why (or is ""). A NULL
 * state_dir keeps the counters in memory only. */
struct limits *limit_open(const char *state_dir, time_t now,
	    char *err, size_t errsize);
void	limit_free(struct limits *);
/* Share the limits through r (not owned; NULL: this relay only), with
 * the share m/n of each daily limit while r is unreachable. */
void	limit_set_store(struct limits *, struct redislimit *r, unsigned m,
	    unsigned n);

/* Reserve one message for account: 0, or -1 with the refusal in why
 * ("daily limit of 100 messages for account a@b reached; resets at
 * 00:00 CST"). */
int	limit_reserve(struct limits *, const char *account, unsigned daily_msgs,
	    time_t now, char *why, size_t whysize);
/* May a transaction that holds `accepted` recipients take one more? */
int	limits_rcpt_ok(struct limits *, const char *account,
	    unsigned daily_rcpts, unsigned accepted, time_t now,
	    char *why, size_t whysize);
/* The message of a reserved transaction is about to be handed over (its
 * final dot is next): count it with nrcpts and end the reservation.
 * Returns once the count is durable: 0, or -1 if it could not be recorded
 * (counted in memory only; the journal's failure is logged). */
int	limit_count(struct limits *, const char *account, unsigned nrcpts,
	    time_t now);
/* The provider refused the message limit_count() counted: take it back
 * (recorded without waiting: a lost record only over-counts). */
void	limit_uncount(struct limits *, const char *account, unsigned nrcpts,
	    time_t now);
/* End a reserved transaction: delivered counts it with nrcpts (as
 * limit_count), else the reservation is given back. */
void	limit_release(struct limits *, const char *account, int delivered,
	    unsigned nrcpts, time_t now);

/* Cool account off for seconds (0: nothing); reason is for the reply. */
void	limit_cooloff(struct limits *, const char *account, unsigned seconds,
	    const char *reason, time_t now);
/* Non-zero while account is cooling off, with the refusal in why
 * ("account a@b is cooling off until 12:34:56 after: REASON"). */
int	limit_cooling(struct limits *, const char *account, time_t now,
	    char *why, size_t whysize);

/* End account's cool-off now (its authorization code was replaced). */
void	limit_cooloff_clear(struct limits *, const char *account);

/* Counters of account today (for logs and tests). */
void	limit_get(struct limits *, const char *account, time_t now,
	    unsigned *msgs, unsigned *rcpts);

/* Remember the last failure with account's provider (a reply text, for
 * `smarthostctl status`; memory only, not in the state file). */
void	limit_note_error(struct limits *, const char *account,
	    const char *text, time_t now);

/* Everything known about account, read-only (an unknown account reads as
 * zeros): today's counters, messages in flight, cool-off, last error. */
struct limit_state {
	unsigned	 msgs, rcpts;	/* today */
	unsigned	 inflight;
	time_t		 cool_until;	/* 0, or until when (may be past) */
	char		 cool_reason[256];
	time_t		 error_at;	/* 0: no failure since start */
	char		 error[256];
	/* with a shared store: */
	int		 shared;	/* 1: totals below are known */
	unsigned	 total_msgs, total_rcpts, total_sessions;
};
void	limit_state(struct limits *, const char *account, time_t now,
	    struct limit_state *);

/* Compact if the state changed or the journal failed, and (force or the
 * last attempt is LIMIT_SAVE_INTERVAL seconds old).  0, or -1 with err. */
int	limit_save(struct limits *, time_t now, int force,
	    char *err, size_t errsize);

#endif
