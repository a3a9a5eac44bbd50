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
 *
 * Sharing (oauth_share.c, oauth_seal.c): by itself each process refreshes
 * on its own.  Relays that serve the same accounts from several hosts
 * must not: a provider that rotates refresh tokens (as OAuth 2.1 advises)
 * revokes the one the others hold.  A program that can share sets a
 * struct oauth_share of callbacks (the relay: through its limits-store,
 * relay/tokenshare.c); the cache then reads the shared token set on an
 * account's first use and before each refresh, and takes it when it was
 * obtained later than its own (saving it in its own token file, so that
 * the rotated refresh token survives the share's loss); a refresh runs
 * under the share's lock of the account, and a relay that finds the lock
 * taken waits (polling every OAUTH_SHARE_POLL_MS, at most
 * OAUTH_SHARE_LOCK_MS) for the holder's new set instead of refreshing.
 * A share that is unreachable leaves each process to its own token file.
 * oauth_seal() is how a share keeps a set where others may read it:
 * encrypted and authenticated under a key derived from a secret.
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

/* The token set as the token file's JSON text (allocated: free_secret()
 * it), and back: 0, or -1 when text is not a JSON object. */
char	*oauth_token_json(const struct oauth_token *);
int	oauth_token_parse(const char *text, size_t len, struct oauth_token *);

/* tok sealed for a shared store: "v1:" and base64 of a random nonce, the
 * AES-256-GCM encryption of oauth_token_json() and its tag.  The key is
 * HKDF-SHA256 of secret with the account name (lowercased) as info; aad
 * (the name it is stored under) is authenticated with it.  Allocated, or
 * NULL when secret is empty or OpenSSL fails. */
char	*oauth_seal(const struct oauth_token *, const char *secret,
	    const char *account, const char *aad);
/* The token set in sealed: 0, or -1 (tok empty) when it does not open:
 * another secret, account or aad, a changed byte, no refresh or access
 * token inside. */
int	oauth_unseal(const char *sealed, const char *secret,
	    const char *account, const char *aad, struct oauth_token *);

#define OAUTH_SHARE_LOCK_MS	((OAUTH_HTTP_TIMEOUT + 5) * 1000)
#define OAUTH_SHARE_POLL_MS	200

/* Token sets shared with other processes.  Each callback gets arg first.
 * get: the account's shared set into tok (the caller clears it): 1, 0
 *   none (or none readable), -1 the share is unreachable;
 * put: tok as the account's shared set (0 or -1);
 * lock: the account's refresh lock for ms milliseconds: 1 taken, 0 held
 *   by another, -1 unreachable;
 * unlock: give the lock back if this process still holds it.
 * Called from any thread, without the cache's lock held. */
struct oauth_share {
	int	(*get)(void *arg, const char *account, struct oauth_token *);
	int	(*put)(void *arg, const char *account,
		    const struct oauth_token *);
	int	(*lock)(void *arg, const char *account, unsigned ms);
	void	(*unlock)(void *arg, const char *account);
	void	*arg;
};
/* Share through s from now on (copied); NULL: each process on its own.
 * Unset it before what arg points to goes, while no token is asked for. */
void	oauth_share_set(const struct oauth_share *);

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
