/*
 * Unit tests for relay/dataend.c, the end-of-DATA scanner: only
 * <CR><LF>.<CR><LF> ends a message (never the smuggling variants
 * <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>, <CR>.<CR>, <CR><LF>.<CR>),
 * the content copied out is what precedes the final dot, bytes after
 * the terminator are not consumed, bare <LF> and <CR> are reported,
 * and the answer is the same however the input is cut into pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../relay/dataend.c"

struct result {
	int	 done;
	size_t	 consumed;
	unsigned bare;
	char	 content[256];
	size_t	 clen;
};

/* Feed in[0..len) in pieces of at most step bytes (0: two pieces cut
 * at cut). */
static void
feed(const char *in, size_t len, size_t step, size_t cut, struct result *r)
{
	struct dataend d;
	char out[300];
	size_t off = 0, n, got, olen;

	memset(r, 0, sizeof(*r));
	dataend_init(&d);
	while (off < len && !d.done) {
		n = step ? step : off < cut ? cut - off : len - off;
		if (n > len - off)
			n = len - off;
		got = dataend_scan(&d, in + off, n, out, &olen);
		assert_true(got <= n);
		assert_true(olen <= n + DATAEND_HOLD);
		assert_true(r->clen + olen <= sizeof(r->content));
		memcpy(r->content + r->clen, out, olen);
		r->clen += olen;
		off += got;
		if (got < n)
			assert_true(d.done);
	}
	r->done = d.done;
	r->consumed = off;
	r->bare = d.bare;
}

static const struct {
	const char	*in;
	int		 done;
	const char	*after;		/* what is left unconsumed */
	const char	*content;	/* copied out */
	unsigned	 bare;
} cases[] = {
	{ ".\r\n", 1, "", "", 0 },
	{ "a\r\n.\r\nMAIL", 1, "MAIL", "a\r\n", 0 },
	{ "a\r\nb\r\n.\r\n.\r\n", 1, ".\r\n", "a\r\nb\r\n", 0 },
	{ "..\r\n.x\r\n. \r\n.\r\n", 1, "", "..\r\n.x\r\n. \r\n", 0 },
	{ "\r\n.\r\n", 1, "", "\r\n", 0 },
	/* the smuggling variants end nothing */
	{ "a\n.\nMAIL", 0, "", "a\n.\nMAIL", DATAEND_BARE_LF },
	{ "a\n.\r\nMAIL", 0, "", "a\n.\r\nMAIL", DATAEND_BARE_LF },
	{ "a\r\n.\nMAIL", 0, "", "a\r\n.\nMAIL", DATAEND_BARE_LF },
	{ "a\r.\rMAIL", 0, "", "a\r.\rMAIL", DATAEND_BARE_CR },
	{ "a\r\n.\rMAIL", 0, "", "a\r\n.\rMAIL", DATAEND_BARE_CR },
	{ ".\n", 0, "", ".\n", DATAEND_BARE_LF },
	{ "\n.\r\n", 0, "", "\n.\r\n", DATAEND_BARE_LF },
	/* ... until the real end, which still counts */
	{ "a\n.\nb\r\n.\r\nQUIT\r\n", 1, "QUIT\r\n", "a\n.\nb\r\n",
	    DATAEND_BARE_LF },
	{ "a\r.\r\r\n.\r\n", 1, "", "a\r.\r\r\n", DATAEND_BARE_CR },
	{ "a\r\r\n.\r\n", 1, "", "a\r\r\n", DATAEND_BARE_CR },
	{ "a\n\r.\r\n.\r\n", 1, "", "a\n\r.\r\n",
	    DATAEND_BARE_LF | DATAEND_BARE_CR },
	/* held back at the end of the input: the dot, a CR */
	{ "a\r\n.", 0, "", "a\r\n", 0 },
	{ "a\r\n.\r", 0, "", "a\r\n", 0 },
	{ "a\r", 0, "", "a", 0 },
	{ "a\r\n..", 0, "", "a\r\n..", 0 },
};

static void
check_case(size_t i, const struct result *r, const char *how)
{
	size_t len = strlen(cases[i].in);

	if (r->done != cases[i].done ||
	    r->consumed != len - strlen(cases[i].after) ||
	    r->bare != cases[i].bare ||
	    r->clen != strlen(cases[i].content) ||
	    memcmp(r->content, cases[i].content, r->clen) != 0)
		fail_msg("case %zu (%s): done %d consumed %zu bare %u "
		    "content %zu bytes", i, how, r->done, r->consumed,
		    r->bare, r->clen);
}

static void
test_cases(void **state)
{
	struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);

		feed(cases[i].in, len, len, 0, &r);
		check_case(i, &r, "whole");
		feed(cases[i].in, len, 1, 0, &r);
		check_case(i, &r, "bytewise");
		for (size_t cut = 1; cut < len; cut++) {
			feed(cases[i].in, len, 0, cut, &r);
			check_case(i, &r, "cut");
		}
	}
}

/* After the end nothing more is consumed or copied out. */
static void
test_done_is_final(void **state)
{
	struct dataend d;
	char out[16];
	size_t olen;

	dataend_init(&d);
	assert_int_equal(dataend_scan(&d, "x\r\n.\r\n", 6, out, &olen), 6);
	assert_true(d.done);
	assert_int_equal(olen, 3);
	assert_int_equal(dataend_scan(&d, "MAIL\r\n", 6, out, &olen), 0);
	assert_int_equal(olen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_done_is_final),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
