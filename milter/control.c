/*
 * control — the milter's control socket ([milter] control-socket,
 * default /run/smarthost/milter-control.sock), made and served by
 * ctlsock.h like the relay's: a root-owned directory, the socket mode
 * 0600 and the milter's user's, callers checked with SO_PEERCRED (root
 * and the milter's user).  One request:
 *
 *	request:  reload
 *	reply:    smarthost-milter reload 1
 *	          result applied | result refused
 *	          diag FILE:LINE: MESSAGE	(each error and warning)
 *	          end
 *	or:       error TEXT
 *
 * The reload is the one SIGHUP runs (main.c), run in this thread;
 * snapshot_load() serialises the two.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlsock.h"
#include "log.h"
#include "milter.h"

static struct ctlsock *sock;
static char *sock_path;
static int (*reload_fn)(struct diag *);

static void
serve(void *arg, const char *req, FILE *fp)
{
	char shown[CTLSOCK_LINE_MAX + 3];
	struct diag d;
	int applied;

	if (strcmp(req, "reload") != 0) {
		fprintf(fp, "error unknown request %s: expected \"reload\"\n",
		    log_quote(shown, sizeof(shown), req));
		return;
	}
	log_info("control: reload requested");
	diag_init(&d);
	applied = reload_fn(&d) == 0;
	ctlsock_put_reload(fp, MILTER_NAME, applied, &d);
	diag_free(&d);
}

int
control_open(const struct conf *c, const char *user)
{
	struct passwd *pw = NULL;
	char err[1200];

	if (geteuid() == 0 && user != NULL && *user != '\0')
		pw = getpwnam(user);	/* missing: drop_privileges() says so */
	sock = ctlsock_open(c->milter_control_socket, "milter",
	    pw ? pw->pw_uid : (uid_t)-1, pw ? pw->pw_gid : (gid_t)-1, err,
	    sizeof(err));
	if (sock == NULL) {
		log_warnx("control socket: %s (smarthostctl reload will not "
		    "reach the milter)", err);
		return -1;
	}
	sock_path = xstrdup(c->milter_control_socket);
	return 0;
}

void
control_start(int (*reload)(struct diag *))
{
	char err[256];

	if (sock == NULL)
		return;
	reload_fn = reload;
	if (ctlsock_start(sock, serve, NULL, err, sizeof(err)) != 0) {
		log_warnx("control socket: %s", err);
		control_close();
		return;
	}
	log_info("control socket %s", sock_path);
}

void
control_close(void)
{
	ctlsock_close(sock);
	sock = NULL;
	free(sock_path);
	sock_path = NULL;
}
