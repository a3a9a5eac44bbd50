/*
 * conf_parse — reading smarthost.conf with inih (see conf.h).
 *
 * inih's Debian build has no line numbers in its handler
 * (INI_HANDLER_LINENO 0) and stops counting at the first error, so the
 * file is fed to ini_parse_stream() through our own reader, which counts
 * lines, refuses over-long lines and NUL bytes instead of letting inih
 * split them, and sees each "[section]" line as inih does.  inih calls the
 * handler before it asks for the next line, so the reader's line number is
 * the handler's.  Every error is collected; nothing stops at the first.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "domain.h"
#include "util.h"

_Static_assert(CONF_LINE_MAX < INI_MAX_LINE, "CONF_LINE_MAX too long");
#define SECTION_MAX	50	/* inih's MAX_SECTION: longer names are cut */

enum line_kind { L_BLANK, L_SECTION, L_OPTION, L_CONT, L_BAD };

struct parser {
	struct conf	*conf;
	struct diag	*d;
	const char	*file;
	const char	*buf;
	size_t		 len, pos;
	unsigned	 line;		/* current line, from 1 */
	enum line_kind	 kind;		/* of the current line */
	int		 handled;	/* the handler saw the current line */
	int		 inih_prev;	/* inih would continue a name */
	int		 nosection;	/* no section line yet */
	void		*base;		/* struct conf or account; NULL: skip */
	const char	*sec;		/* table section of base */
	char		 label[SECTION_MAX + 8];	/* "[account x]" */
	unsigned	*seen;		/* line each option was set on */
	unsigned	*seen_conf;	/* for [global], [milter], [relay] */
	unsigned	**seen_acct;	/* per account, as conf->accounts */
	const struct conf_option *prev;	/* what an indented line continues */
	char		 inih_sec[SECTION_MAX];	/* inih's section and name, */
	char		 inih_name[SECTION_MAX];	/* to check we agree */
};

#define perr(p, ...)	diag_error((p)->d, (p)->file, (p)->line, __VA_ARGS__)

/* inih's find_chars_or_comment(s, "]") with inline comments on: the first
 * ']' unless a ';' after white space comes first. */
static const char *
find_close(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == ']')
			return p;
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			return NULL;
	}
	return NULL;
}

static void
enter_account(struct parser *p, const char *name)
{
	struct conf *c = p->conf;
	struct account *a = conf_account(c, name);

	if (a) {
		perr(p, "duplicate [account %s] (first on line %u)", name,
		    a->line);
		return;
	}
	a = account_new(name);
	a->file = xstrdup(p->file);
	a->line = p->line;
	c->accounts = xreallocarray(c->accounts, c->naccounts + 1,
	    sizeof(*c->accounts));
	p->seen_acct = xreallocarray(p->seen_acct, c->naccounts + 1,
	    sizeof(*p->seen_acct));
	p->seen_acct[c->naccounts] = xcalloc(conf_noptions, sizeof(unsigned));
	p->seen = p->seen_acct[c->naccounts];
	c->accounts[c->naccounts++] = a;
	p->base = a;
	p->sec = "account";
}

/* The name between the brackets, trimmed, in a section line. */
static void
enter_section(struct parser *p, char *name)
{
	static const char *const plain[] = { "global", "milter", "relay" };
	char *word = name, *rest = name + strcspn(name, " \t");

	if (*rest)
		*rest++ = '\0';
	rest = str_trim(rest);
	snprintf(p->label, sizeof(p->label), "[%s%s%s]", word,
	    *rest ? " " : "", rest);
	for (size_t i = 0; i < 3; i++)
		if (strcasecmp(word, plain[i]) == 0) {
			if (*rest) {
				perr(p, "section [%s] takes no name", plain[i]);
				return;
			}
			snprintf(p->label, sizeof(p->label), "[%s]", plain[i]);
			p->base = p->conf;
			p->sec = plain[i];
			p->seen = p->seen_conf;
			return;
		}
	if (strcasecmp(word, "account") != 0)
		perr(p, "unknown section %s (expected [global], [milter], "
		    "[relay] or [account NAME])", p->label);
	else if (*rest == '\0')
		perr(p, "account section without a name (write [account "
		    "NAME])");
	else if (rest[strcspn(rest, " \t")])
		perr(p, "account name \"%s\" contains white space", rest);
	else
		enter_account(p, rest);
}

/* A line starting with '[' (after white space), as inih sees it. */
static void
section_line(struct parser *p, const char *start)
{
	const char *close = find_close(start + 1), *after;
	char name[CONF_LINE_MAX + 1];
	size_t n;		/* length of the name + 1 */

	p->base = NULL;		/* options are skipped until a good one */
	p->nosection = 0;
	if (close == NULL) {
		perr(p, "missing \"]\" in section line");
		p->kind = L_BAD;
		return;
	}
	p->inih_prev = 0;	/* inih forgets the previous name */
	p->prev = NULL;
	n = (size_t)(close - start);
	xstrlcpy(p->inih_sec, start + 1, n < SECTION_MAX ? n : SECTION_MAX);
	after = close + 1 + strspn(close + 1, " \t\r");
	if (*after && *after != '#' && *after != ';')
		perr(p, "text after \"]\" in section line");
	if (n > SECTION_MAX) {
		perr(p, "section name longer than %d characters",
		    SECTION_MAX - 1);
		return;
	}
	xstrlcpy(name, start + 1, n);
	enter_section(p, str_trim(name));
}

static void
classify(struct parser *p, char *line)
{
	const char *s = line;

	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;		/* inih skips a UTF-8 BOM */
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '#' || *s == ';')
		p->kind = L_BLANK;
	else if (p->inih_prev && s > line)
		p->kind = L_CONT;
	else if (*s == '[') {
		p->kind = L_SECTION;
		section_line(p, s);
	} else
		p->kind = L_OPTION;
}

/* Called before each new line and at the end. */
static void
finish_line(struct parser *p)
{
	if (p->kind == L_OPTION && !p->handled)
		perr(p, "cannot parse line: expected \"name = value\" or "
		    "\"[section]\"");
	p->kind = L_BLANK;
}

static char *
reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *s, *nl;
	size_t n;

	finish_line(p);
	if (p->pos >= p->len)
		return NULL;
	s = p->buf + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->line++;
	p->handled = 0;
	str[0] = '\0';
	if (memchr(s, '\0', n)) {
		perr(p, "NUL byte in line");
		p->kind = L_BAD;
	} else if (n > CONF_LINE_MAX || n >= (size_t)num) {
		perr(p, "line longer than %d characters", CONF_LINE_MAX);
		p->kind = L_BAD;
	} else {
		memcpy(str, s, n);
		str[n] = '\0';
		classify(p, str);
	}
	return str;
}

/* inih strips " ;" comments from option lines but not from continuation
 * lines: do it here, the same way. */
static char *
strip_comment(char *s)
{
	for (char *c = s; *c; c++)
		if (*c == ';' && c > s && isspace((unsigned char)c[-1])) {
			*c = '\0';
			break;
		}
	return str_trim(s);
}

static void
continuation(struct parser *p, const char *line)
{
	char err[512], value[CONF_LINE_MAX + 1];

	if (p->base == NULL || p->prev == NULL)
		return;		/* the line it continues was reported */
	xstrlcpy(value, line, sizeof(value));
	strip_comment(value);
	if (p->prev->type != OPT_LIST)
		perr(p, "indented line continues \"%s\", which takes one "
		    "value (remove the indentation)", p->prev->name);
	else if (conf_set(p->prev, p->base, value, err, sizeof(err)) == -1)
		perr(p, "%s", err);
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct conf_option *o;
	char err[512];

	p->handled = 1;
	if (strcmp(section, p->inih_sec) != 0 || (p->kind == L_CONT &&
	    strcmp(name, p->inih_name) != 0)) {
		perr(p, "internal error: the parser lost track of this line, "
		    "please report it");
		p->base = NULL;
		return 1;
	}
	if (p->kind == L_CONT) {
		continuation(p, value);
		return 1;
	}
	p->inih_prev = *name != '\0';	/* inih continues only a name */
	xstrlcpy(p->inih_name, name, sizeof(p->inih_name));
	p->prev = NULL;
	if (p->nosection)
		perr(p, "option \"%s\" outside a section (add [global], "
		    "[milter], [relay] or [account NAME] above it)", name);
	if (p->base == NULL)
		return 1;
	if ((o = conf_option_find(p->sec, name)) == NULL) {
		perr(p, "unknown option \"%s\" in %s", name, p->label);
		return 1;
	}
	if (p->seen[o - conf_options]) {
		perr(p, "duplicate option \"%s\" in %s (first on line %u)",
		    name, p->label, p->seen[o - conf_options]);
		return 1;
	}
	p->seen[o - conf_options] = p->line;
	if (o->type == OPT_LIST)	/* the file replaces the default */
		strlist_free((struct strlist *)((char *)p->base + o->offset));
	if (conf_set(o, p->base, value, err, sizeof(err)) == -1)
		perr(p, "%s", err);
	else
		p->prev = o;
	return 1;
}

static int
has_error_at(const struct diag *d, unsigned line)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line)
			return 1;
	return 0;
}

/* oauth-* options on an account that does not use xoauth2 do nothing. */
static void
warn_oauth(struct parser *p, const struct account *a, const unsigned *seen)
{
	if (a->auth_kind == AUTHK_XOAUTH2)
		return;
	for (size_t i = 0; i < conf_noptions; i++)
		if (seen[i] && strncmp(conf_options[i].name, "oauth-", 6) == 0 &&
		    strcmp(conf_options[i].section, "account") == 0) {
			diag_warning(p->d, p->file, seen[i], "%s has no effect: "
			    "account %s does not use auth = xoauth2",
			    conf_options[i].name, a->name);
			return;
		}
}

static void
resolve_accounts(struct parser *p)
{
	struct conf *c = p->conf;
	char err[512];

	for (size_t i = 0; i < c->naccounts; i++) {
		unsigned auth_line = p->seen_acct[i][conf_option_find(
		    "account", "auth") - conf_options];

		if (account_resolve(c->accounts[i], err, sizeof(err)) == -1)
			diag_error(p->d, p->file, auth_line ? auth_line :
			    c->accounts[i]->line, "%s", err);
		else
			warn_oauth(p, c->accounts[i], p->seen_acct[i]);
	}
}

struct conf *
conf_parse(const char *buf, size_t len, const char *file, struct diag *d)
{
	struct parser p = {
		.conf = conf_defaults(), .d = d, .file = file ? file : "-",
		.buf = buf, .len = len, .kind = L_BLANK, .nosection = 1,
	};
	size_t nerr = diag_errors(d);
	int rc;

	p.seen_conf = xcalloc(conf_noptions, sizeof(unsigned));
	p.conf->path = file ? xstrdup(file) : NULL;
	rc = ini_parse_stream(reader, &p, handler, &p);
	finish_line(&p);
	if (rc > 0 && diag_errors(d) == nerr && !has_error_at(d, (unsigned)rc))
		diag_error(d, p.file, (unsigned)rc, "cannot parse line");
	else if (rc < 0)
		diag_error(d, p.file, 0, "cannot parse: out of memory");
	resolve_accounts(&p);
	for (size_t i = 0; i < p.conf->naccounts; i++)
		free(p.seen_acct[i]);
	free(p.seen_acct);
	p.conf->lines = p.seen_conf;
	return p.conf;
}

/* Read all of path into *buf; 0, 1 if missing, -1 with a diagnostic. */
static int
read_file(const char *path, char **buf, size_t *len, struct diag *d)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		diag_error(d, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		diag_error(d, path, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_FILE_MAX) {
		diag_error(d, path, 0, "%s", S_ISREG(st.st_mode) ?
		    "larger than 1 MiB" : "not a regular file");
		close(fd);
		return -1;
	}
	*buf = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while ((n = read(fd, *buf + *len, (size_t)st.st_size + 1 - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n == -1 || *len > (size_t)st.st_size) {
		diag_error(d, path, 0, "%s", n == -1 ? strerror(errno) :
		    "changed while being read");
		free(*buf);
		return -1;
	}
	return 0;
}

struct conf *
conf_load(const char *path, int flags, struct diag *d)
{
	struct conf *c;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	if ((rc = read_file(path, &buf, &len, d)) == 1 &&
	    !(flags & CONF_MISSING_OK))
		diag_error(d, path, 0, "cannot open: %s", strerror(ENOENT));
	if (rc != 0) {
		c = conf_defaults();
		c->path = xstrdup(path);
		return c;
	}
	c = conf_parse(buf, len, path, d);
	free(buf);
	return c;
}

/* The normalised domain of an address, or NULL. */
static const struct preset *
preset_of_address(const char *addr)
{
	char dom[DOMAIN_MAX + 1], err[256];
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL ||
	    domain_normalize(at + 1, dom, sizeof(dom), err, sizeof(err)) == -1)
		return NULL;
	return preset_by_domain(dom);
}

int
account_resolve(struct account *a, char *err, size_t errsize)
{
	int xoauth2 = strlist_contains(&a->auth, "XOAUTH2");

	if (a->provider)
		a->preset = preset_by_name(a->provider);
	if (a->preset == NULL)
		a->preset = preset_of_address(a->login);
	if (a->preset == NULL)
		a->preset = preset_of_address(a->name);
	if (xoauth2 && a->auth.n > 1) {
		snprintf(err, errsize, "auth: xoauth2 cannot be combined with "
		    "password mechanisms (account %s)", a->name);
		return -1;
	}
	if (a->auth.n == 0 && a->preset && a->preset->default_auth &&
	    strcasecmp(a->preset->default_auth, "XOAUTH2") == 0)
		xoauth2 = 1;
	a->auth_kind = xoauth2 ? AUTHK_XOAUTH2 : AUTHK_PASSWORD;
	return 0;
}
