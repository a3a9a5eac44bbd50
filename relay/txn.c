/*
 * txn — one mail transaction of the relay's server side: MAIL, RCPT and
 * DATA forwarded to the provider (see session.h).
 *
 * MAIL looks the sender up (route_lookup), applies the null-sender
 * policy, the cool-off state and the daily message limit, takes a
 * session from the pool and forwards MAIL (as the login where the route
 * says rewrite); each RCPT is forwarded and answered on its own; DATA is
 * streamed piece by piece, never held whole.  Provider replies are passed
 * on with their codes (answer.h) except quota replies, which defer and
 * cool the account off.
 *
 * When the provider offers PIPELINING and Postfix has already sent its
 * RCPTs and DATA behind MAIL (they wait in the input buffer), txn_batch.c
 * takes over: MAIL, the
 * RCPTs that pass the local checks and DATA go upstream in one write
 * (upstream_pipeline) and each provider reply answers its own command,
 * in order.  After a refused MAIL the RCPTs and DATA are left to the
 * ordinary path, which answers them 503 as any pipelining server would;
 * a DATA the provider answered for a transaction without recipients is
 * answered locally too.
 *
 * A pooled session whose first command got no reply at all died while
 * idle: nothing reached the provider, so the transaction starts again on
 * another session (at most MAIL_TRIES times) before Postfix hears of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dataend.h"
#include "limit.h"
#include "log.h"
#include "oauth.h"
#include "session.h"
#include "txn_int.h"

#define POOL_WAIT_MAX	60	/* seconds to wait for a pooled session */
#define MAIL_TRIES	3	/* sessions tried for one MAIL */


/* ---- effective account values ---- */

static unsigned
acct_daily_msgs(const struct account *a)
{
	return a->daily_msgs ? a->daily_msgs :
	    a->preset ? a->preset->daily_msgs : 0;
}

static unsigned
acct_daily_rcpts(const struct account *a)
{
	return a->daily_rcpts ? a->daily_rcpts :
	    a->preset ? a->preset->daily_rcpts : 0;
}

unsigned long
txn_max_size(const struct account *a)
{
	return a->preset ? a->preset->max_size : 0;
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
txn_log(struct session *s, const char *status)
{
	struct txn *t = &s->t;
	char qid[80], sender[300], acct[300], reply[ANSWER_MAX + 3];

	log_info("qid=%s sender=%s account=%s host=%s rcpts=%u result=%d "
	    "status=%s duration_ms=%ld session=%s rewrite=%s client=%s%s%s",
	    log_quote(qid, sizeof(qid), s->qid[0] ? s->qid : "-"),
	    log_quote(sender, sizeof(sender), t->sender),
	    log_quote(acct, sizeof(acct), t->acct ? t->acct->name : "-"),
	    t->acct && t->route.host ? t->route.host : "-", t->rcpts,
	    t->code, status, elapsed_ms(&t->t0),
	    !t->used ? "none" : t->reused ? "reused" : "new",
	    t->rewrite ? "yes" : "no",
	    s->client, t->code >= 400 ? " reply=" : "",
	    t->code >= 400 ? log_quote(reply, sizeof(reply), t->reply) : "");
}

/* End the transaction: log it, settle the limits, give the session back
 * (reusable only if the provider's side of it is known to be closed). */
void
txn_end(struct session *s, const char *status, int reusable)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	int delivered = strcmp(status, "sent") == 0;

	if (!t->active)
		return;
	/* Every recipient refused: Postfix keeps the message as it was told
	 * for them, whatever ends the dialogue. */
	txn_log(s, strcmp(status, "aborted") == 0 && t->rcpts == 0 &&
	    t->code >= 400 ? (t->code / 100 == 5 ? "bounced" : "deferred") :
	    status);
	sentrec_txn_end(s->relay->sent, s, status);
	if (t->reserved)
		limit_release(s->relay->limits, t->acct->name, delivered,
		    t->rcpts, time(NULL));
	if (t->up != NULL) {
		if (reusable && !delivered && t->code != 0 &&
		    strcmp(status, "aborted") == 0)
			reusable = upstream_rset(t->up, &r) / 100 == 2;
		pool_put(s->relay->pool, t->up, reusable);
	}
	if (t->cfg != NULL)
		config_unref(t->cfg);
	memset(t, 0, sizeof(*t));
	s->qid[0] = '\0';
}

/* A failure with the provider (the reply Postfix gets), for
 * `smarthostctl status`. */
static void
note_failure(struct session *s, const char *reply)
{
	if (s->t.acct != NULL)
		limit_note_error(s->relay->limits, s->t.acct->name, reply,
		    time(NULL));
}

/* The upstream session died mid-transaction: later commands get this. */
static void
txn_lost(struct session *s, const struct smtp_reply *r)
{
	struct txn *t = &s->t;

	snprintf(t->broken, sizeof(t->broken), "451 4.4.2 %.255s: %.600s",
	    t->route.host ? t->route.host : "provider",
	    r->text[0] ? r->text : "connection lost");
	if (r->local)
		snprintf(t->broken, sizeof(t->broken), "451 4.4.2 %.850s",
		    r->text[0] ? r->text : "connection to provider lost");
	note_failure(s, t->broken);
	pool_put(s->relay->pool, t->up, 0);
	t->up = NULL;
}

/* A provider reply to MAIL, RCPT or end of DATA: relay it, or defer it
 * and cool the account off if it means "quota".  Returns the code sent. */
static int
provider_reply(struct session *s, const struct smtp_reply *r)
{
	struct txn *t = &s->t;
	const struct conf *c = t->cfg->conf;
	char line[ANSWER_MAX + 1], suffix[300], reason[ANSWER_MAX + 1];

	if (answer_is_quota(r)) {
		answer_recoded(r, r->code, "", NULL, reason, sizeof(reason));
		limit_cooloff(s->relay->limits, t->acct->name,
		    c->quota_cooloff, reason + 4, time(NULL));
		snprintf(suffix, sizeof(suffix), "account %s cooling off "
		    "for %u s", t->acct->name, c->quota_cooloff);
		log_warnx("account=%s host=%s quota or rate reply, cooling "
		    "off for %u s: %s", t->acct->name, t->route.host,
		    c->quota_cooloff, reason + 4);
		answer_recoded(r, 451, "4.7.1", suffix, line, sizeof(line));
	} else
		answer_relayed(r, line, sizeof(line));
	server_say_line(s, line);
	if (atoi(line) >= 400)
		note_failure(s, line);
	return atoi(line);
}

/* ---- MAIL ---- */

/* Split "<path> PARAMS" (after "FROM:" / "TO:"): returns 0 and fills
 * path (with brackets) and params, or -1. */
static int
split_path(const char *arg, char *path, size_t psize, const char **params)
{
	const char *p = arg, *end;
	int quoted = 0;

	while (*p == ' ')
		p++;
	if (*p == '<') {
		for (end = p + 1; *end && (quoted || *end != '>'); end++) {
			if (*end == '"')
				quoted = !quoted;
			else if (*end == '\\' && end[1])
				end++;
		}
		if (*end != '>')
			return -1;
		end++;
	} else
		end = p + strcspn(p, " ");
	if (end == p || (size_t)(end - p) >= psize)
		return -1;
	memcpy(path, p, (size_t)(end - p));
	path[end - p] = '\0';
	while (*end == ' ')
		end++;
	*params = end;
	return 0;
}

/* MAIL parameters: SIZE and BODY only.  0, or -1 after a reply. */
static int
mail_params(struct session *s, const char *params, unsigned long *size,
    int *body8)
{
	char buf[CMD_MAX], name[64], *tok, *save = NULL, *end;

	*size = 0;
	*body8 = 0;
	xstrlcpy(buf, params, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(tok, "SIZE=", 5) == 0) {
			errno = 0;
			*size = strtoul(tok + 5, &end, 10);
			if (*end || end == tok + 5 || errno) {
				server_say(s, 501, "5.5.4 bad SIZE parameter");
				return -1;
			}
		} else if (strcasecmp(tok, "BODY=8BITMIME") == 0)
			*body8 = 1;
		else if (strcasecmp(tok, "BODY=7BIT") != 0) {
			server_say(s, 555, "5.5.4 unsupported MAIL parameter %s",
			    str_printable(name, sizeof(name), tok,
			    strcspn(tok, "=")));
			return -1;
		}
	}
	return 0;
}

/* The account for the null sender: [relay] null-sender-account. */
static int
null_route(struct session *s)
{
	struct txn *t = &s->t;
	const struct conf *c = t->cfg->conf;
	const struct account *a;

	if (c->null_sender_account == NULL || !*c->null_sender_account) {
		server_say(s, c->null_sender == NULLS_DEFER ? 450 : 550,
		    "%s null sender (bounce or DSN) not relayed: no account "
		    "for <> (set [relay] null-sender-account in smarthost.conf "
		    "or add a \"<>\" line to %s)",
		    c->null_sender == NULLS_DEFER ? "4.7.1" : "5.7.1",
		    c->relay_map ? c->relay_map : "relay.map");
		return -1;
	}
	if ((a = config_account(t->cfg, c->null_sender_account)) == NULL) {
		server_say(s, 451, "4.3.5 [relay] null-sender-account %s is "
		    "not a known account", c->null_sender_account);
		return -1;
	}
	t->route.status = ROUTE_OK;
	t->route.account = a;
	t->route.host = account_host(a);
	t->route.port = account_port(a);
	t->route.tls = account_tls(a);
	t->route.login = a->login;
	t->route.sender_must_match = a->sender_must_match;
	t->route.sender_refusal = a->sender_refusal;
	t->route.envelope_differs = 1;
	return 0;
}

/* Route the sender and apply the policies; 0, or -1 after a reply. */
static int
mail_route(struct session *s, const char *path)
{
	struct txn *t = &s->t;
	char err[256];

	switch (route_lookup(t->cfg, path, &t->route, err, sizeof(err))) {
	case ROUTE_BAD_ADDRESS:
		server_say(s, 501, "5.1.7 bad sender address: %s", err);
		return -1;
	case ROUTE_NONE:
		server_say(s, 550, "5.7.1 no route for sender %s in %s: add a line "
		    "for it (or @domain, or *)", t->sender,
		    t->cfg->conf->relay_map ? t->cfg->conf->relay_map :
		    "relay.map");
		return -1;
	case ROUTE_NULL_SENDER:
		if (null_route(s) != 0)
			return -1;
		break;
	case ROUTE_OK:
		break;
	}
	t->acct = t->route.account;
	if (t->acct == NULL || t->route.host == NULL || t->route.login == NULL) {
		server_say(s, 451, "4.3.5 account %s has no host or login",
		    t->route.entry ? t->route.entry->account : "?");
		t->acct = NULL;
		return -1;
	}
	t->rewrite = route_sends_as_login(&t->route);
	return 0;
}

static int
mail_limits(struct session *s, unsigned long size)
{
	struct txn *t = &s->t;
	char why[512];
	time_t now = time(NULL);
	unsigned long max = txn_max_size(t->acct);

	if (max && size > max) {
		server_say(s, 552, "5.3.4 message size %lu exceeds the limit of %lu "
		    "bytes of account %s", size, max, t->acct->name);
		return -1;
	}
	if (limit_cooling(s->relay->limits, t->acct->name, now, why,
	    sizeof(why))) {
		server_say(s, 451, "4.7.1 %s", why);
		return -1;
	}
	if (limit_reserve(s->relay->limits, t->acct->name,
	    acct_daily_msgs(t->acct), now, why, sizeof(why)) != 0) {
		server_say(s, 451, "4.7.1 %s", why);
		return -1;
	}
	t->reserved = 1;
	return 0;
}

/* pool_get() failed: choose the reply, cool off after AUTH failures. */
static void
mail_nosession(struct session *s, const struct smtp_reply *r,
    enum upstream_fail why)
{
	struct txn *t = &s->t;
	const struct conf *c = t->cfg->conf;
	const struct preset *p = t->acct->preset;
	char text[SMTP_REPLY_TEXT_MAX];
	const char *enh;

	str_printable(text, sizeof(text), r->text, strlen(r->text));
	if (why == UPF_AUTH) {
		if (t->acct->auth_kind == AUTHK_XOAUTH2)
			oauth_forget(t->acct->name);
		limit_cooloff(s->relay->limits, t->acct->name,
		    c->auth_cooloff, text, time(NULL));
		log_warnx("account=%s host=%s authorization code refused: "
		    "%s; %s; no new attempt for %u s", t->acct->name,
		    t->route.host, text, t->acct->auth_kind == AUTHK_XOAUTH2 ?
		    "run \"smarthostctl oauth ACCOUNT\" again" :
		    p && p->auth_failure_hint ? p->auth_failure_hint :
		    "check the code in the secrets file", c->auth_cooloff);
		if (c->auth_failure == AUTHFAIL_BOUNCE)
			server_say(s, 550, "5.7.8 %s", text);
		else
			server_say(s, 454, "4.7.0 %s; no new attempt for account %s "
			    "for %u s", text, t->acct->name, c->auth_cooloff);
		note_failure(s, t->reply);
		return;
	}
	enh = why == UPF_TLS ? "4.7.0" : why == UPF_LIMIT ? "4.4.5" :
	    why == UPF_PROTOCOL ? "4.5.0" : "4.4.1";
	if (r->code / 100 == 4 && r->enhanced[0] == '4')
		enh = r->enhanced;
	server_say(s, r->code / 100 == 4 ? r->code : 451, "%s %s", enh, text);
	note_failure(s, t->reply);
}

/* The first command on a reused session got no reply: the session died
 * while idle and the provider saw nothing.  Closes it; 1 if the caller
 * should try another session. */
int
txn_mail_retry(struct session *s, int code, const struct smtp_reply *r,
    int may_retry)
{
	struct txn *t = &s->t;
	char q[SMTP_REPLY_TEXT_MAX + 8];

	if (code != 0 || !may_retry || !t->reused ||
	    upstream_replied(t->up) != 0)
		return 0;
	log_info("account=%s host=%s session=dead reason=%s retry=new-session",
	    t->acct->name, t->route.host, log_quote(q, sizeof(q), r->text));
	pool_put(s->relay->pool, t->up, 0);
	t->up = NULL;
	return 1;
}

/* The provider's reply to MAIL, answered; a refusal ends the txn. */
void
txn_mail_answer(struct session *s, int code, const struct smtp_reply *r)
{
	struct txn *t = &s->t;

	if (code == 0) {
		txn_lost(s, r);
		server_say_line(s, t->broken);
	} else {
		t->rec.handed = 1;
		code = provider_reply(s, r);
	}
	if (code / 100 != 2)
		txn_end(s, code / 100 == 5 ? "bounced" : "deferred",
		    code != 0 && code != 421);
}

/* Upstream MAIL with the envelope the provider must see (pipelined
 * with what follows where the provider allows).  1: retry on another
 * session; -1: the connection must close (as txn_data). */
static int
mail_forward(struct session *s, const char *path, unsigned long size,
    int body8, int may_retry)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	char env[ADDR_PATH_MAX + 3], params[64] = "", p8[16];
	unsigned caps = upstream_caps(t->up);
	int code;

	if (t->rewrite)
		snprintf(env, sizeof(env), "<%s>", t->route.login);
	else if (path[0] == '<')
		xstrlcpy(env, path, sizeof(env));
	else
		snprintf(env, sizeof(env), "<%s>", path);
	if (size && (caps & UPCAP_SIZE))
		snprintf(params, sizeof(params), "SIZE=%lu", size);
	if (body8 && (caps & UPCAP_8BITMIME)) {
		snprintf(p8, sizeof(p8), "%sBODY=8BITMIME",
		    params[0] ? " " : "");
		xstrlcat(params, p8, sizeof(params));
	}
	if (caps & UPCAP_PIPELINING)
		return txn_mail_pipelined(s, env, params[0] ? params : NULL,
		    may_retry);
	memset(&r, 0, sizeof(r));
	code = upstream_mail(t->up, env, params[0] ? params : NULL, &r);
	if (txn_mail_retry(s, code, &r, may_retry))
		return 1;
	txn_mail_answer(s, code, &r);
	return 0;
}

/* What AUTH logs in with: the authorization code, or for an xoauth2
 * account a valid access token (lib/oauth refreshes it when due) in tok.
 * -1 after answering 4.7.0 with what the administrator must run. */
static int
mail_secret(struct session *s, char *tok, size_t size, const char **secret)
{
	struct txn *t = &s->t;
	char err[1024], q[1100];

	*secret = NULL;
	if (t->acct->auth_kind != AUTHK_XOAUTH2) {
		*secret = t->cfg->secrets ? secrets_get(t->cfg->secrets,
		    t->acct->name) : NULL;
		return 0;
	}
	if (oauth_access_token(t->cfg->conf, t->acct, tok, size, err,
	    sizeof(err)) == 0) {
		*secret = tok;
		return 0;
	}
	log_warnx("account=%s oauth=failed reason=%s", t->acct->name,
	    log_quote(q, sizeof(q), err));
	server_say(s, 454, "4.7.0 %s", err);
	note_failure(s, t->reply);
	return -1;
}

int
txn_mail(struct session *s, const char *arg)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	enum upstream_fail why = UPF_NONE;
	char path[ADDR_PATH_MAX + 1], tok[OAUTH_TOKEN_MAX];
	const char *params, *secret;
	unsigned long size;
	unsigned wait, tries;
	int body8, rc;

	if (!s->helo)
		return server_say(s, 503, "5.5.1 send HELO or EHLO first");
	if (t->active)
		return server_say(s, 503, "5.5.1 nested MAIL command");
	if (strncasecmp(arg, "FROM:", 5) != 0 ||
	    split_path(arg + 5, path, sizeof(path), &params) != 0)
		return server_say(s, 501, "5.5.4 syntax: MAIL FROM:<address>");
	memset(t, 0, sizeof(*t));
	t->active = 1;
	clock_gettime(CLOCK_MONOTONIC, &t->t0);
	str_printable(t->sender, sizeof(t->sender), path, strlen(path));
	t->cfg = relay_config(s->relay);
	if (mail_params(s, params, &size, &body8) != 0 ||
	    mail_route(s, path) != 0 || mail_limits(s, size) != 0)
	{
		txn_end(s, s->t.code / 100 == 5 ? "bounced" : "deferred", 0);
		return 0;
	}
	if (mail_secret(s, tok, sizeof(tok), &secret) != 0) {
		txn_end(s, "deferred", 0);
		return 0;
	}
	wait = t->cfg->conf->command_timeout;
	if (wait == 0 || wait > POOL_WAIT_MAX)
		wait = POOL_WAIT_MAX;
	for (tries = 1;; tries++) {
		memset(&r, 0, sizeof(r));
		t->up = pool_get(s->relay->pool, &t->route, secret,
		    secrets_generation(t->cfg->secrets, t->acct->name), wait,
		    &r, &why);
		if (t->up == NULL) {
			wipe(tok, sizeof(tok));
			mail_nosession(s, &r, why);
			txn_end(s, s->t.code / 100 == 5 ? "bounced" :
			    "deferred", 0);
			return 0;
		}
		t->used = 1;
		t->reused = upstream_reused(t->up);
		rc = mail_forward(s, path, size, body8, tries < MAIL_TRIES);
		if (rc != 1)
			break;
	}
	wipe(tok, sizeof(tok));
	return rc;
}

/* ---- RCPT ---- */

/* The checks before a RCPT goes upstream, for the count-th recipient
 * of the transaction: 0 with the bracketed path, or the code of the
 * local refusal with its text (enhanced code first) in why. */
int
txn_rcpt_refusal(struct session *s, const char *arg, unsigned count,
    char *path, size_t psize, char *why, size_t wsize)
{
	struct txn *t = &s->t;
	struct addr a;
	char raw[ADDR_PATH_MAX + 1], err[256], lim[512];
	const char *params;

	if (strncasecmp(arg, "TO:", 3) != 0 ||
	    split_path(arg + 3, raw, sizeof(raw), &params) != 0)
		return snprintf(why, wsize, "5.5.4 syntax: RCPT TO:<address>"),
		    501;
	if (*params)
		return snprintf(why, wsize, "5.5.4 unsupported RCPT parameter "
		    "%s", str_printable(err, sizeof(err), params,
		    strcspn(params, "= "))), 555;
	if (addr_parse_path(raw, &a, err, sizeof(err)) != 0 || a.null)
		return snprintf(why, wsize, "5.1.3 bad recipient address: %s",
		    a.null ? "null address" : err), 501;
	if (t->acct->preset && t->acct->preset->max_rcpt_per_msg &&
	    count >= t->acct->preset->max_rcpt_per_msg)
		return snprintf(why, wsize, "4.5.3 too many recipients: %s "
		    "takes at most %u per message", t->acct->preset->host,
		    t->acct->preset->max_rcpt_per_msg), 452;
	if (!limits_rcpt_ok(s->relay->limits, t->acct->name,
	    acct_daily_rcpts(t->acct), count, time(NULL), lim, sizeof(lim)))
		return snprintf(why, wsize, "4.7.1 %s", lim), 452;
	snprintf(path, psize, raw[0] == '<' ? "%s" : "<%s>", raw);
	return 0;
}

/* The provider's reply to a RCPT (code 0: the session is lost). */
int
txn_rcpt_answer(struct session *s, const char *path, int code,
    const struct smtp_reply *r)
{
	struct txn *t = &s->t;
	int answered;

	if (code == 0) {
		txn_lost(s, r);
		sentrec_rcpt(&t->rec, path, 451, t->broken);
		return server_say_line(s, t->broken);
	}
	answered = provider_reply(s, r);
	sentrec_rcpt(&t->rec, path, answered, t->reply);
	if (answered / 100 == 2)
		t->rcpts++;
	if (code == 421)
		txn_lost(s, r);
	return 0;
}

int
txn_rcpt(struct session *s, const char *arg)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	char path[ADDR_PATH_MAX + 3], why[ANSWER_MAX + 1];
	int code;

	if (!t->active)
		return server_say(s, 503, "5.5.1 need MAIL before RCPT");
	if (t->up == NULL) {
		/* a bad command still gets its own reply */
		if ((code = txn_rcpt_refusal(s, arg, t->rcpts, path, sizeof(path),
		    why, sizeof(why))) / 100 == 5)
			return server_say(s, code, "%s", why);
		return server_say_line(s, t->broken);
	}
	if ((code = txn_rcpt_refusal(s, arg, t->rcpts, path, sizeof(path), why,
	    sizeof(why))) != 0)
		return server_say(s, code, "%s", why);
	memset(&r, 0, sizeof(r));
	code = upstream_rcpt(t->up, path, NULL, &r);
	return txn_rcpt_answer(s, path, code, &r);
}

/* ---- DATA ---- */

/* Read the message up to its end (dataend.h: only <CR><LF>.<CR><LF>),
 * passing it upstream while fwd and it holds no bare <CR> or <LF>; 1 at
 * the end with the bare ones seen in *bare, 0 if the client is gone. */
static int
data_stream(struct session *s, int fwd, unsigned long max,
    unsigned long *bytes, int *failed, unsigned *bare)
{
	char buf[DATA_CHUNK + 2], out[DATA_CHUNK + DATAEND_HOLD];
	struct dataend de;
	size_t len, olen;
	int complete;

	dataend_init(&de);
	while (!de.done) {
		if (cio_read(&s->io, buf, DATA_CHUNK, &len, &complete) <= 0)
			return 0;
		/* a piece ends at its first LF: the terminator, if in it,
		 * is its end and nothing after it is consumed */
		(void)dataend_scan(&de, buf, len, out, &olen);
		hdrcap_feed(&s->t.rec.hdr, out, olen);
		*bytes += olen;
		if (de.bare || (max && *bytes > max))
			fwd = 0;
		if (fwd && !*failed && olen > 0 &&
		    upstream_data_write(s->t.up, out, olen) < 0)
			*failed = 1;
	}
	*bare = de.bare;
	return 1;
}

/* After the dot: the provider's final reply.  -1 closes the session. */
static int
data_end(struct session *s)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	int code, counted = t->reserved;

	/* Counted before the final dot goes to the provider, and durably
	 * (limit_count returns once it is on disk): a crash after the
	 * provider accepted the message cannot lose the count, so Postfix's
	 * retry cannot take the account past its daily limit.  A refusal
	 * takes the count back; no reply keeps it (it may have been
	 * delivered).  A count that cannot be recorded does not stop this
	 * message (it was within the limit): the limits defer the next. */
	if (counted) {
		(void)limit_count(s->relay->limits, t->acct->name, t->rcpts,
		    time(NULL));
		t->reserved = 0;
	}
	memset(&r, 0, sizeof(r));
	code = upstream_data_end(t->up, &r);
	if (code == 0) {
		if (r.text[0])
			server_say(s, 451, "4.4.2 %s", r.text);
		else
			server_say(s, 451, "4.4.2 %s: no reply after the end of the "
			    "message: it may have been delivered, and a retry "
			    "may deliver it twice", t->route.host);
		note_failure(s, t->reply);
		txn_end(s, "deferred", 0);
		return -1;
	}
	code = provider_reply(s, &r);
	if (counted && code / 100 != 2)
		limit_uncount(s->relay->limits, t->acct->name, t->rcpts,
		    time(NULL));
	sentrec_data_reply(&t->rec, &r);
	txn_end(s, code / 100 == 2 ? "sent" : code / 100 == 5 ? "bounced" :
	    "deferred", code / 100 != 4 || r.code != 421);
	return 0;
}

static int
cmd_data_body(struct session *s)
{
	struct txn *t = &s->t;
	unsigned long bytes = 0, max = txn_max_size(t->acct);
	unsigned bare = 0;
	int failed = 0;

	cio_reply(&s->io, "354 End data with <CR><LF>.<CR><LF>");
	hdrcap_init(&t->rec.hdr);
	t->rec.data = 1;
	if (!data_stream(s, 1, max, &bytes, &failed, &bare)) {
		txn_end(s, "aborted", 0);
		return -1;
	}
	if (bare) {
		/* the provider has part of it: closing the session, never
		 * ending the message, is the only way to take it back */
		server_say(s, 550, "5.5.2 %s Error: bare <%s> received: lines "
		    "end with <CR><LF> (RFC 5321 2.3.8); message refused",
		    s->relay->hostname, bare & DATAEND_BARE_LF ? "LF" : "CR");
		txn_end(s, "bounced", 0);
		return -1;
	}
	if (max && bytes > max) {
		server_say(s, 552, "5.3.4 message size exceeds the limit of %lu bytes "
		    "of account %s", max, t->acct->name);
		txn_end(s, "bounced", 0);
		return 0;
	}
	if (failed) {
		server_say(s, 451, "4.4.2 %s: connection lost while sending the "
		    "message (not delivered)", t->route.host);
		note_failure(s, t->reply);
		txn_end(s, "deferred", 0);
		return 0;
	}
	return data_end(s);
}

int
txn_data(struct session *s, const char *arg)
{
	struct txn *t = &s->t;
	struct smtp_reply r;
	int code;

	if (*arg) {
		server_say(s, 501, "5.5.4 syntax: DATA");
		return 0;
	}
	if (!t->active) {
		server_say(s, 503, "5.5.1 need MAIL before DATA");
		return 0;
	}
	if (t->rcpts == 0) {
		/* After refused recipients the transaction's reply stays the
		 * refusal: that is what Postfix acts on. */
		if (t->code >= 400)
			cio_reply(&s->io, "554 5.5.1 no valid recipients");
		else
			server_say(s, 554, "5.5.1 no valid recipients");
		return 0;
	}
	if (t->up == NULL) {
		server_say_line(s, t->broken);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	code = upstream_data_start(t->up, &r);
	return txn_data_started(s, code, &r);
}

/* The provider's reply to DATA: 354 streams the message. */
int
txn_data_started(struct session *s, int code, const struct smtp_reply *r)
{
	if (code == 354)
		return cmd_data_body(s);
	if (code == 0) {
		txn_lost(s, r);
		server_say_line(s, s->t.broken);
		sentrec_data_refused(&s->t.rec, 451, s->t.broken);
	} else
		sentrec_data_refused(&s->t.rec, provider_reply(s, r),
		    s->t.reply);
	return 0;
}
