/*
 * config — see config.h.
 *
 * config_load() runs in fixed steps, each adding to the same diag so that
 * `smarthostctl check` sees every problem at once:
 *   1. smarthost.conf (conf_load), then the relay map it names;
 *   2. every [account] block gets its preset (provider =, else the
 *      login's domain) and its login (login =, else its name if that is
 *      an address);
 *   3. every account name the map uses (and [relay] null-sender-account)
 *      resolves to a block, or to an implicit account at a preset domain;
 *   4. each used account must have a host and a login, and no two used
 *      accounts may share a login;
 *   5. the implicit login routes are added to the map;
 *   6. with CONFIG_SECRETS, the secrets are read (or, on a reload that
 *      may not open the file, the old snapshot's are kept) and every
 *      used account without a code is warned about.
 * Names are matched as the map writes them: a bare name exactly, an
 * address by its normalised key.  Accounts from [account] blocks belong
 * to the conf, implicit ones to the snapshot.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "oauth.h"
#include "util.h"

struct config_name {
	char		*key;		/* bare name, or normalised address */
	struct account	*acct;
};

/* An account the map uses, and where it is first named. */
struct used {
	struct account	*acct;
	const char	*file;		/* first map line naming it */
	unsigned	 line;
	size_t		 order;
	char		*login;		/* key of an address login, or NULL */
};

struct build {
	struct config	*c;
	const struct config *old;	/* reload: whose codes may be kept */
	struct diag	*d;
	const char	*conf_file;
	struct used	*used;
	size_t		 nused;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct config_name *)a)->key,
	    ((const struct config_name *)b)->key);
}

static void
add_name(struct config *c, const char *key, struct account *a)
{
	c->names = xreallocarray(c->names, c->nnames + 1, sizeof(*c->names));
	c->names[c->nnames].key = xstrdup(key);
	c->names[c->nnames++].acct = a;
}

static void
add_account(struct config *c, struct account *a)
{
	c->accounts = xreallocarray(c->accounts, c->naccounts + 1,
	    sizeof(*c->accounts));
	c->accounts[c->naccounts++] = a;
}

/* The key an account name is matched by; NULL if a bad address. */
static const char *
name_key(const char *name, char *key, size_t size, char *err, size_t errsize)
{
	if (strchr(name, '@') == NULL)
		return name;
	return addr_key_from_string(name, key, size, err, errsize) == 0 ?
	    key : NULL;
}

/* Step 2 for one block. */
static void
setup_block(struct build *b, struct account *a)
{
	char key[ADDR_KEY_MAX], err[256];
	const char *k, *at;

	add_account(b->c, a);
	if ((k = name_key(a->name, key, sizeof(key), err, sizeof(err))) ==
	    NULL) {
		diag_error(b->d, a->file, a->line, "account \"%s\": %s",
		    a->name, err);
		return;
	}
	if (a->login == NULL && k != a->name)
		a->login = xstrdup(k);
	if (a->preset == NULL && a->provider != NULL &&
	    (a->preset = preset_by_name(a->provider)) == NULL)
		diag_error(b->d, a->file, a->line, "account \"%s\": unknown "
		    "provider \"%s\"", a->name, a->provider);
	if (a->preset == NULL && a->provider == NULL && a->login != NULL &&
	    (at = strrchr(a->login, '@')) != NULL)
		a->preset = preset_by_domain(at + 1);
	add_name(b->c, k, a);
}

static void
index_names(struct config *c)
{
	if (c->nnames > 1)
		qsort(c->names, c->nnames, sizeof(*c->names), name_cmp);
}

struct account *
config_account(const struct config *c, const char *name)
{
	char key[ADDR_KEY_MAX], err[256];
	struct config_name k, *n;

	if (c->nnames == 0 || (k.key = (char *)name_key(name, key,
	    sizeof(key), err, sizeof(err))) == NULL)
		return NULL;
	n = bsearch(&k, c->names, c->nnames, sizeof(*c->names), name_cmp);
	return n ? n->acct : NULL;
}

/* ---- step 3: the accounts the map names ---- */

static void
use(struct build *b, struct account *a, const char *file, unsigned line)
{
	struct used *u;

	b->used = xreallocarray(b->used, b->nused + 1, sizeof(*b->used));
	u = &b->used[b->nused];
	u->acct = a;
	u->file = file;
	u->line = line;
	u->order = b->nused++;
	u->login = NULL;
	a->used = 1;
}

/* An account named by an address at a preset's domain, or an error. */
static struct account *
implicit_account(struct build *b, const char *name, const char *file,
    unsigned line)
{
	const char *at = strrchr(name, '@');
	const struct preset *p = at ? preset_by_domain(at + 1) : NULL;
	struct account *a;

	if (p == NULL) {
		if (at != NULL)
			diag_error(b->d, file, line, "unknown account \"%s\" "
			    "(no [account %s] block in %s and no preset for "
			    "domain %s)", name, name, b->conf_file, at + 1);
		else
			diag_error(b->d, file, line, "unknown account \"%s\" "
			    "(no [account %s] block in %s)", name, name,
			    b->conf_file);
		return NULL;
	}
	a = account_new(name);
	a->login = xstrdup(name);
	a->preset = p;
	if (p->default_auth != NULL && strcasecmp(p->default_auth,
	    "XOAUTH2") == 0)
		a->auth_kind = AUTHK_XOAUTH2;
	b->c->implicit = xreallocarray(b->c->implicit, b->c->nimplicit + 1,
	    sizeof(*b->c->implicit));
	b->c->implicit[b->c->nimplicit++] = a;
	add_account(b->c, a);
	return a;
}

struct mapname {
	const char	*name;
	size_t		 idx;		/* entry index: file order */
};

static int
mapname_cmp(const void *a, const void *b)
{
	const struct mapname *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static int
idx_cmp(const void *a, const void *b)
{
	const struct mapname *x = a, *y = b;

	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Each distinct account name of the map once, at its first line. */
static struct mapname *
distinct_names(const struct relaymap *m, size_t *np)
{
	size_t n = relaymap_count(m), k = 0;
	struct mapname *v = xcalloc(n, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i].name = relaymap_entry(m, i)->account;
		v[i].idx = i;
	}
	qsort(v, n, sizeof(*v), mapname_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1].name, v[i].name) != 0)
			v[k++] = v[i];
	qsort(v, k, sizeof(*v), idx_cmp);
	*np = k;
	return v;
}

static void
resolve_map_accounts(struct build *b)
{
	const struct map_entry *e;
	struct account *a;
	struct mapname *v;
	size_t n;

	v = distinct_names(b->c->map, &n);
	for (size_t i = 0; i < n; i++) {
		e = relaymap_entry(b->c->map, v[i].idx);
		if ((a = config_account(b->c, e->account)) == NULL)
			a = implicit_account(b, e->account, e->file, e->line);
		if (a != NULL)
			use(b, a, e->file, e->line);
	}
	free(v);
	for (size_t i = 0; i < b->c->nimplicit; i++)
		add_name(b->c, b->c->implicit[i]->name, b->c->implicit[i]);
	index_names(b->c);
}

/* [relay] null-sender-account: used like a map name; it becomes the
 * "<>" route unless the map has its own "<>" line. */
static void
resolve_null_sender(struct build *b)
{
	const char *name = b->c->conf->null_sender_account;
	char key[ADDR_KEY_MAX], err[256];
	const char *k;
	struct account *a;

	if (name == NULL)
		return;
	if ((k = name_key(name, key, sizeof(key), err, sizeof(err))) == NULL) {
		diag_error(b->d, b->conf_file, 0, "null-sender-account: %s",
		    err);
		return;
	}
	if ((a = config_account(b->c, k)) == NULL) {
		if ((a = implicit_account(b, k, b->conf_file, 0)) == NULL)
			return;
		add_name(b->c, k, a);
		index_names(b->c);
	}
	if (!a->used)
		use(b, a, b->conf_file, 0);
	if (relaymap_get(b->c->map, "<>") == NULL)
		relaymap_add(b->c->map, "<>", MAP_NULL, k, 0, 0, NULL);
}

/* ---- step 4: checks on the used accounts ---- */

/* Where to report a problem with an account: its block, else the first
 * map line naming it. */
static void
where(const struct used *u, const char **file, unsigned *line)
{
	*file = u->acct->file ? u->acct->file : u->file;
	*line = u->acct->file ? u->acct->line : u->line;
}

static int
login_cmp(const void *a, const void *b)
{
	const struct used *x = a, *y = b;
	int r = strcmp(x->login, y->login);

	return r ? r : (x->order > y->order) - (x->order < y->order);
}

/* Logins are compared as lookup keys: "Boss@163.COM" is boss@163.com. */
static void
check_logins(struct build *b)
{
	struct used *v = xcalloc(b->nused, sizeof(*v));
	char key[ADDR_KEY_MAX], err[256];
	const char *file, *f0;
	unsigned line, l0;
	size_t n = 0;

	for (size_t i = 0; i < b->nused; i++) {
		const char *login = b->used[i].acct->login;

		if (login != NULL && strchr(login, '@') != NULL &&
		    addr_key_from_string(login, key, sizeof(key), err,
		    sizeof(err)) == 0)
			b->used[i].login = xstrdup(key);
		if (b->used[i].login != NULL)
			v[n++] = b->used[i];
	}
	qsort(v, n, sizeof(*v), login_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i].login, v[i - 1].login) != 0)
			continue;
		where(&v[i], &file, &line);
		where(&v[i - 1], &f0, &l0);
		diag_error(b->d, file, line, "account \"%s\" has the same "
		    "login \"%s\" as account \"%s\" (%s:%u)", v[i].acct->name,
		    v[i].login, v[i - 1].acct->name, f0, l0);
	}
	free(v);
}

static void
check_accounts(struct build *b)
{
	const char *file;
	unsigned line;

	for (size_t i = 0; i < b->nused; i++) {
		struct account *a = b->used[i].acct;

		where(&b->used[i], &file, &line);
		if (a->host == NULL && (a->preset == NULL ||
		    a->preset->host == NULL))
			diag_error(b->d, file, line, "account \"%s\" has no "
			    "host (set host or provider in [account %s])",
			    a->name, a->name);
		if (a->login == NULL)
			diag_error(b->d, file, line, "account \"%s\" has no "
			    "login address (set login in [account %s])",
			    a->name, a->name);
	}
	check_logins(b);
}

/* ---- steps 5 and 6 ---- */

static void
add_login_routes(struct build *b)
{
	char key[ADDR_KEY_MAX], err[256];
	const struct map_entry *dup;
	const char *k;

	for (size_t i = 0; i < b->nused; i++) {
		struct account *a = b->used[i].acct;
		const char *login = b->used[i].login;

		if (login == NULL || (k = name_key(a->name, key,
		    sizeof(key), err, sizeof(err))) == NULL)
			continue;
		dup = NULL;
		if (relaymap_add(b->c->map, login, MAP_EXACT, k, 0, 0,
		    &dup) != NULL || dup->line == 0 ||
		    config_account(b->c, dup->account) == a)
			continue;
		diag_warning(b->d, dup->file, dup->line, "\"%s\" is the login "
		    "of account \"%s\", but this line routes it to account "
		    "\"%s\"", login, a->name, dup->account);
	}
}

/* XOAUTH2 accounts keep a refresh token in the state directory, not a
 * code in the secrets file. */
static int
uses_xoauth2(const struct account *a)
{
	if (a->auth.n > 0)
		return a->auth_kind == AUTHK_XOAUTH2;
	return a->preset != NULL && a->preset->default_auth != NULL &&
	    strcasecmp(a->preset->default_auth, "XOAUTH2") == 0;
}

/* The uid a daemon started as root drops to, whose own secrets file it
 * must be able to re-read on SIGHUP; (uid_t)-1 if none. */
static uid_t
service_uid(const struct conf *conf)
{
	struct passwd *pw;

	if (geteuid() != 0 || conf->user == NULL || *conf->user == '\0')
		return (uid_t)-1;
	pw = getpwnam(conf->user);
	return pw ? pw->pw_uid : (uid_t)-1;
}

/* An xoauth2 account needs an application's client ID and, once
 * authorized, a token file. */
static void
check_oauth(struct build *b, const struct used *u)
{
	const struct account *a = u->acct;
	struct oauth_state st;
	char err[1100];

	if (a->oauth_client_id == NULL)
		diag_warning(b->d, u->file, u->line, "account \"%s\" uses "
		    "auth = xoauth2 but has no oauth-client-id (the application "
		    "registered with the provider, see INSTALL)", a->name);
	else if (oauth_token_state(b->c->conf, a->name, &st, err,
	    sizeof(err)) == -1)
		diag_warning(b->d, u->file, u->line, "account \"%s\": %s",
		    a->name, err);
	else if (!st.present)
		diag_warning(b->d, u->file, u->line, "no OAuth2 token for "
		    "account \"%s\" yet: run \"smarthostctl oauth %s\"",
		    a->name, a->name);
}

/* A reload by a daemon that gave up root, of a secrets file only root
 * may read: the codes read at start stay, with one warning. */
static int
keep_secrets(struct build *b)
{
	const struct config *old = b->old;
	const char *path = b->c->conf->secrets;

	if (old == NULL || old->secrets == NULL || path == NULL ||
	    old->conf->secrets == NULL || strcmp(old->conf->secrets, path) != 0 ||
	    !secrets_denied(path))
		return 0;
	b->c->secrets = secrets_ref(old->secrets);
	diag_warning(b->d, path, 0, "cannot be re-read by uid %u (permission "
	    "denied): the authorization codes read at start stay in force; "
	    "new codes need a restart, or make the file owned by user %s "
	    "(chown %s %s) so that a reload reads it", (unsigned)geteuid(),
	    b->c->conf->user ? b->c->conf->user : "?",
	    b->c->conf->user ? b->c->conf->user : "USER", path);
	return 1;
}

/* A missing file is fine when systemd passes the codes as credentials. */
static void
load_secrets(struct build *b)
{
	struct config *c = b->c;

	if (!keep_secrets(b))
		c->secrets = secrets_load_svc(c->conf->secrets,
		    getenv("CREDENTIALS_DIRECTORY") != NULL,
		    service_uid(c->conf), b->d);
	if (c->secrets == NULL)
		return;
	for (size_t i = 0; i < b->nused; i++)
		if (uses_xoauth2(b->used[i].acct))
			check_oauth(b, &b->used[i]);
		else if (secrets_get(c->secrets,
		    b->used[i].acct->name) == NULL)
			diag_warning(b->d, b->used[i].file, b->used[i].line,
			    "no authorization code for account \"%s\"",
			    b->used[i].acct->name);
}

/* path stands in for the file *field names (config_subst). */
static void
substitute(char **field, const char *path)
{
	if (path == NULL)
		return;
	free(*field);
	*field = xstrdup(path);
}

static struct config *
build(const char *conf_path, int flags, const struct config *old,
    const struct config_subst *subst, struct diag *d)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct build b = { .c = c, .old = old, .d = d };

	c->refs = 1;
	if (conf_path == NULL)
		conf_path = CONF_DEFAULT_PATH;
	b.conf_file = conf_path;
	c->conf = conf_load(conf_path, (flags & CONFIG_MISSING_OK) ?
	    CONF_MISSING_OK : 0, d);
	if (subst != NULL) {
		substitute(&c->conf->relay_map, subst->relay_map);
		substitute(&c->conf->secrets, subst->secrets);
	}
	if (c->conf->relay_map != NULL)
		c->map = relaymap_load(c->conf->relay_map, d);
	else {
		diag_error(d, conf_path, 0, "relay-map is not set");
		c->map = relaymap_new(NULL);
	}
	for (size_t i = 0; i < c->conf->naccounts; i++)
		setup_block(&b, c->conf->accounts[i]);
	index_names(c);
	resolve_map_accounts(&b);
	resolve_null_sender(&b);
	check_accounts(&b);
	add_login_routes(&b);
	if (flags & CONFIG_SECRETS)
		load_secrets(&b);
	for (size_t i = 0; i < b.nused; i++)
		free(b.used[i].login);
	free(b.used);
	return c;
}

struct config *
config_load(const char *conf_path, int flags, struct diag *d)
{
	return build(conf_path, flags, NULL, NULL, d);
}

void
config_check_milter_group(const struct conf *c, struct diag *d)
{
	const char *sock = c->milter_socket, *group = c->milter_socket_group;

	if (sock == NULL || group == NULL || (strncmp(sock, "unix:", 5) != 0 &&
	    strncmp(sock, "local:", 6) != 0) || getgrnam(group) != NULL)
		return;
	diag_error(d, c->path, conf_option_line(c, "milter", "socket-group"),
	    "[milter] socket-group = %s: no such group on this host, so the "
	    "milter cannot give its socket %s to it; set socket-group to the "
	    "group of the MTA's user (postfix for Postfix, root for "
	    "Sendmail)", group, sock);
}

struct config *
config_reload(const char *conf_path, int flags, const struct config *old,
    struct diag *d)
{
	return build(conf_path, flags, old, NULL, d);
}

struct config *
config_load_subst(const char *conf_path, int flags,
    const struct config_subst *subst, struct diag *d)
{
	return build(conf_path, flags, NULL, subst, d);
}

struct config *
config_ref(struct config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void
config_unref(struct config *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i].key);
	free(c->names);
	for (size_t i = 0; i < c->nimplicit; i++)
		account_free(c->implicit[i]);
	free(c->implicit);
	free(c->accounts);
	relaymap_free(c->map);
	secrets_free(c->secrets);
	conf_free(c->conf);
	free(c);
}
