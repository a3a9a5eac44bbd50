/*
 * conf_norm — value checks for the option table (see conf_norm.h).
 * Domains go through domain_normalize() (libidn2), addresses through
 * inet_pton(), provider names through the preset table: nothing here
 * re-implements what those do.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_norm.h"
#include "domain.h"
#include "preset.h"
#include "util.h"

char *
conf_norm_path(const char *v, char *err, size_t errsize)
{
	if (v[0] != '/') {
		snprintf(err, errsize, "\"%s\" is not an absolute path", v);
		return NULL;
	}
	return xstrdup(v);
}

char *
conf_norm_domain(const char *v, char *err, size_t errsize)
{
	char out[DOMAIN_MAX + 1];

	if (domain_normalize(v, out, sizeof(out), err, errsize) == -1)
		return NULL;
	return xstrdup(out);
}

/* A DNS name that may hold underscore labels, as SPF includes do
 * ("_spf.google.com").  The underscores stand in for a letter while
 * domain_normalize() checks the rest (lengths, labels, hyphens). */
char *
conf_norm_dns_name(const char *v, char *err, size_t errsize)
{
	char *copy, *out;

	if (strchr(v, '_') == NULL)
		return conf_norm_domain(v, err, errsize);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			snprintf(err, errsize, "\"%s\": an underscore name "
			    "must be ASCII", v);
			return NULL;
		}
	copy = xstrdup(v);
	for (char *p = copy; *p; p++)
		if (*p == '_')
			*p = 'u';
	out = conf_norm_domain(copy, err, errsize);
	if (out == NULL) {		/* messages quote the name as written */
		char *q = strstr(err, copy);

		if (q)
			memcpy(q, v, strlen(v));
		free(copy);
		return NULL;
	}
	free(copy);
	for (size_t i = 0; out[i]; i++)		/* same length: ASCII, lowered */
		if (v[i] == '_')
			out[i] = '_';
	return out;
}

char *
conf_norm_dkim_domain(const char *v, char *err, size_t errsize)
{
	if (strcmp(v, "*") == 0)
		return xstrdup(v);
	return conf_norm_domain(v, err, errsize);
}

static int
is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

char *
conf_norm_host(const char *v, char *err, size_t errsize)
{
	if (strchr(v, ':') && is_ip(v))
		return str_lower(xstrdup(v));
	return conf_norm_domain(v, err, errsize);
}

/* Parse a decimal number in [lo, hi] spanning all of s; -1 if not. */
static long
number_in(const char *s, long lo, long hi)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9' || strlen(s) > 9)
		return -1;
	n = strtol(s, &end, 10);
	return (*end || n < lo || n > hi) ? -1 : n;
}

/* The len bytes at p as a string in buf; -1 if there are none or they
 * do not fit. */
static int
span_copy(char *buf, size_t size, const char *p, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

char *
conf_norm_network(const char *v, char *err, size_t errsize)
{
	char addr[INET6_ADDRSTRLEN + 8];
	unsigned char buf[16];
	const char *slash = strchr(v, '/');
	size_t len = slash ? (size_t)(slash - v) : strlen(v);
	int af = AF_INET;

	if (span_copy(addr, sizeof(addr), v, len) == -1)
		goto bad;
	if (inet_pton(AF_INET, addr, buf) != 1) {
		af = AF_INET6;
		if (inet_pton(AF_INET6, addr, buf) != 1)
			goto bad;
	}
	if (slash && number_in(slash + 1, 0, af == AF_INET ? 32 : 128) == -1)
		goto bad;
	return str_lower(xstrdup(v));
bad:
	snprintf(err, errsize, "\"%s\" is not an IP address or network "
	    "(192.0.2.0/24, 2001:db8::/32)", v);
	return NULL;
}

/* libmilter's socket syntax: unix:PATH, local:PATH, inet:PORT[@HOST],
 * inet6:PORT[@HOST]. */
char *
conf_norm_milter_socket(const char *v, char *err, size_t errsize)
{
	char port[8];
	const char *p, *at;

	if (strncmp(v, "unix:/", 6) == 0 || strncmp(v, "local:/", 7) == 0)
		return xstrdup(v);
	if (strncmp(v, "inet:", 5) == 0)
		p = v + 5;
	else if (strncmp(v, "inet6:", 6) == 0)
		p = v + 6;
	else
		goto bad;
	at = strchr(p, '@');
	if (span_copy(port, sizeof(port), p, at ? (size_t)(at - p) :
	    strlen(p)) == -1 || number_in(port, 1, 65535) == -1 ||
	    (at && at[1] == '\0'))
		goto bad;
	return xstrdup(v);
bad:
	snprintf(err, errsize, "\"%s\" is not a milter socket (unix:PATH, "
	    "inet:PORT@HOST or inet6:PORT@HOST)", v);
	return NULL;
}

/* ADDRESS:PORT, [IPV6]:PORT or unix:PATH. */
char *
conf_norm_listen(const char *v, char *err, size_t errsize)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = v;
	size_t hlen;

	if (strncmp(v, "unix:/", 6) == 0)
		return xstrdup(v);
	colon = strrchr(v, ':');
	if (colon == NULL || number_in(colon + 1, 1, 65535) == -1)
		goto bad;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	} else if (memchr(v, ':', hlen))
		goto bad;		/* IPv6 without brackets */
	if (span_copy(host, sizeof(host), h, hlen) == -1 || !is_ip(host))
		goto bad;
	return xstrdup(v);
bad:
	snprintf(err, errsize, "\"%s\" is not ADDRESS:PORT, [IPV6]:PORT or "
	    "unix:PATH", v);
	return NULL;
}

/* RFC 5322 field name: printable ASCII except ':'. */
char *
conf_norm_header_name(const char *v, char *err, size_t errsize)
{
	for (const char *p = v; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':') {
			snprintf(err, errsize, "\"%s\" is not a header field "
			    "name", v);
			return NULL;
		}
	return xstrdup(v);
}

char *
conf_norm_provider(const char *v, char *err, size_t errsize)
{
	const struct preset *p = preset_by_name(v);

	if (p == NULL) {
		snprintf(err, errsize, "unknown provider \"%s\" (smarthostctl "
		    "providers lists them)", v);
		return NULL;
	}
	return xstrdup(p->name);
}

/* A login: no white space or control characters; the domain of an
 * address is normalised, the local part kept as written. */
char *
conf_norm_login(const char *v, char *err, size_t errsize)
{
	char dom[DOMAIN_MAX + 1];
	const char *at = strrchr(v, '@');

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errsize, "\"%s\" contains white space or "
			    "control characters", v);
			return NULL;
		}
	if (at == NULL)
		return xstrdup(v);
	if (at == v) {
		snprintf(err, errsize, "\"%s\" has an empty local part", v);
		return NULL;
	}
	if (domain_normalize(at + 1, dom, sizeof(dom), err, errsize) == -1)
		return NULL;
	return xasprintf("%.*s@%s", (int)(at - v), v, dom);
}

char *
conf_norm_mechanism(const char *v, char *err, size_t errsize)
{
	static const char *const mechs[] = { "PLAIN", "LOGIN", "XOAUTH2" };

	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(v, mechs[i]) == 0)
			return xstrdup(mechs[i]);
	snprintf(err, errsize, "\"%s\" is not one of plain, login, xoauth2", v);
	return NULL;
}

/* https://HOST[/...]; plain http only to a loopback host (tests). */
char *
conf_norm_url(const char *v, char *err, size_t errsize)
{
	static const char *const loopback[] = {
		"http://127.", "http://localhost:", "http://localhost/",
		"http://[::1]"
	};

	if (strncmp(v, "https://", 8) == 0 && v[8] && v[8] != '/')
		return xstrdup(v);
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (strncmp(v, loopback[i], strlen(loopback[i])) == 0)
			return xstrdup(v);
	snprintf(err, errsize, "\"%s\" is not an https:// URL", v);
	return NULL;
}

/* A user name (the portable set: letters, digits, '.', '_', '-', not
 * starting with '-', an optional final '$') or a numeric uid.  The user
 * need not exist here: the default names Postfix's mail_owner, which a
 * Sendmail host has not. */
char *
conf_norm_user(const char *v, char *err, size_t errsize)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-");

	if (v[0] >= '0' && v[0] <= '9') {
		if (number_in(v, 0, 999999999) != -1)
			return xstrdup(v);
	} else if (n > 0 && n <= 32 && v[0] != '-' &&
	    (v[n] == '\0' || (v[n] == '$' && v[n + 1] == '\0')))
		return xstrdup(v);
	snprintf(err, errsize, "\"%s\" is not a user name or numeric uid", v);
	return NULL;
}

/* v's part from p up to end as a string in buf (at most size - 1
 * characters): 0, or -1 when it does not fit. */
static int
url_part(const char *p, const char *end, char *buf, size_t size)
{
	if ((size_t)(end - p) >= size)
		return -1;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	return 0;
}

int
conf_redis_url(const char *v, char *host, size_t hostsize, unsigned *port,
    unsigned *db, int *tls, char *err, size_t errsize)
{
	const char *h, *colon, *slash, *end;
	long p, d = 0;
	char num[16];

	*tls = strncmp(v, "rediss://", 9) == 0;
	if (*tls)
		h = v + 9;
	else if (strncmp(v, "redis://", 8) == 0)
		h = v + 8;
	else {
		snprintf(err, errsize, "\"%s\" is not file, "
		    "redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB]", v);
		return -1;
	}
	end = h + strlen(h);
	slash = strchr(h, '/');
	colon = memrchr(h, ':', (size_t)((slash ? slash : end) - h));
	if (memchr(h, '@', (size_t)((slash ? slash : end) - h)) != NULL) {
		snprintf(err, errsize, "no password in the URL (not quoted "
		    "here): it goes in the secrets file as \"redis "
		    "PASSWORD\"");
		return -1;
	}
	if (colon == NULL) {
		snprintf(err, errsize, "\"%s\": no port (HOST:PORT)", v);
		return -1;
	}
	if (colon == h || url_part(h, colon, host, hostsize) != 0 ||
	    strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789.-") != strlen(host)) {
		snprintf(err, errsize, "\"%s\": \"%.*s\" is not a host name "
		    "or IPv4 address", v, (int)(colon - h), h);
		return -1;
	}
	if (url_part(colon + 1, slash ? slash : end, num, sizeof(num)) != 0 ||
	    (p = number_in(num, 1, 65535)) == -1) {
		snprintf(err, errsize, "\"%s\": the port \"%.*s\" is not a "
		    "number from 1 to 65535", v, (int)((slash ? slash : end) -
		    colon - 1), colon + 1);
		return -1;
	}
	if (slash && (d = number_in(slash + 1, 0, 1000)) == -1) {
		snprintf(err, errsize, "\"%s\": the database \"%s\" is not "
		    "a number from 0 to 1000", v, slash + 1);
		return -1;
	}
	*port = (unsigned)p;
	*db = (unsigned)d;
	return 0;
}

char *
conf_norm_limits_store(const char *v, char *err, size_t errsize)
{
	char host[256];
	unsigned port, db;
	int tls;

	if (strcmp(v, "file") == 0)
		return xstrdup(v);
	if (conf_redis_url(v, host, sizeof(host), &port, &db, &tls, err,
	    errsize) != 0)
		return NULL;
	return xstrdup(v);
}

int
conf_share(const char *v, unsigned *m, unsigned *n)
{
	char buf[32];
	const char *slash = strchr(v, '/');
	long a, b;

	if (slash == NULL || (size_t)(slash - v) >= sizeof(buf))
		return -1;
	memcpy(buf, v, (size_t)(slash - v));
	buf[slash - v] = '\0';
	if ((a = number_in(buf, 1, 1000)) == -1 ||
	    (b = number_in(slash + 1, 1, 1000)) == -1 || a > b)
		return -1;
	*m = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

char *
conf_norm_share(const char *v, char *err, size_t errsize)
{
	unsigned m, n;

	if (conf_share(v, &m, &n) != 0) {
		snprintf(err, errsize, "\"%s\" is not a share M/N with 1 <= M "
		    "<= N <= 1000 (1/2: half of each limit)", v);
		return NULL;
	}
	return xasprintf("%u/%u", m, n);
}
