/*
 * reload — "smarthostctl reload": both daemons reload every file, and
 * each says whether it applied the new configuration or refused it.
 *
 * The request "reload" goes to smarthost-relay's control socket ([relay]
 * control-socket) and to smarthost-milter's ([milter] control-socket);
 * each daemon runs the reload SIGHUP runs and answers (ctlsock.h):
 *
 *	DAEMON reload 1
 *	result applied | result refused
 *	diag FILE:LINE: MESSAGE ...
 *	end
 *
 * Printed, per daemon: "smarthost-relay: applied" (with its warnings),
 * "smarthost-relay: refused, still running the previous configuration"
 * with the file:line errors, or "smarthost-relay: not running (...)".
 * When one applied and the other refused, a last line says that they now
 * disagree.  Exit: EX_OK only if both applied; EX_CONFIG if one refused;
 * otherwise EX_UNAVAILABLE (not running), EX_NOPERM (the socket or the
 * daemon refuses the caller) or EX_PROTOCOL (an answer that does not
 * parse).  smarthost.conf is only read for the sockets' paths: a file
 * with errors is reported and its values still used (the daemons then
 * refuse it and say why).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"

#define RELOAD_TIMEOUT	60		/* seconds for the whole answer */
#define RELOAD_MAX	(256 * 1024)	/* bytes of answer accepted */

enum outcome { APPLIED, REFUSED, FAILED };

/* Connected to path, or -1 with the reason printed (*ex set). */
static int
connect_daemon(const char *daemon, const char *path, int *ex)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || *path == '\0' || xstrlcpy(sun.sun_path, path,
	    sizeof(sun.sun_path)) >= sizeof(sun.sun_path)) {
		printf("%s: no usable control-socket configured\n", daemon);
		*ex = EX_CONFIG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		printf("%s: socket: %s\n", daemon, strerror(errno));
		*ex = EX_OSERR;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == EACCES || errno == EPERM) {
		printf("%s: %s: %s: only root and the daemon's user may ask "
		    "it to reload\n", daemon, path, strerror(errno));
		*ex = EX_NOPERM;
	} else {
		printf("%s: not running (nothing answers on %s: %s)\n",
		    daemon, path, strerror(errno));
		*ex = EX_UNAVAILABLE;
	}
	close(fd);
	return -1;
}

/* Read until EOF within RELOAD_TIMEOUT; the answer, NUL-terminated. */
static char *
read_answer(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	time_t until = time(NULL) + RELOAD_TIMEOUT;
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	ssize_t n;

	while (time(NULL) < until && poll(&p, 1, 1000) >= 0) {
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (len + 1 >= cap) {
			if (cap >= RELOAD_MAX)
				break;
			buf = xreallocarray(buf, 2, cap);
			cap *= 2;
		}
		if ((n = read(fd, buf + len, cap - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Print the answer of daemon; its outcome (*ex set when FAILED). */
static enum outcome
print_answer(const char *daemon, char *buf, int *ex)
{
	char *line, *save = NULL, head[64];
	enum outcome o = FAILED;
	int ended = 0, ndiag = 0;

	snprintf(head, sizeof(head), "%s reload 1", daemon);
	line = strtok_r(buf, "\n", &save);
	if (line != NULL && strncmp(line, "error ", 6) == 0) {
		printf("%s: %s\n", daemon, line + 6);
		*ex = strstr(line, "permission denied") ? EX_NOPERM :
		    EX_PROTOCOL;
		return FAILED;
	}
	if (line == NULL || strcmp(line, head) != 0 ||
	    (line = strtok_r(NULL, "\n", &save)) == NULL ||
	    (strcmp(line, "result applied") != 0 &&
	    strcmp(line, "result refused") != 0)) {
		printf("%s: no proper answer to \"reload\" (is it a version "
		    "without it?)\n", daemon);
		*ex = EX_PROTOCOL;
		return FAILED;
	}
	o = strcmp(line, "result applied") == 0 ? APPLIED : REFUSED;
	printf("%s: %s\n", daemon, o == APPLIED ? "applied the new "
	    "configuration" : "refused the new configuration, still running "
	    "the previous one:");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (strcmp(line, "end") == 0) {
			ended = 1;
			break;
		}
		if (strncmp(line, "diag ", 5) == 0) {
			printf("  %s\n", line + 5);
			ndiag++;
		}
	}
	if (!ended) {
		printf("%s: the answer was cut short\n", daemon);
		*ex = EX_PROTOCOL;
		return FAILED;
	}
	if (o == REFUSED && ndiag == 0)
		printf("  (no reason given; see its log)\n");
	return o;
}

/* Ask one daemon; its outcome, *ex set when FAILED. */
static enum outcome
ask(const char *daemon, const char *path, int *ex)
{
	enum outcome o;
	char *buf;
	int fd;

	if ((fd = connect_daemon(daemon, path, ex)) == -1)
		return FAILED;
	/* a refusal may already be waiting: read the answer regardless */
	(void)send(fd, "reload\n", 7, MSG_NOSIGNAL);
	buf = read_answer(fd);
	close(fd);
	o = print_answer(daemon, buf, ex);
	free(buf);
	return o;
}

int
ctl_reload_daemons(const struct ctl *c)
{
	static const char *names[2] = { "smarthost-relay", "smarthost-milter" };
	enum outcome o[2];
	int ex[2] = { EX_OK, EX_OK };
	struct conf *conf;
	struct diag d;

	diag_init(&d);
	conf = conf_load(c->conf_path, 0, &d);
	if (diag_errors(&d) > 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "%s: %s has errors; asking the daemons anyway "
		    "(they will refuse it)\n", c->progname, c->conf_path);
	}
	diag_free(&d);
	o[0] = ask(names[0], conf->control_socket, &ex[0]);
	o[1] = ask(names[1], conf->milter_control_socket, &ex[1]);
	conf_free(conf);
	if (o[0] != o[1] && o[0] != FAILED && o[1] != FAILED) {
		int first = o[0] == APPLIED ? 0 : 1;

		printf("the two daemons now disagree: %s runs the new "
		    "configuration, %s the previous one\n", names[first],
		    names[1 - first]);
	}
	if (o[0] == APPLIED && o[1] == APPLIED)
		return EX_OK;
	if (o[0] == REFUSED || o[1] == REFUSED)
		return EX_CONFIG;
	return ex[0] != EX_OK ? ex[0] : ex[1];
}

int
cmd_reload(const struct ctl *c, int argc, char **argv)
{
	if (argc != 1)
		return ctl_usage(c, argv[0]);
	if (ctl_missing(c->conf_path)) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path,
		    strerror(ENOENT));
		return EX_NOINPUT;
	}
	return ctl_reload_daemons(c);
}
