/*
 * fuzz_reply — the reply parser (lib/reply.c) on arbitrary
 * server bytes, split into lines as the client side reads them (LF, an
 * optional CR before it).  Besides memory errors, checks that whatever is
 * accepted is well-formed: a code in 200..559, an enhanced code of the
 * reply's class or none, and text that is printable, NUL-terminated and
 * within struct smtp_reply.  A violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct smtp_reply *r)
{
	size_t n = strnlen(r->text, sizeof(r->text));

	if (n == sizeof(r->text))
		abort();
	for (size_t i = 0; i < n; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
	if (r->code < 200 || r->code > 559)
		abort();
	if (r->enhanced[0] && (r->enhanced[0] != '0' + r->code / 100 ||
	    r->enhanced[1] != '.'))
		abort();
	if (strcmp(r->host, "smtp.test") != 0 || r->local)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct reply_parse rp;
	struct smtp_reply r;
	char err[128];
	size_t len;
	int rc = 1;

	while (p < end) {
		if (rc != 0)
			reply_begin(&rp, &r, "smtp.test");
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		rc = reply_line(&rp, p, len, NULL, NULL, err, sizeof(err));
		if (rc >= 0)
			check(&r);
		else if (strnlen(err, sizeof(err)) == 0)
			abort();
		p = nl ? nl + 1 : end;
	}
	return 0;
}
