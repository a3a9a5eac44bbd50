/*
 * upstream_open — opening a session with a provider (see upstream_int.h):
 * every address of the host in turn within connect-timeout, implicit TLS
 * or STARTTLS as the route says, EHLO (again after STARTTLS), then AUTH
 * with the first usable mechanism, only ever over verified TLS.
 *
 * A server that does not offer STARTTLS, or sends anything after its 220
 * to STARTTLS before the handshake, is a failure, never a downgrade.  Each
 * failure is a synthetic reply naming the host and a reason for the pool's
 * caller: UPF_CONNECT (DNS 4.4.3, connect 4.4.1, greeting 4.3.2, lost or
 * timed out 4.4.2), UPF_TLS (4.7.4 no STARTTLS, 4.7.5 handshake or
 * verification), UPF_AUTH (4.7.8, with the provider's words),
 * UPF_PROTOCOL (4.5.0).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "net.h"
#include "reply.h"
#include "tls.h"
#include "upstream.h"
#include "upstream_int.h"
#include "util.h"

static int
connect_one(struct upstream *up, const struct addrinfo *ai, char *err,
    size_t errsize)
{
	int e = 0, fd = net_connect_addr(ai, up_timeout_ms(up), &e, err,
	    errsize);

	if (fd == -1 && up->trace)
		up->trace->connect_errno = e;
	return fd;
}

static void
set_peer(struct upstream *up, const struct addrinfo *ai, unsigned port)
{
	char addr[64];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
	    NULL, 0, NI_NUMERICHOST) != 0)
		xstrlcpy(addr, "?", sizeof(addr));
	snprintf(up->peer, sizeof(up->peer), "%s[%s]:%u", up->host, addr,
	    port);
}

/* Every address in turn until one answers. */
static int
up_connect(struct upstream *up, unsigned port, struct smtp_reply *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV }, *res, *ai;
	char service[16], err[256] = "no address";
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	snprintf(up->peer, sizeof(up->peer), "%s:%u", up->host, port);
	if ((rc = getaddrinfo(up->host, service, &hints, &res)) != 0) {
		up_break(up, r, UPF_CONNECT, "4.4.3", "cannot find the "
		    "address of %s: %s", up->host, rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		set_peer(up, ai, port);
		if (up->trace)
			xstrlcpy(up->trace->peer, up->peer,
			    sizeof(up->trace->peer));
		if ((up->fd = connect_one(up, ai, err, sizeof(err))) != -1)
			break;
	}
	freeaddrinfo(res);
	if (up->fd == -1) {
		up_break(up, r, UPF_CONNECT, "4.4.1", "connect to %s: %s",
		    up->peer, err);
		return -1;
	}
	return 0;
}

static int
up_handshake(struct upstream *up, const struct upstream_params *p,
    struct smtp_reply *r)
{
	char err[256];

	up->state = UPS_TLS;
	up->tls = tls_connect(p->tls_ctx, up->fd, up->host, p->resume,
	    up_timeout_ms(up), err, sizeof(err));
	if (up->tls == NULL) {
		up_break(up, r, UPF_TLS, "4.7.5", "%s: %s", up->peer, err);
		return -1;
	}
	if (up->trace) {
		up->trace->tls_done = 1;
		tls_describe(up->tls, up->trace->tls, sizeof(up->trace->tls));
		tls_peer_cert(up->tls, &up->trace->cert);
	}
	return 0;
}

static const char *
ehlo_name(char *buf, size_t size)
{
	if (gethostname(buf, size) == -1 || buf[0] == '\0' ||
	    strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") != strlen(buf))
		xstrlcpy(buf, "localhost", size);
	return buf;
}

static int
up_ehlo(struct upstream *up, struct smtp_reply *r)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];
	char name[256];
	int code;

	up->caps = 0;
	up->max_size = 0;
	up->auth_offered[0] = '\0';
	if (up->trace)
		up->trace->ehlo[0] = '\0';
	code = up_command(up, UPS_EHLO, r, "EHLO %s",
	    ehlo_name(name, sizeof(name)));
	if (code == 0)
		return -1;
	if (code != 250) {
		up_break(up, r, UPF_PROTOCOL, "4.5.0", "%s refused EHLO: %s",
		    up->peer, up_said(r, quote, sizeof(quote)));
		return -1;
	}
	return 0;
}

static int
up_greeting(struct upstream *up, struct smtp_reply *r)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];
	int code;

	up->state = UPS_GREETING;
	if ((code = up_reply(up, r, 0)) == 0)
		return -1;
	if (code != 220) {
		up_break(up, r, UPF_CONNECT, "4.3.2", "%s greeted with: %s",
		    up->peer, up_said(r, quote, sizeof(quote)));
		return -1;
	}
	return 0;
}

/* Never a downgrade: no STARTTLS, no mail and no AUTH. */
static int
up_starttls(struct upstream *up, const struct upstream_params *p,
    struct smtp_reply *r)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];
	int code;

	if (!(up->caps & UPCAP_STARTTLS)) {
		up_break(up, r, UPF_TLS, "4.7.4", "%s does not offer STARTTLS; "
		    "nothing is sent without TLS", up->peer);
		return -1;
	}
	if ((code = up_command(up, UPS_STARTTLS, r, "STARTTLS")) == 0)
		return -1;
	if (code != 220) {
		up_break(up, r, UPF_TLS, "4.7.4", "%s refused STARTTLS: %s",
		    up->peer, up_said(r, quote, sizeof(quote)));
		return -1;
	}
	if (up->rpos < up->rlen) {
		up_break(up, r, UPF_PROTOCOL, "4.5.0", "%s sent data after "
		    "its reply to STARTTLS, before the TLS handshake",
		    up->peer);
		return -1;
	}
	return up_handshake(up, p, r);
}

static void
auth_refused(struct upstream *up, const struct upstream_params *p,
    const struct auth_mech *m, struct smtp_reply *r)
{
	char quote[SMTP_REPLY_TEXT_MAX + 32];

	if (up->trace)
		up->trace->auth_reply = *r;
	up_break(up, r, UPF_AUTH, "4.7.8", "%s refused the %s of account "
	    "%s (AUTH %s): %s", up->peer, auth_mech_token(m) ?
	    "OAuth2 access token" : "authorization code", p->account,
	    auth_mech_name(m), up_said(r, quote, sizeof(quote)));
}

/* The exchange itself: every line holding credentials is wiped. */
static int
auth_exchange(struct upstream *up, const struct upstream_params *p,
    const struct auth_mech *m, struct smtp_reply *r)
{
	char line[AUTH_LINE_MAX + 3], err[128];
	int code, rc;

	up->state = UPS_AUTH;
	if (up->trace)
		xstrlcpy(up->trace->auth_mech, auth_mech_name(m),
		    sizeof(up->trace->auth_mech));
	for (unsigned step = 0; ; step++) {
		if (auth_line(m, step, p->login, p->secret, line, sizeof(line),
		    err, sizeof(err)) == -1) {
			wipe(line, sizeof(line));
			up_write(up, "*\r\n", 3, NULL);
			up_break(up, r, UPF_PROTOCOL, "4.5.0", "%s: %s",
			    up->peer, err);
			return -1;
		}
		rc = up_write(up, line, strlen(line), r);
		wipe(line, sizeof(line));
		if (rc == -1 || (code = up_reply(up, r, 0)) == 0)
			return -1;
		if (code == 235) {
			if (up->trace)
				up->trace->auth_reply = *r;
			return 0;
		}
		if (code == 421) {	/* not a verdict on the code */
			*r = up->fail;
			return -1;
		}
		if (code != 334) {
			auth_refused(up, p, m, r);
			return -1;
		}
	}
}

/* AUTH only over verified TLS, with the first usable mechanism. */
static int
up_auth(struct upstream *up, const struct upstream_params *p,
    struct smtp_reply *r)
{
	const struct auth_mech *m;

	if (up->tls == NULL) {
		up_break(up, r, UPF_TLS, "4.7.4", "%s: refusing to "
		    "authenticate without TLS", up->peer);
		return -1;
	}
	if (!(up->caps & UPCAP_AUTH)) {
		up_break(up, r, UPF_AUTH, "4.7.8", "%s does not offer AUTH",
		    up->peer);
		return -1;
	}
	if ((m = auth_choose(p->auth, p->default_auth,
	    up->auth_offered)) == NULL) {
		up_break(up, r, UPF_AUTH, "4.7.8", "%s offers AUTH %s, none "
		    "of the mechanisms smarthost may use for account %s",
		    up->peer, up->auth_offered, p->account);
		return -1;
	}
	return auth_exchange(up, p, m, r);
}

/* Without a code there is nothing to log in with: not even connect. */
static int
have_secret(struct upstream *up, const struct upstream_params *p,
    struct smtp_reply *r)
{
	if (p->secret != NULL && p->secret[0] != '\0')
		return 1;
	snprintf(up->peer, sizeof(up->peer), "%s:%u", up->host, p->port);
	up_break(up, r, UPF_AUTH, "4.7.8", "no authorization code for "
	    "account %s in the secrets", p->account);
	return 0;
}

static struct upstream *
up_new(const struct upstream_params *p)
{
	struct upstream *up = xcalloc(1, sizeof(*up));

	up->fd = -1;
	up->state = UPS_CONNECT;
	xstrlcpy(up->host, p->host, sizeof(up->host));
	up->timeouts[TO_CONNECT] = p->connect_timeout;
	up->timeouts[TO_COMMAND] = p->command_timeout;
	up->timeouts[TO_DATA] = p->data_timeout;
	up->trace = p->trace;
	up->timeouts[TO_CHECK] = p->command_timeout < UP_CHECK_TIMEOUT ?
	    p->command_timeout : UP_CHECK_TIMEOUT;
	up->timeouts[TO_QUIT] = p->command_timeout < UP_QUIT_TIMEOUT ?
	    p->command_timeout : UP_QUIT_TIMEOUT;
	return up;
}

struct upstream *
upstream_open(const struct upstream_params *p, struct smtp_reply *r,
    enum upstream_fail *why)
{
	struct upstream *up = up_new(p);
	char desc[128], reason[SMTP_REPLY_TEXT_MAX + 8];
	int ok;

	ok = have_secret(up, p, r) && up_connect(up, p->port, r) == 0 &&
	    (p->tls != TLS_IMPLICIT || up_handshake(up, p, r) == 0) &&
	    up_greeting(up, r) == 0 && up_ehlo(up, r) == 0 &&
	    (p->tls != TLS_STARTTLS || (up_starttls(up, p, r) == 0 &&
	    up_ehlo(up, r) == 0)) &&
	    up_auth(up, p, r) == 0;
	if (up->trace)
		up->trace->stage = ok ? UPF_NONE : up->broken ? up->broken :
		    UPF_PROTOCOL;
	up->trace = NULL;
	if (!ok) {
		*why = up->broken ? up->broken : UPF_PROTOCOL;
		log_info("account=%s host=%s session=failed reason=%s",
		    p->account, up->peer, log_quote(reason, sizeof(reason),
		    r->text));
		upstream_close(up);
		return NULL;
	}
	up->state = UPS_READY;
	*why = UPF_NONE;
	log_info("account=%s host=%s session=new tls=\"%s\" resumed=%s",
	    p->account, up->peer, tls_describe(up->tls, desc, sizeof(desc)),
	    tls_resumed(up->tls) ? "yes" : "no");
	return up;
}
