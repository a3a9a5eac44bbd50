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

#include "limit.h"
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
	struct counter	*head;
	int		 dirty;
	time_t		 saved;
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

/* The counter of account, created if absent, rolled over to today. */
static struct counter *
counter_get(struct limits *l, const char *account, time_t now)
{
	struct counter *c;
	long today = day_of(now);

	for (c = l->head; c != NULL; c = c->next)
		if (strcasecmp(c->account, account) == 0)
			break;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->account = xstrdup(account);
		c->day = today;
		c->next = l->head;
		l->head = c;
	}
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
	int n = 0;
	struct counter *c;

	reason[0] = '\0';
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

struct limits *
limit_open(const char *state_dir, time_t now, char *err, size_t errsize)
{
	struct limits *l = xcalloc(1, sizeof(*l));
	char line[1024];
	FILE *fp;

	pthread_mutex_init(&l->mu, NULL);
	l->saved = now;
	err[0] = '\0';
	if (state_dir == NULL || *state_dir == '\0')
		return l;
	l->path = xasprintf("%s/%s", state_dir, LIMIT_FILE);
	if ((fp = fopen(l->path, "r")) == NULL) {
		if (errno != ENOENT)
			snprintf(err, errsize, "%s: %s (counting starts "
			    "from zero)", l->path, strerror(errno));
		return l;
	}
	while (fgets(line, sizeof(line), fp) != NULL)
		load_line(l, line);
	fclose(fp);
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
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	free(l);
}

int
limit_reserve(struct limits *l, const char *account, unsigned daily_msgs,
    time_t now, char *why, size_t whysize)
{
	struct counter *c;
	char reset[64];
	int rc = 0;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (daily_msgs != 0 && c->msgs + c->inflight >= daily_msgs) {
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
	int ok = 1;

	if (daily_rcpts == 0)
		return 1;
	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (c->rcpts + accepted >= daily_rcpts) {
		reset_time(now, reset, sizeof(reset));
		snprintf(why, whysize, "daily limit of %u recipients for "
		    "account %s reached; resets at %s", daily_rcpts, account,
		    reset);
		ok = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

void
limit_release(struct limits *l, const char *account, int delivered,
    unsigned nrcpts, time_t now)
{
	struct counter *c;

	pthread_mutex_lock(&l->mu);
	c = counter_get(l, account, now);
	if (c->inflight > 0)
		c->inflight--;
	if (delivered) {
		c->msgs++;
		c->rcpts += nrcpts;
		l->dirty = 1;
	}
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
	pthread_mutex_unlock(&l->mu);
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
	for (struct counter *c = l->head; c != NULL; c = c->next)
		fprintf(fp, "%s %ld %u %u %ld %s\n", c->account, c->day,
		    c->msgs, c->rcpts, (long)c->cool_until, c->reason);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
	else if (rename(tmp, l->path) != 0)
		snprintf(err, errsize, "%s: %s", l->path, strerror(errno));
	else
		rc = 0;
	fclose(fp);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
limit_save(struct limits *l, time_t now, int force, char *err,
    size_t errsize)
{
	int rc = 0;

	err[0] = '\0';
	pthread_mutex_lock(&l->mu);
	if (l->path != NULL && l->dirty &&
	    (force || now - l->saved >= LIMIT_SAVE_INTERVAL)) {
		rc = write_state(l, err, errsize);
		if (rc == 0) {
			l->dirty = 0;
			l->saved = now;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}
