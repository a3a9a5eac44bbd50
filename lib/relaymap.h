/*
 * relaymap — the relay map (relay.map(5)): sender pattern -> account.
 *
 * One route per line: PATTERN ACCOUNT [OPTION[,OPTION...]]...
 * Patterns, most specific first, whatever the line order:
 *   local@domain     exact address (case-folded, IDN domain normalised)
 *   @domain          any address at exactly that domain
 *   @.domain         any address at a subdomain of domain (not domain
 *                    itself), the nearest parent winning
 *   *                any sender
 *   <>               the null sender only (bounces); never matched by *
 * Options: "rewrite"; "reply-to=original|none|auto" (overrides [milter]
 * reply-to for the line; at most one).  '#' starts a comment; blank lines are skipped.
 * A duplicate pattern is an error naming both lines.  Lines longer than
 * RELAYMAP_LINE_MAX are errors.
 *
 * The map is a hash table keyed by the normalised pattern; lookups are
 * O(1) per probe and at most (labels in domain + 3) probes.
 */
#ifndef SMARTHOST_RELAYMAP_H
#define SMARTHOST_RELAYMAP_H

#include <stddef.h>

#include "diag.h"

#define RELAYMAP_LINE_MAX 1024

#define MAP_REWRITE	0x01
/* reply-to=: at most one of these; none set = the [milter] default */
#define MAP_REPLYTO_ORIGINAL	0x02
#define MAP_REPLYTO_NONE	0x04
#define MAP_REPLYTO_AUTO	0x08
#define MAP_REPLYTO_MASK	0x0e

enum map_kind { MAP_EXACT, MAP_DOMAIN, MAP_SUBDOMAIN, MAP_ANY, MAP_NULL };

struct map_entry {
	enum map_kind	 kind;
	char		*key;		/* normalised: "a@b", "@b", "@.b", "*", "<>" */
	char		*account;	/* as written in the map */
	unsigned	 opts;		/* MAP_* */
	const char	*file;		/* owned by the map */
	unsigned	 line;		/* 0 for an implicit entry */
};

struct relaymap;

/* Parse path; errors and warnings go to d.  Returns the map (possibly
 * with the good lines of a bad file: callers check diag_errors()). */
struct relaymap *relaymap_load(const char *path, struct diag *d);
/* Parse from memory; file is the name used in diagnostics. */
struct relaymap *relaymap_parse(const char *buf, size_t len,
	    const char *file, struct diag *d);
struct relaymap *relaymap_new(const char *file);
void	relaymap_free(struct relaymap *);

/* Add one entry (used by the parser and for implicit login routes).
 * Returns the entry, or NULL if key exists (*dup set to the old one). */
struct map_entry *relaymap_add(struct relaymap *, const char *key,
	    enum map_kind, const char *account, unsigned opts, unsigned line,
	    const struct map_entry **dup);

/* Look up a sender key as made by addr_key() ("" for the null sender).
 * Returns the most specific entry or NULL. */
const struct map_entry *relaymap_lookup(const struct relaymap *,
	    const char *sender_key);
/* Exact-key probe (no fallback), e.g. "@163.com". */
const struct map_entry *relaymap_get(const struct relaymap *, const char *key);

size_t	relaymap_count(const struct relaymap *);
/* Entries in file order (implicit ones last); i < relaymap_count(). */
const struct map_entry *relaymap_entry(const struct relaymap *, size_t i);
const char *map_kind_name(enum map_kind);

#endif
