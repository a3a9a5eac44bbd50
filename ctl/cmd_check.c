/*
 * check — "smarthostctl check": validate smarthost.conf, the relay map
 * and the secrets in one go.
 *
 * Every diagnostic config_load() collects is printed on stdout as
 * "file:line: message", sorted into file order (files in the order they
 * were first named, lines ascending), so an administrator reads them top
 * to bottom next to the file.  Any error: exit EX_CONFIG.  Otherwise one
 * summary line: "CONF, MAP (N routes, N accounts), SECRETS: OK".
 * A relay that other hosts can reach (listen or allow-clients beyond
 * loopback, exposure.h) is warned about.
 *
 * The secrets file is meant to be readable by root only.  A non-root
 * administrator who cannot read it still gets everything else checked:
 * the secrets are skipped with a warning that says so, and check does not
 * fail for that alone.  Run as root, check warns when the relay's user
 * cannot read the secrets file: the relay reads it at start, as root,
 * and a reload keeps those codes, so a new code needs a restart.
 *
 * With dmarc = reject or tempfail (the default is reject) the milter
 * tempfails a message whose DMARC lookup fails, so a machine whose
 * resolver does not answer tempfails every message.  check asks the
 * resolver of /etc/resolv.conf for the DMARC record of the first
 * account's domain, as the milter would, and warns when no nameserver
 * answers (an answer "no such record" is an answer).
 *
 * With limits-store = rediss:// check loads the certificate authorities
 * the relay will trust for Redis (limits-ca-file, or the system's) and
 * says which, before the summary line.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <errno.h>
#include <pwd.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf_norm.h"
#include "config.h"
#include "ctl.h"
#include "exposure.h"
#include "domain.h"
#include "tls.h"
#include "verdict.h"

struct sorted {
	const struct diag_entry *e;
	size_t	 file_rank;
	size_t	 idx;
};

static int
sorted_cmp(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->e->line != y->e->line)
		return x->e->line < y->e->line ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Rank of entry i's file among the distinct files of d in the order
 * they are first named (no file: 0).  files/nfiles is the running list. */
static size_t
file_rank(const struct diag *d, size_t i, const char ***files,
    size_t *nfiles)
{
	const char *f = d->v[i].file;

	if (f == NULL)
		return 0;
	for (size_t j = 0; j < *nfiles; j++)
		if (strcmp((*files)[j], f) == 0)
			return j + 1;
	*files = xreallocarray(*files, *nfiles + 1, sizeof(**files));
	(*files)[(*nfiles)++] = f;
	return *nfiles;
}

void
ctl_print_diag(const struct diag *d, FILE *fp)
{
	struct sorted *v = xcalloc(d->n ? d->n : 1, sizeof(*v));
	const char **files = NULL;
	size_t nfiles = 0;
	char buf[2048];

	for (size_t i = 0; i < d->n; i++) {
		v[i].e = &d->v[i];
		v[i].file_rank = file_rank(d, i, &files, &nfiles);
		v[i].idx = i;
	}
	qsort(v, d->n, sizeof(*v), sorted_cmp);
	for (size_t i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", diag_format(v[i].e, buf, sizeof(buf)));
	free(files);
	free(v);
}

/* The secrets path smarthost.conf names, if a non-root user cannot read
 * it (then check skips it); NULL otherwise. */
static char *
unreadable_secrets(const char *conf_path)
{
	struct diag d;
	struct conf *conf;
	char *path = NULL;

	if (geteuid() == 0)
		return NULL;
	diag_init(&d);
	conf = conf_load(conf_path, 0, &d);
	if (conf && conf->secrets && access(conf->secrets, R_OK) != 0 &&
	    errno == EACCES)
		path = xstrdup(conf->secrets);
	conf_free(conf);
	diag_free(&d);
	return path;
}

/* Run as root: a secrets file the relay's user cannot read is read at
 * start only (the relay reads it as root, then drops): say what that
 * means for a changed code. */
static void
check_reloadable(const struct config *cfg, struct diag *d)
{
	const char *path = cfg->conf->secrets, *user = cfg->conf->user;
	struct passwd *pw;
	struct stat st;

	if (geteuid() != 0 || path == NULL || user == NULL || *user == '\0' ||
	    (pw = getpwnam(user)) == NULL || pw->pw_uid == 0 ||
	    lstat(path, &st) == -1 || st.st_uid == pw->pw_uid)
		return;
	diag_warning(d, path, 0, "owned by uid %u, not readable by user %s "
	    "the relay runs as: a reload (SIGHUP) keeps the codes read at "
	    "start, new codes need a restart of smarthost-relay (or chown "
	    "%s %s)", (unsigned)st.st_uid, user, user, path);
}

struct config *
ctl_check_load(const char *conf_path, const struct config_subst *subst,
    int flags, struct diag *d)
{
	struct config *cfg;

	cfg = config_load_subst(conf_path, flags, subst, d);
	exposure_check(cfg->conf, d);
	config_check_milter_group(cfg->conf, d);
	/* an edited secrets file is installed as the service user's */
	if ((flags & CONFIG_SECRETS) && diag_errors(d) == 0 &&
	    (subst == NULL || subst->secrets == NULL))
		check_reloadable(cfg, d);
	return cfg;
}

static void
print_sorted(const struct diag *d)
{
	ctl_print_diag(d, stdout);
}

static size_t
explicit_routes(const struct relaymap *m)
{
	size_t n = 0, total = m ? relaymap_count(m) : 0;

	for (size_t i = 0; i < total; i++)
		n += relaymap_entry(m, i)->line != 0;
	return n;
}

/* The domain of the first account login, or NULL. */
static const char *
first_account_domain(const struct config *cfg)
{
	const char *at;

	for (size_t i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i]->login &&
		    (at = strrchr(cfg->accounts[i]->login, '@')) && at[1])
			return at + 1;
	return NULL;
}

/* The dmarc option's value as smarthost.conf writes it. */
static const char *
dmarc_name(const struct conf *c)
{
	const struct conf_option *o = conf_option_find("milter", "dmarc");

	return o && o->choices ? o->choices[c->dmarc] : "?";
}

/* Warn in d when dmarc makes a DNS failure a tempfail and no resolver
 * answers the TXT query for _dmarc.DOMAIN (one attempt per nameserver,
 * each with the timeout of resolv.conf). */
static void
check_resolver(const struct config *cfg, struct diag *d)
{
	const struct conf *c = cfg->conf;
	const char *dom = first_account_domain(cfg);
	struct __res_state rs;
	unsigned char ans[4096];
	char name[DOMAIN_MAX + 8];
	int herr;

	if (verdict_act(c->dmarc) == J_CONTINUE || dom == NULL)
		return;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		diag_warning(d, c->path, 0, "cannot set up the DNS resolver "
		    "from /etc/resolv.conf: with dmarc = %s the milter "
		    "tempfails every message (451 4.4.3)", dmarc_name(c));
		return;
	}
	rs.retry = 1;
	snprintf(name, sizeof(name), "_dmarc.%s", dom);
	if (res_nquery(&rs, name, ns_c_in, ns_t_txt, ans, sizeof(ans)) < 0 &&
	    ((herr = rs.res_h_errno) == TRY_AGAIN || herr == NO_RECOVERY))
		diag_warning(d, c->path, 0, "no DNS resolver answered the TXT "
		    "query for %s: with dmarc = %s the milter tempfails every "
		    "message (451 4.4.3) until one does; check the nameservers "
		    "in /etc/resolv.conf", name, dmarc_name(c));
	res_nclose(&rs);
}

/* limits-store = rediss://: the CA file of limits-ca-file must load (an
 * error in d if not); note says what the relay will trust.  A CA file
 * without rediss:// is warned about. */
static void
check_store(const struct config *cfg, struct diag *d, char *note,
    size_t notesize)
{
	const struct conf *c = cfg->conf;
	const char *ca = c->limits_ca_file;
	struct tls_ctx *t;
	char host[256], err[512];
	unsigned port, db;
	int tls = 0;

	note[0] = '\0';
	if (c->limits_store == NULL || conf_redis_url(c->limits_store, host,
	    sizeof(host), &port, &db, &tls, err, sizeof(err)) != 0 || !tls) {
		if (ca != NULL)
			diag_warning(d, c->path, 0, "limits-ca-file is used "
			    "with limits-store = rediss:// only");
		return;
	}
	if ((t = tls_ctx_new(ca, err, sizeof(err))) == NULL) {
		diag_error(d, c->path, 0, "limits-store %s: %s",
		    c->limits_store, err);
		return;
	}
	tls_ctx_free(t);
	snprintf(note, notesize, "limits-store %s: TLS, the certificate of "
	    "%s verified against %s\n", c->limits_store, host,
	    ca ? ca : "the system's certificate authorities");
}

static void
summary(const struct config *c, const struct diag *d, const char *skipped)
{
	size_t warnings = d->n - diag_errors(d);

	printf("%s, %s (%zu route%s, %zu account%s), %s%s: OK",
	    c->conf->path ? c->conf->path : "(defaults)", c->conf->relay_map,
	    explicit_routes(c->map), explicit_routes(c->map) == 1 ? "" : "s",
	    c->naccounts, c->naccounts == 1 ? "" : "s", c->conf->secrets,
	    skipped ? " (not checked)" : "");
	if (warnings)
		printf(" (%zu warning%s)", warnings, warnings == 1 ? "" : "s");
	putchar('\n');
}

int
cmd_check(const struct ctl *c, int argc, char **argv)
{
	struct diag d;
	struct config *cfg;
	char *skipped, note[1024] = "";
	int ex = EX_OK;

	if (argc != 1)
		return ctl_usage(c, argv[0]);
	if (access(c->conf_path, F_OK) != 0) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path,
		    strerror(errno));
		return EX_NOINPUT;
	}
	skipped = unreadable_secrets(c->conf_path);
	diag_init(&d);
	cfg = ctl_check_load(c->conf_path, NULL, skipped ? 0 : CONFIG_SECRETS,
	    &d);
	if (skipped)
		diag_warning(&d, skipped, 0, "not readable by uid %u, not "
		    "checked (run check as root to check it)",
		    (unsigned)geteuid());
	if (diag_errors(&d) == 0) {
		check_resolver(cfg, &d);
		check_store(cfg, &d, note, sizeof(note));
	}
	print_sorted(&d);
	if (diag_errors(&d) > 0) {
		printf("%s: %zu error%s\n", c->conf_path, diag_errors(&d),
		    diag_errors(&d) == 1 ? "" : "s");
		ex = EX_CONFIG;
	} else {
		fputs(note, stdout);
		summary(cfg, &d, skipped);
	}
	diag_free(&d);
	config_unref(cfg);
	free(skipped);
	return ex;
}
