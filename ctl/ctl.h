/*
 * ctl — what the smarthostctl commands share.
 *
 * smarthostctl.c holds main() and the command table; each command lives
 * in its own file (cmd_NAME.c) and exports one function with the
 * signature of ctl_fn.  Adding a command is: a file, its prototype below,
 * and a row in the table.  Commands return a sysexits.h code; they print
 * their results on stdout and their complaints on stderr, and never print
 * a secret.
 */
#ifndef SMARTHOST_CTL_H
#define SMARTHOST_CTL_H

#include <stdio.h>

#include "config.h"

struct ctl {
	const char	*conf_path;	/* -c FILE or CONF_DEFAULT_PATH */
	const char	*progname;
};

/* argv[0] is the command name; argc >= 1. */
typedef int ctl_fn(const struct ctl *, int argc, char **argv);

struct ctl_cmd {
	const char	*name;
	ctl_fn		*fn;
	const char	*usage;		/* arguments after the name */
	const char	*help;		/* one line */
};

/* Print "usage: smarthostctl [-c FILE] NAME USAGE" on stderr; EX_USAGE. */
int	ctl_usage(const struct ctl *, const char *name);

/* Load the configuration (flags as config_load()); on errors print them
 * on stderr and return NULL with *ex set (EX_CONFIG or EX_NOINPUT). */
struct config *ctl_load(const struct ctl *, int flags, int *ex);
/* Load smarthost.conf alone (no relay map, no secrets); on errors print
 * them on stderr and return NULL with *ex set (EX_NOINPUT when the file
 * is missing, else EX_CONFIG). */
struct conf *ctl_load_conf(const struct ctl *, int *ex);

/* The checks of "smarthostctl check" (cmd_check.c): config_load() with
 * the files of subst (may be NULL) in place, the relay's exposure and,
 * with CONFIG_SECRETS, whether a reload can re-read the secrets; every
 * diagnostic in d.  The snapshot (config_unref() it). */
struct config *ctl_check_load(const char *conf_path,
	    const struct config_subst *subst, int flags, struct diag *d);
/* Print d on fp sorted into file order, one "file:line: message" each. */
void	ctl_print_diag(const struct diag *d, FILE *fp);

/* Ask both daemons over their control sockets to reload and print what
 * each answered (cmd_reload.c); EX_OK only if both applied it. */
int	ctl_reload_daemons(const struct ctl *);

/* Non-zero if the command argument arg is the option name ("--json"). */
int	ctl_flag(const char *arg, const char *name);
/* Non-zero if path does not exist (then commands exit EX_NOINPUT). */
int	ctl_missing(const char *path);

int	cmd_check(const struct ctl *, int, char **);
int	cmd_route(const struct ctl *, int, char **);
int	cmd_providers(const struct ctl *, int, char **);
int	cmd_config(const struct ctl *, int, char **);
int	cmd_postfix(const struct ctl *, int, char **);
int	cmd_sendmail(const struct ctl *, int, char **);
int	cmd_oauth(const struct ctl *, int, char **);
int	cmd_status(const struct ctl *, int, char **);
int	cmd_probe(const struct ctl *, int, char **);
int	cmd_reload(const struct ctl *, int, char **);
int	cmd_edit(const struct ctl *, int, char **);
int	cmd_log(const struct ctl *, int, char **);

#endif
