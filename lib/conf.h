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
 */
#ifndef SMARTHOST_CONF_H
#define SMARTHOST_CONF_H

#include <stddef.h>

#include "diag.h"
#include "preset.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH SYSCONFDIR "/smarthost/smarthost.conf"

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
	struct strlist	 auth;		/* mechanisms smarthost may use */
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
	int		 auth_kind;	/* enum auth_kind */
	char		*oauth_provider, *oauth_client_id, *oauth_tenant;
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
	char		*user;
	struct strlist	 local_domains;
	struct strlist	 internal_networks;
	/* [milter] */
	char		*milter_socket;
	int		 no_route;		/* enum action */
	int		 unauthorized;		/* enum action */
	int		 sender_mismatch;	/* enum action */
	int		 from_header;		/* enum action */
	int		 dmarc;			/* enum action */
	char		*trace_header;
	unsigned	 dns_timeout;
	/* [relay] */
	char		*relay_listen;
	struct strlist	 relay_allow;		/* client networks */
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
	unsigned	 msgs_per_session;
	unsigned	 max_clients;
	char		*ca_file;		/* default trust store if set */
	/* [account NAME] blocks, in file order */
	struct account	**accounts;
	size_t		 naccounts;
};

struct conf_option {
	const char	*section;	/* "global", "milter", "relay", "account" */
	const char	*name;
	enum opt_type	 type;
	const char	*def;		/* as it would be written; NULL = unset */
	size_t		 offset;	/* into struct conf or struct account */
	const char *const *choices;	/* OPT_ENUM: NULL-terminated */
	const char	*help;		/* one line */
};

extern const struct conf_option conf_options[];
extern const size_t conf_noptions;

/* Flags for conf_load(). */
#define CONF_MISSING_OK	0x01

struct conf *conf_load(const char *path, int flags, struct diag *);
/* Defaults only (no file). */
struct conf *conf_defaults(void);
void	conf_free(struct conf *);
/* A fresh account with every option at its default (owned by caller). */
struct account *account_new(const char *name);
void	account_free(struct account *);
struct account *conf_account(const struct conf *, const char *name);

void	strlist_free(struct strlist *);
int	strlist_contains(const struct strlist *, const char *s);	/* case-insensitive */
const char *action_name(int);

#endif
