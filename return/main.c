/*
 * smarthost-return — one run over the mailboxes of the accounts that
 * "rewrite" routes use (see return.h, smarthost-return(8)).
 *
 * Started as root, it reads the configuration and the secrets and then
 * becomes the "user" of smarthost.conf (the relay's user, who owns the
 * state directory and the sent log) before it touches anything else; a
 * user that does not exist is an error, never a reason to stay root.
 * The run holds an exclusive lock on STATE-DIR/return.lock, so that a
 * timer run and a manual one never handle the same mailbox at once.  The
 * exit status is 0, or the sysexits code of the first account that
 * failed (every account is tried).
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "relaymap.h"
#include "return.h"
#include "sentlog.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: smarthost-return [-dlnv] [-a ACCOUNT] "
	    "[-c FILE] [-D DAYS] [-k KEYWORD]\n"
	    "\t[-m flag | move] [-F FOLDER] [-s SENDMAIL] [-t SECONDS]\n");
	exit(EX_USAGE);
}

/* The command split at blanks into a NULL-terminated argv. */
static char **
split_command(const char *s)
{
	char *copy = xstrdup(s), *save = NULL, *w;
	char **v = NULL;
	size_t n = 0;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(w);
	}
	free(copy);
	if (n == 0 || n > 50 || v[0][0] != '/') {
		fprintf(stderr, "smarthost-return: -s: an absolute path and "
		    "at most 49 arguments\n");
		exit(EX_USAGE);
	}
	v[n] = NULL;
	return v;
}

/* An IMAP atom that may be a keyword (RFC 3501 flag-keyword). */
static int
keyword_ok(const char *k)
{
	if (*k == '\0' || strlen(k) > 64)
		return 0;
	for (; *k; k++)
		if (*k <= ' ' || *k >= 127 || strchr("(){%*\"\\]", *k))
			return 0;
	return 1;
}

static int
folder_ok(const char *f)
{
	if (*f == '\0' || strlen(f) > 200)
		return 0;
	for (; *f; f++)
		if (*f < ' ' || *f >= 127 || *f == '"' || *f == '\\')
			return 0;
	return 1;
}

static unsigned
number(const char *s, unsigned lo, unsigned hi, const char *opt)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "smarthost-return: %s: a number from %u to "
		    "%u\n", opt, lo, hi);
		exit(EX_USAGE);
	}
	return (unsigned)v;
}

static int
take_lock(const char *state_dir)
{
	char *path = xasprintf("%s/return.lock", state_dir);
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_errx("lock=%s error=\"%s\"", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		log_errx("lock=%s error=\"another smarthost-return is "
		    "running\"", path);
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* Every account a "rewrite" route uses, once, in map order; only the one
 * named only (NULL: all). */
static size_t
rewrite_accounts(const struct config *cfg, const char *only,
    const struct account **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < relaymap_count(cfg->map); i++) {
		const struct map_entry *e = relaymap_entry(cfg->map, i);
		const struct account *a;
		int seen = 0;

		if (!(e->opts & MAP_REWRITE) ||
		    (a = config_account(cfg, e->account)) == NULL)
			continue;
		if (only != NULL && strcasecmp(only, a->name) != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			seen |= out[j] == a;
		if (!seen && n < max)
			out[n++] = a;
	}
	return n;
}

/* As root: become the configured user.  0, or a sysexits code. */
static int
become_user(const struct conf *c)
{
	const struct passwd *pw;

	if (geteuid() != 0 || c->user == NULL || *c->user == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_errx("user %s does not exist: refusing to run as root "
		    "(create the user or change \"user\" in %s)", c->user,
		    c->path);
		return EX_NOUSER;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_warn("cannot switch to user %s", pw->pw_name);
		return EX_OSERR;
	}
	/* no core dump may hold an authorization code */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	return 0;
}

static int
run(const struct config *cfg, const char *only,
    const struct return_opts *o)
{
	const struct account *acc[256];
	size_t n = rewrite_accounts(cfg, only, acc, 256);
	struct sentlog *sl;
	char err[1024];
	int rc = 0, r, lock;

	if (n == 0) {
		log_warnx("error=\"%s\"", only ? "no rewrite route uses that "
		    "account" : "no rewrite route in the relay map: nothing "
		    "to read");
		return only ? EX_USAGE : 0;
	}
	if ((lock = take_lock(cfg->conf->state_dir)) == -1)
		return EX_TEMPFAIL;
	if ((sl = sentlog_open(cfg->conf->state_dir, 0, err,
	    sizeof(err))) == NULL) {
		log_errx("sentlog=\"%s\"", err);
		close(lock);
		return EX_IOERR;
	}
	sentlog_busy_timeout(sl, 5000);
	for (size_t i = 0; i < n; i++)
		if ((r = mailbox_run(cfg, acc[i], sl, o)) != 0 && rc == 0)
			rc = r;
	sentlog_close(sl);
	close(lock);
	return rc;
}

int
main(int argc, char **argv)
{
	struct return_opts o = { .mark = MARK_FLAG, .keyword = RETURN_KEYWORD,
	    .folder = RETURN_FOLDER, .days = RETURN_DAYS,
	    .timeout_ms = RETURN_TIMEOUT * 1000 };
	const char *conf = CONF_DEFAULT_PATH, *only = NULL;
	const char *sendmail = RETURN_SENDMAIL;
	int ch, debug = 0, syslog = 0, check = 0, rc;
	struct config *cfg;
	struct diag d;

	while ((ch = getopt(argc, argv, "a:c:dD:F:k:lm:ns:t:v")) != -1) {
		switch (ch) {
		case 'a': only = optarg; break;
		case 'c': conf = optarg; break;
		case 'd': case 'v': debug = 1; break;
		case 'D': o.days = number(optarg, 1, 3650, "-D"); break;
		case 'F': o.folder = optarg; break;
		case 'k': o.keyword = optarg; break;
		case 'l': syslog = 1; break;
		case 'm':
			if (strcmp(optarg, "flag") == 0)
				o.mark = MARK_FLAG;
			else if (strcmp(optarg, "move") == 0)
				o.mark = MARK_MOVE;
			else
				usage();
			break;
		case 'n': check = 1; break;
		case 's': sendmail = optarg; break;
		case 't':
			o.timeout_ms = (int)number(optarg, 1, 3600, "-t") *
			    1000;
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (!keyword_ok(o.keyword) || !folder_ok(o.folder)) {
		fprintf(stderr, "smarthost-return: -k needs an IMAP atom, -F "
		    "printable ASCII without '\"' and '\\'\n");
		return EX_USAGE;
	}
	o.sendmail = split_command(sendmail);
	log_init("smarthost-return", !syslog, debug);
	signal(SIGPIPE, SIG_IGN);
	diag_init(&d);
	cfg = config_load(conf, CONFIG_SECRETS, &d);
	if (log_diag(&d) > 0) {
		diag_free(&d);
		config_unref(cfg);
		return EX_CONFIG;
	}
	diag_free(&d);
	if (!check && (rc = become_user(cfg->conf)) == 0)
		rc = run(cfg, only, &o);
	else if (check)
		rc = 0;
	config_unref(cfg);
	for (char **p = o.sendmail; *p; p++)
		free(*p);
	free(o.sendmail);
	return rc;
}
