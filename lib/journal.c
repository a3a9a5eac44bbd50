/*
 * journal — see journal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "journal.h"
#include "util.h"

#define REC_MAX	(JOURNAL_ACCOUNT_MAX + 96)

struct journal {
	pthread_mutex_t	 mu;
	pthread_cond_t	 done;		/* a sync finished */
	int		 fd;
	char		*path;
	off_t		 size;		/* bytes of intact records */
	unsigned long long appended;	/* last seq written */
	unsigned long long synced;	/* last seq known durable */
	int		 syncing;	/* a thread is in fdatasync() */
	int		 failed;	/* errno of a failed write or sync */
	unsigned long	 syncs;		/* fdatasync() calls (for tests) */
};

/* A regular file owned by the effective user, else -1 with err. */
static int
check_owner(int fd, const char *path, char *err, size_t errsize)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errsize, "%s: owned by uid %lu, not by the "
		    "relay's user (uid %lu)", path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) == -1) {
		snprintf(err, errsize, "%s: chmod 0600: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

FILE *
journal_fopen_safe(const char *path, char *err, size_t errsize)
{
	FILE *fp;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errsize, "%s: %s", path, e == ELOOP ?
		    "is a symbolic link (refused)" : strerror(e));
		errno = e;
		return NULL;
	}
	if (check_owner(fd, path, err, errsize) != 0 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	return fp;
}

int
journal_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

struct journal *
journal_open(const char *path, char *err, size_t errsize)
{
	struct journal *j;
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link (refused)" : strerror(errno));
		return NULL;
	}
	if (check_owner(fd, path, err, errsize) != 0 ||
	    fstat(fd, &st) == -1 || fsync(fd) == -1 || journal_sync_dir(path) == -1) {
		if (!err[0])
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->done, NULL);
	j->fd = fd;
	j->path = xstrdup(path);
	j->size = st.st_size;
	return j;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	pthread_cond_destroy(&j->done);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
}

static void
fail_text(struct journal *j, char *err, size_t errsize)
{
	snprintf(err, errsize, "%s: %s", j->path, strerror(j->failed));
}

/* "CRC SEQ DAY MSGS RCPTS ACCOUNT\n" */
static int
format_rec(const struct journal_rec *r, char *buf, size_t size)
{
	char body[REC_MAX];
	int n;

	n = snprintf(body, sizeof(body), "%llu %ld %d %d %s", r->seq, r->day,
	    r->msgs, r->rcpts, r->account);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -1;
	return snprintf(buf, size, "%08lx %s\n",
	    crc32(0L, (const Bytef *)body, (uInt)n), body);
}

int
journal_append(struct journal *j, const struct journal_rec *r, char *err,
    size_t errsize)
{
	char line[REC_MAX + 16];
	ssize_t w;
	int n;

	if ((n = format_rec(r, line, sizeof(line))) < 0) {
		snprintf(err, errsize, "%s: account name too long", j->path);
		return -1;
	}
	pthread_mutex_lock(&j->mu);
	if (j->failed) {
		fail_text(j, err, errsize);
		pthread_mutex_unlock(&j->mu);
		return -1;
	}
	do
		w = write(j->fd, line, (size_t)n);
	while (w == -1 && errno == EINTR);
	if (w != n) {
		j->failed = w == -1 ? errno : ENOSPC;
		/* a torn record must not glue itself to the next one (if
		 * this fails too, replay skips it) */
		if (w > 0 && ftruncate(j->fd, j->size) == 0)
			w = 0;
		fail_text(j, err, errsize);
		pthread_mutex_unlock(&j->mu);
		return -1;
	}
	j->size += n;
	j->appended = r->seq;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int
journal_sync(struct journal *j, unsigned long long seq, char *err,
    size_t errsize)
{
	unsigned long long target;
	int rc = 0, e;

	pthread_mutex_lock(&j->mu);
	while (j->synced < seq && !j->failed) {
		if (j->syncing) {
			pthread_cond_wait(&j->done, &j->mu);
			continue;
		}
		/* this thread syncs for everybody who appended so far */
		j->syncing = 1;
		target = j->appended;
		pthread_mutex_unlock(&j->mu);
		e = fdatasync(j->fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&j->mu);
		j->syncing = 0;
		j->syncs++;
		if (e != 0)
			j->failed = e;
		else if (target > j->synced)
			j->synced = target;
		pthread_cond_broadcast(&j->done);
	}
	if (j->synced < seq) {
		fail_text(j, err, errsize);
		rc = -1;
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
journal_reset(struct journal *j, char *err, size_t errsize)
{
	int rc = 0;

	pthread_mutex_lock(&j->mu);
	if (ftruncate(j->fd, 0) == -1 || fdatasync(j->fd) == -1) {
		snprintf(err, errsize, "%s: %s", j->path, strerror(errno));
		rc = -1;
	} else {
		j->size = 0;
		j->failed = 0;
		/* the records so far are safe in the snapshot */
		j->synced = j->appended;
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/* One line (with its newline) into r; 0 if intact. */
static int
parse_rec(const char *line, size_t len, struct journal_rec *r)
{
	unsigned long crc;
	char *end;
	int n = 0;

	if (len < 10 || line[len - 1] != '\n' || line[8] != ' ')
		return -1;
	errno = 0;
	crc = strtoul(line, &end, 16);
	if (end != line + 8 || errno != 0 ||
	    crc != crc32(0L, (const Bytef *)line + 9, (uInt)(len - 10)))
		return -1;
	memset(r, 0, sizeof(*r));
	if (sscanf(line + 9, "%llu %ld %d %d %n", &r->seq, &r->day, &r->msgs,
	    &r->rcpts, &n) != 4 || n == 0 || 9 + (size_t)n >= len - 1 ||
	    len - 10 - (size_t)n > JOURNAL_ACCOUNT_MAX)
		return -1;
	memcpy(r->account, line + 9 + n, len - 10 - (size_t)n);
	return 0;
}

long
journal_replay(const char *path,
    void (*fn)(void *, const struct journal_rec *), void *arg,
    unsigned *torn, char *warn, size_t warnsize, char *err, size_t errsize)
{
	struct journal_rec r;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long nrec = 0, lineno = 0;
	FILE *fp;

	*torn = 0;
	warn[0] = err[0] = '\0';
	if ((fp = journal_fopen_safe(path, err, errsize)) == NULL) {
		if (errno != ENOENT)
			return -1;
		err[0] = '\0';
		return 0;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (parse_rec(line, (size_t)len, &r) != 0) {
			if ((*torn)++ == 0)
				snprintf(warn, warnsize, "%s:%ld: %s record "
				    "ignored", path, lineno,
				    line[len - 1] != '\n' ?
				    "torn (incomplete) last" : "damaged");
			continue;
		}
		fn(arg, &r);
		nrec++;
	}
	free(line);
	fclose(fp);
	return nrec;
}
