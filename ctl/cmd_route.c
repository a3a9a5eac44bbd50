/*
 * route — "smarthostctl route ADDRESS [--from FROM] [--json]": how mail from an
 * envelope sender is relayed, computed by the same route_lookup() the
 * milter and the relay use.
 *
 * The facts are gathered once into a struct view and printed either as
 * "key: value" lines or as one JSON object.  Exit codes (documented in
 * smarthostctl(8)): EX_OK routed, EX_DATAERR the address does not parse,
 * EX_NOUSER no map line matches, EX_UNAVAILABLE the null sender has no
 * route, EX_CONFIG the configuration has errors.
 *
 * --from 'HEADER FROM' adds the milter's alignment verdicts (SPF, DKIM,
 * DMARC) for that From:, computed by the same align_route_input() and
 * align_check() the milter uses, and the milter's decision with its
 * reply, from the same verdict.h steps in the same order (envelope,
 * From:, alignment); --user NAME is the SASL login for the allowed-users
 * step, which is skipped without it.  A From: that does not parse is
 * EX_DATAERR.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "align.h"
#include "ctl.h"
#include "json.h"
#include "replyto.h"
#include "route.h"
#include "verdict.h"

struct route_args {
	const char	*address;
	const char	*from;		/* --from: a From: header value */
	const char	*user;		/* --user: SASL login, NULL unknown */
	int		 json;
};

/* What the command reports, as text. */
struct view {
	const char	*status;	/* "ok", "bad-address", ... */
	const char	*sender;	/* as given */
	const char	*key;		/* normalised sender, "" for <> */
	char		 matched[512];	/* human description */
	const struct map_entry *entry;
	const struct account *account;
	const struct preset *preset;
	struct route	 r;
	const char	*auth_offered;	/* preset's list, NULL = unknown */
	char		 auth_used[128];
	const char	*envelope;	/* what the provider will see */
	int		 refused;	/* the provider would refuse it */
	char		 error[1024];
	int		 predicted;	/* --from given and evaluated */
	struct align_result al;
	enum judgement	 judged;	/* the milter's decision */
	struct verdict	 mv;		/* its reply */
	/* Reply-To: the milter adds to a message without one */
	char		 reply_to[ADDR_KEY_MAX + 2];	/* "" = none */
	char		 reply_to_why[512];
	int		 reply_to_known;	/* 0: auto, not looked up */
};

static int
route_args(int argc, char **argv, struct route_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--json"))
			a->json = 1;
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			a->from = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			a->user = argv[++i];
		else if (argv[i][0] == '-')
			return -1;
		else if (a->address)
			return -1;
		else
			a->address = argv[i];
	}
	return a->address ? 0 : -1;
}

static void
describe_match(struct view *v)
{
	const struct map_entry *e = v->entry;

	if (e->line == 0 && e->kind == MAP_NULL)
		snprintf(v->matched, sizeof(v->matched), "implicit: "
		    "[relay] null-sender-account %s", e->account);
	else if (e->line == 0)
		snprintf(v->matched, sizeof(v->matched), "implicit: login of "
		    "account %s", e->account);
	else
		snprintf(v->matched, sizeof(v->matched), "%s:%u %s (%s)",
		    e->file, e->line, e->key, map_kind_name(e->kind));
}

static void
describe_auth(struct view *v)
{
	const struct account *a = v->account;
	size_t len = 0;

	v->auth_offered = v->preset ? v->preset->auth : NULL;
	v->auth_used[0] = '\0';
	for (size_t i = 0; i < a->auth.n && len < sizeof(v->auth_used); i++)
		len += snprintf(v->auth_used + len, sizeof(v->auth_used) - len,
		    "%s%s", i ? " " : "", a->auth.v[i]);
	if (len == 0)
		xstrlcpy(v->auth_used, v->preset && v->preset->default_auth ?
		    v->preset->default_auth : "PLAIN", sizeof(v->auth_used));
	for (char *p = v->auth_used; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
}

static void
describe_ok(struct view *v)
{
	v->status = "ok";
	v->entry = v->r.entry;
	v->account = v->r.account;
	v->preset = v->account->preset;
	describe_match(v);
	describe_auth(v);
	v->envelope = v->key;
	if (route_sends_as_login(&v->r))
		v->envelope = v->r.login;
	else if (v->r.rewrite)
		v->envelope = v->r.login;
	else if (v->r.envelope_differs && v->r.sender_must_match == TRI_YES)
		v->refused = 1;
}

/* Reply-To: for a message whose From: address is from (a key; NULL: no
 * --from, so the sender stands for it).  dns NULL: no lookup, so auto
 * outside local-domains stays open. */
static void
describe_reply_to(struct view *v, const struct conf *c, const char *from,
    struct SPF_dns_server_struct *dns)
{
	const char *addr = from ? from : v->key, *dom = strrchr(addr, '@');
	enum replyto_outcome rt;

	v->reply_to[0] = '\0';
	v->reply_to_known = 1;
	if (!v->r.rewrite) {
		xstrlcpy(v->reply_to_why, "no rewrite: From: and Reply-To: "
		    "stay as written", sizeof(v->reply_to_why));
		return;
	}
	if (dom == NULL) {
		xstrlcpy(v->reply_to_why, "no address to reply to",
		    sizeof(v->reply_to_why));
		return;
	}
	if (strcmp(addr, v->r.login) == 0) {
		xstrlcpy(v->reply_to_why, "From: is the login already",
		    sizeof(v->reply_to_why));
		return;
	}
	dom++;
	if (dns == NULL && v->r.reply_to == REPLYTO_AUTO &&
	    !replyto_local(c, dom)) {
		v->reply_to_known = 0;
		xstrlcpy(v->reply_to, addr, sizeof(v->reply_to));
		snprintf(v->reply_to_why, sizeof(v->reply_to_why), "auto: if "
		    "%s has an MX or address record; --from looks it up", dom);
		return;
	}
	rt = replyto_decide(c, &v->r, dom, dns);
	if (rt == RT_ADD)
		xstrlcpy(v->reply_to, addr, sizeof(v->reply_to));
	replyto_explain(rt, &v->r, dom, v->reply_to_why,
	    sizeof(v->reply_to_why));
}

static int
explain(const struct config *c, const char *address, struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->sender = address;
	switch (route_lookup(c, address, &v->r, v->error, sizeof(v->error))) {
	case ROUTE_OK:
		v->key = v->r.sender_key;
		describe_ok(v);
		describe_reply_to(v, c->conf, NULL, NULL);
		return EX_OK;
	case ROUTE_BAD_ADDRESS:
		v->status = "bad-address";
		return EX_DATAERR;
	case ROUTE_NONE:
		v->key = v->r.sender_key;
		v->status = "no-route";
		snprintf(v->error, sizeof(v->error), "no relay map line "
		    "matches %s (add a line for it, its domain or \"*\" to %s)",
		    v->key, c->conf->relay_map);
		return EX_NOUSER;
	case ROUTE_NULL_SENDER:
		v->key = "";
		v->status = "null-sender";
		snprintf(v->error, sizeof(v->error), "the null sender has no "
		    "route: %s has no \"<>\" line and [relay] "
		    "null-sender-account is unset, so the relay %s it "
		    "(null-sender = %s)", c->conf->relay_map,
		    c->conf->null_sender == NULLS_DEFER ? "defers" : "rejects",
		    c->conf->null_sender == NULLS_DEFER ? "defer" : "reject");
		return EX_UNAVAILABLE;
	}
	return EX_SOFTWARE;
}

static const char *
rule_text(const struct view *v, char *buf, size_t size)
{
	if (v->r.sender_must_match == TRI_YES)
		snprintf(buf, size, "must equal the login; refusal: %s",
		    v->r.sender_refusal ? v->r.sender_refusal :
		    "(text not recorded)");
	else if (v->r.sender_must_match == TRI_NO)
		snprintf(buf, size, "any sender accepted%s", v->preset &&
		    v->preset->rewrites_from ? " (the provider rewrites From: "
		    "to the login)" : "");
	else
		snprintf(buf, size, "not recorded for this provider");
	return buf;
}

/* --from: the milter's steps, through the same library code (DNS from
 * the system resolver; no message, so no existing DKIM signature
 * counts).  The alignment line is shown even when an envelope step
 * already decides. */
static int
predict(struct view *v, const struct config *c, const struct route_args *ra)
{
	struct verdict_client cl = { ra->address, NULL, ra->user, "", 0 };
	struct verdict fv = { .reason = NULL };
	struct mailbox mb;
	struct align_input in;
	struct align_opts o = { 0 };
	struct align *a;
	char key[ADDR_KEY_MAX];

	if (verdict_from(c->conf, &v->r, 1, ra->from, &mb, &fv) < 0) {
		xstrlcpy(v->error, fv.text, sizeof(v->error));
		return EX_DATAERR;
	}
	if ((a = align_new(&o, v->error, sizeof(v->error))) == NULL)
		return EX_UNAVAILABLE;
	align_route_input(&v->r, addr_key(&mb.addr, key, sizeof(key)), &in);
	align_check(a, &in, &v->al);
	describe_reply_to(v, c->conf, key, align_dns(a));
	align_free(a);
	v->predicted = 1;
	v->judged = verdict_envelope(c->conf, &v->r, &cl, &v->mv);
	if (v->judged == J_CONTINUE && c->conf->dmarc != ACT_OFF)
		v->judged = verdict_alignment(c->conf, &v->r, &in, &v->al,
		    &v->mv);
	return EX_OK;
}

static int
milter_refuses(const struct view *v)
{
	return v->judged == J_REJECT || v->judged == J_TEMPFAIL;
}

static void
print_alignment(const struct view *v, const char *user)
{
	char buf[512];
	const struct strlist *au = &v->account->allowed_users;

	printf("%-13s %s\n", "alignment:", align_format(&v->al, buf,
	    sizeof(buf)));
	if (milter_refuses(v))
		printf("%-13s %s (%s %s): %s\n", "milter:", v->judged ==
		    J_REJECT ? "refuses" : "defers", v->mv.rcode, v->mv.xcode,
		    v->mv.text);
	else if (user == NULL && au->n > 0)
		printf("%-13s accepts, from a SASL user in allowed-users (%s "
		    "has %zu; check one with --user)\n", "milter:",
		    v->account->name, au->n);
	else
		printf("%-13s accepts\n", "milter:");
}

static void
print_text(const struct view *v, const char *user)
{
	char buf[512];

	printf("%-13s %s\n", "sender:", *v->key ? v->key : "<>");
	printf("%-13s %s\n", "matched:", v->matched);
	if (v->preset)
		printf("%-13s %s (preset %s)\n", "account:", v->account->name,
		    v->preset->name);
	else
		printf("%-13s %s\n", "account:", v->account->name);
	printf("%-13s %s\n", "login:", v->r.login);
	printf("%-13s %s:%u\n", "server:", v->r.host, v->r.port);
	printf("%-13s %s\n", "tls:", tls_mode_name(v->r.tls));
	printf("%-13s %s (smarthost uses %s)\n", "auth:", v->auth_offered ?
	    v->auth_offered : "not recorded", v->auth_used);
	printf("%-13s %s\n", "rewrite:", v->r.rewrite ? "yes" : "no");
	printf("%-13s %s\n", "sender rule:", rule_text(v, buf, sizeof(buf)));
	if (v->r.sender.null)
		printf("%-13s %s (the relay sends bounces as the login)\n",
		    "envelope:", v->envelope);
	else if (route_sends_as_login(&v->r))
		printf("%-13s %s (rewritten from %s by the relay; Postfix's "
		    "notices go to %s)\n", "envelope:", v->envelope, v->key,
		    v->key);
	else if (v->refused)
		printf("%-13s %s: REFUSED by the provider, which wants %s; "
		    "add \"rewrite\" to the map line or give %s its own "
		    "account\n", "envelope:", v->envelope, v->r.login,
		    v->envelope);
	else if (v->r.envelope_differs && v->preset &&
	    v->preset->rewrites_from)
		printf("%-13s %s (as sent; the provider rewrites From: to %s "
		    "unless this is a verified alias)\n", "envelope:",
		    v->envelope, v->r.login);
	else
		printf("%-13s %s (as sent)\n", "envelope:", *v->envelope ?
		    v->envelope : "<>");
	printf("%-13s %s (%s)\n", "reply-to:", *v->reply_to ? v->reply_to :
	    "none", v->reply_to_why);
	if (v->predicted)
		print_alignment(v, user);
}

static void
json_match(struct json *j, const struct map_entry *e)
{
	json_open(j, "match", '{');
	json_str(j, "file", e->line ? e->file : NULL);
	json_uint(j, "line", e->line);
	json_str(j, "pattern", e->key);
	json_str(j, "kind", map_kind_name(e->kind));
	json_bool(j, "implicit", e->line == 0);
	json_close(j, '}');
}

static void
print_json(const struct view *v)
{
	struct json j;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "status", v->status);
	json_str(&j, "sender", v->key ? v->key : v->sender);
	if (strcmp(v->status, "ok") != 0) {
		json_str(&j, "error", v->error);
		json_close(&j, '}');
		return;
	}
	json_match(&j, v->entry);
	json_str(&j, "account", v->account->name);
	json_str(&j, "provider", v->preset ? v->preset->name : NULL);
	json_str(&j, "login", v->r.login);
	json_str(&j, "host", v->r.host);
	json_uint(&j, "port", v->r.port);
	json_str(&j, "tls", tls_mode_name(v->r.tls));
	json_str(&j, "auth_offered", v->auth_offered);
	json_str(&j, "auth", v->auth_used);
	json_bool(&j, "rewrite", v->r.rewrite);
	json_tri(&j, "sender_must_match", v->r.sender_must_match);
	json_str(&j, "sender_refusal", v->r.sender_refusal);
	json_str(&j, "envelope_sender", v->envelope);
	json_bool(&j, "refused", v->refused);
	json_str(&j, "reply_to", *v->reply_to ? v->reply_to : NULL);
	json_bool(&j, "reply_to_known", v->reply_to_known);
	json_str(&j, "reply_to_why", v->reply_to_why);
	if (v->predicted) {
		json_open(&j, "alignment", '{');
		json_str(&j, "spf", align_verdict_name(v->al.spf));
		json_str(&j, "dkim", align_verdict_name(v->al.dkim));
		json_str(&j, "dkim_domain", v->al.dkim == AV_PASS ?
		    v->al.dkim_domain : NULL);
		json_str(&j, "dmarc", align_verdict_name(v->al.dmarc));
		json_str(&j, "policy", *v->al.policy ? v->al.policy : NULL);
		json_bool(&j, "milter_refuses", milter_refuses(v));
		json_str(&j, "why", *v->al.why ? v->al.why : NULL);
		json_close(&j, '}');
		json_open(&j, "milter", '{');
		json_str(&j, "decision", v->judged == J_REJECT ? "reject" :
		    v->judged == J_TEMPFAIL ? "tempfail" : "accept");
		json_str(&j, "code", milter_refuses(v) ? v->mv.rcode : NULL);
		json_str(&j, "status", milter_refuses(v) ? v->mv.xcode : NULL);
		json_str(&j, "reply", milter_refuses(v) ? v->mv.text : NULL);
		json_close(&j, '}');
	}
	json_close(&j, '}');
}

int
cmd_route(const struct ctl *c, int argc, char **argv)
{
	struct route_args a;
	struct config *cfg;
	struct view v;
	int ex;

	if (route_args(argc, argv, &a) == -1)
		return ctl_usage(c, argv[0]);
	if ((cfg = ctl_load(c, 0, &ex)) == NULL)
		return ex;
	ex = explain(cfg, a.address, &v);
	if (ex == EX_OK && a.from && (ex = predict(&v, cfg, &a)) != EX_OK)
		v.status = "bad-from";
	if (a.json)
		print_json(&v);
	else if (ex == EX_OK)
		print_text(&v, a.user);
	else if (ex == EX_DATAERR && strcmp(v.status, "bad-from") == 0)
		fprintf(stderr, "%s: bad From: \"%s\": %s\n", c->progname,
		    a.from, v.error);
	else if (ex == EX_DATAERR)
		fprintf(stderr, "%s: bad address \"%s\": %s\n", c->progname,
		    a.address, v.error);
	else
		fprintf(stderr, "%s: %s\n", c->progname, v.error);
	config_unref(cfg);
	return ex;
}
