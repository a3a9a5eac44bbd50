/*
 * providers — "smarthostctl providers [NAME] [--json]": the built-in
 * provider presets.
 *
 * Without NAME: a compact table, one line per preset, that fits in 100
 * columns (name, host, default port and TLS, other ports, sender rule,
 * DKIM domain, AUTH).  With NAME: the whole row, one field per line,
 * including the IMAP server smarthost-return reads, where the code is
 * made, what a 535 means, what is uncertain and where the row comes
 * from.  --json prints every field of the chosen presets as an array of
 * objects.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "json.h"
#include "preset.h"

static const char *
sender_rule(int tri)
{
	return tri == TRI_YES ? "=login" : tri == TRI_NO ? "free" : "?";
}

static const char *
dkim_short(const char *d)
{
	return d == NULL ? "?" : strcmp(d, "*") == 0 ? "(own)" : d;
}

static void
other_ports(const struct preset *p, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 1; i < p->nports && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%u%s", i > 1 ? "," : "",
		    p->ports[i].port, p->ports[i].note ? "?" : "");
	if (buf[0] == '\0')
		xstrlcpy(buf, "-", size);
}

/* As many whole words of s as fit in width, then "+N" for the rest. */
static void
fit_words(const char *s, size_t width, char *buf, size_t size)
{
	size_t len = 0, left = 0;
	const char *p = s;

	buf[0] = '\0';
	while (*p) {
		size_t w = strcspn(p, " ");

		if (left == 0 && len + (len > 0) + w + 3 <= width &&
		    len + w + 2 < size) {
			len += snprintf(buf + len, size - len, "%s%.*s",
			    len ? " " : "", (int)w, p);
		} else if (left == 0 && p[w] == '\0' && len + 1 + w <= width)
			len += snprintf(buf + len, size - len, " %.*s", (int)w, p);
		else
			left++;
		p += w + strspn(p + w, " ");
	}
	if (left)
		snprintf(buf + len, size - len, " +%zu", left);
}

static void
print_table(const struct preset *all, size_t n)
{
	char others[32], auth[40];

	printf("%-16s %-21s %-12s %-8s %-6s %-12s %s\n", "NAME", "HOST",
	    "DEFAULT", "OTHER", "SENDER", "DKIM", "AUTH");
	for (size_t i = 0; i < n; i++) {
		const struct preset *p = &all[i];

		other_ports(p, others, sizeof(others));
		fit_words(p->auth ? p->auth : "?", 19, auth, sizeof(auth));
		printf("%-16s %-21s %3u %-8s %-8s %-6s %-12s %s\n",
		    p->name, p->host, p->ports[0].port,
		    tls_mode_name(p->ports[0].tls), others,
		    sender_rule(p->sender_must_match),
		    dkim_short(p->dkim_domain), auth);
	}
	printf("\nOTHER: other ports, '?' = with a note.  SENDER: =login: "
	    "envelope sender must equal the\nlogin; free: not refused; ?: "
	    "not recorded.  DKIM: (own) = the customer's domain.\n"
	    "\"%s providers NAME\" shows a whole row.\n", "smarthostctl");
}

#define WRAP_AT	100
#define INDENT	21

/* "  name   value", the value wrapped at WRAP_AT columns (bytes: a CJK
 * character counts 3 and shows 2 wide, so lines only come out shorter). */
static void
field(const char *name, const char *value)
{
	size_t col = INDENT;
	const char *p = value;

	printf("  %-18s", name);
	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > INDENT && col + 1 + w > WRAP_AT) {
			printf("\n%*s", INDENT - 1, "");
			col = INDENT - 1;
		}
		printf(" %.*s", (int)w, p);
		col += 1 + w;
		p += w + strspn(p + w, " ");
	}
	putchar('\n');
}

static void
print_limit(const char *what, unsigned long v)
{
	if (v)
		printf("  %-18s %lu\n", what, v);
}

static void
print_block(const struct preset *p)
{
	printf("%s (%s)\n", p->name, p->title);
	printf("  %-18s", "domains");
	for (size_t i = 0; i < PRESET_MAX_DOMAINS && p->domains[i]; i++)
		printf(" %s", p->domains[i]);
	printf("%s\n", p->domains[0] ? "" : " (none: use provider = NAME "
	    "in an [account] block)");
	printf("  %-18s %s\n", "host", p->host);
	for (size_t i = 0; i < p->nports; i++)
		printf("  %-18s %u %s%s%s%s\n", i ? "port" : "port (default)",
		    p->ports[i].port, tls_mode_name(p->ports[i].tls),
		    p->ports[i].note ? " (" : "",
		    p->ports[i].note ? p->ports[i].note : "",
		    p->ports[i].note ? ")" : "");
	if (p->imap_host)
		printf("  %-18s %s %u implicit%s (smarthost-return)\n", "imap",
		    p->imap_host, p->imap_port, p->imap_id ?
		    ", sends ID before SELECT" : "");
	else
		printf("  %-18s %s\n", "imap", "? (not recorded)");
	printf("  %-18s %s\n", "auth", p->auth ? p->auth : "? (not recorded)");
	printf("  %-18s %s\n", "default auth", p->default_auth);
	printf("  %-18s %s\n", "sender = login", p->sender_must_match ==
	    TRI_YES ? "yes" : p->sender_must_match == TRI_NO ? "no" :
	    "? (not recorded)");
	if (p->sender_refusal)
		printf("  %-18s %s\n", "refusal", p->sender_refusal);
	if (p->rewrites_from)
		printf("  %-18s %s\n", "rewrites From", "yes, to the login");
	printf("  %-18s %s\n", "dkim domain", p->dkim_domain == NULL ?
	    "? (not recorded)" : strcmp(p->dkim_domain, "*") == 0 ?
	    "* (the customer's own domain)" : p->dkim_domain);
	printf("  %-18s %s\n", "spf include", p->spf_include ?
	    p->spf_include : "? (not recorded)");
	print_limit("rcpts/message", p->max_rcpt_per_msg);
	print_limit("messages/day", p->daily_msgs);
	print_limit("rcpts/day", p->daily_rcpts);
	print_limit("max size", p->max_size);
	printf("  %-18s %u (smarthost's own bound)\n", "max connections",
	    p->max_connections);
	if (p->oauth)
		printf("  %-18s %s\n", "oauth", p->oauth);
	field("code", p->code_howto);
	field("535 means", p->auth_failure_hint);
	if (p->uncertain)
		field("uncertain", p->uncertain);
	field("source", p->source);
}

static void
json_preset(struct json *j, const struct preset *p)
{
	json_open(j, NULL, '{');
	json_str(j, "name", p->name);
	json_str(j, "title", p->title);
	json_open(j, "domains", '[');
	for (size_t i = 0; i < PRESET_MAX_DOMAINS && p->domains[i]; i++)
		json_str(j, NULL, p->domains[i]);
	json_close(j, ']');
	json_str(j, "host", p->host);
	json_open(j, "ports", '[');
	for (size_t i = 0; i < p->nports; i++) {
		json_open(j, NULL, '{');
		json_uint(j, "port", p->ports[i].port);
		json_str(j, "tls", tls_mode_name(p->ports[i].tls));
		json_bool(j, "default", i == 0);
		json_str(j, "note", p->ports[i].note);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_str(j, "imap_host", p->imap_host);
	json_uint(j, "imap_port", p->imap_port);
	json_bool(j, "imap_id", p->imap_id);
	json_str(j, "auth", p->auth);
	json_str(j, "default_auth", p->default_auth);
	json_tri(j, "sender_must_match", p->sender_must_match);
	json_str(j, "sender_refusal", p->sender_refusal);
	json_bool(j, "rewrites_from", p->rewrites_from);
	json_str(j, "dkim_domain", p->dkim_domain);
	json_str(j, "spf_include", p->spf_include);
	json_uint(j, "max_rcpt_per_msg", p->max_rcpt_per_msg);
	json_uint(j, "daily_msgs", p->daily_msgs);
	json_uint(j, "daily_rcpts", p->daily_rcpts);
	json_uint(j, "max_size", p->max_size);
	json_uint(j, "max_connections", p->max_connections);
	json_str(j, "code_howto", p->code_howto);
	json_str(j, "auth_failure_hint", p->auth_failure_hint);
	json_str(j, "oauth", p->oauth);
	json_str(j, "uncertain", p->uncertain);
	json_str(j, "source", p->source);
	json_close(j, '}');
}

int
cmd_providers(const struct ctl *c, int argc, char **argv)
{
	const struct preset *all, *one = NULL;
	const char *name = NULL;
	size_t n;
	int json = 0;

	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' || name)
			return ctl_usage(c, argv[0]);
		else
			name = argv[i];
	}
	all = preset_all(&n);
	if (name && (one = preset_by_name(name)) == NULL) {
		fprintf(stderr, "%s: no provider preset named \"%s\" (see "
		    "\"%s providers\")\n", c->progname, name, c->progname);
		return EX_DATAERR;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_open(&j, NULL, '[');
		for (size_t i = 0; i < n; i++)
			if (one == NULL || one == &all[i])
				json_preset(&j, &all[i]);
		json_close(&j, ']');
	} else if (one)
		print_block(one);
	else
		print_table(all, n);
	return EX_OK;
}
