/*
 * sentlog — see sentlog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safedir.h"
#include "sentlog.h"
#include "util.h"

#define SENTLOG_VERSION	1
#define BUSY_MS		50	/* a record waits no longer than this */
#define OPEN_BUSY_MS	2000	/* setting up the schema may wait */
#define NHOLD		9	/* strings of the entry find_msgid returns */

struct sentlog {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*insert;
	pthread_mutex_t	 mu;
	char		*hold[NHOLD];
	char		 err[512];
};

static const char SCHEMA[] =
    "CREATE TABLE sent ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " queue_id TEXT,"
    " message_id TEXT,"
    " env_from TEXT NOT NULL,"
    " header_from TEXT,"
    " account TEXT NOT NULL, login TEXT NOT NULL,"
    " rcpts TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " reply TEXT);"
    "CREATE INDEX sent_msgid ON sent(message_id);"
    "CREATE INDEX sent_from ON sent(env_from);"
    "CREATE INDEX sent_qid ON sent(queue_id);"
    "CREATE TABLE returned ("
    " account TEXT NOT NULL, uidvalidity INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " time INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " sent_id INTEGER REFERENCES sent(id),"
    " rcpt TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " PRIMARY KEY (account, uidvalidity, uid));"
    "PRAGMA user_version = 1;";

#define SENT_COLUMNS "id, time, queue_id, message_id, env_from, " \
    "header_from, account, login, rcpts, status, reply"

/* Keep the message of the last failure: "PATH: what SQLite said". */
static int
fail(struct sentlog *sl, const char *what)
{
	snprintf(sl->err, sizeof(sl->err), "%s: %s%s%s", sl->path,
	    what != NULL ? what : "", what != NULL ? ": " : "",
	    sqlite3_errmsg(sl->db));
	return -1;
}

/* Check (and for writing, create) the file by descriptor: a regular file
 * with one name, ours or root's when we are to write to it.  0 or -1. */
static int
check_file(int dirfd, const char *path, int flags, char *err, size_t errsize)
{
	struct stat st;
	int fd, oflags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

	oflags |= (flags & SENTLOG_RDONLY) ? O_RDONLY : O_RDWR | O_CREAT;
	if ((fd = openat(dirfd, SENTLOG_FILE, oflags, 0640)) == -1) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errsize, "%s: no sent log", path);
		else if (e == ELOOP)
			snprintf(err, errsize, "%s: is a symbolic link: "
			    "refused", path);
		else
			snprintf(err, errsize, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file: refused", path);
		return -1;
	}
	if (st.st_nlink != 1) {
		snprintf(err, errsize, "%s: has %lu names (hard links): "
		    "refused", path, (unsigned long)st.st_nlink);
		return -1;
	}
	if (!(flags & SENTLOG_RDONLY) && st.st_uid != geteuid() &&
	    st.st_uid != 0) {
		snprintf(err, errsize, "%s: owned by uid %u: refused (it must "
		    "belong to the user writing it)", path,
		    (unsigned)st.st_uid);
		return -1;
	}
	errno = 0;
	return 0;
}

static int
user_version(struct sentlog *sl, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sl->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return fail(sl, NULL);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(sl, NULL);
}

static int
exec(struct sentlog *sl, const char *sql)
{
	return sqlite3_exec(sl->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    fail(sl, NULL);
}

/* 0 if the file's schema is the one this program knows. */
static int
known_version(struct sentlog *sl, int version)
{
	if (version == SENTLOG_VERSION)
		return 0;
	snprintf(sl->err, sizeof(sl->err), "%s: schema version %d, this "
	    "program knows %d", sl->path, version, SENTLOG_VERSION);
	return -1;
}

/* WAL, no fsync per commit, and the tables when the file is new. */
static int
setup_write(struct sentlog *sl)
{
	int version = 0;

	if (exec(sl, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(sl, "PRAGMA synchronous = NORMAL") == -1 ||
	    exec(sl, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (user_version(sl, &version) == -1 ||
	    (version == 0 && exec(sl, SCHEMA) == -1)) {
		sqlite3_exec(sl->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (exec(sl, "COMMIT") == -1)
		return -1;
	return known_version(sl, version == 0 ? SENTLOG_VERSION : version);
}

static int
setup_read(struct sentlog *sl)
{
	int version = 0;

	if (user_version(sl, &version) == -1)
		return -1;
	return known_version(sl, version);
}

/* Recursive: a callback of sentlog_query() may call sentlog_returned_for()
 * on the same handle. */
static void
init_mutex(pthread_mutex_t *mu)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(mu, &a);
	pthread_mutexattr_destroy(&a);
}

struct sentlog *
sentlog_open(const char *state_dir, int flags, char *err, size_t errsize)
{
	struct sentlog *sl;
	int dirfd, oflags, rc;

	if (state_dir == NULL || *state_dir == '\0') {
		snprintf(err, errsize, "no state-dir: no sent log");
		errno = EINVAL;
		return NULL;
	}
	/* Reading: any owner (root reads the relay's log); writing: the
	 * directory must be root's or ours. */
	if ((dirfd = safedir_open(AT_FDCWD, state_dir, NULL, 0, (uid_t)-1,
	    (gid_t)-1, (flags & SENTLOG_RDONLY) ? SAFEDIR_ANYONE : 0, err,
	    errsize)) == -1)
		return NULL;
	sl = xcalloc(1, sizeof(*sl));
	sl->path = xasprintf("%s/%s", state_dir, SENTLOG_FILE);
	rc = check_file(dirfd, sl->path, flags, err, errsize);
	close(dirfd);
	if (rc == -1) {
		int e = errno;

		free(sl->path);
		free(sl);
		errno = e;
		return NULL;
	}
	init_mutex(&sl->mu);
	oflags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX |
	    ((flags & SENTLOG_RDONLY) ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE);
	if (sqlite3_open_v2(sl->path, &sl->db, oflags, NULL) != SQLITE_OK) {
		fail(sl, NULL);
		goto bad;
	}
	sqlite3_extended_result_codes(sl->db, 1);
	sqlite3_busy_timeout(sl->db, OPEN_BUSY_MS);
	if (((flags & SENTLOG_RDONLY) ? setup_read(sl) : setup_write(sl)) ==
	    -1)
		goto bad;
	if ((flags & SENTLOG_NOCHECKPOINT) &&
	    exec(sl, "PRAGMA wal_autocheckpoint = 0") == -1)
		goto bad;
	sqlite3_busy_timeout(sl->db, BUSY_MS);
	errno = 0;
	return sl;
bad:
	xstrlcpy(err, sl->err, errsize);
	sentlog_close(sl);
	errno = EIO;
	return NULL;
}

static void
drop_held(struct sentlog *sl)
{
	for (size_t i = 0; i < NHOLD; i++) {
		free(sl->hold[i]);
		sl->hold[i] = NULL;
	}
}

void
sentlog_close(struct sentlog *sl)
{
	if (sl == NULL)
		return;
	sqlite3_finalize(sl->insert);
	sqlite3_close_v2(sl->db);
	drop_held(sl);
	pthread_mutex_destroy(&sl->mu);
	free(sl->path);
	free(sl);
}

const char *
sentlog_error(const struct sentlog *sl)
{
	return sl->err;
}

void
sentlog_busy_timeout(struct sentlog *sl, int ms)
{
	pthread_mutex_lock(&sl->mu);
	sqlite3_busy_timeout(sl->db, ms);
	pthread_mutex_unlock(&sl->mu);
}

/* Bind text, or NULL (nullable columns) / "" (the others). */
static void
bind_str(sqlite3_stmt *st, int i, const char *s, int nullable)
{
	if (s == NULL && nullable)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s != NULL ? s : "", -1,
		    SQLITE_STATIC);
}

static int
valid_status(const char *s)
{
	return s != NULL && (strcmp(s, "sent") == 0 ||
	    strcmp(s, "deferred") == 0 || strcmp(s, "bounced") == 0);
}

static int
record_locked(struct sentlog *sl, const struct sentlog_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sl->insert == NULL && sqlite3_prepare_v3(sl->db, "INSERT INTO "
	    "sent (time, queue_id, message_id, env_from, header_from, "
	    "account, login, rcpts, status, reply) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?)", -1, SQLITE_PREPARE_PERSISTENT, &sl->insert,
	    NULL) != SQLITE_OK)
		return fail(sl, "record");
	st = sl->insert;
	sqlite3_bind_int64(st, 1, e->time != 0 ? e->time :
	    (long long)time(NULL));
	bind_str(st, 2, e->queue_id, 1);
	bind_str(st, 3, e->message_id, 1);
	bind_str(st, 4, e->env_from, 0);
	bind_str(st, 5, e->header_from, 1);
	bind_str(st, 6, e->account, 0);
	bind_str(st, 7, e->login, 0);
	bind_str(st, 8, e->rcpts, 0);
	bind_str(st, 9, e->status, 0);
	bind_str(st, 10, e->reply, 1);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : fail(sl, "record");
}

int
sentlog_record(struct sentlog *sl, const struct sentlog_entry *e)
{
	int rc;

	pthread_mutex_lock(&sl->mu);
	if (!valid_status(e->status)) {
		snprintf(sl->err, sizeof(sl->err), "%s: record: status \"%s\": "
		    "not sent, deferred or bounced", sl->path,
		    e->status != NULL ? e->status : "");
		rc = -1;
	} else
		rc = record_locked(sl, e);
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

int
sentlog_checkpoint(struct sentlog *sl)
{
	int rc;

	pthread_mutex_lock(&sl->mu);
	/* SQLITE_BUSY: another connection is checkpointing just now */
	rc = sqlite3_wal_checkpoint_v2(sl->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	rc = rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : fail(sl, "checkpoint");
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

/* Run one statement binding ?1 to an integer; the rows changed or -1. */
static int
change_int(struct sentlog *sl, const char *sql, long long v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(sl->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(sl, "prune");
	sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(sl->db) : fail(sl, "prune");
}

int
sentlog_prune(struct sentlog *sl, unsigned days)
{
	long long cutoff = (long long)time(NULL) - (long long)days * 86400;
	int a, b;

	if (days == 0)
		return 0;
	pthread_mutex_lock(&sl->mu);
	a = change_int(sl, "DELETE FROM returned WHERE time < ?1", cutoff);
	b = a == -1 ? -1 : change_int(sl, "DELETE FROM sent WHERE time < ?1",
	    cutoff);
	pthread_mutex_unlock(&sl->mu);
	return a == -1 || b == -1 ? -1 : a + b;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void
read_entry(sqlite3_stmt *st, struct sentlog_entry *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	e->queue_id = col(st, 2);
	e->message_id = col(st, 3);
	e->env_from = col(st, 4);
	e->header_from = col(st, 5);
	e->account = col(st, 6);
	e->login = col(st, 7);
	e->rcpts = col(st, 8);
	e->status = col(st, 9);
	e->reply = col(st, 10);
}

/* Copy the strings of e so they outlive the statement. */
static void
hold_entry(struct sentlog *sl, struct sentlog_entry *e)
{
	const char **f[NHOLD] = { &e->queue_id, &e->message_id, &e->env_from,
	    &e->header_from, &e->account, &e->login, &e->rcpts, &e->status,
	    &e->reply };

	drop_held(sl);
	for (size_t i = 0; i < NHOLD; i++)
		if (*f[i] != NULL)
			*f[i] = sl->hold[i] = xstrdup(*f[i]);
}

int
sentlog_find_msgid(struct sentlog *sl, const char *message_id,
    struct sentlog_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&sl->mu);
	if (sqlite3_prepare_v2(sl->db, "SELECT " SENT_COLUMNS " FROM sent "
	    "WHERE message_id = ?1 ORDER BY time DESC, id DESC LIMIT 1", -1,
	    &st, NULL) != SQLITE_OK) {
		rc = fail(sl, "find");
		goto out;
	}
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_entry(st, e);
		hold_entry(sl, e);
		rc = 1;
	} else
		rc = rc == SQLITE_DONE ? 0 : fail(sl, "find");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

/* Step st, calling fn per sent row; the rows seen or -1. */
static int
each_entry(struct sentlog *sl, sqlite3_stmt *st,
    int (*fn)(const struct sentlog_entry *, void *), void *arg)
{
	struct sentlog_entry e;
	int rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		read_entry(st, &e);
		if (fn(&e, arg) != 0)
			return n;
	}
	return rc == SQLITE_DONE ? n : fail(sl, "query");
}

int
sentlog_query(struct sentlog *sl, const char *key,
    int (*fn)(const struct sentlog_entry *, void *), void *arg)
{
	sqlite3_stmt *st;
	size_t len = strlen(key);
	int rc;

	pthread_mutex_lock(&sl->mu);
	if (sqlite3_prepare_v2(sl->db, "SELECT " SENT_COLUMNS " FROM sent "
	    "WHERE env_from = ?1 COLLATE NOCASE OR header_from = ?1 COLLATE "
	    "NOCASE OR message_id = ?2 OR queue_id = ?1 "
	    "ORDER BY time DESC, id DESC", -1, &st, NULL) != SQLITE_OK) {
		rc = fail(sl, "query");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (len >= 2 && key[0] == '<' && key[len - 1] == '>')
		sqlite3_bind_text(st, 2, key + 1, (int)len - 2, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = each_entry(sl, st, fn, arg);
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

int
sentlog_return_state(struct sentlog *sl, const char *account,
    long long uidvalidity, long long uid, char *buf, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&sl->mu);
	if (sqlite3_prepare_v2(sl->db, "SELECT state FROM returned WHERE "
	    "account = ?1 AND uidvalidity = ?2 AND uid = ?3", -1, &st,
	    NULL) != SQLITE_OK) {
		rc = fail(sl, "return state");
		goto out;
	}
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	if (n > 0)
		buf[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xstrlcpy(buf, col(st, 0) != NULL ? col(st, 0) : "", n);
		rc = 1;
	} else
		rc = rc == SQLITE_DONE ? 0 : fail(sl, "return state");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

int
sentlog_return_set(struct sentlog *sl, const char *account,
    long long uidvalidity, long long uid, const char *kind,
    long long sent_id, const char *rcpt, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&sl->mu);
	if (sqlite3_prepare_v2(sl->db, "INSERT INTO returned (account, "
	    "uidvalidity, uid, time, kind, sent_id, rcpt, state) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (account, uidvalidity, "
	    "uid) DO UPDATE SET time = ?4, kind = ?5, sent_id = ?6, "
	    "rcpt = ?7, state = ?8", -1, &st, NULL) != SQLITE_OK) {
		rc = fail(sl, "return set");
		goto out;
	}
	bind_str(st, 1, account, 0);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
	sqlite3_bind_int64(st, 4, (long long)time(NULL));
	bind_str(st, 5, kind, 0);
	if (sent_id > 0)
		sqlite3_bind_int64(st, 6, sent_id);
	else
		sqlite3_bind_null(st, 6);
	bind_str(st, 7, rcpt, 0);
	bind_str(st, 8, state, 0);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(sl, "return set");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&sl->mu);
	return rc;
}

int
sentlog_returned_for(struct sentlog *sl, long long sent_id,
    int (*fn)(const char *, const char *, const char *, long long, void *),
    void *arg)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	pthread_mutex_lock(&sl->mu);
	if (sqlite3_prepare_v2(sl->db, "SELECT kind, rcpt, state, time FROM "
	    "returned WHERE sent_id = ?1 ORDER BY time, uid", -1, &st,
	    NULL) != SQLITE_OK) {
		n = fail(sl, "returned");
		goto out;
	}
	sqlite3_bind_int64(st, 1, sent_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (fn(col(st, 0), col(st, 1), col(st, 2),
		    sqlite3_column_int64(st, 3), arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		n = fail(sl, "returned");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&sl->mu);
	return n;
}
