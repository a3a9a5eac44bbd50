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
	struct conf *conf;
	int only_changed = 0, ex;

	for (int i = 1; i < argc; i++) {
		if (ctl_flag(argv[i], "-n"))
			only_changed = 1;
		else
			return ctl_usage(c, argv[0]);
	}
	if ((conf = ctl_load_conf(c, &ex)) == NULL)
		return ex;
	conf_write(stdout, conf, only_changed);
	conf_free(conf);
	return EX_OK;
}
