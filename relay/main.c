/*
 * smarthost-relay — where Postfix hands outbound mail (relayhost =
 * [127.0.0.1]:10025).  See smarthost-relay(8).
 *
 *   smarthost-relay [-fnv] [-c FILE]
 *
 * Reads the configuration and the secrets as root, opens the listener,
 * the control socket (smarthostctl status and reload, control.h) and the
 * limits state, detaches (without -f), locks the codes in memory in the process
 * that stays, then drops to the configured user (which must exist) and
 * becomes non-dumpable.  The main thread accepts connections (one thread each,
 * at most max-clients) and handles signals through a signalfd: SIGHUP
 * reloads every file (an erroneous set is logged and ignored; the control
 * socket's "reload" runs the same reload and answers its outcome), SIGTERM
 * and SIGINT stop accepting, let transactions finish (bounded), save the
 * limits and exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "allow.h"
#include "config.h"
#include "control.h"
#include "limit.h"
#include "listen.h"
#include "log.h"
#include "safedir.h"
#include "sentrec.h"
#include "server.h"
#include "store.h"
#include "upstream.h"

#define DRAIN_SECONDS	30	/* how long SIGTERM waits for clients */
#define THREAD_STACK	(512 * 1024)

static struct control *control;	/* smarthostctl status; may be NULL */
static const char *conf_path = CONF_DEFAULT_PATH;

struct client {
	struct relay	*relay;
	int		 fd;
	char		 name[80];
};

static void
usage(void)
{
	fprintf(stderr, "usage: smarthost-relay [-fnv] [-c FILE]\n");
	exit(EX_USAGE);
}

/* The configuration; on a reload (old set) the codes read at start are
 * kept if the secrets file may no longer be opened (config_reload()).
 * Every diagnostic is logged and added to d. */
static struct config *
load(const char *path, const struct config *old, struct diag *d)
{
	struct config *cfg;
	char err[256];

	cfg = config_reload(path, CONFIG_SECRETS, old, d);
	if (cfg != NULL && allow_check(&cfg->conf->relay_allow, err,
	    sizeof(err)) != 0)
		diag_error(d, cfg->conf->path, 0, "%s", err);
	if (log_diag(d) != 0 || cfg == NULL) {
		if (cfg != NULL)
			config_unref(cfg);
		cfg = NULL;
	}
	return cfg;
}

/* An account whose authorization code changed may be tried again at
 * once: its cool-off (after a refused code) ends. */
static void
clear_cooloffs(struct relay *rl, const struct config *old,
    const struct config *cfg)
{
	const char *a, *b, *name;

	if (old->secrets == NULL || cfg->secrets == NULL)
		return;
	for (size_t i = 0; i < cfg->naccounts; i++) {
		name = cfg->accounts[i]->name;
		a = secrets_get(old->secrets, name);
		b = secrets_get(cfg->secrets, name);
		if (b != NULL && (a == NULL || strcmp(a, b) != 0)) {
			limit_cooloff_clear(rl->limits, name);
			log_info("account=%s new authorization code: retrying "
			    "now", name);
		}
	}
}

/* SIGHUP and the control socket's "reload" (control_reload_fn): one
 * reload at a time; 0 if the new configuration is in force. */
static int
reload(struct relay *rl, struct diag *d)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct config *old, *cfg;

	pthread_mutex_lock(&mu);
	old = relay_config(rl);
	if ((cfg = load(conf_path, old, d)) == NULL) {
		log_errx("reload failed: keeping the previous configuration");
		config_unref(old);
		pthread_mutex_unlock(&mu);
		return -1;
	}
	if (strcmp(old->conf->relay_listen, cfg->conf->relay_listen) != 0)
		log_warnx("listen changed to %s: takes effect at restart",
		    cfg->conf->relay_listen);
	if (strcmp(old->conf->control_socket ? old->conf->control_socket : "",
	    cfg->conf->control_socket ? cfg->conf->control_socket : "") != 0)
		log_warnx("control-socket changed: takes effect at restart");
	clear_cooloffs(rl, old, cfg);
	if (cfg->secrets != old->secrets)	/* kept codes are shared */
		secrets_follow(cfg->secrets, old->secrets);
	config_unref(old);
	relay_swap_config(rl, cfg);
	pool_reconfigure(rl->pool, cfg);
	store_reconfigure(rl, cfg);
	control_reloaded(control);
	log_info("configuration reloaded");
	pthread_mutex_unlock(&mu);
	return 0;
}

static void
sighup(struct relay *rl)
{
	struct diag d;

	diag_init(&d);
	(void)reload(rl, &d);
	diag_free(&d);
}

/* state-dir exists and belongs to the user the relay runs as; made or
 * checked through a descriptor, so a symbolic link planted there is
 * refused rather than followed.  0, or -1 (logged). */
static int
prepare_state_dir(const char *dir, const struct passwd *pw)
{
	char err[1200];
	int fd;

	if (dir == NULL || *dir == '\0')
		return 0;
	fd = safedir_open(AT_FDCWD, dir, NULL, 0750, pw ? pw->pw_uid :
	    (uid_t)-1, pw ? pw->pw_gid : (gid_t)-1,
	    SAFEDIR_CREATE | SAFEDIR_GIVE, err, sizeof(err));
	if (fd == -1) {
		log_errx("state-dir %s", err);
		return -1;
	}
	close(fd);
	return 0;
}

/* The user to switch to: NULL when not root or none is configured;
 * a user that does not exist is an error (*missing set): the relay
 * never goes on as root in its place. */
static const struct passwd *
relay_user(const struct conf *c, int *missing)
{
	const struct passwd *pw;

	*missing = 0;
	if (c->user == NULL || *c->user == '\0' || geteuid() != 0)
		return NULL;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_errx("user %s does not exist: refusing to run as root "
		    "(create the user or change \"user\" in %s)", c->user,
		    c->path);
		*missing = 1;
	}
	return pw;
}

/* The control socket, opened before privileges are dropped; the relay
 * runs without one (no smarthostctl status) if it cannot be had. */
static struct control *
open_control(const struct conf *c, const struct passwd *pw)
{
	struct control *ctl;
	char err[512];

	ctl = control_open(c->control_socket, pw ? pw->pw_uid : (uid_t)-1,
	    pw ? pw->pw_gid : (gid_t)-1, err, sizeof(err));
	if (ctl == NULL)
		log_warnx("control socket: %s (smarthostctl status will not "
		    "work)", err);
	return ctl;
}

static void
start_control(struct relay *rl)
{
	char err[512];

	if (control == NULL)
		return;
	if (control_start(control, rl, reload, err, sizeof(err)) != 0) {
		log_warnx("control socket: %s", err);
		control_close(control);
		control = NULL;
		return;
	}
	log_info("control socket %s", rl->config->conf->control_socket);
}

static int
drop_privileges(const struct passwd *pw)
{
	if (pw != NULL) {
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			log_warn("cannot switch to user %s", pw->pw_name);
			return -1;
		}
		log_info("running as user %s", pw->pw_name);
	}
	/* no core dump may hold an authorization code */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	return 0;
}

static void *
client_thread(void *arg)
{
	struct client *c = arg;
	struct relay *rl = c->relay;

	server_run(rl, c->fd, c->name);
	free(c);
	pthread_mutex_lock(&rl->mu);
	rl->nclients--;
	pthread_cond_broadcast(&rl->idle);
	pthread_mutex_unlock(&rl->mu);
	return NULL;
}

/* Accept one connection: refuse outsiders, local users not in
 * allow-users and the one too many. */
static void
accept_one(struct relay *rl, int lfd, pthread_attr_t *attr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct config *cfg;
	struct client *c;
	pthread_t t;
	unsigned max;
	int fd, allowed;
	enum allow_owner owner = ALLOW_OWNER_OK;
	char reply[256], why[400];

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->relay = rl;
	c->fd = fd;
	allow_name((struct sockaddr *)&ss, c->name, sizeof(c->name));
	cfg = relay_config(rl);
	allowed = allow_client(&cfg->conf->relay_allow,
	    (struct sockaddr *)&ss);
	if (allowed)
		owner = allow_owner(&cfg->conf->relay_users, fd,
		    (struct sockaddr *)&ss, reply, sizeof(reply), why,
		    sizeof(why));
	max = cfg->conf->max_clients ? cfg->conf->max_clients : 100;
	config_unref(cfg);
	if (!allowed) {
		log_warnx("client=%s refused: not in allow-clients", c->name);
		server_refuse(fd, "554 5.7.1 smarthost-relay: client not "
		    "allowed (not in allow-clients)");
		free(c);
		return;
	}
	if (owner != ALLOW_OWNER_OK) {
		log_warnx("client=%s %s", c->name, why);
		server_refuse(fd, reply);
		free(c);
		return;
	}
	pthread_mutex_lock(&rl->mu);
	if (rl->nclients >= max) {
		pthread_mutex_unlock(&rl->mu);
		log_warnx("client=%s refused: %u clients already", c->name, max);
		server_refuse(fd, "421 4.3.2 smarthost-relay: too many "
		    "connections, try again later");
		free(c);
		return;
	}
	rl->nclients++;
	pthread_mutex_unlock(&rl->mu);
	if (pthread_create(&t, attr, client_thread, c) != 0) {
		log_warn("pthread_create");
		server_refuse(fd, "421 4.3.0 smarthost-relay: out of resources");
		free(c);
		pthread_mutex_lock(&rl->mu);
		rl->nclients--;
		pthread_mutex_unlock(&rl->mu);
	}
}

static void
save_limits(struct relay *rl, int force)
{
	char err[512];

	if (limit_save(rl->limits, time(NULL), force, err, sizeof(err)) != 0)
		log_warnx("limits: %s", err);
}

/* Open and prune the sent log as the current configuration says. */
static void
maintain_sent_log(struct relay *rl)
{
	struct config *cfg = relay_config(rl);

	sentrec_maintain(rl->sent, cfg->conf, time(NULL));
	config_unref(cfg);
}

/* Serve until SIGTERM/SIGINT. */
static void
serve(struct relay *rl, int lfd, int sfd)
{
	struct pollfd p[2] = { { .fd = lfd, .events = POLLIN },
	    { .fd = sfd, .events = POLLIN } };
	struct signalfd_siginfo si;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (;;) {
		if (poll(p, 2, 1000) == -1 && errno != EINTR)
			log_warn("poll");
		save_limits(rl, 0);
		if (p[1].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				log_info("SIGHUP: reloading");
				sighup(rl);
				continue;
			}
			log_info("signal %u: stopping", si.ssi_signo);
			__atomic_store_n(&rl->stopping, 1, __ATOMIC_RELAXED);
			break;
		}
		if (p[0].revents & POLLIN)
			accept_one(rl, lfd, &attr);
		/* after accepting: a client that connected while the log
		 * was opened must not wait for it */
		maintain_sent_log(rl);
	}
	pthread_attr_destroy(&attr);
}

/* Let running transactions finish, at most DRAIN_SECONDS; 0 if they
 * all did. */
static int
drain(struct relay *rl)
{
	struct timespec until;
	unsigned busy;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_SECONDS;
	pthread_mutex_lock(&rl->mu);
	while (rl->nclients > 0 &&
	    pthread_cond_timedwait(&rl->idle, &rl->mu, &until) == 0)
		;
	busy = rl->nclients;
	pthread_mutex_unlock(&rl->mu);
	if (busy > 0)
		log_warnx("exiting with %u client connections still open",
		    busy);
	return busy > 0 ? -1 : 0;
}

static int
signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void
relay_init(struct relay *rl, struct config *cfg)
{
	char err[512];

	memset(rl, 0, sizeof(*rl));
	pthread_mutex_init(&rl->mu, NULL);
	pthread_cond_init(&rl->idle, NULL);
	rl->config = cfg;
	if (gethostname(rl->hostname, sizeof(rl->hostname)) != 0 ||
	    rl->hostname[0] == '\0')
		xstrlcpy(rl->hostname, "localhost", sizeof(rl->hostname));
	rl->limits = limit_open(cfg->conf->state_dir, time(NULL), err,
	    sizeof(err));
	if (err[0])
		log_warnx("limits: %s", err);
	rl->pool = pool_new();
	pool_reconfigure(rl->pool, cfg);	/* timeouts, default CA file */
	rl->sent = sentrec_new();	/* opened by serve()'s first turn */
	if (store_open(rl, cfg, err, sizeof(err)) != 0)
		log_warnx("limits-store: %s: limits are this relay's only", err);
}

/* One line per account: what the pool did since start. */
static void
log_pool_stats(struct pool *pool)
{
	struct pool_stat st[64];
	size_t n = pool_stats(pool, st, 64);
	char name[300];

	for (size_t i = 0; i < n && i < 64; i++)
		log_info("account=%s sessions_opened=%lu full_handshakes=%lu "
		    "resumed_handshakes=%lu reuses=%lu peak_sessions=%u",
		    log_quote(name, sizeof(name), st[i].account),
		    st[i].opened, st[i].full_handshakes,
		    st[i].resumed_handshakes, st[i].reuses, st[i].peak);
}

/* After the listener is closed: drain, save the limits, free. */
static void
stop(struct relay *rl)
{
	int idle = drain(rl) == 0;

	save_limits(rl, 1);
	log_pool_stats(rl->pool);
	if (idle) {	/* nothing uses them any more */
		relay_swap_config(rl, NULL);
		pool_free(rl->pool);
		limit_free(rl->limits);
		sentrec_free(rl->sent);
		store_close(rl);
	}
	log_info("stopped");
}

int
main(int argc, char *argv[])
{
	int ch, fg = 0, check = 0, debug = 0, missing, lfd, sfd;
	const struct passwd *pw;
	struct config *cfg;
	struct relay rl;
	struct diag d;
	char err[512], *listen_spec;

	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'f': fg = 1; break;
		case 'n': check = 1; break;
		case 'v': debug = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("smarthost-relay", fg || check, debug);
	/* One thread per client: without a cap glibc gives each its own
	 * malloc arena, and resident memory grows with the client count. */
	mallopt(M_ARENA_MAX, 2);
	diag_init(&d);
	cfg = load(conf_path, NULL, &d);
	diag_free(&d);
	if (cfg == NULL)
		return EX_CONFIG;
	if (check) {
		config_unref(cfg);
		fprintf(stderr, "smarthost-relay: %s: configuration OK\n",
		    conf_path);
		return 0;
	}
	pw = relay_user(cfg->conf, &missing);
	if (missing || prepare_state_dir(cfg->conf->state_dir, pw) != 0) {
		config_unref(cfg);
		return missing ? EX_NOUSER : EX_CONFIG;
	}
	if ((lfd = listen_open(cfg->conf->relay_listen, err, sizeof(err))) == -1) {
		log_errx("%s", err);
		config_unref(cfg);
		return EX_OSERR;
	}
	listen_spec = xstrdup(cfg->conf->relay_listen);
	control = open_control(cfg->conf, pw);
	if (!fg && daemon(0, 0) == -1) {
		log_warn("daemon");
		return EX_OSERR;
	}
	/* locks do not survive fork(): take them in the process that runs */
	if (secrets_lock(cfg->secrets) == -1)
		log_warn("mlock (the authorization codes may be swapped out)");
	if (drop_privileges(pw) != 0 || (sfd = signals()) == -1)
		return EX_OSERR;
	relay_init(&rl, cfg);
	start_control(&rl);
	log_info("listening on %s", listen_spec);
	serve(&rl, lfd, sfd);
	listen_close(lfd, listen_spec);
	control_close(control);
	free(listen_spec);
	stop(&rl);
	return 0;
}
