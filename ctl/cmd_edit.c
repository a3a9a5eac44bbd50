/*
 * edit — "smarthostctl edit [map | conf | secrets]": change a file the
 * way visudo does: on a private copy, checked as a whole before it
 * replaces the file, then reloaded.
 *
 * The file is relay.map (default), smarthost.conf (-c) or the secrets
 * file, as smarthost.conf names them.  A copy is made next to it
 * (mkstemp: mode 0600, a name no one else can have chosen, in the same
 * directory so that the new file is renamed into place; a directory
 * that is a symbolic link, or that anyone but root or the caller owns or
 * may write to, is refused: safedir_open()), and $VISUAL,
 * else $EDITOR, else vi is run on it (through sh -c, so an editor may
 * carry options).  Then the whole configuration is checked as
 * "smarthostctl check" does (ctl_check_load()) with the copy in place of
 * the file.  Errors are shown as file:line, naming the file edited, and
 * the terminal (/dev/tty) is asked "(e)dit again, (k)eep the old file?";
 * without a terminal the old file is kept.  A good copy is installed
 * atomically: written to a new temporary file in the same directory,
 * given its owner and mode (the old file's for the map and
 * smarthost.conf; 0600 and the service user's for the secrets, as
 * INSTALL says), fsync'ed, renamed over the file and the directory
 * fsync'ed.  Then both daemons reload (ctl_reload_daemons()) and what
 * each says is printed.  A copy left unchanged installs nothing and
 * reloads nothing.
 *
 * Exit: EX_OK when installed and both daemons applied it, or nothing
 * changed; EX_CONFIG when the old file is kept because of errors; the
 * reload's exit code when installed but not applied by both; EX_SOFTWARE
 * when the editor fails (the old file is kept); EX_NOINPUT, EX_CANTCREAT,
 * EX_IOERR for files that cannot be read or written.  The contents of the
 * secrets file are never printed; the copy is removed on every path,
 * also when SIGHUP, SIGINT, SIGQUIT or SIGTERM ends smarthostctl (while
 * the editor runs, ^C and ^\ are the editor's).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "safedir.h"

#define EDIT_FILE_MAX	(16 * 1024 * 1024)

enum which { W_MAP, W_CONF, W_SECRETS };

struct edit {
	const struct ctl *ctl;
	enum which	 which;
	char		*path;		/* the file */
	char		*dir;		/* its directory */
	int		 dirfd;		/* open, checked (safedir_open()) */
	const char	*base;		/* its name there */
	char		*copy;		/* the copy being edited, or NULL */
	char		*old;		/* the file's contents */
	size_t		 oldlen;
	char		*new;		/* the copy's contents */
	size_t		 newlen;
	uid_t		 uid;		/* of the installed file */
	gid_t		 gid;
	mode_t		 mode;
};

/* ---- files ---- */

/* The whole of fd; NULL (errno set) on error or past EDIT_FILE_MAX. */
static char *
slurp(int fd, size_t *len)
{
	size_t cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	*len = 0;
	for (;;) {
		if (*len == cap) {
			if (cap >= EDIT_FILE_MAX) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			buf = xreallocarray(buf, 2, cap);
			cap *= 2;
		}
		if ((n = read(fd, buf + *len, cap - *len)) == 0)
			return buf;
		if (n < 0 && errno != EINTR) {
			free(buf);
			return NULL;
		}
		if (n > 0)
			*len += (size_t)n;
	}
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
wipe_buf(char **buf, size_t len)
{
	if (*buf != NULL)
		wipe(*buf, len);
	free(*buf);
	*buf = NULL;
}

/* A new file "DIR/.BASE.TAG-XXXXXX" (mode 0600) holding buf; its path
 * in *tmp.  The descriptor, or -1 (printed). */
static int
make_temp(struct edit *e, const char *tag, const char *buf, size_t len,
    char **tmp)
{
	size_t size = strlen(e->dir) + strlen(e->base) + strlen(tag) + 16;
	int fd;

	*tmp = xmalloc(size);
	snprintf(*tmp, size, "%s/.%s.%s-XXXXXX", e->dir, e->base, tag);
	if ((fd = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: cannot create a file in %s: %s\n",
		    e->ctl->progname, e->dir, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (write_all(fd, buf, len) != 0) {
		fprintf(stderr, "%s: %s: %s\n", e->ctl->progname, *tmp,
		    strerror(errno));
		close(fd);
		(void)unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	return fd;
}

/* The copy, for a signal that ends smarthostctl before it is removed. */
static char *volatile to_remove;

static void
on_signal(int sig)
{
	char *p = to_remove;

	if (p != NULL)
		(void)unlink(p);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
remove_on_signals(char *path)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
	struct sigaction sa = { .sa_handler = on_signal };

	to_remove = path;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void
drop_copy(struct edit *e)
{
	to_remove = NULL;
	if (e->copy != NULL)
		(void)unlink(e->copy);
	free(e->copy);
	e->copy = NULL;
}

/* ---- which file, its owner and mode ---- */

/* The service user's uid/gid for the secrets; the old owner otherwise
 * (root's for a new file). */
static void
owner_of(struct edit *e, const struct conf *conf, const struct stat *st)
{
	struct passwd *pw;

	e->uid = st ? st->st_uid : 0;
	e->gid = st ? st->st_gid : 0;
	e->mode = st ? st->st_mode & 07777 : 0644;
	if (e->which != W_SECRETS)
		return;
	e->mode = 0600;
	if (conf->user != NULL && *conf->user != '\0' &&
	    (pw = getpwnam(conf->user)) != NULL) {
		e->uid = pw->pw_uid;
		e->gid = pw->pw_gid;
	} else if (conf->user != NULL && *conf->user != '\0')
		fprintf(stderr, "%s: warning: user %s does not exist: the "
		    "secrets file stays owned by uid %u\n", e->ctl->progname,
		    conf->user, (unsigned)e->uid);
}

/* The file to edit and what it holds now; EX_OK or an exit code. */
static int
open_target(struct edit *e)
{
	const struct ctl *c = e->ctl;
	struct conf *conf;
	struct diag d;
	struct stat st;
	const char *p;
	char err[1200];
	int fd, ex = EX_OK;

	diag_init(&d);
	conf = conf_load(c->conf_path, 0, &d);
	diag_free(&d);
	p = e->which == W_CONF ? c->conf_path : e->which == W_MAP ?
	    conf->relay_map : conf->secrets;
	if (p == NULL || *p == '\0') {
		fprintf(stderr, "%s: %s names no %s file\n", c->progname,
		    c->conf_path, e->which == W_MAP ? "relay-map" : "secrets");
		conf_free(conf);
		return EX_CONFIG;
	}
	e->path = xstrdup(p);
	e->dir = safedir_split(e->path, &e->base);
	/* copies are made there: no one but root (or us) may write in it */
	if ((e->dirfd = safedir_open(AT_FDCWD, e->dir, NULL, 0, (uid_t)-1,
	    (gid_t)-1, 0, err, sizeof(err))) == -1) {
		fprintf(stderr, "%s: cannot edit %s safely: %s\n",
		    c->progname, e->path, err);
		ex = EX_CANTCREAT;
	} else if (lstat(e->path, &st) == -1) {
		if (errno == ENOENT) {		/* a new file */
			owner_of(e, conf, NULL);
			e->old = xstrdup("");
		} else {
			fprintf(stderr, "%s: %s: %s\n", c->progname, e->path,
			    strerror(errno));
			ex = EX_NOINPUT;
		}
	} else if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a regular file (a symbolic link "
		    "is not followed: edit the file it names)\n", c->progname,
		    e->path);
		ex = EX_NOINPUT;
	} else if ((fd = open(e->path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (e->old = slurp(fd, &e->oldlen)) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, e->path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		ex = EX_NOINPUT;
	} else {
		close(fd);
		owner_of(e, conf, &st);
	}
	conf_free(conf);
	return ex;
}

/* ---- the editor ---- */

/* Run the editor on the copy; 0 if it exited 0. */
static int
run_editor(struct edit *e)
{
	const char *ed = getenv("VISUAL");
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	char *cmd;
	size_t size;
	pid_t pid;
	int status = -1;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	size = strlen(ed) + 8;
	cmd = xmalloc(size);
	snprintf(cmd, size, "%s \"$1\"", ed);
	/* ^C is the editor's: the copy is still removed afterwards */
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	if ((pid = fork()) == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		execl("/bin/sh", "sh", "-c", cmd, "sh", e->copy, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	free(cmd);
	if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "%s: the editor (%s) failed (%s %d): %s is kept "
	    "as it was\n", e->ctl->progname, ed, pid > 0 &&
	    WIFSIGNALED(status) ? "signal" : "exit status", pid <= 0 ? -1 :
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	    e->path);
	return -1;
}

/* The copy's contents into e->new; 0, or -1 (printed). */
static int
read_copy(struct edit *e)
{
	int fd;

	wipe_buf(&e->new, e->newlen);
	if ((fd = open(e->copy, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (e->new = slurp(fd, &e->newlen)) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", e->ctl->progname, e->copy,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- the check ---- */

/* Diagnostics about the copy name the file it is to become. */
static void
rename_diag(struct diag *d, const char *from, const char *to)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].file != NULL && strcmp(d->v[i].file, from) == 0) {
			free(d->v[i].file);
			d->v[i].file = xstrdup(to);
		}
}

/* The whole configuration with the copy in place of the file: the
 * number of errors (each printed, as are the warnings). */
static size_t
check_copy(struct edit *e)
{
	struct config_subst subst = { NULL, NULL };
	const char *conf_path = e->ctl->conf_path;
	struct config *cfg;
	struct diag d;
	size_t errors;

	if (e->which == W_CONF)
		conf_path = e->copy;
	else if (e->which == W_MAP)
		subst.relay_map = e->copy;
	else
		subst.secrets = e->copy;
	diag_init(&d);
	cfg = ctl_check_load(conf_path, &subst, CONFIG_SECRETS, &d);
	config_unref(cfg);
	rename_diag(&d, e->copy, e->path);
	if ((errors = diag_errors(&d)) > 0)
		fprintf(stderr, "%s: your edit of %s has %zu error%s:\n",
		    e->ctl->progname, e->path, errors, errors == 1 ? "" : "s");
	ctl_print_diag(&d, stderr);
	diag_free(&d);
	return errors;
}

/* Ask on the terminal: 1 to edit again, 0 to keep the old file. */
static int
ask_again(struct edit *e)
{
	FILE *tty;
	char line[64];
	int again = 0;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL) {
		fprintf(stderr, "%s: no terminal to ask: %s is kept as it "
		    "was\n", e->ctl->progname, e->path);
		return 0;
	}
	for (int tries = 0; tries < 10; tries++) {
		fprintf(tty, "(e)dit again, (k)eep the old file? ");
		fflush(tty);
		if (fgets(line, sizeof(line), tty) == NULL)
			break;
		if (line[0] == 'e' || line[0] == 'E') {
			again = 1;
			break;
		}
		if (line[0] == 'k' || line[0] == 'K')
			break;
	}
	fclose(tty);
	if (!again)
		fprintf(stderr, "%s: %s is kept as it was\n",
		    e->ctl->progname, e->path);
	return again;
}

/* ---- installing ---- */

/* The checked contents become the file: a new file in the same
 * directory, owner and mode set, synced, renamed over it; the
 * directory synced.  EX_OK, or an exit code (printed). */
static int
install(struct edit *e)
{
	const char *prog = e->ctl->progname;
	char *tmp;
	int fd;

	if ((fd = make_temp(e, "new", e->new, e->newlen, &tmp)) == -1)
		return EX_CANTCREAT;
	if (fchown(fd, e->uid, e->gid) == -1 || fchmod(fd, e->mode) == -1 ||
	    fsync(fd) == -1 || close(fd) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, tmp, strerror(errno));
		(void)unlink(tmp);
		free(tmp);
		return EX_IOERR;
	}
	if (rename(tmp, e->path) == -1) {
		fprintf(stderr, "%s: cannot rename %s to %s: %s\n", prog, tmp,
		    e->path, strerror(errno));
		(void)unlink(tmp);
		free(tmp);
		return EX_CANTCREAT;
	}
	free(tmp);
	(void)fsync(e->dirfd);
	printf("%s: installed (mode %04o, owner uid %u gid %u)\n", e->path,
	    (unsigned)e->mode, (unsigned)e->uid, (unsigned)e->gid);
	return EX_OK;
}

/* ---- the command ---- */

/* Edit until the copy is good, unchanged or given up; an exit code. */
static int
edit_loop(struct edit *e)
{
	int fd;

	if ((fd = make_temp(e, "edit", e->old, e->oldlen, &e->copy)) == -1)
		return EX_CANTCREAT;
	close(fd);
	remove_on_signals(e->copy);
	for (;;) {
		if (run_editor(e) != 0)
			return EX_SOFTWARE;
		if (read_copy(e) != 0)
			return EX_IOERR;
		if (e->newlen == e->oldlen &&
		    memcmp(e->new, e->old, e->oldlen) == 0) {
			printf("%s: unchanged: nothing installed, no reload\n",
			    e->path);
			return EX_OK;
		}
		if (check_copy(e) == 0)
			break;
		if (!ask_again(e))
			return EX_CONFIG;
	}
	drop_copy(e);
	if (install(e) != EX_OK)
		return EX_CANTCREAT;
	return ctl_reload_daemons(e->ctl);
}

int
cmd_edit(const struct ctl *c, int argc, char **argv)
{
	struct edit e = { .ctl = c, .which = W_MAP, .dirfd = -1 };
	int ex;

	if (argc > 2)
		return ctl_usage(c, argv[0]);
	if (argc == 2 && strcmp(argv[1], "conf") == 0)
		e.which = W_CONF;
	else if (argc == 2 && strcmp(argv[1], "secrets") == 0)
		e.which = W_SECRETS;
	else if (argc == 2 && strcmp(argv[1], "map") != 0)
		return ctl_usage(c, argv[0]);
	if (ctl_missing(c->conf_path)) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path,
		    strerror(ENOENT));
		return EX_NOINPUT;
	}
	if ((ex = open_target(&e)) == EX_OK)
		ex = edit_loop(&e);
	drop_copy(&e);
	wipe_buf(&e.old, e.oldlen);
	wipe_buf(&e.new, e.newlen);
	if (e.dirfd != -1)
		close(e.dirfd);
	free(e.dir);
	free(e.path);
	return ex;
}
