/*
 * secrets — the authorization codes (see secrets.h).
 *
 * Everything is read at load: the file, then every regular file in
 * $CREDENTIALS_DIRECTORY (one code each, overriding the file's line for
 * that account; the secrets file itself, when systemd passes it there, is
 * skipped).  secrets_get() is a pure lookup.  The file and the credential
 * files are read with read(2) straight into one anonymous mapping that is
 * locked (mlock), left out of core dumps (MADV_DONTDUMP) and made
 * read-only once parsed; no stdio buffer ever holds a code.  Codes are
 * parsed in place there; only account names live on the heap.
 * secrets_free() wipes the whole mapping with explicit_bzero().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secrets.h"
#include "util.h"

#define SECRETS_FILE_MAX	(1024 * 1024)
#define CREDS_MAX		256	/* credential files considered */

struct entry {
	char		*account;
	const char	*code;		/* in the region */
	unsigned	 line;		/* 0: from the credentials directory */
	unsigned	 gen;		/* see secrets_generation() */
};

static unsigned last_gen;	/* generations handed out (atomic) */

struct secrets {
	int		 refs;		/* atomic */
	struct entry	*v;
	size_t		 n;
	char		*region;
	size_t		 size, used;
};

/* A file to read: what secrets_load() opened and checked. */
struct source {
	int		 fd;
	size_t		 size;
	char		*path;
	char		*account;	/* NULL for the secrets file */
};

/* The checks on an open file, message without the path.  The owner must
 * be root, the reader (uid) or, where the reader is root, the service
 * user the daemon drops to (svc; (uid_t)-1 for none), so that it can
 * re-read the file on SIGHUP after dropping privileges. */
static int
check_stat(const struct stat *st, uid_t uid, uid_t svc, char *msg,
    size_t size)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(msg, size, "not a regular file");
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != uid &&
	    !(uid == 0 && svc != (uid_t)-1 && st->st_uid == svc)) {
		if (uid == 0 && svc != (uid_t)-1)
			snprintf(msg, size, "bad owner uid %u: must be owned "
			    "by root or by the service user (uid %u)",
			    (unsigned)st->st_uid, (unsigned)svc);
		else if (uid == 0)
			snprintf(msg, size, "bad owner uid %u: must be owned "
			    "by root (chown root)", (unsigned)st->st_uid);
		else
			snprintf(msg, size, "bad owner uid %u: must be owned "
			    "by uid %u or root (chown)", (unsigned)st->st_uid,
			    (unsigned)uid);
		return -1;
	}
	if (st->st_mode & 077) {
		snprintf(msg, size, "bad permissions %04o: must not be "
		    "readable or writable by group or other (chmod 600)",
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Open path (relative to dirfd) without following a symbolic link and
 * check it; the fd, or -1 with errno kept and a message in msg. */
static int
open_checked(int dirfd, const char *path, uid_t uid, uid_t svc,
    struct stat *st, char *msg, size_t size)
{
	int fd, e;

	fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		snprintf(msg, size, e == ELOOP ? "is a symbolic link: "
		    "secrets must be a regular file" : "cannot open: %s",
		    strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) == -1) {
		e = errno;
		snprintf(msg, size, "cannot stat: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (check_stat(st, uid, svc, msg, size) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (st->st_size > SECRETS_FILE_MAX) {
		snprintf(msg, size, "larger than 1 MiB");
		close(fd);
		errno = EFBIG;
		return -1;
	}
	return fd;
}

int
secrets_check_file_as(const char *path, uid_t uid, char *err,
    size_t errsize)
{
	char msg[256] = "";
	struct stat st;
	int fd;

	if ((fd = open_checked(AT_FDCWD, path, uid, (uid_t)-1, &st, msg,
	    sizeof(msg))) == -1) {
		snprintf(err, errsize, "%s: %s", path, msg);
		return -1;
	}
	close(fd);
	return 0;
}

int
secrets_check_file(const char *path, char *err, size_t errsize)
{
	return secrets_check_file_as(path, geteuid(), err, errsize);
}

/* One anonymous mapping of at least size bytes, locked and left out of
 * core dumps where the kernel lets us (neither is fatal). */
static char *
region_new(size_t size, size_t *mapped)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = (size + (size_t)page) & ~((size_t)page - 1);
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, n);
	(void)madvise(p, n, MADV_DONTDUMP);
	*mapped = n;
	return p;
}

static void
region_free(char *p, size_t size)
{
	if (p == NULL)
		return;
	(void)mprotect(p, size, PROT_READ | PROT_WRITE);
	secrets_wipe(p, size);
	(void)munlock(p, size);
	munmap(p, size);
}

void
secrets_wipe(void *p, size_t len)
{
	wipe(p, len);
}

static struct entry *
find(const struct secrets *s, const char *account)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i].account, account) == 0)
			return &s->v[i];
	return NULL;
}

static void
add(struct secrets *s, const char *account, const char *code, unsigned line)
{
	struct entry *e = find(s, account);

	if (e == NULL) {
		s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
		e = &s->v[s->n++];
		e->account = xstrdup(account);
	}
	e->code = code;
	e->line = line;
	e->gen = __atomic_add_fetch(&last_gen, 1, __ATOMIC_RELAXED);
}

/* Read all of src into the region (NUL-terminated); its start and *len,
 * or NULL. */
static char *
slurp(struct secrets *s, const struct source *src, size_t *len,
    struct diag *d)
{
	char *start = s->region + s->used;
	size_t got = 0;
	ssize_t n;

	while ((n = read(src->fd, start + got, src->size + 1 - got)) > 0)
		got += (size_t)n;
	if (n == -1 || got > src->size) {
		diag_error(d, src->path, 0, "%s", n == -1 ? strerror(errno) :
		    "changed while being read");
		return NULL;
	}
	start[got] = '\0';
	s->used += got + 1;
	*len = got;
	return start;
}

/* One line of the file, NUL-terminated, in the region. */
static void
parse_line(struct secrets *s, char *line, unsigned lineno, const char *path,
    struct diag *d)
{
	char *t = str_trim(line), *sp, *code;
	const struct entry *e;

	if (*t == '\0' || *t == '#')
		return;
	sp = t + strcspn(t, " \t");
	if (*sp == '\0') {
		/* the one word may be a code pasted alone: never quote it */
		diag_error(d, path, lineno, "no code after the account name "
		    "(expected \"ACCOUNT CODE\")");
		return;
	}
	*sp = '\0';
	code = str_trim(sp + 1);
	if ((e = find(s, t)) != NULL) {
		diag_error(d, path, lineno, "duplicate account \"%s\" (first "
		    "on line %u)", t, e->line);
		return;
	}
	add(s, t, code, lineno);
}

static void
parse_file(struct secrets *s, char *text, size_t len, const char *path,
    struct diag *d)
{
	unsigned lineno = 0;
	char *p = text, *end = text + len, *nl;

	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (memchr(p, '\0', n))
			diag_error(d, path, lineno, "NUL byte in line");
		else if (n > SECRETS_LINE_MAX)
			diag_error(d, path, lineno, "line longer than %d "
			    "characters", SECRETS_LINE_MAX);
		else {
			p[n] = '\0';
			parse_line(s, p, lineno, path, d);
		}
		p += n + 1;
	}
}

/* A credential file: one code, surrounding white space removed. */
static void
parse_credential(struct secrets *s, char *text, size_t len,
    const struct source *src, struct diag *d)
{
	char *code;

	if (memchr(text, '\0', len)) {
		diag_error(d, src->path, 0, "NUL byte in credential");
		return;
	}
	code = str_trim(text);
	if (*code == '\0')
		diag_error(d, src->path, 0, "empty credential");
	else if (strchr(code, '\n'))
		diag_error(d, src->path, 0, "credential holds more than one "
		    "line (expected one code)");
	else
		add(s, src->account, code, 0);
}

static void
add_source(struct source **v, size_t *n, int fd, size_t size,
    const char *path, const char *account)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n].fd = fd;
	(*v)[*n].size = size;
	(*v)[*n].path = xstrdup(path);
	(*v)[*n].account = account ? xstrdup(account) : NULL;
	(*n)++;
}

/* Open every credential file of $CREDENTIALS_DIRECTORY except the one
 * that is the secrets file itself (skip). */
static void
open_credentials(struct source **v, size_t *n, const struct stat *skip,
    struct diag *d)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char msg[256], path[4096];
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int fd;

	if (dir == NULL || *dir == '\0')
		return;
	if ((dp = opendir(dir)) == NULL) {
		diag_error(d, dir, 0, "cannot open credentials directory: %s",
		    strerror(errno));
		return;
	}
	while ((de = readdir(dp)) != NULL && *n <= CREDS_MAX) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open_checked(dirfd(dp), de->d_name, geteuid(), (uid_t)-1,
		    &st, msg, sizeof(msg));
		if (fd == -1)
			diag_error(d, path, 0, "%s", msg);
		else if (skip && st.st_dev == skip->st_dev &&
		    st.st_ino == skip->st_ino)
			close(fd);
		else
			add_source(v, n, fd, (size_t)st.st_size, path,
			    de->d_name);
	}
	closedir(dp);
}

/* Read and parse every source into s, closing and freeing them. */
static void
read_sources(struct secrets *s, struct source *v, size_t n, struct diag *d)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].size + 1;
	s->region = region_new(total, &s->size);
	if (s->region == NULL)
		diag_error(d, NULL, 0, "cannot map memory for the secrets: %s",
		    strerror(errno));
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		char *text = s->region ? slurp(s, &v[i], &len, d) : NULL;

		if (text && v[i].account == NULL)
			parse_file(s, text, len, v[i].path, d);
		else if (text)
			parse_credential(s, text, len, &v[i], d);
		close(v[i].fd);
		free(v[i].path);
		free(v[i].account);
	}
	free(v);
	if (s->region)
		(void)mprotect(s->region, s->size, PROT_READ);
}

struct secrets *
secrets_load(const char *path, int missing_ok, struct diag *d)
{
	return secrets_load_svc(path, missing_ok, (uid_t)-1, d);
}

struct secrets *
secrets_load_svc(const char *path, int missing_ok, uid_t svc,
    struct diag *d)
{
	struct source *v = NULL;
	struct secrets *s;
	struct stat st;
	char msg[256];
	size_t n = 0;
	int fd = -1;

	if (path) {
		fd = open_checked(AT_FDCWD, path, geteuid(), svc, &st, msg,
		    sizeof(msg));
		if (fd == -1 && errno != ENOENT) {
			diag_error(d, path, 0, "%s", msg);
			return NULL;
		}
		if (fd == -1 && !missing_ok)
			diag_error(d, path, 0, "%s", msg);
		if (fd != -1)
			add_source(&v, &n, fd, (size_t)st.st_size, path, NULL);
	}
	open_credentials(&v, &n, fd != -1 ? &st : NULL, d);
	s = xcalloc(1, sizeof(*s));
	s->refs = 1;
	read_sources(s, v, n, d);
	return s;
}

const char *
secrets_get(const struct secrets *s, const char *account)
{
	const struct entry *e = s ? find(s, account) : NULL;

	return e ? e->code : NULL;
}

unsigned
secrets_generation(const struct secrets *s, const char *account)
{
	const struct entry *e = s ? find(s, account) : NULL;

	return e ? e->gen : 0;
}

void
secrets_follow(struct secrets *s, const struct secrets *old)
{
	const struct entry *o;

	for (size_t i = 0; s && old && i < s->n; i++)
		if ((o = find(old, s->v[i].account)) != NULL &&
		    strcmp(o->code, s->v[i].code) == 0)
			s->v[i].gen = o->gen;
}

int
secrets_lock(const struct secrets *s)
{
	if (s == NULL || s->region == NULL)
		return 0;
	return mlock(s->region, s->size);
}

struct secrets *
secrets_ref(struct secrets *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

int
secrets_denied(const char *path)
{
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1)
		return path != NULL && errno == EACCES;
	close(fd);
	return 0;
}

void
secrets_free(struct secrets *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	region_free(s->region, s->size);
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].account);
	free(s->v);
	free(s);
}
