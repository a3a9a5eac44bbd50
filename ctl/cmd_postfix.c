/*
 * postfix — "smarthostctl postfix [--postconf]": the Postfix settings that
 * attach smarthost, derived from smarthost.conf.
 *
 * main.cf: smtpd_milters and non_smtpd_milters name [milter] socket in
 * Postfix's syntax (unix:PATH, inet:HOST:PORT, inet:[IPV6]:PORT),
 * milter_default_action = tempfail, milter_protocol = 6, relayhost names
 * [relay] listen ("[127.0.0.1]:10025") and default_transport the
 * "smarthost" service of master.cf, an smtp(8) client with the settings
 * of this one loopback hop (XFORWARD, no TLS, no AUTH, a DATA timeout
 * longer than the relay's), and smtpd_forbid_bare_newline = normalize
 * with no exclusions (the relay refuses bare <LF>).  When the milter
 * socket is a unix socket outside Postfix's queue directory, Debian's
 * chrooted smtpd and cleanup cannot reach it: the chroot is turned off
 * for them.
 *
 * Without options the result is printed as main.cf and master.cf excerpts
 * with a comment on each setting; --postconf prints the same as postconf(1)
 * commands (postconf -e, -M, -P, -F), one per line, ready for a shell.
 * Only smarthost.conf is read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "ctl.h"
#include "mta.h"
#include "util.h"

#define PF_QUEUE_DIR		"/var/spool/postfix/"
#define PF_DEFAULT_CONCURRENCY	20	/* default_destination_concurrency_limit */
#define PF_SERVICE		"smarthost"
#define PF_MAX			16
#define PF_VALUE_MAX		(CONF_LINE_MAX + 32)

struct pf_setting {
	const char	*name;
	char		 value[PF_VALUE_MAX];
	const char	*why;		/* comment above it; NULL = none */
};

struct pf_out {
	struct pf_setting main[PF_MAX], opts[PF_MAX];
	size_t		 nmain, nopts;
	int		 unchroot;	/* turn the chroot off for smtpd, cleanup */
	int		 ipv6;		/* relay or milter on IPv6 */
};

static struct pf_setting *add(struct pf_setting *, size_t *, const char *,
	    const char *, const char *, ...) SH_PRINTF(5, 6);

/* Append name = value (printf-style) with the comment why (or NULL). */
static struct pf_setting *
add(struct pf_setting *v, size_t *n, const char *why, const char *name,
    const char *fmt, ...)
{
	struct pf_setting *s = &v[(*n)++];
	va_list ap;

	s->name = name;
	s->why = why;
	va_start(ap, fmt);
	vsnprintf(s->value, sizeof(s->value), fmt, ap);
	va_end(ap);
	return s;
}

/* [milter] socket as Postfix names it. */
static void
milter_value(const struct mta_milter *m, struct pf_out *o, char *buf,
    size_t size)
{
	size_t qlen = strlen(PF_QUEUE_DIR);

	if (m->kind == MTA_INET)
		snprintf(buf, size, "inet:%s:%u", m->host, m->port);
	else if (m->kind == MTA_INET6) {
		snprintf(buf, size, "inet:[%s]:%u", m->host, m->port);
		o->ipv6 = 1;
	} else if (strncmp(m->path, PF_QUEUE_DIR, qlen) == 0 &&
	    m->path[qlen] != '\0')
		snprintf(buf, size, "unix:%s", m->path + qlen);
	else {
		snprintf(buf, size, "unix:%s", m->path);
		o->unchroot = 1;
	}
}

static void
milter_settings(const struct mta_milter *m, struct pf_out *o)
{
	struct pf_setting *s;

	s = add(o->main, &o->nmain, "Every message passes smarthost-milter: "
	    "mail from SMTP clients (smtpd_milters) and mail submitted with "
	    "sendmail(1) (non_smtpd_milters).  Milters listed there already "
	    "(OpenDKIM, ...) stay: add the socket to their list.",
	    "smtpd_milters", "%s", "");
	milter_value(m, o, s->value, sizeof(s->value));
	add(o->main, &o->nmain, NULL, "non_smtpd_milters", "$smtpd_milters");
	add(o->main, &o->nmain, "Milter not running or not answering: answer "
	    "4xx and keep the mail queued; it is retried later and never "
	    "leaves unchecked.", "milter_default_action", "tempfail");
	add(o->main, &o->nmain, "The milter protocol version "
	    "smarthost-milter's libmilter speaks.", "milter_protocol", "6");
}

static void
relay_settings(const struct conf *conf, const struct mta_relay *r,
    struct pf_out *o)
{
	add(o->main, &o->nmain, "Outbound mail goes to smarthost-relay on this "
	    "host ([relay] listen; the brackets mean an address: no MX "
	    "lookup), through the service \"" PF_SERVICE "\" of master.cf.",
	    "relayhost", "[%s]:%u", r->addr, r->port);
	add(o->main, &o->nmain, NULL, "default_transport", PF_SERVICE);
	add(o->main, &o->nmain, "smarthost chooses the account by sender: a "
	    "per-sender relayhost or transport left from sending to the "
	    "provider directly would go around it.",
	    "sender_dependent_relayhost_maps", "%s", "");
	add(o->main, &o->nmain, NULL, "sender_dependent_default_transport_maps",
	    "%s", "");
	add(o->main, &o->nmain, "At most as many connections as the relay "
	    "serves ([relay] max-clients): a connection refused for being one "
	    "too many would make Postfix set the relay aside as unreachable "
	    "for a while.", PF_SERVICE "_destination_concurrency_limit", "%u",
	    conf->max_clients < PF_DEFAULT_CONCURRENCY ? conf->max_clients :
	    PF_DEFAULT_CONCURRENCY);
	add(o->main, &o->nmain, "Only <CR><LF>.<CR><LF> ends a message, also "
	    "from this host's own networks (no exclusions); a bare <LF> is "
	    "taken as a line end.  smarthost-relay refuses a message holding "
	    "a bare <LF> (smarthost-relay(8)), and a client must not end one "
	    "message early to slip in a second (SMTP smuggling).  Postfix "
	    "3.7.10 and later, Debian 12 included; the default is off before "
	    "3.9.", "smtpd_forbid_bare_newline", "normalize");
	add(o->main, &o->nmain, NULL, "smtpd_forbid_bare_newline_exclusions",
	    "%s", "");
	o->ipv6 |= r->ipv6;
}

static void
service_options(const struct conf *conf, struct pf_out *o)
{
	add(o->opts, &o->nopts, NULL, "syslog_name", "postfix/" PF_SERVICE);
	add(o->opts, &o->nopts, NULL, "smtp_send_xforward_command", "yes");
	add(o->opts, &o->nopts, NULL, "smtp_tls_security_level", "none");
	add(o->opts, &o->nopts, NULL, "smtp_tls_wrappermode", "no");
	add(o->opts, &o->nopts, NULL, "smtp_sasl_auth_enable", "no");
	add(o->opts, &o->nopts, NULL, "smtp_bind_address", "%s", "");
	add(o->opts, &o->nopts, NULL, "smtp_bind_address6", "%s", "");
	add(o->opts, &o->nopts, NULL, "smtp_data_done_timeout", "%us",
	    conf->data_timeout + 60);
}

static const char service_why[] =
    "The loopback hop to smarthost-relay.  XFORWARD gives the relay "
    "Postfix's queue ID for its log lines.  No TLS and no AUTH on it: the "
    "relay does both toward the provider, and these options undo settings "
    "left from sending to the provider directly.  Connect from the loopback "
    "address, which the relay accepts ([relay] allow-clients).  Wait for "
    "the reply to the message longer than the relay waits for the "
    "provider's ([relay] data-timeout + 1m): giving up first would send "
    "again a message the provider took.";

static void
print_excerpts(const struct ctl *c, const struct conf *conf,
    const struct pf_out *o)
{
	char *head = xasprintf("Postfix settings for smarthost, from %s "
	    "([milter] socket = %s, [relay] listen = %s).  Paste them, or run "
	    "the commands of \"%s postfix --postconf\"; then \"postfix "
	    "reload\".", c->conf_path, conf->milter_socket, conf->relay_listen,
	    c->progname);

	mta_comment("#", head);
	free(head);
	printf("\n### main.cf\n");
	for (size_t i = 0; i < o->nmain; i++) {
		if (o->main[i].why) {
			putchar('\n');
			mta_comment("#", o->main[i].why);
		}
		printf("%s =%s%s\n", o->main[i].name, *o->main[i].value ? " " :
		    "", o->main[i].value);
	}
	if (o->ipv6)
		mta_comment("#", "\nAn IPv6 address above: inet_protocols "
		    "must include ipv6.");
	printf("\n### master.cf\n\n");
	mta_comment("#", service_why);
	printf("%-10s unix  -       -       n       -       -       smtp\n",
	    PF_SERVICE);
	for (size_t i = 0; i < o->nopts; i++)
		printf("  -o %s=%s\n", o->opts[i].name, o->opts[i].value);
	if (o->unchroot) {
		printf("\n");
		mta_comment("#", "Debian runs smtpd and cleanup chrooted in "
		    "/var/spool/postfix (master.cf column \"chroot\" = y), "
		    "where the milter socket above cannot be reached.  Set "
		    "that column to n for them:\n"
		    "  postconf -F '*/inet/chroot = n' 'cleanup/unix/chroot = n'\n"
		    "or let the milter listen below /var/spool/postfix/ "
		    "([milter] socket = unix:/var/spool/postfix/smarthost/"
		    "milter.sock) or on inet:8891@127.0.0.1.");
	}
}

/* s in single quotes for sh(1). */
static void
print_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	putchar('\'');
}

static void
print_postconf(const struct pf_out *o)
{
	char buf[2 * PF_VALUE_MAX];

	for (size_t i = 0; i < o->nmain; i++) {
		snprintf(buf, sizeof(buf), "%s =%s%s", o->main[i].name,
		    *o->main[i].value ? " " : "", o->main[i].value);
		fputs("postconf -e ", stdout);
		print_quoted(buf);
		putchar('\n');
	}
	printf("postconf -M '%s/unix = %s unix - - n - - smtp'\n",
	    PF_SERVICE, PF_SERVICE);
	for (size_t i = 0; i < o->nopts; i++) {
		snprintf(buf, sizeof(buf), "%s/unix/%s =%s%s", PF_SERVICE,
		    o->opts[i].name, *o->opts[i].value ? " " : "",
		    o->opts[i].value);
		fputs("postconf -P ", stdout);
		print_quoted(buf);
		putchar('\n');
	}
	if (o->unchroot)
		printf("postconf -F '*/inet/chroot = n' "
		    "'cleanup/unix/chroot = n'\n");
}

int
cmd_postfix(const struct ctl *c, int argc, char **argv)
{
	struct conf *conf;
	struct mta_milter m;
	struct mta_relay r;
	struct pf_out o;
	int commands = 0, ex;

	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--postconf"))
			commands = 1;
		else
			return ctl_usage(c, argv[0]);
	}
	if ((conf = mta_load(c, &m, &r, &ex)) == NULL)
		return ex;
	memset(&o, 0, sizeof(o));
	milter_settings(&m, &o);
	relay_settings(conf, &r, &o);
	service_options(conf, &o);
	if (commands)
		print_postconf(&o);
	else
		print_excerpts(c, conf, &o);
	conf_free(conf);
	return EX_OK;
}
