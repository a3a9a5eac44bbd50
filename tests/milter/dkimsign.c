/*
 * dkimsign — test tool: sign the message on stdin (LF line ends) with
 * libopendkim, rsa-sha256, relaxed/relaxed, and print it with its
 * DKIM-Signature header first.  Built by tests/milter/postfix-e2e.t.
 *
 *	dkimsign DOMAIN SELECTOR KEYFILE <message >signed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

static char *
slurp(FILE *fp, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap + 1);

	if (buf == NULL)
		exit(1);
	*len = fread(buf, 1, cap, fp);
	buf[*len] = '\0';
	return buf;
}

/* Feed one header (with its folded continuation lines, CRLF). */
static void
header(DKIM *d, const char *start, const char *end)
{
	char h[4096];
	size_t n = 0;

	for (const char *p = start; p < end && n < sizeof(h) - 2; p++) {
		if (*p == '\n' && p + 1 < end)
			h[n++] = '\r';
		if (*p != '\n' || p + 1 < end)
			h[n++] = *p;
	}
	if (dkim_header(d, (unsigned char *)h, n) != DKIM_STAT_OK)
		exit(3);
}

int
main(int argc, char **argv)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	DKIM_STAT st;
	DKIM *d;
	size_t len, klen;
	char *msg, *key, *body, *p, *h, crlf[65536 * 2];
	unsigned char sig[4096];
	FILE *kf;

	if (argc != 4 || lib == NULL || (kf = fopen(argv[3], "r")) == NULL)
		return 2;
	key = slurp(kf, &klen);
	msg = slurp(stdin, &len);
	if ((body = strstr(msg, "\n\n")) == NULL)
		return 2;
	d = dkim_sign(lib, (unsigned char *)"t", NULL, (unsigned char *)key,
	    (unsigned char *)argv[2], (unsigned char *)argv[1],
	    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1,
	    &st);
	if (d == NULL)
		return 3;
	for (h = msg; h <= body; h = p + 1) {
		for (p = strchr(h, '\n'); p < body && (p[1] == ' ' ||
		    p[1] == '\t'); p = strchr(p + 1, '\n'))
			;
		header(d, h, p + 1);
	}
	dkim_eoh(d);
	len = 0;
	for (p = body + 2; *p && len < sizeof(crlf) - 2; p++) {
		if (*p == '\n')
			crlf[len++] = '\r';
		crlf[len++] = *p;
	}
	if (dkim_body(d, (unsigned char *)crlf, len) != DKIM_STAT_OK ||
	    dkim_eom(d, NULL) != DKIM_STAT_OK ||
	    dkim_getsighdr(d, sig, sizeof(sig), strlen("DKIM-Signature: ")) !=
	    DKIM_STAT_OK)
		return 3;
	printf("DKIM-Signature: %s\n%s", sig, msg);
	dkim_free(d);
	dkim_close(lib);
	return 0;
}
