/*
 * Unit tests for relay/limit.c (daily counters, midnight reset, cool-off,
 * the state file), relay/journal.c (durable counts: replay after a crash,
 * torn records, compaction, a journal that cannot be written, unsafe
 * files) and relay/answer.c (provider replies as Postfix gets
 * them, the quota table).  The relay's modules are compiled in directly:
 * they are not part of the library.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../lib/journal.c"
#include "../../relay/limit.c"
#include "../../relay/answer.c"

/* 2026-03-10 12:00:00 UTC; TZ=UTC is set in main(). */
#define NOON ((time_t)1773144000)

static void
test_daily_messages(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));

	assert_string_equal(err, "");
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 3, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	/* one delivered + one in flight = the limit */
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "daily limit of 2 messages for account "
	    "a@163.com reached; resets at 00:00 UTC");
	/* a failed transaction gives its reservation back */
	limit_release(l, "a@163.com", 0, 0, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 1, NOON);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON + 60, why,
	    sizeof(why)), -1);
	/* next local day: counting starts over */
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON + 12 * 3600,
	    why, sizeof(why)), 0);
	/* other accounts and limit 0 are independent */
	assert_int_equal(limit_reserve(l, "b@qq.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_free(l);
}

static void
test_daily_recipients(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));
	unsigned m, r;

	assert_int_equal(limit_reserve(l, "a@gmail.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@gmail.com", 1, 4, NOON);
	limit_get(l, "a@gmail.com", NOON, &m, &r);
	assert_int_equal(m, 1);
	assert_int_equal(r, 4);
	assert_true(limits_rcpt_ok(l, "a@gmail.com", 5, 0, NOON, why,
	    sizeof(why)));
	assert_false(limits_rcpt_ok(l, "a@gmail.com", 5, 1, NOON, why,
	    sizeof(why)));
	assert_string_equal(why, "daily limit of 5 recipients for account "
	    "a@gmail.com reached; resets at 00:00 UTC");
	limit_free(l);
}

static void
test_cooloff(void **state)
{
	char err[256], why[256];
	struct limits *l = limit_open(NULL, NOON, err, sizeof(err));

	assert_false(limit_cooling(l, "a@163.com", NOON, why, sizeof(why)));
	limit_cooloff(l, "a@163.com", 600, "smtp.163.com said: 535 "
	    "Error: authentication failed", NOON);
	assert_true(limit_cooling(l, "a@163.com", NOON + 599, why,
	    sizeof(why)));
	assert_string_equal(why, "account a@163.com is cooling off until "
	    "12:10:00 after: smtp.163.com said: 535 Error: authentication "
	    "failed");
	assert_false(limit_cooling(l, "a@163.com", NOON + 600, why,
	    sizeof(why)));
	assert_false(limit_cooling(l, "b@163.com", NOON, why, sizeof(why)));
	/* a new code ends the cool-off at once */
	limit_cooloff(l, "a@163.com", 600, "refused", NOON);
	limit_cooloff_clear(l, "A@163.com");
	assert_false(limit_cooling(l, "a@163.com", NOON + 1, why,
	    sizeof(why)));
	limit_free(l);
}

static void
test_state_file(void **state)
{
	char dir[] = "/tmp/test_limits.XXXXXX", err[256], why[256], *path;
	struct limits *l;
	unsigned m, r;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/%s", dir, LIMIT_FILE);
	l = limit_open(dir, NOON, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(limit_reserve(l, "a@163.com", 0, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 1, 2, NOON);
	limit_cooloff(l, "q@qq.com", 3600, "quota", NOON);
	/* not yet: the last write is younger than the interval */
	assert_int_equal(limit_save(l, NOON + 1, 0, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(limit_save(l, NOON + LIMIT_SAVE_INTERVAL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), 0);
	limit_free(l);

	/* a restart reads it back; a garbage line is ignored */
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("garbage line\n", fp);
	fclose(fp);
	l = limit_open(dir, NOON + 10, err, sizeof(err));
	assert_string_equal(err, "");
	limit_get(l, "a@163.com", NOON + 10, &m, &r);
	assert_int_equal(m, 1);
	assert_int_equal(r, 2);
	assert_true(limit_cooling(l, "q@qq.com", NOON + 10, why,
	    sizeof(why)));
	assert_string_equal(why, "account q@qq.com is cooling off until "
	    "13:00:00 after: quota");
	/* forced save with nothing changed writes nothing new */
	assert_int_equal(limit_save(l, NOON + 11, 1, err, sizeof(err)), 0);
	limit_free(l);
	unlink(path);
	rmdir(dir);
	free(path);
}


/* ---- the journal ---- */

struct sdir {
	char	 dir[64];
	char	*snap, *jnl;
};

static void
sdir_make(struct sdir *d)
{
	xstrlcpy(d->dir, "/tmp/test_journal.XXXXXX", sizeof(d->dir));
	assert_non_null(mkdtemp(d->dir));
	d->snap = xasprintf("%s/%s", d->dir, LIMIT_FILE);
	d->jnl = xasprintf("%s/%s", d->dir, LIMIT_JOURNAL);
}

static void
sdir_free(struct sdir *d)
{
	char *cmd = xasprintf("rm -rf '%s'", d->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(d->snap);
	free(d->jnl);
}

static off_t
fsize(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_size : -1;
}

/* Count one message of account with n recipients (reserve + count). */
static int
send1(struct limits *l, const char *account, unsigned n, time_t now)
{
	char why[512];

	assert_int_equal(limit_reserve(l, account, 0, now, why, sizeof(why)),
	    0);
	return limit_count(l, account, n, now);
}

static void
assert_counts(struct limits *l, const char *account, time_t now,
    unsigned msgs, unsigned rcpts)
{
	unsigned m, r;

	limit_get(l, account, now, &m, &r);
	assert_int_equal(m, msgs);
	assert_int_equal(r, rcpts);
}

static void
test_journal_replay(void **state)
{
	struct sdir d;
	struct limits *l, *l2;
	char err[512];
	struct stat st;
	FILE *fp;
	char line[256];
	int seen = 0;

	sdir_make(&d);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_string_equal(err, "");
	for (int i = 0; i < 5; i++)
		assert_int_equal(send1(l, "a@163.com", 2, NOON), 0);
	assert_int_equal(send1(l, "b@qq.com", 7, NOON), 0);
	/* counted, but never saved: no snapshot, the journal has it all */
	assert_int_equal(access(d.snap, F_OK), -1);
	assert_int_equal(lstat(d.jnl, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_true(st.st_size > 0);

	/* a crash: the second relay reads what the first never saved */
	l2 = limit_open(d.dir, NOON + 1, err, sizeof(err));
	assert_string_equal(err, "");
	assert_counts(l2, "a@163.com", NOON + 1, 5, 10);
	assert_counts(l2, "B@QQ.COM", NOON + 1, 1, 7);
	/* replayed and compacted at once: snapshot written, journal empty */
	assert_int_equal(fsize(d.jnl), 0);
	fp = fopen(d.snap, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strcmp(line, "journal-seq 6\n") == 0)
			seen = 1;
	fclose(fp);
	assert_true(seen);
	limit_free(l2);
	limit_free(l);

	/* records of another day: yesterday's are stale */
	l = limit_open(d.dir, NOON + 86400, err, sizeof(err));
	assert_counts(l, "a@163.com", NOON + 86400, 0, 0);
	assert_int_equal(send1(l, "a@163.com", 1, NOON + 86400), 0);
	limit_free(l);
	l = limit_open(d.dir, NOON + 86400, err, sizeof(err));
	assert_counts(l, "a@163.com", NOON + 86400, 1, 1);
	limit_free(l);
	sdir_free(&d);
}

static void
test_journal_torn(void **state)
{
	struct sdir d;
	struct limits *l;
	char err[512], rec[256];
	FILE *fp;
	int n;

	sdir_make(&d);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_int_equal(send1(l, "a@163.com", 1, NOON), 0);
	assert_int_equal(send1(l, "a@163.com", 1, NOON), 0);
	limit_free(l);
	/* a crash in the middle of writing the third record */
	n = snprintf(rec, sizeof(rec), "3 %ld 1 1 a@163.com", day_of(NOON));
	fp = fopen(d.jnl, "a");
	assert_non_null(fp);
	fprintf(fp, "%08lx %.*s", crc32(0L, (const Bytef *)rec, (uInt)n),
	    n - 4, rec);
	fclose(fp);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_non_null(strstr(err, "relay-limits.journal:3: torn "
	    "(incomplete) last record ignored"));
	assert_counts(l, "a@163.com", NOON, 2, 2);
	/* the journal was compacted: the next record is not glued to it */
	assert_int_equal(fsize(d.jnl), 0);
	assert_int_equal(send1(l, "a@163.com", 4, NOON), 0);
	limit_free(l);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_string_equal(err, "");
	assert_counts(l, "a@163.com", NOON, 3, 6);
	limit_free(l);

	/* a whole record whose checksum does not match is skipped too */
	fp = fopen(d.jnl, "a");
	assert_non_null(fp);
	fprintf(fp, "%08lx %s\n", crc32(0L, (const Bytef *)rec, (uInt)n) ^ 1,
	    rec);
	fclose(fp);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_non_null(strstr(err, "relay-limits.journal:1: damaged record "
	    "ignored"));
	assert_counts(l, "a@163.com", NOON, 3, 6);
	limit_free(l);

	/* cut just before its newline: still torn (never acknowledged) */
	fp = fopen(d.jnl, "a");
	assert_non_null(fp);
	fprintf(fp, "%08lx %s", crc32(0L, (const Bytef *)rec, (uInt)n), rec);
	fclose(fp);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_non_null(strstr(err, "relay-limits.journal:1: torn "
	    "(incomplete) last record ignored"));
	assert_counts(l, "a@163.com", NOON, 3, 6);
	limit_free(l);
	sdir_free(&d);
}

static void
copy_file(const char *from, const char *to)
{
	char *cmd = xasprintf("cp -p '%s' '%s'", from, to);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
test_journal_compaction(void **state)
{
	struct sdir d;
	struct limits *l;
	char err[512], *saved;

	sdir_make(&d);
	saved = xasprintf("%s/saved-journal", d.dir);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_int_equal(send1(l, "a@163.com", 3, NOON), 0);
	assert_int_equal(send1(l, "a@163.com", 3, NOON), 0);
	copy_file(d.jnl, saved);
	/* periodic compaction: snapshot written, journal emptied */
	assert_int_equal(limit_save(l, NOON + 1, 0, err, sizeof(err)), 0);
	assert_true(fsize(d.jnl) > 0);		/* not yet */
	assert_int_equal(limit_save(l, NOON + LIMIT_SAVE_INTERVAL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(fsize(d.jnl), 0);
	assert_true(fsize(d.snap) > 0);
	/* counting goes on in the emptied journal */
	assert_int_equal(send1(l, "a@163.com", 1, NOON + 6), 0);
	assert_true(fsize(d.jnl) > 0);
	limit_free(l);
	l = limit_open(d.dir, NOON + 7, err, sizeof(err));
	assert_string_equal(err, "");
	assert_counts(l, "a@163.com", NOON + 7, 3, 7);
	limit_free(l);

	/* a crash after the snapshot's rename, before the journal was
	 * emptied: the records the snapshot holds are not counted twice */
	l = limit_open(d.dir, NOON + 8, err, sizeof(err));
	assert_int_equal(fsize(d.jnl), 0);
	limit_free(l);
	copy_file(saved, d.jnl);
	l = limit_open(d.dir, NOON + 9, err, sizeof(err));
	assert_string_equal(err, "");
	assert_counts(l, "a@163.com", NOON + 9, 3, 7);
	limit_free(l);
	free(saved);
	sdir_free(&d);
}

static void
test_journal_failure(void **state)
{
	struct sdir d;
	struct limits *l;
	char err[512], why[512];
	int full, keep;

	sdir_make(&d);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_int_equal(send1(l, "a@163.com", 1, NOON), 0);
	/* the disk is full: writes to the journal fail with ENOSPC */
	full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(full >= 0);
	keep = dup(l->j->fd);
	assert_true(keep >= 0);
	assert_int_equal(dup2(full, l->j->fd), l->j->fd);
	assert_int_equal(limit_reserve(l, "a@163.com", 100, NOON, why,
	    sizeof(why)), 0);
	assert_int_equal(limit_count(l, "a@163.com", 2, NOON), -1);
	/* counted in memory all the same */
	assert_counts(l, "a@163.com", NOON, 2, 3);
	/* an account with a daily limit is deferred from now on ... */
	assert_int_equal(limit_reserve(l, "a@163.com", 100, NOON, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "daily counters cannot be recorded ("));
	assert_non_null(strstr(why, "relay-limits.journal: No space left on "
	    "device): mail of account a@163.com is deferred until they can, "
	    "so that its daily limit of 100 messages is not overshot"));
	assert_false(limits_rcpt_ok(l, "a@163.com", 50, 0, NOON, why,
	    sizeof(why)));
	assert_non_null(strstr(why, "daily limit of 50 recipients is not "
	    "overshot"));
	/* ... one without a limit goes on (memory only) */
	assert_int_equal(limit_reserve(l, "b@qq.com", 0, NOON, why,
	    sizeof(why)), 0);
	assert_int_equal(limit_count(l, "b@qq.com", 1, NOON), -1);
	assert_true(limits_rcpt_ok(l, "b@qq.com", 0, 0, NOON, why,
	    sizeof(why)));
	/* space again: the next compaction makes the journal work again */
	assert_int_equal(dup2(keep, l->j->fd), l->j->fd);
	close(keep);
	close(full);
	assert_int_equal(limit_save(l, NOON + LIMIT_SAVE_INTERVAL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(limit_reserve(l, "a@163.com", 100, NOON + 5, why,
	    sizeof(why)), 0);
	assert_int_equal(limit_count(l, "a@163.com", 1, NOON + 5), 0);
	limit_free(l);
	/* nothing counted while the journal failed is lost */
	l = limit_open(d.dir, NOON + 6, err, sizeof(err));
	assert_counts(l, "a@163.com", NOON + 6, 3, 4);
	assert_counts(l, "b@qq.com", NOON + 6, 1, 1);
	limit_free(l);
	sdir_free(&d);
}

static void
test_journal_uncount(void **state)
{
	struct sdir d;
	struct limits *l;
	char err[512], why[512];

	sdir_make(&d);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	assert_int_equal(limit_count(l, "a@163.com", 4, NOON), 0);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	assert_int_equal(limit_count(l, "a@163.com", 2, NOON), 0);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), -1);
	/* the provider refused the second one */
	limit_uncount(l, "a@163.com", 2, NOON);
	assert_counts(l, "a@163.com", NOON, 1, 4);
	assert_int_equal(limit_reserve(l, "a@163.com", 2, NOON, why,
	    sizeof(why)), 0);
	limit_release(l, "a@163.com", 0, 0, NOON);
	limit_free(l);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_counts(l, "a@163.com", NOON, 1, 4);
	limit_free(l);
	sdir_free(&d);
}

static void
test_journal_unsafe_files(void **state)
{
	struct sdir d;
	struct limits *l;
	char err[512], why[512], *target;

	sdir_make(&d);
	target = xasprintf("%s/elsewhere", d.dir);
	assert_int_equal(symlink(target, d.jnl), 0);
	assert_int_equal(symlink(target, d.snap), 0);
	l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_non_null(strstr(err, "relay-limits: is a symbolic link "
	    "(refused)"));
	/* no journal: accounts with a limit are deferred */
	assert_int_equal(limit_reserve(l, "a@163.com", 10, NOON, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "relay-limits.journal: is a symbolic "
	    "link (refused)"));
	assert_int_equal(access(target, F_OK), -1);	/* nothing followed */
	limit_free(l);
	unlink(d.jnl);
	unlink(d.snap);

	/* a journal that belongs to somebody else is not used either */
	if (geteuid() == 0) {
		int fd = open(d.jnl, O_CREAT | O_WRONLY, 0600);

		assert_true(fd >= 0);
		assert_int_equal(fchown(fd, 65534, 65534), 0);
		close(fd);
		l = limit_open(d.dir, NOON, err, sizeof(err));
		assert_non_null(strstr(err, "relay-limits.journal: owned by "
		    "uid 65534, not by the relay's user (uid 0)"));
		assert_int_equal(limit_reserve(l, "a@163.com", 10, NOON, why,
		    sizeof(why)), -1);
		limit_free(l);
	}
	free(target);
	sdir_free(&d);
}

struct counting {
	struct limits	*l;
	int		 fails;
};

static void *
count_thread(void *arg)
{
	struct counting *c = arg;
	char why[512];

	for (int i = 0; i < 50; i++) {
		if (limit_reserve(c->l, "a@163.com", 1000, NOON, why,
		    sizeof(why)) != 0 ||
		    limit_count(c->l, "a@163.com", 2, NOON) != 0)
			__atomic_add_fetch(&c->fails, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
test_journal_concurrent(void **state)
{
	struct sdir d;
	struct counting c = { 0 };
	pthread_t t[8];
	char err[512];

	sdir_make(&d);
	c.l = limit_open(d.dir, NOON, err, sizeof(err));
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_thread, &c),
		    0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(c.fails, 0);
	/* at most one fdatasync per record; how many records share one
	 * depends on how long the filesystem takes to sync (on tmpfs it
	 * returns at once, so there may be no batching at all; group commit
	 * itself is proven by test_journal_group_commit) */
	print_message("400 records, %lu fdatasync calls\n", c.l->j->syncs);
	assert_true(c.l->j->syncs >= 1 && c.l->j->syncs <= 400);
	limit_free(c.l);
	c.l = limit_open(d.dir, NOON, err, sizeof(err));
	assert_string_equal(err, "");
	assert_counts(c.l, "a@163.com", NOON, 400, 800);
	limit_free(c.l);
	sdir_free(&d);
}

struct waiter {
	struct journal		*j;
	pthread_barrier_t	*start;
	unsigned long long	 seq;
	int			 rc;
};

static void *
sync_thread(void *arg)
{
	struct waiter *w = arg;
	char err[512];

	pthread_barrier_wait(w->start);
	w->rc = journal_sync(w->j, w->seq, err, sizeof(err));
	return NULL;
}

static void
append_recs(struct journal *j, unsigned long long from,
    unsigned long long to)
{
	struct journal_rec r;
	char err[512];

	for (unsigned long long seq = from; seq <= to; seq++) {
		memset(&r, 0, sizeof(r));
		r.seq = seq;
		r.day = 20522;
		r.msgs = 1;
		r.rcpts = 1;
		xstrlcpy(r.account, "a@163.com", sizeof(r.account));
		assert_int_equal(journal_append(j, &r, err, sizeof(err)), 0);
	}
}

static void
count_rec(void *arg, const struct journal_rec *r)
{
	(*(int *)arg)++;
}

/* Group commit, independent of how long fdatasync takes: one sync makes
 * every record appended before it durable, and threads waiting for
 * records that are already durable do not sync again. */
static void
test_journal_group_commit(void **state)
{
	struct sdir d;
	struct journal *j;
	struct waiter w[8];
	pthread_t t[8];
	pthread_barrier_t start;
	char err[512] = "", warn[512];
	unsigned torn = 0;
	int nrec = 0;

	sdir_make(&d);
	j = journal_open(d.jnl, err, sizeof(err));
	assert_non_null(j);
	/* waiting for the first of 4 records syncs all 4 */
	append_recs(j, 1, 4);
	assert_int_equal(journal_sync(j, 1, err, sizeof(err)), 0);
	assert_int_equal(j->syncs, 1);
	assert_int_equal(j->synced, 4);
	assert_int_equal(journal_sync(j, 4, err, sizeof(err)), 0);
	assert_int_equal(j->syncs, 1);

	/* 8 threads wait at once for 8 records appended before: one sync */
	append_recs(j, 5, 12);
	assert_int_equal(pthread_barrier_init(&start, NULL, 8), 0);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct waiter){ j, &start, 5 + (unsigned)i, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, sync_thread,
		    &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(j->syncs, 2);
	assert_int_equal(j->synced, 12);

	/* a record appended after the last sync needs a sync of its own */
	append_recs(j, 13, 13);
	assert_int_equal(journal_sync(j, 13, err, sizeof(err)), 0);
	assert_int_equal(j->syncs, 3);
	journal_close(j);
	assert_int_equal(journal_replay(d.jnl, count_rec, &nrec, &torn, warn,
	    sizeof(warn), err, sizeof(err)), 13);
	assert_int_equal(nrec, 13);
	assert_int_equal(torn, 0);
	sdir_free(&d);
}

static const struct {
	int code, local;
	const char *enh, *host, *text, *want;
	int quota;
} answers[] = {
	{ 553, 0, "", "smtp.163.com", "Mail from must equal authorized user",
	  "553 5.0.0 smtp.163.com said: 553 Mail from must equal authorized "
	  "user", 0 },
	{ 550, 0, "5.4.5", "smtp.gmail.com", "Daily sending quota exceeded.",
	  "550 5.4.5 smtp.gmail.com said: 550 5.4.5 Daily sending quota "
	  "exceeded.", 1 },
	{ 451, 0, "", "smtp.163.com", "MI:SFQ Session too many",
	  "451 4.0.0 smtp.163.com said: 451 MI:SFQ Session too many", 1 },
	{ 421, 0, "", "smtp.163.com", "HL:ICC connection too many",
	  "421 4.0.0 smtp.163.com said: 421 HL:ICC connection too many", 1 },
	{ 554, 0, "", "smtp.163.com", "MI:STC too many",
	  "554 5.0.0 smtp.163.com said: 554 MI:STC too many", 1 },
	{ 550, 0, "", "smtp.163.com", "RP:RCL too many recipients",
	  "550 5.0.0 smtp.163.com said: 550 RP:RCL too many recipients", 1 },
	{ 550, 0, "5.1.1", "smtp.qq.com", "Mailbox not found",
	  "550 5.1.1 smtp.qq.com said: 550 5.1.1 Mailbox not found", 0 },
	/* an enhanced code of the wrong class is replaced */
	{ 450, 0, "5.1.1", "mx.test", "busy",
	  "450 4.0.0 mx.test said: 450 5.1.1 busy", 0 },
	{ 250, 0, "2.0.0", "mx.test", "Ok: queued",
	  "250 2.0.0 mx.test said: 250 2.0.0 Ok: queued", 0 },
	/* the client side's own replies already name the host */
	{ 451, 1, "4.4.1", "smtp.test",
	  "smtp.test[127.0.0.1]:465: connection refused",
	  "451 4.4.1 smtp.test[127.0.0.1]:465: connection refused", 0 },
	/* control characters never reach Postfix */
	{ 550, 0, "", "mx.test", "bad\001text", "550 5.0.0 mx.test said: 550 "
	  "bad?text", 0 },
};

static void
test_answers(void **state)
{
	char buf[ANSWER_MAX + 1];
	struct smtp_reply r;

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.code = answers[i].code;
		r.local = answers[i].local;
		xstrlcpy(r.enhanced, answers[i].enh, sizeof(r.enhanced));
		xstrlcpy(r.host, answers[i].host, sizeof(r.host));
		xstrlcpy(r.text, answers[i].text, sizeof(r.text));
		answer_relayed(&r, buf, sizeof(buf));
		assert_string_equal(buf, answers[i].want);
		assert_int_equal(answer_is_quota(&r), answers[i].quota);
	}
	memset(&r, 0, sizeof(r));
	r.code = 550;
	xstrlcpy(r.enhanced, "5.4.5", sizeof(r.enhanced));
	xstrlcpy(r.host, "smtp.gmail.com", sizeof(r.host));
	xstrlcpy(r.text, "Daily sending quota exceeded", sizeof(r.text));
	answer_recoded(&r, 451, "4.7.1", "account a@gmail.com cooling off "
	    "for 3600 s", buf, sizeof(buf));
	assert_string_equal(buf, "451 4.7.1 smtp.gmail.com said: 550 5.4.5 "
	    "Daily sending quota exceeded; account a@gmail.com cooling off "
	    "for 3600 s");
	/* long texts are cut to one reply line */
	memset(r.text, 'x', sizeof(r.text) - 1);
	r.text[sizeof(r.text) - 1] = '\0';
	answer_relayed(&r, buf, sizeof(buf));
	assert_int_equal(strlen(buf), ANSWER_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_messages),
		cmocka_unit_test(test_daily_recipients),
		cmocka_unit_test(test_cooloff),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_journal_replay),
		cmocka_unit_test(test_journal_torn),
		cmocka_unit_test(test_journal_compaction),
		cmocka_unit_test(test_journal_failure),
		cmocka_unit_test(test_journal_uncount),
		cmocka_unit_test(test_journal_unsafe_files),
		cmocka_unit_test(test_journal_concurrent),
		cmocka_unit_test(test_journal_group_commit),
		cmocka_unit_test(test_answers),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
