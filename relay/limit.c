/*
 * limit — see limit.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "journal.h"
#include "limit.h"
#include "log.h"
#include "redislimit.h"
#include "util.h"

#define REASON_MAX 256

struct counter {
	char		*account;
	long		 day;		/* YYYYMMDD, local time */
	unsigned	 msgs, rcpts;
	unsigned	 inflight;	/* reserved, not in the file */
	time_t		 cool_until;
	char		 reason[REASON_MAX];
	time_t		 error_at;	/* last failure, not in the file */
	char		 error[REASON_MAX];
	struct counter	*next;
};

struct limits {
	pthread_mutex_t	 mu;
	char		*path;		/* NULL: memory only */
	char		*jpath;		/* the journal */
	struct journal	*j;		/* NULL if it cannot be opened */
	unsigned long long seq;		/* last journal record's */
	unsigned long long snap_seq;	/* records in the snapshot read */
	int		 jbroken;	/* counts cannot be made durable */
	char		 jerr[256];	/* why */
	struct counter	*head;
	int		 dirty;
	time_t		 saved;
	struct redislimit *r;		/* shared store, or NULL */
	unsigned	 share_m, share_n;	/* while r is unreachable */
	unsigned long	 epoch;		/* r's connection written to */
};

static long
day_of(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000L + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* "00:00 CST": when today's counters start over. */
static void
reset_time(time_t now, char *buf, size_t size)
{
	struct tm tm;
	time_t next;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	next = mktime(&tm);
	localtime_r(&next, &tm);
	strftime(buf, size, "%H:%M %Z", &tm);
}

/* When today's counters start over (the shared counts' expiry). */
static time_t
reset_at(time_t now)
{
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday++;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* This relay's share of limit while the shared store is away. */
static unsigned
share_of(const struct limits *l, unsigned limit)
{
	return (unsigned)((unsigned long long)limit * l->share_m / l->share_n);
}

/* The counter of account, created (for day) if absent. */
static struct counter *
counter_find(struct limits *l, const char *account, long day)
{
	struct counter *c;

	for (c = l->head; c != NULL; c = c->next)
		if (strcasecmp(c->account, account) == 0)
			return c;
	c = xcalloc(1, sizeof(*c));
	c->account = xstrdup(account);
	c->day = day;
	c->next = l->head;
	l->head = c;
	return c;
}

/* The counter of account, created if absent, rolled over to today. */
static struct counter *
counter_get(struct limits *l, const char *account, time_t now)
{
	struct counter *c;
	long today = day_of(now);

	c = counter_find(l, account, today);
	if (c->day != today) {
		c->day = today;
		c->msgs = c->rcpts = 0;
		l->dirty = 1;
	}
	return c;
}

static void
load_line(struct limits *l, char *line)
{
	char account[512], reason[REASON_MAX];
	long day, until;
	unsigned msgs, rcpts;
	unsigned long long seq;
	int n = 0;
	struct counter *c;

	reason[0] = '\0';
	if (sscanf(line, "journal-seq %llu %n", &seq, &n) == 1 &&
	    line[n] == '\0') {
		l->snap_seq = l->seq = seq;
		return;
	}
	n = 0;
	if (line[0] == '#' || sscanf(line, "%511s %ld %u %u %ld %n",
	    account, &day, &msgs, &rcpts, &until, &n) != 5)
		return;
	xstrlcpy(reason, line + n, sizeof(reason));
	reason[strcspn(reason, "\r\n")] = '\0';
	c = xcalloc(1, sizeof(*c));
	c->account = xstrdup(account);
	c->day = day;
	c->msgs = msgs;
	c->rcpts = rcpts;
	c->cool_until = (time_t)until;
	xstrlcpy(c->reason, reason, sizeof(c->reason));
	c->next = l->head;
	l->head = c;
}

/* The journal failed: counts stay in memory, accounts with a daily limit
 * are deferred until a compaction succeeds (l->mu held). */
static void
journal_broken(struct limits *l, const char *why)
{
	if (l->jbroken)
		return;
	l->jbroken = 1;
	l->dirty = 1;
	xstrlcpy(l->jerr, why, sizeof(l->jerr));
	log_warnx("limits: %s: daily counts are kept in memory only; mail of "
	    "accounts with a daily limit is deferred until the journal can "
	    "be written again", why);
}

/* A journal record read back at start. */
static void
replay_rec(void *arg, const struct journal_rec *r)
{
	struct limits *l = arg;
	struct counter *c;

	if (r->seq <= l->snap_seq)
		return;		/* already in the snapshot */
	if (r->seq > l->seq)
		l->seq = r->seq;
	c = counter_find(l, r->account, r->day);
	if (r->day < c->day)
		return;
	if (r->day > c->day) {
		c->day = r->day;
		c->msgs = c->rcpts = 0;
	}
	c->msgs = r->msgs < 0 && (unsigned)-r->msgs > c->msgs ? 0 :
	    c->msgs + (unsigned)r->msgs;
	c->rcpts = r->rcpts < 0 && (unsigned)-r->rcpts > c->rcpts ? 0 :
	    c->rcpts + (unsigned)r->rcpts;
	l->dirty = 1;
}

static void
add_err(char *err, size_t errsize, const char *text)
{
	if (err[0])
		xstrlcat(err, "; ", errsize);
	xstrlcat(err, text, errsize);
}

static int	compact(struct limits *, time_t, char *, size_t);

/* Snapshot, then the journal's records after it; a journal that held
 * anything is compacted into the snapshot at once. */
static void
load_state(struct limits *l, time_t now, char *err, size_t errsize)
{
	char line[1024], msg[512], warn[512];
	unsigned torn;
	long nrec;
	FILE *fp;

	if ((fp = journal_fopen_safe(l->path, msg, sizeof(msg))) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			load_line(l, line);
		fclose(fp);
	} else if (errno != ENOENT) {
		snprintf(line, sizeof(line), "%s (counting starts from the "
		    "journal)", msg);
		add_err(err, errsize, line);
	}
	nrec = journal_replay(l->jpath, replay_rec, l, &torn, warn,
	    sizeof(warn), msg, sizeof(msg));
	if (nrec < 0)
		add_err(err, errsize, msg);
	if (torn)
		add_err(err, errsize, warn);
	if (nrec > 0)
		log_info("limits: journal=%s records_replayed=%ld", l->jpath, nrec);
	if ((l->j = journal_open(l->jpath, msg, sizeof(msg))) == NULL) {
		journal_broken(l, msg);
		return;
	}
	if ((nrec != 0 || torn) && compact(l, now, msg, sizeof(msg)) != 0)
		journal_broken(l, msg);
}

struct limits *
limit_open(const char *state_dir, time_t now, char *err, size_t errsize)
{
	struct limits *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->mu, NULL);
	l->saved = now;
	err[0] = '\0';
	if (state_dir == NULL || *state_dir == '\0')
		return l;
	l->path = xasprintf("%s/%s", state_dir, LIMIT_FILE);
	l->jpath = xasprintf("%s/%s", state_dir, LIMIT_JOURNAL);
	load_state(l, now, err, errsize);
	return l;
}

void
limit_free(struct limits *l)
{
	struct counter *c, *next;

	if (l == NULL)
		return;
	for (c = l->head; c != NULL; c = next) {
		next = c->next;
		free(c->account);
		free(c);
	}
	journal_close(l->j);
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	free(l->jpath);
	free(l);
}

/* ---- the shared store (l->mu held) ---- */

void
limit_set_store(struct limits *l, struct redislimit *r, unsigned m,
    unsigned n)
{
	pthread_mutex_lock(&l->mu);
	l->r = r;
	l->share_m = m ? m : 1;
	l->share_n = n ? n : 1;
	l->epoch = 0;
	pthread_mutex_unlock(&l->mu);
}

/* Writes c's counts (messages with those reserved) to the store. */
static int
shared_put(struct limits *l, struct counter *c, time_t now)
{
	if (l->r == NULL)
		return -1;
	return redislimit_put(l->r, c->account, c->day, reset_at(now),
	    c->msgs + c->inflight, c->rcpts);
}

/* 0 if the store is reachable and holds this relay's counts (written
 * again after each new connection), else -1.  Cool-offs are not written
 * again: the store's say whether an account cools off (one set while it
 * was unreachable may cost one more refused login; one cleared elsewhere
 * meanwhile is not brought back). */
static int
shared_sync(struct limits *l, time_t now)
{
	unsigned long epoch;
	long today = day_of(now);
	struct counter *c;

	if (l->r == NULL)
		return -1;
	epoch = redislimit_epoch(l->r);
	if (epoch == l->epoch && epoch != 0) {
		time_t since;
		char err[8];

		return redislimit_up(l->r, &since, err, sizeof(err)) ? 0 : -1;
	}
	for (c = l->head; c != NULL; c = c->next) {
		if (c->day == today && (c->msgs || c->inflight || c->rcpts) &&
		    shared_put(l, c, now) != 0)
			return -1;
	}
	epoch = redislimit_epoch(l->r);
	if (epoch == 0)
		return -1;
	l->epoch = epoch;
	return 0;
}

/* The store's refusal of one more message, 1 to go on, or -1 if it is
 * unreachable. */
static int
shared_reserve(struct limits *l, struct counter *c, unsigned daily,
    time_t now)
{
	unsigned total;

	if (shared_sync(l, now) != 0)
		return -1;
	return redislimit_reserve(l->r, c->account, c->day, reset_at(now),
	    daily, c->msgs + c->inflight, &total);
}

static void
share_refusal(const struct limits *l, const char *account, unsigned limit,
    const char *what, time_t now, char *why, size_t whysize)
{
	char reset[64];

	reset_time(now, reset, sizeof(reset));
	snprintf(why, whysize, "daily limit of %u %s for account %s reached "
	    "(this relay's share %u/%u: %u, while limits-store %s is "
	    "unreachable); resets at %s", limit, what, account, l->share_m,
	    l->share_n, share_of(l, limit), redislimit_url(l->r), reset);
}

/* The shared limit's refusal: "daily limit of 30 messages for account X
 * reached; resets at 00:00 CST". */
static void
limit_refusal(const char *account, unsigned limit, const char *what,
    time_t now, char *why, size_t whysize)
{
	char reset[64];

	reset_time(now, reset, sizeof(reset));
	snprintf(why, whysize, "daily limit of %u %s for account %s reached; "
	    "resets at %s", limit, what, account, reset);
}

/* While the store settles after an outage (redislimit_settling()), this
 * relay's own count (own, extra included) is bounded by its share of
 * limit as well: 1 refused, with the refusal in why (the shared limit's
 * own when the day's total over the relays has reached it too), 0 not
 * bounded so, -1 the store is unreachable. */
static int
settle_refusal(struct limits *l, struct counter *c, unsigned own,
    unsigned extra, unsigned limit, int rcpts, time_t now, char *why,
    size_t whysize)
{
	char reset[64], end[16];
	unsigned msgs, nrcpts;
	time_t since, until;
	struct tm tm;

	if (limit == 0 || !redislimit_settling(l->r, now, &since, &until) ||
	    own + extra < share_of(l, limit))
		return 0;
	if (shared_sync(l, now) != 0 || redislimit_get(l->r, c->account,
	    c->day, &msgs, &nrcpts) != 0)
		return -1;
	if ((rcpts ? nrcpts : msgs) + extra >= limit) {
		limit_refusal(c->account, limit, rcpts ? "recipients" :
		    "messages", now, why, whysize);
		return 1;
	}
	reset_time(now, reset, sizeof(reset));
	localtime_r(&until, &tm);
	strftime(end, sizeof(end), "%H:%M:%S", &tm);
	snprintf(why, whysize, "daily limit of %u %s for account %s reached "
	    "(this relay's share %u/%u: %u, while limits-store %s settles "
	    "after an outage, until %s); resets at %s", limit, rcpts ?
	    "recipients" : "messages", c->account, l->share_m, l->share_n,
	    share_of(l, limit), redislimit_url(l->r), end, reset);
	return 1;
}

int
limit_reserve(struct limits *l, const char *account, unsigned daily_msgs,
    time_t now, char *why, size_t whysize)
{
	struct counter *c;
	char reset[64];
	int rc = 0, shared, settle = 0;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (daily_msgs != 0 && l->jbroken) {
		snprintf(why, whysize, "daily counters cannot be recorded "
		    "(%s): mail of account %s is deferred until they can, so "
		    "that its daily limit of %u messages is not overshot",
		    l->jerr, account, daily_msgs);
		rc = -1;
	} else if (l->r != NULL && (settle = settle_refusal(l, c, c->msgs +
	    c->inflight, 0, daily_msgs, 0, now, why, whysize)) == 1) {
		rc = -1;
	} else if (l->r != NULL && settle == 0 && (shared = shared_reserve(l,
	    c, daily_msgs, now)) != -1) {
		if (shared == 0) {
			reset_time(now, reset, sizeof(reset));
			snprintf(why, whysize, "daily limit of %u messages for "
			    "account %s reached; resets at %s", daily_msgs,
			    account, reset);
			rc = -1;
		} else
			c->inflight++;
	} else if (l->r != NULL && daily_msgs != 0 &&
	    c->msgs + c->inflight >= share_of(l, daily_msgs)) {
		share_refusal(l, account, daily_msgs, "messages", now, why,
		    whysize);
		rc = -1;
	} else if (daily_msgs != 0 && c->msgs + c->inflight >= daily_msgs) {
		reset_time(now, reset, sizeof(reset));
		snprintf(why, whysize, "daily limit of %u messages for "
		    "account %s reached; resets at %s", daily_msgs, account,
		    reset);
		rc = -1;
	} else
		c->inflight++;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int
limits_rcpt_ok(struct limits *l, const char *account, unsigned daily_rcpts,
    unsigned accepted, time_t now, char *why, size_t whysize)
{
	struct counter *c;
	char reset[64];
	unsigned msgs, rcpts;
	int ok = 1, settle = 0;

	if (daily_rcpts == 0)
		return 1;
	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	rcpts = c->rcpts;
	if (l->r != NULL && (shared_sync(l, now) != 0 ||
	    redislimit_get(l->r, account, c->day, &msgs, &rcpts) != 0 ||
	    (settle = settle_refusal(l, c, c->rcpts, accepted, daily_rcpts, 1,
	    now, why, whysize)) == -1)) {
		rcpts = c->rcpts;
		if (rcpts + accepted >= share_of(l, daily_rcpts)) {
			share_refusal(l, account, daily_rcpts, "recipients",
			    now, why, whysize);
			ok = 0;
		}
	} else if (settle == 1)
		ok = 0;
	if (!ok)
		;
	else if (l->jbroken) {
		snprintf(why, whysize, "daily counters cannot be recorded "
		    "(%s): mail of account %s is deferred until they can, so "
		    "that its daily limit of %u recipients is not overshot",
		    l->jerr, account, daily_rcpts);
		ok = 0;
	} else if (rcpts + accepted >= daily_rcpts) {
		reset_time(now, reset, sizeof(reset));
		snprintf(why, whysize, "daily limit of %u recipients for "
		    "account %s reached; resets at %s", daily_rcpts, account,
		    reset);
		ok = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

/* Add msgs and rcpts (deltas) to c and write the journal record (l->mu
 * held): the record's sequence number to wait for, or 0 if there is
 * nothing to wait for (memory only, or the journal failed). */
static unsigned long long
count_locked(struct limits *l, struct counter *c, int msgs, int rcpts)
{
	struct journal_rec r;
	char err[512];

	c->msgs = msgs < 0 && (unsigned)-msgs > c->msgs ? 0 :
	    c->msgs + (unsigned)msgs;
	c->rcpts = rcpts < 0 && (unsigned)-rcpts > c->rcpts ? 0 :
	    c->rcpts + (unsigned)rcpts;
	l->dirty = 1;
	if (l->path == NULL || l->jbroken || l->j == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	r.seq = l->seq + 1;
	r.day = c->day;
	r.msgs = msgs;
	r.rcpts = rcpts;
	xstrlcpy(r.account, c->account, sizeof(r.account));
	if (journal_append(l->j, &r, err, sizeof(err)) != 0) {
		journal_broken(l, err);
		return 0;
	}
	return l->seq = r.seq;
}

/* Wait until the record seq is durable (l->mu not held); 0 or -1. */
static int
count_wait(struct limits *l, unsigned long long seq)
{
	char err[512];
	int rc = 0;

	if (seq != 0 && journal_sync(l->j, seq, err, sizeof(err)) != 0) {
		pthread_mutex_lock(&l->mu);
		journal_broken(l, err);
		pthread_mutex_unlock(&l->mu);
		return -1;
	}
	if (seq == 0 && l->path != NULL) {
		pthread_mutex_lock(&l->mu);
		rc = l->jbroken ? -1 : 0;
		pthread_mutex_unlock(&l->mu);
	}
	return rc;
}

int
limit_count(struct limits *l, const char *account, unsigned nrcpts,
    time_t now)
{
	struct counter *c;
	unsigned long long seq;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (c->inflight > 0)
		c->inflight--;
	seq = count_locked(l, c, 1, (int)nrcpts);
	(void)shared_put(l, c, now);
	pthread_mutex_unlock(&l->mu);
	return count_wait(l, seq);
}

void
limit_uncount(struct limits *l, const char *account, unsigned nrcpts,
    time_t now)
{
	struct counter *c;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	(void)count_locked(l, c, -1, -(int)nrcpts);
	(void)shared_put(l, c, now);
	pthread_mutex_unlock(&l->mu);
}

void
limit_release(struct limits *l, const char *account, int delivered,
    unsigned nrcpts, time_t now)
{
	struct counter *c;

	if (delivered) {
		(void)limit_count(l, account, nrcpts, now);
		return;
	}
	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (c->inflight > 0)
		c->inflight--;
	(void)shared_put(l, c, now);
	pthread_mutex_unlock(&l->mu);
}

void
limit_cooloff(struct limits *l, const char *account, unsigned seconds,
    const char *reason, time_t now)
{
	struct counter *c;

	if (seconds == 0)
		return;
	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	c->cool_until = now + (time_t)seconds;
	xstrlcpy(c->reason, reason ? reason : "", sizeof(c->reason));
	for (char *p = c->reason; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	l->dirty = 1;
	if (l->r != NULL)
		(void)redislimit_cool_set(l->r, account, seconds, c->reason);
	pthread_mutex_unlock(&l->mu);
}

void
limit_cooloff_clear(struct limits *l, const char *account)
{
	struct counter *c;

	pthread_mutex_lock(&l->mu);
	for (c = l->head; c != NULL; c = c->next)
		if (strcasecmp(c->account, account) == 0 && c->cool_until) {
			c->cool_until = 0;
			c->reason[0] = '\0';
			l->dirty = 1;
		}
	if (l->r != NULL)
		(void)redislimit_cool_clear(l->r, account);
	pthread_mutex_unlock(&l->mu);
}

/* The store's cool-off of c's account replaces the local one. */
static void
shared_cooling(struct limits *l, struct counter *c, time_t now)
{
	char reason[REASON_MAX];
	unsigned secs;
	int rc;

	if (shared_sync(l, now) != 0 || (rc = redislimit_cool_get(l->r,
	    c->account, &secs, reason, sizeof(reason))) == -1)
		return;		/* unreachable: the local one holds */
	if (rc == 1) {
		if (c->cool_until != now + (time_t)secs)
			l->dirty = 1;
		c->cool_until = now + (time_t)secs;
		xstrlcpy(c->reason, reason, sizeof(c->reason));
	} else if (c->cool_until > now) {
		c->cool_until = 0;	/* ended by another relay */
		c->reason[0] = '\0';
		l->dirty = 1;
	}
}

int
limit_cooling(struct limits *l, const char *account, time_t now,
    char *why, size_t whysize)
{
	struct counter *c;
	struct tm tm;
	char until[32];
	int cooling = 0;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (l->r != NULL)
		shared_cooling(l, c, now);
	if (c->cool_until > now) {
		localtime_r(&c->cool_until, &tm);
		strftime(until, sizeof(until), "%H:%M:%S", &tm);
		snprintf(why, whysize, "account %s is cooling off until %s "
		    "after: %s", account, until,
		    c->reason[0] ? c->reason : "an earlier failure");
		cooling = 1;
	}
	pthread_mutex_unlock(&l->mu);
	return cooling;
}

void
limit_get(struct limits *l, const char *account, time_t now,
    unsigned *msgs, unsigned *rcpts)
{
	struct counter *c;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	*msgs = c->msgs;
	*rcpts = c->rcpts;
	pthread_mutex_unlock(&l->mu);
}

void
limit_note_error(struct limits *l, const char *account, const char *text,
    time_t now)
{
	struct counter *c;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	c->error_at = now;
	str_printable(c->error, sizeof(c->error), text, strlen(text));
	pthread_mutex_unlock(&l->mu);
}

void
limit_state(struct limits *l, const char *account, time_t now,
    struct limit_state *st)
{
	struct counter *c;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&l->mu);
	for (c = l->head; c != NULL; c = c->next)
		if (strcasecmp(c->account, account) == 0)
			break;
	if (c != NULL && l->r != NULL)
		shared_cooling(l, c, now);
	if (c != NULL) {
		if (c->day == day_of(now)) {
			st->msgs = c->msgs;
			st->rcpts = c->rcpts;
		}
		st->inflight = c->inflight;
		st->cool_until = c->cool_until;
		xstrlcpy(st->cool_reason, c->reason, sizeof(st->cool_reason));
		st->error_at = c->error_at;
		xstrlcpy(st->error, c->error, sizeof(st->error));
	}
	if (l->r != NULL && shared_sync(l, now) == 0 &&
	    redislimit_get(l->r, account, day_of(now), &st->total_msgs,
	    &st->total_rcpts) == 0 && redislimit_lease_count(l->r, account,
	    &st->total_sessions) == 0)
		st->shared = 1;
	pthread_mutex_unlock(&l->mu);
}

static int
write_state(struct limits *l, char *err, size_t errsize)
{
	char *tmp = xasprintf("%s.XXXXXX", l->path);
	int fd, rc = -1;
	FILE *fp;

	if ((fd = mkstemp(tmp)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		free(tmp);
		return -1;
	}
	fprintf(fp, "# smarthost-relay daily counters: "
	    "account day msgs rcpts cooloff-until reason\n");
	/* the journal's records up to this one are counted here */
	fprintf(fp, "journal-seq %llu\n", l->seq);
	for (struct counter *c = l->head; c != NULL; c = c->next)
		fprintf(fp, "%s %ld %u %u %ld %s\n", c->account, c->day,
		    c->msgs, c->rcpts, (long)c->cool_until, c->reason);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
	else if (rename(tmp, l->path) != 0)
		snprintf(err, errsize, "%s: %s", l->path, strerror(errno));
	else if (journal_sync_dir(l->path) != 0)
		snprintf(err, errsize, "%s: fsync of its directory: %s",
		    l->path, strerror(errno));
	else
		rc = 0;
	fclose(fp);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Compaction (l->mu held): the snapshot holds every count, then the
 * journal starts empty; a journal that had failed works again. */
static int
compact(struct limits *l, time_t now, char *err, size_t errsize)
{
	l->saved = now;		/* a failure is retried after the interval */
	if (write_state(l, err, errsize) != 0)
		return -1;
	l->dirty = 0;
	if (l->j == NULL && (l->j = journal_open(l->jpath, err,
	    errsize)) == NULL)
		return -1;
	if (journal_reset(l->j, err, errsize) != 0)
		return -1;
	if (l->jbroken) {
		l->jbroken = 0;
		log_info("limits: %s works again: daily counts are durable, "
		    "mail of accounts with a daily limit is accepted again",
		    l->jpath);
	}
	return 0;
}

int
limit_save(struct limits *l, time_t now, int force, char *err,
    size_t errsize)
{
	time_t since, until;
	int rc = 0;

	err[0] = '\0';
	pthread_mutex_lock(&l->mu);
	if (l->r != NULL) {	/* after a reconnection: this relay's counts */
		(void)shared_sync(l, now);
		/* the end of a settling window is logged now */
		(void)redislimit_settling(l->r, now, &since, &until);
	}
	if (l->path != NULL && (l->dirty || l->jbroken) &&
	    (force || now - l->saved >= LIMIT_SAVE_INTERVAL))
		rc = compact(l, now, err, errsize);
	pthread_mutex_unlock(&l->mu);
	return rc;
}
