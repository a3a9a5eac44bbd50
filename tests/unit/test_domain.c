/*
 * Unit tests for lib/domain.c and lib/diag.c: normalisation table,
 * subdomain tests and diagnostic formatting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "domain.h"

static const struct {
	const char *in, *out, *err;
} cases[] = {
	{ "Example.COM", "example.com", NULL },
	{ "example.com.", "example.com", NULL },
	{ "例子.测试", "xn--fsqu00a.xn--0zwm56d", NULL },
	{ "BÜCHER.de", "xn--bcher-kva.de", NULL },
	{ "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d", NULL },
	{ "[192.0.2.1]", "[192.0.2.1]", NULL },
	{ "[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]", NULL },
	{ "", NULL, "empty domain" },
	{ "a..b", NULL, "empty label in domain \"a..b\"" },
	{ "-a.b", NULL, "label starts or ends with '-' in domain \"-a.b\"" },
	{ "a_b.c", NULL, "invalid character '_' in domain \"a_b.c\"" },
	{ "[192.0.2.1", NULL, "malformed address literal \"[192.0.2.1\"" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	  NULL, "label longer than 63 characters in domain "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"" },
};

static void
test_normalize(void **state)
{
	char out[DOMAIN_MAX + 1], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = domain_normalize(cases[i].in, out, sizeof(out),
		    err, sizeof(err));
		if (cases[i].out) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, cases[i].err);
		}
	}
}

static void
test_too_long(void **state)
{
	char in[400], out[DOMAIN_MAX + 1], err[256];

	for (size_t i = 0; i < sizeof(in) - 1; i++)
		in[i] = (i % 10 == 9) ? '.' : 'a';
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(domain_normalize(in, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_string_equal(err, "domain longer than 253 characters");
}

static void
test_within(void **state)
{
	assert_true(domain_within("a.example.com", "example.com"));
	assert_true(domain_within("example.com", "example.com"));
	assert_false(domain_within("badexample.com", "example.com"));
	assert_false(domain_within("com", "example.com"));
	assert_string_equal(domain_parent("a.b.c"), "b.c");
	assert_null(domain_parent("c"));
}

static void
test_diag(void **state)
{
	struct diag d;
	char buf[256];

	diag_init(&d);
	diag_error(&d, "relay.map", 3, "unknown account \"%s\"", "x");
	diag_warning(&d, "secrets", 0, "no code for %s", "y");
	diag_error(&d, NULL, 0, "plain");
	assert_int_equal(diag_errors(&d), 2);
	assert_string_equal(diag_format(&d.v[0], buf, sizeof(buf)),
	    "relay.map:3: unknown account \"x\"");
	assert_string_equal(diag_format(&d.v[1], buf, sizeof(buf)),
	    "secrets: warning: no code for y");
	assert_string_equal(diag_format(&d.v[2], buf, sizeof(buf)), "plain");
	diag_free(&d);
	assert_int_equal(diag_errors(&d), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_diag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
