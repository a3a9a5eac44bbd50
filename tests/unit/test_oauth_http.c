/*
 * Unit tests for lib/oauth_http.c's answer buffer (compiled in directly
 * for its static functions): libcurl's pieces are collected in order
 * across every growth of the buffer, NUL-terminated, and an answer over
 * ANSWER_MAX is refused.  That each block left behind is wiped before it
 * is freed is not observable from here (the memory is gone): answer_grow()
 * and answer_free() are the code to read for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/oauth_http.c"

/* Feeds n bytes of a known pattern in pieces of len; returns what collect
 * took in all. */
static size_t
feed(struct answer *a, size_t n, size_t len, size_t *off)
{
	char piece[5000];
	size_t took = 0, got;

	while (took < n) {
		size_t l = n - took < len ? n - took : len;

		for (size_t i = 0; i < l; i++)
			piece[i] = (char)('a' + (*off + i) % 26);
		got = collect(piece, 1, l, a);
		if (got != l)
			return took + got;
		took += l;
		*off += l;
	}
	return took;
}

static void
test_growth_keeps_content(void **state)
{
	static const size_t sizes[] = { 1, 7, 1000, 1023, 4096, 4999 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct answer a = { 0 };
		size_t off = 0, caps = 0, last_cap = 0;

		/* well past several doublings of the first 1024 bytes */
		while (a.len < 100000) {
			assert_int_equal(feed(&a, sizes[s], sizes[s], &off),
			    sizes[s]);
			if (a.cap != last_cap) {
				caps++;
				last_cap = a.cap;
			}
			assert_true(a.cap > a.len);
			assert_int_equal(a.buf[a.len], '\0');
		}
		assert_true(caps >= 5);
		assert_int_equal(a.len, off);
		for (size_t i = 0; i < a.len; i++)
			if (a.buf[i] != (char)('a' + i % 26))
				fail_msg("piece size %zu: byte %zu is %c", sizes[s],
				    i, a.buf[i]);
		answer_free(&a);
		assert_null(a.buf);
		assert_int_equal(a.len, 0);
		assert_int_equal(a.cap, 0);
	}
}

static void
test_too_long(void **state)
{
	struct answer a = { 0 };
	size_t off = 0;

	assert_int_equal(feed(&a, ANSWER_MAX, 4096, &off), ANSWER_MAX);
	assert_int_equal(a.too_long, 0);
	assert_int_equal(a.len, ANSWER_MAX);
	assert_true(a.cap <= ANSWER_MAX + 1);
	assert_int_equal(collect("x", 1, 1, &a), 0);
	assert_int_equal(a.too_long, 1);
	assert_int_equal(a.len, ANSWER_MAX);
	answer_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth_keeps_content),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
