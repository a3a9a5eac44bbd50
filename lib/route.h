/*
 * route — envelope sender -> account -> how to reach the provider.
 *
 * The route is a pure function of (envelope sender, configuration), so the
 * milter, the relay and `smarthostctl route` always agree and no header has
 * to be trusted.  route_lookup() takes the raw sender as SMTP carries it
 * ("<a@b>", "<>", "a@b"), parses it with addr_parse_path(), looks the key up
 * in the relay map and fills a struct route with the effective values
 * (account options over preset over built-in defaults).
 */
#ifndef SMARTHOST_ROUTE_H
#define SMARTHOST_ROUTE_H

#include <stddef.h>

#include "addr.h"
#include "config.h"

enum route_status {
	ROUTE_OK,		/* entry and account set */
	ROUTE_BAD_ADDRESS,	/* sender does not parse; err says why */
	ROUTE_NONE,		/* no map line matches */
	ROUTE_NULL_SENDER,	/* "<>" and no "<>" line: conf null-sender */
};

struct route {
	enum route_status	 status;
	struct addr		 sender;	/* parsed sender */
	char			 sender_key[ADDR_KEY_MAX];
	const struct map_entry	*entry;		/* matching map line */
	const struct account	*account;
	int			 rewrite;	/* entry has "rewrite" */
	/* effective values */
	const char		*host;
	unsigned		 port;
	enum tls_mode		 tls;
	const char		*login;
	int			 sender_must_match;	/* enum tri */
	const char		*sender_refusal;
	/* the envelope sender the provider must see: login when the rule
	 * or rewrite requires it, else the sender itself */
	int			 envelope_differs;	/* sender_key != login */
	int			 reply_to;	/* enum reply_to: the line's
						 * reply-to=, else [milter] */
	int			 reply_to_line;	/* set by the map line */
};

/* Returns r->status; err holds the reason for ROUTE_BAD_ADDRESS. */
enum route_status route_lookup(const struct config *, const char *sender,
	    struct route *r, char *err, size_t errsize);

/* Whether the provider sees the login as envelope sender: a "rewrite"
 * route whose sender is not the login, and the null sender (the relay
 * sends bounces as the account's login). */
int	route_sends_as_login(const struct route *);

/* Effective values of an account without a lookup. */
const char	*account_host(const struct account *);	/* NULL: none known */
unsigned	account_port(const struct account *);
enum tls_mode	account_tls(const struct account *);
unsigned	account_max_connections(const struct account *);

#endif
