/*
 * preset — built-in provider presets, as data.
 *
 * One row per provider, drawn from the project's provider table (each row
 * names its source).  A fact no source confirms is left out (0, NULL or
 * TRI_UNKNOWN) and said in `uncertain`, never guessed.  The first port is
 * the default.  An address at one of a preset's `domains` ("boss@163.com")
 * names an account on that provider without an [account] block;
 * enterprise presets (exmail.qq.com, qiye.163.com, office365, ...) have no
 * domains and are chosen with "provider = NAME" in an [account] block.
 */
#ifndef SMARTHOST_PRESET_H
#define SMARTHOST_PRESET_H

#include <stddef.h>

enum tls_mode { TLS_IMPLICIT, TLS_STARTTLS };
enum tri { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

#define PRESET_MAX_PORTS	4
#define PRESET_MAX_DOMAINS	8

struct preset_port {
	unsigned short	 port;
	enum tls_mode	 tls;
	const char	*note;		/* NULL, or why it is not the default */
};

struct preset {
	const char	*name;		/* "163.com", "exmail.qq.com", "office365" */
	const char	*title;		/* "NetEase 163 Mail" */
	const char	*domains[PRESET_MAX_DOMAINS];	/* NULL-terminated */
	const char	*host;		/* "smtp.163.com" */
	struct preset_port ports[PRESET_MAX_PORTS];
	size_t		 nports;
	const char	*auth;		/* "LOGIN PLAIN XOAUTH2", NULL = unknown */
	const char	*default_auth;	/* mechanism smarthost uses by default */
	enum tri	 sender_must_match;	/* envelope sender == login */
	const char	*sender_refusal;	/* the provider's exact text */
	int		 rewrites_from;	/* provider rewrites From to login (Gmail) */
	const char	*dkim_domain;	/* "163.com"; "*" = the customer's domain */
	const char	*spf_include;	/* "spf.163.com" */
	unsigned	 max_rcpt_per_msg;	/* 0 = not published */
	unsigned	 daily_msgs;
	unsigned	 daily_rcpts;
	unsigned long	 max_size;	/* bytes, 0 = not published */
	unsigned	 max_connections;	/* smarthost's default pool bound */
	const char	*code_howto;	/* where the user makes the code */
	const char	*auth_failure_hint;	/* what 535 means there */
	const char	*oauth;		/* "microsoft", "google" or NULL */
	const char	*imap_host;	/* "imap.163.com" (implicit TLS), NULL
					 * = not recorded */
	unsigned short	 imap_port;	/* 993 */
	int		 imap_id;	/* refuses SELECT until the client
					 * sent ID (RFC 2971): NetEase */
	const char	*uncertain;	/* what no source confirms, or NULL */
	const char	*source;	/* providers table row and its sources */
};

/* All presets; *n is set to their number. */
const struct preset *preset_all(size_t *n);
/* By name ("163.com", "office365"), case-insensitive; NULL if none. */
const struct preset *preset_by_name(const char *name);
/* By a normalised mail domain ("163.com", "foxmail.com"); NULL if none. */
const struct preset *preset_by_domain(const char *domain);
const char *tls_mode_name(enum tls_mode);

#endif
