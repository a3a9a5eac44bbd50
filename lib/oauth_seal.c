/*
 * oauth_seal — a token set sealed for the other relays (see oauth.h).
 *
 * "v1:" then base64 of nonce (12 random bytes), the AES-256-GCM
 * ciphertext of the token file's JSON text, and the tag (16 bytes).  The
 * key is HKDF-SHA256 (OpenSSL's EVP_KDF "HKDF") of the secret, with a
 * fixed salt and the lowercased account name as info, so that each
 * account has its own key; the caller's aad (the Redis key name) is
 * authenticated with it, so that a value moved to another key does not
 * open.  Every buffer that held the key or the plain text is wiped.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "oauth.h"
#include "util.h"

#define SEAL_PREFIX	"v1:"
#define SEAL_SALT	"smarthost oauth token set"
#define SEAL_KEY	32
#define SEAL_NONCE	12
#define SEAL_TAG	16
#define SEAL_MAX	(64 * 1024)	/* bytes of sealed text accepted */

/* The account's key from secret: 0, or -1. */
static int
derive(const char *secret, const char *account, unsigned char *key)
{
	char info[256];
	size_t n = 0;
	OSSL_PARAM params[5], *p = params;
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx = NULL;
	int rc = -1;

	if (secret == NULL || *secret == '\0' || strlen(account) >=
	    sizeof(info))
		return -1;
	for (; account[n]; n++)
		info[n] = (char)tolower((unsigned char)account[n]);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)secret, strlen(secret));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)SEAL_SALT, sizeof(SEAL_SALT) - 1);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
	    n);
	*p = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) != NULL &&
	    (kctx = EVP_KDF_CTX_new(kdf)) != NULL &&
	    EVP_KDF_derive(kctx, key, SEAL_KEY, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* AES-256-GCM over in (len bytes) into out, with aad; enc 1 seals (tag
 * written), 0 opens (tag checked).  0, or -1. */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const char *aad, const unsigned char *in, int len, unsigned char *out,
    unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok;

	ok = c != NULL &&
	    EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE,
	    NULL) && EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) &&
	    EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) &&
	    EVP_CipherUpdate(c, out, &n, in, len) && n == len &&
	    (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
	    tag)) && EVP_CipherFinal_ex(c, out + n, &n) == 1 &&
	    (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG,
	    tag));
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

char *
oauth_seal(const struct oauth_token *t, const char *secret,
    const char *account, const char *aad)
{
	unsigned char key[SEAL_KEY], *raw = NULL;
	char *text, *out = NULL;
	size_t len, rawlen;

	if (derive(secret, account, key) == -1)
		return NULL;
	text = oauth_token_json(t);
	len = strlen(text);
	rawlen = SEAL_NONCE + len + SEAL_TAG;
	if (len < SEAL_MAX) {
		raw = xmalloc(rawlen);
		if (RAND_bytes(raw, SEAL_NONCE) == 1 && gcm(1, key, raw, aad,
		    (unsigned char *)text, (int)len, raw + SEAL_NONCE,
		    raw + SEAL_NONCE + len) == 0) {
			out = xmalloc(sizeof(SEAL_PREFIX) + 4 *
			    ((rawlen + 2) / 3));
			memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
			EVP_EncodeBlock((unsigned char *)out +
			    sizeof(SEAL_PREFIX) - 1, raw, (int)rawlen);
		}
		free(raw);
	}
	wipe(key, sizeof(key));
	free_secret(text);
	return out;
}

/* The bytes of the base64 text b64 (len characters) into an allocated
 * buffer, *n of them; NULL if it is not base64. */
static unsigned char *
unbase64(const char *b64, size_t len, size_t *n)
{
	unsigned char *raw;
	int got;

	if (len == 0 || len % 4 != 0 || len > SEAL_MAX)
		return NULL;
	raw = xmalloc(len / 4 * 3 + 1);
	if ((got = EVP_DecodeBlock(raw, (const unsigned char *)b64,
	    (int)len)) < 0) {
		free(raw);
		return NULL;
	}
	*n = (size_t)got - (b64[len - 1] == '=') - (b64[len - 2] == '=');
	return raw;
}

int
oauth_unseal(const char *sealed, const char *secret, const char *account,
    const char *aad, struct oauth_token *t)
{
	unsigned char key[SEAL_KEY], *raw, *text;
	size_t n, len;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (strncmp(sealed, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0)
		return -1;
	sealed += sizeof(SEAL_PREFIX) - 1;
	if ((raw = unbase64(sealed, strlen(sealed), &n)) == NULL)
		return -1;
	if (n <= SEAL_NONCE + SEAL_TAG || derive(secret, account, key) == -1) {
		free(raw);
		return -1;
	}
	len = n - SEAL_NONCE - SEAL_TAG;
	text = xmalloc(len);
	if (gcm(0, key, raw, aad, raw + SEAL_NONCE, (int)len, text,
	    raw + SEAL_NONCE + len) == 0)
		rc = oauth_token_parse((const char *)text, len, t);
	if (rc == 0 && (t->refresh_token == NULL || t->access_token == NULL)) {
		oauth_token_clear(t);
		rc = -1;
	}
	wipe(text, len);
	wipe(key, sizeof(key));
	free(text);
	free(raw);
	return rc;
}
