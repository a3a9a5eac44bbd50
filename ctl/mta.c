/*
 * mta — see mta.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "mta.h"
#include "util.h"

/* Characters neither main.cf nor an .mc file can carry in a socket. */
#define MTA_UNSAFE	" \t\r\n'\"`,;${}()"

static unsigned
port_of(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return *s && *end == '\0' && v > 0 && v <= 65535 ? (unsigned)v : 0;
}

static int
is_wildcard(const char *a)
{
	return *a == '\0' || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0 ||
	    strcmp(a, "*") == 0;
}

int
mta_relay(const struct conf *conf, struct mta_relay *r, char *err,
    size_t errsize)
{
	const char *v = conf->relay_listen, *colon;
	size_t hlen;

	memset(r, 0, sizeof(*r));
	if (strncmp(v, "unix:", 5) == 0) {
		snprintf(err, errsize, "[relay] listen = %s: an MTA's SMTP "
		    "client cannot deliver to a unix socket; set listen to "
		    "127.0.0.1:10025 (or another ADDRESS:PORT)", v);
		return -1;
	}
	colon = strrchr(v, ':');
	if (colon == NULL || (r->port = port_of(colon + 1)) == 0)
		goto bad;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		v++;
		hlen -= 2;
		r->ipv6 = 1;
	}
	if (hlen == 0 || hlen >= sizeof(r->addr))
		goto bad;
	memcpy(r->addr, v, hlen);
	r->addr[hlen] = '\0';
	if (strchr(r->addr, ':'))
		r->ipv6 = 1;
	if (is_wildcard(r->addr))
		xstrlcpy(r->addr, r->ipv6 ? "::1" : "127.0.0.1", sizeof(r->addr));
	return 0;
bad:
	snprintf(err, errsize, "[relay] listen = %s: not ADDRESS:PORT or "
	    "[IPV6]:PORT", conf->relay_listen);
	return -1;
}

/* "PORT[@HOST]" of an inet or inet6 socket. */
static int
milter_inet(const char *spec, struct mta_milter *m)
{
	const char *at = strchr(spec, '@');
	char port[8];
	size_t plen = at ? (size_t)(at - spec) : strlen(spec);

	if (plen == 0 || plen >= sizeof(port))
		return -1;
	memcpy(port, spec, plen);
	port[plen] = '\0';
	if ((m->port = port_of(port)) == 0)
		return -1;
	xstrlcpy(m->host, at ? at + 1 : "", sizeof(m->host));
	if (m->host[0] == '[' && m->host[strlen(m->host) - 1] == ']') {
		memmove(m->host, m->host + 1, strlen(m->host));
		m->host[strlen(m->host) - 1] = '\0';
	}
	if (is_wildcard(m->host))
		xstrlcpy(m->host, m->kind == MTA_INET6 ? "::1" : "127.0.0.1",
		    sizeof(m->host));
	return 0;
}

int
mta_milter(const struct conf *conf, struct mta_milter *m, char *err,
    size_t errsize)
{
	const char *v = conf->milter_socket;
	int rc;

	memset(m, 0, sizeof(*m));
	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		m->kind = MTA_UNIX;
		xstrlcpy(m->path, strchr(v, ':') + 1, sizeof(m->path));
		rc = m->path[0] == '/' ? 0 : -1;
	} else if (strncmp(v, "inet:", 5) == 0) {
		m->kind = MTA_INET;
		rc = milter_inet(v + 5, m);
	} else if (strncmp(v, "inet6:", 6) == 0) {
		m->kind = MTA_INET6;
		rc = milter_inet(v + 6, m);
	} else
		rc = -1;
	if (rc == -1) {
		snprintf(err, errsize, "[milter] socket = %s: not unix:PATH, "
		    "inet:PORT@HOST or inet6:PORT@HOST", v);
		return -1;
	}
	if (strpbrk(m->kind == MTA_UNIX ? m->path : m->host, MTA_UNSAFE)) {
		snprintf(err, errsize, "[milter] socket = %s: white space, "
		    "quotes and the characters ,;${}() cannot be written in "
		    "main.cf or sendmail.mc; choose another path", v);
		return -1;
	}
	return 0;
}

/* One line of text (up to '\n') as comment lines; returns what follows. */
static const char *
comment_line(const char *prefix, const char *text)
{
	size_t len = strcspn(text, "\n"), col, w;
	const char *p = text, *end = text + len;

	if (*p == ' ' || p == end) {
		printf("%s%s%.*s\n", prefix, len ? " " : "", (int)len, p);
		return end + (*end == '\n');
	}
	col = printf("%s", prefix);
	while (p < end) {
		for (w = 0; p + w < end && p[w] != ' '; w++)
			;
		if (col > strlen(prefix) && col + 1 + w > MTA_WIDTH)
			col = printf("\n%s", prefix) - 1;
		col += printf(" %.*s", (int)w, p);
		for (p += w; p < end && *p == ' '; p++)
			;
	}
	putchar('\n');
	return end + (*end == '\n');
}

void
mta_comment(const char *prefix, const char *text)
{
	while (*text)
		text = comment_line(prefix, text);
}

struct conf *
mta_load(const struct ctl *c, struct mta_milter *m, struct mta_relay *r,
    int *ex)
{
	struct conf *conf;
	char err[512];

	if ((conf = ctl_load_conf(c, ex)) == NULL)
		return NULL;
	if (mta_milter(conf, m, err, sizeof(err)) == -1 ||
	    mta_relay(conf, r, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path, err);
		conf_free(conf);
		*ex = EX_CONFIG;
		return NULL;
	}
	return conf;
}
