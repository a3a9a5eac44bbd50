/*
 * conf — the option table of smarthost.conf(5), typed values, defaults and
 * the struct conf / struct account life cycle (see conf.h).  Reading the
 * INI file is in conf_parse.c, the writers (man page, `smarthostctl
 * config`) in conf_doc.c; both go through the table and conf_set() /
 * conf_format() here, so parsing, checking and documentation agree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_norm.h"
#include "util.h"

static const char *const actions[] = {
	"reject", "tempfail", "accept", "tag", "off", NULL
};
static const char *const auth_failures[] = { "defer", "bounce", NULL };
static const char *const reply_tos[] = { "original", "none", "auto", NULL };
static const char *const null_senders[] = { "reject", "defer", NULL };
static const char *const tls_modes[] = { "implicit", "starttls", NULL };
static const char *const oauth_providers[] = {
	"microsoft", "google", "custom", NULL
};

#define C(f)	offsetof(struct conf, f)
#define A(f)	offsetof(struct account, f)
#define OPT(sec, nm, ty, df, off, hl, ...) { .section = (sec), .name = (nm), \
	.type = (ty), .def = (df), .offset = (off), .help = (hl), __VA_ARGS__ }

const struct conf_option conf_options[] = {
/* [global] */
OPT("global", "relay-map", OPT_STRING, SYSCONFDIR "/smarthost/relay.map",
    C(relay_map), "The relay map: sender pattern to account, see "
    "relay.map(5).", .norm = conf_norm_path),
OPT("global", "secrets", OPT_STRING, SYSCONFDIR "/smarthost/secrets",
    C(secrets), "The file of authorization codes, one \"ACCOUNT CODE\" "
    "per line; it must have mode 0600 or stricter.",
    .norm = conf_norm_path),
OPT("global", "state-dir", OPT_STRING, "/var/lib/smarthost", C(state_dir),
    "Directory for the daily counters, OAuth2 tokens and the sent log.",
    .norm = conf_norm_path),
OPT("global", "limits-store", OPT_STRING, "file", C(limits_store),
    "Where the relay keeps daily counts, cool-offs and provider sessions: "
    "file (state-dir, this host only), redis://HOST:PORT[/DB] or, over "
    "TLS with the server's certificate verified (see limits-ca-file), "
    "rediss://HOST:PORT[/DB], shared by every relay that names the same "
    "Redis (its password, if any, is the secrets file's line \"redis "
    "PASSWORD\").",
    .norm = conf_norm_limits_store),
OPT("global", "limits-share", OPT_STRING, "1/1", C(limits_share),
    "While the Redis of limits-store is unreachable: the part M/N of each "
    "account's max-connections (at least 1) and daily limits this relay "
    "uses on its own, e.g. 1/2 for two relays.",
    .norm = conf_norm_share),
OPT("global", "limits-lease", OPT_SECONDS, "30s", C(limits_lease),
    "With Redis: how long a provider session of a relay that stopped "
    "renewing it (a crash) still counts against max-connections.",
    .min = 2, .max = 3600),
OPT("global", "limits-ca-file", OPT_STRING, NULL, C(limits_ca_file),
    "With rediss://: PEM file of the certificate authorities trusted for "
    "the Redis server's certificate (its name must match the URL's host); "
    "unset: the system's.", .norm = conf_norm_path),
OPT("global", "user", OPT_STRING, "smarthost", C(user),
    "Unprivileged user the daemons switch to after opening their files "
    "and sockets."),
OPT("global", "local-domains", OPT_LIST, NULL, C(local_domains),
    "Domains delivered locally: mail to these only is inbound and passes "
    "the milter untouched; mail to any other domain is outbound, whatever "
    "the client.", .norm = conf_norm_domain),
OPT("global", "internal-networks", OPT_LIST, "127.0.0.0/8 ::1",
    C(internal_networks), "Client networks that may send outbound mail "
    "without SMTP AUTH (address or address/prefix); other clients must "
    "log in, even when Postfix's mynetworks lets them relay.",
    .norm = conf_norm_network),
/* [milter] */
OPT("milter", "socket", OPT_STRING, "unix:/run/smarthost/milter.sock",
    C(milter_socket), "Where smarthost-milter listens: unix:PATH, "
    "inet:PORT@HOST or inet6:PORT@HOST.", .norm = conf_norm_milter_socket),
OPT("milter", "socket-group", OPT_STRING, "postfix", C(milter_socket_group),
    "Group of the MTA's user (postfix for Postfix, root for Sendmail): a "
    "unix socket gets mode 0660 and this group, so that no other local "
    "user can talk to the milter."),
OPT("milter", "control-socket", OPT_STRING,
    "/run/smarthost/milter-control.sock", C(milter_control_socket),
    "Unix socket answering smarthostctl reload for the milter.",
    .norm = conf_norm_path),
OPT("milter", "no-route", OPT_ENUM, "reject", C(no_route),
    "Outbound mail whose sender no relay map line matches.",
    .choices = actions),
OPT("milter", "unauthorized", OPT_ENUM, "reject", C(unauthorized),
    "A SASL login that is not among the account's allowed-users.",
    .choices = actions),
OPT("milter", "sender-mismatch", OPT_ENUM, "reject", C(sender_mismatch),
    "An envelope sender other than the login where the provider refuses "
    "that and the map line has no rewrite.", .choices = actions),
OPT("milter", "from-header", OPT_ENUM, "reject", C(from_header),
    "A missing or repeated From: header, or one with several addresses.",
    .choices = actions),
OPT("milter", "dmarc", OPT_ENUM, "reject", C(dmarc),
    "Mail predicted to fail DMARC at the recipient.", .choices = actions),
OPT("milter", "trace-header", OPT_STRING, "X-Smarthost", C(trace_header),
    "Header recording the route and predicted verdicts on accepted mail; "
    "one already present is removed first.",
    .norm = conf_norm_header_name),
OPT("milter", "dns-timeout", OPT_SECONDS, "10s", C(dns_timeout),
    "Time allowed for each DNS query of the alignment check; a query that "
    "runs out is a DNS failure.", .min = 1, .max = CONF_SECONDS_MAX),
OPT("milter", "reply-to", OPT_ENUM, "auto", C(reply_to),
    "When a rewrite sets From: to the account, add Reply-To: with the "
    "original address (original), never (none), or only when that "
    "address can receive mail from outside (auto): its domain is not in "
    "local-domains and has an MX or address record; a DNS failure counts "
    "as no, since replies to the account still come back. A Reply-To: the "
    "message has is kept. A relay.map line's reply-to= option overrides "
    "this.", .choices = reply_tos),
/* [relay] */
OPT("relay", "listen", OPT_STRING, "127.0.0.1:10025", C(relay_listen),
    "Where smarthost-relay accepts mail from Postfix: ADDRESS:PORT, "
    "[IPV6]:PORT or unix:PATH.", .norm = conf_norm_listen),
OPT("relay", "allow-clients", OPT_LIST, "127.0.0.0/8 ::1", C(relay_allow),
    "Client networks the relay accepts; anyone else is refused so that it "
    "never becomes an open relay.", .norm = conf_norm_network),
OPT("relay", "allow-users", OPT_LIST, "postfix root", C(relay_users),
    "Users (names or numeric uids) whose processes on this host may send "
    "through the relay: Postfix's mail_owner and root (Sendmail); any "
    "other local client is refused with 554 5.7.1. Clients on other "
    "hosts are governed by allow-clients alone.", .norm = conf_norm_user),
OPT("relay", "control-socket", OPT_STRING, "/run/smarthost/control.sock",
    C(control_socket), "Unix socket answering smarthostctl status and "
    "reload.", .norm = conf_norm_path),
OPT("relay", "auth-failure", OPT_ENUM, "defer", C(auth_failure),
    "Mail of an account whose authorization code the provider refuses: "
    "keep it queued (defer) or return it (bounce).",
    .choices = auth_failures),
OPT("relay", "auth-cooloff", OPT_SECONDS, "10m", C(auth_cooloff),
    "How long an account whose code was refused is not tried again.",
    .max = CONF_SECONDS_MAX),
OPT("relay", "quota-cooloff", OPT_SECONDS, "1h", C(quota_cooloff),
    "How long an account is rested after the provider says it sends too "
    "much.", .max = CONF_SECONDS_MAX),
OPT("relay", "null-sender-account", OPT_STRING, NULL,
    C(null_sender_account), "Account that sends mail with the null "
    "sender (bounces, DSNs) when relay.map has no \"<>\" line; unset: "
    "null-sender decides."),
OPT("relay", "null-sender", OPT_ENUM, "reject", C(null_sender),
    "Null-sender mail without an account: refuse it (reject) or keep it "
    "queued (defer).", .choices = null_senders),
OPT("relay", "connect-timeout", OPT_SECONDS, "30s", C(connect_timeout),
    "Time allowed to connect to a provider and complete TLS.", .min = 1,
    .max = CONF_SECONDS_MAX),
OPT("relay", "command-timeout", OPT_SECONDS, "5m", C(command_timeout),
    "Time allowed for a reply to an SMTP command.", .min = 1,
    .max = CONF_SECONDS_MAX),
OPT("relay", "data-timeout", OPT_SECONDS, "10m", C(data_timeout),
    "Time allowed for the reply after the end of a message.", .min = 1,
    .max = CONF_SECONDS_MAX),
OPT("relay", "client-timeout", OPT_SECONDS, "5m", C(client_timeout),
    "Time the relay waits for its SMTP client (Postfix) to send the next "
    "command or piece of a message, or to take a reply; then 421 4.4.2 "
    "and the connection is closed (Postfix smtpd_timeout).", .min = 1,
    .max = 3600),
OPT("relay", "transaction-timeout", OPT_SECONDS, "30m",
    C(transaction_timeout), "Time one transaction may take from MAIL "
    "FROM to the reply after its final dot, whatever the client sends "
    "meanwhile (NOOP, RSET and the like do not extend it); then 421 "
    "4.4.2, the provider session is released and the connection closed. "
    "Leave room for the largest message at the slowest uplink.",
    .min = 1, .max = CONF_SECONDS_MAX),
OPT("relay", "session-timeout", OPT_SECONDS, "1h", C(session_timeout),
    "Time one client connection may last; then 421 4.4.2 and it is "
    "closed.", .min = 1, .max = CONF_SECONDS_MAX),
OPT("relay", "idle-timeout", OPT_SECONDS, "60s", C(idle_timeout),
    "An unused pooled session is closed after this long; keep it below "
    "the provider's own idle limit.", .min = 1,
    .max = CONF_SECONDS_MAX),
OPT("relay", "messages-per-session", OPT_UINT, "100", C(msgs_per_session),
    "Messages sent over one provider session before it is closed.",
    .min = 1),
OPT("relay", "max-clients", OPT_UINT, "100", C(max_clients),
    "Concurrent SMTP clients (Postfix connections) the relay serves.",
    .min = 1),
OPT("relay", "sent-log-days", OPT_UINT, "30", C(sent_log_days),
    "Days the sent log (STATE-DIR/sent.db, read by smarthostctl log and "
    "smarthost-return) keeps each message the relay handed to a "
    "provider; 0: no sent log.", .max = 3650),
OPT("relay", "ca-file", OPT_STRING, NULL, C(ca_file),
    "PEM file of trusted certificate authorities; unset: the system's.",
    .norm = conf_norm_path),
/* [account NAME] */
OPT("account", "provider", OPT_STRING, NULL, A(provider),
    "Preset the account is at (see smarthostctl providers), e.g. "
    "exmail.qq.com; unset: the preset of the login's domain, if any.",
    .norm = conf_norm_provider),
OPT("account", "login", OPT_STRING, NULL, A(login),
    "Login (usually the mailbox address); unset: the account name.",
    .norm = conf_norm_login),
OPT("account", "host", OPT_STRING, NULL, A(host),
    "Submission server; unset: the preset's.", .norm = conf_norm_host),
OPT("account", "port", OPT_UINT, NULL, A(port),
    "Submission port; unset: the preset's default port.",
    .min = 1, .max = 65535),
OPT("account", "imap-host", OPT_STRING, NULL, A(imap_host),
    "IMAP server (TLS from the first byte) smarthost-return reads the "
    "mailbox at; unset: the preset's.", .norm = conf_norm_host),
OPT("account", "imap-port", OPT_UINT, NULL, A(imap_port),
    "IMAP port; unset: the preset's (993).", .min = 1, .max = 65535),
OPT("account", "tls", OPT_ENUM, NULL, A(tls),
    "TLS from the first byte (implicit, as on port 465) or after "
    "STARTTLS (as on 587); unset: the preset's for the port.",
    .choices = tls_modes),
OPT("account", "auth", OPT_LIST, NULL, A(auth),
    "AUTH mechanisms smarthost may use, from plain, login and xoauth2 "
    "(OAuth2, not with the others); unset: the preset's.",
    .norm = conf_norm_mechanism),
OPT("account", "ca-file", OPT_STRING, NULL, A(ca_file),
    "PEM file of certificate authorities trusted for this account only.",
    .norm = conf_norm_path),
OPT("account", "max-connections", OPT_UINT, NULL, A(max_connections),
    "Concurrent sessions with the provider; unset: the preset's bound.",
    .min = 1),
OPT("account", "messages-per-session", OPT_UINT, NULL, A(msgs_per_session),
    "Messages per provider session; unset: the relay's.", .min = 1),
OPT("account", "idle-timeout", OPT_SECONDS, NULL, A(idle_timeout),
    "Idle pooled sessions are closed after this long; unset: the relay's.",
    .min = 1, .max = CONF_SECONDS_MAX),
OPT("account", "daily-messages", OPT_UINT, NULL, A(daily_msgs),
    "Messages per day before mail is deferred; unset: the preset's "
    "published limit, if any.", .min = 1),
OPT("account", "daily-recipients", OPT_UINT, NULL, A(daily_rcpts),
    "Recipients per day before mail is deferred; unset: the preset's "
    "published limit, if any.", .min = 1),
OPT("account", "allowed-users", OPT_LIST, NULL, A(allowed_users),
    "SASL logins allowed to send through the account; unset: anyone "
    "the milter judges."),
OPT("account", "spf-include", OPT_STRING, NULL, A(spf_include),
    "SPF include of the provider's sending servers; unset: the "
    "preset's.", .norm = conf_norm_dns_name),
OPT("account", "dkim-domain", OPT_STRING, NULL, A(dkim_domain),
    "Domain the provider DKIM-signs with, or * for the sender's own; "
    "unset: the preset's.", .norm = conf_norm_dkim_domain),
OPT("account", "sender-must-match", OPT_BOOL, NULL, A(sender_must_match),
    "Whether the provider refuses an envelope sender other than the "
    "login; unset: the preset's."),
OPT("account", "sender-refusal", OPT_STRING, NULL, A(sender_refusal),
    "The provider's reply text for such a sender, quoted in the milter's "
    "refusal; unset: the preset's."),
OPT("account", "oauth-provider", OPT_STRING, NULL, A(oauth_provider),
    "OAuth2 authorization server for auth = xoauth2; unset: the "
    "preset's.", .choices = oauth_providers),
OPT("account", "oauth-client-id", OPT_STRING, NULL, A(oauth_client_id),
    "Client ID of the application registered with the provider."),
OPT("account", "oauth-client-secret", OPT_STRING, NULL,
    A(oauth_client_secret), "Client secret, for providers that issue one "
    "even to desktop applications (Google); unset: none."),
OPT("account", "oauth-tenant", OPT_STRING, NULL, A(oauth_tenant),
    "Microsoft tenant (directory) ID or domain; unset: common."),
OPT("account", "oauth-token-url", OPT_STRING, NULL, A(oauth_token_url),
    "Token endpoint; unset: the OAuth2 provider's.",
    .norm = conf_norm_url),
OPT("account", "oauth-device-url", OPT_STRING, NULL, A(oauth_device_url),
    "Device authorization endpoint; unset: the OAuth2 provider's.",
    .norm = conf_norm_url),
OPT("account", "oauth-auth-url", OPT_STRING, NULL, A(oauth_auth_url),
    "Authorization endpoint (browser flow); unset: the OAuth2 "
    "provider's.", .norm = conf_norm_url),
OPT("account", "oauth-scope", OPT_STRING, NULL, A(oauth_scope),
    "Scopes requested; unset: the OAuth2 provider's SMTP scope."),
};

const size_t conf_noptions = sizeof(conf_options) / sizeof(conf_options[0]);

const struct conf_option *
conf_option_find(const char *section, const char *name)
{
	for (size_t i = 0; i < conf_noptions; i++)
		if (strcmp(conf_options[i].section, section) == 0 &&
		    strcmp(conf_options[i].name, name) == 0)
			return &conf_options[i];
	return NULL;
}

unsigned
conf_option_line(const struct conf *c, const char *section, const char *name)
{
	const struct conf_option *o = conf_option_find(section, name);

	return o && c->lines ? c->lines[o - conf_options] : 0;
}

static int
is_account_option(const struct conf_option *o)
{
	return strcmp(o->section, "account") == 0;
}

/* Free the value of o at base and leave it unset. */
static void
value_unset(const struct conf_option *o, void *base)
{
	void *p = (char *)base + o->offset;

	switch (o->type) {
	case OPT_STRING:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case OPT_LIST:
		strlist_free(p);
		break;
	case OPT_UINT:
	case OPT_SECONDS:
		*(unsigned *)p = 0;
		break;
	case OPT_SIZE:
		*(unsigned long *)p = 0;
		break;
	case OPT_BOOL:
	case OPT_ENUM:
		*(int *)p = -1;
		break;
	}
}

/* Set every option of the struct at base (account or not) to default. */
static void
apply_defaults(void *base, int account)
{
	char err[256];

	for (size_t i = 0; i < conf_noptions; i++) {
		const struct conf_option *o = &conf_options[i];

		if (is_account_option(o) != account)
			continue;
		value_unset(o, base);
		if (o->def && conf_set(o, base, o->def, err, sizeof(err)) == -1)
			abort();	/* bad default: test_conf says which */
	}
}

static void
free_values(void *base, int account)
{
	for (size_t i = 0; i < conf_noptions; i++)
		if (is_account_option(&conf_options[i]) == account)
			value_unset(&conf_options[i], base);
}

struct conf *
conf_defaults(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));

	apply_defaults(c, 0);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free_values(c, 0);
	for (size_t i = 0; i < c->naccounts; i++)
		account_free(c->accounts[i]);
	free(c->accounts);
	free(c->lines);
	free(c->path);
	free(c);
}

struct account *
account_new(const char *name)
{
	struct account *a = xcalloc(1, sizeof(*a));

	a->name = xstrdup(name);
	apply_defaults(a, 1);
	a->auth_kind = AUTHK_PASSWORD;
	return a;
}

void
account_free(struct account *a)
{
	if (a == NULL)
		return;
	free_values(a, 1);
	free(a->name);
	free(a->file);
	free(a);
}

struct account *
conf_account(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->naccounts; i++)
		if (strcasecmp(c->accounts[i]->name, name) == 0)
			return c->accounts[i];
	return NULL;
}

void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

int
strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

const char *
action_name(int a)
{
	if (a < 0 || a >= (int)(sizeof(actions) / sizeof(actions[0])) - 1)
		return "?";
	return actions[a];
}

const char *
reply_to_name(int r)
{
	if (r < 0 || r >= (int)(sizeof(reply_tos) / sizeof(reply_tos[0])) - 1)
		return "?";
	return reply_tos[r];
}
