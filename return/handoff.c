/*
 * handoff — a message to the local MTA with sendmail(1): "SENDMAIL -i -f
 * <> -- RCPT", the message on standard input with CRLF line ends made LF
 * (see return.h).  The command is the -s option split at blanks, so that
 * tests can add "-C DIR" for a Postfix instance of their own.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "return.h"
#include "util.h"

/* Write msg to fd, CRLF as LF.  0 or -1 (errno). */
static int
write_lf(int fd, const char *msg, size_t len)
{
	size_t p = 0, e;
	ssize_t n;

	while (p < len) {
		const char *cr = memchr(msg + p, '\r', len - p);

		e = cr ? (size_t)(cr - msg) : len;
		while (p < e) {
			if ((n = write(fd, msg + p, e - p)) == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			p += (size_t)n;
		}
		if (cr != NULL) {
			/* a CR is dropped only before LF */
			if (e + 1 < len && msg[e + 1] == '\n') {
				p = e + 1;
				continue;
			}
			if (write(fd, "\r", 1) != 1)
				return -1;
			p = e + 1;
		}
	}
	return 0;
}

static pid_t
spawn(char *const *sendmail, const char *rcpt, int *in, char *err,
    size_t errsize)
{
	char *argv[64];
	size_t n = 0;
	int p[2];
	pid_t pid;

	while (sendmail[n] != NULL && n < 58) {
		argv[n] = sendmail[n];
		n++;
	}
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)"<>";
	argv[n++] = (char *)"--";
	argv[n++] = (char *)rcpt;
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(p[0], 0) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "smarthost-return: %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*in = p[1];
	return pid;
}

int
handoff(char *const *sendmail, const char *rcpt, const char *msg,
    size_t len, char *err, size_t errsize)
{
	int in, st, wrote;
	pid_t pid;

	if ((pid = spawn(sendmail, rcpt, &in, err, errsize)) == -1)
		return 1;
	wrote = write_lf(in, msg, len);
	close(in);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(err, errsize, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		snprintf(err, errsize, "%s exited with status %d",
		    sendmail[0], WEXITSTATUS(st));
		return 1;
	}
	if (!WIFEXITED(st)) {
		snprintf(err, errsize, "%s killed by signal %d", sendmail[0],
		    WTERMSIG(st));
		return -1;
	}
	if (wrote == -1) {
		snprintf(err, errsize, "%s exited 0 before reading the whole "
		    "message", sendmail[0]);
		return -1;
	}
	return 0;
}
