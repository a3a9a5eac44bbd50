/*
 * route — see route.h.
 *
 * Effective values follow one rule: the account's own setting, else its
 * preset's, else a built-in default.  A port and a TLS mode are looked up
 * together, so "port = 587" on a preset account picks the preset's TLS
 * mode for 587 and "tls = starttls" picks the preset's first STARTTLS
 * port.  Without a preset: 465 is implicit TLS, any other port STARTTLS,
 * and the port defaults to 465 (implicit) or 587 (STARTTLS).
 */
#include <stdio.h>
#include <string.h>

#include "route.h"

#define DEFAULT_MAX_CONNECTIONS	2

/* The preset's port entry for a->port or a->tls, or its first. */
static const struct preset_port *
preset_port(const struct account *a)
{
	const struct preset *p = a->preset;

	if (p == NULL || p->nports == 0)
		return NULL;
	for (size_t i = 0; i < p->nports; i++)
		if (a->port != 0 ? p->ports[i].port == a->port :
		    a->tls >= 0 && p->ports[i].tls == (enum tls_mode)a->tls)
			return &p->ports[i];
	return a->port == 0 && a->tls < 0 ? &p->ports[0] : NULL;
}

const char *
account_host(const struct account *a)
{
	if (a->host != NULL)
		return a->host;
	return a->preset != NULL ? a->preset->host : NULL;
}

unsigned
account_port(const struct account *a)
{
	const struct preset_port *pp;

	if (a->port != 0)
		return a->port;
	if ((pp = preset_port(a)) != NULL)
		return pp->port;
	return a->tls == TLS_STARTTLS ? 587 : 465;
}

enum tls_mode
account_tls(const struct account *a)
{
	const struct preset_port *pp;

	if (a->tls >= 0)
		return (enum tls_mode)a->tls;
	if ((pp = preset_port(a)) != NULL)
		return pp->tls;
	return a->port == 0 || a->port == 465 ? TLS_IMPLICIT : TLS_STARTTLS;
}

unsigned
account_max_connections(const struct account *a)
{
	if (a->max_connections != 0)
		return a->max_connections;
	if (a->preset != NULL && a->preset->max_connections != 0)
		return a->preset->max_connections;
	return DEFAULT_MAX_CONNECTIONS;
}

/* Whether the sender is not the login (compared as keys).  A login that
 * is not an address cannot be compared: the provider's rule decides. */
static int
login_differs(const char *sender_key, const char *login)
{
	char key[ADDR_KEY_MAX], err[256];

	if (login == NULL || strchr(login, '@') == NULL ||
	    addr_key_from_string(login, key, sizeof(key), err,
	    sizeof(err)) < 0)
		return 0;
	return strcmp(sender_key, key) != 0;
}

static void
fill(struct route *r, const struct map_entry *e, const struct account *a,
    const struct conf *conf)
{
	const struct preset *p = a->preset;
	unsigned rt = e->opts & MAP_REPLYTO_MASK;

	r->entry = e;
	r->account = a;
	r->rewrite = (e->opts & MAP_REWRITE) != 0;
	r->host = account_host(a);
	r->port = account_port(a);
	r->tls = account_tls(a);
	r->login = a->login;
	r->sender_must_match = a->sender_must_match != TRI_UNKNOWN ?
	    a->sender_must_match : p ? (int)p->sender_must_match : TRI_UNKNOWN;
	r->sender_refusal = a->sender_refusal ? a->sender_refusal :
	    p ? p->sender_refusal : NULL;
	r->envelope_differs = login_differs(r->sender_key, a->login);
	r->reply_to_line = rt != 0;
	r->reply_to = rt == MAP_REPLYTO_ORIGINAL ? REPLYTO_ORIGINAL :
	    rt == MAP_REPLYTO_NONE ? REPLYTO_NONE :
	    rt == MAP_REPLYTO_AUTO ? REPLYTO_AUTO :
	    conf != NULL ? conf->reply_to : REPLYTO_AUTO;
}

int
route_sends_as_login(const struct route *r)
{
	return r->sender.null || (r->rewrite && r->envelope_differs);
}

enum route_status
route_lookup(const struct config *c, const char *sender, struct route *r,
    char *err, size_t errsize)
{
	const struct map_entry *e;
	const struct account *a;

	memset(r, 0, sizeof(*r));
	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (addr_parse_path(sender, &r->sender, err, errsize) < 0)
		return r->status = ROUTE_BAD_ADDRESS;
	addr_key(&r->sender, r->sender_key, sizeof(r->sender_key));
	if ((e = relaymap_lookup(c->map, r->sender_key)) == NULL)
		return r->status = r->sender.null ? ROUTE_NULL_SENDER :
		    ROUTE_NONE;
	if ((a = config_account(c, e->account)) == NULL) {
		/* only in a snapshot with errors */
		r->entry = e;
		if (err != NULL)
			snprintf(err, errsize, "unknown account \"%s\"",
			    e->account);
		return r->status = ROUTE_NONE;
	}
	fill(r, e, a, c->conf);
	return r->status = ROUTE_OK;
}
