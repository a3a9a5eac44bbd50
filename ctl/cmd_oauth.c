/*
 * oauth — "smarthostctl oauth ACCOUNT [--device | --browser] [--port N]
 * [--timeout SECONDS]": the administrator authorizes an xoauth2 account
 * once; the refresh token goes to the relay's state directory
 * (STATE-DIR/oauth/ACCOUNT.json, mode 0600, owned by the service user), never
 * to the secrets file and never to the terminal.  Run as root, it
 * switches to the service user before it writes there (no symbolic link
 * planted under state-dir can make root write or chown elsewhere).
 *
 * The device authorization grant (RFC 8628) where the account has a device
 * endpoint (Microsoft): print where to go and the user code, then poll the
 * token endpoint every `interval` seconds (5 more after each slow_down)
 * until the grant, a refusal or the code's expiry.  Otherwise, or with
 * --browser, the authorization-code grant with PKCE and a redirect to a
 * listener on 127.0.0.1 (authcode.c; Google).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "authcode.h"
#include "ctl.h"
#include "oauth.h"
#include "safedir.h"
#include "util.h"

#define DEVICE_WAIT_MAX	1800	/* seconds, whatever expires_in says */

struct oauth_opts {
	int		 device, browser;
	unsigned	 port, timeout;
};

static int
parse_opts(const struct ctl *c, int argc, char **argv, struct oauth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = 300;
	for (int i = 2; i < argc; i++) {
		if (ctl_flag(argv[i], "--device"))
			o->device = 1;
		else if (ctl_flag(argv[i], "--browser"))
			o->browser = 1;
		else if (ctl_flag(argv[i], "--port") && i + 1 < argc)
			o->port = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (ctl_flag(argv[i], "--timeout") && i + 1 < argc)
			o->timeout = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			return ctl_usage(c, "oauth");
	}
	if ((o->device && o->browser) || o->port > 65535 || o->timeout == 0)
		return ctl_usage(c, "oauth");
	return EX_OK;
}

static long
post(const struct oauth_endpoints *e, const char *url, char *form,
    json_t **out, char *err, size_t errsize)
{
	long status = oauth_http_post(url, e->ca_file, form, out, err,
	    errsize);

	free_secret(form);
	return status;
}

static char *
client_form(const struct oauth_endpoints *e, char *form)
{
	form = oauth_form_add(form, "client_id", e->client_id);
	if (e->client_secret)
		form = oauth_form_add(form, "client_secret", e->client_secret);
	return form;
}

/* One poll: 1 granted (tok filled), 0 pending, -1 refused or failed. */
static int
device_poll(const struct oauth_endpoints *e, const char *device_code,
    unsigned *interval, struct oauth_token *tok, char *err, size_t errsize)
{
	char *form = NULL;
	const char *what;
	json_t *o;
	long status;
	int rc = -1;

	form = oauth_form_add(form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	form = oauth_form_add(form, "device_code", device_code);
	form = client_form(e, form);
	if ((status = post(e, e->token_url, form, &o, err, errsize)) == -1)
		return -1;
	what = json_string_value(json_object_get(o, "error"));
	if (status == 200)
		rc = oauth_token_from_json(o, time(NULL), tok, err, errsize) ==
		    0 ? 1 : -1;
	else if (what && strcmp(what, "authorization_pending") == 0)
		rc = 0;
	else if (what && strcmp(what, "slow_down") == 0) {
		*interval += 5;
		rc = 0;
	} else
		oauth_http_error(o, status, err, errsize);
	json_decref(o);
	return rc;
}

static void
print_device(const char *account, json_t *o)
{
	const char *uri = json_string_value(json_object_get(o,
	    "verification_uri"));
	const char *code = json_string_value(json_object_get(o, "user_code"));
	char puri[512], pcode[64];

	if (uri == NULL)	/* older Microsoft endpoints */
		uri = json_string_value(json_object_get(o, "verification_url"));
	str_printable(puri, sizeof(puri), uri ? uri : "?",
	    uri ? strlen(uri) : 1);
	str_printable(pcode, sizeof(pcode), code ? code : "?",
	    code ? strlen(code) : 1);
	printf("To authorize account %s, open\n\n    %s\n\nin any browser, "
	    "enter the code\n\n    %s\n\nand sign in as the account.  "
	    "Waiting...\n", account, puri, pcode);
	fflush(stdout);
}

static int
device_flow(const struct account *a, const struct oauth_endpoints *e,
    struct oauth_token *tok, char *err, size_t errsize)
{
	char *form = NULL, *device_code;
	json_t *o;
	time_t deadline;
	unsigned interval;
	long status, in;
	int rc = 0;

	form = client_form(e, form);
	form = oauth_form_add(form, "scope", e->scope);
	if ((status = post(e, e->device_url, form, &o, err, errsize)) == -1)
		return -1;
	if (status != 200 || !json_is_string(json_object_get(o,
	    "device_code"))) {
		oauth_http_error(o, status, err, errsize);
		json_decref(o);
		return -1;
	}
	device_code = xstrdup(json_string_value(json_object_get(o,
	    "device_code")));
	interval = (unsigned)json_integer_value(json_object_get(o, "interval"));
	in = (long)json_integer_value(json_object_get(o, "expires_in"));
	print_device(a->name, o);
	json_decref(o);
	if (interval == 0)
		interval = 5;
	deadline = time(NULL) + (in > 0 && in < DEVICE_WAIT_MAX ? in :
	    DEVICE_WAIT_MAX);
	while (rc == 0 && time(NULL) + (time_t)interval <= deadline) {
		sleep(interval);
		rc = device_poll(e, device_code, &interval, tok, err, errsize);
	}
	if (rc == 0)
		snprintf(err, errsize, "the code expired before the sign-in "
		    "was completed");
	free_secret(device_code);
	return rc == 1 ? 0 : -1;
}

/* Run as root: state-dir is made (0750) or checked and given to the
 * service user, then this process becomes that user for good, so that
 * nothing under state-dir is written with root's rights. */
static int
become_service_user(const struct conf *c, char *err, size_t errsize)
{
	struct passwd *pw;
	int fd;

	if (geteuid() != 0 || c->user == NULL || *c->user == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		snprintf(err, errsize, "user %s (the service user) does not "
		    "exist", c->user);
		return -1;
	}
	if ((fd = safedir_open(AT_FDCWD, c->state_dir, NULL, 0750, pw->pw_uid,
	    pw->pw_gid, SAFEDIR_CREATE | SAFEDIR_GIVE, err, errsize)) == -1)
		return -1;
	close(fd);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errsize, "cannot switch to user %s: %s",
		    c->user, strerror(errno));
		return -1;
	}
	return 0;
}

/* As the service user when run as root (above), so that the relay can
 * rewrite it after a rotation. */
static int
store(const struct config *cfg, const struct account *a,
    const struct oauth_token *tok, char *path_out, size_t size, char *err,
    size_t errsize)
{
	char *path;
	int rc;

	if ((path = oauth_token_path(cfg->conf, a->name, err, errsize)) ==
	    NULL)
		return -1;
	xstrlcpy(path_out, path, size);
	rc = become_service_user(cfg->conf, err, errsize);
	if (rc == 0)
		rc = oauth_token_save(path, tok, (uid_t)-1, (gid_t)-1, err,
		    errsize);
	free(path);
	return rc;
}

static int
run(const struct ctl *c, const struct config *cfg, const struct account *a,
    const struct oauth_opts *o)
{
	struct oauth_endpoints e;
	struct oauth_token tok = { 0 };
	char err[1024], path[1024];
	int rc;

	if (oauth_endpoints(cfg->conf, a, &e, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", c->progname, err);
		return EX_CONFIG;
	}
	if (o->device && e.device_url[0] == '\0') {
		fprintf(stderr, "%s: account %s: no device authorization "
		    "endpoint (oauth-device-url)\n", c->progname, a->name);
		return EX_CONFIG;
	}
	if (!o->browser && e.device_url[0])
		rc = device_flow(a, &e, &tok, err, sizeof(err));
	else
		rc = authcode_run(a, &e, o->port, o->timeout, &tok, err,
		    sizeof(err));
	if (rc == 0 && tok.refresh_token == NULL) {
		snprintf(err, sizeof(err), "the provider granted no refresh "
		    "token (is offline access in the scope?)");
		rc = -1;
	}
	if (rc == 0)
		rc = store(cfg, a, &tok, path, sizeof(path), err, sizeof(err));
	oauth_token_clear(&tok);
	if (rc == -1) {
		fprintf(stderr, "%s: account %s: %s\n", c->progname, a->name,
		    err);
		return EX_UNAVAILABLE;
	}
	printf("account %s: authorized; token stored in %s (mode 0600)\n",
	    a->name, path);
	return EX_OK;
}

int
cmd_oauth(const struct ctl *c, int argc, char **argv)
{
	struct oauth_opts o;
	struct config *cfg;
	struct account *a;
	int ex;

	if (argc < 2 || argv[1][0] == '-')
		return ctl_usage(c, "oauth");
	if ((ex = parse_opts(c, argc, argv, &o)) != EX_OK)
		return ex;
	if ((cfg = ctl_load(c, 0, &ex)) == NULL)
		return ex;
	if ((a = config_account(cfg, argv[1])) == NULL)
		fprintf(stderr, "%s: no account %s in the configuration\n",
		    c->progname, argv[1]), ex = EX_CONFIG;
	else if (a->auth_kind != AUTHK_XOAUTH2)
		fprintf(stderr, "%s: account %s does not use auth = xoauth2\n",
		    c->progname, a->name), ex = EX_CONFIG;
	else
		ex = run(c, cfg, a, &o);
	config_unref(cfg);
	return ex;
}
