/*
 * config — "smarthostctl config [-n]": the effective smarthost.conf, every
 * option with its value (defaults included), as the file would be written;
 * -n prints only the values that differ from the defaults (as postconf -n).
 * Only smarthost.conf is read; errors in it exit EX_CONFIG.
 */
#include <stdio.h>
#include <sysexits.h>

#include "conf.h"
#include "ctl.h"

int
cmd_config(const struct ctl *c, int argc, char **argv)
{
	struct diag d;
	struct conf *conf;
	int only_changed = 0, ex = EX_OK;

	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "-n"))
			only_changed = 1;
		else
			return ctl_usage(c, argv[0]);
	}
	diag_init(&d);
	conf = conf_load(c->conf_path, 0, &d);
	if (diag_errors(&d) > 0) {
		diag_print(&d, stderr);
		ex = ctl_missing(c->conf_path) ? EX_NOINPUT : EX_CONFIG;
	} else
		conf_write(stdout, conf, only_changed);
	conf_free(conf);
	diag_free(&d);
	return ex;
}
