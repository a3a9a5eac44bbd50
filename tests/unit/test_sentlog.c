/*
 * Unit tests for lib/sentlog.c: record, find by Message-ID, query by
 * address, Message-ID or queue id (newest first), prune, the returned
 * table; the file is made 0640 in WAL mode at schema version 1; a reader
 * on a second connection (another process) reads while one writes; a
 * write finding the database locked fails fast instead of waiting;
 * corrupt, linked, missing or unwritable files, and a schema version
 * this program does not know, give a clear error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sentlog.h"

#define NOBODY		65534
#define NWRITES		300

static char top[] = "/tmp/test_sentlog.XXXXXX";
#include "tmp_at.h"

/* A fresh state directory under top. */
static const char *
newdir(const char *name)
{
	assert_int_equal(mkdir(at(name), 0755), 0);
	return at(name);
}

static struct sentlog *
open_ok(const char *dir, int flags)
{
	char err[512];
	struct sentlog *sl = sentlog_open(dir, flags, err, sizeof(err));

	if (sl == NULL)
		fail_msg("sentlog_open %s: %s", dir, err);
	return sl;
}

static void
expect_open_error(const char *dir, int flags, const char *want)
{
	char err[512];
	struct sentlog *sl = sentlog_open(dir, flags, err, sizeof(err));

	if (sl != NULL)
		fail_msg("sentlog_open %s succeeded, want \"%s\"", dir, want);
	if (strstr(err, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", err, want);
}

static struct sentlog_entry
entry(long long t, const char *qid, const char *msgid, const char *from,
    const char *status)
{
	struct sentlog_entry e = {
		.time = t, .queue_id = qid, .message_id = msgid,
		.env_from = from, .header_from = from,
		.account = "office@qq.com", .login = "office@qq.com",
		.rcpts = "bob@example.org carol@example.net",
		.status = status, .reply = "250 2.0.0 Ok: queued as 123",
	};
	return e;
}

struct seen {
	int		 n;
	long long	 ids[16];
	char		 msgids[16][64];
};

static int
collect(const struct sentlog_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->ids[s->n] = e->id;
		snprintf(s->msgids[s->n], sizeof(s->msgids[0]), "%s",
		    e->message_id != NULL ? e->message_id : "(null)");
	}
	s->n++;
	return 0;
}

static void
query(struct sentlog *sl, const char *key, int want, const char *first)
{
	struct seen s = { 0 };

	assert_int_equal(sentlog_query(sl, key, collect, &s), want);
	assert_int_equal(s.n, want);
	if (first != NULL)
		assert_string_equal(s.msgids[0], first);
}

/* One PRAGMA's value read on a connection of our own. */
static void
pragma_is(const char *dir, const char *pragma, const char *want)
{
	char path[512], sql[128];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/%s", dir, SENTLOG_FILE);
	snprintf(sql, sizeof(sql), "PRAGMA %s", pragma);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
test_record_find_query(void **state)
{
	const char *dir = newdir("rfq");
	long long now = (long long)time(NULL);
	struct sentlog_entry e, bad;
	struct sentlog *sl;
	struct stat st;

	umask(022);
	sl = open_ok(dir, 0);
	e = entry(now - 100, "4QXyZ1abcD", "one@office.lan",
	    "alice@office.lan", "sent");
	assert_int_equal(sentlog_record(sl, &e), 0);
	e = entry(now - 50, "4QXyZ2abcD", "two@office.lan",
	    "alice@office.lan", "deferred");
	e.reply = "451 4.7.1 try again later";
	assert_int_equal(sentlog_record(sl, &e), 0);
	e = entry(0, NULL, NULL, "", "bounced");
	e.header_from = NULL;
	assert_int_equal(sentlog_record(sl, &e), 0);
	bad = entry(now, NULL, "x@y", "a@b", "lost");
	assert_int_equal(sentlog_record(sl, &bad), -1);
	assert_non_null(strstr(sentlog_error(sl), "status \"lost\""));

	assert_int_equal(stat(at("rfq/sent.db"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	pragma_is(dir, "journal_mode", "wal");
	pragma_is(dir, "user_version", "1");

	/* find: newest with that Message-ID, strings held by the handle */
	e = entry(now - 10, "4QXyZ3abcD", "one@office.lan",
	    "alice@office.lan", "sent");
	e.account = "boss@163.com";
	assert_int_equal(sentlog_record(sl, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(sentlog_find_msgid(sl, "one@office.lan", &e), 1);
	assert_string_equal(e.queue_id, "4QXyZ3abcD");
	assert_string_equal(e.account, "boss@163.com");
	assert_string_equal(e.env_from, "alice@office.lan");
	assert_string_equal(e.rcpts, "bob@example.org carol@example.net");
	assert_string_equal(e.status, "sent");
	assert_int_equal(e.time, now - 10);
	assert_true(e.id > 0);
	assert_int_equal(sentlog_find_msgid(sl, "none@office.lan", &e), 0);

	/* query: by address (any case), Message-ID with or without
	 * brackets, queue id; newest first */
	query(sl, "alice@office.lan", 3, "one@office.lan");
	query(sl, "Alice@Office.LAN", 3, "one@office.lan");
	query(sl, "<two@office.lan>", 1, "two@office.lan");
	query(sl, "two@office.lan", 1, "two@office.lan");
	query(sl, "4QXyZ1abcD", 1, "one@office.lan");
	query(sl, "", 1, "(null)");
	query(sl, "nobody@office.lan", 0, NULL);
	sentlog_close(sl);

	/* reopened read only: the same rows */
	sl = open_ok(dir, SENTLOG_RDONLY);
	query(sl, "alice@office.lan", 3, "one@office.lan");
	e = entry(now, NULL, "ro@office.lan", "alice@office.lan", "sent");
	assert_int_equal(sentlog_record(sl, &e), -1);
	if (strstr(sentlog_error(sl), "sent.db: record: attempt to write a "
	    "readonly database") == NULL)
		fail_msg("got \"%s\"", sentlog_error(sl));
	sentlog_close(sl);
}

struct ret {
	int	n;
	char	what[4][128];
};

static int
collect_returned(const char *kind, const char *rcpt, const char *st,
    long long t, void *arg)
{
	struct ret *r = arg;

	if (r->n < 4)
		snprintf(r->what[r->n], sizeof(r->what[0]), "%s %s %s %d",
		    kind, rcpt, st, t > 0);
	r->n++;
	return 0;
}

/* A query callback asks for the row's returned rows on the same handle. */
static int
nested_returned(const struct sentlog_entry *e, void *arg)
{
	void **a = arg;

	return sentlog_returned_for(a[0], e->id, collect_returned, a[1]) < 0;
}

static void
test_prune_and_returned(void **state)
{
	const char *dir = newdir("prune");
	long long now = (long long)time(NULL);
	struct sentlog *sl = open_ok(dir, 0);
	struct sentlog_entry e;
	struct ret r = { 0 };
	char buf[32];

	e = entry(now - 40 * 86400, "OLD", "old@office.lan", "a@office.lan",
	    "sent");
	assert_int_equal(sentlog_record(sl, &e), 0);
	e = entry(now - 29 * 86400, "MID", "mid@office.lan", "a@office.lan",
	    "sent");
	assert_int_equal(sentlog_record(sl, &e), 0);
	assert_int_equal(sentlog_find_msgid(sl, "mid@office.lan", &e), 1);

	/* returned: unknown, claimed, then delivered */
	assert_int_equal(sentlog_return_state(sl, "office@qq.com", 7, 42,
	    buf, sizeof(buf)), 0);
	assert_int_equal(sentlog_return_set(sl, "office@qq.com", 7, 42, "dsn",
	    e.id, "a@office.lan", "claimed"), 0);
	assert_int_equal(sentlog_return_state(sl, "office@qq.com", 7, 42,
	    buf, sizeof(buf)), 1);
	assert_string_equal(buf, "claimed");
	assert_int_equal(sentlog_return_set(sl, "office@qq.com", 7, 42, "dsn",
	    e.id, "a@office.lan", "delivered"), 0);
	assert_int_equal(sentlog_return_state(sl, "office@qq.com", 7, 42,
	    buf, sizeof(buf)), 1);
	assert_string_equal(buf, "delivered");
	/* another uidvalidity is another message */
	assert_int_equal(sentlog_return_state(sl, "office@qq.com", 8, 42,
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(sentlog_return_set(sl, "office@qq.com", 7, 43,
	    "reply", e.id, "a@office.lan", "marked"), 0);
	assert_int_equal(sentlog_return_set(sl, "office@qq.com", 7, 44,
	    "dsn", 0, "postmaster@office.lan", "delivered"), 0);
	assert_int_equal(sentlog_returned_for(sl, e.id, collect_returned, &r),
	    2);
	assert_string_equal(r.what[0], "dsn a@office.lan delivered 1");
	assert_string_equal(r.what[1], "reply a@office.lan marked 1");
	memset(&r, 0, sizeof(r));
	assert_int_equal(sentlog_query(sl, "mid@office.lan", nested_returned,
	    (void *[]){ sl, &r }), 1);
	assert_int_equal(r.n, 2);

	/* 0 days: nothing; 30 days: the 40-day-old row only */
	assert_int_equal(sentlog_prune(sl, 0), 0);
	assert_int_equal(sentlog_prune(sl, 30), 1);
	query(sl, "a@office.lan", 1, "mid@office.lan");
	assert_int_equal(sentlog_prune(sl, 30), 0);
	/* 28 days: the other row goes, the returned rows (just made) stay */
	assert_int_equal(sentlog_prune(sl, 28), 1);
	query(sl, "a@office.lan", 0, NULL);
	assert_int_equal(sentlog_return_state(sl, "office@qq.com", 7, 43,
	    buf, sizeof(buf)), 1);
	sentlog_close(sl);
}

static int
count_rows(const struct sentlog_entry *e, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	    (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A child process writes while this one reads on its own connection:
 * every read succeeds (WAL: readers never wait for the writer). */
static void
test_reader_while_writing(void **state)
{
	const char *dir = newdir("rw");
	struct sentlog *w = open_ok(dir, 0), *r;
	int status, reads = 0, n = 0, last = 0;
	pid_t pid;

	sentlog_close(w);
	r = open_ok(dir, SENTLOG_RDONLY);
	if ((pid = fork()) == 0) {
		struct sentlog_entry e = entry(0, "Q", "m@x", "w@office.lan",
		    "sent");
		char err[512];

		w = sentlog_open(dir, 0, err, sizeof(err));
		if (w == NULL)
			_exit(2);
		sentlog_busy_timeout(w, 5000);
		for (int i = 0; i < NWRITES; i++)
			if (sentlog_record(w, &e) != 0)
				_exit(3);
		sentlog_close(w);
		_exit(0);
	}
	assert_true(pid > 0);
	while (waitpid(pid, &status, WNOHANG) == 0 && reads < 100000) {
		n = 0;
		if (sentlog_query(r, "w@office.lan", count_rows, &n) == -1)
			fail_msg("read while writing: %s", sentlog_error(r));
		assert_true(n >= last);
		last = n;
		reads++;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	n = 0;
	assert_int_equal(sentlog_query(r, "w@office.lan", count_rows, &n),
	    NWRITES);
	sentlog_close(r);
}

/* Another connection holds the write lock: a record gives up after the
 * short busy timeout with a message, reads still work, and once the lock
 * is gone records work again. */
static void
test_locked_write_fails_fast(void **state)
{
	const char *dir = newdir("lock");
	struct sentlog *sl = open_ok(dir, 0), *r = open_ok(dir, SENTLOG_RDONLY);
	struct sentlog_entry e = entry(0, "Q", "m@x", "l@office.lan", "sent");
	struct timespec t0;
	char path[512];
	sqlite3 *db;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, SENTLOG_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO sent "
	    "(time, env_from, account, login, rcpts, status) VALUES (1, "
	    "'l@office.lan', 'a', 'a', 'r', 'sent')", NULL, NULL, NULL),
	    SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sentlog_record(sl, &e), -1);
	assert_true(ms_since(&t0) < 1000);
	assert_non_null(strstr(sentlog_error(sl), "database is locked"));
	assert_non_null(strstr(sentlog_error(sl), "sent.db: record: "));
	assert_int_equal(sentlog_query(r, "l@office.lan", count_rows, &n), 0);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(sentlog_record(sl, &e), 0);
	assert_int_equal(sentlog_query(r, "l@office.lan", count_rows, &n), 2);
	sentlog_close(r);
	sentlog_close(sl);
}

/* Open as the user nobody in a child; its exit status tells whether the
 * message held want. */
static void
expect_open_error_as_nobody(const char *dir, const char *want)
{
	int status;
	pid_t pid;

	if ((pid = fork()) == 0) {
		char err[512];
		struct sentlog *sl;

		if (setgid(NOBODY) == -1 || setuid(NOBODY) == -1)
			_exit(2);
		sl = sentlog_open(dir, 0, err, sizeof(err));
		if (sl != NULL)
			_exit(3);
		fprintf(stderr, "as nobody: %s\n", err);
		_exit(strstr(err, want) != NULL ? 0 : 4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Set PRAGMA user_version on a connection of our own. */
static void
set_user_version(const char *dir, int version)
{
	char path[512], sql[64];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/%s", dir, SENTLOG_FILE);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_errors(void **state)
{
	const char *dir;
	char path[512];
	FILE *f;

	if (geteuid() != 0)
		fail_msg("test_errors needs root (it opens as nobody)");
	/* a file that is not a database */
	dir = newdir("corrupt");
	snprintf(path, sizeof(path), "%s/%s", dir, SENTLOG_FILE);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 1024; i++)
		fputs("garbage!", f);
	fclose(f);
	expect_open_error(dir, 0, "corrupt/sent.db: file is not a database");
	expect_open_error(dir, SENTLOG_RDONLY,
	    "corrupt/sent.db: file is not a database");

	/* a symbolic link, a hard link, a directory */
	dir = newdir("link");
	assert_int_equal(symlink("/etc/passwd", at("link/sent.db")), 0);
	expect_open_error(dir, 0, "link/sent.db: is a symbolic link: refused");
	expect_open_error(dir, SENTLOG_RDONLY, "is a symbolic link: refused");
	dir = newdir("hard");
	assert_int_equal(close(open(at("hard/other"), O_CREAT | O_WRONLY,
	    0600)), 0);
	assert_int_equal(link(at("hard/other"), at("hard/sent.db")), 0);
	expect_open_error(dir, 0, "hard/sent.db: has 2 names (hard links): "
	    "refused");
	dir = newdir("isdir");
	assert_int_equal(mkdir(at("isdir/sent.db"), 0700), 0);
	expect_open_error(dir, SENTLOG_RDONLY, "isdir/sent.db: not a regular "
	    "file: refused");

	/* no log yet, read only: said so, errno ENOENT */
	dir = newdir("empty");
	expect_open_error(dir, SENTLOG_RDONLY, "empty/sent.db: no sent log");
	errno = 0;
	assert_null(sentlog_open(dir, SENTLOG_RDONLY, path, sizeof(path)));
	assert_int_equal(errno, ENOENT);
	expect_open_error(at("missing"), 0, "missing: No such file or "
	    "directory");
	expect_open_error("", 0, "no state-dir");

	/* unwritable: nobody cannot create in root's 0755 directory, nor
	 * write to root's file; a state-dir others may write is refused */
	expect_open_error_as_nobody(dir, "empty/sent.db: Permission denied");
	sentlog_close(open_ok(dir, 0));
	expect_open_error_as_nobody(dir, "empty/sent.db: Permission denied");
	dir = newdir("open");
	assert_int_equal(chmod(dir, 0777), 0);
	expect_open_error(dir, 0, "open: mode 0777: refused");

	/* a schema this program does not know, for writer and reader */
	dir = newdir("newer");
	sentlog_close(open_ok(dir, 0));
	set_user_version(dir, 2);
	expect_open_error(dir, 0, "newer/sent.db: schema version 2, this "
	    "program knows 1");
	expect_open_error(dir, SENTLOG_RDONLY, "newer/sent.db: schema version "
	    "2, this program knows 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_find_query),
		cmocka_unit_test(test_prune_and_returned),
		cmocka_unit_test(test_reader_while_writing),
		cmocka_unit_test(test_locked_write_fails_fast),
		cmocka_unit_test(test_errors),
	};
	int rc;

	assert_non_null(mkdtemp(top));
	assert_int_equal(chmod(top, 0711), 0);	/* nobody passes through */
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", top);
	}
	return rc;
}
