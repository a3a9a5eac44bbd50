/*
 * auth — see auth.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "util.h"

#define AUTH_RAW_MAX	(AUTH_LINE_MAX / 4 * 3 - 32)	/* raw credentials */

/* Builds the raw (unencoded) client response for step; returns its
 * length, 0 for "no data" (the AUTH command without initial response),
 * -1 when the mechanism has nothing to say at that step. */
typedef int (*auth_respond_fn)(unsigned step, const char *login,
    const char *secret, unsigned char *out, size_t size);

struct auth_mech {
	const char	*name;
	auth_respond_fn	 respond;
	int		 token;		/* the secret is a bearer token */
};

/* RFC 4616: initial response authzid NUL authcid NUL passwd. */
static int
plain_respond(unsigned step, const char *login, const char *secret,
    unsigned char *out, size_t size)
{
	size_t l = strlen(login), s = strlen(secret);

	if (step != 0 || 2 + l + s > size)
		return -1;
	out[0] = '\0';
	memcpy(out + 1, login, l);
	out[1 + l] = '\0';
	memcpy(out + 2 + l, secret, s);
	return (int)(2 + l + s);
}

/* LOGIN: no initial response, then the user name, then the password,
 * whatever the (base64 "Username:", "Password:") challenges say. */
static int
login_respond(unsigned step, const char *login, const char *secret,
    unsigned char *out, size_t size)
{
	const char *v = step == 1 ? login : step == 2 ? secret : NULL;

	if (step == 0)
		return 0;
	if (v == NULL || strlen(v) > size)
		return -1;
	memcpy(out, v, strlen(v));
	return (int)strlen(v);
}

/* XOAUTH2 (Google's and Microsoft's SASL profile): the initial response
 * "user=LOGIN^Aauth=Bearer TOKEN^A^A".  A refused token is answered with a
 * 334 carrying a JSON error; the client then sends an empty line and reads
 * the final reply (535). */
static int
xoauth2_respond(unsigned step, const char *login, const char *secret,
    unsigned char *out, size_t size)
{
	int n;

	if (step == 1)
		return 0;
	if (step != 0)
		return -1;
	n = snprintf((char *)out, size, "user=%s\001auth=Bearer %s\001\001",
	    login, secret);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static const struct auth_mech mechs[] = {
	{ "PLAIN", plain_respond, 0 },
	{ "LOGIN", login_respond, 0 },
	{ "XOAUTH2", xoauth2_respond, 1 },
};

static const struct auth_mech *
mech_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(mechs[i].name, name) == 0)
			return &mechs[i];
	return NULL;
}

/* Is name a word of the offered list? */
static int
offered_has(const char *offered, const char *name)
{
	size_t n = strlen(name);
	const char *p = offered;

	while (p && *p) {
		p += strspn(p, " ");
		if (strncasecmp(p, name, n) == 0 && (p[n] == ' ' ||
		    p[n] == '\0'))
			return 1;
		p = strchr(p, ' ');
	}
	return 0;
}

static const struct auth_mech *
usable(const char *name, const char *offered)
{
	const struct auth_mech *m;

	if (name == NULL || (m = mech_by_name(name)) == NULL)
		return NULL;
	return offered_has(offered, m->name) ? m : NULL;
}

/* Without a list of its own, an account takes the preset's default and
 * then any other mechanism of the same kind: a bearer token is never sent
 * as a password, nor a password as a token. */
const struct auth_mech *
auth_choose(const struct strlist *want, const char *preset_default,
    const char *offered)
{
	const struct auth_mech *m, *def;
	int token;

	if (offered == NULL)
		return NULL;
	if (want && want->n > 0) {
		for (size_t i = 0; i < want->n; i++)
			if ((m = usable(want->v[i], offered)) != NULL)
				return m;
		return NULL;
	}
	def = preset_default ? mech_by_name(preset_default) : NULL;
	token = def ? def->token : 0;
	if ((m = usable(preset_default, offered)) != NULL)
		return m;
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].token == token &&
		    (m = usable(mechs[i].name, offered)) != NULL)
			return m;
	return NULL;
}

const char *
auth_mech_name(const struct auth_mech *m)
{
	return m->name;
}

int
auth_mech_token(const struct auth_mech *m)
{
	return m->token;
}

const char *
auth_supported(void)
{
	return "PLAIN LOGIN XOAUTH2";
}

int
auth_line(const struct auth_mech *m, unsigned step, const char *login,
    const char *secret, char *line, size_t size, char *err, size_t errsize)
{
	unsigned char raw[AUTH_RAW_MAX];
	size_t pre, need;
	int n;

	n = m->respond(step, login, secret ? secret : "", raw, sizeof(raw));
	if (n < 0) {
		OPENSSL_cleanse(raw, sizeof(raw));
		if (step == 0)
			snprintf(err, errsize, "AUTH %s response too long",
			    m->name);
		else
			snprintf(err, errsize, "unexpected challenge number %u "
			    "to AUTH %s", step, m->name);
		return -1;
	}
	pre = step == 0 ? strlen("AUTH ") + strlen(m->name) +
	    (n > 0 ? 1 : 0) : 0;
	need = pre + 4 * (((size_t)n + 2) / 3) + 3;
	if (need > size) {
		OPENSSL_cleanse(raw, sizeof(raw));
		snprintf(err, errsize, "AUTH %s response too long", m->name);
		return -1;
	}
	if (step == 0)
		snprintf(line, size, "AUTH %s%s", m->name, n > 0 ? " " : "");
	n = EVP_EncodeBlock((unsigned char *)line + pre, raw, n);
	OPENSSL_cleanse(raw, sizeof(raw));
	memcpy(line + pre + (size_t)n, "\r\n", 3);
	return 0;
}
