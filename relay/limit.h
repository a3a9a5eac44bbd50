/*
 * limit — per-account daily counters and cool-off state of the relay.
 *
 * For each account: messages and recipients relayed today (local day),
 * messages in flight (reserved at MAIL, committed or cancelled when the
 * transaction ends) and a cool-off time before which the relay does not
 * contact the provider for that account (after a refused authorization
 * code or a provider's quota reply).  Counters reset at local midnight.
 *
 * The state survives restarts in STATE_DIR/relay-limits: one line per
 * account, "ACCOUNT DAY MSGS RCPTS COOLOFF_UNTIL [REASON]", written
 * atomically (temporary file + rename), at most every LIMIT_SAVE_INTERVAL
 * seconds by limit_save() and always with force (at exit).  A state file
 * that does not parse is ignored line by line: counting starts over.
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

struct limits;

/* Opens (and reads) the state of state_dir; never fails: a missing or
 * unreadable file starts from zero and *err says why (or is ""). A NULL
 * state_dir keeps the counters in memory only. */
struct limits *limit_open(const char *state_dir, time_t now,
	    char *err, size_t errsize);
void	limit_free(struct limits *);

/* Reserve one message for account: 0, or -1 with the refusal in why
 * ("daily limit of 100 messages for account a@b reached; resets at
 * 00:00 CST"). */
int	limit_reserve(struct limits *, const char *account, unsigned daily_msgs,
	    time_t now, char *why, size_t whysize);
/* May a transaction that holds `accepted` recipients take one more? */
int	limits_rcpt_ok(struct limits *, const char *account,
	    unsigned daily_rcpts, unsigned accepted, time_t now,
	    char *why, size_t whysize);
/* End a reserved transaction: delivered counts it with nrcpts. */
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
};
void	limit_state(struct limits *, const char *account, time_t now,
	    struct limit_state *);

/* Write the state if it changed and (force or the last write is
 * LIMIT_SAVE_INTERVAL seconds old).  0, or -1 with err. */
int	limit_save(struct limits *, time_t now, int force,
	    char *err, size_t errsize);

#endif
