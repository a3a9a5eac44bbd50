/*
 * smarthostctl — the administrator's tool: main() and the command table.
 *
 *	smarthostctl [-c FILE] COMMAND [ARGS]
 *
 * Each row names a command, the function in cmd_NAME.c that runs it, its
 * arguments and one line of help (printed by "smarthostctl help");
 * "smarthostctl COMMAND --help" (or "help COMMAND") prints that command's
 * usage and help line on stdout and exits 0, as does "--help".  Exit
 * codes follow sysexits.h: EX_USAGE for bad usage, EX_CONFIG for a
 * configuration with errors, EX_NOINPUT for a missing file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"

static int cmd_help(const struct ctl *, int, char **);

static const struct ctl_cmd commands[] = {
	{ "check", cmd_check, "",
	  "validate smarthost.conf, relay.map and secrets" },
	{ "route", cmd_route, "ADDRESS [--from FROM [--user NAME]] [--json]",
	  "show the account and server a sender is relayed through" },
	{ "providers", cmd_providers, "[NAME] [--json]",
	  "list the built-in provider presets, or one in full" },
	{ "config", cmd_config, "[-n]",
	  "print the effective smarthost.conf (-n: only non-defaults)" },
	{ "postfix", cmd_postfix, "[--postconf]",
	  "print the main.cf and master.cf settings that attach smarthost" },
	{ "sendmail", cmd_sendmail, "",
	  "print the sendmail.mc lines that attach smarthost" },
	{ "probe", cmd_probe, "ACCOUNT [--all-ports] [--json]",
	  "connect, verify TLS and log in as an account; say what is wrong" },
	{ "status", cmd_status, "[--json]",
	  "show what the running relay is doing, per account" },
	{ "oauth", cmd_oauth, "ACCOUNT [--device | --browser] [--port N] "
	  "[--timeout SECONDS]",
	  "authorize an xoauth2 account once and store its refresh token" },
	{ "help", cmd_help, "[COMMAND]",
	  "list the commands, or show one command's usage" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct ctl_cmd *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_commands(FILE *fp)
{
	fprintf(fp, "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %-18s %s\n", commands[i].name,
		    commands[i].usage, commands[i].help);
}

static void
print_command_usage(FILE *fp, const struct ctl *c, const struct ctl_cmd *cmd)
{
	fprintf(fp, "usage: %s [-c FILE] %s%s%s\n", c->progname, cmd->name,
	    *cmd->usage ? " " : "", cmd->usage);
}

static int
cmd_help(const struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc > 2)
		return ctl_usage(c, argv[0]);
	if (argc == 2) {
		if ((cmd = find_command(argv[1])) == NULL) {
			fprintf(stderr, "%s: unknown command \"%s\"\n",
			    c->progname, argv[1]);
			return ctl_usage(c, NULL);
		}
		print_command_usage(stdout, c, cmd);
		printf("  %s\n", cmd->help);
		return EX_OK;
	}
	printf("usage: %s [-c FILE] COMMAND [ARGS]\n", c->progname);
	print_commands(stdout);
	return EX_OK;
}

/* "COMMAND --help" anywhere in the arguments, or "COMMAND -h" alone. */
static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (ctl_flag(argv[i], "--help"))
			return 1;
	return argc == 2 && ctl_flag(argv[1], "-h");
}

int
ctl_usage(const struct ctl *c, const char *name)
{
	const struct ctl_cmd *cmd = name ? find_command(name) : NULL;

	if (cmd)
		print_command_usage(stderr, c, cmd);
	else {
		fprintf(stderr, "usage: %s [-c FILE] COMMAND [ARGS]\n",
		    c->progname);
		print_commands(stderr);
	}
	return EX_USAGE;
}

int
ctl_flag(const char *arg, const char *name)
{
	return strcmp(arg, name) == 0;
}

int
ctl_missing(const char *path)
{
	return access(path, F_OK) != 0 && errno == ENOENT;
}

struct config *
ctl_load(const struct ctl *c, int flags, int *ex)
{
	struct diag d;
	struct config *cfg;

	if (ctl_missing(c->conf_path)) {
		fprintf(stderr, "%s: %s: %s\n", c->progname, c->conf_path,
		    strerror(ENOENT));
		*ex = EX_NOINPUT;
		return NULL;
	}
	diag_init(&d);
	cfg = config_load(c->conf_path, flags, &d);
	if (diag_errors(&d) > 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "%s: %s: configuration has errors (run "
		    "\"%s check\")\n", c->progname, c->conf_path, c->progname);
		diag_free(&d);
		config_unref(cfg);
		*ex = EX_CONFIG;
		return NULL;
	}
	diag_free(&d);
	*ex = EX_OK;
	return cfg;
}

struct conf *
ctl_load_conf(const struct ctl *c, int *ex)
{
	struct diag d;
	struct conf *conf;

	diag_init(&d);
	conf = conf_load(c->conf_path, 0, &d);
	if (diag_errors(&d) > 0) {
		diag_print(&d, stderr);
		*ex = ctl_missing(c->conf_path) ? EX_NOINPUT : EX_CONFIG;
		conf_free(conf);
		conf = NULL;
	} else
		*ex = EX_OK;
	diag_free(&d);
	return conf;
}

int
main(int argc, char **argv)
{
	struct ctl c = { CONF_DEFAULT_PATH, "smarthostctl" };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_cmd *cmd;
	int ch;

	log_init("smarthostctl", 1, 0);
	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			break;
		case 'h':
			return cmd_help(&c, 1, (char *[]){ "help", NULL });
		default:
			return ctl_usage(&c, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return ctl_usage(&c, NULL);
	if ((cmd = find_command(argv[0])) == NULL) {
		fprintf(stderr, "%s: unknown command \"%s\"\n", c.progname,
		    argv[0]);
		return ctl_usage(&c, NULL);
	}
	if (wants_help(argc, argv))
		return cmd_help(&c, 2, (char *[]){ "help", argv[0], NULL });
	return cmd->fn(&c, argc, argv);
}
