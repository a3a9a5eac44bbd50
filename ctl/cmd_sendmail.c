/*
 * sendmail — "smarthostctl sendmail": the sendmail.mc lines that attach
 * smarthost, derived from smarthost.conf.
 *
 * INPUT_MAIL_FILTER names [milter] socket (S=unix:PATH, inet:PORT@HOST,
 * inet6:PORT@HOST) with F=T, so that mail waits in Sendmail's queue when
 * the milter cannot be reached, and timeouts that leave the milter time
 * for its DNS lookups at the end of the message; SMART_HOST is the relay's
 * address in brackets and RELAY_MAILER_ARGS its port (SMART_HOST uses the
 * relay mailer; the esmtp mailer, for any other route, keeps port 25).
 * Comments are "dnl" lines, so the whole output may be pasted into a .mc
 * file above its MAILER() lines; the last comment says how to rebuild
 * sendmail.cf.  Only smarthost.conf is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "ctl.h"
#include "mta.h"
#include "util.h"

#define SM_MILTER_FLAGS		"F=T, T=S:30s;R:2m;E:10m"

static void
print_milter(const struct mta_milter *m)
{
	mta_comment("dnl #", "Every message passes smarthost-milter, mail "
	    "submitted with sendmail(1) too, since it reaches this daemon over "
	    "SMTP.  F=T: milter not running or not answering, answer 4xx and "
	    "keep the mail queued.  T=: connect within 30 s, 2 min for each "
	    "reply, 10 min for the end of the message (the milter's alignment "
	    "checks and their DNS lookups run there).");
	printf("INPUT_MAIL_FILTER(`smarthost', `S=");
	if (m->kind == MTA_UNIX)
		printf("unix:%s", m->path);
	else
		printf("%s:%u@%s", m->kind == MTA_INET6 ? "inet6" : "inet",
		    m->port, m->host);
	printf(", " SM_MILTER_FLAGS "')dnl\n");
}

static void
print_relay(const struct mta_relay *r)
{
	mta_comment("dnl #", "\nOutbound mail goes to smarthost-relay on "
	    "this host ([relay] listen) through the relay mailer; the brackets "
	    "mean an address: no MX lookup.  Sendmail sends no XFORWARD, so the "
	    "relay logs this mail without a queue ID.");
	printf("define(`SMART_HOST', `[%s%s]')dnl\n", r->ipv6 ? "IPv6:" : "",
	    r->addr);
	printf("define(`RELAY_MAILER_ARGS', `TCP $h %u')dnl\n", r->port);
}

int
cmd_sendmail(const struct ctl *c, int argc, char **argv)
{
	struct conf *conf;
	struct mta_milter m;
	struct mta_relay r;
	char *head;
	int ex;

	if (argc != 1)
		return ctl_usage(c, argv[0]);
	if ((conf = mta_load(c, &m, &r, &ex)) == NULL)
		return ex;
	head = xasprintf("Sendmail lines for smarthost, from %s ([milter] "
	    "socket = %s, [relay] listen = %s).  Add them to "
	    "/etc/mail/sendmail.mc above its MAILER() lines.\n\n",
	    c->conf_path, conf->milter_socket, conf->relay_listen);
	mta_comment("dnl #", head);
	free(head);
	print_milter(&m);
	print_relay(&r);
	mta_comment("dnl #", "\nThen rebuild sendmail.cf and restart "
	    "Sendmail:\n"
	    "  make -C /etc/mail && systemctl restart sendmail\n"
	    "(on Debian sendmailconfig does both; elsewhere:\n"
	    "  m4 /etc/mail/sendmail.mc > /etc/mail/sendmail.cf)");
	conf_free(conf);
	return EX_OK;
}
