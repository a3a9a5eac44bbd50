/*
 * Unit tests for lib/oauth_seal.c (a token set sealed for other relays
 * with AES-256-GCM under an HKDF-SHA256 key) and redistoken_safe() (when
 * token sets may go to a Redis at all): a round trip gives the set back
 * and holds no token in clear; another password, account or key name, a
 * changed byte anywhere (nonce, ciphertext, tag), a cut or garbage text
 * all open to nothing; tokens are shared only with a password and over
 * rediss:// or to a loopback address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "oauth.h"
#include "redistoken.h"
#include "util.h"

#define AAD	"smarthost:oauth:ms"

static void
sample(struct oauth_token *t)
{
	t->refresh_token = xstrdup("rt-0123456789abcdefghijklmnopqrstuvwxyz");
	t->access_token = xstrdup("at-ABCDEFGHIJKLMNOPQRSTUVWXYZ9876543210");
	t->expires_at = 1790000000;
	t->obtained_at = 1789996400;
}

static void
test_round_trip(void **state)
{
	struct oauth_token t = { 0 }, u = { 0 };
	char *s1, *s2;

	sample(&t);
	s1 = oauth_seal(&t, "redis-password", "ms", AAD);
	s2 = oauth_seal(&t, "redis-password", "ms", AAD);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_int_equal(0, strncmp(s1, "v1:", 3));
	assert_string_not_equal(s1, s2);	/* a new nonce each time */
	assert_null(strstr(s1, "rt-0123"));
	assert_null(strstr(s1, "at-ABCD"));
	assert_null(strstr(s1, "refresh_token"));
	assert_int_equal(0, oauth_unseal(s1, "redis-password", "ms", AAD, &u));
	assert_string_equal(t.refresh_token, u.refresh_token);
	assert_string_equal(t.access_token, u.access_token);
	assert_int_equal(t.expires_at, u.expires_at);
	assert_int_equal(t.obtained_at, u.obtained_at);
	oauth_token_clear(&u);
	/* the account name's case does not matter (as for the key names) */
	assert_int_equal(0, oauth_unseal(s2, "redis-password", "MS", AAD, &u));
	assert_string_equal(t.access_token, u.access_token);
	oauth_token_clear(&u);
	oauth_token_clear(&t);
	free(s1);
	free(s2);
}

static void
test_other_key(void **state)
{
	struct oauth_token t = { 0 }, u = { 0 };
	char *s;

	sample(&t);
	s = oauth_seal(&t, "redis-password", "ms", AAD);
	assert_non_null(s);
	assert_int_equal(-1, oauth_unseal(s, "other-password", "ms", AAD, &u));
	assert_null(u.refresh_token);
	assert_null(u.access_token);
	assert_int_equal(-1, oauth_unseal(s, "redis-password", "gm", AAD, &u));
	assert_int_equal(-1, oauth_unseal(s, "redis-password", "ms",
	    "smarthost:oauth:gm", &u));
	assert_int_equal(-1, oauth_unseal(s, "", "ms", AAD, &u));
	assert_int_equal(-1, oauth_unseal(s, NULL, "ms", AAD, &u));
	assert_null(u.access_token);
	assert_null(oauth_seal(&t, "", "ms", AAD));
	assert_null(oauth_seal(&t, NULL, "ms", AAD));
	oauth_token_clear(&t);
	free(s);
}

/* Every byte of nonce, ciphertext and tag changed in turn. */
static void
test_tampered(void **state)
{
	struct oauth_token t = { 0 }, u = { 0 };
	unsigned char raw[4096];
	char *s, *b64;
	size_t len;
	int n;

	sample(&t);
	s = oauth_seal(&t, "redis-password", "ms", AAD);
	assert_non_null(s);
	len = strlen(s + 3);
	n = EVP_DecodeBlock(raw, (unsigned char *)s + 3, (int)len);
	assert_true(n > 28);
	n -= (s[3 + len - 1] == '=') + (s[3 + len - 2] == '=');
	b64 = xmalloc(len + 8);
	for (int i = 0; i < n; i++) {
		raw[i] ^= 0x01;
		memcpy(b64, "v1:", 3);
		EVP_EncodeBlock((unsigned char *)b64 + 3, raw, n);
		assert_int_equal(-1, oauth_unseal(b64, "redis-password", "ms",
		    AAD, &u));
		assert_null(u.access_token);
		raw[i] ^= 0x01;
	}
	memcpy(b64, "v1:", 3);	/* unchanged again: it opens */
	EVP_EncodeBlock((unsigned char *)b64 + 3, raw, n);
	assert_int_equal(0, oauth_unseal(b64, "redis-password", "ms", AAD,
	    &u));
	oauth_token_clear(&u);
	/* cut short, by a whole base64 group or to nothing */
	s[strlen(s) - 4] = '\0';
	assert_int_equal(-1, oauth_unseal(s, "redis-password", "ms", AAD, &u));
	assert_int_equal(-1, oauth_unseal("v1:", "redis-password", "ms", AAD,
	    &u));
	assert_int_equal(-1, oauth_unseal("v1:!!!!", "redis-password", "ms",
	    AAD, &u));
	assert_int_equal(-1, oauth_unseal("v2:AAAA", "redis-password", "ms",
	    AAD, &u));
	assert_int_equal(-1, oauth_unseal("", "redis-password", "ms", AAD,
	    &u));
	assert_null(u.access_token);
	free(b64);
	free(s);
	oauth_token_clear(&t);
}

static const struct {
	const char *url, *password;
	int safe;
	const char *why;
} safety[] = {
	{ "redis://127.0.0.1:6379", "pw", 1, "" },
	{ "redis://127.45.6.7:6379/2", "pw", 1, "" },
	{ "redis://localhost:6379", "pw", 1, "" },
	{ "redis://LocalHost:6379", "pw", 1, "" },
	{ "rediss://10.0.0.5:6379", "pw", 1, "" },
	{ "redis://10.0.0.5:6379", "pw", 0,
	  "plain redis:// to 10.0.0.5, not a loopback address" },
	{ "redis://128.0.0.1:6379", "pw", 0,
	  "plain redis:// to 128.0.0.1, not a loopback address" },
	{ "redis://localhost.example:6379", "pw", 0,
	  "plain redis:// to localhost.example, not a loopback address" },
	{ "redis://127.0.0.1:6379", NULL, 0,
	  "no Redis password in the secrets file" },
	{ "redis://127.0.0.1:6379", "", 0,
	  "no Redis password in the secrets file" },
	{ "rediss://10.0.0.5:6379", NULL, 0,
	  "no Redis password in the secrets file" },
};

static void
test_safe(void **state)
{
	for (size_t i = 0; i < sizeof(safety) / sizeof(safety[0]); i++) {
		char why[300] = "";

		assert_int_equal(safety[i].safe, redistoken_safe(safety[i].url,
		    safety[i].password, why, sizeof(why)));
		assert_string_equal(safety[i].why, why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
