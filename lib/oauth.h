/*
 * oauth — OAuth2 tokens of xoauth2 accounts: endpoints, the token file,
 * HTTPS requests to the authorization server, and the access-token cache
 * the relay asks before AUTH XOAUTH2.
 *
 * Endpoints (oauth_endpoints()): an account's oauth-* options over the
 * provider's defaults (microsoft: login.microsoftonline.com/TENANT, scope
 * "https://outlook.office.com/SMTP.Send offline_access"; google:
 * oauth2.googleapis.com, scope "https://mail.google.com/"; custom: every
 * URL must be configured).  TLS to the authorization server is always
 * verified, against the account's ca-file, else [relay] ca-file, else the
 * system's store.
 *
 * Token file (oauth.c): STATE-DIR/oauth/ACCOUNT.json, a JSON object with
 * refresh_token, access_token, expires_at and obtained_at (Unix seconds).
 * It is written only whole (temporary file, fsync, rename), mode 0600, and
 * refused on load when group or others may read it.  Tokens never appear
 * in a message returned by this module.
 *
 * Requests (oauth_http.c): form POSTs over HTTPS only, answers parsed with
 * jansson; an error answer's "error" and "error_description" become the
 * message ("invalid_grant: AADSTS70000: ...").
 *
 * Cache (oauth_cache.c): oauth_access_token() returns a valid access token
 * for an account, reading the token file on first use and refreshing the
 * token ahead of its expiry (5 minutes, or half its lifetime when that is
 * shorter).  Callers for the same account share one refresh: the others
 * wait for it and take its result, token or error; a failure is the
 * answer for OAUTH_RETRY_AFTER seconds more, without a request.  A refresh token the
 * server rotates is saved before the new access token is handed out.
 * Thread-safe.
 */
#ifndef SMARTHOST_OAUTH_H
#define SMARTHOST_OAUTH_H

#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "conf.h"

#define OAUTH_URL_MAX		512
#define OAUTH_TOKEN_MAX		8192	/* an access or refresh token */
#define OAUTH_REFRESH_AHEAD	300	/* seconds before expiry */
#define OAUTH_HTTP_TIMEOUT	30	/* seconds per request */
#define OAUTH_RETRY_AFTER	30	/* seconds a failed refresh is reused */

enum oauth_provider { OAUTHP_MICROSOFT, OAUTHP_GOOGLE, OAUTHP_CUSTOM };

struct oauth_endpoints {
	enum oauth_provider provider;
	char		 token_url[OAUTH_URL_MAX];
	char		 device_url[OAUTH_URL_MAX];	/* "" if none */
	char		 auth_url[OAUTH_URL_MAX];	/* "" if none */
	char		 scope[512];
	const char	*client_id;		/* the account's */
	const char	*client_secret;		/* NULL if none */
	const char	*ca_file;		/* NULL: the system's store */
};

/* The endpoints of an xoauth2 account.  0, or -1 with a message (no client
 * ID, custom provider without a token URL, ...). */
int	oauth_endpoints(const struct conf *, const struct account *,
	    struct oauth_endpoints *, char *err, size_t errsize);
const char *oauth_provider_name(enum oauth_provider);

struct oauth_token {
	char		*refresh_token;		/* NULL if none */
	char		*access_token;		/* NULL if none */
	time_t		 expires_at;		/* of the access token, 0 */
	time_t		 obtained_at;
};

/* STATE-DIR/oauth/ACCOUNT.json (allocated), or NULL with a message when the
 * state directory is unset or the name cannot be a file name. */
char	*oauth_token_path(const struct conf *, const char *account,
	    char *err, size_t errsize);
/* 0, 1 when the file does not exist (tok empty), -1 with a message. */
int	oauth_token_load(const char *path, struct oauth_token *,
	    char *err, size_t errsize);
/* Atomically, mode 0600, creating the oauth directory (0700) if needed;
 * owner and group of both become uid/gid; with uid (uid_t)-1 a process
 * running as root keeps the existing file's owner.  Nothing is done by
 * path: STATE-DIR and its oauth directory are opened without following a
 * symbolic link and must belong to root, the caller or uid (root without
 * uid: anyone) and not be writable by others (safedir.h); the file is
 * created beside the old one (O_EXCL) and renamed over it.  0, or -1
 * with a message naming the path. */
int	oauth_token_save(const char *path, const struct oauth_token *,
	    uid_t uid, gid_t gid, char *err, size_t errsize);
/* Wipes and frees the tokens; tok itself stays. */
void	oauth_token_clear(struct oauth_token *);
/* Fills tok from a token endpoint's answer (access_token, expires_in,
 * refresh_token); keeps tok's refresh token when the answer has none.
 * 0, or -1 with a message. */
int	oauth_token_from_json(json_t *, time_t now, struct oauth_token *,
	    char *err, size_t errsize);
/* Seconds before expires_at at which the token counts as due. */
time_t	oauth_token_margin(const struct oauth_token *);

/* What `smarthostctl status` and `probe` show, without any token. */
struct oauth_state {
	int		 present;	/* the file exists with a refresh token */
	int		 expired;	/* the access token is missing or due */
	time_t		 expires_at;	/* of the access token, 0 if none */
	char		 path[1024];
};
/* 0, or -1 with a message (unreadable file, bad permissions, bad JSON). */
int	oauth_token_state(const struct conf *, const char *account,
	    struct oauth_state *, char *err, size_t errsize);

/* Once per process: jansson's allocator set to one that wipes what it
 * frees, so tokens in parsed answers do not linger on the heap (the token
 * file functions call it; they need no libcurl, so a program that only
 * reads token state, like the milter through config_load, does not load
 * it).  oauth_init() does that and libcurl's global state (the HTTP
 * functions call it). */
void	oauth_json_init(void);
void	oauth_init(void);
/* Where and why jansson refused a document holding secrets: "line L,
 * column C (byte B): DESCRIPTION" from a fixed list, never jansson's
 * message text (it quotes the input near the error).  Returns buf. */
const char *oauth_json_error(const json_error_t *, char *buf, size_t size);

/* POST form (application/x-www-form-urlencoded) to url, verified against
 * ca_file (NULL: the system's store).  Returns the HTTP status with the
 * parsed answer in *out (caller json_decref()s), or -1 with a message
 * when there is no JSON answer.  The form is wiped after sending. */
long	oauth_http_post(const char *url, const char *ca_file, char *form,
	    json_t **out, char *err, size_t errsize);
/* "error: error_description" of an error answer, printable, or the HTTP
 * status when the answer names no error. */
void	oauth_http_error(json_t *, long status, char *err, size_t errsize);
/* Appends "&name=value" (value URL-encoded; no "&" when form is empty) to
 * an allocated form; returns the new form, the old one wiped and freed. */
char	*oauth_form_add(char *form, const char *name, const char *value);

/* The token endpoint's answer to a refresh: tok updated (a rotated refresh
 * token replaces the old one).  0, or -1 with the provider's words. */
int	oauth_refresh(const struct oauth_endpoints *, struct oauth_token *,
	    time_t now, char *err, size_t errsize);

/* A valid access token for the account into buf (wipe it after use).  0,
 * or -1 with a message that says what the administrator should run. */
int	oauth_access_token(const struct conf *, const struct account *,
	    char *buf, size_t size, char *err, size_t errsize);
/* The provider refused the account's access token: drop it, so that the
 * next oauth_access_token() refreshes even before the expiry (the token
 * in the file too is then not used). */
void	oauth_forget(const char *account);
/* Refreshes counted by oauth_access_token() since start (for logs). */
unsigned long oauth_refreshes(void);

#endif
