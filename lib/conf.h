/*
 * conf — smarthost.conf(5): an INI file read with inih.
 *
 * Every option lives in one typed table (conf_options[]: section, name,
 * type, default, help).  The table drives parsing, `smarthostctl check`,
 * `smarthostctl config` and the man page, so they cannot drift apart.
 * Sections: [global], [milter], [relay], and any number of
 * [account NAME] blocks for accounts no preset covers (or that override a
 * preset: "provider = exmail.qq.com").
 *
 * conf_load() fills a struct conf with defaults first, then the file; an
 * unknown section or option, a bad value or a duplicate option is an error
 * with file:line.  A missing file is an error unless CONF_MISSING_OK.
 * conf_load() and conf_parse() always return a struct conf (the good lines
 * of a bad file applied); callers check diag_errors().
 *
 * Syntax (inih): "name = value" or "name: value"; '#' or ';' starts a
 * comment line, " ;" an inline comment.  A list option may continue on
 * following indented lines; an indented line after a single-valued option
 * is an error.  Lines are at most CONF_LINE_MAX characters.
 *
 * Unset values: an OPT_STRING without default is NULL, an OPT_UINT without
 * default 0, an OPT_ENUM or OPT_BOOL without default -1 (for accounts:
 * "use the preset's value").
 */
#ifndef SMARTHOST_CONF_H
#define SMARTHOST_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "preset.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH SYSCONFDIR "/smarthost/smarthost.conf"
#define CONF_LINE_MAX	199	/* inih's line buffer (INI_MAX_LINE) less NUL */
#define CONF_FILE_MAX	(1024 * 1024)
/* The longest duration any OPT_SECONDS option takes (one day): timeouts
 * become milliseconds for poll() and must stay far from int's limit. */
#define CONF_SECONDS_MAX	86400

enum opt_type {
	OPT_STRING,	/* char * */
	OPT_LIST,	/* struct strlist: white space or comma separated */
	OPT_UINT,	/* unsigned */
	OPT_SECONDS,	/* unsigned; "30", "30s", "10m", "2h", "1d" */
	OPT_BOOL,	/* int; yes/no/true/false/on/off/1/0 */
	OPT_ENUM,	/* int index into the option's choices */
	OPT_SIZE,	/* unsigned long; "10M", "73400320" */
};

struct strlist {
	char	**v;
	size_t	  n;
};

/* Actions the milter takes on a finding. */
enum action { ACT_REJECT, ACT_TEMPFAIL, ACT_ACCEPT, ACT_TAG, ACT_OFF };

/* What the relay does with a refused authorization code. */
enum auth_failure { AUTHFAIL_DEFER, AUTHFAIL_BOUNCE };

/* When a rewritten From: moves the original address to Reply-To:. */
enum reply_to { REPLYTO_ORIGINAL, REPLYTO_NONE, REPLYTO_AUTO };

/* The null sender without a "<>" map line. */
enum null_sender { NULLS_REJECT, NULLS_DEFER };

enum auth_kind { AUTHK_PASSWORD, AUTHK_XOAUTH2 };

struct account {
	char		*name;		/* as named in relay.map */
	char		*login;		/* login address (normalised key) */
	const struct preset *preset;	/* NULL if none */
	char		*host;
	unsigned	 port;		/* 0 = preset default */
	int		 tls;		/* enum tls_mode, -1 = preset default */
	char		*imap_host;	/* NULL = preset's (smarthost-return) */
	unsigned	 imap_port;	/* 0 = preset's */
	char		*provider;	/* "provider =" as written, or NULL */
	struct strlist	 auth;		/* mechanisms smarthost may use,
					 * upper-case; empty = preset's */
	char		*ca_file;
	unsigned	 max_connections;
	unsigned	 msgs_per_session;
	unsigned	 idle_timeout;	/* seconds */
	unsigned	 daily_msgs;
	unsigned	 daily_rcpts;
	struct strlist	 allowed_users;	/* SASL logins; empty = anyone */
	char		*spf_include;
	char		*dkim_domain;
	int		 sender_must_match;	/* enum tri */
	char		*sender_refusal;
	int		 auth_kind;	/* enum auth_kind: XOAUTH2 if auth
					 * names it */
	char		*oauth_provider, *oauth_client_id, *oauth_tenant;
	char		*oauth_client_secret;
	char		*oauth_token_url, *oauth_device_url, *oauth_auth_url;
	char		*oauth_scope;
	char		*file;		/* where declared; NULL if implicit */
	unsigned	 line;
	int		 used;		/* named by the map */
};

struct conf {
	char		*path;
	/* [global] */
	char		*relay_map;
	char		*secrets;
	char		*state_dir;
	char		*limits_store;		/* "file" or redis://... */
	char		*limits_share;		/* "M/N" */
	unsigned	 limits_lease;
	char		*limits_ca_file;	/* rediss:// trust; NULL: system */
	char		*user;
	struct strlist	 local_domains;
	struct strlist	 internal_networks;
	/* [milter] */
	char		*milter_socket;
	char		*milter_socket_group;	/* of a unix socket */
	char		*milter_control_socket;
	int		 no_route;		/* enum action */
	int		 unauthorized;		/* enum action */
	int		 sender_mismatch;	/* enum action */
	int		 from_header;		/* enum action */
	int		 dmarc;			/* enum action */
	char		*trace_header;
	unsigned	 dns_timeout;
	int		 reply_to;		/* enum reply_to */
	/* [relay] */
	char		*relay_listen;
	struct strlist	 relay_allow;		/* client networks */
	struct strlist	 relay_users;		/* local users: names, uids */
	char		*control_socket;
	int		 auth_failure;		/* enum auth_failure */
	unsigned	 auth_cooloff;
	unsigned	 quota_cooloff;
	char		*null_sender_account;	/* NULL = policy below */
	int		 null_sender;		/* enum null_sender */
	unsigned	 connect_timeout;
	unsigned	 command_timeout;
	unsigned	 data_timeout;
	unsigned	 idle_timeout;
	unsigned	 client_timeout;	/* the relay's client side */
	unsigned	 transaction_timeout;
	unsigned	 session_timeout;
	unsigned	 msgs_per_session;
	unsigned	 max_clients;
	unsigned	 sent_log_days;		/* 0: no sent log */
	char		*ca_file;		/* default trust store if set */
	/* [account NAME] blocks, in file order */
	struct account	**accounts;
	size_t		 naccounts;
	/* the line each option outside [account] blocks was set on, by its
	 * index in conf_options (0: not set); see conf_option_line() */
	unsigned	*lines;
};

struct conf_option {
	const char	*section;	/* "global", "milter", "relay", "account" */
	const char	*name;
	enum opt_type	 type;
	const char	*def;		/* as it would be written; NULL = unset */
	size_t		 offset;	/* into struct conf or struct account */
	const char *const *choices;	/* OPT_ENUM: NULL-terminated */
	const char	*help;		/* one line */
	unsigned long	 min, max;	/* numbers; max 0 = type's limit */
	/* Optional check and normalisation of a value (each element of a
	 * list): a new string, or NULL with a message in err. */
	char		*(*norm)(const char *value, char *err, size_t errsize);
};

extern const struct conf_option conf_options[];
extern const size_t conf_noptions;

/* Flags for conf_load(). */
#define CONF_MISSING_OK	0x01

struct conf *conf_load(const char *path, int flags, struct diag *);
/* Parse smarthost.conf from memory; file names it in diagnostics. */
struct conf *conf_parse(const char *buf, size_t len, const char *file,
	    struct diag *);
/* Defaults only (no file). */
struct conf *conf_defaults(void);
void	conf_free(struct conf *);
/* A fresh account with every option at its default (owned by caller). */
struct account *account_new(const char *name);
void	account_free(struct account *);
/* Derive what follows from an account's options: preset (from provider,
 * else the domain of login, else of the name) and auth_kind (XOAUTH2 if
 * auth names it or, auth unset, the preset's default is XOAUTH2).  0, or
 * -1 with a message in err.  conf_parse() calls it for every [account]
 * block; call it for an account made with account_new(). */
int	account_resolve(struct account *, char *err, size_t errsize);
struct account *conf_account(const struct conf *, const char *name);

/* The option named name in section ("global", "milter", "relay",
 * "account"), or NULL. */
const struct conf_option *conf_option_find(const char *section,
	    const char *name);
/* The line of c's file that set the option (not in [account]), or 0 when
 * it has its default. */
unsigned conf_option_line(const struct conf *c, const char *section,
	    const char *name);
/* Parse value for o into the field at base + o->offset (replacing what is
 * there; a list is appended to).  0, or -1 with a message in err such as
 * "port: \"abc\" is not a number". */
int	conf_set(const struct conf_option *o, void *base, const char *value,
	    char *err, size_t errsize);
/* Write the value of o at base as it would be written in the file into
 * buf ("" when unset).  Returns buf. */
char	*conf_format(const struct conf_option *o, const void *base,
	    char *buf, size_t size);
/* The option table as mdoc, one ".Ss" per section, for smarthost.conf(5):
 * the man page holds exactly this between its OPTIONS markers. */
void	conf_write_mdoc(FILE *fp);
/* Every effective value as smarthost.conf text (`smarthostctl config`);
 * only_changed: only values that differ from the default. */
void	conf_write(FILE *fp, const struct conf *, int only_changed);

void	strlist_free(struct strlist *);
/* Append a copy of s. */
void	strlist_add(struct strlist *, const char *s);
int	strlist_contains(const struct strlist *, const char *s);	/* case-insensitive */
const char *action_name(int);
const char *reply_to_name(int);		/* "original", "none", "auto" */

#endif
