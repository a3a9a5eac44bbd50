/*
 * smarthost-milter — see smarthost-milter(8) and milter.h.
 *
 * Threads: libmilter's listener runs in its own thread, the control
 * socket (control.c) in another; the main thread (the one the kernel
 * prefers for a signal sent to the process) waits for SIGHUP, SIGTERM
 * and SIGINT with sigwait().  libmilter's own signal thread would treat
 * SIGHUP as "stop", so the main thread takes it first and hands the
 * reload to a reload thread, going straight back to sigwait(); the
 * control socket's "reload" runs the same reload(); SIGTERM and SIGINT
 * become smfi_stop(), with the listener woken so that the stop takes
 * effect at once.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "milter.h"
#include "util.h"

static const char *conf_path = CONF_DEFAULT_PATH;
static pthread_t main_thread;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reload_cond = PTHREAD_COND_INITIALIZER;
static int reload_pending, stopping;
static int milter_status;
static char *listen_socket;		/* for wake_listener() */

static void
usage(void)
{
	fprintf(stderr, "usage: smarthost-milter [-dfn] [-c file]\n");
	exit(EX_USAGE);
}

/* -n: load every file, print the diagnostics, exit 0 or EX_CONFIG. */
static int
check_only(void)
{
	struct diag d;
	struct config *c;
	int bad;

	diag_init(&d);
	c = config_load(conf_path, 0, &d);
	if (c)
		config_check_milter_group(c->conf, &d);
	diag_print(&d, stderr);
	bad = c == NULL || diag_errors(&d) > 0;
	if (!bad)
		printf("%s: configuration OK\n", conf_path);
	if (c)
		config_unref(c);
	diag_free(&d);
	return bad ? EX_CONFIG : 0;
}

/* SIGHUP (through reload_thread) and the control socket's "reload":
 * 0 if the new configuration is in force; diagnostics added to d (NULL:
 * only logged). */
static int
reload(struct diag *d)
{
	if (snapshot_load(conf_path, d) != 0)
		return -1;
	log_info("reloaded %s", conf_path);
	return 0;
}

static void *
reload_thread(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&reload_lock);
		while (!reload_pending && !stopping)
			pthread_cond_wait(&reload_cond, &reload_lock);
		if (stopping) {
			pthread_mutex_unlock(&reload_lock);
			return NULL;
		}
		reload_pending = 0;
		pthread_mutex_unlock(&reload_lock);
		(void)reload(NULL);
	}
}

static void *
listener_thread(void *arg)
{
	milter_status = smfi_main();
	pthread_mutex_lock(&reload_lock);
	stopping = 1;
	pthread_cond_broadcast(&reload_cond);
	pthread_mutex_unlock(&reload_lock);
	pthread_kill(main_thread, SIGTERM);
	return NULL;
}

/* The path of a unix: or local: socket, NULL for inet. */
static const char *
unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		return strchr(sock, ':') + 1;
	return NULL;
}

/*
 * The socket is changed by its path after libmilter made it, so nobody
 * but root (or us) may be able to replace that path meanwhile: its
 * directory must be writable by no one else.
 */
static int
socket_dir_safe(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	if (xstrlcpy(dir, path, sizeof(dir)) >= sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL) {
		log_errx("milter socket path %s is not absolute or too long",
		    path);
		return -1;
	}
	slash[slash == dir] = '\0';
	if (stat(dir, &st) < 0) {
		log_warn("milter socket directory %s", dir);
		return -1;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0)) {
		log_errx("milter socket directory %s is writable by other "
		    "users; put the socket in a directory only root can write, "
		    "such as /run/smarthost", dir);
		return -1;
	}
	return 0;
}

/* Mode 0660 and the MTA's group on the socket libmilter made 0600. */
static int
socket_grant(const char *path, const char *group)
{
	struct group *gr;
	struct stat st;

	if ((gr = getgrnam(group)) == NULL) {
		log_errx("socket-group %s does not exist; set [milter] "
		    "socket-group to the group of the MTA's user", group);
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    st.st_uid != geteuid()) {
		log_errx("milter socket %s is not the socket just created",
		    path);
		return -1;
	}
	if (lchown(path, (uid_t)-1, gr->gr_gid) < 0 ||
	    chmod(path, 0660) < 0) {
		log_warn("cannot give milter socket %s to group %s (mode 0660)",
		    path, group);
		return -1;
	}
	return 0;
}

/* Open the socket as root, usable by the MTA's user only. */
static int
open_socket(const struct conf *conf)
{
	const char *path = unix_path(conf->milter_socket);
	mode_t old;
	int r;

	if (smfi_setconn(conf->milter_socket) != MI_SUCCESS) {
		log_errx("bad milter socket %s", conf->milter_socket);
		return -1;
	}
	if (path && socket_dir_safe(path) < 0)
		return -1;
	/* No one else may connect before the group is set. */
	old = umask(0177);
	r = smfi_opensocket(1);
	umask(old);
	if (r != MI_SUCCESS) {
		log_errx("cannot open milter socket %s", conf->milter_socket);
		return -1;
	}
	if (path && socket_grant(path, conf->milter_socket_group ?
	    conf->milter_socket_group : "root") < 0)
		return -1;
	return 0;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || user == NULL || *user == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_errx("user %s does not exist", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_warn("cannot switch to user %s", user);
		return -1;
	}
	return 0;
}

static int
start(int foreground)
{
	struct config *c = snapshot_get();
	struct align_opts ao = { 0 };
	char err[256], res[64];
	int r = 0;

	snprintf(res, sizeof(res), "timeout:%u attempts:1",
	    c->conf->dns_timeout ? c->conf->dns_timeout : 10);
	setenv("RES_OPTIONS", res, 0);
	ao.dns_timeout = c->conf->dns_timeout;
	if ((milter_align = align_new(&ao, err, sizeof(err))) == NULL) {
		log_errx("%s", err);
		r = -1;
	} else if (smfi_register(milter_desc) != MI_SUCCESS) {
		log_errx("smfi_register failed");
		r = -1;
	} else if ((listen_socket = xstrdup(c->conf->milter_socket)),
	    open_socket(c->conf) < 0)
		r = -1;
	else if ((void)control_open(c->conf, c->conf->user), /* optional */
	    drop_privileges(c->conf->user) < 0)
		r = -1;
	else if (!foreground && daemon(0, 0) < 0) {
		log_warn("daemon");
		r = -1;
	}
	config_unref(c);
	return r;
}

/*
 * smfi_stop() waits for a mutex libmilter's listener holds while it polls
 * (5 s at a time); a connection to our own socket ends the poll.  Only for
 * unix: and numeric inet: sockets; otherwise the stop just takes longer.
 */
static void
wake_listener(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET };
	const char *s = listen_socket, *at;
	struct sockaddr *sa = NULL;
	socklen_t len = 0;
	int fd;

	if (s == NULL)
		return;
	if ((strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) &&
	    xstrlcpy(un.sun_path, strchr(s, ':') + 1, sizeof(un.sun_path)) <
	    sizeof(un.sun_path)) {
		sa = (struct sockaddr *)&un;
		len = sizeof(un);
	} else if (strncmp(s, "inet:", 5) == 0) {
		at = strchr(s, '@');
		in.sin_port = htons((unsigned short)atoi(s + 5));
		if (inet_pton(AF_INET, at ? at + 1 : "127.0.0.1",
		    &in.sin_addr) != 1)
			return;
		if (in.sin_addr.s_addr == htonl(INADDR_ANY))
			in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *)&in;
		len = sizeof(in);
	}
	if (sa == NULL || (fd = socket(sa->sa_family, SOCK_STREAM, 0)) < 0)
		return;
	(void)connect(fd, sa, len);
	close(fd);
}

static void *
stop_thread(void *arg)
{
	smfi_stop();
	__atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* smfi_stop(), poking the listener until it has taken the stop (2 s at
 * most; libmilter's own 5 s poll ends it anyway). */
static void
stop_milter(void)
{
	pthread_t t;
	int done = 0;

	if (pthread_create(&t, NULL, stop_thread, &done) != 0) {
		smfi_stop();
		return;
	}
	for (int i = 0; i < 40 && !__atomic_load_n(&done, __ATOMIC_SEQ_CST);
	    i++) {
		wake_listener();
		usleep(50000);
	}
	pthread_join(t, NULL);
}

static void
signal_loop(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		pthread_mutex_lock(&reload_lock);
		reload_pending = 1;
		pthread_cond_signal(&reload_cond);
		pthread_mutex_unlock(&reload_lock);
	}
	stop_milter();
}

static int
run(void)
{
	pthread_t listener, reloader;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	main_thread = pthread_self();
	if (pthread_create(&reloader, NULL, reload_thread, NULL) != 0 ||
	    pthread_create(&listener, NULL, listener_thread, NULL) != 0) {
		log_errx("cannot start threads");
		return EX_OSERR;
	}
	control_start(reload);
	log_info("started, configuration %s", conf_path);
	signal_loop();
	pthread_join(listener, NULL);
	control_close();
	pthread_mutex_lock(&reload_lock);
	stopping = 1;
	pthread_cond_broadcast(&reload_cond);
	pthread_mutex_unlock(&reload_lock);
	pthread_join(reloader, NULL);
	log_info("stopped");
	return milter_status == MI_SUCCESS ? 0 : EX_SOFTWARE;
}

int
main(int argc, char **argv)
{
	int ch, foreground = 0, check = 0, debug = 0, r;

	while ((ch = getopt(argc, argv, "c:dfn")) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'd': debug = 1; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (check)
		return check_only();
	log_init(MILTER_NAME, foreground, debug);
	if (snapshot_load(conf_path, NULL) < 0)
		return EX_CONFIG;
	if (start(foreground) < 0) {
		control_close();
		return EX_UNAVAILABLE;
	}
	r = run();
	snapshot_free();
	align_free(milter_align);
	free(listen_socket);
	return r;
}
