/*
 * oauth — endpoints and the token file (see oauth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oauth.h"
#include "safedir.h"
#include "util.h"

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void *
json_alloc(size_t n)
{
	return xmalloc(n);
}

static void
json_wipe_free(void *p)
{
	if (p == NULL)
		return;
	wipe(p, malloc_usable_size(p));
	free(p);
}

static void
json_init(void)
{
	json_set_alloc_funcs(json_alloc, json_wipe_free);
}

void
oauth_json_init(void)
{
	pthread_once(&json_once, json_init);
}

/* Fixed descriptions of jansson's error codes: its own text quotes the
 * input, which may be a token. */
static const char *
json_error_what(const json_error_t *je)
{
	switch (json_error_code(je)) {
	case json_error_out_of_memory:		return "out of memory";
	case json_error_stack_overflow:		return "nested too deeply";
	case json_error_invalid_utf8:		return "invalid UTF-8";
	case json_error_premature_end_of_input:	return "unexpected end of input";
	case json_error_end_of_input_expected:	return "text after the JSON value";
	case json_error_invalid_syntax:		return "invalid JSON syntax";
	case json_error_null_character:		return "NUL byte in a string";
	case json_error_null_byte_in_key:	return "NUL byte in a key";
	case json_error_duplicate_key:		return "duplicate key";
	case json_error_numeric_overflow:	return "number out of range";
	default:				return "not valid JSON";
	}
}

const char *
oauth_json_error(const json_error_t *je, char *buf, size_t size)
{
	snprintf(buf, size, "line %d, column %d (byte %d): %s", je->line,
	    je->column, je->position, json_error_what(je));
	return buf;
}

#define MS_LOGIN	"https://login.microsoftonline.com/"
#define MS_SCOPE	"https://outlook.office.com/SMTP.Send offline_access"
#define GOOGLE_TOKEN	"https://oauth2.googleapis.com/token"
#define GOOGLE_AUTH	"https://accounts.google.com/o/oauth2/v2/auth"
#define GOOGLE_SCOPE	"https://mail.google.com/"
#define TOKEN_FILE_MAX	(64 * 1024)

const char *
oauth_provider_name(enum oauth_provider p)
{
	return p == OAUTHP_MICROSOFT ? "microsoft" : p == OAUTHP_GOOGLE ?
	    "google" : "custom";
}

static int
provider_of(const struct account *a, enum oauth_provider *p)
{
	const char *name = a->oauth_provider;

	if (name == NULL && a->preset)
		name = a->preset->oauth;
	if (name == NULL || strcasecmp(name, "custom") == 0)
		*p = OAUTHP_CUSTOM;
	else if (strcasecmp(name, "microsoft") == 0)
		*p = OAUTHP_MICROSOFT;
	else if (strcasecmp(name, "google") == 0)
		*p = OAUTHP_GOOGLE;
	else
		return -1;
	return 0;
}

static void
set_url(char *dst, const char *configured, const char *def)
{
	xstrlcpy(dst, configured ? configured : def ? def : "",
	    OAUTH_URL_MAX);
}

static void
provider_defaults(const struct account *a, struct oauth_endpoints *e)
{
	char ms[OAUTH_URL_MAX];
	const char *tenant = a->oauth_tenant ? a->oauth_tenant : "common";

	switch (e->provider) {
	case OAUTHP_MICROSOFT:
		snprintf(ms, sizeof(ms), MS_LOGIN "%s/oauth2/v2.0/token",
		    tenant);
		set_url(e->token_url, a->oauth_token_url, ms);
		snprintf(ms, sizeof(ms), MS_LOGIN "%s/oauth2/v2.0/devicecode",
		    tenant);
		set_url(e->device_url, a->oauth_device_url, ms);
		snprintf(ms, sizeof(ms), MS_LOGIN "%s/oauth2/v2.0/authorize",
		    tenant);
		set_url(e->auth_url, a->oauth_auth_url, ms);
		xstrlcpy(e->scope, MS_SCOPE, sizeof(e->scope));
		break;
	case OAUTHP_GOOGLE:
		set_url(e->token_url, a->oauth_token_url, GOOGLE_TOKEN);
		set_url(e->device_url, a->oauth_device_url, NULL);
		set_url(e->auth_url, a->oauth_auth_url, GOOGLE_AUTH);
		xstrlcpy(e->scope, GOOGLE_SCOPE, sizeof(e->scope));
		break;
	case OAUTHP_CUSTOM:
		set_url(e->token_url, a->oauth_token_url, NULL);
		set_url(e->device_url, a->oauth_device_url, NULL);
		set_url(e->auth_url, a->oauth_auth_url, NULL);
		e->scope[0] = '\0';
		break;
	}
}

int
oauth_endpoints(const struct conf *c, const struct account *a,
    struct oauth_endpoints *e, char *err, size_t errsize)
{
	memset(e, 0, sizeof(*e));
	if (provider_of(a, &e->provider) == -1) {
		snprintf(err, errsize, "account %s: unknown oauth-provider "
		    "\"%s\"", a->name, a->oauth_provider);
		return -1;
	}
	provider_defaults(a, e);
	if (a->oauth_scope)
		xstrlcpy(e->scope, a->oauth_scope, sizeof(e->scope));
	e->client_id = a->oauth_client_id;
	e->client_secret = a->oauth_client_secret;
	e->ca_file = a->ca_file ? a->ca_file : c->ca_file;
	if (e->client_id == NULL || *e->client_id == '\0') {
		snprintf(err, errsize, "account %s: oauth-client-id is not "
		    "set (the application registered with %s)", a->name,
		    oauth_provider_name(e->provider));
		return -1;
	}
	if (e->token_url[0] == '\0') {
		snprintf(err, errsize, "account %s: oauth-token-url is not "
		    "set (oauth-provider = custom)", a->name);
		return -1;
	}
	return 0;
}

char *
oauth_token_path(const struct conf *c, const char *account, char *err,
    size_t errsize)
{
	if (c->state_dir == NULL || *c->state_dir == '\0') {
		snprintf(err, errsize, "state-dir is not set: nowhere to keep "
		    "OAuth2 tokens");
		return NULL;
	}
	if (account[0] == '\0' || account[0] == '.' || strchr(account, '/') ||
	    strlen(account) > 255) {
		snprintf(err, errsize, "account name \"%s\" cannot name a "
		    "token file", account);
		return NULL;
	}
	return xasprintf("%s/oauth/%s.json", c->state_dir, account);
}

void
oauth_token_clear(struct oauth_token *t)
{
	free_secret(t->refresh_token);
	free_secret(t->access_token);
	memset(t, 0, sizeof(*t));
}

time_t
oauth_token_margin(const struct oauth_token *t)
{
	time_t life = t->expires_at - t->obtained_at;

	if (t->obtained_at > 0 && life > 0 && life / 2 < OAUTH_REFRESH_AHEAD)
		return life / 2;
	return OAUTH_REFRESH_AHEAD;
}

/* A string member as a new string, NULL if absent or empty. */
static char *
json_strdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s && strlen(s) < OAUTH_TOKEN_MAX ? xstrdup(s) : NULL;
}

static time_t
json_time(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return (time_t)json_integer_value(v);
	if (json_is_string(v))	/* some servers quote expires_in */
		return (time_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

int
oauth_token_from_json(json_t *o, time_t now, struct oauth_token *t,
    char *err, size_t errsize)
{
	char *access = json_strdup(o, "access_token");
	char *refresh = json_strdup(o, "refresh_token");
	time_t in = json_time(o, "expires_in");

	if (access == NULL) {
		free_secret(refresh);
		snprintf(err, errsize, "the token endpoint's answer has no "
		    "access_token");
		return -1;
	}
	free_secret(t->access_token);
	t->access_token = access;
	if (refresh) {
		free_secret(t->refresh_token);
		t->refresh_token = refresh;
	}
	t->obtained_at = now;
	t->expires_at = now + (in > 0 ? in : 3600);
	return 0;
}

/* The whole file into a wiped-on-free buffer. */
static char *
read_small(int fd, char *err, size_t errsize)
{
	char *buf = xmalloc(TOKEN_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, TOKEN_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (n == -1 || len == TOKEN_FILE_MAX) {
		snprintf(err, errsize, "%s", n == -1 ? strerror(errno) :
		    "file too large");
		wipe(buf, TOKEN_FILE_MAX + 1);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int
open_checked(const char *path, char *err, size_t errsize)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return -2;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077)) {
		snprintf(err, errsize, "%s: not a regular file of mode 0600 "
		    "(mode %04o): refused", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

/* The token file's members of o into t. */
static void
token_of(json_t *o, struct oauth_token *t)
{
	t->refresh_token = json_strdup(o, "refresh_token");
	t->access_token = json_strdup(o, "access_token");
	t->expires_at = json_time(o, "expires_at");
	t->obtained_at = json_time(o, "obtained_at");
}

int
oauth_token_load(const char *path, struct oauth_token *t, char *err,
    size_t errsize)
{
	json_error_t je;
	json_t *o;
	char *buf, msg[256], where[128];
	int fd;

	oauth_json_init();
	memset(t, 0, sizeof(*t));
	if ((fd = open_checked(path, err, errsize)) == -2)
		return 1;
	if (fd == -1)
		return -1;
	buf = read_small(fd, msg, sizeof(msg));
	close(fd);
	if (buf == NULL) {
		snprintf(err, errsize, "%s: %s", path, msg);
		return -1;
	}
	o = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
	wipe(buf, TOKEN_FILE_MAX + 1);	/* all of it: a NUL may hide the rest */
	free(buf);
	if (o == NULL)
		snprintf(err, errsize, "%s: not a token file: %s", path,
		    oauth_json_error(&je, where, sizeof(where)));
	wipe(&je, sizeof(je));	/* its text quotes the file */
	if (!json_is_object(o)) {
		if (o != NULL)
			snprintf(err, errsize, "%s: not a token file: not a "
			    "JSON object", path);
		json_decref(o);
		return -1;
	}
	token_of(o, t);
	json_decref(o);	/* jansson frees; the tokens it held are gone */
	return 0;
}

int
oauth_token_parse(const char *text, size_t len, struct oauth_token *t)
{
	json_error_t je;
	json_t *o;

	oauth_json_init();
	memset(t, 0, sizeof(*t));
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	wipe(&je, sizeof(je));	/* its text may quote a token */
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	token_of(o, t);
	json_decref(o);
	return 0;
}

char *
oauth_token_json(const struct oauth_token *t)
{
	json_t *o;
	char *s;

	oauth_json_init();
	o = json_object();
	if (t->refresh_token)
		json_object_set_new(o, "refresh_token",
		    json_string(t->refresh_token));
	if (t->access_token)
		json_object_set_new(o, "access_token",
		    json_string(t->access_token));
	json_object_set_new(o, "expires_at",
	    json_integer((json_int_t)t->expires_at));
	json_object_set_new(o, "obtained_at",
	    json_integer((json_int_t)t->obtained_at));
	s = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	for (size_t off = 0; off < len; off += (size_t)n)
		if ((n = write(fd, s + off, len - off)) <= 0)
			return -1;
	return 0;
}

/* Where a token file goes: STATE-DIR (which must exist) and its oauth
 * directory (made 0700 if missing), neither followed through a symbolic
 * link nor writable by others.  With an owner, both may belong to it and
 * the oauth directory is given to it.  Root without one keeps what is
 * there: any owner, and the file's (else the directory's) owner for the
 * new file, so that `smarthostctl probe` refreshing a token leaves it to
 * the relay's user.  The oauth directory's descriptor, or -1. */
static int
open_token_dir(const char *path, uid_t *uid, gid_t *gid, char *err,
    size_t errsize)
{
	const char *base, *obase;
	char *odir = safedir_split(path, &base), *sdir;
	int keep = *uid == (uid_t)-1 && geteuid() == 0;
	int flags = keep ? SAFEDIR_ANYONE : 0, sfd, ofd = -1;
	struct stat st;

	sdir = safedir_split(odir, &obase);
	sfd = safedir_open(AT_FDCWD, sdir, NULL, 0, *uid, *gid, flags, err,
	    errsize);
	if (sfd != -1) {
		ofd = safedir_open(sfd, obase, odir, 0700, *uid, *gid,
		    flags | SAFEDIR_CREATE | SAFEDIR_GIVE, err, errsize);
		close(sfd);
	}
	if (ofd != -1 && keep &&
	    (fstatat(ofd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstat(ofd, &st) == 0)) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	}
	free(sdir);
	free(odir);
	return ofd;
}

/* A new file in dfd, created exclusively: its fd, with its name in tmp. */
static int
create_tmp(int dfd, const char *base, char *tmp, size_t size)
{
	static unsigned seq;
	int fd = -1;

	for (int i = 0; fd == -1 && i < 100; i++) {
		snprintf(tmp, size, ".%s.tmp%ld.%u", base, (long)getpid(),
		    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	return fd;
}

int
oauth_token_save(const char *path, const struct oauth_token *t, uid_t uid,
    gid_t gid, char *err, size_t errsize)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char tmp[300], *s;
	int dfd, fd, rc = -1;

	oauth_json_init();
	if ((dfd = open_token_dir(path, &uid, &gid, err, errsize)) == -1)
		return -1;
	if ((fd = create_tmp(dfd, base, tmp, sizeof(tmp))) == -1) {
		snprintf(err, errsize, "%s: cannot create a file next to it: "
		    "%s", path, strerror(errno));
		close(dfd);
		return -1;
	}
	s = oauth_token_json(t);
	if (fchmod(fd, 0600) == -1 || (uid != (uid_t)-1 && geteuid() == 0 &&
	    fchown(fd, uid, gid) == -1) || write_all(fd, s, strlen(s)) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1)
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
	else if (close(fd) == -1 || (fd = -1, renameat(dfd, tmp, dfd,
	    base) == -1))
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		(void)unlinkat(dfd, tmp, 0);
	else
		(void)fsync(dfd);
	close(dfd);
	free_secret(s);
	return rc;
}

int
oauth_token_state(const struct conf *c, const char *account,
    struct oauth_state *st, char *err, size_t errsize)
{
	struct oauth_token t;
	char *path;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((path = oauth_token_path(c, account, err, errsize)) == NULL)
		return -1;
	xstrlcpy(st->path, path, sizeof(st->path));
	rc = oauth_token_load(path, &t, err, errsize);
	free(path);
	if (rc == -1)
		return -1;
	st->present = t.refresh_token != NULL;
	st->expires_at = t.access_token ? t.expires_at : 0;
	st->expired = t.access_token == NULL ||
	    time(NULL) >= t.expires_at - oauth_token_margin(&t);
	oauth_token_clear(&t);
	return 0;
}
