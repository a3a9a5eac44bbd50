/*
 * Unit tests for lib/oauth.c: provider endpoints and scopes, the token
 * file (atomic write, mode 0600, refused when others may read it), the
 * token endpoint's answer, the refresh margin and the state shown by
 * smarthostctl status/probe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "oauth.h"

static const struct {
	const char *provider, *tenant, *client, *token_url;
	const char *want_token, *want_device, *want_scope, *want_err;
} endpoints[] = {
	{ "microsoft", NULL, "cid", NULL,
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://outlook.office.com/SMTP.Send offline_access", NULL },
	{ "microsoft", "contoso.com", "cid", NULL,
	  "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token",
	  "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/"
	  "devicecode", "https://outlook.office.com/SMTP.Send offline_access",
	  NULL },
	{ "google", NULL, "cid", NULL, "https://oauth2.googleapis.com/token",
	  "", "https://mail.google.com/", NULL },
	{ "microsoft", NULL, "cid", "https://127.0.0.1:9/token",
	  "https://127.0.0.1:9/token",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://outlook.office.com/SMTP.Send offline_access", NULL },
	{ "custom", NULL, "cid", NULL, NULL, NULL, NULL,
	  "account a: oauth-token-url is not set (oauth-provider = custom)" },
	{ "google", NULL, NULL, NULL, NULL, NULL, NULL,
	  "account a: oauth-client-id is not set (the application "
	  "registered with google)" },
};

static void
test_endpoints(void **state)
{
	struct conf *c = conf_defaults();

	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		struct account *a = account_new("a");
		struct oauth_endpoints e;
		char err[256] = "";
		int rc;

		a->oauth_provider = xstrdup(endpoints[i].provider);
		if (endpoints[i].tenant)
			a->oauth_tenant = xstrdup(endpoints[i].tenant);
		if (endpoints[i].client)
			a->oauth_client_id = xstrdup(endpoints[i].client);
		if (endpoints[i].token_url)
			a->oauth_token_url = xstrdup(endpoints[i].token_url);
		rc = oauth_endpoints(c, a, &e, err, sizeof(err));
		if (endpoints[i].want_err) {
			assert_int_equal(rc, -1);
			assert_string_equal(err, endpoints[i].want_err);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(e.token_url,
			    endpoints[i].want_token);
			assert_string_equal(e.device_url,
			    endpoints[i].want_device);
			assert_string_equal(e.scope, endpoints[i].want_scope);
		}
		account_free(a);
	}
	conf_free(c);
}

static void
test_path(void **state)
{
	struct conf *c = conf_defaults();
	char err[256], *p;

	p = oauth_token_path(c, "boss@outlook.com", err, sizeof(err));
	assert_string_equal(p, "/var/lib/smarthost/oauth/boss@outlook.com.json");
	free(p);
	assert_null(oauth_token_path(c, "../etc/x", err, sizeof(err)));
	assert_string_equal(err, "account name \"../etc/x\" cannot name a "
	    "token file");
	assert_null(oauth_token_path(c, "a/b", err, sizeof(err)));
	conf_free(c);
}

static void
test_file(void **state)
{
	char dir[] = "/tmp/test_oauth.XXXXXX", path[128], err[256];
	struct oauth_token t = { 0 }, u;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/oauth/acct.json", dir);
	assert_int_equal(oauth_token_load(path, &u, err, sizeof(err)), 1);
	t.refresh_token = xstrdup("rt-1");
	t.access_token = xstrdup("at-1");
	t.expires_at = 2000;
	t.obtained_at = 1000;
	assert_int_equal(oauth_token_save(path, &t, (uid_t)-1, (gid_t)-1,
	    err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(err, sizeof(err), "%s/oauth", dir);
	assert_int_equal(stat(err, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(oauth_token_load(path, &u, err, sizeof(err)), 0);
	assert_string_equal(u.refresh_token, "rt-1");
	assert_string_equal(u.access_token, "at-1");
	assert_int_equal(u.expires_at, 2000);
	assert_int_equal(u.obtained_at, 1000);
	oauth_token_clear(&u);
	/* root rewriting it without an owner keeps the file's owner */
	if (geteuid() == 0) {
		assert_int_equal(oauth_token_save(path, &t, 65534, 65534, err,
		    sizeof(err)), 0);
		assert_int_equal(oauth_token_save(path, &t, (uid_t)-1,
		    (gid_t)-1, err, sizeof(err)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_uid, 65534);
	}
	/* others may read it: refused, and the message holds no token */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(oauth_token_load(path, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file of mode 0600 "
	    "(mode 0644): refused"));
	assert_null(strstr(err, "rt-1"));
	unlink(path);
	oauth_token_clear(&t);
	snprintf(path, sizeof(path), "%s/oauth", dir);
	rmdir(path);
	rmdir(dir);
}

/* A corrupted token file: the message says where, never what (jansson's
 * own text quotes the input near the error, here the refresh token). */
static void
test_corrupt_file(void **state)
{
	static const struct {
		const char *text, *want;
	} files[] = {
		{ "{\"refresh_token\": \"1//0gMARKER-rt\001tail\"}",
		  "line 1, column 33 (byte 33): invalid JSON syntax" },
		{ "{\"refresh_token\": \"1//0gMARKER-rt",
		  "line 1, column 33 (byte 33): unexpected end of input" },
		{ "{\"refresh_token\": \"1//0gMARKER-rt\",\n"
		  " \"refresh_token\": \"1//0gMARKER-2\"}",
		  "line 2, column 16 (byte 52): duplicate key" },
		{ "{\"access_token\": \"1//0gMARKER-at\"} 1//0gMARKER",
		  "line 1, column 36 (byte 36): text after the JSON value" },
		{ "[\"1//0gMARKER-rt\"]", "not a JSON object" },
	};
	char dir[] = "/tmp/test_oauth.XXXXXX", path[128], err[512], want[300];
	struct oauth_token u;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/acct.json", dir);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(fchmod(fileno(f), 0600), 0);
		fputs(files[i].text, f);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(oauth_token_load(path, &u, err, sizeof(err)),
		    -1);
		snprintf(want, sizeof(want), "%s: not a token file: %s", path,
		    files[i].want);
		assert_string_equal(err, want);
		assert_null(strstr(err, "MARKER"));
	}
	unlink(path);
	rmdir(dir);
}

static void
test_answer(void **state)
{
	struct oauth_token t = { .refresh_token = xstrdup("rt-old") };
	char err[256];
	json_t *o;

	/* no refresh token in the answer: the old one stays */
	o = json_loads("{\"access_token\":\"at-1\",\"expires_in\":3599}", 0,
	    NULL);
	assert_int_equal(oauth_token_from_json(o, 100, &t, err, sizeof(err)),
	    0);
	json_decref(o);
	assert_string_equal(t.refresh_token, "rt-old");
	assert_string_equal(t.access_token, "at-1");
	assert_int_equal(t.expires_at, 3699);
	assert_int_equal(oauth_token_margin(&t), OAUTH_REFRESH_AHEAD);
	/* rotated; a quoted expires_in; a short lifetime: half of it */
	o = json_loads("{\"access_token\":\"at-2\",\"expires_in\":\"120\","
	    "\"refresh_token\":\"rt-new\"}", 0, NULL);
	assert_int_equal(oauth_token_from_json(o, 100, &t, err, sizeof(err)),
	    0);
	json_decref(o);
	assert_string_equal(t.refresh_token, "rt-new");
	assert_int_equal(t.expires_at, 220);
	assert_int_equal(oauth_token_margin(&t), 60);
	o = json_loads("{\"token_type\":\"Bearer\"}", 0, NULL);
	assert_int_equal(oauth_token_from_json(o, 100, &t, err, sizeof(err)),
	    -1);
	json_decref(o);
	assert_string_equal(err, "the token endpoint's answer has no "
	    "access_token");
	o = json_loads("{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"AADSTS70000: revoked\\n\"}", 0, NULL);
	oauth_http_error(o, 400, err, sizeof(err));
	json_decref(o);
	assert_string_equal(err, "invalid_grant: AADSTS70000: revoked?");
	oauth_token_clear(&t);
}

static void
test_state(void **state)
{
	char dir[] = "/tmp/test_oauth.XXXXXX", path[128], err[256];
	struct conf *c = conf_defaults();
	struct oauth_token t = { 0 };
	struct oauth_state st;

	assert_non_null(mkdtemp(dir));
	free(c->state_dir);
	c->state_dir = xstrdup(dir);
	assert_int_equal(oauth_token_state(c, "a", &st, err, sizeof(err)), 0);
	assert_int_equal(st.present, 0);
	assert_int_equal(st.expired, 1);
	t.refresh_token = xstrdup("rt");
	t.access_token = xstrdup("at");
	t.obtained_at = time(NULL);
	t.expires_at = t.obtained_at + 3600;
	snprintf(path, sizeof(path), "%s/oauth/a.json", dir);
	assert_int_equal(oauth_token_save(path, &t, (uid_t)-1, (gid_t)-1,
	    err, sizeof(err)), 0);
	assert_int_equal(oauth_token_state(c, "a", &st, err, sizeof(err)), 0);
	assert_int_equal(st.present, 1);
	assert_int_equal(st.expired, 0);
	assert_int_equal(st.expires_at, t.expires_at);
	assert_string_equal(st.path, path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/oauth", dir);
	rmdir(path);
	rmdir(dir);
	oauth_token_clear(&t);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_corrupt_file),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
