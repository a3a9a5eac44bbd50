/*
 * probe — "smarthostctl probe ACCOUNT [--all-ports] [--json]": the
 * troubleshooting guide as a command.  For one account (its relay.map /
 * [account] name or its login address) it resolves the host, connects to
 * the account's port (with --all-ports to the preset's other ports too),
 * completes TLS with verification, shows the certificate and the EHLO
 * capabilities after TLS, tries AUTH with the stored code and QUITs
 * without sending mail.  The session is opened by upstream_open(), the
 * relay's own code, with a struct upstream_trace to see each step.
 *
 * Every failure is said in plain words with the next step (see explain()).
 * Exit codes (smarthostctl(8)), for the account's own port: EX_OK AUTH
 * succeeded; EX_NOHOST the host does not resolve; EX_UNAVAILABLE no
 * connection (refused, timed out, closed); EX_PROTOCOL TLS failed (name,
 * trust, handshake, no STARTTLS) or the server spoke nonsense;
 * EX_NOPERM the code was refused (535, 550 no permission, no usable
 * mechanism); EX_TEMPFAIL AUTH failed temporarily (4xx); EX_NOUSER no
 * such account; EX_CONFIG configuration errors or no stored code (for an
 * xoauth2 account: no access token to be had, as the relay gets it with
 * oauth_access_token()).  The code or token is never printed; a reply
 * that quotes it is redacted.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "addr.h"
#include "ctl.h"
#include "json.h"
#include "oauth.h"
#include "route.h"
#include "tls.h"
#include "upstream.h"
#include "upstream_int.h"

#define PROBE_ADDRS	16
#define PROBE_PORTS	(PRESET_MAX_PORTS + 1)

struct probe_args {
	const char	*account;
	int		 all_ports, json;
};

struct port_result {
	unsigned		 port;
	enum tls_mode		 tls;
	int			 own;		/* the account's configured port */
	struct upstream_trace	 tr;
	struct smtp_reply	 r;
	const char		*status;	/* "ok", "connect-refused", ... */
	char			 problem[1024];
	char			 next[1536];
	int			 ex;
};

struct probe {
	const struct config	*cfg;
	const struct account	*acct;
	const struct preset	*preset;
	const char		*secret;
	const char		*host;		/* the account's, else the preset's */
	char			 addrs[PROBE_ADDRS][64];
	size_t			 naddrs;
	char			 dns_err[256];
	struct port_result	 res[PROBE_PORTS];
	size_t			 nres;
	char			 token[OAUTH_TOKEN_MAX];	/* xoauth2 */
};

static int
probe_args(int argc, char **argv, struct probe_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--json"))
			a->json = 1;
		else if (ctl_flag(argv[i], "--all-ports"))
			a->all_ports = 1;
		else if (argv[i][0] == '-' || a->account)
			return -1;
		else
			a->account = argv[i];
	}
	return a->account ? 0 : -1;
}

/* Replies are the provider's words: never let them carry the code. */
static void
redact(char *text, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(text, secret)) != NULL)
		memset(p, '*', n);
}

static int
resolve(struct probe *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_ADDRCONFIG }, *res, *ai;
	int rc;

	if ((rc = getaddrinfo(p->host, NULL, &hints, &res)) != 0) {
		snprintf(p->dns_err, sizeof(p->dns_err), "%s", rc == EAI_SYSTEM
		    ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && p->naddrs < PROBE_ADDRS; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen,
		    p->addrs[p->naddrs], sizeof(p->addrs[0]), NULL, 0,
		    NI_NUMERICHOST) == 0)
			p->naddrs++;
	freeaddrinfo(res);
	return 0;
}

static void
add_port(struct probe *p, unsigned port, enum tls_mode tls, int own)
{
	for (size_t i = 0; i < p->nres; i++)
		if (p->res[i].port == port)
			return;
	if (p->nres == PROBE_PORTS)
		return;
	memset(&p->res[p->nres], 0, sizeof(p->res[0]));
	p->res[p->nres].port = port;
	p->res[p->nres].tls = tls;
	p->res[p->nres].own = own;
	p->nres++;
}

/* "465 (implicit TLS), 587 (STARTTLS)": the ports worth trying instead. */
static void
other_ports(const struct probe *p, unsigned port, char *buf, size_t size)
{
	const struct preset *ps = p->preset;
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; ps && i < ps->nports && len < size; i++)
		if (ps->ports[i].port != port)
			len += snprintf(buf + len, size - len, "%s%u (%s)",
			    len ? " or " : "", ps->ports[i].port,
			    ps->ports[i].tls == TLS_IMPLICIT ? "implicit TLS" :
			    "STARTTLS");
	if (buf[0] == '\0')
		snprintf(buf, size, "%s", port == 465 ? "587 (STARTTLS)" :
		    "465 (implicit TLS)");
}

static void
set(struct port_result *x, const char *status, int ex)
{
	x->status = status;
	x->ex = ex;
}

static void
explain_connect(const struct probe *p, struct port_result *x)
{
	const char *host = p->host;
	char alt[128];

	other_ports(p, x->port, alt, sizeof(alt));
	if (strcmp(x->r.enhanced, "4.4.3") == 0) {
		set(x, "dns", EX_NOHOST);
		snprintf(x->problem, sizeof(x->problem), "the name %s does "
		    "not resolve", host);
		snprintf(x->next, sizeof(x->next), "check host = in the "
		    "account and this machine's DNS (getent hosts %s)", host);
		return;
	}
	if (x->tr.connect_errno == ECONNREFUSED) {
		set(x, "connect-refused", EX_UNAVAILABLE);
		snprintf(x->problem, sizeof(x->problem), "%s refused the "
		    "connection to port %u", host, x->port);
	} else if (x->tr.connect_errno == ETIMEDOUT) {
		set(x, "connect-timeout", EX_UNAVAILABLE);
		snprintf(x->problem, sizeof(x->problem), "no answer from %s "
		    "on port %u within %u s", host, x->port,
		    p->cfg->conf->connect_timeout);
	} else {
		set(x, "connect-failed", EX_UNAVAILABLE);
		snprintf(x->problem, sizeof(x->problem), "no SMTP session "
		    "with %s on port %u", host, x->port);
	}
	snprintf(x->next, sizeof(x->next), "the network may block port "
	    "%u — try %s %s, or ask your ISP or firewall administrator to "
	    "allow outgoing connections to port %u", x->port, alt,
	    p->preset ? "with --all-ports" : "(port = and tls = in the "
	    "account)", x->port);
}

static void
explain_tls(const struct probe *p, struct port_result *x)
{
	const char *host = p->host, *t = x->r.text;

	if (strstr(t, "does not offer STARTTLS") ||
	    strstr(t, "refused STARTTLS")) {
		set(x, "no-starttls", EX_PROTOCOL);
		snprintf(x->problem, sizeof(x->problem), "%s port %u does not "
		    "offer STARTTLS; nothing is sent without TLS", host,
		    x->port);
		snprintf(x->next, sizeof(x->next), "use the provider's "
		    "submission port (465 with tls = implicit, or 587 with "
		    "tls = starttls); if the provider offers STARTTLS there, "
		    "something on the network strips it");
	} else if (strstr(t, "hostname mismatch") ||
	    strstr(t, "IP address mismatch")) {
		set(x, "tls-name", EX_PROTOCOL);
		snprintf(x->problem, sizeof(x->problem), "the certificate "
		    "presented on port %u is not for %s", x->port, host);
		snprintf(x->next, sizeof(x->next), "set host = to the name "
		    "the provider publishes (not an alias or an address); if "
		    "it already is, something on the network intercepts TLS");
	} else if (strstr(t, "certificate verify failed")) {
		set(x, "tls-untrusted", EX_PROTOCOL);
		snprintf(x->problem, sizeof(x->problem), "the certificate of "
		    "%s is not trusted (%s)", host,
		    strstr(t, "certificate verify failed: ") +
		    strlen("certificate verify failed: "));
		snprintf(x->next, sizeof(x->next), "if the provider uses a "
		    "private CA, set ca-file = in the [account] block (or "
		    "[relay]); "
		    "otherwise update ca-certificates, check the clock, or "
		    "look for a TLS-intercepting firewall");
	} else {
		set(x, "tls-handshake", EX_PROTOCOL);
		snprintf(x->problem, sizeof(x->problem), "the TLS handshake "
		    "with %s port %u failed", host, x->port);
		snprintf(x->next, sizeof(x->next), "check tls = for port %u "
		    "(465 is implicit TLS, 587 is STARTTLS)", x->port);
	}
}

static void
explain_auth(const struct probe *p, struct port_result *x)
{
	const struct preset *ps = p->preset;
	const struct smtp_reply *a = &x->tr.auth_reply;
	const char *howto = ps && ps->code_howto ? ps->code_howto :
	    "the provider's help for mail clients (IMAP/SMTP) says where";

	if (a->code == 550 || strcasestr(a->text, "no permission")) {
		set(x, "auth-no-permission", EX_NOPERM);
		snprintf(x->problem, sizeof(x->problem), "SMTP is not enabled "
		    "for %s at the provider (or the web password was used)",
		    p->acct->login);
		snprintf(x->next, sizeof(x->next), "enable SMTP for the "
		    "mailbox in the provider's web settings, then store the "
		    "authorization code it gives as \"%s CODE\" in %s. %s",
		    p->acct->name, p->cfg->conf->secrets, howto);
	} else if (a->code / 100 == 4) {
		set(x, "auth-tempfail", EX_TEMPFAIL);
		snprintf(x->problem, sizeof(x->problem), "the provider could "
		    "not check the code just now");
		snprintf(x->next, sizeof(x->next), "try again in a few "
		    "minutes");
	} else if (a->code != 0 && p->acct->auth_kind == AUTHK_XOAUTH2) {
		set(x, "auth-refused", EX_NOPERM);
		snprintf(x->problem, sizeof(x->problem), "the provider "
		    "refused the OAuth2 access token of %s", p->acct->login);
		snprintf(x->next, sizeof(x->next), "authorize the account "
		    "again with \"smarthostctl oauth %s\"; if that is "
		    "refused too, check that SMTP AUTH is enabled for the "
		    "mailbox and the application has the SMTP scope",
		    p->acct->name);
	} else if (a->code != 0) {
		set(x, "auth-refused", EX_NOPERM);
		snprintf(x->problem, sizeof(x->problem), "the provider "
		    "refused the authorization code of %s", p->acct->login);
		snprintf(x->next, sizeof(x->next), "%s. Where to make one: "
		    "%s. Then store it as \"%s CODE\" in %s",
		    ps && ps->auth_failure_hint ? ps->auth_failure_hint :
		    "the provider wants its authorization code (app "
		    "password), not the web password", howto, p->acct->name,
		    p->cfg->conf->secrets);
	} else {
		set(x, "auth-unusable", EX_NOPERM);
		snprintf(x->problem, sizeof(x->problem), "no AUTH mechanism "
		    "smarthost may use is offered");
		snprintf(x->next, sizeof(x->next), "check auth = in the "
		    "account against the AUTH line under capabilities");
	}
}

static void
explain(const struct probe *p, struct port_result *x)
{
	switch (x->tr.stage) {
	case UPF_NONE:
		set(x, "ok", EX_OK);
		return;
	case UPF_CONNECT:
		explain_connect(p, x);
		return;
	case UPF_TLS:
		explain_tls(p, x);
		return;
	case UPF_AUTH:
		explain_auth(p, x);
		return;
	default:
		set(x, "protocol", EX_PROTOCOL);
		snprintf(x->problem, sizeof(x->problem), "%s spoke "
		    "unexpectedly", p->host);
		snprintf(x->next, sizeof(x->next), "check that port %u is the "
		    "provider's SMTP submission port", x->port);
	}
}

static void
probe_port(struct probe *p, struct tls_ctx *ctx, struct port_result *x)
{
	const struct account *a = p->acct;
	const struct conf *c = p->cfg->conf;
	struct upstream_params up = {
		.account = a->name, .host = p->host, .port = x->port,
		.tls = x->tls, .login = a->login, .secret = p->secret,
		.auth = &a->auth, .tls_ctx = ctx,
		.default_auth = p->preset ? p->preset->default_auth : NULL,
		.connect_timeout = c->connect_timeout,
		.command_timeout = c->command_timeout,
		.data_timeout = c->command_timeout, .trace = &x->tr,
	};
	enum upstream_fail why;
	struct upstream *u;

	u = upstream_open(&up, &x->r, &why);
	upstream_close(u);		/* QUIT, nothing sent */
	redact(x->r.text, p->secret);
	redact(x->tr.auth_reply.text, p->secret);
	redact(x->tr.ehlo, p->secret);
	explain(p, x);
}

/* ---- output ---- */

static const char *
tls_name(enum tls_mode t)
{
	return t == TLS_IMPLICIT ? "implicit TLS" : "STARTTLS";
}

static void
text_port(const struct probe *p, const struct port_result *x)
{
	const struct upstream_trace *t = &x->tr;

	printf("port %u (%s)%s:\n", x->port, tls_name(x->tls),
	    x->own ? "" : " [--all-ports]");
	if (t->peer[0])
		printf("  connect: %s\n", t->peer);
	if (t->tls_done) {
		printf("  tls: %s, certificate verified for %s\n", t->tls,
		    p->host);
		printf("  certificate subject: %s\n", t->cert.subject);
		printf("  certificate issuer: %s\n", t->cert.issuer);
		printf("  certificate expires: %s (in %ld days)\n",
		    t->cert.not_after, t->cert.days_left);
	}
	if (t->tls_done && t->ehlo[0]) {
		printf("  capabilities:\n");
		for (const char *s = t->ehlo, *e; *s; s = *e ? e + 1 : e) {
			e = s + strcspn(s, "\n");
			printf("    %.*s\n", (int)(e - s), s);
		}
	}
	if (x->ex == EX_OK) {
		printf("  AUTH ok (%s as %s): %d %s\n", t->auth_mech,
		    p->acct->login, t->auth_reply.code, t->auth_reply.text);
		return;
	}
	printf("  FAILED: %s\n", x->r.text);
	printf("  problem: %s\n", x->problem);
	printf("  next: %s\n", x->next);
}

static void
text_out(const struct probe *p, int ex)
{
	const struct account *a = p->acct;

	printf("account: %s\n", a->name);
	printf("login: %s\n", a->login);
	printf("provider: %s\n", p->preset ? p->preset->name : "(none)");
	printf("host: %s\n", p->host);
	if (p->dns_err[0]) {
		printf("addresses: none (%s)\n", p->dns_err);
	} else {
		printf("addresses:");
		for (size_t i = 0; i < p->naddrs; i++)
			printf(" %s", p->addrs[i]);
		printf("\n");
	}
	for (size_t i = 0; i < p->nres; i++)
		text_port(p, &p->res[i]);
	printf("result: %s\n", ex == EX_OK ? "ok: the account can log in" :
	    "FAILED (see problem and next above)");
}

static void
json_port(struct json *j, const struct port_result *x)
{
	const struct upstream_trace *t = &x->tr;

	json_open(j, NULL, '{');
	json_uint(j, "port", x->port);
	json_str(j, "tls", x->tls == TLS_IMPLICIT ? "implicit" : "starttls");
	json_bool(j, "configured", x->own);
	json_str(j, "status", x->status);
	json_str(j, "peer", t->peer[0] ? t->peer : NULL);
	json_str(j, "tls_version", t->tls_done ? t->tls : NULL);
	if (t->tls_done) {
		json_open(j, "certificate", '{');
		json_str(j, "subject", t->cert.subject);
		json_str(j, "issuer", t->cert.issuer);
		json_str(j, "not_after", t->cert.not_after);
		json_uint(j, "days_left", t->cert.days_left < 0 ? 0 :
		    (unsigned long)t->cert.days_left);
		json_close(j, '}');
	}
	json_open(j, "capabilities", '[');
	for (const char *s = t->ehlo, *e; t->tls_done && *s;
	    s = *e ? e + 1 : e) {
		char kw[256];

		e = s + strcspn(s, "\n");
		snprintf(kw, sizeof(kw), "%.*s", (int)(e - s), s);
		json_str(j, NULL, kw);
	}
	json_close(j, ']');
	json_str(j, "auth_mechanism", t->auth_mech[0] ? t->auth_mech : NULL);
	json_str(j, "reply", x->ex == EX_OK ? t->auth_reply.text : x->r.text);
	json_str(j, "problem", x->ex == EX_OK ? NULL : x->problem);
	json_str(j, "next", x->ex == EX_OK ? NULL : x->next);
	json_close(j, '}');
}

static void
json_out(const struct probe *p, int ex)
{
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "account", p->acct->name);
	json_str(&j, "login", p->acct->login);
	json_str(&j, "provider", p->preset ? p->preset->name : NULL);
	json_str(&j, "host", p->host);
	json_str(&j, "dns_error", p->dns_err[0] ? p->dns_err : NULL);
	json_open(&j, "addresses", '[');
	for (size_t i = 0; i < p->naddrs; i++)
		json_str(&j, NULL, p->addrs[i]);
	json_close(&j, ']');
	json_open(&j, "ports", '[');
	for (size_t i = 0; i < p->nres; i++)
		json_port(&j, &p->res[i]);
	json_close(&j, ']');
	json_bool(&j, "ok", ex == EX_OK);
	json_uint(&j, "exit", (unsigned long)ex);
	json_close(&j, '}');
	printf("\n");
}

/* ---- the command ---- */

static int
probe_run(struct probe *p, const struct probe_args *a)
{
	const struct preset *ps = p->preset;
	struct tls_ctx *ctx;
	const char *ca;
	char err[512];

	add_port(p, account_port(p->acct), account_tls(p->acct), 1);
	for (size_t i = 0; a->all_ports && ps && i < ps->nports; i++)
		add_port(p, ps->ports[i].port, ps->ports[i].tls, 0);
	if (resolve(p) == -1) {
		struct port_result *x = &p->res[0];

		p->nres = 1;
		x->tr.stage = UPF_CONNECT;
		snprintf(x->r.text, sizeof(x->r.text), "cannot find the "
		    "address of %s: %s", p->host, p->dns_err);
		xstrlcpy(x->r.enhanced, "4.4.3", sizeof(x->r.enhanced));
		explain(p, x);
		return x->ex;
	}
	/* the relay's trust: the account's ca-file, else [relay] ca-file */
	ca = p->acct->ca_file ? p->acct->ca_file : p->cfg->conf->ca_file;
	if ((ctx = tls_ctx_new(ca, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smarthostctl: account %s: %s\n", p->acct->name,
		    err);
		return EX_CONFIG;
	}
	for (size_t i = 0; i < p->nres; i++)
		probe_port(p, ctx, &p->res[i]);
	tls_ctx_free(ctx);
	return p->res[0].ex;
}

/* By name (an [account] block, a preset address in relay.map), else by
 * the login address of any account. */
static const struct account *
find_account(const struct config *cfg, const char *name)
{
	const struct account *a;
	char key[ADDR_KEY_MAX], err[256];

	if ((a = config_account(cfg, name)) != NULL)
		return a;
	if (addr_key_from_string(name, key, sizeof(key), err,
	    sizeof(err)) != 0)
		return NULL;
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i]->login &&
		    strcmp(cfg->accounts[i]->login, key) == 0)
			return cfg->accounts[i];
	return NULL;
}

/* An xoauth2 account logs in with an access token, as in the relay. */
static int
probe_token(const struct ctl *c, struct probe *p)
{
	char err[1024];

	if (oauth_access_token(p->cfg->conf, p->acct, p->token,
	    sizeof(p->token), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: account %s: %s\n", c->progname,
		    p->acct->name, err);
		return EX_CONFIG;
	}
	p->secret = p->token;
	return EX_OK;
}

static int
probe_account(const struct ctl *c, struct config *cfg, struct probe *p,
    const char *name)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	if ((p->acct = find_account(cfg, name)) == NULL) {
		fprintf(stderr, "%s: no account \"%s\": name an [account] "
		    "block, a relay.map account or a login address (see "
		    "\"%s route ADDRESS\")\n", c->progname, name, c->progname);
		return EX_NOUSER;
	}
	p->preset = p->acct->preset;
	p->host = account_host(p->acct);
	if (p->host == NULL) {
		fprintf(stderr, "%s: account %s has no host\n", c->progname,
		    p->acct->name);
		return EX_CONFIG;
	}
	if (p->acct->auth_kind == AUTHK_XOAUTH2)
		return probe_token(c, p);
	p->secret = cfg->secrets ? secrets_get(cfg->secrets, p->acct->name) :
	    NULL;
	if (p->secret == NULL || p->secret[0] == '\0') {
		fprintf(stderr, "%s: no authorization code for account %s in "
		    "%s: add the line \"%s CODE\" (the provider's "
		    "authorization code, not the web password)\n", c->progname,
		    p->acct->name, cfg->conf->secrets, p->acct->name);
		return EX_CONFIG;
	}
	return EX_OK;
}

int
cmd_probe(const struct ctl *c, int argc, char **argv)
{
	struct probe_args a;
	struct config *cfg;
	struct probe *p;
	int ex;

	if (probe_args(argc, argv, &a) == -1)
		return ctl_usage(c, argv[0]);
	signal(SIGPIPE, SIG_IGN);	/* a provider that hangs up mid-write */
	if ((cfg = ctl_load(c, CONFIG_SECRETS, &ex)) == NULL)
		return ex;
	p = xmalloc(sizeof(*p));
	if ((ex = probe_account(c, cfg, p, a.account)) == EX_OK) {
		ex = probe_run(p, &a);
		if (a.json)
			json_out(p, ex);
		else
			text_out(p, ex);
	}
	wipe(p->token, sizeof(p->token));
	free(p);
	config_unref(cfg);
	return ex;
}
