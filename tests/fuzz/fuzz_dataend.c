/*
 * fuzz_dataend — the end-of-DATA scanner (relay/dataend.c) on arbitrary
 * bytes, fed in pieces whose sizes come from the first input byte (so
 * the terminator is split across pieces in every way).  Checks against
 * a plain reference: the end is reported exactly at the first
 * <CR><LF>.<CR><LF> (DATA's own <CR><LF> counting as the first), never
 * anywhere else; the content copied out is exactly what precedes the
 * final dot and nothing after the terminator is consumed; without an
 * end, everything but at most the held-back bytes is copied out; and
 * bare <LF> / <CR> are reported exactly when the content has one.  A
 * violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../relay/dataend.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Where the message ends in in[0..len): the length of the content (the
 * final dot's offset), or -1 without an end. */
static long
reference_end(const char *in, size_t len)
{
	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 0;
	for (size_t i = 0; i + 5 <= len; i++)
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			return (long)i + 2;
	return -1;
}

/* The bare <LF> and <CR> in content c[0..n), a CR at its very end not
 * counted when the input goes on with nothing known (open). */
static unsigned
reference_bare(const char *c, size_t n, int open)
{
	unsigned bare = 0;

	for (size_t i = 0; i < n; i++) {
		if (c[i] == '\n' && (i == 0 || c[i - 1] != '\r'))
			bare |= DATAEND_BARE_LF;
		if (c[i] == '\r' && (i + 1 < n ? c[i + 1] != '\n' : !open))
			bare |= DATAEND_BARE_CR;
	}
	return bare;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	char *content, out[64 + DATAEND_HOLD];
	struct dataend d;
	size_t len, off = 0, clen = 0, n, got, olen, step;
	unsigned seed;
	long end;

	if (size < 1)
		return 0;
	seed = data[0];
	in = (const char *)data + 1;
	len = size - 1;
	content = malloc(len + 1);
	dataend_init(&d);
	while (off < len && !d.done) {
		seed = seed * 1103515245u + 12345u;
		step = 1 + (seed >> 16) % 64;
		n = step < len - off ? step : len - off;
		got = dataend_scan(&d, in + off, n, out, &olen);
		if (got > n || olen > n + DATAEND_HOLD || (got < n && !d.done))
			abort();
		if (clen + olen > len)
			abort();
		memcpy(content + clen, out, olen);
		clen += olen;
		off += got;
	}
	end = reference_end(in, len);
	if (end >= 0) {
		/* done exactly at the first CRLF.CRLF: the content is what
		 * precedes its dot, and the bytes after it are left */
		if (!d.done || off != (size_t)end + 3 || clen != (size_t)end ||
		    memcmp(content, in, clen) != 0)
			abort();
		if (d.bare != reference_bare(in, clen, 0))
			abort();
	} else {
		if (d.done || off != len || clen > len ||
		    clen + DATAEND_HOLD < len || memcmp(content, in, clen) != 0)
			abort();
		/* the held-back tail (".", ".\r" or "\r") hides nothing */
		if (d.bare != reference_bare(in, len, 1))
			abort();
	}
	free(content);
	return 0;
}
