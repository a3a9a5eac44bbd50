/*
 * dkimcheck — see dkimcheck.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "dkimcheck.h"
#include "util.h"

struct dkimcheck {
	DKIM		*dkim;
	size_t		 body;		/* bytes fed */
	int		 capped;
	int		 failed;	/* libopendkim refused input */
	int		 keyfail;	/* a key lookup failed for now */
};

struct dkimcheck *
dkimcheck_new(struct align *a, const char *id, char *err, size_t errsize)
{
	struct dkimcheck *c = xcalloc(1, sizeof(*c));
	DKIM_STAT st;

	c->dkim = dkim_verify(align_dkimlib(a), (const unsigned char *)id,
	    NULL, &st);
	if (c->dkim == NULL) {
		snprintf(err, errsize, "libopendkim: %s", dkim_getresultstr(st));
		free(c);
		return NULL;
	}
	dkim_set_user_context(c->dkim, a);	/* for align's key lookup */
	return c;
}

/* "name:value" with folded lines ending in CRLF: MTAs hand milters LF
 * (Postfix) and libopendkim's relaxed canonicalization unfolds only CRLF. */
static char *
crlf_header(const char *name, const char *value)
{
	size_t n = strlen(name), len = n + 1, cap = n + 2 + 2 * strlen(value);
	char *h = xmalloc(cap);

	memcpy(h, name, n);
	h[n] = ':';
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			h[len++] = '\r';
		h[len++] = *p;
	}
	h[len] = '\0';
	return h;
}

int
dkimcheck_header(struct dkimcheck *c, const char *name, const char *value)
{
	char *h;
	int r;

	if (c->failed)
		return -1;
	h = crlf_header(name, value);
	r = dkim_header(c->dkim, (unsigned char *)h, strlen(h));
	free(h);
	if (r != DKIM_STAT_OK)
		c->failed = 1;
	return c->failed ? -1 : 0;
}

int
dkimcheck_eoh(struct dkimcheck *c)
{
	DKIM_STAT st;

	if (c->failed)
		return -1;
	st = dkim_eoh(c->dkim);
	/* A key lookup that failed for now (libopendkim fetches keys
	 * here) is a finding: a temperror from dkimcheck_finish(); the
	 * body is not hashed any more. */
	if (st == DKIM_STAT_CBTRYAGAIN || st == DKIM_STAT_KEYFAIL) {
		c->keyfail = c->failed = 1;
		return 0;
	}
	/* NOSIG / CANTVRFY are findings, not errors: eom reports them. */
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG &&
	    st != DKIM_STAT_CANTVRFY && st != DKIM_STAT_SYNTAX)
		c->failed = 1;
	return c->failed ? -1 : 0;
}

int
dkimcheck_body(struct dkimcheck *c, const unsigned char *buf, size_t len)
{
	if (c->failed || c->capped)
		return 0;
	if (len > DKIMCHECK_BODY_MAX - c->body) {
		c->capped = 1;
		return 0;
	}
	c->body += len;
	if (dkim_body(c->dkim, (unsigned char *)(uintptr_t)buf, len) !=
	    DKIM_STAT_OK)
		c->failed = 1;
	return 0;
}

static void
collect(struct dkimcheck *c, struct dkimcheck_result *res)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;

	if (dkim_getsiglist(c->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		return;
	res->nsigs = (size_t)nsigs;
	for (int i = 0; i < nsigs; i++) {
		const char *d = (const char *)dkim_sig_getdomain(sigs[i]);
		int err = dkim_sig_geterror(sigs[i]);

		if (err == DKIM_SIGERROR_KEYFAIL)
			res->temperror = 1;
		if (err == DKIM_SIGERROR_NOKEY && res->nokey[0] == '\0' &&
		    d != NULL && dkim_sig_getselector(sigs[i]) != NULL)
			snprintf(res->nokey, sizeof(res->nokey),
			    "%s._domainkey.%s",
			    (const char *)dkim_sig_getselector(sigs[i]), d);
		if (!DKIM_SIG_CHECK(sigs[i]) || d == NULL)
			continue;
		if (res->n < ALIGN_MAX_SIGS) {
			xstrlcpy(res->domains[res->n], d, sizeof(res->domains[0]));
			str_lower(res->domains[res->n++]);
		}
	}
	if (res->n == 0 && nsigs > 0)
		snprintf(res->note, sizeof(res->note), "%s (d=%s)",
		    dkim_sig_getbh(sigs[0]) == DKIM_SIGBH_MISMATCH ?
		    "body hash does not match" :
		    dkim_sig_geterrorstr(dkim_sig_geterror(sigs[0])),
		    dkim_sig_getdomain(sigs[0]) ?
		    (const char *)dkim_sig_getdomain(sigs[0]) : "?");
}

int
dkimcheck_finish(struct dkimcheck *c, struct dkimcheck_result *res)
{
	DKIM_STAT st;

	memset(res, 0, sizeof(*res));
	if (c->capped) {
		snprintf(res->note, sizeof(res->note),
		    "body too large to verify (over %lu bytes)",
		    DKIMCHECK_BODY_MAX);
		return 0;
	}
	if (c->keyfail) {
		res->temperror = 1;
		snprintf(res->note, sizeof(res->note), "key lookup failed");
		return 0;
	}
	if (c->failed) {
		snprintf(res->note, sizeof(res->note), "message not verifiable");
		return 0;
	}
	st = dkim_eom(c->dkim, NULL);
	if (st == DKIM_STAT_NOSIG) {
		snprintf(res->note, sizeof(res->note), "no signature");
		return 0;
	}
	collect(c, res);
	return 0;
}

void
dkimcheck_free(struct dkimcheck *c)
{
	if (c == NULL)
		return;
	if (c->dkim)
		dkim_free(c->dkim);
	free(c);
}
