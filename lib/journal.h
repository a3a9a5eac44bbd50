/*
 * journal — the append-only file in which the relay's local limits
 * backend (relay/limit.c) records each counted message before it is
 * handed to the provider, so that a crash loses no count.
 *
 * One text line per record:
 *
 *	CRC SEQ DAY MSGS RCPTS ACCOUNT
 *
 * CRC is the CRC-32 (zlib) of the rest of the line in 8 hex digits, SEQ
 * a sequence number that never goes down (the snapshot says up to which
 * one it holds the records), DAY YYYYMMDD, MSGS and RCPTS signed deltas.
 * A line without its newline or whose CRC does not match is a torn
 * record (a crash in the middle of a write) and is skipped.
 *
 * journal_append() writes a record (the caller serializes appends);
 * journal_sync() returns once that record is on disk: callers that wait
 * at the same time share one fdatasync() (group commit).  After a failed
 * write or sync the journal refuses everything until journal_reset()
 * (which the caller runs once the records are safe elsewhere) empties it.
 *
 * Files are opened with O_NOFOLLOW and must be regular files owned by the
 * effective user; a journal is created mode 0600.
 */
#ifndef SMARTHOST_JOURNAL_H
#define SMARTHOST_JOURNAL_H

#include <stddef.h>
#include <stdio.h>

#define JOURNAL_ACCOUNT_MAX	511

struct journal;

struct journal_rec {
	unsigned long long seq;
	long		 day;
	int		 msgs, rcpts;
	char		 account[JOURNAL_ACCOUNT_MAX + 1];
};

/* Open (create) the journal at path for appending; NULL with err. */
struct journal *journal_open(const char *path, char *err, size_t errsize);
void	journal_close(struct journal *);

/* Append record r (r->seq is the caller's); 0, or -1 with err (the
 * journal then refuses until journal_reset()). */
int	journal_append(struct journal *, const struct journal_rec *r,
	    char *err, size_t errsize);
/* Wait until the record with sequence seq is durable; 0 or -1 with err. */
int	journal_sync(struct journal *, unsigned long long seq,
	    char *err, size_t errsize);
/* Empty the journal (its records are in the snapshot) and accept
 * appends again; 0, or -1 with err. */
int	journal_reset(struct journal *, char *err, size_t errsize);

/* Read the journal at path: fn for each intact record (in file order).
 * Returns the number of records read, 0 if there is no file, or -1 with
 * err if it cannot be read; *torn counts the records skipped as torn or
 * damaged and warn says where the first one was (or is ""). */
long	journal_replay(const char *path,
	    void (*fn)(void *, const struct journal_rec *), void *arg,
	    unsigned *torn, char *warn, size_t warnsize,
	    char *err, size_t errsize);

/* Open path for reading (O_NOFOLLOW, a regular file owned by the
 * effective user): a stream, or NULL with errno set (ENOENT: absent). */
FILE	*journal_fopen_safe(const char *path, char *err, size_t errsize);

/* fsync the directory holding path (after creating or renaming it). */
int	journal_sync_dir(const char *path);

#endif
