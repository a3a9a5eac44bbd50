/*
 * relaymap — see relaymap.h.
 *
 * The map owns its entries (one allocation each: the struct, its key and
 * its account name) and the file name they point to.  The hash table is
 * open addressing with linear probing over entry pointers, keyed by the
 * normalised pattern with FNV-1a; it never holds more than half its slots,
 * so a probe sequence stays short.  Lookups hash a prefix ("", "@" or
 * "@.") and a tail separately, so they build no strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "domain.h"
#include "relaymap.h"
#include "util.h"

struct relaymap {
	char		 *file;
	struct map_entry **v;		/* file order */
	size_t		  n, cap;
	struct map_entry **slot;	/* hash table, NULL = empty */
	uint64_t	 *hash;		/* hash of slot[i] */
	size_t		  nslots;	/* power of two */
};

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}

static int
key_equal(const char *key, const char *prefix, const char *tail)
{
	size_t plen = strlen(prefix);

	return strncmp(key, prefix, plen) == 0 && strcmp(key + plen, tail) == 0;
}

/* The slot holding prefix+tail, or the empty slot where it would go. */
static size_t
find_slot(const struct relaymap *m, uint64_t h, const char *prefix,
    const char *tail)
{
	size_t mask = m->nslots - 1, i = (size_t)h & mask;

	while (m->slot[i] != NULL) {
		if (m->hash[i] == h && key_equal(m->slot[i]->key, prefix, tail))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static const struct map_entry *
get2(const struct relaymap *m, const char *prefix, const char *tail)
{
	uint64_t h = fnv(fnv(FNV_OFFSET, prefix), tail);

	return m->slot[find_slot(m, h, prefix, tail)];
}

static void
grow(struct relaymap *m)
{
	struct map_entry **oslot = m->slot;
	uint64_t *ohash = m->hash;
	size_t on = m->nslots;

	m->nslots = on * 2;
	m->slot = xcalloc(m->nslots, sizeof(*m->slot));
	m->hash = xcalloc(m->nslots, sizeof(*m->hash));
	for (size_t i = 0; i < on; i++) {
		size_t j;

		if (oslot[i] == NULL)
			continue;
		for (j = ohash[i] & (m->nslots - 1); m->slot[j] != NULL;
		    j = (j + 1) & (m->nslots - 1))
			;
		m->slot[j] = oslot[i];
		m->hash[j] = ohash[i];
	}
	free(oslot);
	free(ohash);
}

struct relaymap *
relaymap_new(const char *file)
{
	struct relaymap *m = xcalloc(1, sizeof(*m));

	m->file = xstrdup(file ? file : "relay.map");
	m->nslots = 64;
	m->slot = xcalloc(m->nslots, sizeof(*m->slot));
	m->hash = xcalloc(m->nslots, sizeof(*m->hash));
	return m;
}

void
relaymap_free(struct relaymap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	free(m->slot);
	free(m->hash);
	free(m->file);
	free(m);
}

static struct map_entry *
entry_new(const struct relaymap *m, const char *key, enum map_kind kind,
    const char *account, unsigned opts, unsigned line)
{
	size_t klen = strlen(key) + 1, alen = strlen(account) + 1;
	struct map_entry *e = xmalloc(sizeof(*e) + klen + alen);

	e->kind = kind;
	e->key = (char *)(e + 1);
	memcpy(e->key, key, klen);
	e->account = e->key + klen;
	memcpy(e->account, account, alen);
	e->opts = opts;
	e->file = m->file;
	e->line = line;
	return e;
}

struct map_entry *
relaymap_add(struct relaymap *m, const char *key, enum map_kind kind,
    const char *account, unsigned opts, unsigned line,
    const struct map_entry **dup)
{
	uint64_t h = fnv(FNV_OFFSET, key);
	size_t i = find_slot(m, h, "", key);
	struct map_entry *e;

	if (m->slot[i] != NULL) {
		if (dup)
			*dup = m->slot[i];
		return NULL;
	}
	e = entry_new(m, key, kind, account, opts, line);
	m->slot[i] = e;
	m->hash[i] = h;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n++] = e;
	if (m->n * 2 > m->nslots)
		grow(m);
	return e;
}

const struct map_entry *
relaymap_get(const struct relaymap *m, const char *key)
{
	return get2(m, "", key);
}

const struct map_entry *
relaymap_lookup(const struct relaymap *m, const char *sender_key)
{
	const struct map_entry *e;
	const char *at, *dom;

	if (sender_key[0] == '\0' || strcmp(sender_key, "<>") == 0)
		return get2(m, "", "<>");
	if ((e = get2(m, "", sender_key)) != NULL)
		return e;
	if ((at = strrchr(sender_key, '@')) != NULL && at[1] != '\0') {
		if ((e = get2(m, "@", at + 1)) != NULL)
			return e;
		if (at[1] != '[')
			for (dom = domain_parent(at + 1); dom != NULL;
			    dom = domain_parent(dom))
				if ((e = get2(m, "@.", dom)) != NULL)
					return e;
	}
	return get2(m, "", "*");
}

size_t
relaymap_count(const struct relaymap *m)
{
	return m->n;
}

const struct map_entry *
relaymap_entry(const struct relaymap *m, size_t i)
{
	return i < m->n ? m->v[i] : NULL;
}

const char *
map_kind_name(enum map_kind k)
{
	switch (k) {
	case MAP_EXACT:		return "exact";
	case MAP_DOMAIN:	return "domain";
	case MAP_SUBDOMAIN:	return "subdomain";
	case MAP_ANY:		return "any";
	case MAP_NULL:		return "null";
	}
	return "?";
}

/* ---- parsing ---- */

/* Normalise a pattern into key (ADDR_KEY_MAX + 2); -1 with err. */
static int
parse_pattern(const char *pat, char *key, size_t keysize,
    enum map_kind *kind, char *err, size_t errsize)
{
	const char *dom;

	if (strcmp(pat, "*") == 0 || strcmp(pat, "<>") == 0) {
		*kind = pat[0] == '*' ? MAP_ANY : MAP_NULL;
		xstrlcpy(key, pat, keysize);
		return 0;
	}
	if (pat[0] == '@') {
		*kind = pat[1] == '.' ? MAP_SUBDOMAIN : MAP_DOMAIN;
		dom = pat + (*kind == MAP_SUBDOMAIN ? 2 : 1);
		if (*kind == MAP_SUBDOMAIN && dom[0] == '[') {
			snprintf(err, errsize, "an address literal has no "
			    "subdomains");
			return -1;
		}
		xstrlcpy(key, *kind == MAP_SUBDOMAIN ? "@." : "@", keysize);
		return domain_normalize(dom, key + strlen(key),
		    keysize - strlen(key), err, errsize);
	}
	if (strchr(pat, '@') == NULL) {
		snprintf(err, errsize, "expected local@domain, @domain, "
		    "@.domain, * or <>");
		return -1;
	}
	*kind = MAP_EXACT;
	return addr_key_from_string(pat, key, keysize, err, errsize);
}

/* The value of "reply-to=" (len bytes at v) into opts. */
static int
parse_reply_to(const char *v, size_t len, unsigned *opts, char *err,
    size_t errsize)
{
	static const struct { const char *name; unsigned flag; } modes[] = {
		{ "original", MAP_REPLYTO_ORIGINAL },
		{ "none", MAP_REPLYTO_NONE },
		{ "auto", MAP_REPLYTO_AUTO },
	};

	if (*opts & MAP_REPLYTO_MASK) {
		snprintf(err, errsize, "reply-to given twice");
		return -1;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strlen(modes[i].name) == len &&
		    strncmp(v, modes[i].name, len) == 0) {
			*opts |= modes[i].flag;
			return 0;
		}
	snprintf(err, errsize, "bad reply-to \"%.*s\": expected original, "
	    "none or auto", (int)len, v);
	return -1;
}

static int
parse_options(const char *field, unsigned *opts, char *err, size_t errsize)
{
	const char *p = field, *comma;
	size_t len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 7 && strncmp(p, "rewrite", 7) == 0)
			*opts |= MAP_REWRITE;
		else if (len >= 9 && strncmp(p, "reply-to=", 9) == 0) {
			if (parse_reply_to(p + 9, len - 9, opts, err,
			    errsize) < 0)
				return -1;
		} else if (len == 0) {
			snprintf(err, errsize, "empty option in \"%s\"", field);
			return -1;
		} else {
			snprintf(err, errsize, "unknown option \"%.*s\"",
			    (int)len, p);
			return -1;
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Next white-space separated field of *p, NULL at the end or at '#'. */
static char *
next_field(char **p)
{
	char *s = *p, *f;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#')
		return NULL;
	f = s;
	s += strcspn(s, " \t");
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return f;
}

static void
add_line(struct relaymap *m, const char *pat, const char *key,
    enum map_kind kind, const char *account, unsigned opts, unsigned line,
    struct diag *d)
{
	const struct map_entry *dup = NULL;

	if (relaymap_add(m, key, kind, account, opts, line, &dup) != NULL)
		return;
	if (dup->line)
		diag_error(d, m->file, line, "duplicate pattern \"%s\" "
		    "(first at %s:%u)", pat, dup->file, dup->line);
	else
		diag_error(d, m->file, line, "duplicate pattern \"%s\"", pat);
}

static void
parse_line(struct relaymap *m, char *s, unsigned line, struct diag *d)
{
	char key[ADDR_KEY_MAX + 2], acct[ADDR_KEY_MAX], err[256];
	char *pat, *account, *f;
	enum map_kind kind;
	unsigned opts = 0;

	if ((pat = next_field(&s)) == NULL)
		return;
	if (parse_pattern(pat, key, sizeof(key), &kind, err,
	    sizeof(err)) < 0) {
		diag_error(d, m->file, line, "bad pattern \"%s\": %s", pat, err);
		return;
	}
	if ((account = next_field(&s)) == NULL) {
		diag_error(d, m->file, line, "missing account after pattern "
		    "\"%s\"", pat);
		return;
	}
	if (strchr(account, '@') != NULL) {
		if (addr_key_from_string(account, acct, sizeof(acct), err,
		    sizeof(err)) < 0) {
			diag_error(d, m->file, line, "bad account \"%s\": %s",
			    account, err);
			return;
		}
		account = acct;
	}
	while ((f = next_field(&s)) != NULL)
		if (parse_options(f, &opts, err, sizeof(err)) < 0) {
			diag_error(d, m->file, line, "%s", err);
			return;
		}
	add_line(m, pat, key, kind, account, opts, line, d);
}

struct relaymap *
relaymap_parse(const char *buf, size_t len, const char *file, struct diag *d)
{
	struct relaymap *m = relaymap_new(file);
	char line[RELAYMAP_LINE_MAX + 1];
	const char *p = buf, *end = buf + len, *nl;
	unsigned lineno = 0;
	size_t n;

	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > RELAYMAP_LINE_MAX)
			diag_error(d, m->file, lineno, "line longer than %d "
			    "characters", RELAYMAP_LINE_MAX);
		else if (memchr(p, '\0', n) != NULL)
			diag_error(d, m->file, lineno, "NUL byte in line");
		else if (memchr(p, '\r', n) != NULL)
			diag_error(d, m->file, lineno, "carriage return in "
			    "line (DOS line endings?)");
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			parse_line(m, line, lineno, d);
		}
	}
	return m;
}

/* Read all of path into a fresh buffer; NULL with errno set. */
static char *
read_file(const char *path, size_t *lenp)
{
	struct stat st;
	size_t len = 0, cap;
	char *buf;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	errno = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		saved = errno;
		close(fd);
		errno = saved == 0 ? EINVAL : saved;	/* EINVAL: not a file */
		return NULL;
	}
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap)
			buf = xreallocarray(buf, cap *= 2, 1);
		if ((r = read(fd, buf + len, cap - len)) <= 0)
			break;
		len += (size_t)r;
	}
	saved = errno;
	close(fd);
	if (r < 0) {
		free(buf);
		errno = saved;
		return NULL;
	}
	*lenp = len;
	return buf;
}

struct relaymap *
relaymap_load(const char *path, struct diag *d)
{
	struct relaymap *m;
	size_t len;
	char *buf;

	if ((buf = read_file(path, &len)) == NULL) {
		diag_error(d, path, 0, "cannot read: %s", errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		return relaymap_new(path);
	}
	m = relaymap_parse(buf, len, path, d);
	free(buf);
	return m;
}
