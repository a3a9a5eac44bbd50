/*
 * sentlog — the sent log: an SQLite database, STATE-DIR/sent.db, with one
 * row per message the relay handed to a provider (table sent) and one row
 * per bounce or reply smarthost-return handled in an account's mailbox
 * (table returned).  The schema is version 1 (PRAGMA user_version).
 *
 * sentlog_open() opens the directory with safedir_open() (not a symbolic
 * link, not writable by group or others, owned by root or the caller),
 * creates sent.db in it (mode 0640, O_NOFOLLOW: a link planted there is
 * refused, so is a file with more than one name or someone else's), then
 * has SQLite open the same path with SQLITE_OPEN_NOFOLLOW.  The database
 * is in WAL mode with synchronous=NORMAL, so a reader never blocks the
 * writer and a record costs no fsync; the busy timeout is short (50 ms,
 * sentlog_busy_timeout() changes it): a write that finds the database
 * locked fails instead of holding up a mail transaction.  SENTLOG_RDONLY
 * opens an existing log for reading only (smarthostctl log).
 *
 * A handle may be shared by threads (its calls are serialised).  Functions
 * return -1 on error with a message for sentlog_error(); strings in an
 * entry passed to a callback are valid during the call only.
 */
#ifndef SMARTHOST_SENTLOG_H
#define SMARTHOST_SENTLOG_H

#include <stddef.h>

#define SENTLOG_FILE	"sent.db"
#define SENTLOG_RDONLY	0x01	/* read only; the file must exist */

struct sentlog;

struct sentlog_entry {
	long long	 id;		/* set by the log; ignored by record */
	long long	 time;		/* unix seconds; 0: now */
	const char	*queue_id;	/* Postfix queue id, or NULL */
	const char	*message_id;	/* without angle brackets, or NULL */
	const char	*env_from;	/* "" for <> */
	const char	*header_from;	/* address of From:, or NULL */
	const char	*account, *login;
	const char	*rcpts;		/* space separated */
	const char	*status;	/* "sent", "deferred" or "bounced" */
	const char	*reply;		/* the provider's reply, or NULL */
};

/* flags: SENTLOG_RDONLY.  NULL with a message in err on failure ("no
 * sent log" when SENTLOG_RDONLY finds no file: errno is ENOENT then). */
struct sentlog *sentlog_open(const char *state_dir, int flags, char *err,
	    size_t errsize);
void	sentlog_close(struct sentlog *);
/* The message of the last failure on this handle. */
const char *sentlog_error(const struct sentlog *);
/* How long a call waits for a lock held by another connection. */
void	sentlog_busy_timeout(struct sentlog *, int ms);

/* 0 or -1 (a status other than the three, or the database failed). */
int	sentlog_record(struct sentlog *, const struct sentlog_entry *);
/* Delete sent and returned rows older than days (0: nothing); the
 * number of rows deleted, or -1. */
int	sentlog_prune(struct sentlog *, unsigned days);
/* The newest sent row with this Message-ID (no brackets): 1 found
 * (strings in *e valid until the next call on the handle), 0 none, -1
 * error. */
int	sentlog_find_msgid(struct sentlog *, const char *message_id,
	    struct sentlog_entry *e);
/* Rows whose env_from or header_from (ignoring case), message_id (with or
 * without brackets) or queue_id equals key, newest first, calling fn per
 * row; fn returning non-zero stops.  The number of rows seen, or -1. */
int	sentlog_query(struct sentlog *, const char *key,
	    int (*fn)(const struct sentlog_entry *, void *), void *arg);

/* The state of (account, uidvalidity, uid) in table returned: 1 with the
 * state string in buf, 0 unknown, -1 error. */
int	sentlog_return_state(struct sentlog *, const char *account,
	    long long uidvalidity, long long uid, char *buf, size_t n);
/* Insert or update that row; sent_id <= 0 stores NULL.  0 or -1. */
int	sentlog_return_set(struct sentlog *, const char *account,
	    long long uidvalidity, long long uid, const char *kind,
	    long long sent_id, const char *rcpt, const char *state);
/* The returned rows of a sent row, oldest first; fn returning non-zero
 * stops.  The number of rows seen, or -1. */
int	sentlog_returned_for(struct sentlog *, long long sent_id,
	    int (*fn)(const char *kind, const char *rcpt, const char *state,
	    long long time, void *), void *arg);

#endif
