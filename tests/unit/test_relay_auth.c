/*
 * Unit tests for lib/auth.c: mechanism choice and the exact AUTH lines
 * (base64 as OpenSSL encodes it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"

static const struct {
	const char *want[3];	/* account's list, NULL-terminated */
	const char *def;	/* preset default */
	const char *offered;
	const char *chosen;	/* NULL: none */
} choices[] = {
	{ { NULL }, NULL, "PLAIN LOGIN", "PLAIN" },
	{ { NULL }, "LOGIN", "PLAIN LOGIN XOAUTH2", "LOGIN" },
	{ { NULL }, "XOAUTH2", "LOGIN XOAUTH2", "XOAUTH2" },
	/* a token is never sent as a password, nor a password as a token */
	{ { NULL }, "XOAUTH2", "PLAIN LOGIN", NULL },
	{ { NULL }, "PLAIN", "XOAUTH2", NULL },
	{ { "xoauth2", NULL }, NULL, "LOGIN XOAUTH2", "XOAUTH2" },
	{ { "login", NULL }, NULL, "PLAIN LOGIN", "LOGIN" },
	{ { "plain", "login", NULL }, "LOGIN", "LOGIN", "LOGIN" },
	{ { "plain", NULL }, NULL, "LOGIN", NULL },
	{ { NULL }, NULL, "CRAM-MD5 XOAUTH2", NULL },
	{ { NULL }, NULL, "PLAINX LOGINY", NULL },
	{ { NULL }, NULL, "  login  ", "LOGIN" },
	{ { NULL }, NULL, "", NULL },
};

static void
test_choose(void **state)
{
	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		char *v[3];
		struct strlist want = { v, 0 };
		const struct auth_mech *m;

		for (; choices[i].want[want.n]; want.n++)
			v[want.n] = (char *)choices[i].want[want.n];
		m = auth_choose(&want, choices[i].def, choices[i].offered);
		if (choices[i].chosen == NULL)
			assert_null(m);
		else {
			assert_non_null(m);
			assert_string_equal(auth_mech_name(m),
			    choices[i].chosen);
		}
	}
}

static const struct auth_mech *
mech(const char *name)
{
	char *v[1] = { (char *)name };
	struct strlist want = { v, 1 };

	return auth_choose(&want, NULL, name);
}

static void
test_lines(void **state)
{
	char line[256], err[128];
	const struct auth_mech *plain = mech("PLAIN"), *login = mech("LOGIN");
	const struct auth_mech *xoauth2 = mech("XOAUTH2");

	/* base64("\0boss@163.com\0code-1234") */
	assert_int_equal(auth_line(plain, 0, "boss@163.com", "code-1234",
	    line, sizeof(line), err, sizeof(err)), 0);
	assert_string_equal(line,
	    "AUTH PLAIN AGJvc3NAMTYzLmNvbQBjb2RlLTEyMzQ=\r\n");
	assert_int_equal(auth_line(plain, 1, "boss@163.com", "code-1234",
	    line, sizeof(line), err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected challenge number 1 to AUTH "
	    "PLAIN");
	assert_int_equal(auth_line(login, 0, "a@b", "s", line, sizeof(line),
	    err, sizeof(err)), 0);
	assert_string_equal(line, "AUTH LOGIN\r\n");
	assert_int_equal(auth_line(login, 1, "a@b", "s", line, sizeof(line),
	    err, sizeof(err)), 0);
	assert_string_equal(line, "YUBi\r\n");
	assert_int_equal(auth_line(login, 2, "a@b", "pass word", line,
	    sizeof(line), err, sizeof(err)), 0);
	assert_string_equal(line, "cGFzcyB3b3Jk\r\n");
	assert_int_equal(auth_line(login, 3, "a@b", "s", line, sizeof(line),
	    err, sizeof(err)), -1);
	/* XOAUTH2: user=LOGIN ^A auth=Bearer TOKEN ^A^A, then an empty
	 * answer to the 334 that carries a refusal */
	assert_int_equal(auth_line(xoauth2, 0, "boss@outlook.com", "ya29.tok",
	    line, sizeof(line), err, sizeof(err)), 0);
	assert_string_equal(line, "AUTH XOAUTH2 dXNlcj1ib3NzQG91dGxvb2suY29t"
	    "AWF1dGg9QmVhcmVyIHlhMjkudG9rAQE=\r\n");
	assert_int_equal(auth_mech_token(xoauth2), 1);
	assert_int_equal(auth_mech_token(plain), 0);
	assert_int_equal(auth_line(xoauth2, 1, "boss@outlook.com", "ya29.tok",
	    line, sizeof(line), err, sizeof(err)), 0);
	assert_string_equal(line, "\r\n");
	assert_int_equal(auth_line(xoauth2, 2, "a@b", "t", line, sizeof(line),
	    err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected challenge number 2 to AUTH "
	    "XOAUTH2");
	/* a line that does not fit is refused, not cut */
	assert_int_equal(auth_line(plain, 0, "boss@163.com", "code-1234",
	    line, 20, err, sizeof(err)), -1);
	assert_string_equal(err, "AUTH PLAIN response too long");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
