/*
 * config — the whole configuration as one immutable, reference-counted
 * snapshot: smarthost.conf, relay.map, the accounts they name and
 * (optionally) the secrets.
 *
 * config_load() reads all files and resolves every map line to an account:
 * an [account NAME] block, or an address whose domain has a preset
 * ("boss@163.com" -> preset 163.com, login boss@163.com).  It then adds the
 * implicit routes: the login address of every account the map uses routes
 * to that account unless the map has its own exact line for it.  Any error
 * (unknown account, two accounts with one login, an account without host,
 * a bad line in any file) is reported with file:line; the caller discards
 * a snapshot with errors and keeps the old one.
 *
 * [relay] null-sender-account is resolved like a map account and, unless
 * the map has a "<>" line, becomes an implicit "<>" route (line 0).
 *
 * Daemons hold a snapshot per connection with config_ref()/config_unref();
 * a reload builds a new snapshot and swaps a pointer.
 */
#ifndef SMARTHOST_CONFIG_H
#define SMARTHOST_CONFIG_H

#include "conf.h"
#include "diag.h"
#include "relaymap.h"
#include "secrets.h"

#define CONFIG_SECRETS		0x01	/* also read the secrets (relay, ctl) */
#define CONFIG_MISSING_OK	0x02	/* a missing smarthost.conf is defaults */

struct config {
	struct conf	*conf;
	struct relaymap	*map;
	struct secrets	*secrets;	/* NULL unless CONFIG_SECRETS */
	/* every account the map uses, plus every [account] block */
	struct account	**accounts;
	size_t		 naccounts;
	int		 refs;		/* atomic */
	/* private to config.c */
	struct account	**implicit;	/* preset accounts owned here */
	size_t		 nimplicit;
	struct config_name *names;	/* sorted, for config_account() */
	size_t		 nnames;
};

/* Always returns a snapshot (refs = 1); check diag_errors(d). */
struct config *config_load(const char *conf_path, int flags, struct diag *d);
/* For smarthost-milter -n and smarthostctl check: an error in d when the
 * milter's socket is a unix socket and [milter] socket-group names a
 * group this host does not have (the milter could not start).  Not part
 * of config_load(): the other programs do not use the group. */
void	config_check_milter_group(const struct conf *, struct diag *d);
/* The same for a reload of old: a daemon that gave up root cannot open a
 * root-only secrets file (permission denied); then, if old read the same
 * path, the new snapshot shares old's codes (nothing else of old) and d
 * gets one warning that says so and how to fix it: new codes need a
 * restart, or the file owned by the service user.  The map and every
 * option are new, so the daemons agree on routes after any reload. */
struct config *config_reload(const char *conf_path, int flags,
	    const struct config *old, struct diag *d);
/* Files that stand in for the ones smarthost.conf names (NULL: the file
 * named): smarthostctl edit checks an edited copy in place of the file
 * before it replaces it.  Diagnostics name the stand-in. */
struct config_subst {
	const char	*relay_map;
	const char	*secrets;
};
/* config_load() with the files of subst in place of those named. */
struct config *config_load_subst(const char *conf_path, int flags,
	    const struct config_subst *subst, struct diag *d);
struct config *config_ref(struct config *);
void	config_unref(struct config *);
/* The account named name, or NULL.  A bare name matches an [account]
 * block exactly; an address matches by its lookup key (case-folded, IDN
 * normalised), as relay.map(5) compares them. */
struct account *config_account(const struct config *, const char *name);

#endif
